// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus families of `virtsync watch`: each queue's last window,
 * regime, model predictions and knobs, the tuner's counts, the server's.
 * One walk through the emitter (output/emit.h) each, so a JSON or text view
 * of the same structs would carry the same fields; the emitter makes the
 * names ("queue" + "thread_cpu" + a ratio is virtsync_queue_thread_cpu_ratio)
 * and the labels (a queue's vm, pid, device and queue strings).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/emit.h"
#include "output/httpd.h"
#include "output/prom.h"
#include "tune/watch.h"

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

/* T, E or D measured, in force and recommended, one family by source. */
static void tde(struct vs_emitter *e, const struct vs_watch_queue *q,
		const char *key, const char *help, int which)
{
	const struct vs_plan *pl = &q->plan;
	const struct vs_sample *s = &q->sample;
	double items = s->have_items ? s->items_per_s : NAN;

	vs_emit_open_map(e, key, help, "source");
	if (which == 0 && items > 0)
		vs_emit_ns(e, "measured", "measured", 1e9 / items);
	if (which == 1 && items > 0)
		vs_emit_ns(e, "measured", "measured", 1e9 * (s->prod.cpu + s->cons.cpu) / items);
	if (pl->valid && pl->have_cur)
		vs_emit_ns(e, "predicted", "predicted", which == 0 ? pl->cur.t_ns :
			   which == 1 ? pl->cur.e_ns : pl->cur.d_ns);
	if (pl->valid && pl->have_rec)
		vs_emit_ns(e, "recommended", "recommended", which == 0 ? pl->rec.t_ns :
			   which == 1 ? pl->rec.e_ns : pl->rec.d_ns);
	vs_emit_close(e);
}

static void sides(struct vs_emitter *e, const struct vs_sample *s, int waits)
{
	const struct vs_thread_sample *side[2] = { &s->prod, &s->cons };
	static const char *const name[2] = { "producer", "consumer" };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		if (!side[i]->present)
			continue;
		if (waits)
			vs_emit_rate(e, name[i], name[i], side[i]->waits_per_s);
		else
			vs_emit_ratio(e, name[i], name[i], side[i]->cpu);
	}
}

static void queue(struct vs_emitter *e, const struct vs_watch_queue *q)
{
	static const char *const tstates[] = { "watching", "confirming", "kept" };
	const struct vs_verdict *v = &q->verdict;
	const struct vs_sample *s = &q->sample;
	unsigned int i;

	vs_emit_open(e, NULL, NULL);
	vs_emit_str(e, "vm", "VM", q->id.vm);
	vs_emit_id(e, "pid", "pid", q->id.pid);
	vs_emit_str(e, "device", "device", q->id.device);
	vs_emit_str(e, "queue", "queue", q->id.queue);
	vs_emit_counter(e, "windows_total", "Measurement windows of the queue.", q->windows);
	vs_emit_open(e, "regime", "regime");
	vs_emit_ratio(e, "confidence_ratio",
		      "Confidence of the last window's regime, 0 to 1 (0: unknown).",
		      v->known ? v->confidence : 0);
	vs_emit_counter(e, "changes_total",
			"Times the queue's regime changed from one known regime to another.",
			q->regime_changes);
	if (v->known) {
		/* strings after the numbers: they label only "info" */
		vs_emit_str(e, "regime", "regime", vs_regime_name(v->regime));
		vs_emit_str(e, "mechanism", "mechanism", vs_mech_name(v->mech));
		vs_emit_str(e, "fast", "fast side", vs_fast_name(v->fast));
		vs_emit_u64(e, "info", "The queue's regime in the last window (the paper's "
			    "nine names), with its mechanism and fast side; absent when unknown.", 1);
	}
	vs_emit_close(e);
	vs_emit_rate(e, "items_per_s",
		     "Items consumed per second over the last window (NaN: not published).",
		     s->have_items ? s->items_per_s : NAN);
	if (q->have_ring) {
		const char *const figs[][2] = {
			{ "items", q->src_items }, { "kicks", q->src_kicks },
			{ "interrupts", q->src_irqs },
		};

		vs_emit_counter(e, "items_total",
				"Items QEMU completed on the virtqueue since watch found it: its "
				"own used index (QMP x-query-virtio-queue-status), unwrapped, as "
				"of the last window's end.", q->items_total);
		vs_emit_seconds(e, "window_end_timestamp_s",
				"When the last window's last QMP sample of the virtqueue was "
				"taken (Unix time): the moment virtsync_queue_items_total refers "
				"to.", q->ring_end_s);
		vs_emit_open_array(e, "figure_source", "figure sources");
		for (i = 0; i < 3; i++) {
			if (!figs[i][1][0])
				continue;
			vs_emit_open(e, NULL, NULL);
			vs_emit_str(e, "figure", "figure", figs[i][0]);
			vs_emit_str(e, "source", "source", figs[i][1]);
			vs_emit_u64(e, "info", "Where each figure of a QEMU virtqueue came from "
				    "in the last window (QMP used-idx, KVM tracepoints, vCPU "
				    "write() calls, wake-ups).", 1);
			vs_emit_close(e);
		}
		vs_emit_close(e);
	}
	vs_emit_rate(e, "kicks_per_s",
		     "Producer-to-consumer notifications per second over the last window.",
		     s->have_kicks ? s->kicks_per_s : NAN);
	vs_emit_rate(e, "interrupts_per_s",
		     "Consumer-to-producer notifications per second over the last window.",
		     s->have_irqs ? s->irqs_per_s : NAN);
	vs_emit_open_map(e, "thread_cpu", "CPU time of the producer's and consumer's "
			 "threads over the last window, in CPUs.", "side");
	sides(e, s, 0);
	vs_emit_close(e);
	vs_emit_open_map(e, "thread_waits",
			 "Voluntary context switches (waits) per second of each side.", "side");
	sides(e, s, 1);
	vs_emit_close(e);
	tde(e, q, "item_interval", "T: time between items, measured (1/throughput), "
	    "predicted by the model for the settings in force, and for the "
	    "recommended ones.", 0);
	tde(e, q, "item_cpu", "E: CPU time per item of both sides, measured and predicted.", 1);
	tde(e, q, "latency_bound",
	    "D: the model's worst-case latency bound, in force and recommended.", 2);
	vs_emit_open_array(e, "knob", "knobs");
	for (i = 0; i < q->plan.n_actions; i++) {
		const struct vs_advice *a = &q->plan.actions[i];
		double cur = knob_number(a->current), rec = knob_number(a->value);

		if (!isfinite(cur) && !isfinite(rec))
			continue;
		vs_emit_open(e, NULL, NULL);
		vs_emit_str(e, "knob", "knob", a->knob);
		vs_emit_str(e, "role", "role", a->role);
		if (isfinite(cur))
			vs_emit_num(e, "value", "Numeric knobs that matter to the queue, as "
				    "read in the last window.", cur);
		if (isfinite(rec))
			vs_emit_num(e, "recommended_value", "The value the last window's "
				    "plan recommends for each knob.", rec);
		vs_emit_close(e);
	}
	vs_emit_close(e);
	vs_emit_u64(e, "bad_windows", "Consecutive windows in which the model predicted "
		    "a gain that virtsync could apply now.", q->bad_run);
	vs_emit_open(e, "tune_state", "tuning");
	vs_emit_str(e, "state", "state", tstates[q->tstate]);
	vs_emit_u64(e, "info", "Where the queue is in the --tune loop.", 1);
	vs_emit_close(e);
	vs_emit_close(e);
}

int vs_emit_watch(struct vs_emitter *e, const struct vs_watch *w, double window_s,
		  const char *version)
{
	const struct vs_watch_queue *q;
	unsigned int i;

	vs_emit_open(e, "build", "build");
	vs_emit_str(e, "version", "version", version);
	vs_emit_u64(e, "info", "virtsync's version, value 1.", 1);
	vs_emit_close(e);
	vs_emit_open(e, "watch", "watch");
	vs_emit_seconds(e, "window_s", "Length of one measurement window (--interval).",
			window_s);
	vs_emit_counter(e, "windows_total", "Measurement windows since virtsync watch "
			"started.", w->windows);
	vs_emit_open_map(e, "events_total", "Events logged, by kind (regime changes, "
			 "advice, tuning steps).", "event");
	for (i = 0; i <= VS_WEV_ERROR; i++)
		vs_emit_counter(e, vs_watch_ev_name(i), vs_watch_ev_name(i), w->ev_count[i]);
	vs_emit_close(e);
	vs_emit_close(e);
	vs_emit_open_array(e, "tune_knob", "knobs tuned");
	for (i = 0; i < VS_WATCH_MAX_KNOBS; i++) {
		const struct vs_watch_knob *k = &w->knobs[i];
		double v = knob_number(k->written);

		if (!k->used || !isfinite(v))
			continue;
		vs_emit_open(e, NULL, NULL);
		vs_emit_str(e, "knob", "knob", k->knob);
		vs_emit_str(e, "instance", "instance", k->inst);
		vs_emit_str(e, "owner", "owner", k->foreign ? "other" : "virtsync");
		vs_emit_num(e, "value", "Knobs virtsync watch --tune wrote and keeps, with "
			    "who owns them now.", v);
		vs_emit_close(e);
	}
	vs_emit_close(e);
	vs_emit_open_array(e, "queue", "queues");
	for (q = w->q; q < w->q + VS_WATCH_MAX_QUEUES; q++)
		if (q->used && q->have_window)
			queue(e, q);
	vs_emit_close(e);
	return vs_emit_error(e);
}

int vs_emit_httpd(struct vs_emitter *e, const struct vs_httpd_stats *st)
{
	static const char *const codes[] = { "200", "404", "405", "400", "431", "500" };
	const uint64_t n[] = { st->ok, st->not_found, st->bad_method, st->bad_request,
			       st->too_large, st->failed };
	unsigned int i;

	vs_emit_open(e, "http", "metrics server");
	vs_emit_open_map(e, "requests_total", "Requests answered by the metrics server, "
			 "by status code.", "code");
	for (i = 0; i < 6; i++)
		vs_emit_counter(e, codes[i], codes[i], n[i]);
	vs_emit_close(e);
	vs_emit_open_map(e, "connections_closed_total", "Connections the server closed "
			 "early: at their deadline, or to make room for a new one.", "reason");
	vs_emit_counter(e, "timeout", "timeout", st->timed_out);
	vs_emit_counter(e, "evicted", "evicted", st->evicted);
	vs_emit_close(e);
	vs_emit_u64(e, "connections", "Connections open on the metrics server.", st->open);
	vs_emit_close(e);
	return vs_emit_error(e);
}

int vs_prom_watch(struct vs_prom *p, const struct vs_watch *w, double window_s,
		  const char *version)
{
	struct vs_emitter *e = vs_emit_new_prom(p, "virtsync");

	if (!e)
		return -ENOMEM;
	vs_emit_watch(e, w, window_s, version);
	return vs_emit_finish(e);
}

int vs_prom_httpd(struct vs_prom *p, const struct vs_httpd_stats *st)
{
	struct vs_emitter *e = vs_emit_new_prom(p, "virtsync");

	if (!e)
		return -ENOMEM;
	vs_emit_httpd(e, st);
	return vs_emit_finish(e);
}
