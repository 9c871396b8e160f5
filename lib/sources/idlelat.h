/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_IDLELAT_H
#define VS_IDLELAT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/latstats.h"

/*
 * Wake-up latency per idle state (C-state) of one CPU. For each cpuidle
 * state, every other state of the target CPU is disabled, then a thread
 * pinned there measures
 *   - timer wake-ups: clock_nanosleep(TIMER_ABSTIME) to a deadline, latency =
 *     the time the thread runs again minus the deadline (timer slack 1 ns);
 *   - IPI wake-ups: a thread on another CPU writes its clock to an eventfd the
 *     target blocks on; latency = the time the target runs minus that clock.
 * The usage and residency counters of every state are read before and after,
 * proving which state was really entered: some governors (haltpoll) ignore
 * the disable flags, which the result then shows.
 *
 * Enumeration goes through libcpupower (cpuidle_state_count/name/latency,
 * cpuidle_is_state_disabled) on the live host. Writes and counters go
 * through sysfs under vs_path(): libcpupower's paths are not rooted at
 * VIRTSYNC_ROOT, and its cpuidle_state_usage() returns 0 for errors, which a
 * delta cannot tell from "not entered". Under VIRTSYNC_ROOT (fixture trees)
 * enumeration reads the same sysfs files.
 */

#define VS_IDLE_MAX_STATES	16

struct vs_idle_state {
	unsigned int index;
	char name[32];
	char desc[64];
	unsigned long latency_us;	/* declared exit latency */
	int disabled;			/* disable flag when enumerated */
	bool is_poll;			/* the POLL pseudo-state: spins in C0 */
};

/* The states of `cpu` (at most `max`). Returns 0 (n = 0: no cpuidle on that
 * CPU) or -errno. */
int vs_idle_states_read(int cpu, struct vs_idle_state *st, unsigned int max,
			unsigned int *n);

/* Set / read one state's disable flag (sysfs, vs_path()). */
int vs_idle_state_set_disabled(int cpu, unsigned int state, int disable);
int vs_idle_state_get_disabled(int cpu, unsigned int state);
int vs_idle_state_counters(int cpu, unsigned int state, uint64_t *usage,
			   uint64_t *time_us);

/* /sys/devices/system/cpu/cpuidle/current_governor and current_driver. */
int vs_idle_governor_read(char *buf, unsigned long len);
int vs_idle_governor_write(const char *name);
int vs_idle_driver_read(char *buf, unsigned long len);
/* A governor name as the kernel has them: 1-31 of [A-Za-z0-9_-]. */
bool vs_idle_governor_name_ok(const char *name);
/* 1 when `name` is in available_governors, 0 when not, or -errno. */
int vs_idle_governor_available(const char *name);

/*
 * The restore file, /run/virtsync/idlelat-restore.json (through vs_path()).
 * idlelat writes it, fsync'd together with its directory, before it changes
 * anything, and deletes it once everything is restored; so a file that is
 * present while no idlelat holds the lock (below) is left by a run that died
 * (SIGKILL, crash, power loss) and must be replayed. Format, version 1:
 *
 *   {"version": 1, "tool": "virtsync idlelat", "pid": 1234,
 *    "time": 1700000000, "kernel": "6.1.0-18-amd64",
 *    "governor": "haltpoll",
 *    "states": [{"cpu": 1, "state": 0, "name": "POLL", "disable": 0},
 *               {"cpu": 1, "state": 1, "name": "haltpoll", "disable": 0}]}
 *
 * To replay: write each entry's "disable" value to
 * /sys/devices/system/cpu/cpu<cpu>/cpuidle/state<state>/disable; if
 * "governor" is present (idlelat --governor changed it; absent otherwise)
 * write it to /sys/devices/system/cpu/cpuidle/current_governor; then delete
 * the file. "pid", "time", "kernel" and "name" are informational. A replayer
 * other than idlelat (`virtsync rollback`) should hold the lock too:
 * flock(LOCK_EX) on /run/virtsync/idlelat.lock, which a running idlelat holds
 * for its whole run (so the file of a live run is never replayed under it).
 */

#define VS_IDLE_RESTORE_MAX	1024

struct vs_idle_restore_entry {
	int cpu;
	unsigned int state;
	int disable;
	char name[32];
};

struct vs_idle_restore {
	int pid;
	int64_t time;
	char kernel[65];
	char governor[32];	/* "" when the governor was not changed */
	unsigned int n;
	struct vs_idle_restore_entry e[VS_IDLE_RESTORE_MAX];
};

/* Parse / render the JSON text above. Parse returns -EINVAL for anything
 * malformed (wrong version, missing or out-of-range fields, too many
 * entries) and leaves nothing half-filled that could be replayed. */
int vs_idle_restore_parse(const char *text, struct vs_idle_restore *r);
/* *text is malloc'd; the caller frees it. */
int vs_idle_restore_format(const struct vs_idle_restore *r, char **text);

/* What is in force now, before a run changes it: the disable flag of
 * each of the n states of `cpu`, and the governor when new_governor (NULL:
 * unchanged) differs from old_governor. -errno of a flag not read. */
int vs_idle_restore_record(int cpu, const struct vs_idle_state *st, unsigned int n,
			   const char *old_governor, const char *new_governor,
			   struct vs_idle_restore *rs);
int vs_idle_restore_write(const struct vs_idle_restore *r);
/* -ENOENT when there is no file. */
int vs_idle_restore_read(struct vs_idle_restore *r);
/*
 * Write every entry back (continuing past failures) and the governor. A
 * state that no longer exists (-ENOENT: CPU gone) counts as done. Returns
 * the number of values written, or the first other -errno.
 */
int vs_idle_restore_apply(const struct vs_idle_restore *r);
int vs_idle_restore_remove(void);

/* Take /run/virtsync/idlelat.lock (non-blocking). Returns the fd, or -EBUSY
 * when another idlelat runs, or -errno. vs_idlelat_unlock(fd) releases. */
int vs_idlelat_lock(void);
void vs_idlelat_unlock(int fd);

/*
 * Replay a restore file left by a dead run (the caller holds the lock).
 * Returns the number of values written (0: no file) or -errno; *left, when
 * not NULL, receives the file's content.
 */
int vs_idlelat_replay(struct vs_idle_restore *left);

struct vs_idlelat_opts {
	int cpu;		/* target CPU */
	int waker_cpu;		/* -1: the first other online CPU */
	unsigned int samples;	/* per kind (timer, IPI) and state */
	double gap_ns;		/* idle time before each wake-up */
	const char *governor;	/* NULL: keep the current one */
	int only_state;		/* -1: every state */
	/* Stops early (result -EINTR, everything restored) once *stop != 0. */
	const volatile sig_atomic_t *stop;
	/* Called once every change for a state is made (tests, progress). */
	void (*on_state)(unsigned int state, void *arg);
	void *arg;
};

void vs_idlelat_opts_default(struct vs_idlelat_opts *o);

struct vs_idlelat_state_result {
	unsigned int state;
	struct vs_latstats timer, ipi;	/* latency in ns */
	/* Disable writes the kernel refused for other states (bit i = state i),
	 * e.g. POLL on some drivers: those states stayed enabled. */
	uint32_t refused;
	uint64_t usage_delta[VS_IDLE_MAX_STATES];
	uint64_t time_delta_us[VS_IDLE_MAX_STATES];
	bool entered;		/* this state's usage went up */
	bool others_entered;	/* a disabled state was entered anyway */
	double wall_ns;
};

struct vs_idlelat_result {
	int cpu, waker_cpu;	/* waker_cpu -1: no IPI measurement */
	char driver[32];
	char governor[32];	/* governor in force during the run */
	char orig_governor[32];
	unsigned int nstates;
	struct vs_idle_state states[VS_IDLE_MAX_STATES];
	unsigned int nresults;
	struct vs_idlelat_state_result res[VS_IDLE_MAX_STATES];
};

/*
 * Run the measurement on the calling thread (pinned to o->cpu for the run,
 * its affinity and timer slack restored afterwards). The caller holds the
 * lock and has replayed any left-over restore file. Returns 0, -EINTR
 * (stopped: restored, partial result), -ENODEV (CPU or state missing,
 * no cpuidle), -EINVAL (bad options), or another -errno; every change is
 * undone on every path.
 */
int vs_idlelat_run(const struct vs_idlelat_opts *o, struct vs_idlelat_result *r);

#endif
