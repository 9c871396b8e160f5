/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_CLASSIFY_H
#define VS_CLASSIFY_H

/*
 * From one measured sample, estimate the model's parameters and name the
 * regime (paper Sec. 7.1): the side that waits is the fast one, and how it
 * waits (woken by notifications, or sleeping) gives the mechanism; when both
 * sides wait the queue is too short (nSCS, nSPS, nSS) or the sleeps too long
 * (sLS). The inequalities of Tables 2 and 3 are then evaluated on the
 * estimates and reported as the evidence, lowering the confidence where they
 * disagree with what was observed.
 */

#include <stdbool.h>

#include "sources/hostcost.h"
#include "sources/measure.h"
#include "model/model.h"

enum vs_wait_kind {
	VS_WAIT_NONE,		/* never waits: busy polls or is the bottleneck */
	VS_WAIT_NOTIFY,		/* blocks and is woken by the peer */
	VS_WAIT_SLEEP,		/* sleeps for a fixed time */
};

enum vs_fast {
	VS_FAST_UNKNOWN,
	VS_FAST_PRODUCER,
	VS_FAST_CONSUMER,
};

struct vs_estimate {
	char name[16];		/* "T", "W", "b", "Np", ... */
	double value;		/* ns, or items for b; NaN when not estimated */
	char unit[8];		/* "ns", "items", "" */
	char from[112];		/* the measurement it came from */
};

struct vs_inequality {
	char expr[40];		/* "(L-kp)Wp-Wc > Sc" */
	double lhs, rhs;	/* NaN when an operand is unknown */
	bool known, holds;
};

#define VS_MAX_ESTIMATES 20

struct vs_verdict {
	bool known;		/* false: too little to go on (why in summary) */
	enum vs_regime regime;
	enum vs_mech mech;
	enum vs_fast fast;
	enum vs_wait_kind p_wait, c_wait;
	double confidence;	/* 0..1 */
	double kicks_per_item, irqs_per_item;
	double p_waits_per_item, c_waits_per_item;
	unsigned int n_ineq;
	struct vs_inequality ineq[3];
	unsigned int n_est;
	struct vs_estimate est[VS_MAX_ESTIMATES];
	/* The estimates as model parameters, for lib/recommend. */
	struct vs_params params;
	/* Np is the vCPU's measured kick exit, not the host eventfd write. */
	bool np_from_exits;
	char summary[320];
};

const char *vs_wait_name(enum vs_wait_kind w);	/* "none", "notify", "sleep" */
const char *vs_fast_name(enum vs_fast f);	/* "unknown", "producer", ... */

/* -EINVAL when s has no item rate and no thread; otherwise 0 with
 * v->known false when the sample cannot support a verdict. */
int vs_classify(const struct vs_sample *s, const struct vs_hostcosts *hc,
		struct vs_verdict *v);

/* Look an estimate up by name (NaN if absent). */
double vs_verdict_est(const struct vs_verdict *v, const char *name);

#endif
