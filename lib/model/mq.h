/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_MODEL_MQ_H
#define VS_MODEL_MQ_H

/*
 * Shared polling cores (ELVIS, seed 004): S pollers serve N queues, each
 * poller a polling server over its share of the queues (dealt heaviest
 * first by rate x Wc to the least loaded poller): it visits them
 * round-robin, each visit costs visit_ns and takes at most `batch` items of
 * Wc each, and after idle_ns without work it arms the queues' notifications
 * and blocks; a kick wakes it wake_ns later. Queue i receives bursts of
 * burst_i items at Poisson times, rate_i items per second. S = 0 is one
 * consumer per queue (today's shape: a vhost thread per queue).
 *
 * Closed forms (mq.c, derivation in docs/polling-cores.md):
 *  - throughput: the cycle C of a poller solves C = sum_i (s + n_i Wc_i),
 *    n_i = min(rate_i C, K) items per visit (K = min(batch, L)); a queue
 *    with rate_i C >= K is saturated and gets K / C, the others rate_i.
 *  - CPU: a poller not saturated cycles through busy, polling idle (an
 *    exponential idle period, A bursts per second over its queues), and
 *    when that outlasts idle_ns, blocked and then waking (wake_ns): the
 *    last two off CPU, each block costing wake_cpu_ns.
 *  - latency of an item: its place in its burst (j Wc, j uniform 1..B)
 *    plus what its burst finds: busy (rho), the work ahead, exponential
 *    with the mean of the Pollaczek-Khinchine workload given busy
 *    (A E[S^2] / (2 rho (1 - rho)), S a burst's work); blocked, a wake-up
 *    and the bursts that reached the queues visited before it meanwhile
 *    (after a wake-up a round starts at the poller's first queue); waking,
 *    the rest of the wake-up; a saturated queue holds L items: L/T.
 * The simulator (vs_mq_sim) runs the same system event by event.
 */

#include <stdbool.h>
#include <stdint.h>

#define VS_MQ_MAX	64

struct vs_mq_queue {
	double rate;		/* items per second */
	double burst;		/* items per arrival (>= 1) */
	double wc_ns;		/* poller's work per item */
};

struct vs_mq_params {
	unsigned int n_queues;
	unsigned int n_pollers;	/* 0: one consumer per queue */
	struct vs_mq_queue q[VS_MQ_MAX];
	unsigned int len;	/* ring length L */
	unsigned int batch;	/* items per visit K */
	double visit_ns;	/* s: cost of one visit (found nothing) */
	double idle_ns;		/* I: no work this long, then block */
	double wake_ns;		/* kick to running, mean */
	double wake_min_ns;	/* ... of which a fixed part: the wake-up is
				 * wake_min + exponential(wake - wake_min) */
	double wake_cpu_ns;	/* CPU of one block and wake-up, poller side */
	double kick_cpu_ns;	/* CPU of one kick, producer side */
};

struct vs_mq_queue_pred {
	unsigned int poller;
	double t_ops;		/* items per second served */
	bool saturated;		/* the poller cannot keep up with it */
	double mean_ns, p50_ns, p98_ns;
	double kicks_per_s;	/* kicks its producer sends */
};

struct vs_mq_poller_pred {
	unsigned int n_queues;
	double rho;		/* offered work per second (may exceed 1) */
	double util;		/* work served per second */
	double blocked;		/* fraction of time off CPU: blocked, waking */
	double cpu;		/* CPUs: awake time + wake-up costs */
	double blocks_per_s;
	double cycle_ns;	/* mean time between visits of a queue */
	bool saturated;
};

struct vs_mq_pred {
	unsigned int n_pollers;	/* threads (S, or N for one per queue) */
	struct vs_mq_queue_pred q[VS_MQ_MAX];
	struct vs_mq_poller_pred p[VS_MQ_MAX];
	double t_ops;		/* all queues */
	double cpu;		/* pollers' CPUs plus the kicks' CPU */
	double cpu_kicks;	/* of which the producers' kicks */
	double p98_ns;		/* the worst queue's */
	unsigned int n_saturated;
};

void vs_mq_params_default(struct vs_mq_params *p);
/* -EINVAL with *why naming what is wrong. */
int vs_mq_params_validate(const struct vs_mq_params *p, const char **why);
/* The poller of each queue: the reference device's rule (mq.h there). */
void vs_mq_assign(const struct vs_mq_params *p, unsigned int *out);
int vs_mq_predict(const struct vs_mq_params *p, struct vs_mq_pred *out);

/*
 * The fewest shared pollers (1..N) with no queue saturated and every
 * queue's p98 at most dmax_ns (NaN: no latency bound): *s_out, with its
 * prediction in *pred. -ERANGE when even N pollers do not reach it
 * (*s_out = 0, *pred the N-poller prediction).
 */
int vs_mq_pollers_needed(const struct vs_mq_params *p, double dmax_ns,
			 unsigned int *s_out, struct vs_mq_pred *pred);
/*
 * The point where one more poller is needed: the factor by which every
 * queue's rate can grow before S pollers saturate or miss dmax_ns (NaN: no
 * bound), capped at 1000; below 1 when they already miss.
 */
double vs_mq_headroom(const struct vs_mq_params *p, double dmax_ns);

/* ---- simulator (mqsim.c) -------------------------------------------- */

struct vs_mq_sim_config {
	struct vs_mq_params p;
	double sim_ns;		/* simulated time per poller */
	uint64_t seed;
};

struct vs_mq_sim_result {
	struct vs_mq_pred pred;	/* the same figures, measured in the sim */
	uint64_t events;	/* arrivals, visits and items simulated */
	uint64_t lost;		/* items an arrival found no room for */
};

int vs_mq_sim(const struct vs_mq_sim_config *cfg, struct vs_mq_sim_result *res);

#endif
