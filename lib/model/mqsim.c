// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shared-poller system of mq.h, event by event: Poisson bursts into
 * rings of L slots (an arrival that finds the ring full waits in the
 * producer, up to L more items, and is published when slots free; beyond
 * that it is lost), a poller visiting its queues round-robin (visit_ns a
 * visit, at most K items of Wc each), blocking after idle_ns without work
 * and woken wake_ns (exponential) after the next arrival. The pollers own
 * disjoint queues, so each is simulated on its own for sim_ns.
 *
 * A round that finds nothing does not step through empty visits: it jumps
 * to the next arrival (or blocks, when that is past the idle budget), so
 * an idle poller costs nothing to simulate.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/mq.h"

/* Latency histogram: 64 sub-buckets per power of two of ns (1.6 %). */
#define HSUB_BITS	6
#define HSUB		(1u << HSUB_BITS)
#define HBUCKETS	(40u * HSUB)

struct hist {
	uint64_t count;
	double sum;
	uint64_t b[HBUCKETS];
};

static unsigned int hist_index(uint64_t v)
{
	unsigned int msb, shift, i;

	if (v < HSUB)
		return (unsigned int)v;
	msb = 63 - (unsigned int)__builtin_clzll(v);
	shift = msb - HSUB_BITS;
	i = (shift + 1) * HSUB + (unsigned int)((v >> shift) & (HSUB - 1));
	return i < HBUCKETS ? i : HBUCKETS - 1;
}

static double hist_low(unsigned int i, double *width)
{
	unsigned int shift;

	if (i < HSUB) {
		*width = 1;
		return i;
	}
	shift = i / HSUB - 1;
	*width = (double)(1ull << shift);
	return (double)((uint64_t)(HSUB + i % HSUB) << shift);
}

static double hist_quantile(const struct hist *h, double q)
{
	uint64_t rank = (uint64_t)ceil(q * (double)h->count), seen = 0;
	double w, low;
	unsigned int i;

	if (!h->count)
		return NAN;
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HBUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank)
			break;
	}
	low = hist_low(i < HBUCKETS ? i : HBUCKETS - 1, &w);
	return low + w / 2;
}

struct rng {
	uint64_t s;
};

static double rng_u01(struct rng *r)	/* (0, 1) */
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return ((double)((r->s * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_exp(struct rng *r, double mean)
{
	return mean > 0 ? -log(rng_u01(r)) * mean : 0;
}

struct squeue {
	double next;		/* next burst */
	double gap;		/* mean gap between bursts */
	double wc;
	double burst_mean;	/* a fractional mean: floor or ceil per burst */
	unsigned int burst;
	double *stamp;		/* ring of L publish times */
	unsigned int head, count, backlog;
	uint64_t served, kicks;
	struct hist *h;
};

struct spoller {
	struct squeue *q[VS_MQ_MAX];
	unsigned int n;
};

/* Bursts of q up to time t into its ring (or its producer's backlog). */
static void arrive(struct squeue *q, double t, struct rng *r, unsigned int len,
		   uint64_t *ev, uint64_t *lost, bool blocked_kick)
{
	unsigned int room, put, tail;

	while (q->next <= t) {
		q->burst = (unsigned int)q->burst_mean;
		if (rng_u01(r) < q->burst_mean - q->burst)
			q->burst++;
		room = len - q->count;
		put = q->burst < room ? q->burst : room;
		tail = (q->head + q->count) & (len - 1);
		for (unsigned int i = 0; i < put; i++)
			q->stamp[(tail + i) & (len - 1)] = q->next;
		q->count += put;
		q->backlog += q->burst - put;
		if (q->backlog > len) {
			*lost += q->backlog - len;
			q->backlog = len;
		}
		if (blocked_kick)
			q->kicks++;
		q->next += rng_exp(r, q->gap);
		(*ev)++;
	}
}

static void sim_poller(const struct vs_mq_params *p, struct spoller *sp,
		       double end, struct rng *r, struct vs_mq_poller_pred *pp,
		       uint64_t *ev, uint64_t *lost)
{
	const unsigned int len = p->len;
	const unsigned int k = p->batch < len ? p->batch : len;
	double t = 0, last_work = 0, busy = 0, blocked = 0, tn;
	uint64_t blocks = 0;
	unsigned int i, j, n, worked;

	while (t < end) {
		worked = 0;
		for (i = 0; i < sp->n; i++) {
			struct squeue *q = sp->q[i];

			t += p->visit_ns;
			(*ev)++;
			arrive(q, t, r, len, ev, lost, false);
			if (!q->count)
				continue;
			n = q->count < k ? q->count : k;
			for (j = 0; j < n; j++) {
				double lat;

				t += q->wc;
				lat = t - q->stamp[q->head];
				q->h->b[hist_index((uint64_t)lat)]++;
				q->h->sum += lat;
				q->head = (q->head + 1) & (len - 1);
			}
			q->h->count += n;
			q->count -= n;
			q->served += n;
			busy += n * q->wc;
			*ev += n;
			worked += n;
			/* The producer publishes what waited, stamped now. */
			while (q->backlog && q->count < len) {
				q->stamp[(q->head + q->count) & (len - 1)] = t;
				q->count++;
				q->backlog--;
			}
		}
		if (worked) {
			last_work = t;
			continue;
		}
		for (tn = INFINITY, i = 0; i < sp->n; i++)
			if (sp->q[i]->next < tn)
				tn = sp->q[i]->next;
		if (tn <= t)
			continue;
		if (tn > last_work + p->idle_ns) {
			/* Blocked from the end of the idle budget until a kick. */
			double from = last_work + p->idle_ns > t ? last_work + p->idle_ns : t;
			double wmin = p->wake_min_ns < p->wake_ns ? p->wake_min_ns : p->wake_ns;
			double wake = tn + wmin + rng_exp(r, p->wake_ns - wmin);

			blocked += wake - from;
			blocks++;
			for (i = 0; i < sp->n; i++)
				if (sp->q[i]->next <= tn)
					sp->q[i]->kicks++;
			t = wake;
			last_work = t;
		} else {
			t = tn;
		}
	}
	pp->util = busy / t;
	pp->blocked = blocked / t;
	pp->blocks_per_s = blocks / t * 1e9;
	pp->cpu = 1 - pp->blocked + pp->blocks_per_s * p->wake_cpu_ns / 1e9;
	if (pp->cpu > 1)
		pp->cpu = 1;
}

int vs_mq_sim(const struct vs_mq_sim_config *cfg, struct vs_mq_sim_result *res)
{
	const struct vs_mq_params *p = &cfg->p;
	unsigned int owner[VS_MQ_MAX], g, i, groups;
	struct squeue *qs;
	struct rng r = { cfg->seed ? cfg->seed : 88172645463325252ull };
	int err = vs_mq_params_validate(p, NULL);

	memset(res, 0, sizeof(*res));
	if (err)
		return err;
	if ((p->len & (p->len - 1)) || !(cfg->sim_ns > 0))
		return -EINVAL;
	qs = calloc(p->n_queues, sizeof(*qs));
	if (!qs)
		return -ENOMEM;
	for (i = 0; i < p->n_queues; i++) {
		qs[i].stamp = calloc(p->len, sizeof(double));
		qs[i].h = calloc(1, sizeof(struct hist));
		if (!qs[i].stamp || !qs[i].h) {
			err = -ENOMEM;
			goto out;
		}
		qs[i].burst_mean = p->q[i].burst;
		qs[i].gap = 1e9 * p->q[i].burst / p->q[i].rate;
		qs[i].wc = p->q[i].wc_ns;
		qs[i].next = rng_exp(&r, qs[i].gap);
	}
	vs_mq_assign(p, owner);
	groups = p->n_pollers ? p->n_pollers : p->n_queues;
	res->pred.n_pollers = groups;
	for (g = 0; g < groups; g++) {
		struct spoller sp = { .n = 0 };
		double rho = 0;

		for (i = 0; i < p->n_queues; i++)
			if (owner[i] == g) {
				sp.q[sp.n++] = &qs[i];
				rho += p->q[i].rate * p->q[i].wc_ns / 1e9;
			}
		sim_poller(p, &sp, cfg->sim_ns, &r, &res->pred.p[g], &res->events,
			   &res->lost);
		res->pred.p[g].n_queues = sp.n;
		res->pred.p[g].rho = rho;
		res->pred.p[g].saturated = rho >= 1;
		res->pred.cpu += res->pred.p[g].cpu;
	}
	for (i = 0; i < p->n_queues; i++) {
		struct vs_mq_queue_pred *qp = &res->pred.q[i];

		qp->poller = owner[i];
		qp->t_ops = qs[i].served / cfg->sim_ns * 1e9;
		qp->saturated = qp->t_ops < 0.98 * p->q[i].rate;
		qp->mean_ns = qs[i].h->count ? qs[i].h->sum / qs[i].h->count : NAN;
		qp->p50_ns = hist_quantile(qs[i].h, 0.50);
		qp->p98_ns = hist_quantile(qs[i].h, 0.98);
		qp->kicks_per_s = qs[i].kicks / cfg->sim_ns * 1e9;
		res->pred.t_ops += qp->t_ops;
		res->pred.cpu_kicks += qp->kicks_per_s * p->kick_cpu_ns / 1e9;
		if (qp->p98_ns > res->pred.p98_ns)
			res->pred.p98_ns = qp->p98_ns;
		res->pred.n_saturated += qp->saturated;
	}
	res->pred.cpu += res->pred.cpu_kicks;
out:
	for (i = 0; i < p->n_queues; i++) {
		free(qs[i].stamp);
		free(qs[i].h);
	}
	free(qs);
	return err;
}
