// SPDX-License-Identifier: GPL-2.0-only
/*
 * Discrete-event simulator of the paper's producer/consumer system (see
 * sim.h for the semantics). Only two things ever happen next: P finishes
 * its current activity or C finishes its own (request arrivals are known in
 * advance and folded into P's timer), so the event loop compares two times
 * instead of keeping a heap, and nothing is allocated per event.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/sim.h"

/* ---- latency histogram: log-linear, 128 sub-buckets per power of two, so
 * a percentile is within 1/256 of the exact value; the maximum is exact. */

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS (HIST_SUB + (64 - HIST_SUB_BITS) * HIST_SUB)

static inline unsigned int hist_index(double ns)
{
	uint64_t x = ns < 1.8e19 ? (uint64_t)ns : UINT64_MAX;
	unsigned int e, shift;

	if (x < HIST_SUB)
		return (unsigned int)x;
	e = 63 - (unsigned int)__builtin_clzll(x);
	shift = e - HIST_SUB_BITS;
	return HIST_SUB + shift * HIST_SUB +
	       (unsigned int)((x >> shift) - HIST_SUB);
}

static double hist_value(unsigned int idx)
{
	unsigned int shift, mant;

	if (idx < HIST_SUB)
		return idx + 0.5;
	shift = (idx - HIST_SUB) / HIST_SUB;
	mant = HIST_SUB + (idx - HIST_SUB) % HIST_SUB;
	return ldexp(mant + 0.5, (int)shift);
}

static double hist_quantile(const uint64_t *h, uint64_t n, double q)
{
	uint64_t rank = (uint64_t)ceil(q * (double)n), seen = 0;
	unsigned int i;

	if (!n)
		return NAN;
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h[i];
		if (seen >= rank)
			return hist_value(i);
	}
	return NAN;
}

/* ---- the system ---- */

enum p_state { P_WORK, P_NOTIFY, P_START, P_SLEEP, P_RECHECK, P_BLOCKED,
	       P_SPIN, P_POLL, P_WAITREQ };
enum c_state { C_WORK, C_FREED, C_NOTIFY, C_START, C_SLEEP, C_RECHECK,
	       C_BLOCKED, C_SPIN, C_POLL };

/* Counters that are measured as differences between the end of the run and
 * the end of the warm-up. */
struct counters {
	double cpu;		/* P + C CPU work */
	uint64_t freed;
	uint64_t notif_p, notif_c, spur_p, spur_c, sleeps_p, sleeps_c;
	uint64_t polls_p, polls_c, hits_p, hits_c;
	double window_p, window_c;	/* sums of the windows polls began with */
};

/* What happened in the current classification window. */
struct window {
	double start;
	uint64_t start_items;
	uint64_t p_waits, c_waits;	/* blocks, sleeps or polls that waited */
	uint64_t p_blocks, c_blocks;	/* blocks alone */
	bool c_start_saw_p_blocked;	/* C's slow start let P fill up */
	bool p_start_saw_c_blocked;	/* P's slow start let C drain */
};

struct sim {
	const struct vs_sim_config *cfg;
	struct vs_rng rng;
	double now;
	double tp, tc;			/* next event of P and of C */
	enum p_state ps;
	enum c_state cs;
	uint64_t reserved;		/* items P has taken a slot for */
	uint64_t published;		/* items visible to C */
	uint64_t taken;			/* items C has started */
	bool c_armed, p_armed;		/* waiting for a notification */
	double p_spin_since, c_spin_since;
	/* hybrid: the current poll windows and when the current wait began */
	double p_window, c_window, p_wait_since, c_wait_since;
	bool p_waiting, c_waiting;
	/* woke from a notification, has not published (freed) since */
	bool p_fresh, c_fresh;
	double prev_extract;		/* when P took the previous request */
	double next_arrival;		/* arrival of the next request */
	double mean_gap;		/* 1 / arrival rate, ns */
	double *head;			/* per slot: head-of-R time of the item */
	unsigned int len;
	struct counters c;		/* running totals */
	/* distributions, flattened for the hot path */
	double mean[VS_SIM_VAR_COUNT], sigma[VS_SIM_VAR_COUNT];
	enum vs_dist_kind kind[VS_SIM_VAR_COUNT];
	double yz, recheck;
	unsigned int kp, kc;
	/* measurement */
	bool measuring, done;
	uint64_t warmup_items, stop_items;
	double warmup_time, stop_time;
	struct counters snap;
	double snap_time, last_free;
	uint64_t *hist;
	uint64_t hist_n;
	double lat_max;
	struct window w;
	uint64_t win_items;
	double regime_time[VS_REGIME_COUNT];
	uint64_t events;
};

static inline double draw(struct sim *s, enum vs_sim_var v)
{
	double x;

	switch (s->kind[v]) {
	case VS_DIST_CONST:
		return s->mean[v];
	case VS_DIST_EXP:
		return s->mean[v] * vs_rng_exp(&s->rng);
	case VS_DIST_NORMAL:
	default:
		/* Truncated at 0 by redrawing, as in the paper's Sec. 6. */
		do
			x = s->mean[v] + s->sigma[v] * vs_rng_normal(&s->rng);
		while (x < 0);
		return x;
	}
}

static inline unsigned int occupied(const struct sim *s)
{
	return (unsigned int)(s->reserved - s->c.freed);
}

static enum vs_regime regime_of_fast(enum vs_mech mode, bool consumer_fast,
				     const struct window *w)
{
	if (mode == VS_MECH_SLEEP)
		return consumer_fast ? VS_REGIME_SFC : VS_REGIME_SFP;
	/* a hybrid side that only polled is busy waiting */
	if (mode == VS_MECH_NOTIFY ||
	    (mode == VS_MECH_HYBRID && (consumer_fast ? w->c_blocks : w->p_blocks)))
		return consumer_fast ? VS_REGIME_NFC : VS_REGIME_NFP;
	return VS_REGIME_BW;
}

static bool blocks(enum vs_mech m)
{
	return m == VS_MECH_NOTIFY || m == VS_MECH_HYBRID;
}

/*
 * Name the regime of one window from what the parties did in it (the
 * model's definitions, Sections 2.2 and 2.3): only the fast party waits in
 * sFC/sFP/nFC/nFP; both wait in sLS and in the short-queue regimes, told
 * apart by whose start-up was too slow for the queue to absorb it.
 */
static enum vs_regime classify(const struct sim *s, const struct window *w)
{
	enum vs_mech pm = s->cfg->p_mode, cm = s->cfg->c_mode;
	bool consumer_fast = s->mean[VS_SIM_WC] <= s->mean[VS_SIM_WP];

	if (pm == VS_MECH_BUSY && cm == VS_MECH_BUSY)
		return VS_REGIME_BW;
	if (!w->p_waits && !w->c_waits)
		return regime_of_fast(consumer_fast ? cm : pm, consumer_fast, w);
	if (!w->p_waits)
		return regime_of_fast(cm, true, w);
	if (!w->c_waits)
		return regime_of_fast(pm, false, w);
	if (!blocks(pm) || !blocks(cm))
		return VS_REGIME_SLS;
	/* both hybrid sides only polled: busy waiting */
	if (!w->p_blocks && !w->c_blocks)
		return VS_REGIME_BW;
	if (w->c_start_saw_p_blocked && w->p_start_saw_c_blocked)
		return VS_REGIME_NSS;
	if (w->c_start_saw_p_blocked)
		return VS_REGIME_NSCS;
	if (w->p_start_saw_c_blocked)
		return VS_REGIME_NSPS;
	return w->c_waits >= w->p_waits ? VS_REGIME_NFC : VS_REGIME_NFP;
}

static void window_close(struct sim *s)
{
	double len = s->now - s->w.start;

	if (len > 0)
		s->regime_time[classify(s, &s->w)] += len;
	memset(&s->w, 0, sizeof(s->w));
	s->w.start = s->now;
	s->w.start_items = s->c.freed;
}

static void p_next(struct sim *s);
static void c_next(struct sim *s);

/* Enable notifications, then look again (the double check), or block. */
static void p_block(struct sim *s)
{
	s->p_armed = true;
	if (s->recheck > 0) {
		s->ps = P_RECHECK;
		s->tp = s->now + s->recheck;
		s->c.cpu += s->recheck;
	} else {
		s->ps = P_BLOCKED;
		s->tp = INFINITY;
		s->w.p_waits++;
		s->w.p_blocks++;
	}
}

static void c_block(struct sim *s)
{
	s->c_armed = true;
	if (s->recheck > 0) {
		s->cs = C_RECHECK;
		s->tc = s->now + s->recheck;
		s->c.cpu += s->recheck;
	} else {
		s->cs = C_BLOCKED;
		s->tc = INFINITY;
		s->w.c_waits++;
		s->w.c_blocks++;
	}
}

/* A hybrid side waits from now on: the window adapts when the wait ends. */
static inline void wait_begins(bool *waiting, double *since, double now)
{
	if (!*waiting) {
		*waiting = true;
		*since = now;
	}
}

static inline void wait_ends(struct sim *s, const struct vs_poll_ctl *ctl,
			     double max, double *window, bool *waiting,
			     double since)
{
	if (!*waiting)
		return;
	*waiting = false;
	if (ctl->kind != VS_POLL_FIXED)
		*window = vs_poll_adapt_next(ctl, max, *window, s->now - since);
}

/* P has a request and may need a slot for it. */
static void p_next(struct sim *s)
{
	double w, head;

	if (s->mean_gap > 0 && s->next_arrival > s->now) {
		s->ps = P_WAITREQ;
		s->tp = s->next_arrival;
		return;
	}
	if (occupied(s) >= s->len) {
		/* P waits on C's start-up: Table 3's second case */
		if (s->cs == C_START || s->c_fresh)
			s->w.c_start_saw_p_blocked = true;
		switch (s->cfg->p_mode) {
		case VS_MECH_BUSY:
			s->ps = P_SPIN;
			s->p_spin_since = s->now;
			s->tp = INFINITY;
			return;
		case VS_MECH_SLEEP:
			w = draw(s, VS_SIM_YP);
			s->ps = P_SLEEP;
			s->tp = s->now + (w > s->yz ? w : s->yz);
			s->c.cpu += s->yz;
			s->c.sleeps_p++;
			s->w.p_waits++;
			return;
		case VS_MECH_HYBRID:
			wait_begins(&s->p_waiting, &s->p_wait_since, s->now);
			if (s->p_window > 0) {
				s->ps = P_POLL;
				s->p_spin_since = s->now;
				s->tp = s->now + s->p_window;
				s->c.polls_p++;
				s->c.window_p += s->p_window;
				s->w.p_waits++;
				return;
			}
			p_block(s);
			return;
		default:
			p_block(s);
			return;
		}
	}
	wait_ends(s, &s->cfg->poll_p, s->cfg->p.pp, &s->p_window,
		  &s->p_waiting, s->p_wait_since);
	/* Take the request at the head of R and a slot for it. */
	head = s->prev_extract;
	if (s->mean_gap > 0) {
		if (s->next_arrival > head)
			head = s->next_arrival;
		s->next_arrival += s->mean_gap * vs_rng_exp(&s->rng);
	}
	s->prev_extract = s->now;
	s->head[s->reserved % s->len] = head;
	s->reserved++;
	w = draw(s, VS_SIM_WP);
	s->ps = P_WORK;
	s->tp = s->now + w;
	s->c.cpu += w;
}

static void c_next(struct sim *s)
{
	double w;

	if (s->published > s->taken) {
		wait_ends(s, &s->cfg->poll_c, s->cfg->p.pc, &s->c_window,
			  &s->c_waiting, s->c_wait_since);
		s->taken++;
		w = draw(s, VS_SIM_WC);
		s->cs = C_WORK;
		s->tc = s->now + w;
		s->c.cpu += w;
		return;
	}
	/* C waits on P's start-up: Table 3's first case */
	if (s->ps == P_START || s->p_fresh)
		s->w.p_start_saw_c_blocked = true;
	switch (s->cfg->c_mode) {
	case VS_MECH_BUSY:
		s->cs = C_SPIN;
		s->c_spin_since = s->now;
		s->tc = INFINITY;
		return;
	case VS_MECH_SLEEP:
		w = draw(s, VS_SIM_YC);
		s->cs = C_SLEEP;
		s->tc = s->now + (w > s->yz ? w : s->yz);
		s->c.cpu += s->yz;
		s->c.sleeps_c++;
		s->w.c_waits++;
		return;
	case VS_MECH_HYBRID:
		wait_begins(&s->c_waiting, &s->c_wait_since, s->now);
		if (s->c_window > 0) {
			s->cs = C_POLL;
			s->c_spin_since = s->now;
			s->tc = s->now + s->c_window;
			s->c.polls_c++;
			s->c.window_c += s->c_window;
			s->w.c_waits++;
			return;
		}
		c_block(s);
		return;
	default:
		c_block(s);
		return;
	}
}

static void p_event(struct sim *s)
{
	double w;

	switch (s->ps) {
	case P_WORK:
		s->published++;
		s->p_fresh = false;
		if (s->cs == C_SPIN || s->cs == C_POLL) {
			s->c.cpu += s->now - s->c_spin_since;
			s->c.hits_c += s->cs == C_POLL;
			c_next(s);
		}
		if (s->c_armed && s->published - s->taken >= s->kp) {
			/* One notification per arming (event idx). */
			s->c_armed = false;
			s->c.notif_p++;
			w = draw(s, VS_SIM_NP);
			s->ps = P_NOTIFY;
			s->tp = s->now + w;
			s->c.cpu += w;
			return;
		}
		p_next(s);
		return;
	case P_NOTIFY:
		if (s->cs == C_BLOCKED) {
			w = draw(s, VS_SIM_SC);
			s->cs = C_START;
			s->tc = s->now + w;
			s->c.cpu += w;
		} else {
			s->c.spur_p++;
		}
		p_next(s);
		return;
	case P_START:
		/* C waiting for P's start-up: blocked, or polling (hybrid) */
		if (s->cs == C_BLOCKED || s->cs == C_POLL)
			s->w.p_start_saw_c_blocked = true;
		s->p_fresh = true;
		p_next(s);
		return;
	case P_RECHECK:
		if (occupied(s) < s->len) {
			s->p_armed = false;
			p_next(s);
		} else {
			s->ps = P_BLOCKED;
			s->tp = INFINITY;
			s->w.p_waits++;
			s->w.p_blocks++;
		}
		return;
	case P_POLL:
		/* The window ran out; a slot freed at this very instant is
		 * seen (C's free is handled first, its wake-up after). */
		s->c.cpu += s->now - s->p_spin_since;
		if (occupied(s) < s->len) {
			s->c.hits_p++;
			p_next(s);
		} else {
			p_block(s);
		}
		return;
	case P_SLEEP:
	case P_WAITREQ:
	default:
		p_next(s);
		return;
	}
}

static void measure_start(struct sim *s)
{
	s->measuring = true;
	s->snap = s->c;
	s->snap_time = s->now;
	memset(&s->w, 0, sizeof(s->w));
	s->w.start = s->now;
	s->w.start_items = s->c.freed;
}

/* C has finished an item: free its slot and account for it. */
static void c_finish(struct sim *s)
{
	double lat;

	s->c.freed++;
	s->c_fresh = false;
	s->last_free = s->now;
	if (s->measuring) {
		lat = s->now - s->head[(s->c.freed - 1) % s->len];
		s->hist[hist_index(lat)]++;
		s->hist_n++;
		if (lat > s->lat_max)
			s->lat_max = lat;
		if (s->c.freed - s->w.start_items >= s->win_items)
			window_close(s);
		if (s->stop_time > 0 ? s->now >= s->stop_time
				     : s->c.freed >= s->stop_items)
			s->done = true;
	} else if (s->stop_time > 0 ? s->now >= s->warmup_time
				    : s->c.freed >= s->warmup_items) {
		measure_start(s);
	}
}

static void c_event(struct sim *s)
{
	double w;

	switch (s->cs) {
	case C_WORK:
		c_finish(s);
		/* fall through */
	case C_FREED:
		if (s->ps == P_SPIN || s->ps == P_POLL) {
			s->c.cpu += s->now - s->p_spin_since;
			s->c.hits_p += s->ps == P_POLL;
			p_next(s);
		}
		if (s->p_armed && s->len - occupied(s) >= s->kc) {
			s->p_armed = false;
			s->c.notif_c++;
			w = draw(s, VS_SIM_NC);
			s->cs = C_NOTIFY;
			s->tc = s->now + w;
			s->c.cpu += w;
			return;
		}
		c_next(s);
		return;
	case C_NOTIFY:
		if (s->ps == P_BLOCKED) {
			w = draw(s, VS_SIM_SP);
			s->ps = P_START;
			s->tp = s->now + w;
			s->c.cpu += w;
		} else {
			s->c.spur_c++;
		}
		c_next(s);
		return;
	case C_START:
		/* P waiting for C's start-up: blocked, or polling (hybrid) */
		if (s->ps == P_BLOCKED || s->ps == P_POLL)
			s->w.c_start_saw_p_blocked = true;
		s->c_fresh = true;
		c_next(s);
		return;
	case C_RECHECK:
		if (s->published > s->taken) {
			s->c_armed = false;
			c_next(s);
		} else {
			s->cs = C_BLOCKED;
			s->tc = INFINITY;
			s->w.c_waits++;
			s->w.c_blocks++;
		}
		return;
	case C_POLL:
		/* The window ran out (P's publish at this instant came first
		 * and ended the poll already). */
		s->c.cpu += s->now - s->c_spin_since;
		c_block(s);
		return;
	case C_SLEEP:
	default:
		c_next(s);
		return;
	}
}

int vs_sim_run(const struct vs_sim_config *cfg, struct vs_sim_result *res)
{
	struct sim *s;
	bool stopped = false;
	double best;
	int i, err;

	err = vs_sim_config_validate(cfg, NULL);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->head = calloc(cfg->p.len, sizeof(*s->head));
	s->hist = calloc(HIST_BUCKETS, sizeof(*s->hist));
	if (!s->head || !s->hist) {
		err = -ENOMEM;
		goto out;
	}
	s->cfg = cfg;
	vs_rng_seed(&s->rng, cfg->seed);
	s->len = cfg->p.len;
	s->kp = cfg->p.kp;
	s->kc = cfg->p.kc;
	s->yz = cfg->p.yz;
	s->recheck = cfg->recheck_ns;
	for (i = 0; i < VS_SIM_VAR_COUNT; i++) {
		s->mean[i] = *vs_sim_var_field((struct vs_params *)&cfg->p, i);
		s->kind[i] = cfg->dist[i].kind;
		s->sigma[i] = cfg->dist[i].sigma;
		/* A normal with no spread is a constant: keep the fast path. */
		if (s->kind[i] == VS_DIST_NORMAL && s->sigma[i] == 0)
			s->kind[i] = VS_DIST_CONST;
	}
	if (cfg->arrival_rate > 0) {
		s->mean_gap = 1e9 / cfg->arrival_rate;
		s->next_arrival = s->mean_gap * vs_rng_exp(&s->rng);
	}
	if (cfg->sim_time_ns > 0) {
		s->stop_time = cfg->sim_time_ns;
		s->warmup_time = cfg->sim_time_ns / 10;
	} else {
		s->stop_items = cfg->items;
		s->warmup_items = cfg->warmup_items == UINT64_MAX ?
				  cfg->items / 10 : cfg->warmup_items;
		if (s->warmup_items >= cfg->items)
			s->warmup_items = cfg->items - 1;
	}
	s->win_items = 8 * (uint64_t)s->len;
	/* A fixed window is the maximum; the adaptive ones grow from 0. */
	s->p_window = cfg->poll_p.kind == VS_POLL_FIXED ? cfg->p.pp : 0;
	s->c_window = cfg->poll_c.kind == VS_POLL_FIXED ? cfg->p.pc : 0;

	/* Both parties look at the (empty) queue at time 0. */
	s->ps = P_WAITREQ;
	s->tp = 0;
	c_next(s);
	if (!s->stop_time && !s->warmup_items)
		measure_start(s);

	while (!s->done) {
		/* the caller's stop and progress, every 64 Ki events: about a
		 * millisecond of this loop apart */
		if (!(s->events & 0xffff)) {
			if (cfg->stop && *cfg->stop) {
				stopped = true;
				break;
			}
			if (cfg->progress)
				cfg->progress(cfg->progress_arg, s->stop_time > 0 ?
					      s->now / s->stop_time :
					      (double)s->c.freed / s->stop_items);
		}
		/*
		 * C frees a slot at the instant P acts: the free happens
		 * first, so that P's look sees it (the model's rule: a look
		 * at the instant of a publish or free sees it). C looks for
		 * its next item after P's event, so it sees P's publish too.
		 */
		if (s->tp == s->tc && s->cs == C_WORK && s->tc != INFINITY) {
			s->now = s->tc;
			c_finish(s);
			s->cs = C_FREED;
			s->events++;
			continue;
		}
		if (s->tp <= s->tc) {
			if (s->tp == INFINITY) {
				err = -EDEADLK;	/* cannot happen; don't spin */
				goto out;
			}
			s->now = s->tp;
			p_event(s);
		} else {
			s->now = s->tc;
			c_event(s);
		}
		s->events++;
	}

	if (stopped && !s->measuring) {
		memset(res, 0, sizeof(*res));
		res->t_ns = res->e_ns = res->batch = NAN;
		res->events = s->events;
		err = -EINTR;
		goto out;
	}
	/* End at the last completion so that T covers whole items only. */
	s->now = s->last_free;
	window_close(s);
	memset(res, 0, sizeof(*res));
	res->items = s->c.freed - s->snap.freed;
	res->sim_time_ns = s->last_free - s->snap_time;
	res->t_ns = res->items ? res->sim_time_ns / res->items : NAN;
	res->e_ns = res->items ? (s->c.cpu - s->snap.cpu) / res->items : NAN;
	res->notifications_p = s->c.notif_p - s->snap.notif_p;
	res->notifications_c = s->c.notif_c - s->snap.notif_c;
	res->spurious_p = s->c.spur_p - s->snap.spur_p;
	res->spurious_c = s->c.spur_c - s->snap.spur_c;
	res->sleeps_p = s->c.sleeps_p - s->snap.sleeps_p;
	res->sleeps_c = s->c.sleeps_c - s->snap.sleeps_c;
	res->polls_p = s->c.polls_p - s->snap.polls_p;
	res->polls_c = s->c.polls_c - s->snap.polls_c;
	res->poll_hits_p = s->c.hits_p - s->snap.hits_p;
	res->poll_hits_c = s->c.hits_c - s->snap.hits_c;
	res->poll_window_p_ns = res->polls_p ?
		(s->c.window_p - s->snap.window_p) / res->polls_p : NAN;
	res->poll_window_c_ns = res->polls_c ?
		(s->c.window_c - s->snap.window_c) / res->polls_c : NAN;
	{
		uint64_t waits = res->notifications_p + res->notifications_c +
				 res->sleeps_p + res->sleeps_c;

		res->batch = waits ? (double)res->items / waits : NAN;
	}
	/* A bucket's midpoint may lie above the exact maximum. */
	res->latency.p50 = fmin(hist_quantile(s->hist, s->hist_n, 0.50), s->lat_max);
	res->latency.p95 = fmin(hist_quantile(s->hist, s->hist_n, 0.95), s->lat_max);
	res->latency.p98 = fmin(hist_quantile(s->hist, s->hist_n, 0.98), s->lat_max);
	res->latency.max = s->hist_n ? s->lat_max : NAN;
	best = -1;
	for (i = 0; i < VS_REGIME_COUNT; i++) {
		res->regime_share[i] = res->sim_time_ns > 0 ?
			s->regime_time[i] / res->sim_time_ns : 0;
		if (res->regime_share[i] > best) {
			best = res->regime_share[i];
			res->regime = i;
		}
	}
	res->events = s->events;
	err = stopped ? -EINTR : 0;
out:
	free(s->hist);
	free(s->head);
	free(s);
	return err;
}
