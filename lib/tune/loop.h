/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TUNE_LOOP_H
#define VS_TUNE_LOOP_H

#include <signal.h>
#include <stdbool.h>

#include <jansson.h>

#include "tune/profile.h"
#include "tune/apply.h"
#include "sources/wakeup.h"

/*
 * The closed loop of `virtsync tune --auto`: measure, propose a plan,
 * apply it through the journal, measure again, keep it when the objective
 * improved, else roll it back. The loop knows nothing about workloads: a
 * workload is a measure() and a propose(). The wake-up preset below is one;
 * diagnose plugs in another (measure = its sampling of the reference device
 * or a VM, propose = its recommended plan) without touching the loop.
 */

enum vs_goal { VS_GOAL_LATENCY, VS_GOAL_THROUGHPUT };

struct vs_objective {
	double latency_ns;	/* typical (median) latency, NaN if unknown */
	double p98_ns;		/* worst-case proxy, checked against dmax */
	double throughput;	/* items/s, NaN if not a throughput workload */
	double cpu_ns_per_item;
	/* context: share of the CPUs idle / stolen during the measurement
	 * (NaN when not measured) */
	double idle_frac, steal_frac;
};

/*
 * stop (may be NULL) is the caller's stop flag (a signal handler sets it).
 * measure() watches it inside its windows: once it is set, it ends the
 * window under way at once and returns -EINTR with *o (and *raw) holding
 * what it measured until then (NaN where nothing). propose() hands it on
 * to whatever long work it does (a diagnosis); the loop looks at the flag
 * again after it.
 */
struct vs_tune_workload {
	const char *name;
	enum vs_goal goal;
	/* *raw (optional): the measurement as JSON, kept for the report */
	int (*measure)(void *ctx, const volatile sig_atomic_t *stop,
		       struct vs_objective *o, json_t **raw);
	/* A plan (steps may be zero: nothing to do, say why) from the
	 * measurement before any change. */
	int (*propose)(void *ctx, const volatile sig_atomic_t *stop,
		       const struct vs_objective *before,
		       struct vs_profile **plan, char *why, size_t len);
};

struct vs_tune_loop_opts {
	double min_gain;	/* keep above this relative gain (0.1 = 10%) */
	double dmax_ns;		/* p98 bound of the check, <= 0: none */
	/* Non-zero ends the run early (see vs_tune_loop). May be NULL. */
	const volatile sig_atomic_t *stop;
};

struct vs_tune_outcome {
	struct vs_objective before, after;
	json_t *raw_before, *raw_after;
	struct vs_profile *plan;
	struct vs_change *changes;
	size_t nchanges;
	bool applied;		/* the plan was written */
	bool kept;		/* ... and kept (else rolled back) */
	/* The stop flag ended the run before its decision: the figures are
	 * what was measured until then (after: only when applied). */
	bool interrupted;
	double gain;		/* relative improvement of the objective */
	size_t journal_first;	/* first journal entry this run wrote */
	char why[256];		/* the decision in one sentence */
};

/* Does `after` improve on `before` by at least min_gain (0.1 = 10%) for
 * the goal, with p98 latency within dmax_ns (when > 0)? */
bool vs_objective_improved(enum vs_goal goal, const struct vs_objective *before,
			   const struct vs_objective *after, double min_gain,
			   double dmax_ns, double *gain, char *why, size_t len);

/*
 * One step: measure, propose, apply, measure again, decide. Returns 0 (the
 * outcome says what happened) or -errno with err filled.
 *
 * When *o->stop is set, the run ends where it is and goes through its
 * normal ending, with out->interrupted set:
 *  - before the plan is applied: nothing is changed; out->before holds the
 *    windows measured so far;
 *  - after it is applied but before the after-measurement completed: the
 *    change was never decided on (a cut window is no evidence either way),
 *    so it is rolled back through the journal as a change that did not pay;
 *    out->after holds the partial after-measurement.
 * A decision taken on a complete after-measurement stands, whenever the
 * flag is set afterwards: the run was not interrupted (kept stays kept,
 * on the normal rules). Nothing is ever left applied undecided.
 */
int vs_tune_loop(const struct vs_tune_workload *w, void *ctx,
		 const struct vs_tune_loop_opts *o, struct vs_tune_outcome *out,
		 char *err, size_t errlen);
void vs_tune_outcome_free(struct vs_tune_outcome *out);

/* --- the wake-up preset ---------------------------------------------- */

struct vs_wakeup_ctx {
	struct vs_wakeup_opts opts;
	unsigned int repeats;	/* batches; the objective is their median */
	double dmax_ns;		/* cap of the proposed poll window (> 0) */
};

/*
 * measure: eventfd ping-pong (lib/sources/wakeup.h). propose: inside a KVM guest
 * with the cpuidle-haltpoll driver, raise guest.halt_poll_ns to cover the
 * measured round trip (4x the median, within [grow_start, min(1 ms,
 * dmax)]); on a host whose cpuidle has deeper states than POLL, disable
 * those on the two CPUs of the ping-pong; else nothing to do.
 */
extern const struct vs_tune_workload vs_workload_wakeup;

/* The guest.halt_poll_ns the wake-up preset proposes for a measured median
 * round trip (exposed for the unit test). */
uint64_t vs_wakeup_poll_window(double median_ns, uint64_t grow_start,
			       double dmax_ns);

#endif
