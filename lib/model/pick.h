/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PICK_H
#define VS_PICK_H

/*
 * Picking a poll budget from the hybrid model (docs/hybrid.md, "Picking
 * P"): T falls in steps as the budget P of one side grows (each step is a
 * wait the poll now covers) and, within a step, more polling only costs
 * CPU. So the pick is the smallest P in [0, p_max] whose T is within
 * t_slack of the best T any budget up to p_max gives, with D <= Dmax: the
 * foot of the step that reaches the objective. The same parameters are
 * predicted under the Sec. 7 strategies (busy, sleep, notify) so that the
 * caller can set the pick's CPU per item against them.
 *
 *	struct vs_pick_opts o = { .side = VS_PICK_CONSUMER, .p_max_ns = 512e3,
 *				  .dmax_ns = INFINITY, .t_slack = 0.01,
 *				  .current_ns = 32768 };
 *	err = vs_pick_poll(&params, &o, &pick);	// -EINVAL on bad params
 *
 * Pure computation, no I/O.
 */

#include <stdbool.h>

#include "model/model.h"

enum vs_pick_side {
	VS_PICK_CONSUMER,	/* Pc: vhost poll-us, iothread poll-max-ns */
	VS_PICK_PRODUCER,	/* Pp: halt polling of the vCPU (guest or KVM) */
};

/*
 * A request/response loop at queue depth one, as its consumer sees it (a
 * virtio-blk guest at QD1 and QEMU's iothread): the producer waits for
 * each completion, so the consumer's wake-up after a blocked wait is on
 * the loop's critical path (the pipeline forms of model.h hide it behind
 * the queue). Per item the consumer runs Wc and waits idle_ns in `waits`
 * waits of equal length (a slow backend adds one: the wait for its
 * completion); a wait longer than the budget blocks and costs Sc before
 * the consumer runs again, and the producer's kick Np (a polling consumer
 * has notifications off). With budget P and w = idle_ns / waits:
 *	T = Wc + idle_ns + waits Sc [w > P]
 *	E = Wp + Wc + waits min(P, w) + Np [w > P]
 * P = 0 is notify (T as measured), P >= w busy polling (T = Wc + idle).
 */
#define VS_RR_SLOTS 36

struct vs_rr {
	double wp, wc;		/* CPU per item of producer and consumer */
	double idle_ns;		/* consumer's waits per item, wake-ups excluded */
	double waits;		/* waits per item, >= 1 */
	double sc, np;
	/*
	 * The consumer's waits by length, as the probes count them (log2 ns
	 * slots: slot 0 is 0 ns, slot s >= 1 holds [2^(s-1), 2^s), lengths
	 * taken as spread evenly inside a slot). All zero: every wait is
	 * idle_ns / waits long, as above. Otherwise each wait is covered by
	 * its own length, and the window follows QEMU's adaptive rule
	 * (util/aio-posix.c, poll-grow and poll-shrink 0, the defaults): it
	 * starts at 0, a wait that blocks and ends (wake-up included) within
	 * the maximum P doubles it (0 -> 4 us -> ... -> P), one that ends
	 * beyond P drops it to 0, one it covers leaves it. With the share
	 * `blocked` of waits that still block and the CPU `poll` a wait
	 * polls (its length where covered, the window where not):
	 *	T = Wc + idle_ns + waits blocked Sc
	 *	E = Wp + Wc + waits poll + Np min(1, waits blocked)
	 * One kick per item at most: QEMU turns notifications off while it
	 * polls, and at QD1 one wait per item is the kick's.
	 */
	double wait_slot[VS_RR_SLOTS];
};

int vs_rr_predict(const struct vs_rr *rr, double budget_ns, struct vs_prediction *out);

/*
 * Under a window of at most budget_ns, the share of rr's waits that still
 * block and the consumer's CPU per wait spent polling, in QEMU's adaptive
 * window's steady state (wait_slot given), else for waits of equal length.
 * -EINVAL on bad input.
 */
int vs_rr_cover(const struct vs_rr *rr, double budget_ns, double *blocked,
		double *poll_ns);

/* rr's waits as a distribution: the length below which a share q of them
 * end (interpolated inside a slot), NaN without wait_slot. */
double vs_rr_wait_quantile(const struct vs_rr *rr, double q);

struct vs_pick_opts {
	enum vs_pick_side side;
	/* Non-NULL: pick for this request/response loop (side and the
	 * params passed to vs_pick_poll are then not used). */
	const struct vs_rr *rr;
	double p_max_ns;	/* largest budget the knob allows or is sensible */
	double dmax_ns;		/* latency bound, INFINITY for none */
	double t_slack;		/* accept T within this fraction of the best */
	double e_slack;		/* current is "right" within this CPU fraction */
	double current_ns;	/* the budget in force, NaN when unknown */
	/*
	 * Take the widest budget that still reaches the objective at no more
	 * than e_slack more CPU per item than the smallest one. For QEMU's
	 * adaptive window: it polls no longer than the waits that block and
	 * end within the maximum call for, so a wider maximum costs only what
	 * the waits beyond the narrower one poll, and it covers waits the
	 * window in force kept from being measured as they would be polled.
	 */
	bool widen;
};

struct vs_pick {
	double p_ns;			/* the pick */
	double foot_ns;			/* the smallest budget reaching it */
	struct vs_prediction at_pick;	/* hybrid at the pick */
	struct vs_prediction at_zero;	/* hybrid at 0 (= notify) */
	struct vs_prediction at_max;	/* hybrid at p_max */
	double t_best_ns;		/* best T over [0, p_max] within Dmax */
	bool meets_dmax;		/* some budget keeps D <= Dmax */
	bool have_current;
	struct vs_prediction at_current;
	/* The budget in force reaches the objective at no more than
	 * e_slack more CPU per item than the pick: leave it. */
	bool current_right;
	/* The Sec. 7 strategies on the same parameters: [BUSY], [SLEEP]
	 * (Yp, Yc as given), [NOTIFY]; valid[m] false where the model does
	 * not predict them (e.g. sleep with Y below Yz). */
	struct vs_prediction strategy[VS_MECH_COUNT];
	bool strategy_valid[VS_MECH_COUNT];
};

/* The hybrid prediction of p with the chosen side's budget set to budget_ns. */
int vs_pick_predict_at(const struct vs_params *p, enum vs_pick_side side,
		       double budget_ns, struct vs_prediction *out);

/* -EINVAL on NULL, invalid params or a negative / non-finite p_max. */
int vs_pick_poll(const struct vs_params *p, const struct vs_pick_opts *o,
		 struct vs_pick *out);

#endif
