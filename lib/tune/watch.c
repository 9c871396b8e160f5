// SPDX-License-Identifier: GPL-2.0-only
/* virtsync watch's memory and decisions (see watch.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/units.h"
#include "tune/apply.h"
#include "tune/journal.h"
#include "tune/loop.h"
#include "tune/planfile.h"
#include "tune/watch.h"

static const char *const ev_names[] = {
	[VS_WEV_FOUND] = "found",
	[VS_WEV_GONE] = "gone",
	[VS_WEV_REGIME] = "regime",
	[VS_WEV_ADVICE] = "advice",
	[VS_WEV_APPLIED] = "applied",
	[VS_WEV_KEPT] = "kept",
	[VS_WEV_ROLLED_BACK] = "rolled-back",
	[VS_WEV_FOREIGN] = "changed-elsewhere",
	[VS_WEV_HELD] = "held",
	[VS_WEV_ERROR] = "error",
};

const char *vs_watch_ev_name(enum vs_watch_ev k)
{
	return (unsigned int)k <= VS_WEV_ERROR ? ev_names[k] : "?";
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The caller's callback, with the fields an event without them leaves
 * empty rather than NULL. */
static void emit(struct vs_watch *w, enum vs_watch_ev kind,
		 struct vs_watch_queue *q, const struct vs_change *a,
		 double gain, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void emit(struct vs_watch *w, enum vs_watch_ev kind,
		 struct vs_watch_queue *q, const struct vs_change *a,
		 double gain, const char *fmt, ...)
{
	struct vs_watch_event ev = {
		.kind = kind, .id = q ? &q->id : NULL, .t_s = wall_s(),
		.regime = "", .prev_regime = "", .confidence = NAN,
		.knob = "", .inst = "", .old = "", .new = "", .gain = gain,
	};
	va_list ap;

	if (q && q->have_regime)
		ev.regime = vs_regime_name(q->regime);
	if (q && q->have_window && q->verdict.known)
		ev.confidence = q->verdict.confidence;
	if (a) {
		ev.knob = a->knob->name;
		ev.inst = a->inst;
		ev.old = a->old;
		ev.new = a->new;
	}
	va_start(ap, fmt);
	vsnprintf(ev.text, sizeof(ev.text), fmt, ap);
	va_end(ap);
	/* A queue held for the same reason window after window says it once. */
	if (q && kind == VS_WEV_HELD) {
		if (!strcmp(q->held, ev.text))
			return;
		snprintf(q->held, sizeof(q->held), "%s", ev.text);
	} else if (q && kind != VS_WEV_ADVICE) {
		q->held[0] = '\0';
	}
	w->ev_count[kind]++;
	if (w->o.cb)
		w->o.cb(&ev, w->o.ctx);
}

void vs_watch_init(struct vs_watch *w, const struct vs_watch_opts *o)
{
	memset(w, 0, sizeof(*w));
	w->o = *o;
	if (!w->o.bad_windows)
		w->o.bad_windows = 3;
	if (!w->o.confirm_windows)
		w->o.confirm_windows = 3;
	if (!(w->o.min_gain >= 0))
		w->o.min_gain = 0.10;
	if (!(w->o.predicted_gain > 0))
		w->o.predicted_gain = 0.10;
}

bool vs_watch_bad(const struct vs_verdict *v, const struct vs_plan *p,
		  double min_gain)
{
	unsigned int i;
	bool now = false;

	if (!v->known || !p->valid || !p->have_cur || !p->have_rec)
		return false;
	for (i = 0; i < p->n_actions; i++)
		now |= p->actions[i].applies == VS_APPLY_NOW;
	if (!now || !(p->cur.t_ns > 0) || !(p->rec.t_ns > 0))
		return false;
	if (p->cur.t_ns / p->rec.t_ns - 1 >= min_gain)
		return true;
	/* A floor that predicts no loss may still hide the gain asked for
	 * (the KVM device's kicks: 0.3 % predicted, 1.5-2x measured); the
	 * confirming windows measure it. */
	if (p->gain_is_floor && p->rec.t_ns <= p->cur.t_ns)
		return true;
	/* The same throughput for less CPU is a gain too. */
	return p->rec.t_ns <= p->cur.t_ns && p->rec.e_ns > 0 &&
	       p->cur.e_ns / p->rec.e_ns - 1 >= min_gain;
}

void vs_watch_begin(struct vs_watch *w)
{
	unsigned int i;

	for (i = 0; i < VS_WATCH_MAX_QUEUES; i++)
		w->q[i].seen = false;
}

static struct vs_watch_queue *slot_of(struct vs_watch *w, const struct vs_watch_id *id)
{
	struct vs_watch_queue *free_slot = NULL;
	unsigned int i;

	for (i = 0; i < VS_WATCH_MAX_QUEUES; i++) {
		struct vs_watch_queue *q = &w->q[i];

		if (!q->used) {
			if (!free_slot)
				free_slot = q;
			continue;
		}
		if (q->id.pid == id->pid && q->id.start == id->start &&
		    q->id.ring == id->ring && !strcmp(q->id.queue, id->queue))
			return q;
	}
	if (!free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	free_slot->id = *id;
	free_slot->apply = -1;
	emit(w, VS_WEV_FOUND, free_slot, NULL, NAN, "%s pid %d queue %s: found (%s)",
	     id->vm, (int)id->pid, id->queue, id->device);
	return free_slot;
}

static void push_point(struct vs_watch_queue *q, const struct vs_watch_point *pt)
{
	q->hist[q->head] = *pt;
	q->head = (q->head + 1) % VS_WATCH_HISTORY;
	if (q->n < VS_WATCH_HISTORY)
		q->n++;
}

unsigned int vs_watch_history(const struct vs_watch_queue *q,
			      struct vs_watch_point *out, unsigned int n)
{
	unsigned int i, k = n < q->n ? n : q->n;

	for (i = 0; i < k; i++)
		out[i] = q->hist[(q->head + VS_WATCH_HISTORY - k + i) % VS_WATCH_HISTORY];
	return k;
}

static void advice_events(struct vs_watch *w, struct vs_watch_queue *q)
{
	const struct vs_plan *p = &q->plan;
	unsigned int i;

	if (!p->valid || !p->n_actions) {
		emit(w, VS_WEV_ADVICE, q, NULL, NAN, "%s pid %d queue %s: advice: %s",
		     q->id.vm, (int)q->id.pid, q->id.queue,
		     p->summary[0] ? p->summary : "no change recommended");
		return;
	}
	for (i = 0; i < p->n_actions; i++) {
		const struct vs_advice *a = &p->actions[i];

		emit(w, VS_WEV_ADVICE, q, NULL, NAN,
		     "%s pid %d queue %s: advice: %s%s%s = %s (now %s) [%s]: %s",
		     q->id.vm, (int)q->id.pid, q->id.queue, a->knob,
		     a->role[0] ? " of the " : "", a->role, a->value,
		     a->current[0] ? a->current : "?", vs_applies_name(a->applies), a->why);
	}
}

struct vs_watch_queue *vs_watch_window(struct vs_watch *w,
				       const struct vs_watch_id *id, int err,
				       const struct vs_sample *s,
				       const struct vs_verdict *v,
				       const struct vs_plan *p)
{
	struct vs_watch_queue *q = slot_of(w, id);
	struct vs_watch_point pt = { .t_s = wall_s() };

	if (!q)
		return NULL;
	q->seen = true;
	/* Names may appear later than the process (libvirt's domain). */
	snprintf(q->id.vm, sizeof(q->id.vm), "%s", id->vm);
	snprintf(q->id.device, sizeof(q->id.device), "%s", id->device);
	if (err)
		return q;
	q->windows++;
	q->sample = *s;
	q->verdict = *v;
	q->plan = *p;
	q->have_window = true;
	pt.known = v->known;
	pt.regime = v->regime;
	pt.confidence = v->confidence;
	pt.items_per_s = s->have_items ? s->items_per_s : NAN;
	pt.kicks_per_s = s->kicks_per_s;
	pt.irqs_per_s = s->irqs_per_s;
	pt.t_ns = pt.items_per_s > 0 ? 1e9 / pt.items_per_s : NAN;
	pt.e_ns = pt.items_per_s > 0 ? (s->prod.cpu + s->cons.cpu) * 1e9 / pt.items_per_s
				     : NAN;
	pt.bad = vs_watch_bad(v, p, w->o.predicted_gain);
	push_point(q, &pt);
	if (v->known && (!q->have_regime || v->regime != q->regime)) {
		const char *prev = q->have_regime ? vs_regime_name(q->regime) : "";

		if (q->have_regime)
			q->regime_changes++;
		q->have_regime = true;
		q->regime = v->regime;
		q->bad_run = 0;
		emit(w, VS_WEV_REGIME, q, NULL, NAN,
		     "%s pid %d queue %s: regime %s%s%s (confidence %.2f): %s",
		     q->id.vm, (int)q->id.pid, q->id.queue, prev[0] ? prev : "",
		     prev[0] ? " -> " : "", vs_regime_name(v->regime), v->confidence,
		     v->summary);
		advice_events(w, q);
	}
	q->bad_run = pt.bad ? q->bad_run + 1 : 0;
	return q;
}

void vs_watch_ring(struct vs_watch_queue *q, const struct vs_watch_ring *r)
{
	if (q->have_ring)
		q->items_total += (uint16_t)(r->first_idx - q->ring_idx);
	q->items_total += r->used;
	q->ring_idx = r->last_idx;
	q->ring_end_s = r->end_s;
	q->have_ring = true;
	snprintf(q->src_items, sizeof(q->src_items), "%s", r->items_src ? r->items_src : "");
	snprintf(q->src_kicks, sizeof(q->src_kicks), "%s", r->kicks_src ? r->kicks_src : "");
	snprintf(q->src_irqs, sizeof(q->src_irqs), "%s", r->irqs_src ? r->irqs_src : "");
}

/* ---- tuning ------------------------------------------------------------ */

static struct vs_watch_knob *knob_rec(struct vs_watch *w, const char *knob,
				      const char *inst, bool create)
{
	struct vs_watch_knob *oldest = NULL;
	unsigned int i;

	for (i = 0; i < VS_WATCH_MAX_KNOBS; i++) {
		struct vs_watch_knob *k = &w->knobs[i];

		if (k->used && !strcmp(k->knob, knob) && !strcmp(k->inst, inst))
			return k;
	}
	if (!create)
		return NULL;
	/* A free slot, else the one changed longest ago that holds nothing
	 * virtsync still keeps. */
	for (i = 0; i < VS_WATCH_MAX_KNOBS; i++) {
		struct vs_watch_knob *k = &w->knobs[i];

		if (!k->used)
			return k;
		if (!k->written[0] && (!oldest || k->changed_s < oldest->changed_s))
			oldest = k;
	}
	return oldest;
}

static double median(double *v, unsigned int n)
{
	unsigned int i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j] < v[j - 1]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	if (!n)
		return NAN;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Medians of items/s and CPU per item over the last n windows. */
static void recent(const struct vs_watch_queue *q, unsigned int n, double *items,
		   double *cpu)
{
	struct vs_watch_point pts[VS_WATCH_HISTORY];
	double a[VS_WATCH_HISTORY], b[VS_WATCH_HISTORY];
	unsigned int k = vs_watch_history(q, pts, n), i, na = 0, nb = 0;

	for (i = 0; i < k; i++) {
		if (isfinite(pts[i].items_per_s))
			a[na++] = pts[i].items_per_s;
		if (isfinite(pts[i].e_ns))
			b[nb++] = pts[i].e_ns;
	}
	*items = median(a, na);
	*cpu = median(b, nb);
}

/* The plan's steps aimed at the queue's own process: host-wide knobs (guest
 * halt polling, C-states) would change the machine for every other VM. */
static struct vs_profile *queue_plan(const struct vs_watch_queue *q)
{
	struct vs_profile *p = vs_profile_new("throughput", "watch");
	unsigned int i;

	if (!p)
		return NULL;
	snprintf(p->regime, sizeof(p->regime), "%s", vs_regime_name(q->verdict.regime));
	for (i = 0; i < q->plan.n_actions; i++) {
		const struct vs_advice *a = &q->plan.actions[i];
		struct vs_step st;

		if (a->pid != q->id.pid || vs_advice_step(a, &st))
			continue;
		if (vs_profile_add_step(p, &st))
			break;
	}
	return p;
}

static int lock_journal(struct vs_watch *w, struct vs_watch_queue *q, int *fd,
			struct vs_journal **j)
{
	int holder = 0, e = vs_apply_lock(fd, &holder);

	*j = NULL;
	if (e) {
		emit(w, VS_WEV_HELD, q, NULL, NAN,
		     "%s pid %d queue %s: tuning waits: /run/virtsync/lock is held%s%.0d",
		     q ? q->id.vm : "host", q ? (int)q->id.pid : 0, q ? q->id.queue : "-",
		     holder ? " by pid " : "", holder);
		return e;
	}
	e = vs_journal_load(j);
	if (e) {
		emit(w, VS_WEV_ERROR, q, NULL, NAN, "cannot read the journal: %s", strerror(-e));
		vs_apply_unlock(*fd);
		*fd = -1;
	}
	return e;
}

/* Are the journal entries [first, first+n) still this apply's, not yet
 * rolled back, and the journal's last? */
static bool apply_is_last(const struct vs_journal *j, int apply, size_t first, size_t n)
{
	size_t i;

	if (!n || vs_journal_count(j) != first + n)
		return false;
	for (i = first; i < first + n; i++) {
		struct vs_jentry e;

		if (vs_journal_get(j, i, &e) || e.apply != apply ||
		    (e.status != VS_J_DONE && e.status != VS_J_PENDING))
			return false;
	}
	return true;
}

static void try_apply(struct vs_watch *w, struct vs_watch_queue *q)
{
	struct vs_profile *plan = queue_plan(q);
	struct vs_change *acts = NULL;
	struct vs_apply_result ar;
	struct vs_journal *j = NULL;
	char err[256];
	size_t n = 0, i, changing = 0;
	double now = mono_s();
	int fd = -1, e;

	q->bad_run = 0;		/* the next attempt needs K more bad windows */
	if (!plan || !plan->nsteps) {
		emit(w, VS_WEV_HELD, q, NULL, NAN,
		     "%s pid %d queue %s: regime %s stays bad, but no step of the plan "
		     "is aimed at this process (advice only)", q->id.vm, (int)q->id.pid,
		     q->id.queue, vs_regime_name(q->regime));
		goto out;
	}
	e = vs_apply_resolve(plan, NULL, 0, &acts, &n, err, sizeof(err));
	if (e) {
		emit(w, VS_WEV_HELD, q, NULL, NAN, "%s pid %d queue %s: plan refused: %s",
		     q->id.vm, (int)q->id.pid, q->id.queue, err);
		goto out;
	}
	/* Read back before changing: a knob virtsync wrote that now holds
	 * something else was changed by someone else. */
	for (i = 0; i < n; i++) {
		struct vs_watch_knob *k;

		if (acts[i].skip || acts[i].same)
			continue;
		changing++;
		k = knob_rec(w, acts[i].knob->name, acts[i].inst, false);
		if (!k)
			continue;
		if (!k->foreign && k->written[0] && strcmp(k->written, acts[i].old)) {
			k->foreign = true;
			emit(w, VS_WEV_FOREIGN, q, &acts[i], NAN,
			     "%s pid %d queue %s: %s (%s) is %s, not the %s virtsync wrote: "
			     "someone else changed it; virtsync leaves it alone",
			     q->id.vm, (int)q->id.pid, q->id.queue, acts[i].knob->name,
			     acts[i].label, acts[i].old, k->written);
		}
		if (k->foreign) {
			emit(w, VS_WEV_HELD, q, &acts[i], NAN,
			     "%s pid %d queue %s: not changing %s (%s): someone else set it",
			     q->id.vm, (int)q->id.pid, q->id.queue, acts[i].knob->name,
			     acts[i].label);
			goto out;
		}
		if (now - k->changed_s < w->o.knob_interval_s) {
			emit(w, VS_WEV_HELD, q, &acts[i], NAN,
			     "%s pid %d queue %s: not changing %s (%s) again: last changed "
			     "%s ago, the limit is one change per %s",
			     q->id.vm, (int)q->id.pid, q->id.queue, acts[i].knob->name,
			     acts[i].label, VS_TIME(round(now - k->changed_s) * 1e9),
			     VS_TIME(w->o.knob_interval_s * 1e9));
			goto out;
		}
	}
	if (!changing) {
		emit(w, VS_WEV_HELD, q, NULL, NAN,
		     "%s pid %d queue %s: every knob of the plan is already set",
		     q->id.vm, (int)q->id.pid, q->id.queue);
		goto out;
	}
	if (lock_journal(w, q, &fd, &j))
		goto out;
	recent(q, w->o.bad_windows, &q->base_items, &q->base_cpu);
	e = vs_apply_changes(j, "watch --tune", acts, n, &ar, err, sizeof(err));
	if (e) {
		emit(w, VS_WEV_ERROR, q, NULL, NAN, "%s pid %d queue %s: apply failed: %s",
		     q->id.vm, (int)q->id.pid, q->id.queue, err);
		goto out;
	}
	q->apply = ar.apply;
	q->jfirst = ar.first;
	q->jn = vs_journal_count(j) - ar.first;
	q->tstate = VS_WT_CONFIRMING;
	q->confirm_done = 0;
	for (i = 0; i < n; i++) {
		struct vs_watch_knob *k;

		if (acts[i].skip || acts[i].same)
			continue;
		k = knob_rec(w, acts[i].knob->name, acts[i].inst, true);
		if (k) {
			memset(k, 0, sizeof(*k));
			k->used = true;
			snprintf(k->knob, sizeof(k->knob), "%s", acts[i].knob->name);
			snprintf(k->inst, sizeof(k->inst), "%s", acts[i].inst);
			snprintf(k->label, sizeof(k->label), "%s", acts[i].label);
			snprintf(k->written, sizeof(k->written), "%s", acts[i].new);
			k->changed_s = now;
		}
		emit(w, VS_WEV_APPLIED, q, &acts[i], NAN,
		     "%s pid %d queue %s: applied %s (%s) %s -> %s for regime %s "
		     "(%.0f items/s before; journal apply %d): %s",
		     q->id.vm, (int)q->id.pid, q->id.queue, acts[i].knob->name,
		     acts[i].label, acts[i].old, acts[i].new, vs_regime_name(q->regime),
		     q->base_items, ar.apply, acts[i].why);
	}
out:
	vs_journal_free(j);
	if (fd >= 0)
		vs_apply_unlock(fd);
	free(acts);
	vs_profile_free(plan);
}

/* Does the apply hold a knob someone else has changed since? Rolling it
 * back would overwrite their value. */
static bool apply_has_foreign(struct vs_watch *w, const struct vs_journal *j,
			      size_t first, size_t n)
{
	size_t i;

	for (i = first; i < first + n; i++) {
		struct vs_jentry e;
		struct vs_watch_knob *k;

		if (vs_journal_get(j, i, &e))
			continue;
		k = knob_rec(w, e.knob, e.target, false);
		if (k && k->foreign)
			return true;
	}
	return false;
}

/* Forget (knob records) the values this apply wrote: restored. */
static void forget_apply(struct vs_watch *w, const struct vs_journal *j, size_t first,
			 size_t n)
{
	size_t i;

	for (i = first; i < first + n; i++) {
		struct vs_jentry e;
		struct vs_watch_knob *k;

		if (vs_journal_get(j, i, &e))
			continue;
		k = knob_rec(w, e.knob, e.target, false);
		if (k) {
			k->written[0] = '\0';
			k->changed_s = mono_s();
		}
	}
}

static void decide(struct vs_watch *w, struct vs_watch_queue *q)
{
	struct vs_objective before = { .latency_ns = NAN, .p98_ns = NAN,
				       .idle_frac = NAN, .steal_frac = NAN };
	struct vs_objective after = before;
	struct vs_journal *j = NULL;
	size_t restored = 0, failed = 0;
	double gain;
	char why[160];
	int fd = -1;

	before.throughput = q->base_items;
	before.cpu_ns_per_item = q->base_cpu;
	recent(q, w->o.confirm_windows, &after.throughput, &after.cpu_ns_per_item);
	q->tstate = VS_WT_WATCHING;
	q->bad_run = 0;
	if (vs_objective_improved(VS_GOAL_THROUGHPUT, &before, &after, w->o.min_gain, 0,
				  &gain, why, sizeof(why))) {
		q->tstate = VS_WT_KEPT;
		if (w->n_applies < VS_WATCH_MAX_APPLIES)
			w->applies[w->n_applies++] = q->apply;
		emit(w, VS_WEV_KEPT, q, NULL, gain,
		     "%s pid %d queue %s: kept journal apply %d: %s; %.0f -> %.0f items/s "
		     "over %u windows each", q->id.vm, (int)q->id.pid, q->id.queue,
		     q->apply, why, before.throughput, after.throughput,
		     w->o.confirm_windows);
		return;
	}
	if (lock_journal(w, q, &fd, &j))
		return;
	if (apply_has_foreign(w, j, q->jfirst, q->jn)) {
		emit(w, VS_WEV_HELD, q, NULL, gain,
		     "%s pid %d queue %s: the change did not help: %s; someone else "
		     "changed one of its knobs since: journal apply %d left as it is",
		     q->id.vm, (int)q->id.pid, q->id.queue, why, q->apply);
	} else if (!apply_is_last(j, q->apply, q->jfirst, q->jn)) {
		emit(w, VS_WEV_HELD, q, NULL, gain,
		     "%s pid %d queue %s: the change did not help: %s; journal apply "
		     "%d is no longer the last one: left for 'virtsync rollback'",
		     q->id.vm, (int)q->id.pid, q->id.queue, why, q->apply);
	} else if (vs_apply_rollback(j, q->jfirst, NULL, NULL, &restored, &failed)) {
		emit(w, VS_WEV_ERROR, q, NULL, gain,
		     "%s pid %d queue %s: rolling back journal apply %d failed for %zu "
		     "knob(s); run 'virtsync rollback'", q->id.vm, (int)q->id.pid,
		     q->id.queue, q->apply, failed);
	} else {
		forget_apply(w, j, q->jfirst, q->jn);
		emit(w, VS_WEV_ROLLED_BACK, q, NULL, gain,
		     "%s pid %d queue %s: rolled back journal apply %d (%zu knob(s)): %s; "
		     "%.0f -> %.0f items/s", q->id.vm, (int)q->id.pid, q->id.queue,
		     q->apply, restored, why, before.throughput, after.throughput);
	}
	vs_journal_free(j);
	vs_apply_unlock(fd);
}

/* Every knob virtsync keeps written is read back: a different live value
 * was set by someone else, and stays theirs. */
static void check_drift(struct vs_watch *w)
{
	unsigned int i;

	for (i = 0; i < VS_WATCH_MAX_KNOBS; i++) {
		struct vs_watch_knob *k = &w->knobs[i];
		const struct vs_knob_ops *ops;
		char live[VS_KNOB_VAL_MAX];
		int e;

		if (!k->used || k->foreign || !k->written[0])
			continue;
		ops = vs_knob_find(k->knob);
		if (!ops)
			continue;
		e = ops->read(k->inst, live, sizeof(live));
		if (e == -ENOENT || e == -ESRCH) {	/* the target went away */
			k->used = false;
			continue;
		}
		if (e || !strcmp(live, k->written))
			continue;
		k->foreign = true;
		{
			struct vs_change a = { .knob = ops };

			snprintf(a.inst, sizeof(a.inst), "%s", k->inst);
			snprintf(a.old, sizeof(a.old), "%s", k->written);
			snprintf(a.new, sizeof(a.new), "%s", live);
			emit(w, VS_WEV_FOREIGN, NULL, &a, NAN,
			     "%s (%s) is now %s, not the %s virtsync wrote: someone else "
			     "changed it; virtsync leaves it alone and will not roll it back",
			     k->knob, k->label, live, k->written);
		}
	}
}

static void gone(struct vs_watch *w, struct vs_watch_queue *q)
{
	emit(w, VS_WEV_GONE, q, NULL, NAN, "%s pid %d queue %s: gone", q->id.vm,
	     (int)q->id.pid, q->id.queue);
	q->used = false;
}

void vs_watch_prune(struct vs_watch *w)
{
	unsigned int i;

	for (i = 0; i < VS_WATCH_MAX_QUEUES; i++) {
		struct vs_watch_queue *q = &w->q[i];
		char inst[VS_KNOB_INST_MAX];
		int tid, e;

		if (!q->used || !q->id.start)
			continue;
		snprintf(inst, sizeof(inst), "%d@%llu", (int)q->id.pid,
			 (unsigned long long)q->id.start);
		e = vs_thread_inst_check(inst, &tid);
		if (e == -ESRCH || e == -ENOENT)
			gone(w, q);
	}
}

void vs_watch_end(struct vs_watch *w)
{
	unsigned int i;

	w->windows++;
	for (i = 0; i < VS_WATCH_MAX_QUEUES; i++) {
		struct vs_watch_queue *q = &w->q[i];

		if (q->used && !q->seen)
			gone(w, q);
	}
	if (!w->o.tune)
		return;
	check_drift(w);
	for (i = 0; i < VS_WATCH_MAX_QUEUES; i++) {
		struct vs_watch_queue *q = &w->q[i];

		if (!q->used || !q->have_window)
			continue;
		if (q->tstate == VS_WT_CONFIRMING) {
			if (++q->confirm_done >= w->o.confirm_windows)
				decide(w, q);
		} else if (q->bad_run >= w->o.bad_windows) {
			try_apply(w, q);
		}
	}
}

int vs_watch_rollback_all(struct vs_watch *w)
{
	struct vs_journal *j = NULL;
	int fd = -1, e, first_err = 0;

	while (w->n_applies) {
		int apply = w->applies[--w->n_applies];
		size_t first = 0, n = 0, i, restored, failed;

		e = lock_journal(w, NULL, &fd, &j);
		if (e)
			return e;
		for (i = 0; i < vs_journal_count(j); i++) {
			struct vs_jentry en;

			if (vs_journal_get(j, i, &en) || en.apply != apply)
				continue;
			if (!n)
				first = i;
			n++;
		}
		if (apply_has_foreign(w, j, first, n)) {
			emit(w, VS_WEV_HELD, NULL, NULL, NAN,
			     "journal apply %d left in place: someone else changed one of "
			     "its knobs", apply);
		} else if (!apply_is_last(j, apply, first, n)) {
			emit(w, VS_WEV_HELD, NULL, NULL, NAN,
			     "journal apply %d left in place: it was rolled back already, "
			     "changed by someone else, or applies came after it "
			     "('virtsync rollback' undoes them all)", apply);
		} else if (vs_apply_rollback(j, first, NULL, NULL, &restored, &failed)) {
			emit(w, VS_WEV_ERROR, NULL, NULL, NAN,
			     "rolling back journal apply %d failed for %zu knob(s); run "
			     "'virtsync rollback'", apply, failed);
			if (!first_err)
				first_err = -EIO;
		} else {
			forget_apply(w, j, first, n);
			emit(w, VS_WEV_ROLLED_BACK, NULL, NULL, NAN,
			     "rolled back journal apply %d (%zu knob(s)) on exit", apply,
			     restored);
		}
		vs_journal_free(j);
		j = NULL;
		vs_apply_unlock(fd);
		fd = -1;
	}
	return first_err;
}
