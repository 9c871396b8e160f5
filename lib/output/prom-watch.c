// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus families of `virtsync watch`: each queue's last window,
 * regime, model predictions and knobs, the tuner's counts, the server's. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/httpd.h"
#include "output/prom.h"
#include "tune/watch.h"

#define MAX_LABELS 8

struct qlabels {
	char pid[16];
	struct vs_prom_label l[MAX_LABELS];
	unsigned int n;
};

static void qlabels_of(struct qlabels *ql, const struct vs_watch_queue *q)
{
	snprintf(ql->pid, sizeof(ql->pid), "%d", (int)q->id.pid);
	ql->l[0] = (struct vs_prom_label){ "vm", q->id.vm };
	ql->l[1] = (struct vs_prom_label){ "pid", ql->pid };
	ql->l[2] = (struct vs_prom_label){ "device", q->id.device };
	ql->l[3] = (struct vs_prom_label){ "queue", q->id.queue };
	ql->n = 4;
}

/* A sample of q's series with up to two more labels (NULL names: none). */
static void qsample(struct vs_prom *p, const struct vs_watch_queue *q,
		    const char *n1, const char *v1, const char *n2, const char *v2,
		    double value)
{
	struct qlabels ql;

	qlabels_of(&ql, q);
	if (n1)
		ql.l[ql.n++] = (struct vs_prom_label){ n1, v1 };
	if (n2)
		ql.l[ql.n++] = (struct vs_prom_label){ n2, v2 };
	vs_prom_sample(p, ql.l, ql.n, value);
}

#define EACH_QUEUE(w, q) \
	for (q = (w)->q; q < (w)->q + VS_WATCH_MAX_QUEUES; q++) \
		if (q->used && q->have_window)

/* A knob's text value as a number, NaN when it is not one ("Y", "0-1"). */
static double knob_number(const char *s)
{
	char *end;
	double v;

	if (!s || !*s)
		return NAN;
	v = strtod(s, &end);
	return *end ? NAN : v;
}

static void tde(struct vs_prom *p, const struct vs_watch *w, const char *name,
		const char *help, int which)
{
	const struct vs_watch_queue *q;

	vs_prom_family(p, name, VS_PROM_GAUGE, help);
	EACH_QUEUE(w, q) {
		const struct vs_plan *pl = &q->plan;
		const struct vs_sample *s = &q->sample;
		double items = s->have_items ? s->items_per_s : NAN;

		if (which == 0 && items > 0)
			qsample(p, q, "source", "measured", NULL, NULL, 1 / items);
		if (which == 1 && items > 0)
			qsample(p, q, "source", "measured", NULL, NULL,
				(s->prod.cpu + s->cons.cpu) / items);
		if (pl->valid && pl->have_cur)
			qsample(p, q, "source", "predicted", NULL, NULL,
				(which == 0 ? pl->cur.t_ns : which == 1 ? pl->cur.e_ns :
				 pl->cur.d_ns) / 1e9);
		if (pl->valid && pl->have_rec)
			qsample(p, q, "source", "recommended", NULL, NULL,
				(which == 0 ? pl->rec.t_ns : which == 1 ? pl->rec.e_ns :
				 pl->rec.d_ns) / 1e9);
	}
}

static void queue_families(struct vs_prom *p, const struct vs_watch *w)
{
	static const char *const tstates[] = { "watching", "confirming", "kept" };
	const struct vs_watch_queue *q;
	unsigned int i;

	vs_prom_family(p, "virtsync_queue_windows_total", VS_PROM_COUNTER,
		       "Measurement windows of the queue.");
	EACH_QUEUE(w, q)
		qsample(p, q, NULL, NULL, NULL, NULL, (double)q->windows);
	vs_prom_family(p, "virtsync_queue_regime_info", VS_PROM_GAUGE,
		       "The queue's regime in the last window (the paper's nine names), "
		       "with its mechanism and fast side; absent when unknown.");
	EACH_QUEUE(w, q) {
		struct qlabels ql;
		const struct vs_verdict *v = &q->verdict;

		if (!v->known)
			continue;
		qlabels_of(&ql, q);
		ql.l[ql.n++] = (struct vs_prom_label){ "regime", vs_regime_name(v->regime) };
		ql.l[ql.n++] = (struct vs_prom_label){ "mechanism", vs_mech_name(v->mech) };
		ql.l[ql.n++] = (struct vs_prom_label){ "fast", vs_fast_name(v->fast) };
		vs_prom_sample(p, ql.l, ql.n, 1);
	}
	vs_prom_family(p, "virtsync_queue_regime_confidence_ratio", VS_PROM_GAUGE,
		       "Confidence of the last window's regime, 0 to 1 (0: unknown).");
	EACH_QUEUE(w, q)
		qsample(p, q, NULL, NULL, NULL, NULL,
			q->verdict.known ? q->verdict.confidence : 0);
	vs_prom_family(p, "virtsync_queue_regime_changes_total", VS_PROM_COUNTER,
		       "Times the queue's regime changed from one known regime to another.");
	EACH_QUEUE(w, q)
		qsample(p, q, NULL, NULL, NULL, NULL, (double)q->regime_changes);
	vs_prom_family(p, "virtsync_queue_items_per_second", VS_PROM_GAUGE,
		       "Items consumed per second over the last window (NaN: not published).");
	EACH_QUEUE(w, q)
		qsample(p, q, NULL, NULL, NULL, NULL,
			q->sample.have_items ? q->sample.items_per_s : NAN);
	vs_prom_family(p, "virtsync_queue_items_total", VS_PROM_COUNTER,
		       "Items QEMU completed on the virtqueue since watch found it: its own "
		       "used index (QMP x-query-virtio-queue-status), unwrapped, as of the "
		       "last window's end.");
	EACH_QUEUE(w, q)
		if (q->have_ring)
			qsample(p, q, NULL, NULL, NULL, NULL, (double)q->items_total);
	vs_prom_family(p, "virtsync_queue_window_end_timestamp_seconds", VS_PROM_GAUGE,
		       "When the last window's last QMP sample of the virtqueue was taken "
		       "(Unix time): the moment virtsync_queue_items_total refers to.");
	EACH_QUEUE(w, q)
		if (q->have_ring)
			qsample(p, q, NULL, NULL, NULL, NULL, q->ring_end_s);
	vs_prom_family(p, "virtsync_queue_figure_source_info", VS_PROM_GAUGE,
		       "Where each figure of a QEMU virtqueue came from in the last window "
		       "(QMP used-idx, KVM tracepoints, vCPU write() calls, wake-ups).");
	EACH_QUEUE(w, q) {
		const char *const figs[][2] = {
			{ "items", q->src_items }, { "kicks", q->src_kicks },
			{ "interrupts", q->src_irqs },
		};

		if (!q->have_ring)
			continue;
		for (i = 0; i < 3; i++)
			if (figs[i][1][0])
				qsample(p, q, "figure", figs[i][0], "source", figs[i][1], 1);
	}
	vs_prom_family(p, "virtsync_queue_kicks_per_second", VS_PROM_GAUGE,
		       "Producer-to-consumer notifications per second over the last window.");
	EACH_QUEUE(w, q)
		qsample(p, q, NULL, NULL, NULL, NULL,
			q->sample.have_kicks ? q->sample.kicks_per_s : NAN);
	vs_prom_family(p, "virtsync_queue_interrupts_per_second", VS_PROM_GAUGE,
		       "Consumer-to-producer notifications per second over the last window.");
	EACH_QUEUE(w, q)
		qsample(p, q, NULL, NULL, NULL, NULL,
			q->sample.have_irqs ? q->sample.irqs_per_s : NAN);
	vs_prom_family(p, "virtsync_queue_thread_cpu_ratio", VS_PROM_GAUGE,
		       "CPU time of the producer's and consumer's threads over the last "
		       "window, in CPUs.");
	EACH_QUEUE(w, q) {
		if (q->sample.prod.present)
			qsample(p, q, "side", "producer", NULL, NULL, q->sample.prod.cpu);
		if (q->sample.cons.present)
			qsample(p, q, "side", "consumer", NULL, NULL, q->sample.cons.cpu);
	}
	vs_prom_family(p, "virtsync_queue_thread_waits_per_second", VS_PROM_GAUGE,
		       "Voluntary context switches (waits) per second of each side.");
	EACH_QUEUE(w, q) {
		if (q->sample.prod.present)
			qsample(p, q, "side", "producer", NULL, NULL, q->sample.prod.waits_per_s);
		if (q->sample.cons.present)
			qsample(p, q, "side", "consumer", NULL, NULL, q->sample.cons.waits_per_s);
	}
	tde(p, w, "virtsync_queue_item_interval_seconds",
	    "T: time between items, measured (1/throughput), predicted by the model "
	    "for the settings in force, and for the recommended ones.", 0);
	tde(p, w, "virtsync_queue_item_cpu_seconds",
	    "E: CPU time per item of both sides, measured and predicted.", 1);
	tde(p, w, "virtsync_queue_latency_bound_seconds",
	    "D: the model's worst-case latency bound, in force and recommended.", 2);
	vs_prom_family(p, "virtsync_queue_knob_value", VS_PROM_GAUGE,
		       "Numeric knobs that matter to the queue, as read in the last window.");
	EACH_QUEUE(w, q)
		for (i = 0; i < q->plan.n_actions; i++) {
			const struct vs_advice *a = &q->plan.actions[i];
			double v = knob_number(a->current);

			if (isfinite(v))
				qsample(p, q, "knob", a->knob, "role", a->role, v);
		}
	vs_prom_family(p, "virtsync_queue_knob_recommended_value", VS_PROM_GAUGE,
		       "The value the last window's plan recommends for each knob.");
	EACH_QUEUE(w, q)
		for (i = 0; i < q->plan.n_actions; i++) {
			const struct vs_advice *a = &q->plan.actions[i];
			double v = knob_number(a->value);

			if (isfinite(v))
				qsample(p, q, "knob", a->knob, "role", a->role, v);
		}
	vs_prom_family(p, "virtsync_queue_bad_windows", VS_PROM_GAUGE,
		       "Consecutive windows in which the model predicted a gain that "
		       "virtsync could apply now.");
	EACH_QUEUE(w, q)
		qsample(p, q, NULL, NULL, NULL, NULL, q->bad_run);
	vs_prom_family(p, "virtsync_queue_tune_state_info", VS_PROM_GAUGE,
		       "Where the queue is in the --tune loop.");
	EACH_QUEUE(w, q)
		qsample(p, q, "state", tstates[q->tstate], NULL, NULL, 1);
}

static void tuner_families(struct vs_prom *p, const struct vs_watch *w)
{
	unsigned int i;

	vs_prom_family(p, "virtsync_watch_windows_total", VS_PROM_COUNTER,
		       "Measurement windows since virtsync watch started.");
	vs_prom_sample(p, NULL, 0, (double)w->windows);
	vs_prom_family(p, "virtsync_watch_events_total", VS_PROM_COUNTER,
		       "Events logged, by kind (regime changes, advice, tuning steps).");
	for (i = 0; i <= VS_WEV_ERROR; i++) {
		const struct vs_prom_label l = { "event", vs_watch_ev_name(i) };

		vs_prom_sample(p, &l, 1, (double)w->ev_count[i]);
	}
	vs_prom_family(p, "virtsync_tune_knob_value", VS_PROM_GAUGE,
		       "Knobs virtsync watch --tune wrote and keeps, with who owns them now.");
	for (i = 0; i < VS_WATCH_MAX_KNOBS; i++) {
		const struct vs_watch_knob *k = &w->knobs[i];
		double v = knob_number(k->written);
		const struct vs_prom_label l[] = {
			{ "knob", k->knob }, { "instance", k->inst },
			{ "owner", k->foreign ? "other" : "virtsync" },
		};

		if (k->used && isfinite(v))
			vs_prom_sample(p, l, 3, v);
	}
}

int vs_prom_watch(struct vs_prom *p, const struct vs_watch *w, double window_s,
		  const char *version)
{
	const struct vs_prom_label l = { "version", version };

	vs_prom_family(p, "virtsync_build_info", VS_PROM_GAUGE,
		       "virtsync's version, value 1.");
	vs_prom_sample(p, &l, 1, 1);
	vs_prom_family(p, "virtsync_watch_window_seconds", VS_PROM_GAUGE,
		       "Length of one measurement window (--interval).");
	vs_prom_sample(p, NULL, 0, window_s);
	tuner_families(p, w);
	queue_families(p, w);
	return vs_prom_error(p);
}

int vs_prom_httpd(struct vs_prom *p, const struct vs_httpd_stats *st)
{
	static const char *const codes[] = { "200", "404", "405", "400", "431", "500" };
	const uint64_t n[] = { st->ok, st->not_found, st->bad_method, st->bad_request,
			       st->too_large, st->failed };
	unsigned int i;

	vs_prom_family(p, "virtsync_http_requests_total", VS_PROM_COUNTER,
		       "Requests answered by the metrics server, by status code.");
	for (i = 0; i < 6; i++) {
		const struct vs_prom_label l = { "code", codes[i] };

		vs_prom_sample(p, &l, 1, (double)n[i]);
	}
	vs_prom_family(p, "virtsync_http_connections_closed_total", VS_PROM_COUNTER,
		       "Connections the server closed early: at their deadline, or to "
		       "make room for a new one.");
	{
		const struct vs_prom_label t = { "reason", "timeout" };
		const struct vs_prom_label e = { "reason", "evicted" };

		vs_prom_sample(p, &t, 1, (double)st->timed_out);
		vs_prom_sample(p, &e, 1, (double)st->evicted);
	}
	vs_prom_family(p, "virtsync_http_connections", VS_PROM_GAUGE,
		       "Connections open on the metrics server.");
	vs_prom_sample(p, NULL, 0, st->open);
	return vs_prom_error(p);
}
