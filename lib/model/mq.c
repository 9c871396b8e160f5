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

#define AHEAD_MAX 256

/*
 * What an item of one queue can find when its burst arrives (PASTA): the
 * poller busy, blocked, waking up or polling idle, with the figures the
 * tail below needs. The wake-up U is wake_min + Exp(mu).
 */
struct arrival {
	double wc;		/* work per item */
	unsigned int b;		/* items per burst */
	double rho, m;		/* busy; work ahead then, mean */
	double pb;		/* blocked: waits U ... */
	double a_ahead;		/* ... and the bursts, per ns, that arrive
				 * meanwhile at queues visited before it */
	double s_ahead;		/* ... of this mean work each */
	double pw;		/* waking: waits the rest of U ... */
	double trig_ahead;	/* ... after the kicking burst, when that is
				 * ahead in the visit order (this share) */
	double s_trig;		/* ... of this mean work */
	double pidle;		/* polling idle: found within a round */
	double round_ns;
	double wmin, mu;
	unsigned int n_ahead;	/* P(N >= n) of those bursts, n < n_ahead */
	double beyond[AHEAD_MAX + 1];
};

/* P(U > r) */
static double wake_tail(double r, double wmin, double mu)
{
	if (r < wmin)
		return 1;
	return mu > 0 ? exp(-(r - wmin) / mu) : 0;
}

/*
 * P(N = last, U > L), N ~ Poisson(A U), at one L >= wmin (mu > 0), and
 * with each non-NULL every P(N = n, U > L) for n = 0..last in it. With
 * beta = 1/mu + A and h = e^(-(L - wmin)/mu - A L) / mu, integrating by
 * parts gives I_0 = h / beta and
 *   I_n = (A / beta) I_(n-1) + (h / beta) (A L)^n / n!.
 */
static double wake_joint(unsigned int last, double l, double wmin, double mu, double a,
			 double *each)
{
	double beta = 1 / mu + a, h = exp(-(l - wmin) / mu - a * l) / mu;
	double pw = h / beta, in = pw;	/* (h / beta) (A L)^n / n!, and I_n */
	unsigned int n;

	if (each)
		each[0] = in;
	for (n = 1; n <= last; n++) {
		pw *= a * l / n;
		in = a / beta * in + pw;
		if (each)
			each[n] = in;
	}
	return in;
}

/*
 * P(N >= n) for n = 0..AHEAD_MAX, N ~ Poisson(A U) the bursts that
 * reach the queues visited first during a wake-up U; P(N = n) is I_n at
 * L = wmin (U never ends sooner). Returns how many n carry mass.
 */
static unsigned int ahead_mass(double wmin, double mu, double a, double *beyond)
{
	double pn[AHEAD_MAX], mass = 0;
	unsigned int n, last;

	if (!(mu > 0)) {	/* a fixed wake-up: N is Poisson(A wmin) */
		pn[0] = exp(-a * wmin);
		for (n = 1; n < AHEAD_MAX; n++)
			pn[n] = pn[n - 1] * a * wmin / n;
	} else {
		wake_joint(AHEAD_MAX - 1, wmin, wmin, mu, a, pn);
	}
	for (last = 0; last < AHEAD_MAX && mass < 1 - 1e-9; last++)
		mass += pn[last];
	beyond[last] = 0;
	for (n = last; n-- > 0;)
		beyond[n] = beyond[n + 1] + pn[n];
	return last;
}

/*
 * P(U + N S > r): a wake-up, and N bursts of work S each served before
 * this queue's. Given N = n, U must exceed L_n = max(wmin, r - n S): for
 * the n where that is wmin the whole P(N = n) counts (ahead_mass).
 */
static double wake_ahead_tail(double r, const struct arrival *q)
{
	double sum;
	unsigned int n, n0;

	if (!(q->a_ahead > 0) || !(q->s_ahead > 0))
		return wake_tail(r, q->wmin, q->mu);
	n0 = r > q->wmin ? (unsigned int)fmin(ceil((r - q->wmin) / q->s_ahead), q->n_ahead) : 0;
	sum = q->beyond[n0];
	/* a fixed wake-up never exceeds L_n > wmin */
	for (n = 0; q->mu > 0 && n < n0; n++)
		sum += wake_joint(n, r - n * q->s_ahead, q->wmin, q->mu, q->a_ahead, NULL);
	return sum < 1 ? sum : 1;
}

/* P(R > r), R the rest of a wake-up already under way (U's equilibrium
 * residual: P(R > r) = integral of P(U > t) from r, over E[U]). */
static double wake_rest_tail(double r, double wmin, double mu)
{
	double w = wmin + mu;

	if (!(w > 0))
		return 0;
	if (r < wmin)
		return (wmin - fmax(r, 0) + mu) / w;
	return mu > 0 ? mu * exp(-(r - wmin) / mu) / w : 0;
}

/* P(latency > x) of an item of the queue (see mq.h). */
static double tail(double x, const struct arrival *q)
{
	double sum = 0, r, own;
	unsigned int j;

	for (j = 1; j <= q->b; j++) {
		own = j * q->wc;
		r = x - own;
		sum += q->rho * (r <= 0 ? 1 : q->m > 0 ? exp(-r / q->m) : 0);
		sum += q->pb * wake_ahead_tail(r, q);
		sum += q->pw * (q->trig_ahead * wake_rest_tail(r - q->s_trig, q->wmin, q->mu) +
				(1 - q->trig_ahead) * wake_rest_tail(r, q->wmin, q->mu));
		sum += q->pidle * (x < own + q->round_ns ? 1 : 0);
	}
	return sum / q->b;
}

static double quantile(double p, const struct arrival *q)
{
	double lo = 0, hi = 1e3, mid;
	unsigned int it;

	while (tail(hi, q) > 1 - p && hi < 1e13)
		hi *= 2;
	for (it = 0; it < 100; it++) {
		mid = (lo + hi) / 2;
		if (tail(mid, q) > 1 - p)
			lo = mid;
		else
			hi = mid;
		if (hi - lo < 1e-4 * hi)
			break;
	}
	return hi;
}

static void predict_poller(const struct vs_mq_params *p, const unsigned int *qs,
			   unsigned int n, struct vs_mq_pred *out,
			   struct vs_mq_poller_pred *pp)
{
	const double k = visit_cap(p);
	double c = cycle_ns(p, qs, n), rho = 0, util = 0, a = 0, es = 0, es2 = 0;
	double m, pb, pw, pidle, ev, e, norm, wmin, mu, rest;
	double a_before = 0, w_before = 0;	/* queues visited earlier */
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
	wmin = p->wake_min_ns < p->wake_ns ? p->wake_min_ns : p->wake_ns;
	mu = p->wake_ns - wmin;
	/*
	 * Time shares of a cycle: a busy period, an idle period (Poisson
	 * bursts: exponential, mean 1/A), and when that outlasts the idle
	 * budget I, blocked until the kick and then the wake-up U. Per cycle
	 * the poller polls (1 - e^-AI)/A, is blocked e^-AI/A and wakes
	 * e^-AI E[U], which share the 1 - rho the work leaves.
	 */
	if (pp->saturated) {
		pb = pw = 0;
		pp->blocks_per_s = 0;
	} else {
		e = exp(-a * p->idle_ns / 1e9);
		norm = 1 + a / 1e9 * e * p->wake_ns;
		pb = (1 - rho) * e / norm;
		pw = (1 - rho) * a / 1e9 * e * p->wake_ns / norm;
		pp->blocks_per_s = a * pb;
	}
	pidle = fmax(0, 1 - rho - pb - pw);
	pp->blocked = pb + pw;
	pp->cpu = 1 - pb - pw + pp->blocks_per_s * p->wake_cpu_ns / 1e9;
	if (pp->cpu > 1)
		pp->cpu = 1;
	/* Pollaczek-Khinchine: mean work found, in ns; given busy: / rho. */
	ev = rho < 1 ? (es2 / 1e9) / (2 * (1 - rho)) : INFINITY;
	m = rho > 0 ? ev / rho : 0;
	/* E[R] = E[U^2] / 2 E[U] */
	rest = p->wake_ns > 0 ? (wmin * wmin + 2 * wmin * mu + 2 * mu * mu) / (2 * p->wake_ns) : 0;
	for (i = 0; i < n; i++) {
		const struct vs_mq_queue *q = &p->q[qs[i]];
		struct vs_mq_queue_pred *qp = &out->q[qs[i]];
		unsigned int b = (unsigned int)lround(q->burst);
		double ab = q->rate / q->burst, a_upto = a_before + ab;
		struct arrival ar = {
			.wc = q->wc_ns, .b = b ? b : 1, .rho = rho, .m = m,
			.pb = pb, .a_ahead = a_before / 1e9,
			.s_ahead = a_before > 0 ? w_before / a_before : 0,
			.pw = pw, .trig_ahead = a > 0 ? a_upto / a : 0,
			.s_trig = (w_before + q->rate * q->wc_ns) / a_upto,
			.pidle = pidle, .round_ns = n * p->visit_ns,
			.wmin = wmin, .mu = mu,
		};

		/* After a wake-up the poller starts its round at its first
		 * queue again (as the device's does), so what reached the
		 * queues before this one while it woke is served first. */
		a_before = a_upto;
		w_before += q->rate * q->wc_ns;
		qp->kicks_per_s = pp->blocks_per_s * ab / (a > 0 ? a : 1);
		if (qp->saturated || pp->saturated) {
			/* A full ring drains at the queue's share. */
			struct arrival full_ar = { .wc = q->wc_ns, .b = ar.b, .rho = 1, .m = c };
			double full = qp->saturated ? p->len / qp->t_ops * 1e9 :
				quantile(0.5, &full_ar);

			qp->mean_ns = qp->p50_ns = full;
			qp->p98_ns = qp->saturated ? full : quantile(0.98, &full_ar);
			continue;
		}
		if (ar.a_ahead > 0)
			ar.n_ahead = ahead_mass(wmin, mu, ar.a_ahead, ar.beyond);
		qp->mean_ns = (ar.b + 1) / 2.0 * q->wc_ns + rho * m +
			pb * p->wake_ns * (1 + ar.a_ahead * ar.s_ahead) +
			pw * (rest + ar.trig_ahead * ar.s_trig) + pidle * ar.round_ns / 2;
		qp->p50_ns = quantile(0.50, &ar);
		qp->p98_ns = quantile(0.98, &ar);
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
