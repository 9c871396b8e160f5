// SPDX-License-Identifier: GPL-2.0-only
/* Sec. 7 design strategies mapped to knobs (see recommend.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/units.h"
#include "knobs/knobs.h"
#include "analyze/recommend.h"
#include "analyze/recommend-impl.h"
#include "model/pick.h"

/* Sec. 7.2: stay this far inside the sFC region, away from the border
 * where the OS's sleep-length jitter would tip the system into sLS. */
#define SFC_MARGIN_NS 500.0
/* Poll budgets are picked up to the range a sweep of the knob covers
 * (bench/guest-poll-sweep.sh: 2^19 ns at the top, QEMU's own power-of-two
 * scale); beyond it a poller holds a CPU. */
#define POLL_PICK_MAX_NS 524288.0
/* Fewer waits than this in the window are too few for a distribution:
 * the pick falls back to their mean. */
#define POLL_MIN_WAITS 100
/* A pick that costs more CPU per item than this factor says that the
 * window in force is the choice where CPU matters more than items/s. */
#define POLL_CPU_TRADE 1.5
/*
 * A request/response loop has one request at a time: the consumer finds
 * the ring empty after every item and waits at least once per item (twice
 * with a slow backend). A consumer that waits for fewer items than this
 * found a next request already there (QD16 on the test guest: 0.55 waits
 * per item with QMP's in-flight at 0.07): the queue is a pipeline.
 */
#define RR_MIN_WAITS_PER_ITEM 0.9
/* QEMU's iothread poll-max-ns default. */
#define QEMU_POLL_MAX_DEFAULT_NS 32768

const char *vs_applies_name(enum vs_applies a)
{
	switch (a) {
	case VS_APPLY_NOW: return "now";
	case VS_APPLY_RESTART: return "restart";
	default: return "read-only";
	}
}

void vs_reco_warn(struct vs_plan *plan, const char *fmt, ...)
{
	va_list ap;

	if (plan->n_warnings >= VS_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(plan->warnings[plan->n_warnings++], sizeof(plan->warnings[0]),
		  fmt, ap);
	va_end(ap);
}

struct vs_advice *vs_reco_action(struct vs_plan *plan, const char *knob,
				 pid_t pid, const char *role, enum vs_applies applies,
				 const char *fmt, ...)
{
	static struct vs_advice sink;
	struct vs_advice *a;
	va_list ap;

	if (plan->n_actions >= VS_MAX_ACTIONS) {
		memset(&sink, 0, sizeof(sink));
		return &sink;
	}
	a = &plan->actions[plan->n_actions++];
	memset(a, 0, sizeof(*a));
	snprintf(a->knob, sizeof(a->knob), "%s", knob);
	a->pid = pid;
	snprintf(a->role, sizeof(a->role), "%s", role ? role : "");
	a->applies = applies;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	return a;
}

static void predict(const struct vs_params *p, enum vs_mech m,
		    struct vs_prediction *out, bool *ok)
{
	*ok = !vs_params_validate(p, NULL) && !vs_model_predict(p, m, out);
}

/* Busy polling needs two otherwise idle cores (Sec. 7.2 last paragraph);
 * on a machine where other threads keep CPUs busy it steals their time. */
static bool polling_allowed(const struct vs_reco_env *env, struct vs_plan *plan)
{
	double spare;

	if (!env->ncpus || !isfinite(env->other_busy_cpus)) {
		vs_reco_warn(plan, "no busy-polling advice: the load of the other CPUs is unknown");
		return false;
	}
	spare = env->ncpus - env->other_busy_cpus;
	if (spare < 2.0 + 0.25) {
		vs_reco_warn(plan, "no busy-polling advice: other threads keep %.1f of %u CPUs busy, polling needs 2 idle cores",
		     env->other_busy_cpus, env->ncpus);
		return false;
	}
	return true;
}

/* The QEMU iothread the queue's consumer is, or NULL. */
static const struct vs_qmp_iothread *consumer_iothread(const struct vs_reco_env *env)
{
	int i;

	if (!env->qmp_socket || !env->consumer_tid)
		return NULL;
	for (i = 0; i < env->n_iothreads; i++)
		if (env->iothreads[i].thread_id == env->consumer_tid)
			return &env->iothreads[i];
	return NULL;
}

/*
 * QEMU's iothread polls its virtqueues for up to poll-max-ns (adaptively)
 * before it waits for a kick: the iothread's own Y, and settable live over
 * QMP, so the plan can carry it where vhost's poll-us needs a restart.
 */
static void iothread_poll(const struct vs_reco_env *env, struct vs_plan *plan,
			  const struct vs_qmp_iothread *io, double ns, const char *why)
{
	struct vs_advice *a;

	a = vs_reco_action(plan, "iothread.poll_max_ns", env->vm ? env->vm->pid : 0, "iothread",
		   VS_APPLY_NOW, "%s", why);
	snprintf(a->value, sizeof(a->value), "%.0f", ns);
	snprintf(a->current, sizeof(a->current), "%lld", (long long)io->poll_max_ns);
	snprintf(a->qmp, sizeof(a->qmp), "%s", env->qmp_socket);
	snprintf(a->iothread, sizeof(a->iothread), "%s", io->id);
	snprintf(a->qemu, sizeof(a->qemu), "-object iothread,id=%s,poll-max-ns=%.0f", io->id, ns);
	snprintf(a->libvirt, sizeof(a->libvirt),
		 "virsh iothreadset DOMAIN <id of %s> --poll-max-ns %.0f --live", io->id, ns);
}

/*
 * The request/response pick from the lengths of the consumer's waits in
 * the window (the probes' switch-out -> sched_waking histogram): the idle
 * time per item is what the measured T leaves once the wake-ups of the
 * waits that blocked under the window in force are taken out, so that the
 * model gives the measured T back there. The equal split of the same idle
 * time is picked too, to check the two against each other in `from`.
 */
static bool pick_by_length(const struct vs_reco_env *env, struct vs_pick_opts *o,
			   struct vs_rr *rr, double t, struct vs_pick *pick, bool *by_length,
			   const char *sc_from, char *from, size_t len)
{
	const struct vs_thread_sample *c = &env->sample->cons;
	struct vs_rr eq = *rr;
	struct vs_pick ke;
	double blocked, poll, p_eq = NAN;
	char eq_text[32];
	int i, err;

	for (i = 0; i < VS_RR_SLOTS && i < VS_WAIT_SLOTS; i++)
		rr->wait_slot[i] = (double)c->wait_slot[i];
	if (vs_rr_cover(rr, isfinite(o->current_ns) ? o->current_ns : 0, &blocked, &poll))
		return false;
	rr->idle_ns = fmax(t - rr->wc - rr->waits * blocked * rr->sc, 0);
	o->rr = &eq;
	if (!vs_pick_poll(NULL, o, &ke))
		p_eq = ke.p_ns * POLL_MARGIN;
	o->rr = rr;
	/* the lengths were measured under the window in force: the waits
	 * that polling changes (the guest's halts, its ticks) are not among
	 * them, and QEMU's adaptive window makes a wider maximum cheap */
	o->widen = true;
	err = vs_pick_poll(NULL, o, pick);
	o->widen = false;
	if (err)
		return false;
	*by_length = true;
	snprintf(eq_text, sizeof(eq_text), "%s", isnan(p_eq) ? "no pick" : VS_TIME(p_eq));
	snprintf(from, len,
		 "request/response, %.1f waits/item of p50 %s/p90 %s, wake-up %s (%s); equal waits: %s",
		 rr->waits, VS_TIME(vs_rr_wait_quantile(rr, 0.5)), VS_TIME(vs_rr_wait_quantile(rr, 0.9)),
		 VS_TIME(rr->sc), sc_from, eq_text);
	return true;
}

/*
 * The consumer's poll budget from the hybrid model (docs/hybrid.md,
 * "Picking P"). About one request in flight and a consumer that waits
 * for every item make the queue a request/response loop (model/pick.h,
 * vs_rr) whose consumer pays its wake-up on every item: the waits per item come from the consumer's
 * waits per item, the wake-up from its measured sched_wakeup latency, and,
 * where the probes saw enough of them, each wait's own length, so that the
 * pick is the window that covers the waits that matter rather than their
 * mean. Otherwise the pipeline forms on the verdict's parameters. false
 * when the window lacks what the model needs. *by_length: the pick used
 * the waits' lengths.
 */
static bool pick_consumer_poll(const struct vs_verdict *v, const struct vs_reco_env *env,
			       double current_ns, struct vs_pick *pick, struct vs_rr *rr,
			       bool *closed, bool *by_length, char *from, size_t len)
{
	/* The lengths are set against QEMU's adaptive window; vhost's
	 * poll-us is a fixed one, picked from the mean (by_length NULL). */
	bool lengths = by_length != NULL;
	bool ignored;
	struct vs_pick_opts o = {
		.side = VS_PICK_CONSUMER, .p_max_ns = POLL_PICK_MAX_NS,
		.dmax_ns = env->dmax_ns, .t_slack = POLL_T_SLACK,
		.e_slack = POLL_E_SLACK, .current_ns = current_ns,
	};
	struct vs_params q = v->params;
	double t = vs_verdict_est(v, "T"), sc = vs_verdict_est(v, "Sc_sched");
	double waits = NAN;
	const char *sc_from = "its sched_wakeup latency";

	if (!by_length)
		by_length = &ignored;
	*by_length = false;
	if (!isfinite(sc) || sc <= 0) {
		sc = q.sc;
		sc_from = "Sc";
	}
	if (env->sample && env->sample->cons.present && env->sample->items_per_s > 0 &&
	    isfinite(env->sample->cons.waits_per_s))
		waits = env->sample->cons.waits_per_s / env->sample->items_per_s;
	*closed = isfinite(env->inflight) && env->inflight < 1.5 && isfinite(t) &&
		  isfinite(waits) && waits >= RR_MIN_WAITS_PER_ITEM && isfinite(sc);
	if (*closed) {
		memset(rr, 0, sizeof(*rr));
		rr->waits = fmin(fmax(waits, 1), 8);
		rr->wp = q.wp;
		rr->wc = q.wc;
		rr->sc = sc;
		rr->np = q.np;
		rr->idle_ns = fmax(t - q.wc - rr->waits * sc, 0);
		o.rr = rr;
		if (lengths && env->sample->cons.n_waits >= POLL_MIN_WAITS)
			return pick_by_length(env, &o, rr, t, pick, by_length, sc_from, from, len);
		snprintf(from, len, "request/response, %.1f waits/item of %s, wake-up %s (%s)",
			 rr->waits, VS_TIME(rr->idle_ns / rr->waits), VS_TIME(sc), sc_from);
	} else {
		q.sc = sc;
		snprintf(from, len, "pipeline, Wp %s, Wc %s, Sc %s (%s)",
			 VS_TIME(q.wp), VS_TIME(q.wc), VS_TIME(sc), sc_from);
	}
	return !vs_pick_poll(&q, &o, pick);
}

/* The pick with the margin for waits longer than their mean (none for a
 * pick from their lengths), and the model's prediction there. */
static double margin_pick(const struct vs_verdict *v, const struct vs_pick *k,
			  const struct vs_rr *rr, bool closed, bool by_length,
			  enum vs_pick_side side, double step_ns, struct vs_prediction *at)
{
	double margin = by_length ? 1 : POLL_MARGIN;
	double val = k->p_ns > 0 ? ceil(k->p_ns * margin / step_ns) * step_ns : 0;

	/* a pick at the top of the range is that budget, not the next step */
	if (by_length)
		val = fmin(val, POLL_PICK_MAX_NS);

	*at = k->at_pick;
	if (val > 0 && (closed ? vs_rr_predict(rr, val, at) :
			vs_pick_predict_at(&v->params, side, val, at)))
		*at = k->at_pick;
	return val;
}

/*
 * The model gives the polling iothread a CPU of its own. Where the CPUs
 * the window's polling would add are not spare (other threads keep them
 * busy), the poller takes its time from the vCPU thread it waits for and
 * from the rest, and the gain does not come: measured on 2 shared cores
 * under TCG at load 3-4, no window gave the guest more IOPS than the
 * spread of the default (docs/real-guests.md). Said, not gated: where a
 * core is free the same window gained 1.7x.
 */
static void spare_cpu_note(const struct vs_reco_env *env, struct vs_plan *plan,
			   const struct vs_qmp_iothread *io, const struct vs_prediction *now,
			   const struct vs_prediction *then)
{
	const struct vs_sample *s = env->sample;
	double spare, extra;

	if (!s || !env->ncpus || !isfinite(env->other_busy_cpus) || !(now->t_ns > 0) ||
	    !(then->t_ns > 0))
		return;
	spare = env->ncpus - env->other_busy_cpus -
		(s->prod.present ? s->prod.cpu : 0) - (s->cons.present ? s->cons.cpu : 0);
	extra = then->e_ns / then->t_ns - now->e_ns / now->t_ns;
	if (extra > 0 && extra > spare)
		vs_reco_warn(plan, "iothread %.16s: its polling needs %.1f more CPUs and %.1f are spare (others keep %.1f of %u busy): it would take CPU from the vCPU it waits for, so expect the gain only where a core is free",
		     io->id, extra, fmax(spare, 0), env->other_busy_cpus, env->ncpus);
}

/* Both sides' CPU per item as measured over the window, NaN unknown. */
static double measured_cpu_per_item(const struct vs_reco_env *env)
{
	const struct vs_sample *s = env->sample;

	if (!s || !s->prod.present || !s->cons.present || !(s->items_per_s > 0))
		return NAN;
	return (s->prod.cpu + s->cons.cpu) / s->items_per_s * 1e9;
}

/*
 * A pick that gains no items/s is a move for CPU alone, and the saving
 * has to hold against the CPU per item measured at the window in force,
 * not only against the model's view of it: the pipeline forms take the
 * gaps between items as equal, so where they are not (the test guest at
 * QD16: 0.55 blocked waits per item at 32 us, where equal gaps say none)
 * they see a consumer polling all its idle time and a saving that the
 * measurement does not have (52 us measured, 74 us predicted).
 */
static bool saving_not_measured(const struct vs_reco_env *env, const struct vs_pick *k,
				double *measured)
{
	*measured = measured_cpu_per_item(env);
	return k->have_current && k->at_current.t_ns <= k->t_best_ns * (1 + POLL_T_SLACK) &&
	       isfinite(*measured) && *measured <= k->at_pick.e_ns * (1 + POLL_E_SLACK);
}

/* The window in force stays: the plan predicts it and has no step. */
static void keep_window(struct vs_plan *plan, const struct vs_pick *k,
			const struct vs_qmp_iothread *io)
{
	plan->rec = k->at_current;
	plan->have_rec = true;
	plan->y_ns = (double)io->poll_max_ns;
}

/*
 * iothread.poll_max_ns from the hybrid model: the current window's and
 * the pick's T and CPU per item against busy polling and notifications;
 * no change where the window in force is already right.
 */
static void iothread_hybrid(const struct vs_verdict *v, const struct vs_reco_env *env,
			    struct vs_plan *plan, const struct vs_qmp_iothread *io)
{
	bool closed, by_length, dflt = io->poll_max_ns == QEMU_POLL_MAX_DEFAULT_NS;
	struct vs_prediction at;
	struct vs_pick k;
	struct vs_rr rr;
	char from[160], why[200], trade[64], rule[72];
	double val, gain, cpu, measured;

	if (!pick_consumer_poll(v, env, (double)io->poll_max_ns, &k, &rr, &closed,
				&by_length, from, sizeof(from))) {
		vs_reco_warn(plan, "iothread %.24s: the window does not give the hybrid model what it needs: poll-max-ns %lld left as it is",
		     io->id, (long long)io->poll_max_ns);
		return;
	}
	plan->cur_mech = plan->rec_mech = VS_MECH_HYBRID;
	plan->cur = k.at_current;
	plan->have_cur = k.have_current;
	plan->cur_params.pc = (double)io->poll_max_ns;
	plan->rec_params = plan->cur_params;
	if (!k.meets_dmax)
		vs_reco_warn(plan, "no poll-max-ns keeps the predicted D within Dmax %s: picked for the best T",
		     VS_TIME(env->dmax_ns));
	if (k.current_right) {
		keep_window(plan, &k, io);
		snprintf(plan->summary, sizeof(plan->summary),
			 "iothread %.16s: poll-max-ns %lld%s is already right: the hybrid model (%s) predicts the best T, %s, at CPU/item %s",
			 io->id, (long long)io->poll_max_ns, dflt ? " (QEMU's default)" : "",
			 from, VS_TIME(k.at_current.t_ns), VS_TIME(k.at_current.e_ns));
		return;
	}
	if (saving_not_measured(env, &k, &measured)) {
		keep_window(plan, &k, io);
		snprintf(plan->summary, sizeof(plan->summary),
			 "iothread %.16s: poll-max-ns %lld%s is already right: the hybrid model (%s) predicts the same T, %s, at %s, for CPU/item %s against %s measured now",
			 io->id, (long long)io->poll_max_ns, dflt ? " (QEMU's default)" : "",
			 from, VS_TIME(k.at_pick.t_ns), VS_TIME(k.p_ns), VS_TIME(k.at_pick.e_ns),
			 VS_TIME(measured));
		return;
	}
	val = margin_pick(v, &k, &rr, closed, by_length, VS_PICK_CONSUMER, 1000, &at);
	plan->rec = at;
	plan->have_rec = true;
	plan->rec_params.pc = val;
	plan->y_ns = val;
	/* The objective is the guest's figure first (issue 17: the best
	 * items/s any window gives); what it costs in CPU per item is said,
	 * with the window in force as the choice where CPU matters more. */
	gain = k.at_current.t_ns / at.t_ns - 1;
	cpu = at.e_ns / k.at_current.e_ns;
	if (cpu > POLL_CPU_TRADE)
		snprintf(trade, sizeof(trade), "; a trade-off: keep %lld if CPU matters more",
			 (long long)io->poll_max_ns);
	else
		trade[0] = 0;
	if (k.p_ns > k.foot_ns)
		snprintf(rule, sizeof(rule), "widest within %.0f %% CPU of the smallest (%s) for the best T",
			 100 * POLL_E_SLACK, VS_TIME(k.foot_ns));
	else
		snprintf(rule, sizeof(rule), "smallest window for the best T%s", by_length ? "" : ", +25 %");
	snprintf(why, sizeof(why),
		 "hybrid model%s: T %s -> %s (%+.0f %% items/s), CPU/item %s -> %s (%.2fx; busy %s): %s",
		 by_length ? ", waits by length" : "", VS_TIME(k.at_current.t_ns), VS_TIME(at.t_ns),
		 100 * gain, VS_TIME(k.at_current.e_ns), VS_TIME(at.e_ns), cpu,
		 VS_TIME(k.strategy[VS_MECH_BUSY].e_ns), rule);
	iothread_poll(env, plan, io, val, why);
	spare_cpu_note(env, plan, io, &k.at_current, &at);
	snprintf(plan->summary, sizeof(plan->summary),
		 "iothread %.16s: poll-max-ns %s instead of %s%s: %+.0f %% items/s at %.2fx CPU/item%s (%s)",
		 io->id, VS_TIME(val), VS_TIME((double)io->poll_max_ns), dflt ? " (QEMU's default)" : "",
		 100 * gain, cpu, trade, from);
}

/* vhost's poll-us from the hybrid model (microseconds, at VM start). */
static void vhost_hybrid(const struct vs_verdict *v, const struct vs_reco_env *env,
			 struct vs_plan *plan)
{
	pid_t pid = env->vm ? env->vm->pid : 0;
	struct vs_prediction at;
	struct vs_advice *a;
	struct vs_pick k;
	struct vs_rr rr;
	char from[128];
	bool closed;
	double us;

	if (!pick_consumer_poll(v, env, 0, &k, &rr, &closed, NULL, from, sizeof(from)))
		return;
	if (k.p_ns == 0) {
		snprintf(plan->summary, sizeof(plan->summary),
			 "fast consumer: no vhost poll-us pays: the hybrid model (%s) predicts no shorter T from polling",
			 from);
		return;
	}
	us = margin_pick(v, &k, &rr, closed, false, VS_PICK_CONSUMER, 1000, &at) / 1e3;
	plan->rec_mech = VS_MECH_HYBRID;
	plan->rec_params.pc = us * 1e3;
	plan->y_ns = us * 1e3;
	a = vs_reco_action(plan, "vhost.poll_us", pid, "vhost", VS_APPLY_RESTART,
		   "hybrid model: T %s -> %s, CPU/item %s -> %s (busy %s): vhost polls %s before it waits for a kick (set at VM start)",
		   VS_TIME(k.at_zero.t_ns), VS_TIME(at.t_ns), VS_TIME(k.at_zero.e_ns), VS_TIME(at.e_ns),
		   VS_TIME(k.strategy[VS_MECH_BUSY].e_ns), VS_TIME(round(us) * 1e3));
	snprintf(a->value, sizeof(a->value), "%.0f", us);
	snprintf(a->current, sizeof(a->current), "0");
	snprintf(a->qemu, sizeof(a->qemu), "-netdev tap,id=...,vhost=on,poll-us=%.0f", us);
	snprintf(a->libvirt, sizeof(a->libvirt),
		 "<interface ...><driver name='vhost' poll_us='%.0f'/></interface>", us);
	snprintf(plan->summary, sizeof(plan->summary),
		 "fast consumer: vhost polls %s (hybrid model, %s)", VS_TIME(round(us) * 1e3), from);
}

static void fast_consumer(const struct vs_verdict *v, const struct vs_reco_env *env,
			  struct vs_plan *plan)
{
	const struct vs_qmp_iothread *io = consumer_iothread(env);
	const struct vs_params *p = &v->params;
	double W = vs_verdict_est(v, "W"), yz = p->yz;
	double ymax = env->dmax_ns / 2 - W;	/* from eq. (11) */
	double ysfc = (p->len - 1) * p->wp - p->wc - SFC_MARGIN_NS;
	double y = fmin(ymax, ysfc);
	pid_t pid = env->vm ? env->vm->pid : 0;
	struct vs_advice *a;
	char why[80];

	/* A QEMU consumer's knob is its poll budget, picked from the hybrid
	 * model in vs_recommend (iothread) or here (vhost). */
	if (is_qemu(env)) {
		if (!io)
			vhost_hybrid(v, env, plan);
		return;
	}
	if (y >= yz && y > 0) {
		plan->y_ns = y;
		plan->rec_mech = VS_MECH_SLEEP;
		plan->rec_params.yc = plan->rec_params.yp = y;
		snprintf(plan->summary, sizeof(plan->summary),
			 "fast consumer: let the consumer sleep %s instead of waiting for kicks (Dmax/2 - W%s)",
			 VS_TIME(y), y < ymax ? ", capped to stay in sFC" : "");
		if (is_pcdev(env)) {
			a = vs_reco_action(plan, "pcdev.consumer_sleep_ns", pid, "consumer",
				   VS_APPLY_NOW,
				   "consumer sleeps Y = min(Dmax/2 - W, (L-1)Wp - Wc - 500ns), not below Yz %s: no kick per item",
				   VS_TIME(yz));
			snprintf(a->value, sizeof(a->value), "%.0f", y);
		} else if (is_qemu(env) && io) {
			iothread_poll(env, plan, io, y,
				      "the consumer iothread polls the ring for Y before waiting for a kick: kicks become rare");
		} else if (is_qemu(env)) {
			/* vhost cannot sleep on a timer; its poll-us busy-loop is
			 * the closest: poll the ring for Y before re-enabling
			 * notifications. */
			a = vs_reco_action(plan, "vhost.poll_us", pid, "vhost", VS_APPLY_RESTART,
				   "vhost polls the ring for Y before waiting for a kick: kicks become rare (set at VM start)");
			snprintf(a->value, sizeof(a->value), "%.0f", ceil(y / 1e3));
			snprintf(a->qemu, sizeof(a->qemu),
				 "-netdev tap,id=...,vhost=on,poll-us=%.0f", ceil(y / 1e3));
			snprintf(a->libvirt, sizeof(a->libvirt),
				 "<interface ...><driver name='vhost' poll_us='%.0f'/></interface>",
				 ceil(y / 1e3));
		}
		if (!is_qemu(env)) {
			a = vs_reco_action(plan, "thread.timerslack_ns", pid, "consumer", VS_APPLY_NOW,
				   "the default 50us timer slack would stretch every %s sleep",
				   VS_TIME(y));
			snprintf(a->value, sizeof(a->value), "1");
		}
		return;
	}
	/* Sec. 7.2: Dmax below what sleeping can give: busy waiting. */
	if (ymax <= 0)
		snprintf(why, sizeof(why), "Dmax/2 is below W %s: no sleep fits",
			 VS_TIME(W));
	else
		snprintf(why, sizeof(why), "Y %s < Yz %s", VS_TIME(y), VS_TIME(yz));
	snprintf(plan->summary, sizeof(plan->summary),
		 "fast consumer, Dmax %s below what sleeping gives (%s): busy polling",
		 VS_TIME(env->dmax_ns), why);
	if (!polling_allowed(env, plan)) {
		plan->rec_mech = plan->cur_mech;
		snprintf(plan->summary, sizeof(plan->summary),
			 "fast consumer: Dmax %s needs busy polling (%s), but the CPUs are shared: keep notifications",
			 VS_TIME(env->dmax_ns), why);
		return;
	}
	plan->rec_mech = VS_MECH_BUSY;
	if (is_pcdev(env)) {
		a = vs_reco_action(plan, "pcdev.consumer_busyloop_ns", pid, "consumer", VS_APPLY_NOW,
			   "consumer busy-polls instead of waiting: Y would be below Yz");
		snprintf(a->value, sizeof(a->value), "1000000000");
	} else if (is_qemu(env) && io) {
		iothread_poll(env, plan, io, env->dmax_ns,
			      "the consumer iothread busy-polls the ring for up to Dmax");
	} else if (is_qemu(env)) {
		a = vs_reco_action(plan, "vhost.poll_us", pid, "vhost", VS_APPLY_RESTART,
			   "vhost busy-polls the ring (set at VM start)");
		snprintf(a->value, sizeof(a->value), "%.0f", ceil(env->dmax_ns / 1e3));
		snprintf(a->qemu, sizeof(a->qemu), "-netdev tap,id=...,vhost=on,poll-us=%.0f",
			 ceil(env->dmax_ns / 1e3));
		snprintf(a->libvirt, sizeof(a->libvirt),
			 "<interface ...><driver name='vhost' poll_us='%.0f'/></interface>",
			 ceil(env->dmax_ns / 1e3));
	}
	a = vs_reco_action(plan, "thread.affinity", pid, "consumer", VS_APPLY_NOW,
		   "a polling thread needs a core of its own");
	snprintf(a->value, sizeof(a->value), "%u", env->ncpus > 1 ? env->ncpus - 1 : 0);
	a = vs_reco_action(plan, "cpuidle.state_disable", 0, "", VS_APPLY_NOW,
		   "shallow C-states only on the polling cores: deep exits cost more than Dmax allows");
	snprintf(a->value, sizeof(a->value), "1");
	snprintf(a->cpus, sizeof(a->cpus), "%u", env->ncpus > 1 ? env->ncpus - 1 : 0);
}

static void fast_producer(const struct vs_verdict *v, const struct vs_reco_env *env,
			  struct vs_plan *plan)
{
	const struct vs_params *p = &v->params;
	/* A fast producer fills the ring (Sec. 7.3), unless the ring's
	 * measured occupancy says otherwise: a guest whose own queue depth
	 * is below L keeps fewer requests waiting, and only those wait. */
	double occupied = isfinite(env->inflight) ? fmin(env->inflight, p->len) : p->len;
	double qdelay = occupied * p->wc, b = vs_verdict_est(v, "b");
	pid_t pid = env->vm ? env->vm->pid : 0;
	struct vs_advice *a;
	/* QEMU's virtio-blk takes a power of two above 2 */
	unsigned int l = is_qemu(env) && is_blk(env) ? 4 : 1;

	plan->rec_mech = VS_MECH_NOTIFY;
	plan->rec_params.kc = p->len / 2 > p->kc ? p->len / 2 : p->kc;
	while (l * 2 * p->wc <= env->dmax_ns && l * 2 < p->len)
		l *= 2;
	/* a shorter ring cuts the delay only where it holds fewer requests
	 * than wait in it now */
	if (qdelay > env->dmax_ns && l < occupied) {
		plan->rec_params.len = l;
		plan->rec_params.kc = l / 2 ? l / 2 : 1;
		snprintf(plan->summary, sizeof(plan->summary),
			 "fast producer: queueing delay L*Wc %s exceeds Dmax %s: shorten the queue to %u",
			 VS_TIME(qdelay), VS_TIME(env->dmax_ns), l);
		a = vs_reco_action(plan, "queue.len", pid, "", VS_APPLY_RESTART,
			   "the queueing delay L*Wc, not the synchronization, bounds the latency (Sec. 7.3)");
		snprintf(a->value, sizeof(a->value), "%u", l);
		snprintf(a->current, sizeof(a->current), "%u", p->len);
		if (is_qemu(env) && is_blk(env)) {
			snprintf(a->qemu, sizeof(a->qemu), "-device virtio-blk-pci,...,queue-size=%u", l);
			snprintf(a->libvirt, sizeof(a->libvirt), "<driver name='qemu' queue_size='%u'/>", l);
		} else if (is_qemu(env)) {
			/* QEMU's virtio-net accepts 256..1024 only. */
			snprintf(a->qemu, sizeof(a->qemu),
				 "-device virtio-net-pci,...,tx_queue_size=256,rx_queue_size=256 (QEMU minimum 256)");
			snprintf(a->libvirt, sizeof(a->libvirt),
				 "<driver name='vhost' rx_queue_size='256' tx_queue_size='256'/>");
		} else if (is_pcdev(env)) {
			snprintf(a->qemu, sizeof(a->qemu), "virtsync bench ... --len %u", l);
		}
		return;
	}
	if (v->mech == VS_MECH_NOTIFY && isfinite(b) && b >= p->len / 4.0) {
		plan->rec_params.kc = p->kc;
		snprintf(plan->summary, sizeof(plan->summary),
			 "fast producer: nothing to change: each interrupt is amortized over %.0f items and L*Wc %s is within Dmax",
			 b, VS_TIME(qdelay));
		return;
	}
	snprintf(plan->summary, sizeof(plan->summary),
		 "fast producer: use notifications with a large kc (L/2 = %u) so that interrupts are amortized",
		 plan->rec_params.kc);
	if (v->mech == VS_MECH_SLEEP && is_pcdev(env)) {
		a = vs_reco_action(plan, "producer.mode", pid, "producer", VS_APPLY_RESTART,
			   "sleeping gains nothing for a fast producer (Sec. 7.3) and costs Yz per sleep when idle");
		snprintf(a->value, sizeof(a->value), "notify");
		snprintf(a->qemu, sizeof(a->qemu), "virtsync bench ... --mode notify --kc %u",
			 plan->rec_params.kc);
	}
}

static void short_queue(const struct vs_verdict *v, const struct vs_reco_env *env,
			struct vs_plan *plan)
{
	const struct vs_params *p = &v->params;
	unsigned int l = p->len * 4 > 1024 ? (p->len < 1024 ? 1024 : p->len) : p->len * 4;
	pid_t pid = env->vm ? env->vm->pid : 0;
	struct vs_advice *a;
	int ca, cb, node, level;

	plan->rec_mech = VS_MECH_NOTIFY;
	plan->rec_params.len = l;
	/* Sec. 2.3.3/2.3.4: with a slow start-up a small threshold helps. */
	if (v->regime == VS_REGIME_NSCS || v->regime == VS_REGIME_NSS)
		plan->rec_params.kc = l / 4 ? l / 4 : 1;
	else
		plan->rec_params.kc = p->kc * l / p->len;
	plan->rec_params.kp = 1;
	snprintf(plan->summary, sizeof(plan->summary),
		 "short queue: the start-up latency exceeds what %u slots absorb: longer queue (%u), smaller kc, P and C on cores sharing a cache",
		 p->len, l);
	if (l > p->len) {
		a = vs_reco_action(plan, "queue.len", pid, "", VS_APPLY_RESTART,
			   "a longer queue absorbs the start-up time S (Table 3)");
		snprintf(a->value, sizeof(a->value), "%u", l);
		snprintf(a->current, sizeof(a->current), "%u", p->len);
		if (is_qemu(env) && is_blk(env)) {
			snprintf(a->qemu, sizeof(a->qemu), "-device virtio-blk-pci,...,queue-size=%u", l);
			snprintf(a->libvirt, sizeof(a->libvirt), "<driver name='qemu' queue_size='%u'/>", l);
		} else if (is_qemu(env)) {
			snprintf(a->qemu, sizeof(a->qemu),
				 "-device virtio-net-pci,...,tx_queue_size=%u,rx_queue_size=%u",
				 l, l);
			snprintf(a->libvirt, sizeof(a->libvirt),
				 "<driver name='vhost' rx_queue_size='%u' tx_queue_size='%u'/>", l, l);
		} else if (is_pcdev(env)) {
			snprintf(a->qemu, sizeof(a->qemu), "virtsync bench ... --len %u --kc %u",
				 l, plan->rec_params.kc);
		}
	}
	level = env->topo ? vs_topo_closest_pair(env->topo, NULL, &ca, &cb, &node) : -1;
	if (level >= 0) {
		char where[64];

		if (level > 0)
			snprintf(where, sizeof(where), "share an L%d cache on NUMA node %d",
				 level, node);
		else
			snprintf(where, sizeof(where), "on NUMA node %d (no shared cache found)",
				 node);
		a = vs_reco_action(plan, "thread.affinity", pid, "producer", VS_APPLY_NOW,
			   "producer and consumer next to each other: CPUs %d and %d %s (shorter start-up)",
			   ca, cb, where);
		snprintf(a->value, sizeof(a->value), "%d", ca);
		a = vs_reco_action(plan, "thread.affinity", pid, "consumer", VS_APPLY_NOW,
			   "next to the producer: CPUs %d and %d %s", ca, cb, where);
		snprintf(a->value, sizeof(a->value), "%d", cb);
	}
	if (env->vm && env->vm->kvm)
		vs_reco_vcpu_halt_poll(v, env, plan, vs_verdict_est(v, "Yp"),
			       "the vCPU's start-up after an interrupt: halt polling sized to its waits");
}

int vs_recommend(const struct vs_verdict *v, const struct vs_reco_env *env,
		 struct vs_plan *plan)
{
	if (!v || !env || !plan)
		return -EINVAL;
	memset(plan, 0, sizeof(*plan));
	plan->dmax_ns = env->dmax_ns;
	plan->y_ns = NAN;
	if (!v->known) {
		snprintf(plan->summary, sizeof(plan->summary), "no verdict: nothing to recommend");
		return 0;
	}
	plan->valid = true;
	plan->cur_mech = v->mech;
	plan->cur_params = v->params;
	plan->rec_params = v->params;
	plan->rec_mech = v->mech;
	predict(&plan->cur_params, plan->cur_mech, &plan->cur, &plan->have_cur);

	switch (v->regime) {
	case VS_REGIME_NFC:
	case VS_REGIME_SFC:
		fast_consumer(v, env, plan);
		break;
	case VS_REGIME_NFP:
	case VS_REGIME_SFP:
		fast_producer(v, env, plan);
		break;
	case VS_REGIME_SLS:
		if (v->fast == VS_FAST_CONSUMER) {
			fast_consumer(v, env, plan);
		} else {
			fast_producer(v, env, plan);
		}
		break;
	case VS_REGIME_NSCS:
	case VS_REGIME_NSPS:
	case VS_REGIME_NSS:
		short_queue(v, env, plan);
		break;
	case VS_REGIME_BW:
	default: {
		/* Busy waiting is optimal for T and D; check whether sleeping
		 * would meet Dmax and save the CPU (Sec. 7 objective). */
		double y = env->dmax_ns / 2 - vs_verdict_est(v, "W");

		if (y >= v->params.yz && y > 0) {
			plan->rec_mech = VS_MECH_SLEEP;
			plan->rec_params.yc = plan->rec_params.yp = y;
			plan->y_ns = y;
			snprintf(plan->summary, sizeof(plan->summary),
				 "busy waiting burns two CPUs; sleeping %s would keep D within Dmax at a fraction of the CPU",
				 VS_TIME(y));
		} else {
			snprintf(plan->summary, sizeof(plan->summary),
				 "busy waiting: Dmax %s is below what sleeping gives: keep it",
				 VS_TIME(env->dmax_ns));
		}
		break;
	}
	}
	predict(&plan->rec_params, plan->rec_mech, &plan->rec, &plan->have_rec);
	/* Without timed kick exits (kvm_exit/kvm_entry silent), Np is the
	 * host's eventfd write; a vCPU's kick is a VM exit as well (30-35 us
	 * for the KVM reference device on the project machines, against
	 * ~0.2 us), so what dropping notifications saves is under-predicted. */
	if (env->vm && env->vm->kvm && !v->np_from_exits &&
	    plan->cur_mech == VS_MECH_NOTIFY && plan->rec_mech != VS_MECH_NOTIFY) {
		plan->gain_is_floor = true;
		vs_reco_warn(plan, "a vCPU's kick is a VM exit, dearer than the host eventfd write Np was calibrated on: the predicted gain is a floor");
	}
	if (plan->have_rec && isfinite(plan->rec.d_ns) && plan->rec.d_ns > env->dmax_ns)
		vs_reco_warn(plan, "the recommended settings still predict D %s > Dmax %s",
		     VS_TIME(plan->rec.d_ns), VS_TIME(env->dmax_ns));
	/* The iothread's poll window is in force whatever the regime. */
	if (is_qemu(env) && consumer_iothread(env))
		iothread_hybrid(v, env, plan, consumer_iothread(env));
	return 0;
}
