// SPDX-License-Identifier: GPL-2.0-only
/* Helpers shared by the knobs: thread instances, names. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/cpuonline.h"
#include "knobs/impl.h"
#include "core/safefile.h"
#include "core/sysfs.h"
#include "core/units.h"


bool vs_safe_name(const char *s, size_t max)
{
	size_t i;

	if (!s || !*s || strlen(s) > max)
		return false;
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; s[i]; i++) {
		unsigned char c = s[i];

		if (!isalnum(c) && c != '_' && c != '.' && c != ':' && c != '-')
			return false;
	}
	return true;
}

/* Field 22 (starttime) of /proc/TID/stat; the comm field may hold spaces
 * and parentheses, so count from the last ')'. */
static int thread_start_time(int tid, uint64_t *start)
{
	char path[512], buf[1024], *p;
	unsigned long long v;
	int err, field;

	err = vs_path(path, sizeof(path), "/proc/%d/stat", tid);
	if (err)
		return err;
	err = vs_read_str(path, buf, sizeof(buf));
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p++;
	/* after ')' comes field 3 (state) */
	for (field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EINVAL;
	}
	if (sscanf(p, " %llu", &v) != 1)
		return -EINVAL;
	*start = v;
	return 0;
}

int vs_thread_inst_parse(const char *inst, int *tid, uint64_t *start)
{
	unsigned long long s;
	int t, n = 0;

	if (sscanf(inst, "%d@%llu%n", &t, &s, &n) != 2 || inst[n] || t <= 0 ||
	    !isdigit((unsigned char)inst[0]))
		return -EINVAL;
	*tid = t;
	*start = s;
	return 0;
}

int vs_thread_inst_make(int tid, char *inst, size_t len)
{
	uint64_t start;
	int err = thread_start_time(tid, &start);

	if (err)
		return err;
	if ((size_t)snprintf(inst, len, "%d@%" PRIu64, tid, start) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int vs_thread_inst_check(const char *inst, int *tid)
{
	uint64_t want, now;
	int err = vs_thread_inst_parse(inst, tid, &want);

	if (err)
		return err;
	err = thread_start_time(*tid, &now);
	if (err)
		return err;
	return now == want ? 0 : -ESRCH;
}

int knob_file_writable(const char *path)
{
	struct stat st;
	int err = vs_stat_rooted(path, &st);

	if (err)
		return err;
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return -EINVAL;
	return (st.st_mode & 0222) ? 0 : -EROFS;
}

int knob_canon_u64(const char *val, uint64_t min, uint64_t max, char *canon,
		   size_t len, char *why, size_t whylen)
{
	uint64_t v;
	int err = vs_parse_u64(val, min, max, &v);

	if (err == -ERANGE) {
		WHY("value '%s' is out of range [%" PRIu64 ", %" PRIu64 "]", val, min, max);
		return err;
	}
	if (err) {
		WHY("value '%s' is not a non-negative integer", val);
		return err;
	}
	snprintf(canon, len, "%" PRIu64, v);
	return 0;
}

int knob_validate_file_u64(const char *path, const char *val, uint64_t min,
			   uint64_t max, char *canon, size_t len, char *why,
			   size_t whylen)
{
	int err = knob_canon_u64(val, min, max, canon, len, why, whylen);

	if (err)
		return err;
	err = knob_file_writable(path);
	if (err == -ENOENT)
		WHY("%s does not exist on this host", path);
	else if (err == -EROFS)
		WHY("%s is read-only on this host", path);
	else if (err)
		WHY("%s: %s", path, strerror(-err));
	return err;
}

int knob_cpu_inst(const char *inst, unsigned int *cpu)
{
	unsigned int c;
	int n = 0;

	if (sscanf(inst, "cpu%u%n", &c, &n) != 1 || inst[n] || c >= 64 ||
	    !isdigit((unsigned char)inst[3]))
		return -EINVAL;
	*cpu = c;
	return 0;
}
