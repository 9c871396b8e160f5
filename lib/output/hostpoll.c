// SPDX-License-Identifier: GPL-2.0-only
/* diagnose's host section: shared polling cores (hostpoll.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/units.h"
#include "output/diagnose.h"
#include "output/hostpoll.h"

/* A measured queue as the plan's input: Wc from the verdict, else the
 * consumer's CPU per item; the burst is items per notification. */
static void queue_in(const struct vs_diag_queue *q, struct vs_hostpoll_queue *in)
{
	const struct vs_sample *s = &q->sample;
	double wakes;

	memset(in, 0, sizeof(*in));
	if (q->dev)
		snprintf(in->name, sizeof(in->name), "%d %.16s %.24s/%u", (int)q->vm->pid,
			 q->vm->comm, q->dev->id, q->ring->index);
	else
		snprintf(in->name, sizeof(in->name), "%d %.32s", (int)q->vm->pid, q->vm->comm);
	in->items_per_s = s->have_items ? s->items_per_s : NAN;
	in->wc_ns = q->verdict.known && q->verdict.params.wc > 0 ? q->verdict.params.wc :
		s->cons.present && in->items_per_s > 0 ? s->cons.cpu * 1e9 / in->items_per_s : NAN;
	in->cons_cpu = s->cons.present ? s->cons.cpu : 0;
	wakes = s->have_kicks ? s->kicks_per_s : s->cons.present ? s->cons.waits_per_s : NAN;
	in->kicks_per_s = isnan(wakes) ? 0 : wakes;
	in->burst = wakes > 0 && in->items_per_s > 0 ? in->items_per_s / wakes : 1;
	if (in->burst < 1)
		in->burst = 1;
}

int vs_hostpoll_from_diag(const struct vs_diagnosis *d, struct vs_hostpoll *hp)
{
	struct vs_hostpoll_queue in[VS_MQ_MAX];
	unsigned int i, n = 0;

	for (i = 0; i < d->n_queues && n < VS_MQ_MAX; i++)
		if (!d->queues[i].err)
			queue_in(&d->queues[i], &in[n++]);
	return vs_hostpoll_plan(in, n, d->dmax_ns, d->hc.notify_ns, d->hc.wake_ns, hp);
}

void vs_hostpoll_print(FILE *f, const struct vs_diagnosis *d)
{
	struct vs_hostpoll hp;
	char a[VS_FMT_LEN], b[VS_FMT_LEN], line[400];
	unsigned int i;

	if (vs_hostpoll_from_diag(d, &hp) || !hp.known)
		return;
	fprintf(f, "\nHost: shared polling cores for %u measured queues (%u polled)\n",
		hp.n, hp.n_polled);
	snprintf(line, sizeof(line), "now: %.2f CPUs (consumer threads, and %.2f for the producers' kicks)",
		 hp.cpu_now, hp.cpu_now_kicks);
	vs_print_hanging(f, 2, 5, line);
	if (hp.pollers)
		snprintf(line, sizeof(line),
			 "advice: %u shared poller%s at Dmax %s: %.2f CPUs, p98 %s predicted; the loads may grow x%.2f before one more is needed",
			 hp.pollers, hp.pollers > 1 ? "s" : "",
			 vs_format_time(hp.dmax_ns, a, sizeof(a)), hp.cpu,
			 vs_format_time(hp.p98_ns, b, sizeof(b)), hp.headroom);
	else
		snprintf(line, sizeof(line), "advice: none: %s", hp.why);
	vs_print_hanging(f, 2, 8, line);
	if (hp.pollers) {
		snprintf(line, sizeof(line), "against now: %+.2f CPUs (%s)", hp.cpu - hp.cpu_now,
			 hp.cpu < hp.cpu_now ? "the pollers cost less than the threads and their wake-ups" :
			 "polling buys latency and no exits here, not CPU");
		vs_print_hanging(f, 2, 14, line);
	}
	for (i = 0; i < hp.n_shapes; i++)
		fprintf(f, "  S=%-3u cpus %5.2f  p98 %-10s%s\n", hp.shape[i].pollers,
			hp.shape[i].cpu, vs_format_time(hp.shape[i].p98_ns, a, sizeof(a)),
			hp.shape[i].saturated ? "  saturated" : "");
	for (i = 0; i < hp.n; i++)
		if (!hp.polled[i]) {
			snprintf(line, sizeof(line), "stays on notifications: %s (%.0f kicks/s, below %.0f/s)",
				 hp.q[i].name, hp.q[i].kicks_per_s, VS_HOSTPOLL_NOTIFY_RATE);
			vs_print_hanging(f, 2, 4, line);
		}
	vs_print_hanging(f, 2, 0,
			 "(lib/model/mq.h fed the measured rates, Wc and items per notification; docs/polling-cores.md)");
}

json_t *vs_hostpoll_json(const struct vs_diagnosis *d)
{
	struct vs_hostpoll hp;
	json_t *o, *qs, *sh;
	unsigned int i;

	if (vs_hostpoll_from_diag(d, &hp) || !hp.known)
		return NULL;
	o = json_object();
	qs = json_array();
	sh = json_array();
	json_object_set_new(o, "queues_measured", json_integer(hp.n));
	json_object_set_new(o, "queues_polled", json_integer(hp.n_polled));
	json_object_set_new(o, "dmax_ns", vs_json_num(hp.dmax_ns));
	json_object_set_new(o, "cpu_now", vs_json_num(hp.cpu_now));
	json_object_set_new(o, "cpu_now_kicks", vs_json_num(hp.cpu_now_kicks));
	json_object_set_new(o, "pollers", hp.pollers ? json_integer(hp.pollers) : json_null());
	json_object_set_new(o, "cpu", hp.pollers ? vs_json_num(hp.cpu) : json_null());
	json_object_set_new(o, "p98_ns", hp.pollers ? vs_json_num(hp.p98_ns) : json_null());
	json_object_set_new(o, "headroom", hp.pollers ? vs_json_num(hp.headroom) : json_null());
	if (hp.why[0])
		json_object_set_new(o, "why", json_string(hp.why));
	for (i = 0; i < hp.n; i++)
		json_array_append_new(qs, json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:b}",
			"name", hp.q[i].name, "items_per_s", vs_json_num(hp.q[i].items_per_s),
			"wc_ns", vs_json_num(hp.q[i].wc_ns), "burst", vs_json_num(hp.q[i].burst),
			"consumer_cpu", vs_json_num(hp.q[i].cons_cpu),
			"kicks_per_s", vs_json_num(hp.q[i].kicks_per_s),
			"stays_on_notifications", !hp.polled[i]));
	for (i = 0; i < hp.n_shapes; i++)
		json_array_append_new(sh, json_pack("{s:I,s:o,s:o,s:I}",
			"pollers", (json_int_t)hp.shape[i].pollers, "cpu", vs_json_num(hp.shape[i].cpu),
			"p98_ns", vs_json_num(hp.shape[i].p98_ns),
			"saturated", (json_int_t)hp.shape[i].saturated));
	json_object_set_new(o, "queues", qs);
	json_object_set_new(o, "shapes", sh);
	return o;
}

static double jnum(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

void vs_hostpoll_summary(const json_t *hp, char *buf, size_t len)
{
	char a[VS_FMT_LEN], b[VS_FMT_LEN];

	if (json_is_integer(json_object_get(hp, "pollers")))
		snprintf(buf, len, "Host: %lld of %lld measured queues polled by %lld shared "
			 "poller(s) at Dmax %s: %.2f CPUs against %.2f now, p98 %s predicted.",
			 (long long)jnum(hp, "queues_polled"), (long long)jnum(hp, "queues_measured"),
			 (long long)jnum(hp, "pollers"), vs_format_time(jnum(hp, "dmax_ns"), a, sizeof(a)),
			 jnum(hp, "cpu"), jnum(hp, "cpu_now"),
			 vs_format_time(jnum(hp, "p98_ns"), b, sizeof(b)));
	else
		snprintf(buf, len, "Host: no shared-poller count meets Dmax %s (%s).",
			 vs_format_time(jnum(hp, "dmax_ns"), a, sizeof(a)),
			 json_string_value(json_object_get(hp, "why")) ?: "");
}

void vs_hostpoll_charts(const json_t *hp, struct vs_chart **cpu, struct vs_chart **p98)
{
	const json_t *sh = json_object_get(hp, "shapes"), *e;
	double xs[VS_MQ_MAX], yc[VS_MQ_MAX], yl[VS_MQ_MAX], now = jnum(hp, "cpu_now");
	unsigned int n = 0;
	size_t i;

	*cpu = *p98 = NULL;
	json_array_foreach(sh, i, e) {
		if (n >= VS_MQ_MAX)
			break;
		xs[n] = jnum(e, "pollers");
		yc[n] = jnum(e, "cpu");
		yl[n] = jnum(e, "p98_ns") / 1e3;
		n++;
	}
	if (!n)
		return;
	*cpu = vs_chart_new("Shared pollers: CPUs", "pollers S", "CPUs");
	*p98 = vs_chart_new("Shared pollers: worst p98", "pollers S", "p98 (us)");
	if (*cpu) {
		vs_chart_add_series(*cpu, "predicted", VS_SERIES_LINE, xs, yc, n);
		if (!isnan(now))
			vs_chart_add_rule(*cpu, true, now, "threads and kicks now");
	}
	if (*p98) {
		vs_chart_add_series(*p98, "predicted p98", VS_SERIES_LINE, xs, yl, n);
		if (!isnan(jnum(hp, "dmax_ns")))
			vs_chart_add_rule(*p98, true, jnum(hp, "dmax_ns") / 1e3, "Dmax");
	}
}
