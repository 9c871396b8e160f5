/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_WAKEUP_H
#define VS_WAKEUP_H

#include <signal.h>
#include <stdint.h>

/*
 * The wake-up workload: two threads ping-pong through a pair of eventfds,
 * each blocking in read() until the other writes, so every round trip is
 * two sleeps and two cross-thread wake-ups: what halt polling, idle-state
 * limits and timer slack change. Reusable by diagnose as a calibration.
 */

struct vs_wakeup_opts {
	unsigned int rounds;	/* measured round trips (after warm-up) */
	unsigned int warmup;	/* round trips discarded first */
	int cpu_ping, cpu_pong;	/* pin each thread there; -1: unpinned */
	/* Optional: non-zero ends the run early: -EINTR, with the result
	 * over the round trips measured until then (rounds 0: none). */
	const volatile sig_atomic_t *stop;
};

struct vs_wakeup_result {
	unsigned int rounds;
	double median_ns, p98_ns, mean_ns, min_ns, max_ns;
	double cpu_ns_per_rt;	/* CPU time of both threads per round trip */
	double wall_s;
	/* Share of the two CPUs' time spent idle and stolen by the hypervisor
	 * during the run (/proc/stat; NaN if unreadable). Halt polling only
	 * shortens wake-ups of idle CPUs: with other work keeping them busy,
	 * the round trip is scheduling, not idle exit. */
	double idle_frac, steal_frac;
	/* the same as /proc/stat ticks (USER_HZ): a short run may span too
	 * few ticks for a fraction, so callers sum these over batches */
	unsigned long long idle_ticks, steal_ticks, total_ticks;
};

/* Defaults: 2000 rounds, 100 warm-up, threads on the first two online CPUs
 * (one CPU: both unpinned), no stop flag. */
void vs_wakeup_opts_default(struct vs_wakeup_opts *o);
int vs_wakeup_measure(const struct vs_wakeup_opts *o, struct vs_wakeup_result *r);

#endif
