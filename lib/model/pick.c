// SPDX-License-Identifier: GPL-2.0-only
/* The smallest poll budget that reaches the objective (pick.h). */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "model/pick.h"

/* A geometric grid from GRID_FIRST_NS to p_max finds every step wider
 * than its spacing (~2.5 %); bisection then finds the step's foot. */
#define GRID_POINTS 400
#define GRID_FIRST_NS 50.0
#define BISECT_NS 1.0

int vs_pick_predict_at(const struct vs_params *p, enum vs_pick_side side,
		       double budget_ns, struct vs_prediction *out)
{
	struct vs_params q;

	if (!p || !out)
		return -EINVAL;
	q = *p;
	if (side == VS_PICK_CONSUMER)
		q.pc = budget_ns;
	else
		q.pp = budget_ns;
	return vs_model_predict(&q, VS_MECH_HYBRID, out);
}

/* QEMU's first window after 0 (util/aio-posix.c: "start polling at 4
 * microseconds"), doubled from there (poll-grow 0 means 2). */
#define QEMU_POLL_START_NS 4000.0
/* Window states: 0, 4 us, 8 us, ... up to the budget; 2^40 ns is past
 * any budget a knob takes. */
#define RR_MAX_STATES 48

static double slot_lo(int s)
{
	return s ? ldexp(1, s - 1) : 0;
}

static double slot_hi(int s)
{
	return s ? ldexp(1, s) : 0;
}

/* The share of a slot's waits no longer than x, lengths spread evenly. */
static double slot_below(int s, double x)
{
	double lo = slot_lo(s), hi = slot_hi(s);

	if (x >= hi)
		return 1;
	if (x <= lo)
		return 0;
	return (x - lo) / (hi - lo);
}

static double rr_total(const struct vs_rr *rr)
{
	double n = 0;
	int s;

	for (s = 0; s < VS_RR_SLOTS; s++)
		n += rr->wait_slot[s];
	return n;
}

/* P(w <= x) and E[w; w <= x] over the histogram of total n. */
static void rr_below(const struct vs_rr *rr, double n, double x, double *cdf, double *pmean)
{
	double c = 0, m = 0;
	int s;

	for (s = 0; s < VS_RR_SLOTS; s++) {
		double f = slot_below(s, x);

		if (!rr->wait_slot[s] || !f)
			continue;
		c += rr->wait_slot[s] * f;
		/* the covered part of the slot is [lo, lo + f (hi - lo)] */
		m += rr->wait_slot[s] * f * (slot_lo(s) + f * (slot_hi(s) - slot_lo(s)) / 2);
	}
	*cdf = c / n;
	*pmean = m / n;
}

static bool rr_valid(const struct vs_rr *rr)
{
	int s;

	if (!rr || !(rr->waits >= 1) || !(rr->idle_ns >= 0) || !(rr->wc >= 0) ||
	    !(rr->wp >= 0) || !(rr->sc >= 0) || !(rr->np >= 0) || !isfinite(rr->sc))
		return false;
	for (s = 0; s < VS_RR_SLOTS; s++)
		if (!(rr->wait_slot[s] >= 0) || !isfinite(rr->wait_slot[s]))
			return false;
	return true;
}

/*
 * The steady state of QEMU's window under i.i.d. waits from the
 * histogram. From window s_k a wait w is covered (stays) with h_k =
 * P(w <= s_k); it blocks and ends within the budget (w + Sc <= P: the
 * window grows to s_k+1) with g_k; else the window drops to 0. The only
 * way into s_k is growing from s_k-1, so the balance of s_k is
 * pi_k (1 - h_k) = pi_k-1 g_k-1, and a state that covers every wait
 * keeps the window once it gets there.
 */
static void rr_chain(const struct vs_rr *rr, double budget, double *blocked, double *poll)
{
	double s[RR_MAX_STATES], h[RR_MAX_STATES], m[RR_MAX_STATES], pi[RR_MAX_STATES];
	double n = rr_total(rr), grow_cdf, grow_m, sum = 0;
	int k, K = 0;

	s[0] = 0;
	while (K + 1 < RR_MAX_STATES && s[K] < budget) {
		s[K + 1] = s[K] ? fmin(2 * s[K], budget) : fmin(QEMU_POLL_START_NS, budget);
		K++;
	}
	rr_below(rr, n, budget - rr->sc, &grow_cdf, &grow_m);
	for (k = 0; k <= K; k++)
		rr_below(rr, n, s[k], &h[k], &m[k]);
	pi[0] = 1;
	for (k = 1; k <= K; k++) {
		double in = pi[k - 1] * fmax(grow_cdf - h[k - 1], 0);

		if (1 - h[k] <= 1e-12 && in > 0) {
			/* absorbing: every wait is covered from here on */
			memset(pi, 0, sizeof(pi));
			pi[k] = 1;
			K = k;
			break;
		}
		pi[k] = 1 - h[k] > 1e-12 ? in / (1 - h[k]) : 0;
	}
	for (k = 0; k <= K; k++)
		sum += pi[k];
	*blocked = *poll = 0;
	for (k = 0; k <= K; k++) {
		*blocked += pi[k] / sum * (1 - h[k]);
		*poll += pi[k] / sum * (m[k] + s[k] * (1 - h[k]));
	}
}

int vs_rr_cover(const struct vs_rr *rr, double budget_ns, double *blocked, double *poll_ns)
{
	double w;

	if (!rr_valid(rr) || !blocked || !poll_ns || !(budget_ns >= 0))
		return -EINVAL;
	if (rr_total(rr) > 0) {
		if (budget_ns == 0) {
			/* poll-max-ns 0 turns polling off */
			*blocked = 1;
			*poll_ns = 0;
		} else {
			rr_chain(rr, fmin(budget_ns, ldexp(1, 40)), blocked, poll_ns);
		}
		return 0;
	}
	w = rr->idle_ns / rr->waits;
	*blocked = w > budget_ns ? 1 : 0;
	*poll_ns = fmin(budget_ns, w);
	return 0;
}

double vs_rr_wait_quantile(const struct vs_rr *rr, double q)
{
	double n, seen = 0;
	int s;

	if (!rr_valid(rr) || !(q >= 0 && q <= 1) || !((n = rr_total(rr)) > 0))
		return NAN;
	for (s = 0; s < VS_RR_SLOTS; s++) {
		if (!rr->wait_slot[s] || seen + rr->wait_slot[s] < q * n) {
			seen += rr->wait_slot[s];
			continue;
		}
		return slot_lo(s) + (slot_hi(s) - slot_lo(s)) * (q * n - seen) / rr->wait_slot[s];
	}
	return slot_hi(VS_RR_SLOTS - 1);
}

int vs_rr_predict(const struct vs_rr *rr, double budget_ns, struct vs_prediction *out)
{
	double blocked, poll;
	int err;

	if (!out)
		return -EINVAL;
	err = vs_rr_cover(rr, budget_ns, &blocked, &poll);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	out->mech = VS_MECH_HYBRID;
	out->regime = blocked >= 0.5 ? VS_REGIME_NFC : VS_REGIME_BW;
	out->t_ns = rr->wc + rr->idle_ns + rr->waits * blocked * rr->sc;
	out->e_ns = rr->wp + rr->wc + rr->waits * poll + rr->np * fmin(1, rr->waits * blocked);
	/* One request at a time: its latency is the loop's period. */
	out->d_ns = out->t_ns;
	out->batch = blocked > 0 ? 1 / fmin(1, rr->waits * blocked) : NAN;
	out->t_lo_ns = out->t_hi_ns = out->e_lo_ns = out->e_hi_ns = NAN;
	return 0;
}

static int predict_for(const struct vs_params *p, const struct vs_pick_opts *o,
		       double budget_ns, struct vs_prediction *out)
{
	if (o->rr)
		return vs_rr_predict(o->rr, budget_ns, out);
	return vs_pick_predict_at(p, o->side, budget_ns, out);
}

static bool within_dmax(const struct vs_prediction *pr, double dmax)
{
	return !(pr->d_ns > dmax);	/* NaN D (undefined) does not exclude */
}

static double grid_at(double p_max, int i)
{
	if (i == 0)
		return 0;
	if (i == GRID_POINTS - 1 || p_max <= GRID_FIRST_NS)
		return p_max;
	return GRID_FIRST_NS * pow(p_max / GRID_FIRST_NS,
				   (double)(i - 1) / (GRID_POINTS - 2));
}

int vs_pick_poll(const struct vs_params *p, const struct vs_pick_opts *o,
		 struct vs_pick *out)
{
	struct vs_prediction pr, grid[GRID_POINTS];
	double target, lo, hi, dmax;
	int i, first = -1, err, m;

	if ((!p && (!o || !o->rr)) || !o || !out || !isfinite(o->p_max_ns) || o->p_max_ns < 0 ||
	    !(o->t_slack >= 0))
		return -EINVAL;
	err = o->rr ? 0 : vs_params_validate(p, NULL);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	dmax = isnan(o->dmax_ns) ? INFINITY : o->dmax_ns;
	out->t_best_ns = INFINITY;
	for (i = 0; i < GRID_POINTS; i++) {
		err = predict_for(p, o, grid_at(o->p_max_ns, i), &grid[i]);
		if (err)
			return err;
		if (within_dmax(&grid[i], dmax) && grid[i].t_ns < out->t_best_ns) {
			out->t_best_ns = grid[i].t_ns;
			out->meets_dmax = true;
		}
	}
	if (!out->meets_dmax) {
		/* No budget keeps D within Dmax: the best T regardless. */
		dmax = INFINITY;
		for (i = 0; i < GRID_POINTS; i++)
			out->t_best_ns = fmin(out->t_best_ns, grid[i].t_ns);
	}
	target = out->t_best_ns * (1 + o->t_slack);
	for (i = 0; i < GRID_POINTS && first < 0; i++)
		if (grid[i].t_ns <= target && within_dmax(&grid[i], dmax))
			first = i;
	if (first < 0)
		return -EINVAL;	/* T is NaN everywhere: not predictable */
	hi = grid_at(o->p_max_ns, first);
	out->at_pick = grid[first];
	if (first > 0) {
		lo = grid_at(o->p_max_ns, first - 1);
		while (hi - lo > BISECT_NS) {
			double mid = (lo + hi) / 2;

			predict_for(p, o, mid, &pr);
			if (pr.t_ns <= target && within_dmax(&pr, dmax)) {
				hi = mid;
				out->at_pick = pr;
			} else {
				lo = mid;
			}
		}
		hi = ceil(hi);
		predict_for(p, o, hi, &out->at_pick);
	}
	out->p_ns = out->foot_ns = hi;
	if (o->widen) {
		double e_cap = out->at_pick.e_ns * (1 + fmax(o->e_slack, 0));

		for (i = GRID_POINTS - 1; i > first && grid_at(o->p_max_ns, i) > hi; i--)
			if (grid[i].t_ns <= target && within_dmax(&grid[i], dmax) &&
			    grid[i].e_ns <= e_cap) {
				out->p_ns = grid_at(o->p_max_ns, i);
				out->at_pick = grid[i];
				break;
			}
	}
	out->at_zero = grid[0];
	out->at_max = grid[GRID_POINTS - 1];
	if (isfinite(o->current_ns) && o->current_ns >= 0 &&
	    !predict_for(p, o, o->current_ns, &out->at_current)) {
		out->have_current = true;
		out->current_right = out->at_current.t_ns <= target &&
				     within_dmax(&out->at_current, dmax) &&
				     out->at_current.e_ns <=
				     out->at_pick.e_ns * (1 + fmax(o->e_slack, 0));
	}
	if (o->rr) {
		/* The loop's own limits; it has no sleeping form. */
		out->strategy[VS_MECH_NOTIFY] = out->at_zero;
		vs_rr_predict(o->rr, INFINITY, &out->strategy[VS_MECH_BUSY]);
		out->strategy_valid[VS_MECH_NOTIFY] = out->strategy_valid[VS_MECH_BUSY] = true;
		return 0;
	}
	for (m = 0; m < VS_MECH_COUNT; m++) {
		if (m == VS_MECH_HYBRID)
			continue;
		out->strategy_valid[m] =
			!vs_model_predict(p, (enum vs_mech)m, &out->strategy[m]) &&
			isfinite(out->strategy[m].t_ns) &&
			isfinite(out->strategy[m].e_ns);
	}
	return 0;
}
