/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_HOSTCOST_H
#define VS_HOSTCOST_H

/*
 * This host's synchronization costs, measured in a fraction of a second
 * (the paper's Np/Nc, Sp/Sc and Yz, which here are far from its Table 4):
 *  - notification cost: an eventfd write nobody waits on;
 *  - wake-up: half an eventfd ping-pong round trip (lib/wakeup.c), once as
 *    the machine is, once with every CPU kept out of idle by SCHED_IDLE
 *    spinners: what halt polling (host or guest) would give, measured
 *    without touching any knob;
 *  - Yz: the cached sleepcost result (lib/sleepcost.h).
 */

#include <stdbool.h>

#include "classify.h"

struct vs_hostcost_opts {
	unsigned int rounds;	/* ping-pong round trips per measurement */
	bool polled;		/* also measure with the CPUs kept busy */
	bool yz;		/* look Yz up (cache, else a quick run) */
};

/* Fields that could not be measured are NaN with the reason in *_from. */
int vs_hostcosts_measure(const struct vs_hostcost_opts *o, struct vs_hostcosts *hc);

#endif
