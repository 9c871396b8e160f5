/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_VALIDATE_H
#define VS_PCDEV_VALIDATE_H

/*
 * Model validation on the reference device (paper Sec. 5): run a sweep of
 * configurations, feed lib/model each run's measured parameters, and
 * compare the predicted T (and batch) with the measured ones.
 */

#include <stdbool.h>

#include "model/model.h"
#include "pcdev/pcdev.h"

/*
 * Which single mechanism of lib/model describes a run: hybrid when one side
 * busy-loops before blocking and the other blocks too (the notifying side's
 * poll budget 0); else both sides' modes when equal, else the mode of the
 * side that waited.
 */
enum vs_mech pcdev_model_mech(const struct pcdev_config *cfg,
			      const struct pcdev_results *res);

/* Model parameters from a run's measurements (nominal values where a
 * parameter was not observed). */
void pcdev_model_params(const struct pcdev_config *cfg,
			const struct pcdev_results *res, struct vs_params *p);

/*
 * lib/model's prediction for a run, on its measured parameters with the
 * mechanism above; regime VS_REGIME_COUNT (and NaN figures) when the
 * parameters do not make a valid system.
 */
void pcdev_model_predict(const struct pcdev_config *cfg,
			 const struct pcdev_results *res, struct vs_prediction *pred);

struct pcdev_vpoint {
	double x;			/* the swept value */
	struct pcdev_config cfg;
	struct pcdev_results res;
	struct vs_prediction model;	/* lib/model on res's measured parameters */
	double t_err;		/* |model T - measured T| / measured T */
	double batch_err;	/* same for the batch (NaN where undefined) */
};

struct pcdev_vsweep {
	char name[32];		/* "sleep" (Fig. 6/7), "notify" (Fig. 8), ... */
	char x_name[16];	/* swept parameter: "y", "wp", ... */
	unsigned int n;
	struct pcdev_vpoint *pt;
	unsigned int repeats;	/* runs per point; the fastest counts (>= 1) */
	double median_err;	/* median of t_err over the points run */
	double worst_err;
	unsigned int worst;	/* index of the worst point */
};

/*
 * Built-in sweeps over `base` (mode, L, kp, kc, W are overwritten; pinning,
 * timer slack and duration are kept):
 *   "sleep":  Fig. 6/7, both sides sleep, Wp 2us, Wc 1us, L 512, Y from
 *             4us to 3ms (quick: 5 points);
 *   "notify": Fig. 8, both sides notify, Wc 2us, L 512, kp 1, kc 384, Wp
 *             from 200ns to 2.9us in 100ns steps (quick: 5 points);
 *   "hybrid": poll then block (docs/hybrid.md), P notifies, C busy-loops
 *             up to the swept budget (0 to 120us, quick: 5 points) and
 *             blocks, Wp 50us, Wc 10us, L 256, kp 1, kc 192.
 * -ENOENT for an unknown name, -ENOMEM.
 */
int pcdev_vsweep_builtin(const char *name, bool quick,
			 const struct pcdev_config *base, struct pcdev_vsweep *sw);

/*
 * A custom sweep of one device parameter (len, kp, kc, wp, wc, yp, yc, y,
 * busyloop or its alias poll)
 * over `base`: n points from values[]. -EINVAL for a parameter the device
 * cannot set (the machine's own costs np, nc, sp, sc, yz).
 */
int pcdev_vsweep_custom(const char *param, const double *values,
			unsigned int n, const struct pcdev_config *base,
			struct pcdev_vsweep *sw);

/* Set one named device parameter on cfg; -EINVAL if not settable. */
int pcdev_config_set_param(struct pcdev_config *cfg, const char *name,
			   double value);

/*
 * Run point i sw->repeats times (pcdev_run) and keep the run with the
 * lowest measured T: on a shared machine other work (even the scheduler's
 * 5 % reserve for ordinary tasks against real-time ones) now and then
 * stalls a side for milliseconds, which only ever slows a run down and
 * which no constant-parameter model describes. Then compute its errors.
 * -errno from a run.
 */
int pcdev_vsweep_run_point(struct pcdev_vsweep *sw, unsigned int i);

/* The measured batch comparable with the model's for this point. */
double pcdev_vpoint_batch(const struct pcdev_vpoint *pt);

/* Median and worst T error over the first `n_done` points. */
void pcdev_vsweep_summarize(struct pcdev_vsweep *sw, unsigned int n_done);

void pcdev_vsweep_free(struct pcdev_vsweep *sw);

#endif
