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

	if (!p || !o || !out || !isfinite(o->p_max_ns) || o->p_max_ns < 0 ||
	    !(o->t_slack >= 0))
		return -EINVAL;
	err = vs_params_validate(p, NULL);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	dmax = isnan(o->dmax_ns) ? INFINITY : o->dmax_ns;
	out->t_best_ns = INFINITY;
	for (i = 0; i < GRID_POINTS; i++) {
		err = vs_pick_predict_at(p, o->side, grid_at(o->p_max_ns, i), &grid[i]);
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

			vs_pick_predict_at(p, o->side, mid, &pr);
			if (pr.t_ns <= target && within_dmax(&pr, dmax)) {
				hi = mid;
				out->at_pick = pr;
			} else {
				lo = mid;
			}
		}
		hi = ceil(hi);
		vs_pick_predict_at(p, o->side, hi, &out->at_pick);
	}
	out->p_ns = hi;
	out->at_zero = grid[0];
	out->at_max = grid[GRID_POINTS - 1];
	if (isfinite(o->current_ns) && o->current_ns >= 0 &&
	    !vs_pick_predict_at(p, o->side, o->current_ns, &out->at_current)) {
		out->have_current = true;
		out->current_right = out->at_current.t_ns <= target &&
				     within_dmax(&out->at_current, dmax) &&
				     out->at_current.e_ns <=
				     out->at_pick.e_ns * (1 + fmax(o->e_slack, 0));
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
