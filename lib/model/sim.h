/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_SIM_H
#define VS_SIM_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "model/model.h"

/*
 * Discrete-event simulator of the producer/consumer system of the seed paper
 * (shared/seeds/000_2ca216a43be1e5f1.txt, Sections 2, 5.2 and 6): producer P,
 * consumer C, a queue of L slots and P's request queue R.
 *
 * The semantics follow the paper's time diagrams, so that with constant
 * parameters the simulator reproduces the closed forms of lib/model:
 *  - P takes a slot before it starts working on an item (Wp) and publishes
 *    the item when done; C frees the slot when it has finished the item (Wc).
 *    These give Table 2's (L-1)Wp - Wc and Table 3's (L-kp)Wp - Wc.
 *  - A notification costs its sender Np (Nc); the woken party then spends Sc
 *    (Sp) starting up before it looks at the queue again.
 *  - Event-idx style suppression: a party about to block arms its peer
 *    ("notify me when kp items / kc free slots are there"), then looks at the
 *    queue again `recheck_ns` later (virtio's enable-then-check). The peer
 *    sends at most one notification per arming. An item published inside
 *    that window is seen by the second check and also draws a notification
 *    that reaches a party already running: a spurious notification.
 *  - Events at the same instant: a publish or a free takes effect before
 *    either party looks at the queue (the model's rule), so P finds the
 *    slot C frees at the instant P looks, and C the item P publishes.
 *  - A sleep lasts max(Y, Yz) and costs Yz of CPU; busy waiting costs all
 *    the time spent spinning.
 *  - hybrid: a party that cannot proceed spins up to its poll window (Pp,
 *    Pc, or an adaptive controller's window up to them); a publish or free
 *    within it ends the wait at that instant, else it arms and blocks as
 *    with notify.
 *  - Latency of a request: from the moment it reaches the head of R (its
 *    arrival, or when P took the previous request if that was later) until
 *    C has finished processing it.
 * All times are nanoseconds.
 */

/* The parameters that may be random, in the order of vs_sim_config.dist[]. */
enum vs_sim_var {
	VS_SIM_WP,
	VS_SIM_WC,
	VS_SIM_NP,
	VS_SIM_NC,
	VS_SIM_SP,
	VS_SIM_SC,
	VS_SIM_YP,
	VS_SIM_YC,
	VS_SIM_VAR_COUNT,
};

enum vs_dist_kind {
	VS_DIST_CONST,
	VS_DIST_NORMAL,		/* normal(mean, sigma), redrawn while < 0 */
	VS_DIST_EXP,		/* exponential with the parameter as mean */
};

struct vs_dist {
	enum vs_dist_kind kind;
	double sigma;		/* ns, VS_DIST_NORMAL only */
};

/*
 * How a hybrid side's poll window moves (its maximum is Pp or Pc), after
 * each wait that ended in `waited` ns (poll, block and start-up): kept when
 * the wait fitted the window; shrunk when it was longer than the maximum;
 * grown (doubled, from a first step when at 0, capped at the maximum) when
 * it was longer than the window but shorter than the maximum.
 *  - QEMU's adaptive iothread polling (aio-posix, poll-max-ns, poll-grow,
 *    poll-shrink): first step 4 us, grow 0 = x2, shrink 0 = back to 0;
 *  - KVM halt polling (Documentation/virt/kvm/halt-polling.rst,
 *    halt_poll_ns, _grow, _grow_start, _shrink): first step 10 us, grow 2,
 *    shrink 0 = back to 0, and a window shrunk below the first step is 0.
 * Both start at 0; fixed polls the maximum every time.
 */
enum vs_poll_adapt {
	VS_POLL_FIXED,
	VS_POLL_QEMU,
	VS_POLL_KVM,
	VS_POLL_ADAPT_COUNT,
};

struct vs_poll_ctl {
	enum vs_poll_adapt kind;
	double grow;		/* factor; 0: the documented default */
	double shrink;		/* divisor; 0: the documented default */
	double start_ns;	/* first step from 0; 0: the documented default */
};

struct vs_sim_config {
	struct vs_params p;		/* means of the parameters */
	enum vs_mech p_mode, c_mode;	/* how each side waits */
	struct vs_poll_ctl poll_p, poll_c;	/* hybrid sides' windows */
	struct vs_dist dist[VS_SIM_VAR_COUNT];
	double arrival_rate;	/* requests per second into R; 0 = greedy */
	double recheck_ns;	/* enable-notifications -> second check */
	uint64_t items;		/* stop after this many items consumed ... */
	double sim_time_ns;	/* ... or this much simulated time (if > 0) */
	uint64_t warmup_items;	/* items not measured; ~0 = a tenth */
	uint64_t seed;
	/* Optional: non-zero (a signal handler's flag) ends the run early,
	 * vs_sim_run() then returns -EINTR with the result over what was
	 * measured until then (items 0 when still in the warm-up). */
	const volatile sig_atomic_t *stop;
	/* Optional: told every 64 Ki events the share of the run done
	 * (items, or simulated time), 0 to 1. */
	void (*progress)(void *arg, double done);
	void *progress_arg;
};

struct vs_sim_latency {
	double p50, p95, p98, max;
};

struct vs_sim_result {
	double t_ns;		/* measured time per item */
	double e_ns;		/* measured CPU work per item, P + C */
	double batch;		/* items per notification or sleep (all) */
	uint64_t items;		/* items measured (after warm-up) */
	uint64_t notifications_p;	/* sent by P to C (incl. spurious) */
	uint64_t notifications_c;	/* sent by C to P (incl. spurious) */
	uint64_t spurious_p;	/* P->C notifications that found C running */
	uint64_t spurious_c;	/* C->P notifications that found P running */
	uint64_t sleeps_p, sleeps_c;
	/* hybrid: polls started, those that ended in what they waited for,
	 * and the mean window a poll started with */
	uint64_t polls_p, polls_c, poll_hits_p, poll_hits_c;
	double poll_window_p_ns, poll_window_c_ns;
	struct vs_sim_latency latency;
	/* share of measured time per regime, by windows of 8L items */
	double regime_share[VS_REGIME_COUNT];
	enum vs_regime regime;	/* the regime with the largest share */
	uint64_t events;	/* events simulated, warm-up included */
	double sim_time_ns;	/* measured simulated time */
};

/* Means from vs_params_default(), all three mechanisms "notify", constant
 * parameters, greedy R, 200000 items, recheck 20 ns, seed 1. */
void vs_sim_config_default(struct vs_sim_config *cfg);

/*
 * -EINVAL (with *why naming the field) for parameters vs_params_validate()
 * refuses, a negative sigma or rate, a mode outside enum vs_mech, or no
 * stopping condition.
 */
int vs_sim_config_validate(const struct vs_sim_config *cfg, const char **why);

/* Run one simulation. -EINVAL for a bad config, -ENOMEM, -EINTR (stopped,
 * *res filled as above). */
int vs_sim_run(const struct vs_sim_config *cfg, struct vs_sim_result *res);

const char *vs_sim_var_name(enum vs_sim_var v);	/* "wp", "wc", ... */
int vs_sim_var_from_name(const char *name, enum vs_sim_var *v);
const char *vs_dist_name(enum vs_dist_kind k);	/* "const", "normal", "exp" */
int vs_dist_from_name(const char *name, enum vs_dist_kind *k);
int vs_sim_mode_from_name(const char *name, enum vs_mech *m);	/* busy|sleep|notify|hybrid */
const char *vs_poll_adapt_name(enum vs_poll_adapt k);	/* "fixed", "qemu", "kvm" */
int vs_poll_adapt_from_name(const char *name, enum vs_poll_adapt *k);
/* The window after a wait of `waited` ns (see enum vs_poll_adapt). */
double vs_poll_adapt_next(const struct vs_poll_ctl *ctl, double max_ns,
			  double window_ns, double waited_ns);

/* Pointer to the mean of a random-capable parameter inside *p. */
double *vs_sim_var_field(struct vs_params *p, enum vs_sim_var v);

/* Deterministic PRNG (xoshiro256**, seeded through splitmix64), exposed for
 * the tests. */
struct vs_rng {
	uint64_t s[4];
	double spare;		/* second value of the last normal pair */
	bool has_spare;
};
void vs_rng_seed(struct vs_rng *r, uint64_t seed);
uint64_t vs_rng_next(struct vs_rng *r);
double vs_rng_uniform(struct vs_rng *r);	/* [0, 1) */
double vs_rng_exp(struct vs_rng *r);		/* mean 1 */
double vs_rng_normal(struct vs_rng *r);		/* mean 0, sigma 1 */

#endif
