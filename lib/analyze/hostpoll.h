/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_ANALYZE_HOSTPOLL_H
#define VS_ANALYZE_HOSTPOLL_H

/*
 * The host's polling-core question (issue 14, ELVIS): for the queues a
 * diagnosis measured, how many shared pollers would serve them all within
 * Dmax, what that costs in CPU against what their threads and wake-ups
 * cost now, the latency predicted, and which queues should stay on
 * notifications. Pure: measured rates and costs in, lib/model/mq.h's
 * prediction out.
 */

#include <stdbool.h>

#include "model/mq.h"

struct vs_hostpoll_queue {
	char name[64];
	double items_per_s;	/* measured */
	double wc_ns;		/* work per item: the verdict's Wc, else the
				 * consumer's CPU per item */
	double burst;		/* items per consumer wake-up (>= 1) */
	double cons_cpu;	/* the consumer thread now, CPUs */
	double kicks_per_s;	/* notifications to the consumer now */
};

/* One queue with a notification rate this low (per second) costs less
 * than its share of a poller's idle budget: it stays on notifications
 * (ELVIS polls a queue only above a notification rate). */
#define VS_HOSTPOLL_NOTIFY_RATE	1000.0

struct vs_hostpoll_shape {
	unsigned int pollers;
	double cpu;		/* pollers, plus the kicks of the rest */
	double p98_ns;		/* worst polled queue */
	unsigned int saturated;
};

struct vs_hostpoll {
	bool known;		/* false: fewer than two queues measured */
	char why[160];
	unsigned int n;
	struct vs_hostpoll_queue q[VS_MQ_MAX];
	bool polled[VS_MQ_MAX];	/* false: stays on notifications */
	unsigned int n_polled;
	double dmax_ns;
	/* now: the consumer threads' CPU plus the producers' kicks */
	double cpu_now, cpu_now_kicks;
	/* the advice: the fewest pollers meeting dmax (0: none do) */
	unsigned int pollers;
	double cpu, p98_ns, headroom;
	/* every S from 1 to the polled queues, for the plot */
	unsigned int n_shapes;
	struct vs_hostpoll_shape shape[VS_MQ_MAX];
};

/*
 * Plan it. notify_ns: a kick's CPU on the producer side; wake_ns: a blocked
 * poller's kick-to-running (the host costs); NaN takes the model's default.
 * -EINVAL on bad input (n > VS_MQ_MAX).
 */
int vs_hostpoll_plan(const struct vs_hostpoll_queue *q, unsigned int n,
		     double dmax_ns, double notify_ns, double wake_ns,
		     struct vs_hostpoll *out);

#endif
