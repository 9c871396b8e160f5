// SPDX-License-Identifier: GPL-2.0-only
/* The report of the model's own kinds and of the device runs that test it:
 * model, sweep, bench, validate, sim. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "output/report-impl.h"
#include "output/svg.h"
#include "core/units.h"

static const char *const mech_names[] = { "busy", "sleep", "notify", "hybrid" };
#define N_MECHS (sizeof(mech_names) / sizeof(mech_names[0]))

static void render_mechanisms(struct out *o, const json_t *mechs)
{
	static const char *const cols[] = { "mechanism", "regime", "T", "E", "D", "batch" };
	unsigned int i;

	rpt_table_begin(o, cols, 6);
	for (i = 0; i < N_MECHS; i++) {
		const json_t *m = json_object_get(mechs, mech_names[i]);
		char t[32], e[32], d[32], b[32];
		const char *cells[6];

		if (!m)
			continue;
		cells[0] = mech_names[i];
		cells[1] = str_or(m, "regime", "-");
		cells[2] = vs_format_time(num(m, "T_ns"), t, sizeof(t));
		cells[3] = vs_format_time(num(m, "E_ns"), e, sizeof(e));
		cells[4] = vs_format_time(num(m, "D_ns"), d, sizeof(d));
		cells[5] = rpt_fmt_num(num(m, "batch"), b, sizeof(b));
		rpt_table_row(o, cells, 6);
	}
	rpt_table_end(o);
}

void rpt_model(struct out *o, const json_t *doc)
{
	rpt_heading(o, 3, "Model prediction");
	render_mechanisms(o, json_object_get(doc, "mechanisms"));
	rpt_kv_table(o, json_object_get(doc, "params"));
}

/*
 * T against the swept parameter for each mechanism, with the regions where
 * one mechanism's regime holds shaded (the paper's Fig. 2 and 8 for Wp,
 * Fig. 4 and 6 for Y).
 */
void rpt_sweep(struct out *o, const json_t *doc)
{
	const json_t *sweep = json_object_get(doc, "sweep");
	const json_t *points = json_object_get(sweep, "points"), *pt;
	const char *param = str_or(sweep, "param", "?");
	size_t n = json_array_size(points), i;
	double *x, *y[N_MECHS], *e[N_MECHS];
	/* Shade the regimes of the mechanism the swept parameter belongs to. */
	const char *band_mech = param[0] == 'y' ? "sleep" :
				!strcmp(param, "pp") || !strcmp(param, "pc") ||
				!strcmp(param, "poll") ? "hybrid" : "notify";
	struct vs_chart *ct, *ce;
	char title[128], xl[64];
	unsigned int m;

	rpt_heading(o, 3, "Sweep");
	if (!n) {
		rpt_para(o, "(no points)");
		return;
	}
	/* One block: x, then T and E for each mechanism. */
	x = calloc((1 + 2 * N_MECHS) * n, sizeof(double));
	if (!x) {
		rpt_para(o, "(out of memory)");
		return;
	}
	for (m = 0; m < N_MECHS; m++) {
		y[m] = x + (1 + m) * n;
		e[m] = x + (1 + N_MECHS + m) * n;
	}
	json_array_foreach(points, i, pt) {
		const json_t *mechs = json_object_get(pt, "mechanisms");

		x[i] = num(pt, "value");
		for (m = 0; m < N_MECHS; m++) {
			const json_t *mj = json_object_get(mechs, mech_names[m]);

			y[m][i] = mj ? num(mj, "T_ns") : NAN;
			e[m][i] = mj ? num(mj, "E_ns") : NAN;
		}
	}
	snprintf(title, sizeof(title), "T against %s", param);
	snprintf(xl, sizeof(xl), "%s (ns)", param);
	ct = vs_chart_new(title, xl, "T (ns per item)");
	snprintf(title, sizeof(title), "E against %s", param);
	ce = vs_chart_new(title, xl, "E (CPU ns per item)");
	/* Shade consecutive runs of the same regime. */
	for (i = 0; i < n;) {
		const json_t *mj = json_object_get(json_object_get(json_array_get(points, i),
								   "mechanisms"), band_mech);
		const char *reg = str_or(mj, "regime", NULL);
		size_t j = i + 1;

		while (j < n && reg &&
		       !strcmp(str_or(json_object_get(json_object_get(json_array_get(points, j),
								       "mechanisms"), band_mech),
				      "regime", ""), reg))
			j++;
		if (reg) {
			/* Regions meet halfway between the last point of one
			 * regime and the first of the next. */
			double lo = i ? (x[i - 1] + x[i]) / 2 : x[i];
			double hi = j < n ? (x[j - 1] + x[j]) / 2 : x[j - 1];

			vs_chart_add_band(ct, lo, hi, reg);
			vs_chart_add_band(ce, lo, hi, reg);
		}
		i = j;
	}
	for (m = 0; m < N_MECHS; m++) {
		vs_chart_add_series(ct, mech_names[m], VS_SERIES_LINE, x, y[m], n);
		vs_chart_add_series(ce, mech_names[m], VS_SERIES_LINE, x, e[m], n);
	}
	rpt_chart(o, ct);
	rpt_chart(o, ce);
	{
		static const char *const cols[] = { "value", "busy T", "sleep T", "notify T",
						    "hybrid T", "sleep regime", "notify regime",
						    "hybrid regime" };
		rpt_table_begin(o, cols, 8);
		json_array_foreach(points, i, pt) {
			const json_t *mechs = json_object_get(pt, "mechanisms");
			char v[32], a[32], b[32], c[32], h[32];
			const char *cells[8] = {
				vs_format_time(x[i], v, sizeof(v)), vs_format_time(y[0][i], a, sizeof(a)),
				vs_format_time(y[1][i], b, sizeof(b)), vs_format_time(y[2][i], c, sizeof(c)),
				vs_format_time(y[3][i], h, sizeof(h)),
				str_or(json_object_get(mechs, "sleep"), "regime", "-"),
				str_or(json_object_get(mechs, "notify"), "regime", "-"),
				str_or(json_object_get(mechs, "hybrid"), "regime", "-"),
			};

			rpt_table_row(o, cells, 8);
		}
		rpt_table_end(o);
	}
	free(x);
}

/* One bench run: what was asked, what came out, and the model's view of
 * the measured parameters. */
void rpt_bench(struct out *o, const json_t *doc)
{
	static const char *const cols[] = { "", "measured", "model" };
	static const char *const pct[] = { "p50", "p95", "p98", "p99", "max" };
	const json_t *cfg = json_object_get(doc, "config"), *lat = json_object_get(doc, "latency_ns");
	const json_t *model = json_object_get(doc, "model"), *cpu = json_object_get(doc, "cpu");
	char line[320], a[32], b[32], c[32];
	double xs[5], ys[5];
	unsigned int i;

	rpt_heading(o, 3, "Reference device run");
	snprintf(line, sizeof(line), "backend %s, producer %s, consumer %s, L %.0f, kp %.0f, kc %.0f, Wp %s, Wc %s: %.3g items/s, CPU producer %.0f%% consumer %.0f%%.",
		 str_or(cfg, "backend", "?"), str_or(cfg, "p_mode", "?"), str_or(cfg, "c_mode", "?"),
		 num(cfg, "len"), num(cfg, "kp"), num(cfg, "kc"),
		 vs_format_time(num(cfg, "wp_ns"), a, sizeof(a)), vs_format_time(num(cfg, "wc_ns"), b, sizeof(b)),
		 num(doc, "throughput_ops"), 100 * num(cpu, "producer"), 100 * num(cpu, "consumer"));
	rpt_para(o, line);
	rpt_table_begin(o, cols, 3);
	rpt_table_row(o, (const char *[]){ "regime", "-", str_or(model, "regime", "-") }, 3);
	rpt_table_row(o, (const char *[]){ "T", vs_format_time(num(doc, "T_ns"), a, sizeof(a)),
				      vs_format_time(num(model, "T_ns"), b, sizeof(b)) }, 3);
	rpt_table_row(o, (const char *[]){ "E", vs_format_time(num(doc, "E_ns"), a, sizeof(a)),
				      vs_format_time(num(model, "E_ns"), b, sizeof(b)) }, 3);
	rpt_table_row(o, (const char *[]){ "D (max latency)", vs_format_time(num(lat, "max"), a, sizeof(a)),
				      vs_format_time(num(model, "D_ns"), b, sizeof(b)) }, 3);
	rpt_table_row(o, (const char *[]){ "batch", rpt_fmt_num(num(doc, "batch"), a, sizeof(a)),
				      rpt_fmt_num(num(model, "batch"), b, sizeof(b)) }, 3);
	snprintf(c, sizeof(c), "%.0f / %.0f", num(doc, "kicks"), num(doc, "interrupts"));
	rpt_table_row(o, (const char *[]){ "kicks / interrupts", c, "-" }, 3);
	rpt_table_end(o);
	for (i = 0; i < 5; i++) {
		xs[i] = i + 1;
		ys[i] = num(lat, pct[i]);
	}
	{
		struct vs_chart *ch = vs_chart_new("Item latency percentiles (p50, p95, p98, p99, max)",
						   "percentile (1 = p50 ... 5 = max)", "latency (ns)");

		vs_chart_add_series(ch, "latency", VS_SERIES_BARS, xs, ys, 5);
		if (isfinite(num(cfg, "dmax_ns")))
			vs_chart_add_rule(ch, true, num(cfg, "dmax_ns"), "Dmax");
		rpt_chart(o, ch);
	}
	if (json_string_value(json_object_get(doc, "note")) && *str_or(doc, "note", ""))
		rpt_para(o, str_or(doc, "note", ""));
}

/* validate: model curves against measured points, per sweep (Fig. 6-8). */
void rpt_validate(struct out *o, const json_t *doc)
{
	static const char *const cols[] = { "sweep", "x", "points", "median |err| of T",
					    "worst", "at", "within limit" };
	const json_t *sw;
	size_t i;

	rpt_heading(o, 3, "Model against the reference device");
	rpt_table_begin(o, cols, 7);
	json_array_foreach(json_object_get(doc, "sweeps"), i, sw) {
		char n[16], med[16], worst[16], at[32];
		const char *cells[7];

		snprintf(n, sizeof(n), "%.0f", num(sw, "points_run"));
		snprintf(med, sizeof(med), "%.1f%%", 100 * num(sw, "median_t_err"));
		snprintf(worst, sizeof(worst), "%.1f%%", 100 * num(sw, "worst_t_err"));
		cells[0] = str_or(sw, "name", "?");
		cells[1] = str_or(sw, "x", "?");
		cells[2] = n;
		cells[3] = med;
		cells[4] = worst;
		cells[5] = vs_format_time(num(sw, "worst_x"), at, sizeof(at));
		cells[6] = json_is_true(json_object_get(sw, "ok")) ? "yes" : "no";
		rpt_table_row(o, cells, 7);
	}
	rpt_table_end(o);
	json_array_foreach(json_object_get(doc, "sweeps"), i, sw) {
		const json_t *pts = json_object_get(sw, "points");
		char title[128], xl[64];
		struct vs_chart *ct, *ce;

		if (!json_array_size(pts))
			continue;
		snprintf(title, sizeof(title), "%s sweep: T against %s", str_or(sw, "name", "?"),
			 str_or(sw, "x", "x"));
		snprintf(xl, sizeof(xl), "%s (ns)", str_or(sw, "x", "x"));
		ct = vs_chart_new(title, xl, "T (ns per item)");
		rpt_add_regime_bands(ct, pts, "x", "regime");
		rpt_add_column_series(ct, "model", VS_SERIES_LINE, pts, "x", NULL, "model_T_ns");
		rpt_add_column_series(ct, "measured", VS_SERIES_POINTS, pts, "x", NULL, "T_ns");
		rpt_chart(o, ct);
		snprintf(title, sizeof(title), "%s sweep: E against %s", str_or(sw, "name", "?"),
			 str_or(sw, "x", "x"));
		ce = vs_chart_new(title, xl, "E (CPU ns per item)");
		rpt_add_regime_bands(ce, pts, "x", "regime");
		rpt_add_column_series(ce, "model", VS_SERIES_LINE, pts, "x", NULL, "model_E_ns");
		rpt_add_column_series(ce, "measured", VS_SERIES_POINTS, pts, "x", NULL, "E_ns");
		rpt_chart(o, ce);
	}
}

/* sim: simulated against closed-form, and where the time went. */
void rpt_sim(struct out *o, const json_t *doc)
{
	static const char *const cols[] = { "", "simulated", "model" };
	const json_t *model = json_object_get(doc, "model"), *share = json_object_get(doc, "regime_share");
	const json_t *lat = json_object_get(doc, "latency_ns"), *v;
	char a[32], b[32], line[256] = "time share per regime:";
	const char *key;

	rpt_heading(o, 3, "Simulation");
	rpt_table_begin(o, cols, 3);
	rpt_table_row(o, (const char *[]){ "regime", str_or(doc, "regime", "-"),
				      str_or(model, "regime", "-") }, 3);
	rpt_table_row(o, (const char *[]){ "T", vs_format_time(num(doc, "T_ns"), a, sizeof(a)),
				      vs_format_time(num(model, "T_ns"), b, sizeof(b)) }, 3);
	rpt_table_row(o, (const char *[]){ "E", vs_format_time(num(doc, "E_ns"), a, sizeof(a)),
				      vs_format_time(num(model, "E_ns"), b, sizeof(b)) }, 3);
	rpt_table_row(o, (const char *[]){ "D / max latency", vs_format_time(num(lat, "max"), a, sizeof(a)),
				      vs_format_time(num(model, "D_ns"), b, sizeof(b)) }, 3);
	rpt_table_row(o, (const char *[]){ "batch", rpt_fmt_num(num(doc, "batch"), a, sizeof(a)),
				      rpt_fmt_num(num(model, "batch"), b, sizeof(b)) }, 3);
	rpt_table_end(o);
	json_object_foreach((json_t *)share, key, v) {
		size_t len = strlen(line);

		snprintf(line + len, sizeof(line) - len, " %s %.0f%%", key,
			 100 * json_number_value(v));
	}
	rpt_para(o, line);
}
