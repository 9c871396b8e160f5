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

int vs_rr_predict(const struct vs_rr *rr, double budget_ns, struct vs_prediction *out)
{
	double w;
	bool blocks;

	if (!rr || !out || !(budget_ns >= 0) || !(rr->waits >= 1) || !(rr->idle_ns >= 0) ||
	    !(rr->wc >= 0) || !(rr->wp >= 0) || !(rr->sc >= 0) || !(rr->np >= 0))
		return -EINVAL;
	w = rr->idle_ns / rr->waits;
	blocks = w > budget_ns;
	memset(out, 0, sizeof(*out));
	out->mech = VS_MECH_HYBRID;
	out->regime = blocks ? VS_REGIME_NFC : VS_REGIME_BW;
	out->t_ns = rr->wc + rr->idle_ns + (blocks ? rr->waits * rr->sc : 0);
	out->e_ns = rr->wp + rr->wc + rr->waits * fmin(budget_ns, w) + (blocks ? rr->np : 0);
	/* One request at a time: its latency is the loop's period. */
	out->d_ns = out->t_ns;
	out->batch = blocks ? 1 : NAN;
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
	out->p_ns = hi;
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
