// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-thread knobs: thread.timerslack_ns and thread.affinity. Instances are
 * "TID@START" (lib/knobs/knobs.h) so a journal entry never lands on a thread that
 * reused the TID of one that exited.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "knobs/impl.h"
#include "core/sysfs.h"

/*
 * Linux exposes timerslack_ns only as /proc/PID/timerslack_ns (there is no
 * /proc/PID/task/TID/timerslack_ns); /proc/TID/ resolves for any thread,
 * not only group leaders, and then acts on that very thread.
 */
static int slack_path(const char *inst, char *buf, size_t len)
{
	int tid, err = vs_thread_inst_check(inst, &tid);

	if (err)
		return err;
	return vs_path(buf, len, "/proc/%d/timerslack_ns", tid);
}

static int thread_why(int err, const char *inst, char *why, size_t whylen)
{
	if (err == -EINVAL)
		WHY("target '%s' is not a thread instance", inst);
	else if (err == -ESRCH)
		WHY("thread %s is gone", inst);
	else
		WHY("thread %s: %s", inst, strerror(-err));
	return err;
}

/* Scheduling policy of the thread (field 41 of /proc/TID/stat), -errno. */
static int thread_policy(const char *inst)
{
	char path[512], buf[1024], *p;
	int tid, field, err = vs_thread_inst_check(inst, &tid);
	unsigned int policy;

	if (!err)
		err = vs_path(path, sizeof(path), "/proc/%d/stat", tid);
	if (!err)
		err = vs_read_str(path, buf, sizeof(buf));
	if (err)
		return err;
	p = strrchr(buf, ')');	/* comm may hold spaces and parentheses */
	for (field = 2; p && field < 41; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%u", &policy) != 1)
		return -ENODATA;
	return (int)policy;
}

static int slack_validate(const char *inst, const char *val, char *canon,
			  size_t len, char *why, size_t whylen)
{
	char path[512];
	int policy, err = slack_path(inst, path, sizeof(path));

	if (err)
		return thread_why(err, inst, why, whylen);
	/* The kernel gives real-time threads no slack at all and ignores
	 * writes: whatever is asked, 0 is what they get, and what verify
	 * will read. */
	policy = thread_policy(inst);
	if (policy == SCHED_FIFO || policy == SCHED_RR || policy == 6 /* DEADLINE */) {
		err = knob_canon_u64(val, 1, 1000000000ULL, canon, len, why, whylen);
		if (!err)
			snprintf(canon, len, "0");
		return err;
	}
	/* Writing 0 makes the kernel restore the thread's default slack,
	 * which reads back as that default, never as 0: refusing it keeps
	 * "what we wrote is what we read" true for verify. */
	if (!strcmp(val, "0")) {
		WHY("0 means 'back to the default' to the kernel; give the slack in ns (the usual default is 50000)");
		return -ERANGE;
	}
	return knob_validate_file_u64(path, val, 1, 1000000000ULL, canon, len,
				      why, whylen);
}

static int slack_read(const char *inst, char *val, size_t len)
{
	char path[512];
	int err = slack_path(inst, path, sizeof(path));

	return err ? err : vs_read_str(path, val, len);
}

static int slack_write(const char *inst, const char *val)
{
	char path[512];
	int err = slack_path(inst, path, sizeof(path));

	return err ? err : vs_write_str(path, val);
}

const struct vs_knob_ops vs_knob_thread_timerslack_ns = {
	.name = "thread.timerslack_ns", .scope = VS_SCOPE_THREAD, .live = true,
	.unit = "ns", .help = "how late the thread's timers may fire (sleep length)",
	.validate = slack_validate, .read = slack_read, .write = slack_write,
};

static int aff_read(const char *inst, char *val, size_t len)
{
	char path[512], buf[4096], *p, *nl;
	int tid, err = vs_thread_inst_check(inst, &tid);

	if (err)
		return err;
	err = vs_path(path, sizeof(path), "/proc/%d/status", tid);
	if (!err)
		err = vs_read_str(path, buf, sizeof(buf));
	if (err)
		return err;
	p = strstr(buf, "Cpus_allowed_list:");
	if (!p)
		return -ENODATA;
	p += strlen("Cpus_allowed_list:");
	p += strspn(p, " \t");
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	if ((size_t)snprintf(val, len, "%s", p) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int aff_validate(const char *inst, const char *val, char *canon,
			size_t len, char *why, size_t whylen)
{
	uint64_t mask, online;
	char cur[VS_KNOB_VAL_MAX];
	int tid, err;

	/* sched_setaffinity() acts on live threads; with VIRTSYNC_ROOT set
	 * the TIDs name fixture entries, not threads, so refuse. */
	if (*vs_root()) {
		WHY("thread.affinity uses sched_setaffinity(), which cannot act on a fixture tree (VIRTSYNC_ROOT is set)");
		return -EOPNOTSUPP;
	}
	err = vs_thread_inst_check(inst, &tid);
	if (err)
		return thread_why(err, inst, why, whylen);
	err = vs_cpulist_parse(val, &mask);
	if (err || !mask) {
		WHY("value '%s' is not a CPU list (like 0-1,3)", val);
		return -EINVAL;
	}
	err = vs_cpus_online(&online);
	if (!err && (mask & ~online)) {
		WHY("CPU list '%s' names CPUs that are not online", val);
		return -ERANGE;
	}
	err = aff_read(inst, cur, sizeof(cur));
	if (err)
		return thread_why(err, inst, why, whylen);
	return vs_cpulist_format(mask, canon, len);
}

static int aff_write(const char *inst, const char *val)
{
	uint64_t mask;
	cpu_set_t set;
	unsigned int i;
	int tid, err;

	if (*vs_root())
		return -EOPNOTSUPP;
	err = vs_thread_inst_check(inst, &tid);
	if (!err)
		err = vs_cpulist_parse(val, &mask);
	if (err)
		return err;
	CPU_ZERO(&set);
	for (i = 0; i < 64; i++)
		if (mask & (1ULL << i))
			CPU_SET(i, &set);
	return sched_setaffinity(tid, sizeof(set), &set) ? -errno : 0;
}

const struct vs_knob_ops vs_knob_thread_affinity = {
	.name = "thread.affinity", .scope = VS_SCOPE_THREAD, .live = true,
	.unit = "cpulist", .help = "CPUs the thread may run on",
	.validate = aff_validate, .read = aff_read, .write = aff_write,
};
