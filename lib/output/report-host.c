// SPDX-License-Identifier: GPL-2.0-only
/* The report of what was measured of the host itself: sleep cost, C-state
 * wake-up latency, topology. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "output/report-impl.h"
#include "output/svg.h"
#include "core/units.h"

/* Fig. 5: effective sleep and CPU cost per sleep against the nominal
 * sleep, once per timer slack. */
void rpt_sleepcost(struct out *o, const json_t *doc)
{
	static const char *const sides[] = { "current_slack", "slack_1ns" };
	struct vs_chart *c = vs_chart_new("Sleep cost (paper Fig. 5)", "nominal sleep (ns)",
					  "ns");
	char a[32], b[32], line[256];
	unsigned int k;

	vs_chart_set_log(c, true, true);
	for (k = 0; k < 2; k++) {
		const json_t *side = json_object_get(doc, sides[k]);
		const json_t *pts = json_object_get(side, "points");
		char name[64];

		if (!pts)
			continue;
		snprintf(name, sizeof(name), "effective p50, slack %s", VS_TIME(num(side, "slack_ns")));
		rpt_add_column_series(c, name, VS_SERIES_LINE, pts, "nominal_ns", "effective", "p50_ns");
		snprintf(name, sizeof(name), "cost, slack %s", VS_TIME(num(side, "slack_ns")));
		rpt_add_column_series(c, name, VS_SERIES_POINTS, pts, "nominal_ns", NULL, "cost_ns");
	}
	rpt_heading(o, 3, "Sleep cost");
	snprintf(line, sizeof(line), "Yz (shortest useful sleep): %s with the current slack, %s with 1 ns slack; cost measured from %s.",
		 vs_format_time(num(doc, "yz_ns"), a, sizeof(a)), vs_format_time(num(doc, "yz_1ns_ns"), b, sizeof(b)),
		 str_or(doc, "cost_source", "?"));
	rpt_para(o, line);
	rpt_chart(o, c);
	for (k = 0; k < 2; k++) {
		static const char *const cols[] = { "slack", "nominal", "effective p50",
						    "effective p99", "CPU cost" };
		const json_t *side = json_object_get(doc, sides[k]), *pt;
		size_t i;

		if (!side)
			continue;
		rpt_table_begin(o, cols, 5);
		json_array_foreach(json_object_get(side, "points"), i, pt) {
			char sl[32], nom[32], p50[32], p99[32], cost[32];
			const json_t *eff = json_object_get(pt, "effective");
			const char *cells[5] = {
				vs_format_time(num(side, "slack_ns"), sl, sizeof(sl)),
				vs_format_time(num(pt, "nominal_ns"), nom, sizeof(nom)),
				vs_format_time(num(eff, "p50_ns"), p50, sizeof(p50)),
				vs_format_time(num(eff, "p99_ns"), p99, sizeof(p99)),
				vs_format_time(num(pt, "cost_ns"), cost, sizeof(cost)),
			};

			rpt_table_row(o, cells, 5);
		}
		rpt_table_end(o);
	}
}

/* C-state wake-up table: declared exit latency against measured. */
void rpt_idlelat(struct out *o, const json_t *doc)
{
	static const char *const cols[] = { "state", "declared", "timer p50", "timer p99",
					    "IPI p50", "IPI p99", "entered" };
	const json_t *st;
	char line[160];
	size_t i;

	rpt_heading(o, 3, "Idle-state wake-up latency");
	snprintf(line, sizeof(line), "CPU %.0f, cpuidle driver %s, governor %s.",
		 num(doc, "cpu"), str_or(doc, "driver", "?"), str_or(doc, "governor", "?"));
	rpt_para(o, line);
	rpt_table_begin(o, cols, 7);
	json_array_foreach(json_object_get(doc, "states"), i, st) {
		char d[32], t50[32], t99[32], i50[32], i99[32];
		const json_t *t = json_object_get(st, "timer"), *ipi = json_object_get(st, "ipi");
		const char *cells[7] = {
			str_or(st, "name", "?"),
			vs_format_time(num(st, "declared_latency_ns"), d, sizeof(d)),
			vs_format_time(num(t, "p50_ns"), t50, sizeof(t50)),
			vs_format_time(num(t, "p99_ns"), t99, sizeof(t99)),
			vs_format_time(num(ipi, "p50_ns"), i50, sizeof(i50)),
			vs_format_time(num(ipi, "p99_ns"), i99, sizeof(i99)),
			json_is_true(json_object_get(st, "entered")) ? "yes" : "no",
		};

		rpt_table_row(o, cells, 7);
	}
	rpt_table_end(o);
}

/* virtsync topo: the topology, the round-trip heat map (an unstable pair
 * split between its two modes), the pairs and the clusters. */
void rpt_topo(struct out *o, const json_t *doc)
{
	static const char *const pcols[] = { "pair", "relation", "round trip", "samples" };
	static const char *const ccols[] = { "CPUs", "median", "what they share" };
	const json_t *t = json_object_get(doc, "topology"), *c = json_object_get(doc, "c2c");
	const json_t *cpus = json_object_get(c, "cpus"), *pairs = json_object_get(c, "pairs");
	const json_t *v;
	char line[256], a[VS_FMT_LEN], b[VS_FMT_LEN];
	size_t n = json_array_size(cpus), i, shown = 0;

	snprintf(line, sizeof(line), "CPUs %s: %lld cores, %lld package(s), %s; NUMA: %zu node(s) (%s)",
		 str_or(t, "online", "?"), (long long)num(t, "cores"),
		 (long long)num(t, "packages"),
		 json_is_true(json_object_get(t, "smt")) ? "SMT" : "no SMT",
		 json_array_size(json_object_get(t, "nodes")), str_or(t, "numa_from", "?"));
	rpt_para(o, line);
	if (!json_is_object(c) || !n)
		return;
	if (o->fmt == VS_REPORT_HTML) {
		double *val = calloc(n * n, sizeof(double)), *alt = calloc(n * n, sizeof(double));
		char (*lab)[16] = calloc(n, sizeof(*lab));
		const char **labels = calloc(n, sizeof(*labels));

		if (val && alt && lab && labels) {
			for (i = 0; i < n * n; i++)
				val[i] = alt[i] = NAN;
			for (i = 0; i < n; i++) {
				snprintf(lab[i], sizeof(lab[i]), "%lld",
					 (long long)json_integer_value(json_array_get(cpus, i)));
				labels[i] = lab[i];
			}
			json_array_foreach(pairs, i, v) {
				long long pa = json_integer_value(json_object_get(v, "a"));
				long long pb = json_integer_value(json_object_get(v, "b"));
				bool unst = json_is_true(json_object_get(v, "unstable"));
				size_t x, y, k;

				for (x = 0; x < n && json_integer_value(json_array_get(cpus, x)) != pa; x++)
					;
				for (y = 0; y < n && json_integer_value(json_array_get(cpus, y)) != pb; y++)
					;
				if (x == n || y == n)
					continue;
				for (k = 0; k < 2; k++) {
					size_t at = k ? y * n + x : x * n + y;

					val[at] = num(v, unst ? "low_ns" : "median_ns");
					if (unst)
						alt[at] = num(v, "high_ns");
				}
			}
			fputs("<figure>", o->f);
			vs_svg_heatmap(o->f, "Cache-line round trip between CPUs (median ns; split: two modes)",
				       "c2c", labels, (unsigned int)n, val, alt, "ns");
			fputs("</figure>\n", o->f);
		}
		free(val);
		free(alt);
		free(lab);
		free(labels);
	}
	snprintf(line, sizeof(line), "%lld passes of %lld round trips per sample%s%s",
		 (long long)num(c, "passes"), (long long)num(c, "round_trips_per_sample"),
		 json_is_true(json_object_get(c, "sampled")) ? ", a sample of the pairs" : "",
		 json_is_true(json_object_get(c, "unstable")) ?
		 "; unstable pairs have two modes: the host moves these CPUs" : "");
	rpt_para(o, line);
	rpt_table_begin(o, pcols, 4);
	json_array_foreach(pairs, i, v) {
		char pair[32], rt[96], cnt[16];

		if (shown++ >= 64)
			break;
		snprintf(pair, sizeof(pair), "%lld-%lld",
			 (long long)json_integer_value(json_object_get(v, "a")),
			 (long long)json_integer_value(json_object_get(v, "b")));
		if (json_is_true(json_object_get(v, "unstable")))
			snprintf(rt, sizeof(rt), "%s or %s (%.0f%% slow), %lld switches",
				 vs_format_time(num(v, "low_ns"), a, sizeof(a)),
				 vs_format_time(num(v, "high_ns"), b, sizeof(b)),
				 100 * num(v, "high_share"), (long long)num(v, "switches"));
		else
			snprintf(rt, sizeof(rt), "%s", vs_format_time(num(v, "median_ns"), a, sizeof(a)));
		snprintf(cnt, sizeof(cnt), "%lld", (long long)num(v, "samples"));
		rpt_table_row(o, (const char *[]){ pair, str_or(v, "relation", "-"), rt, cnt }, 4);
	}
	rpt_table_end(o);
	if (!json_array_size(json_object_get(c, "clusters")))
		return;
	rpt_table_begin(o, ccols, 3);
	json_array_foreach(json_object_get(c, "clusters"), i, v)
		rpt_table_row(o, (const char *[]){ str_or(v, "cpus", "?"),
			  vs_format_time(num(v, "median_ns"), a, sizeof(a)), str_or(v, "name", "") }, 3);
	rpt_table_end(o);
}
