// SPDX-License-Identifier: GPL-2.0-only
/* The report of a closed-loop tune: what was tuned, the measurements before
 * and after, and the decision. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "output/ratio.h"
#include "output/report-impl.h"
#include "output/svg.h"
#include "core/units.h"

/* What was tuned, in one sentence: the target and the bounds. */
static void tune_context(struct out *o, const json_t *doc)
{
	char line[512], t[32];
	size_t used = 0;

#define ADD(...) (used += (size_t)snprintf(line + used, used < sizeof(line) ? \
					    sizeof(line) - used : 0, __VA_ARGS__))
	ADD("Target:");
	if (json_is_string(json_object_get(doc, "qmp")))
		ADD(" QEMU pid %.0f through QMP %s; objective command '%s' (goal %s)",
		    num(doc, "pid"), str_or(doc, "qmp", "?"), str_or(doc, "objective", "?"),
		    str_or(doc, "goal", "throughput"));
	else if (json_is_number(json_object_get(doc, "pid")))
		ADD(" reference device pid %.0f, %s backend", num(doc, "pid"),
		    str_or(doc, "backend", "thread"));
	else
		ADD(" eventfd ping-pong between two pinned threads");
	if (json_is_string(json_object_get(doc, "regime")))
		ADD("; diagnose's regime %s", str_or(doc, "regime", "?"));
	if (json_is_string(json_object_get(doc, "plan_file")))
		ADD("; plan from %s", str_or(doc, "plan_file", "?"));
	if (isfinite(num(doc, "dmax_ns"))) {
		vs_format_time(num(doc, "dmax_ns"), t, sizeof(t));
		ADD("; Dmax %s", t);
	}
	if (num(doc, "host_steps_left_out") > 0)
		ADD("; %.0f host-wide step(s) of the plan left out", num(doc, "host_steps_left_out"));
#undef ADD
	rpt_para(o, line);
}

/* One value per window (device, QEMU) or batch (wakeup) of a measurement. */
static unsigned int tune_series(const json_t *m, const char *key, double *ys,
				unsigned int max)
{
	const json_t *arr = json_object_get(m, "windows"), *el;
	unsigned int n = 0;
	size_t i;

	if (!arr)
		arr = json_object_get(m, "batches");
	json_array_foreach(arr, i, el)
		if (n < max)
			ys[n++] = num(el, key);
	return n;
}

/*
 * Every window before and after the change, so a reader sees the spread
 * behind the medians: the objective, and p98 against Dmax where measured.
 */
static void tune_charts(struct out *o, const json_t *doc)
{
	static const char *const metrics[][3] = {
		{ "throughput_ops", "Throughput of each measurement window", "items/s" },
		{ "latency_ns", "Objective of each run", "latency (ns)" },
		{ "median_ns", "Median round trip of each batch", "round trip (ns)" },
		{ "cpu_ns_per_item", "CPU per item of each window", "CPU ns per item" },
		{ "p98_ns", "p98 latency of each window", "p98 (ns)" },
	};
	const json_t *mb = json_object_get(doc, "measured_before");
	const json_t *ma = json_object_get(doc, "measured_after");
	double yb[64], ya[64], xb[64], xa[64];
	unsigned int m, i, nb, na;

	for (m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		struct vs_chart *c;
		bool any = false;

		nb = tune_series(mb, metrics[m][0], yb, 64);
		na = json_is_object(ma) ? tune_series(ma, metrics[m][0], ya, 64) : 0;
		for (i = 0; i < nb; i++)
			any |= isfinite(yb[i]), xb[i] = i + 1;
		for (i = 0; i < na; i++)
			any |= isfinite(ya[i]), xa[i] = nb + i + 1;
		if (!any)
			continue;
		c = vs_chart_new(metrics[m][1], "window (before, then after the change)",
				 metrics[m][2]);
		if (!c)
			return;
		if (nb)
			vs_chart_add_series(c, "before", VS_SERIES_POINTS, xb, yb, nb);
		if (na)
			vs_chart_add_series(c, "after", VS_SERIES_POINTS, xa, ya, na);
		if (!strcmp(metrics[m][0], "p98_ns") && isfinite(num(doc, "dmax_ns")))
			vs_chart_add_rule(c, true, num(doc, "dmax_ns"), "Dmax");
		rpt_chart(o, c);
	}
}

/* tune: the before/after table and the decision. */
void rpt_tune(struct out *o, const json_t *doc)
{
	static const char *const cols[] = { "objective", "before", "after", VS_RATIO_HEADING };
	const json_t *before = json_object_get(doc, "before"), *after = json_object_get(doc, "after");
	const json_t *dec = json_object_get(doc, "decision"), *v, *el;
	const char *key;
	char line[320], a[32], b[32], r[48];
	size_t i;

	rpt_heading(o, 3, "Closed-loop tuning");
	snprintf(line, sizeof(line), "workload %s: change %s, %s (%s).",
		 str_or(doc, "workload", "?"),
		 json_is_true(json_object_get(dec, "applied")) ? "applied" : "not applied",
		 !json_is_true(json_object_get(dec, "applied")) ? "nothing to undo" :
		 json_is_true(json_object_get(dec, "kept")) ? "kept" : "rolled back",
		 str_or(dec, "why", ""));
	rpt_para(o, line);
	tune_context(o, doc);
	rpt_table_begin(o, cols, 4);
	json_object_foreach((json_t *)before, key, v) {
		double bv = json_number_value(v), av = num(after, key);
		int is_ns = strstr(key, "_ns") != NULL;

		if (!json_is_number(v))
			continue;
		if (is_ns) {
			vs_format_time(bv, a, sizeof(a));
			vs_format_time(av, b, sizeof(b));
		} else {
			rpt_fmt_num(bv, a, sizeof(a));
			rpt_fmt_num(av, b, sizeof(b));
		}
		vs_format_ratio(bv, av, vs_ratio_what(key), r, sizeof(r));
		rpt_table_row(o, (const char *[]){ key, a, b, r }, 4);
	}
	rpt_table_end(o);
	if (json_array_size(json_object_get(doc, "actions"))) {
		static const char *const acols[] = { "step", "detail" };

		rpt_table_begin(o, acols, 2);
		json_array_foreach(json_object_get(doc, "actions"), i, el) {
			char detail[512];

			snprintf(a, sizeof(a), "%zu", i + 1);
			snprintf(detail, sizeof(detail), "%s on %s: %s -> %s (%s)",
				 str_or(el, "knob", "?"), str_or(el, "label", str_or(el, "target", "?")),
				 str_or(el, "old", "?"), str_or(el, "new", "?"), str_or(el, "why", ""));
			rpt_table_row(o, (const char *[]){ a, detail }, 2);
		}
		rpt_table_end(o);
	}
	tune_charts(o, doc);
}
