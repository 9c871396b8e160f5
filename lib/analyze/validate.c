// SPDX-License-Identifier: GPL-2.0-only
/* Model-versus-device sweeps of paper Sec. 5 (Fig. 6, 7 and 8). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/validate.h"

/* Fig. 6/7: sleep lengths from 4us to 3ms; quick: one per decade-ish,
 * including two points past L Wp = 1024us, in the sLS regime. In sLS T is
 * a staircase in Y (Wp + k (Wp - Wc), k steps every L (Wp - Wc) = 512 us,
 * at Y = 1534 us, 2046 us, ... 3070 us: see lib/model/model.c). The quick sLS
 * points sit mid-step, 1.3 ms and 2.8 ms, over 200 us from either edge:
 * 1.5 ms and 3 ms were 34 us and 70 us below a step (the measured sleeps
 * run ~35 us long), within the sleeps' jitter, so a run mixed two levels
 * and its error measured the jitter, not the model. The full sweep keeps
 * 1.5 ms and 3 ms. */
static const double sleep_full[] = {
	4e3, 10e3, 20e3, 50e3, 100e3, 200e3, 400e3, 700e3, 1000e3, 1500e3,
	2000e3, 3000e3,
};
static const double sleep_quick[] = { 4e3, 50e3, 300e3, 1300e3, 2800e3 };
static const double notify_quick[] = { 500, 1500, 2200, 2600, 2900 };
/*
 * Poll then block (docs/hybrid.md), a fast consumer: Wp 50us, Wc 10us, so
 * the gap is g = 40us; with Sc below g nFC's batch is 1 and the next item is
 * delta = g - Sc away. The consumer's busy-loop budget crosses both steps:
 * below delta T = Wp + Np, between delta and g T = Wp + Np/2, from g on BW
 * (T = Wp; from Wp on C's first poll catches P's first item and it never
 * blocks at all). Sc runs 8-25us here, so delta is 15-32us and the step
 * between the two levels is wide only from 32us to 40us: the quick points
 * keep clear of 10-32us, where Sc's spread mixes the two levels in a run
 * (the full sweep has two points there).
 */
static const double hybrid_full[] = {
	0, 5e3, 10e3, 20e3, 30e3, 36e3, 38e3, 45e3, 60e3, 80e3, 120e3,
};
static const double hybrid_quick[] = { 0, 10e3, 37e3, 45e3, 80e3 };

int pcdev_config_set_param(struct pcdev_config *cfg, const char *name,
			   double v)
{
	if (!strcmp(name, "len"))
		cfg->len = (unsigned int)v;
	else if (!strcmp(name, "kp"))
		cfg->kp = (unsigned int)v;
	else if (!strcmp(name, "kc"))
		cfg->kc = (unsigned int)v;
	else if (!strcmp(name, "wp"))
		cfg->wp_ns = v;
	else if (!strcmp(name, "wc"))
		cfg->wc_ns = v;
	else if (!strcmp(name, "yp"))
		cfg->yp_ns = v;
	else if (!strcmp(name, "yc"))
		cfg->yc_ns = v;
	else if (!strcmp(name, "y") || !strcmp(name, "sleep"))
		cfg->yp_ns = cfg->yc_ns = v;
	else if (!strcmp(name, "busyloop") || !strcmp(name, "poll"))
		cfg->busyloop_ns = v;
	else
		return -EINVAL;
	return 0;
}

int pcdev_vsweep_custom(const char *param, const double *values,
			unsigned int n, const struct pcdev_config *base,
			struct pcdev_vsweep *sw)
{
	struct pcdev_config probe = *base;
	unsigned int i;

	memset(sw, 0, sizeof(*sw));
	if (pcdev_config_set_param(&probe, param, 0))
		return -EINVAL;
	sw->pt = calloc(n ? n : 1, sizeof(*sw->pt));
	if (!sw->pt)
		return -ENOMEM;
	snprintf(sw->name, sizeof(sw->name), "%s", "custom");
	snprintf(sw->x_name, sizeof(sw->x_name), "%s", param);
	sw->n = n;
	sw->repeats = 1;
	for (i = 0; i < n; i++) {
		sw->pt[i].x = values[i];
		sw->pt[i].cfg = *base;
		pcdev_config_set_param(&sw->pt[i].cfg, param, values[i]);
		sw->pt[i].t_err = sw->pt[i].batch_err = NAN;
	}
	sw->median_err = sw->worst_err = NAN;
	return 0;
}

int pcdev_vsweep_builtin(const char *name, bool quick,
			 const struct pcdev_config *base, struct pcdev_vsweep *sw)
{
	struct pcdev_config cfg = *base;
	double wp[28];
	unsigned int i;
	int err;

	cfg.len = 512;
	cfg.kp = 1;
	cfg.kc = 384;
	if (!strcmp(name, "sleep")) {
		cfg.p_mode = cfg.c_mode = PCDEV_SLEEP;
		cfg.wp_ns = 2000;
		cfg.wc_ns = 1000;
		err = quick ? pcdev_vsweep_custom("y", sleep_quick, 5, &cfg, sw) :
			      pcdev_vsweep_custom("y", sleep_full,
						  sizeof(sleep_full) / sizeof(double),
						  &cfg, sw);
	} else if (!strcmp(name, "notify")) {
		cfg.p_mode = cfg.c_mode = PCDEV_NOTIFY;
		cfg.wc_ns = 2000;
		for (i = 0; i < 28; i++)
			wp[i] = 200 + 100.0 * i;
		err = quick ? pcdev_vsweep_custom("wp", notify_quick, 5, &cfg, sw) :
			      pcdev_vsweep_custom("wp", wp, 28, &cfg, sw);
	} else if (!strcmp(name, "hybrid")) {
		cfg.len = 256;
		cfg.kc = 192;
		cfg.p_mode = PCDEV_NOTIFY;
		cfg.c_mode = PCDEV_BUSYLOOP;
		cfg.wp_ns = 50000;
		cfg.wc_ns = 10000;
		err = quick ? pcdev_vsweep_custom("busyloop", hybrid_quick, 5, &cfg, sw) :
			      pcdev_vsweep_custom("busyloop", hybrid_full,
						  sizeof(hybrid_full) / sizeof(double),
						  &cfg, sw);
	} else {
		return -ENOENT;
	}
	if (!err)
		snprintf(sw->name, sizeof(sw->name), "%s", name);
	return err;
}

double pcdev_vpoint_batch(const struct pcdev_vpoint *pt)
{
	const struct pcdev_results *r = &pt->res;

	/* Fig. 7 counts items per sleep of either side. */
	if (pt->cfg.c_mode == PCDEV_SLEEP)
		return r->sleep_batch;
	/* Poll then block: items per notification, as the model's batch (a
	 * poll that found items is a wake-up too, not a notification). */
	if (pcdev_model_mech(&pt->cfg, r) == VS_MECH_HYBRID) {
		uint64_t n = pt->model.regime == VS_REGIME_NFP ||
			     pt->model.regime == VS_REGIME_NSPS ?
			     r->interrupts : r->kicks;

		return n ? (double)r->items / n : NAN;
	}
	return r->batch;	/* per wake-up of the waiting side */
}

static double rel_err(double model, double measured)
{
	if (!isfinite(model) || !isfinite(measured) || measured <= 0)
		return NAN;
	return fabs(model - measured) / measured;
}

enum vs_mech pcdev_model_mech(const struct pcdev_config *cfg,
			      const struct pcdev_results *res)
{
	enum pcdev_mode m = cfg->c_mode;
	uint64_t p_waits = res->sleeps_p + res->blocks_p;
	uint64_t c_waits = res->sleeps_c + res->blocks_c;
	bool p_blocks = cfg->p_mode == PCDEV_NOTIFY || cfg->p_mode == PCDEV_BUSYLOOP;
	bool c_blocks = cfg->c_mode == PCDEV_NOTIFY || cfg->c_mode == PCDEV_BUSYLOOP;

	/* Busy-loop then block on one side, notify or the same on the other:
	 * the hybrid mechanism, the notifying side's budget 0. */
	if (p_blocks && c_blocks &&
	    (cfg->p_mode == PCDEV_BUSYLOOP || cfg->c_mode == PCDEV_BUSYLOOP))
		return VS_MECH_HYBRID;
	if (cfg->p_mode != cfg->c_mode && p_waits > c_waits)
		m = cfg->p_mode;
	switch (m) {
	case PCDEV_SLEEP:
		return VS_MECH_SLEEP;
	case PCDEV_POLL:
		return VS_MECH_BUSY;
	default:
		return VS_MECH_NOTIFY;
	}
}

static double measured_or(double measured, double nominal)
{
	return isfinite(measured) ? measured : nominal;
}

void pcdev_model_params(const struct pcdev_config *cfg,
			const struct pcdev_results *res, struct vs_params *p)
{
	const struct pcdev_measured *m = &res->measured;

	memset(p, 0, sizeof(*p));
	p->len = cfg->len;
	p->kp = cfg->kp;
	p->kc = cfg->kc;
	p->wp = measured_or(m->wp, cfg->wp_ns);
	p->wc = measured_or(m->wc, cfg->wc_ns);
	/* A cost never paid in this run does not enter its regime: 0. */
	p->np = measured_or(m->np, 0);
	p->nc = measured_or(m->nc, 0);
	p->sp = measured_or(m->sp, 0);
	p->sc = measured_or(m->sc, 0);
	p->yp = measured_or(m->yp, cfg->yp_ns);
	p->yc = measured_or(m->yc, cfg->yc_ns);
	p->yz = measured_or(m->yz, 0);
	/* The busy-loop budget is the device's own setting, not measured. */
	p->pp = cfg->p_mode == PCDEV_BUSYLOOP ? cfg->busyloop_ns : 0;
	p->pc = cfg->c_mode == PCDEV_BUSYLOOP ? cfg->busyloop_ns : 0;
}

void pcdev_model_predict(const struct pcdev_config *cfg,
			 const struct pcdev_results *res, struct vs_prediction *pred)
{
	struct vs_params p;

	pred->mech = pcdev_model_mech(cfg, res);
	pred->regime = VS_REGIME_COUNT;
	pred->t_ns = pred->t_lo_ns = pred->t_hi_ns = NAN;
	pred->e_ns = pred->e_lo_ns = pred->e_hi_ns = NAN;
	pred->d_ns = pred->batch = NAN;
	pcdev_model_params(cfg, res, &p);
	if (vs_params_validate(&p, NULL) || vs_model_predict(&p, pred->mech, pred))
		pred->regime = VS_REGIME_COUNT;
}

/*
 * Sec. 5.1 validates the sleep regimes with Yp = Yc, where the model is
 * exact also in sLS (elsewhere it only bounds T there). When both sides
 * sleep for the same nominal Y, the measured lengths differ by the noise
 * of the sleep primitive (about 1 %): predict with their sleep-weighted
 * mean for both, as the paper's simplification has it.
 */
static void model_equal_sleeps(struct pcdev_vpoint *pt)
{
	const struct pcdev_config *c = &pt->cfg;
	struct pcdev_results *r = &pt->res;
	struct vs_prediction pred;
	struct vs_params p;
	double y;

	if (c->p_mode != PCDEV_SLEEP || c->c_mode != PCDEV_SLEEP ||
	    c->yp_ns != c->yc_ns || !r->sleeps_p || !r->sleeps_c ||
	    isnan(r->measured.yp) || isnan(r->measured.yc))
		return;
	y = (r->measured.yp * r->sleeps_p + r->measured.yc * r->sleeps_c) /
	    (double)(r->sleeps_p + r->sleeps_c);
	pcdev_model_params(c, r, &p);
	p.yp = p.yc = y;
	if (!vs_model_predict(&p, VS_MECH_SLEEP, &pred))
		pt->model = pred;
}

int pcdev_vsweep_run_point(struct pcdev_vsweep *sw, unsigned int i)
{
	struct pcdev_vpoint *pt = &sw->pt[i];
	struct pcdev_results *r = malloc(sizeof(*r));
	unsigned int k, n = sw->repeats ? sw->repeats : 1;
	bool have = false;
	int err = 0;

	if (!r)
		return -ENOMEM;
	for (k = 0; k < n; k++) {
		err = pcdev_run(&pt->cfg, r);
		if (err)
			break;
		if (r->items && (!have || r->t_ns < pt->res.t_ns)) {
			pt->res = *r;
			have = true;
		}
		if (pt->cfg.stop && *pt->cfg.stop)
			break;
	}
	free(r);
	if (err)
		return err;
	if (have) {
		pcdev_model_predict(&pt->cfg, &pt->res, &pt->model);
		model_equal_sleeps(pt);
	}
	if (!have)	/* no run moved an item: report the last one as is */
		memset(&pt->model, 0, sizeof(pt->model));
	pt->t_err = have ? rel_err(pt->model.t_ns, pt->res.t_ns) : NAN;
	pt->batch_err = have ? rel_err(pt->model.batch,
				       pcdev_vpoint_batch(pt)) : NAN;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void pcdev_vsweep_summarize(struct pcdev_vsweep *sw, unsigned int n_done)
{
	double *v = calloc(n_done ? n_done : 1, sizeof(double));
	unsigned int i, k = 0;

	sw->median_err = sw->worst_err = NAN;
	sw->worst = 0;
	if (!v)
		return;
	for (i = 0; i < n_done && i < sw->n; i++) {
		if (isnan(sw->pt[i].t_err))
			continue;
		v[k++] = sw->pt[i].t_err;
		if (isnan(sw->worst_err) || sw->pt[i].t_err > sw->worst_err) {
			sw->worst_err = sw->pt[i].t_err;
			sw->worst = i;
		}
	}
	if (k) {
		qsort(v, k, sizeof(double), cmp_double);
		sw->median_err = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
	}
	free(v);
}

void pcdev_vsweep_free(struct pcdev_vsweep *sw)
{
	free(sw->pt);
	sw->pt = NULL;
	sw->n = 0;
}
