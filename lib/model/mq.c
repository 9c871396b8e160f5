// SPDX-License-Identifier: GPL-2.0-only
/*
 * Closed forms of S shared pollers over N queues (mq.h; the derivation is
 * in docs/polling-cores.md).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "model/mq.h"

void vs_mq_params_default(struct vs_mq_params *p)
{
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->n_queues = 1;
	p->len = 256;
	p->batch = 64;
	p->visit_ns = 10;
	p->idle_ns = 200e3;
	p->wake_ns = 20e3;
	p->wake_cpu_ns = 5e3;
	p->kick_cpu_ns = 15e3;
	for (i = 0; i < VS_MQ_MAX; i++)
		p->q[i] = (struct vs_mq_queue){ .rate = 10e3, .burst = 8, .wc_ns = 2e3 };
}

int vs_mq_params_validate(const struct vs_mq_params *p, const char **why)
{
	const char *w = NULL;
	unsigned int i;

	if (!p->n_queues || p->n_queues > VS_MQ_MAX)
		w = "queues: 1 to 64";
	else if (p->n_pollers > p->n_queues)
		w = "pollers: more pollers than queues";
	else if (p->len < 2 || !p->batch)
		w = "len at least 2 and batch at least 1";
	else if (!(p->visit_ns >= 0) || !(p->idle_ns >= 0) || !(p->wake_ns >= 0) ||
		 !(p->wake_cpu_ns >= 0) || !(p->kick_cpu_ns >= 0))
		w = "costs: 0 or more";
	for (i = 0; !w && i < p->n_queues; i++)
		if (!(p->q[i].rate > 0) || !(p->q[i].burst >= 1) || !(p->q[i].wc_ns >= 0))
			w = "queue: rate above 0, burst at least 1, Wc 0 or more";
	if (why)
		*why = w;
	return w ? -EINVAL : 0;
}

static double load_of(const struct vs_mq_queue *q)
{
	return q->rate * (q->wc_ns + 1);
}

void vs_mq_assign(const struct vs_mq_params *p, unsigned int *out)
{
	unsigned int order[VS_MQ_MAX], i, j, k, best;
	double load[VS_MQ_MAX] = { 0 };

	for (i = 0; i < p->n_queues; i++)
		order[i] = out[i] = i;
	if (!p->n_pollers)
		return;
	for (i = 1; i < p->n_queues; i++) {	/* heaviest first, stable */
		k = order[i];
		for (j = i; j > 0 && load_of(&p->q[order[j - 1]]) < load_of(&p->q[k]); j--)
			order[j] = order[j - 1];
		order[j] = k;
	}
	for (i = 0; i < p->n_queues; i++) {
		k = order[i];
		best = 0;
		for (j = 1; j < p->n_pollers; j++)
			if (load[j] < load[best])
				best = j;
		out[k] = best;
		load[best] += load_of(&p->q[k]);
	}
}

/* Items a visit takes at most: the batch limit, or the ring. */
static double visit_cap(const struct vs_mq_params *p)
{
	return p->batch < p->len ? p->batch : p->len;
}

/* The cycle's fixed point f(C) = sum (s + min(rate C, K) Wc) - C = 0:
 * f(0) > 0 and f falls for large C, so bisect. */
static double cycle_ns(const struct vs_mq_params *p, const unsigned int *qs,
		       unsigned int n)
{
	const double k = visit_cap(p);
	double lo = 0, hi = 1e3, f, c, m;
	unsigned int i, it;

	for (it = 0; it < 200; it++) {	/* find an upper bound */
		for (f = -hi, i = 0; i < n; i++)
			f += p->visit_ns + fmin(p->q[qs[i]].rate * hi / 1e9, k) * p->q[qs[i]].wc_ns;
		if (f <= 0)
			break;
		hi *= 2;
	}
	for (it = 0; it < 200; it++) {
		m = (lo + hi) / 2;
		for (f = -m, i = 0; i < n; i++)
			f += p->visit_ns + fmin(p->q[qs[i]].rate * m / 1e9, k) * p->q[qs[i]].wc_ns;
		if (f > 0)
			lo = m;
		else
			hi = m;
		if (hi - lo < 1e-6 * hi)
			break;
	}
	c = (lo + hi) / 2;
	return c > 0 ? c : p->visit_ns * n;
}

/* P(latency > x) of an item of queue q (see mq.h). */
static double tail(double x, double wc, unsigned int b, double rho, double m,
		   double pb, double w, double wmin, double poll_ns)
{
	double sum = 0, r, own;
	unsigned int j;

	for (j = 1; j <= b; j++) {
		own = j * wc;
		r = x - own;
		/* busy: the work ahead, exponential of mean m */
		sum += rho * (r <= 0 ? 1 : m > 0 ? exp(-r / m) : 0);
		/* blocked: a wake-up, exponential of mean w */
		sum += pb * (r <= wmin ? 1 : w > wmin ? exp(-(r - wmin) / (w - wmin)) : 0);
		/* idle and polling: found within a round */
		sum += (1 - rho - pb) * (x < own + poll_ns ? 1 : 0);
	}
	return sum / b;
}

static double quantile(double q, double wc, unsigned int b, double rho, double m,
		       double pb, double w, double wmin, double poll_ns)
{
	double lo = 0, hi = 1e3, mid;
	unsigned int it;

	while (tail(hi, wc, b, rho, m, pb, w, wmin, poll_ns) > 1 - q && hi < 1e13)
		hi *= 2;
	for (it = 0; it < 100; it++) {
		mid = (lo + hi) / 2;
		if (tail(mid, wc, b, rho, m, pb, w, wmin, poll_ns) > 1 - q)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static void predict_poller(const struct vs_mq_params *p, const unsigned int *qs,
			   unsigned int n, struct vs_mq_pred *out,
			   struct vs_mq_poller_pred *pp)
{
	const double k = visit_cap(p);
	double c = cycle_ns(p, qs, n), rho = 0, util = 0, a = 0, es = 0, es2 = 0;
	double m, pb, ev, poll_ns, wmin;
	unsigned int i;

	memset(pp, 0, sizeof(*pp));
	pp->n_queues = n;
	pp->cycle_ns = c;
	for (i = 0; i < n; i++) {
		const struct vs_mq_queue *q = &p->q[qs[i]];
		struct vs_mq_queue_pred *qp = &out->q[qs[i]];
		double ab = q->rate / q->burst, work = q->burst * q->wc_ns;

		rho += q->rate * q->wc_ns / 1e9;
		qp->saturated = q->rate * c / 1e9 >= k * (1 - 1e-9);
		qp->t_ops = qp->saturated ? k / c * 1e9 : q->rate;
		util += qp->t_ops * q->wc_ns / 1e9;
		if (qp->saturated)
			pp->saturated = true;
		a += ab;
		es += ab * work;
		es2 += ab * work * work;
	}
	pp->rho = rho;
	pp->util = util;
	if (pp->saturated) {
		pb = 0;
		pp->blocks_per_s = 0;
	} else {
		pb = (1 - rho) * exp(-a * p->idle_ns / 1e9);
		pp->blocks_per_s = a * pb;
	}
	pp->blocked = pb;
	pp->cpu = 1 - pb + pp->blocks_per_s * p->wake_cpu_ns / 1e9;
	if (pp->cpu > 1)
		pp->cpu = 1;
	/* Pollaczek-Khinchine: mean work found, in ns; given busy: / rho. */
	ev = rho < 1 ? (es2 / 1e9) / (2 * (1 - rho)) : INFINITY;
	m = rho > 0 ? ev / rho : 0;
	poll_ns = n * p->visit_ns;
	wmin = p->wake_min_ns < p->wake_ns ? p->wake_min_ns : p->wake_ns;
	for (i = 0; i < n; i++) {
		const struct vs_mq_queue *q = &p->q[qs[i]];
		struct vs_mq_queue_pred *qp = &out->q[qs[i]];
		unsigned int b = (unsigned int)lround(q->burst);

		if (!b)
			b = 1;
		qp->kicks_per_s = pp->blocks_per_s * (q->rate / q->burst) / (a > 0 ? a : 1);
		if (qp->saturated || pp->saturated) {
			/* A full ring drains at the queue's share. */
			double full = qp->saturated ? p->len / qp->t_ops * 1e9 :
				quantile(0.5, q->wc_ns, b, 1, c, 0, 0, 0, 0);

			qp->mean_ns = qp->p50_ns = full;
			qp->p98_ns = qp->saturated ? full :
				quantile(0.98, q->wc_ns, b, 1, c, 0, 0, 0, 0);
			continue;
		}
		qp->mean_ns = (b + 1) / 2.0 * q->wc_ns + rho * m + pb * p->wake_ns +
			(1 - rho - pb) * poll_ns / 2;
		qp->p50_ns = quantile(0.50, q->wc_ns, b, rho, m, pb, p->wake_ns, wmin, poll_ns);
		qp->p98_ns = quantile(0.98, q->wc_ns, b, rho, m, pb, p->wake_ns, wmin, poll_ns);
	}
}

int vs_mq_predict(const struct vs_mq_params *p, struct vs_mq_pred *out)
{
	unsigned int owner[VS_MQ_MAX], qs[VS_MQ_MAX], i, g, n, groups;
	int err = vs_mq_params_validate(p, NULL);

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	vs_mq_assign(p, owner);
	groups = p->n_pollers ? p->n_pollers : p->n_queues;
	out->n_pollers = groups;
	for (g = 0; g < groups; g++) {
		for (n = 0, i = 0; i < p->n_queues; i++)
			if (owner[i] == g)
				qs[n++] = i;
		predict_poller(p, qs, n, out, &out->p[g]);
		out->cpu += out->p[g].cpu;
	}
	for (i = 0; i < p->n_queues; i++) {
		struct vs_mq_queue_pred *qp = &out->q[i];

		qp->poller = owner[i];
		out->t_ops += qp->t_ops;
		out->cpu_kicks += qp->kicks_per_s * p->kick_cpu_ns / 1e9;
		if (qp->p98_ns > out->p98_ns)
			out->p98_ns = qp->p98_ns;
		out->n_saturated += qp->saturated;
	}
	out->cpu += out->cpu_kicks;
	return 0;
}

static bool meets(const struct vs_mq_pred *pr, double dmax_ns)
{
	return !pr->n_saturated && (isnan(dmax_ns) || pr->p98_ns <= dmax_ns);
}

int vs_mq_pollers_needed(const struct vs_mq_params *p, double dmax_ns,
			 unsigned int *s_out, struct vs_mq_pred *pred)
{
	struct vs_mq_params t = *p;
	unsigned int s;
	int err;

	*s_out = 0;
	for (s = 1; s <= p->n_queues; s++) {
		t.n_pollers = s;
		err = vs_mq_predict(&t, pred);
		if (err)
			return err;
		if (meets(pred, dmax_ns)) {
			*s_out = s;
			return 0;
		}
	}
	return -ERANGE;
}

double vs_mq_headroom(const struct vs_mq_params *p, double dmax_ns)
{
	struct vs_mq_params t = *p;
	struct vs_mq_pred pr;
	double lo = 0, hi = 1000, m;
	unsigned int i, it;

	for (it = 0; it < 40; it++) {
		m = it ? (lo + hi) / 2 : 1;
		for (i = 0; i < p->n_queues; i++)
			t.q[i].rate = p->q[i].rate * m;
		if (vs_mq_predict(&t, &pr))
			return NAN;
		if (!it && !meets(&pr, dmax_ns))
			hi = 1;
		else if (!it)
			lo = 1;
		else if (meets(&pr, dmax_ns))
			lo = m;
		else
			hi = m;
	}
	return lo;
}
