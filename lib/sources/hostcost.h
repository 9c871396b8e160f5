/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_HOSTCOST_H
#define VS_HOSTCOST_H

/*
 * This host's synchronization costs, measured in a fraction of a second
 * (the paper's Np/Nc, Sp/Sc and Yz, which here are far from its Table 4):
 *  - notification cost: an eventfd write nobody waits on;
 *  - wake-up: half an eventfd ping-pong round trip (lib/sources/wakeup.c), once as
 *    the machine is, once with every CPU kept out of idle by SCHED_IDLE
 *    spinners: what halt polling (host or guest) would give, measured
 *    without touching any knob;
 *  - Yz: the cached sleepcost result (lib/sources/sleepcost.h).
 */

#include <stdbool.h>

/* Costs of this host, measured once per run (lib/sources/wakeup.c, sleepcost.c). */
struct vs_hostcosts {
	double notify_ns;	/* cost to send one notification (eventfd write) */
	double wake_ns;		/* blocked thread: notification -> running */
	double wake_polled_ns;	/* the same with the waker's CPU kept busy */
	double yz_ns;		/* shortest sleep / CPU cost of a sleep */
	char notify_from[96], wake_from[96], yz_from[96];
};

struct vs_hostcost_opts {
	unsigned int rounds;	/* ping-pong round trips per measurement */
	bool polled;		/* also measure with the CPUs kept busy */
	bool yz;		/* look Yz up (cache, else a quick run) */
};

/* Fields that could not be measured are NaN with the reason in *_from. */
int vs_hostcosts_measure(const struct vs_hostcost_opts *o, struct vs_hostcosts *hc);

#endif
