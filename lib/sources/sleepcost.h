/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_SLEEPCOST_H
#define VS_SLEEPCOST_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/latstats.h"

/*
 * The cost of a sleep (paper Sec. 4.3, Fig. 5). A thread pinned to one CPU
 * calls nanosleep() in a tight loop for each nominal length; per nominal we
 * report the effective length (what one sleep really lasted) and the CPU
 * cost of one sleep, once with the thread's current timer slack and once
 * with 1 ns (0 would mean "the default" to prctl).
 *
 * CPU cost per sleep = (time the CPU spent in C0 during the point) / sleeps.
 * C0 time comes, best first, from
 *   - APERF/MPERF: MPERF counts at the TSC rate only in C0, read through
 *     /dev/cpu/N/msr where the CPU flags "aperfmperf" (cpupower monitor's
 *     Mperf method, which the paper used; libcpupower has no API for it);
 *   - cpuidle residency (libcpupower cpuidle_state_time): wall time minus the
 *     time the CPU spent in idle states other than POLL (POLL spins in C0);
 *   - the thread's own CPU time (CLOCK_THREAD_CPUTIME_ID) when the CPU has
 *     no cpuidle states; this misses interrupt and idle entry/exit work.
 * The thread CPU time is reported in every case as a second opinion.
 * Whole-CPU sources count every other task on that CPU too: pick a quiet one.
 */

enum vs_cost_source {
	VS_COST_MPERF,
	VS_COST_CPUIDLE,
	VS_COST_THREAD,
};

const char *vs_cost_source_name(enum vs_cost_source s);

struct vs_sleepcost_opts {
	int cpu;		/* pin the sleeping thread here; -1: do not pin */
	double min_ns;		/* smallest nominal sleep (> 0) */
	double max_ns;		/* largest nominal sleep (>= min_ns) */
	unsigned int steps;	/* log-spaced points from min to max (>= 1) */
	unsigned int samples;	/* sleeps per point; 0: use duration_ns */
	double duration_ns;	/* time budget per point when samples == 0 */
	/* Optional: the loop stops early (result -EINTR) once *stop != 0. */
	const volatile sig_atomic_t *stop;
	/* Optional: told before each point, done of total (both passes). */
	void (*progress)(void *arg, unsigned int done, unsigned int total);
	void *progress_arg;
};

/* Defaults: 1 us .. 1 ms in 7 points, 200 ms each (about 3 s for both
 * slacks); quick: 4 points of 50 ms (about 0.5 s), what diagnose uses. */
void vs_sleepcost_opts_default(struct vs_sleepcost_opts *o, bool quick);

/* Checks the ranges above; -EINVAL with *what naming the bad field. */
int vs_sleepcost_opts_check(const struct vs_sleepcost_opts *o,
			    const char **what);

struct vs_sleepcost_point {
	double nominal_ns;
	struct vs_latstats eff;	/* effective sleep length, ns */
	double cost_ns;		/* CPU (C0) time per sleep */
	double busy_frac;	/* C0 share of the wall time of the point */
	double thread_cpu_ns;	/* the thread's CPU time per sleep */
	double wall_ns;		/* length of the point */
};

struct vs_sleepcost_pass {
	uint64_t slack_ns;
	unsigned int npoints;
	struct vs_sleepcost_point *points;
	/*
	 * Yz, the shortest useful sleep: the median effective length of the
	 * smallest nominal sleep. No sleep can be shorter, and asking for less
	 * is busy waiting with extra steps (paper: "it does not make sense to
	 * sleep for less than Yz"). The median, not the paper's mean: on a
	 * shared host a sleep that another task preempts is long for reasons
	 * that are not the sleep primitive's. yz_cost_ns is the CPU cost per
	 * sleep at that point.
	 */
	double yz_ns;
	double yz_cost_ns;
	/*
	 * The knee: the smallest nominal whose cost per sleep is below half
	 * its effective length, i.e. from where on the CPU is idle for most
	 * of the sleep. NaN when no point qualifies.
	 */
	double knee_nominal_ns;
	double knee_cost_ns;
};

struct vs_sleepcost_result {
	int cpu;			/* CPU measured on */
	enum vs_cost_source source;
	char source_why[96];		/* why better sources were not used */
	uint64_t orig_slack_ns;		/* the thread's slack before the run */
	struct vs_sleepcost_pass pass[2]; /* [0] current slack, [1] 1 ns */
	/* pass[0].yz_ns / pass[1].yz_ns: how much the slack inflates Yz. */
	double inflation;
};

/*
 * Run both passes on the calling thread. Pins it to o->cpu for the run and
 * restores its affinity and timer slack afterwards, on every path. Returns
 * 0, -EINVAL (bad options), -ENODEV (cpu not allowed/online), -EINTR
 * (stopped: *r holds the points completed, each pass summarized over its
 * own, a pass not begun with npoints 0 and NaN figures; free it), -ENOMEM,
 * or another -errno (nothing to free).
 */
int vs_sleepcost_run(const struct vs_sleepcost_opts *o,
		     struct vs_sleepcost_result *r);

void vs_sleepcost_result_free(struct vs_sleepcost_result *r);

/* Fill yz_ns, yz_cost_ns, knee_* of a pass from its points (exposed for
 * tests). */
void vs_sleepcost_pass_summarize(struct vs_sleepcost_pass *p);

/*
 * The Yz cache, /run/virtsync/yz.json (through vs_path()):
 *   {"version": 1, "time": 1700000000, "kernel": "6.1.0-...", "cpu": 1,
 *    "slack_ns": 50000, "yz_ns": 26000.0, "yz_slack_ns": 80000.0,
 *    "yz_cost_ns": 9000.0, "source": "cpuidle"}
 * yz_ns is measured with 1 ns slack (what the platform can do), yz_slack_ns
 * with the slack the measuring thread had (slack_ns).
 */
struct vs_yz {
	double yz_ns;
	double yz_slack_ns;
	double yz_cost_ns;
	uint64_t slack_ns;
	int cpu;
	int64_t time;		/* unix seconds of the measurement */
	char kernel[65];
	char source[16];
	bool from_cache;
};

void vs_sleepcost_yz_from_result(const struct vs_sleepcost_result *r,
				 struct vs_yz *yz);
/* Atomic write (temporary file + rename), creating /run/virtsync. */
int vs_sleepcost_cache_write(const struct vs_yz *yz);
/* -ENOENT when absent, -EINVAL when malformed. */
int vs_sleepcost_cache_read(struct vs_yz *yz);

/*
 * "A short sleepcost run, cached": the cached Yz when it is younger than
 * max_age_s seconds and from the running kernel, else a --quick run on the
 * CPU the caller is on, written back to the cache (a failed write is
 * ignored: the value is still returned). Returns 0 or -errno.
 */
int vs_sleepcost_yz_cached(double max_age_s, struct vs_yz *yz);

#endif
