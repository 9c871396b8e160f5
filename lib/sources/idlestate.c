// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cpuidle settings idlelat changes (idlelat.h): the states and the
 * governor read and written through sysfs, and the restore file that puts
 * them back after a run, a crash or a kill. The measurement is idlelat.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cpuidle.h>
#include <jansson.h>

#include "core/safefile.h"
#include "core/cpuonline.h"
#include "sources/idlelat.h"
#include "core/sysfs.h"

#define CPUIDLE_DIR	"/sys/devices/system/cpu/cpuidle"
#define RUN_DIR		"/run/virtsync"
#define RESTORE_FILE	RUN_DIR "/idlelat-restore.json"
#define LOCK_FILE	RUN_DIR "/idlelat.lock"
#define WARMUP		2
/* Time for the governor to notice a changed disable flag: the CPU must
 * leave the idle state it is in (at the latest at the next tick). */
#define SETTLE_NS	5000000

/* ---- sysfs access ------------------------------------------------------ */

static int state_path(char *buf, size_t len, int cpu, unsigned int state,
		      const char *file)
{
	return vs_path(buf, len, "/sys/devices/system/cpu/cpu%d/cpuidle/state%u/%s",
		       cpu, state, file);
}

int vs_idle_state_set_disabled(int cpu, unsigned int state, int disable)
{
	char path[512];
	int err = state_path(path, sizeof(path), cpu, state, "disable");

	return err ? err : vs_write_u64(path, disable ? 1 : 0);
}

int vs_idle_state_get_disabled(int cpu, unsigned int state)
{
	char path[512];
	uint64_t v;
	int err = state_path(path, sizeof(path), cpu, state, "disable");

	if (!err)
		err = vs_read_u64(path, &v);
	return err ? err : v != 0;
}

int vs_idle_state_counters(int cpu, unsigned int state, uint64_t *usage,
			   uint64_t *time_us)
{
	char path[512];
	int err = state_path(path, sizeof(path), cpu, state, "usage");

	if (!err)
		err = vs_read_u64(path, usage);
	if (!err)
		err = state_path(path, sizeof(path), cpu, state, "time");
	if (!err)
		err = vs_read_u64(path, time_us);
	return err;
}

static int cpuidle_file_read(const char *file, char *buf, unsigned long len)
{
	char path[512];
	int err = vs_path(path, sizeof(path), CPUIDLE_DIR "/%s", file);

	return err ? err : vs_read_str(path, buf, len);
}

int vs_idle_governor_read(char *buf, unsigned long len)
{
	return cpuidle_file_read("current_governor", buf, len);
}

int vs_idle_driver_read(char *buf, unsigned long len)
{
	return cpuidle_file_read("current_driver", buf, len);
}

int vs_idle_governor_available(const char *name)
{
	char buf[512], *tok, *save = NULL;
	int err = cpuidle_file_read("available_governors", buf, sizeof(buf));

	if (err)
		return err;
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, name))
			return 1;
	return 0;
}

int vs_idle_governor_write(const char *name)
{
	char path[512];
	int err = vs_path(path, sizeof(path), CPUIDLE_DIR "/current_governor");

	return err ? err : vs_write_str(path, name);
}

/* Truncating copy (names and kernel releases are informational). */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = src ? strnlen(src, len - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Fixture trees: the same facts from the files libcpupower would read. */
static int states_read_sysfs(int cpu, struct vs_idle_state *st,
			     unsigned int max, unsigned int *n)
{
	char path[512], buf[128];
	unsigned int i;
	uint64_t v;
	int err;

	for (i = 0; i < max; i++) {
		err = state_path(path, sizeof(path), cpu, i, "name");
		if (err)
			return err;
		err = vs_read_str(path, buf, sizeof(buf));
		if (err == -ENOENT)
			break;
		if (err)
			return err;
		memset(&st[i], 0, sizeof(st[i]));
		st[i].index = i;
		copy_str(st[i].name, sizeof(st[i].name), buf);
		if (!state_path(path, sizeof(path), cpu, i, "desc") &&
		    !vs_read_str(path, buf, sizeof(buf)))
			copy_str(st[i].desc, sizeof(st[i].desc), buf);
		if (!state_path(path, sizeof(path), cpu, i, "latency") &&
		    !vs_read_u64(path, &v))
			st[i].latency_us = (unsigned long)v;
		err = vs_idle_state_get_disabled(cpu, i);
		if (err < 0)
			return err;
		st[i].disabled = err;
	}
	*n = i;
	return 0;
}

static int states_read_cpupower(int cpu, struct vs_idle_state *st,
				unsigned int max, unsigned int *n)
{
	unsigned int count = cpuidle_state_count((unsigned int)cpu), i;

	if (count > max)
		count = max;
	for (i = 0; i < count; i++) {
		char *s;
		int dis;

		memset(&st[i], 0, sizeof(st[i]));
		st[i].index = i;
		s = cpuidle_state_name((unsigned int)cpu, i);
		if (!s)
			return -EIO;
		copy_str(st[i].name, sizeof(st[i].name), s);
		free(s);
		s = cpuidle_state_desc((unsigned int)cpu, i);
		copy_str(st[i].desc, sizeof(st[i].desc), s);
		free(s);
		st[i].latency_us = cpuidle_state_latency((unsigned int)cpu, i);
		dis = cpuidle_is_state_disabled((unsigned int)cpu, i);
		if (dis < 0)
			return -EIO;
		st[i].disabled = dis;
	}
	*n = count;
	return 0;
}

int vs_idle_states_read(int cpu, struct vs_idle_state *st, unsigned int max,
			unsigned int *n)
{
	unsigned int i;
	int err;

	*n = 0;
	err = vs_root()[0] ? states_read_sysfs(cpu, st, max, n) :
			     states_read_cpupower(cpu, st, max, n);
	for (i = 0; !err && i < *n; i++)
		st[i].is_poll = !strcmp(st[i].name, "POLL");
	return err;
}

/* ---- the restore file ---------------------------------------------------- */

bool vs_idle_governor_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n >= 32)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static int json_int_in(json_t *obj, const char *key, json_int_t lo,
		       json_int_t hi, json_int_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return -EINVAL;
	*out = json_integer_value(v);
	return *out >= lo && *out <= hi ? 0 : -EINVAL;
}

int vs_idle_restore_parse(const char *text, struct vs_idle_restore *r)
{
	json_t *doc, *states, *v, *ent;
	json_int_t x;
	size_t i;
	int err = -EINVAL;

	memset(r, 0, sizeof(*r));
	if (!text)
		return -EINVAL;
	doc = json_loads(text, 0, NULL);
	if (!json_is_object(doc))
		goto out;
	if (json_int_in(doc, "version", 1, 1, &x))
		goto out;
	if (!json_int_in(doc, "pid", 0, INT32_MAX, &x))
		r->pid = (int)x;
	if (!json_int_in(doc, "time", 0, INT64_MAX, &x))
		r->time = x;
	copy_str(r->kernel, sizeof(r->kernel),
		 json_string_value(json_object_get(doc, "kernel")));
	v = json_object_get(doc, "governor");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || !vs_idle_governor_name_ok(json_string_value(v)))
			goto out;
		copy_str(r->governor, sizeof(r->governor), json_string_value(v));
	}
	states = json_object_get(doc, "states");
	if (!json_is_array(states) || json_array_size(states) > VS_IDLE_RESTORE_MAX)
		goto out;
	json_array_foreach(states, i, ent) {
		struct vs_idle_restore_entry *e = &r->e[i];

		if (!json_is_object(ent) ||
		    json_int_in(ent, "cpu", 0, 65535, &x))
			goto out;
		e->cpu = (int)x;
		if (json_int_in(ent, "state", 0, VS_IDLE_MAX_STATES - 1, &x))
			goto out;
		e->state = (unsigned int)x;
		if (json_int_in(ent, "disable", 0, 1, &x))
			goto out;
		e->disable = (int)x;
		copy_str(e->name, sizeof(e->name),
			 json_string_value(json_object_get(ent, "name")));
	}
	r->n = (unsigned int)json_array_size(states);
	err = 0;
out:
	if (err)
		memset(r, 0, sizeof(*r));
	json_decref(doc);
	return err;
}

int vs_idle_restore_format(const struct vs_idle_restore *r, char **text)
{
	json_t *doc = json_object(), *states = json_array();
	unsigned int i;

	if (!doc || !states || r->n > VS_IDLE_RESTORE_MAX) {
		json_decref(doc);
		json_decref(states);
		return r->n > VS_IDLE_RESTORE_MAX ? -EINVAL : -ENOMEM;
	}
	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "tool", json_string("virtsync idlelat"));
	json_object_set_new(doc, "pid", json_integer(r->pid));
	json_object_set_new(doc, "time", json_integer(r->time));
	json_object_set_new(doc, "kernel", json_string(r->kernel));
	if (r->governor[0])
		json_object_set_new(doc, "governor", json_string(r->governor));
	for (i = 0; i < r->n; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "cpu", json_integer(r->e[i].cpu));
		json_object_set_new(e, "state", json_integer(r->e[i].state));
		json_object_set_new(e, "name", json_string(r->e[i].name));
		json_object_set_new(e, "disable", json_integer(r->e[i].disable));
		json_array_append_new(states, e);
	}
	json_object_set_new(doc, "states", states);
	*text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_INDENT(1));
	json_decref(doc);
	return *text ? 0 : -ENOMEM;
}

static int run_dir_make(char *dir, size_t len)
{
	int err = vs_path(dir, len, RUN_DIR);

	if (err)
		return err;
	return vs_mkdir_p(dir, 0755);
}

int vs_idle_restore_write(const struct vs_idle_restore *r)
{
	char dir[4096], file[4096], *text = NULL;
	int err;

	err = run_dir_make(dir, sizeof(dir));
	if (!err)
		err = vs_path(file, sizeof(file), RESTORE_FILE);
	if (!err)
		err = vs_idle_restore_format(r, &text);
	if (err)
		return err;
	/* The file must be on disk before the first sysfs write, or a power
	 * cut could leave changed states and no record of them. */
	err = vs_file_replace_text(file, text, 0600,
				   VS_REPLACE_DURABLE | VS_REPLACE_PRIVATE);
	free(text);
	return err;
}

int vs_idle_restore_read(struct vs_idle_restore *r)
{
	char file[4096], *text;
	struct stat sb;
	ssize_t n;
	int err, fd;

	err = vs_path(file, sizeof(file), RESTORE_FILE);
	if (err)
		return err;
	fd = vs_safe_open_read(file, VS_SAFE_PRIVATE);
	if (fd < 0)
		return fd;
	if (fstat(fd, &sb) || sb.st_size > 1 << 20) {
		close(fd);
		return -EINVAL;
	}
	text = calloc(1, (size_t)sb.st_size + 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, text, (size_t)sb.st_size);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (!err)
		err = vs_idle_restore_parse(text, r);
	free(text);
	return err;
}

int vs_idle_restore_apply(const struct vs_idle_restore *r)
{
	unsigned int i;
	int done = 0, first = 0, err;

	for (i = 0; i < r->n; i++) {
		err = vs_idle_state_set_disabled(r->e[i].cpu, r->e[i].state,
						 r->e[i].disable);
		if (!err)
			done++;
		else if (err != -ENOENT && !first)
			first = err;
	}
	if (r->governor[0]) {
		err = vs_idle_governor_write(r->governor);
		if (!err)
			done++;
		else if (!first)
			first = err;
	}
	return first ? first : done;
}

int vs_idle_restore_remove(void)
{
	char file[4096], dir[4096];
	int err = vs_path(file, sizeof(file), RESTORE_FILE);

	if (!err)
		err = vs_path(dir, sizeof(dir), RUN_DIR);
	if (err)
		return err;
	err = vs_unlink_rooted(file);
	if (err)
		return err == -ENOENT ? 0 : err;
	return vs_fsync_dir(dir);
}

int vs_idlelat_lock(void)
{
	char dir[4096], file[4096];
	int err, fd;

	err = run_dir_make(dir, sizeof(dir));
	if (!err)
		err = vs_path(file, sizeof(file), LOCK_FILE);
	if (err)
		return err;
	fd = vs_safe_open_state(file, 0600);
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return err;
	}
	return fd;
}

void vs_idlelat_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* closing drops the flock */
}

int vs_idlelat_replay(struct vs_idle_restore *left)
{
	struct vs_idle_restore *r = malloc(sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	err = vs_idle_restore_read(r);
	if (err == -ENOENT) {
		err = 0;
		goto out;
	}
	if (err)
		goto out;
	if (left)
		memcpy(left, r, sizeof(*r));
	err = vs_idle_restore_apply(r);
	if (err >= 0) {
		int rm = vs_idle_restore_remove();

		if (rm)
			err = rm;
	}
out:
	free(r);
	return err;
}

int vs_idle_restore_record(int cpu, const struct vs_idle_state *st, unsigned int n,
			   const char *old_governor, const char *new_governor,
			   struct vs_idle_restore *rs)
{
	struct utsname u;
	unsigned int i;
	int err;

	if (n > VS_IDLE_RESTORE_MAX)
		return -EINVAL;
	memset(rs, 0, sizeof(*rs));
	rs->pid = (int)getpid();
	rs->time = (int64_t)time(NULL);
	if (!uname(&u))
		copy_str(rs->kernel, sizeof(rs->kernel), u.release);
	if (new_governor && strcmp(new_governor, old_governor))
		copy_str(rs->governor, sizeof(rs->governor), old_governor);
	for (i = 0; i < n; i++) {
		err = vs_idle_state_get_disabled(cpu, i);
		if (err < 0)
			return err;
		rs->e[i].cpu = cpu;
		rs->e[i].state = i;
		rs->e[i].disable = err;
		copy_str(rs->e[i].name, sizeof(rs->e[i].name), st[i].name);
	}
	rs->n = n;
	return 0;
}
