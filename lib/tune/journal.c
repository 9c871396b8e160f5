// SPDX-License-Identifier: GPL-2.0-only
/* The crash-safe journal of changes (format in lib/tune/journal.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tune/journal.h"
#include "core/safefile.h"
#include "core/sysfs.h"

struct vs_journal {
	json_t *doc;
	char path[512];
	char dir[512];
};

static const char *const status_names[] = { "pending", "done", "restored", "gone",
					     "refused", "dropped" };

const char *vs_jstatus_name(enum vs_jstatus st)
{
	return st <= VS_J_DROPPED ? status_names[st] : "?";
}

int vs_journal_path(char *buf, size_t len)
{
	return vs_path(buf, len, "/run/virtsync/journal.json");
}

static json_t *empty_doc(void)
{
	json_t *doc = json_object();

	json_object_set_new(doc, "format", json_string("virtsync-journal"));
	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "applies", json_array());
	json_object_set_new(doc, "entries", json_array());
	return doc;
}

static int parse_status(const char *s)
{
	int i;

	for (i = 0; i <= VS_J_DROPPED; i++)
		if (!strcmp(s, status_names[i]))
			return i;
	return -1;
}

/* What is wrong with a parsed document, in `why`; false when it is not a
 * journal this version can use. */
static bool doc_ok(json_t *doc, char *why, size_t whylen)
{
	const char *keys[] = { "knob", "target", "label", "old", "new", "status" };
	json_t *entries, *e;
	size_t i, k;

	if (!json_is_object(doc) ||
	    !json_is_string(json_object_get(doc, "format")) ||
	    strcmp(json_string_value(json_object_get(doc, "format")), "virtsync-journal")) {
		snprintf(why, whylen, "not a virtsync journal (no \"format\": \"virtsync-journal\")");
		return false;
	}
	if (!json_is_array(json_object_get(doc, "applies"))) {
		snprintf(why, whylen, "\"applies\" is not an array");
		return false;
	}
	entries = json_object_get(doc, "entries");
	if (!json_is_array(entries)) {
		snprintf(why, whylen, "\"entries\" is not an array");
		return false;
	}
	json_array_foreach(entries, i, e) {
		for (k = 0; k < 6; k++)
			if (!json_is_string(json_object_get(e, keys[k]))) {
				snprintf(why, whylen, "entry %zu: \"%s\" is missing or not a string",
					 i, keys[k]);
				return false;
			}
		if (parse_status(json_string_value(json_object_get(e, "status"))) < 0) {
			snprintf(why, whylen, "entry %zu: unknown status \"%.32s\"", i,
				 json_string_value(json_object_get(e, "status")));
			return false;
		}
	}
	return true;
}

static int read_whole(const char *path, char **text, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf, *nb;
	ssize_t r;
	/* no symlink, FIFO or file of another user as the journal */
	int fd = vs_safe_open_read(path, VS_SAFE_PRIVATE), err = 0;

	if (fd < 0)
		return fd;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while ((r = read(fd, buf + n, cap - n)) > 0) {
		n += r;
		if (n == cap) {
			if (cap >= (64u << 20)) {
				err = -EFBIG;
				break;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (r < 0 && !err)
		err = -errno;
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*text = buf;
	*len = n;
	return 0;
}

int vs_journal_load_why(struct vs_journal **out, char *why, size_t whylen)
{
	static const char fix[] = "; it may hold the old values of knobs still changed: "
				  "repair it, or move it away to start afresh";
	struct vs_journal *j = calloc(1, sizeof(*j));
	json_error_t jerr;
	char *text = NULL, what[200];
	size_t len = 0;
	int err;

	*out = NULL;
	if (why && whylen)
		why[0] = '\0';
	if (!j)
		return -ENOMEM;
	err = vs_journal_path(j->path, sizeof(j->path));
	if (!err)
		err = vs_path(j->dir, sizeof(j->dir), "/run/virtsync");
	if (err)
		goto fail;
	err = read_whole(j->path, &text, &len);
	if (err == -ENOENT) {
		j->doc = empty_doc();
		*out = j;
		return 0;
	}
	if (err) {
		if (why && geteuid() && (err == -EACCES || err == -EPERM))
			snprintf(why, whylen, "%s: %s (it is root's: run it as root)", j->path,
				 strerror(EACCES));
		else if (why)
			snprintf(why, whylen, "%s %s", j->path, vs_safe_strerror(err));
		goto fail;
	}
	j->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!j->doc) {
		err = -EBADMSG;
		if (why)
			snprintf(why, whylen, "%s: not valid JSON at line %d, column %d (byte %d): "
				 "%.60s%s", j->path, jerr.line, jerr.column, jerr.position,
				 jerr.text, fix);
		goto fail;
	}
	if (!doc_ok(j->doc, what, sizeof(what))) {
		err = -EBADMSG;
		if (why)
			snprintf(why, whylen, "%s: %s%s", j->path, what, fix);
		goto fail;
	}
	*out = j;
	return 0;
fail:
	vs_journal_free(j);
	return err;
}

int vs_journal_load(struct vs_journal **out)
{
	return vs_journal_load_why(out, NULL, 0);
}

void vs_journal_free(struct vs_journal *j)
{
	if (!j)
		return;
	json_decref(j->doc);
	free(j);
}

/* Replace the file atomically and durably: after this returns, a crash
 * leaves either the previous or this version, never a mix. */
static int journal_save(struct vs_journal *j)
{
	char *text;
	int err;

	err = vs_safe_private_dir(j->dir, 0700);
	if (err)
		return err;
	text = json_dumps(j->doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (!text)
		return -ENOMEM;
	err = vs_file_replace_text(j->path, text, 0600,
				   VS_REPLACE_DURABLE | VS_REPLACE_PRIVATE);
	free(text);
	return err;
}

static json_t *entries_of(const struct vs_journal *j)
{
	return json_object_get(j->doc, "entries");
}

size_t vs_journal_count(const struct vs_journal *j)
{
	return json_array_size(entries_of(j));
}

static void copy_str(json_t *o, const char *key, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(buf, len, "%s", s ? s : "");
}

int vs_journal_get(const struct vs_journal *j, size_t idx, struct vs_jentry *e)
{
	json_t *o = json_array_get(entries_of(j), idx);

	if (!o)
		return -ENOENT;
	memset(e, 0, sizeof(*e));
	copy_str(o, "knob", e->knob, sizeof(e->knob));
	copy_str(o, "target", e->target, sizeof(e->target));
	copy_str(o, "label", e->label, sizeof(e->label));
	copy_str(o, "old", e->old, sizeof(e->old));
	copy_str(o, "new", e->new, sizeof(e->new));
	copy_str(o, "note", e->note, sizeof(e->note));
	e->status = parse_status(json_string_value(json_object_get(o, "status")));
	e->apply = json_integer_value(json_object_get(o, "apply"));
	return 0;
}

bool vs_journal_active(const struct vs_journal *j)
{
	struct vs_jentry e;
	size_t i;

	for (i = 0; i < vs_journal_count(j); i++)
		if (!vs_journal_get(j, i, &e) &&
		    (e.status == VS_J_PENDING || e.status == VS_J_DONE))
			return true;
	return false;
}

/* This process's command line, spaces between the arguments: which
 * command made an apply, for an admin of a shared host. */
static const char *own_command(char *buf, size_t len)
{
	size_t i, n = 0;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t r = fd >= 0 ? read(fd, buf, len - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (r <= 0) {
		buf[0] = '\0';
		return buf;
	}
	n = r;
	while (n && !buf[n - 1])
		n--;
	for (i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = '\0';
	return buf;
}

static const char *invoking_user(char *buf, size_t len)
{
	const char *sudo = getenv("SUDO_USER");

	if (sudo && vs_safe_name(sudo, 32))
		snprintf(buf, len, "%s", sudo);
	else
		snprintf(buf, len, "uid %u", (unsigned int)getuid());
	return buf;
}

int vs_journal_begin(struct vs_journal *j, const char *source, int *apply)
{
	json_t *a = json_object(), *applies;
	char stamp[64], cmd[256], user[64];
	time_t now = time(NULL);
	struct tm tm;

	if (!vs_journal_active(j)) {
		json_decref(j->doc);
		j->doc = empty_doc();
	}
	applies = json_object_get(j->doc, "applies");
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(a, "source", json_string(source));
	json_object_set_new(a, "command", json_string(own_command(cmd, sizeof(cmd))));
	json_object_set_new(a, "user", json_string(invoking_user(user, sizeof(user))));
	json_object_set_new(a, "pid", json_integer(getpid()));
	json_object_set_new(a, "time", json_string(stamp));
	json_object_set_new(a, "first", json_integer(vs_journal_count(j)));
	*apply = json_array_size(applies);
	json_array_append_new(applies, a);
	return journal_save(j);
}

int vs_journal_add(struct vs_journal *j, const struct vs_jentry *e, size_t *idx)
{
	json_t *o = json_object();

	json_object_set_new(o, "knob", json_string(e->knob));
	json_object_set_new(o, "target", json_string(e->target));
	json_object_set_new(o, "label", json_string(e->label));
	json_object_set_new(o, "old", json_string(e->old));
	json_object_set_new(o, "new", json_string(e->new));
	json_object_set_new(o, "status", json_string(vs_jstatus_name(e->status)));
	json_object_set_new(o, "apply", json_integer(e->apply));
	json_object_set_new(o, "note", json_string(e->note));
	*idx = vs_journal_count(j);
	json_array_append_new(entries_of(j), o);
	return journal_save(j);
}

int vs_journal_set(struct vs_journal *j, size_t idx, enum vs_jstatus st,
		   const char *note)
{
	json_t *o = json_array_get(entries_of(j), idx);

	if (!o)
		return -ENOENT;
	json_object_set_new(o, "status", json_string(vs_jstatus_name(st)));
	if (note)
		json_object_set_new(o, "note", json_string(note));
	return journal_save(j);
}

int vs_journal_set_old(struct vs_journal *j, size_t idx, const char *old)
{
	json_t *o = json_array_get(entries_of(j), idx);

	if (!o)
		return -ENOENT;
	json_object_set_new(o, "old", json_string(old));
	return journal_save(j);
}

size_t vs_journal_applies(const struct vs_journal *j)
{
	return json_array_size(json_object_get(j->doc, "applies"));
}

int vs_journal_apply_get(const struct vs_journal *j, int id, struct vs_japply *a)
{
	json_t *o = json_array_get(json_object_get(j->doc, "applies"), id);
	struct vs_jentry e;
	size_t i;

	if (id < 0 || !o)
		return -ENOENT;
	memset(a, 0, sizeof(*a));
	a->id = id;
	copy_str(o, "source", a->source, sizeof(a->source));
	copy_str(o, "command", a->command, sizeof(a->command));
	copy_str(o, "user", a->user, sizeof(a->user));
	copy_str(o, "time", a->time, sizeof(a->time));
	a->pid = json_integer_value(json_object_get(o, "pid"));
	for (i = 0; i < vs_journal_count(j); i++)
		if (!vs_journal_get(j, i, &e) && e.apply == id &&
		    (e.status == VS_J_PENDING || e.status == VS_J_DONE))
			a->active++;
	return 0;
}

int vs_journal_last_active(const struct vs_journal *j)
{
	struct vs_jentry e;
	size_t i = vs_journal_count(j);
	int last = -ENOENT;

	while (i-- > 0)
		if (!vs_journal_get(j, i, &e) && e.apply > last &&
		    (e.status == VS_J_PENDING || e.status == VS_J_DONE))
			last = e.apply;
	return last;
}
