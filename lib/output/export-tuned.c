// SPDX-License-Identifier: GPL-2.0-only
/* The tuned profile: tuned.conf, and the directory with script.sh (lib/output/export.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errmsg.h"
#include "core/safefile.h"
#include "output/export-impl.h"
#include "core/units.h"

/* --- tuned.conf ------------------------------------------------------------ */

/* "# knob: why", wrapped at word boundaries to fit 78 columns */
static void put_comment(FILE *f, const struct vs_export_step *s)
{
	char text[320];
	const char *p = text;
	size_t width = 76;	/* after "# " */

	if (!s->why[0])
		return;
	snprintf(text, sizeof(text), "%s: %s", s->knob->name, s->why);
	while (*p) {
		size_t n = strlen(p), cut = n;

		if (n > width) {
			for (cut = width; cut > 0 && p[cut] != ' '; cut--)
				;
			if (!cut)
				cut = width;
		}
		fprintf(f, "%s%.*s\n", p == text ? "# " : "#   ", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
		width = 74;	/* after "#   " */
	}
}

static void cstate_keys(FILE *f, const struct vs_export_step *s)
{
	uint64_t mask;
	unsigned int c;

	/* tuned expands globs in [sysfs] paths */
	if (s->all_cpus || vs_cpulist_parse(s->sel[VS_SEL_CPUS], &mask)) {
		fprintf(f, "/sys/devices/system/cpu/cpu*/cpuidle/state%s/disable=%s\n",
			s->sel[VS_SEL_STATE], s->value);
		return;
	}
	for (c = 0; c < 64; c++)
		if (mask & (1ULL << c))
			fprintf(f, "/sys/devices/system/cpu/cpu%u/cpuidle/state%s/disable=%s\n",
				c, s->sel[VS_SEL_STATE], s->value);
}

static void sysfs_section(FILE *f, const struct vs_export *x)
{
	bool head = false;
	size_t i;

	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = export_map_of(s->knob);

		if ((m->where != W_SYSFS_PARAM && m->where != W_SYSFS_CSTATE &&
		     m->where != W_SYSFS_NETDEV) || export_in_script(s, m))
			continue;
		if (!head)
			fprintf(f, "\n[sysfs]\n");
		head = true;
		put_comment(f, s);
		if (m->where == W_SYSFS_PARAM)
			fprintf(f, "%s=%s\n", m->arg, s->value);
		else if (m->where == W_SYSFS_NETDEV)
			fprintf(f, "/sys/class/net/%s/%s=%s\n", s->sel[VS_SEL_NETDEV], m->arg,
				s->value);
		else
			cstate_keys(f, s);
	}
}

static void sysctl_section(FILE *f, const struct vs_export *x)
{
	bool head = false;
	size_t i;

	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = export_map_of(s->knob);

		if (m->where != W_SYSCTL)
			continue;
		if (!head)
			fprintf(f, "\n[sysctl]\n");
		head = true;
		put_comment(f, s);
		fprintf(f, "%s=%s\n", m->arg, s->value);
	}
}

static void cpu_sections(FILE *f, const struct vs_export *x)
{
	bool head = false;
	unsigned int extra = 0;
	size_t i;

	/* [cpu]: the governor for every CPU and the PM QoS latency bound */
	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = export_map_of(s->knob);

		if (m->where == W_CPU_GOVERNOR && !s->all_cpus)
			continue;
		if (m->where != W_CPU_GOVERNOR && m->where != W_CPU_LATENCY)
			continue;
		if (!head)
			fprintf(f, "\n[cpu]\n");
		head = true;
		put_comment(f, s);
		if (m->where == W_CPU_LATENCY && !strcmp(s->value, "none"))
			fprintf(f, "# no force_latency: no PM QoS request, every idle state allowed\n");
		else
			fprintf(f, "%s=%s\n", m->arg, s->value);
	}
	/* a governor for some CPUs only: an instance of the cpu plugin of
	 * its own, limited with devices= */
	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = export_map_of(s->knob);
		uint64_t mask;
		unsigned int c;
		bool first = true;

		if (m->where != W_CPU_GOVERNOR || s->all_cpus ||
		    vs_cpulist_parse(s->sel[VS_SEL_CPUS], &mask))
			continue;
		fprintf(f, "\n[cpu_virtsync%u]\ntype=cpu\n", extra++);
		put_comment(f, s);
		fprintf(f, "devices=");
		for (c = 0; c < 64; c++)
			if (mask & (1ULL << c)) {
				fprintf(f, "%scpu%u", first ? "" : ",", c);
				first = false;
			}
		fprintf(f, "\n%s=%s\n", m->arg, s->value);
	}
}

static void regex_name(FILE *f, const char *name)
{
	for (; *name; name++) {
		if (*name == '.')
			fputc('\\', f);
		fputc(*name, f);
	}
}

static void scheduler_section(FILE *f, const struct vs_export *x)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = export_map_of(s->knob);
		uint64_t mask;

		if (m->where != W_THREAD_AFFINITY || export_in_script(s, m) ||
		    vs_cpulist_parse(s->value, &mask))
			continue;
		if (!n)
			fprintf(f, "\n[scheduler]\n");
		put_comment(f, s);
		/* group.NAME=rule_prio:policy:priority:affinity:regex, the
		 * regex matched against each process's command line: the
		 * program itself, or QEMU's "-name [guest=]NAME" */
		fprintf(f, "group.virtsync%u=0:*:*:%" PRIx64 ":(^|/)", n++, mask);
		regex_name(f, s->sel[VS_SEL_NAME]);
		fprintf(f, "( |$)|-name (guest=)?");
		regex_name(f, s->sel[VS_SEL_NAME]);
		fprintf(f, "[, ]\n");
	}
}

int vs_export_tuned_conf(const struct vs_export *x, char **text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -errno;
	fprintf(f, "# tuned profile written by 'virtsync export' from %s.\n"
		"# Install: copy this directory to /etc/tuned/<name>/, then\n"
		"# 'tuned-adm profile <name>'. script.sh holds what tuned cannot say.\n"
		"\n[main]\nsummary=%s\n", x->source, x->summary);
	sysfs_section(f, x);
	sysctl_section(f, x);
	cpu_sections(f, x);
	scheduler_section(f, x);
	fprintf(f, "\n[script]\n# %zu step%s tuned cannot express: run as 'script.sh start|stop'\n"
		"script=${i:PROFILE_DIR}/script.sh\n", export_script_steps(x),
		export_script_steps(x) == 1 ? "" : "s");
	return export_memstream_done(f, text, &buf);
}

/* --- the directory ------------------------------------------------------- */

static int write_file(int dfd, const char *name, const char *text, mode_t mode)
{
	size_t len = strlen(text), off = 0;
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int err = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			err = -errno;
			break;
		}
		off += n;
	}
	if (!err && fchmod(fd, mode))	/* the umask must not drop +x */
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* 1: DIR holds only files an earlier export wrote; 0: empty or absent;
 * -EEXIST: something else. */
static int earlier_export(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strcmp(de->d_name, "tuned.conf") && strcmp(de->d_name, "script.sh")) {
			ret = -EEXIST;
			break;
		}
		ret = 1;
	}
	closedir(d);
	return ret;
}

static void remove_tree(const char *dir)
{
	char p[4096 + 16];

	snprintf(p, sizeof(p), "%s/tuned.conf", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/script.sh", dir);
	unlink(p);
	rmdir(dir);
}

int vs_export_tuned(const struct vs_export *x, const char *dir, char *err,
		    size_t errlen)
{
	char tmp[4096], *conf = NULL, *script = NULL;
	struct stat st;
	int e, dfd = -1, prev;

	if (!dir[0] || strlen(dir) >= sizeof(tmp) - 64)
		return vs_errf(err, errlen, -EINVAL, "bad directory name '%s'", dir);
	if (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
		return vs_errf(err, errlen, -EINVAL, "give the directory without a trailing '/'");
	prev = earlier_export(dir);
	if (prev < 0)
		return vs_errf(err, errlen, prev, "%s exists and holds other files than an export's (%s)",
			    dir, strerror(-prev));
	if (!stat(dir, &st) && !S_ISDIR(st.st_mode))
		return vs_errf(err, errlen, -ENOTDIR, "%s exists and is not a directory", dir);
	e = vs_export_tuned_conf(x, &conf);
	if (!e)
		e = vs_export_script(x, &script);
	if (e) {
		vs_errf(err, errlen, e, "cannot build the texts: %s", strerror(-e));
		goto out;
	}
	/* a run killed before its rename leaves this directory behind:
	 * the next export of the same DIR removes it */
	e = vs_safe_temp_dir(dir, 0700, tmp, sizeof(tmp));
	if (e) {
		vs_errf(err, errlen, e, "cannot create a directory next to %s: %s", dir,
			strerror(-e));
		goto out;
	}
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fchmod(dfd, 0755)) {
		e = vs_errf(err, errlen, -errno, "%s: %s", tmp, strerror(errno));
		goto out_rm;
	}
	e = write_file(dfd, "tuned.conf", conf, 0644);
	if (!e)
		e = write_file(dfd, "script.sh", script, 0755);
	if (!e && fsync(dfd))
		e = -errno;
	if (e) {
		vs_errf(err, errlen, e, "writing into %s: %s", tmp, strerror(-e));
		goto out_rm;
	}
	if (prev == 1) {
		/* swap the new directory in, then drop the old one */
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE)) {
			e = vs_errf(err, errlen, -errno, "cannot replace %s: %s", dir, strerror(errno));
			goto out_rm;
		}
	} else if (rename(tmp, dir)) {	/* onto an empty or absent DIR */
		e = vs_errf(err, errlen, -errno, "cannot rename to %s: %s", dir, strerror(errno));
		goto out_rm;
	}
out_rm:
	/* after a swap `tmp` holds the old export; after a failure, ours */
	if (e || prev == 1)
		remove_tree(tmp);
out:
	if (dfd >= 0)
		close(dfd);
	free(conf);
	free(script);
	return e;
}
