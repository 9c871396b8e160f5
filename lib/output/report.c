// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"
#include "output/ratio.h"
#include "output/hostpoll.h"
#include "output/report.h"
#include "output/svg.h"
#include "core/units.h"

#define MAX_INPUTS 256

struct input {
	char *name;
	json_t *doc;
	const char *kind;
	const char *host;
};

struct vs_report {
	struct input in[MAX_INPUTS];
	unsigned int n;
};

/* Output context: the same walk of the inputs renders HTML or Markdown. */
struct out {
	FILE *f;
	enum vs_report_format fmt;
};

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static double num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *vs_report_kind(const json_t *doc)
{
	const char *cmd = json_string_value(json_object_get(doc, "command"));

	if (json_object_get(doc, "sweep"))
		return "sweep";
	if (cmd)
		return cmd;
	/* Documents saved before "command" existed: tell them by shape. */
	if (json_object_get(doc, "mechanisms"))
		return "model";
	if (json_object_get(doc, "throughput_ops"))
		return "bench";
	return NULL;
}

struct vs_report *vs_report_new(void)
{
	return calloc(1, sizeof(struct vs_report));
}

void vs_report_free(struct vs_report *r)
{
	unsigned int i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->in[i].name);
		json_decref(r->in[i].doc);
	}
	free(r);
}

int vs_report_add(struct vs_report *r, const char *name, json_t *doc)
{
	const char *tool = json_string_value(json_object_get(doc, "tool"));
	const char *kind;

	if (!json_is_object(doc))
		return -EINVAL;
	/* a plan file of diagnose --save before runs were saved whole: its
	 * evidence is the run */
	if (json_is_object(json_object_get(doc, "evidence")) &&
	    !strcmp(str_or(doc, "format", ""), "virtsync-plan")) {
		doc = json_object_get(doc, "evidence");
		tool = json_string_value(json_object_get(doc, "tool"));
	}
	kind = vs_report_kind(doc);
	if ((tool && strcmp(tool, "virtsync")) || !kind)
		return -EINVAL;
	if (r->n >= MAX_INPUTS)
		return -ENOSPC;
	r->in[r->n].name = strdup(name);
	if (!r->in[r->n].name)
		return -ENOMEM;
	r->in[r->n].doc = json_incref(doc);
	r->in[r->n].kind = kind;
	r->in[r->n].host = str_or(doc, "host", "(unnamed host)");
	r->n++;
	return 0;
}

/* ---- small writers shared by HTML and Markdown ------------------------ */

static void text(struct out *o, const char *s)
{
	if (o->fmt == VS_REPORT_HTML)
		vs_html_escape(o->f, s);
	else
		for (; s && *s; s++)
			fputs(*s == '|' ? "\\|" : (char[2]){ *s, 0 }, o->f);
}

static void heading(struct out *o, int level, const char *s)
{
	if (o->fmt == VS_REPORT_HTML) {
		fprintf(o->f, "<h%d>", level);
		text(o, s);
		fprintf(o->f, "</h%d>\n", level);
	} else {
		fprintf(o->f, "\n%.*s ", level, "######");
		text(o, s);
		fputs("\n\n", o->f);
	}
}

static void para(struct out *o, const char *s)
{
	if (o->fmt == VS_REPORT_HTML)
		fputs("<p>", o->f);
	text(o, s);
	fputs(o->fmt == VS_REPORT_HTML ? "</p>\n" : "\n\n", o->f);
}

static void table_begin(struct out *o, const char *const *cols, unsigned int n)
{
	unsigned int i;

	if (o->fmt == VS_REPORT_HTML) {
		fputs("<table><tr>", o->f);
		for (i = 0; i < n; i++) {
			fputs("<th>", o->f);
			text(o, cols[i]);
			fputs("</th>", o->f);
		}
		fputs("</tr>\n", o->f);
		return;
	}
	fputs("|", o->f);
	for (i = 0; i < n; i++) {
		fputc(' ', o->f);
		text(o, cols[i]);
		fputs(" |", o->f);
	}
	fputs("\n|", o->f);
	for (i = 0; i < n; i++)
		fputs(" --- |", o->f);
	fputc('\n', o->f);
}

static void table_row(struct out *o, const char *const *cells, unsigned int n)
{
	unsigned int i;

	fputs(o->fmt == VS_REPORT_HTML ? "<tr>" : "|", o->f);
	for (i = 0; i < n; i++) {
		if (o->fmt == VS_REPORT_HTML) {
			fputs("<td>", o->f);
			text(o, cells[i] ? cells[i] : "-");
			fputs("</td>", o->f);
		} else {
			fputc(' ', o->f);
			text(o, cells[i] ? cells[i] : "-");
			fputs(" |", o->f);
		}
	}
	fputs(o->fmt == VS_REPORT_HTML ? "</tr>\n" : "\n", o->f);
}

static void table_end(struct out *o)
{
	fputs(o->fmt == VS_REPORT_HTML ? "</table>\n" : "\n", o->f);
}

/* Charts exist only in HTML; Markdown gets the tables. */
static void chart(struct out *o, struct vs_chart *c)
{
	if (o->fmt == VS_REPORT_HTML && c) {
		fputs("<figure>", o->f);
		vs_chart_render(c, o->f, 720, 380);
		fputs("</figure>\n", o->f);
	}
	vs_chart_free(c);
}

static const char *fmt_ns(double ns, char *buf, size_t len)
{
	return vs_format_time(ns, buf, len);
}

static const char *fmt_num(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.4g", v);
	return buf;
}

/* "name value" pairs of a flat object, e.g. the model's params. */
static void kv_table(struct out *o, const json_t *obj)
{
	static const char *const cols[] = { "parameter", "value" };
	const char *key;
	json_t *v;
	char buf[64];

	if (!json_is_object(obj))
		return;
	table_begin(o, cols, 2);
	json_object_foreach((json_t *)obj, key, v) {
		const char *cells[2] = { key, buf };

		if (json_is_string(v))
			snprintf(buf, sizeof(buf), "%s", json_string_value(v));
		else if (json_is_number(v))
			snprintf(buf, sizeof(buf), "%g", json_number_value(v));
		else if (json_is_boolean(v))
			snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
		else
			continue;
		table_row(o, cells, 2);
	}
	table_end(o);
}

/* ---- renderers per input kind ----------------------------------------- */

static const char *const mech_names[] = { "busy", "sleep", "notify", "hybrid" };
#define N_MECHS (sizeof(mech_names) / sizeof(mech_names[0]))

static void render_mechanisms(struct out *o, const json_t *mechs)
{
	static const char *const cols[] = { "mechanism", "regime", "T", "E", "D", "batch" };
	unsigned int i;

	table_begin(o, cols, 6);
	for (i = 0; i < N_MECHS; i++) {
		const json_t *m = json_object_get(mechs, mech_names[i]);
		char t[32], e[32], d[32], b[32];
		const char *cells[6];

		if (!m)
			continue;
		cells[0] = mech_names[i];
		cells[1] = str_or(m, "regime", "-");
		cells[2] = fmt_ns(num(m, "T_ns"), t, sizeof(t));
		cells[3] = fmt_ns(num(m, "E_ns"), e, sizeof(e));
		cells[4] = fmt_ns(num(m, "D_ns"), d, sizeof(d));
		cells[5] = fmt_num(num(m, "batch"), b, sizeof(b));
		table_row(o, cells, 6);
	}
	table_end(o);
}

static void render_model(struct out *o, const json_t *doc)
{
	heading(o, 3, "Model prediction");
	render_mechanisms(o, json_object_get(doc, "mechanisms"));
	kv_table(o, json_object_get(doc, "params"));
}

/*
 * T against the swept parameter for each mechanism, with the regions where
 * one mechanism's regime holds shaded (the paper's Fig. 2 and 8 for Wp,
 * Fig. 4 and 6 for Y).
 */
static void render_sweep(struct out *o, const json_t *doc)
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

	heading(o, 3, "Sweep");
	if (!n) {
		para(o, "(no points)");
		return;
	}
	/* One block: x, then T and E for each mechanism. */
	x = calloc((1 + 2 * N_MECHS) * n, sizeof(double));
	if (!x) {
		para(o, "(out of memory)");
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
	chart(o, ct);
	chart(o, ce);
	{
		static const char *const cols[] = { "value", "busy T", "sleep T", "notify T",
						    "hybrid T", "sleep regime", "notify regime",
						    "hybrid regime" };
		table_begin(o, cols, 8);
		json_array_foreach(points, i, pt) {
			const json_t *mechs = json_object_get(pt, "mechanisms");
			char v[32], a[32], b[32], c[32], h[32];
			const char *cells[8] = {
				fmt_ns(x[i], v, sizeof(v)), fmt_ns(y[0][i], a, sizeof(a)),
				fmt_ns(y[1][i], b, sizeof(b)), fmt_ns(y[2][i], c, sizeof(c)),
				fmt_ns(y[3][i], h, sizeof(h)),
				str_or(json_object_get(mechs, "sleep"), "regime", "-"),
				str_or(json_object_get(mechs, "notify"), "regime", "-"),
				str_or(json_object_get(mechs, "hybrid"), "regime", "-"),
			};

			table_row(o, cells, 8);
		}
		table_end(o);
	}
	free(x);
}


/* Collect a numeric member of each element of an array (NaN when absent);
 * `sub` descends into an object member first (e.g. "effective"). */
static double *column(const json_t *arr, const char *sub, const char *key)
{
	size_t n = json_array_size(arr), i;
	double *v = calloc(n ? n : 1, sizeof(double));
	json_t *el;

	if (!v)
		return NULL;
	json_array_foreach(arr, i, el)
		v[i] = num(sub ? json_object_get(el, sub) : el, key);
	return v;
}

static void add_column_series(struct vs_chart *c, const char *name,
			      enum vs_series_style style, const json_t *arr,
			      const char *xkey, const char *sub, const char *ykey)
{
	double *x = column(arr, NULL, xkey), *y = column(arr, sub, ykey);

	if (x && y && json_array_size(arr))
		vs_chart_add_series(c, name, style, x, y, json_array_size(arr));
	free(x);
	free(y);
}

/* Shade runs of equal "regime" members of the points, meeting halfway. */
static void add_regime_bands(struct vs_chart *c, const json_t *points,
			     const char *xkey, const char *regime_key)
{
	size_t n = json_array_size(points), i, j;

	for (i = 0; i < n; i = j) {
		const char *reg = str_or(json_array_get(points, i), regime_key, NULL);
		double lo, hi;

		for (j = i + 1; j < n && reg &&
		     !strcmp(str_or(json_array_get(points, j), regime_key, ""), reg); j++)
			;
		if (!reg)
			continue;
		lo = i ? (num(json_array_get(points, i - 1), xkey) +
			  num(json_array_get(points, i), xkey)) / 2 :
			 num(json_array_get(points, i), xkey);
		hi = j < n ? (num(json_array_get(points, j - 1), xkey) +
			      num(json_array_get(points, j), xkey)) / 2 :
			     num(json_array_get(points, j - 1), xkey);
		vs_chart_add_band(c, lo, hi, reg);
	}
}

/* Fig. 5: effective sleep and CPU cost per sleep against the nominal
 * sleep, once per timer slack. */
static void render_sleepcost(struct out *o, const json_t *doc)
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
		snprintf(name, sizeof(name), "effective p50, slack %.0f ns", num(side, "slack_ns"));
		add_column_series(c, name, VS_SERIES_LINE, pts, "nominal_ns", "effective", "p50_ns");
		snprintf(name, sizeof(name), "cost, slack %.0f ns", num(side, "slack_ns"));
		add_column_series(c, name, VS_SERIES_POINTS, pts, "nominal_ns", NULL, "cost_ns");
	}
	heading(o, 3, "Sleep cost");
	snprintf(line, sizeof(line), "Yz (shortest useful sleep): %s with the current slack, %s with 1 ns slack; cost measured from %s.",
		 fmt_ns(num(doc, "yz_ns"), a, sizeof(a)), fmt_ns(num(doc, "yz_1ns_ns"), b, sizeof(b)),
		 str_or(doc, "cost_source", "?"));
	para(o, line);
	chart(o, c);
	for (k = 0; k < 2; k++) {
		static const char *const cols[] = { "slack", "nominal", "effective p50",
						    "effective p99", "CPU cost" };
		const json_t *side = json_object_get(doc, sides[k]), *pt;
		size_t i;

		if (!side)
			continue;
		table_begin(o, cols, 5);
		json_array_foreach(json_object_get(side, "points"), i, pt) {
			char sl[32], nom[32], p50[32], p99[32], cost[32];
			const json_t *eff = json_object_get(pt, "effective");
			const char *cells[5] = {
				fmt_ns(num(side, "slack_ns"), sl, sizeof(sl)),
				fmt_ns(num(pt, "nominal_ns"), nom, sizeof(nom)),
				fmt_ns(num(eff, "p50_ns"), p50, sizeof(p50)),
				fmt_ns(num(eff, "p99_ns"), p99, sizeof(p99)),
				fmt_ns(num(pt, "cost_ns"), cost, sizeof(cost)),
			};

			table_row(o, cells, 5);
		}
		table_end(o);
	}
}

/* C-state wake-up table: declared exit latency against measured. */
static void render_idlelat(struct out *o, const json_t *doc)
{
	static const char *const cols[] = { "state", "declared", "timer p50", "timer p99",
					    "IPI p50", "IPI p99", "entered" };
	const json_t *st;
	char line[160];
	size_t i;

	heading(o, 3, "Idle-state wake-up latency");
	snprintf(line, sizeof(line), "CPU %.0f, cpuidle driver %s, governor %s.",
		 num(doc, "cpu"), str_or(doc, "driver", "?"), str_or(doc, "governor", "?"));
	para(o, line);
	table_begin(o, cols, 7);
	json_array_foreach(json_object_get(doc, "states"), i, st) {
		char d[32], t50[32], t99[32], i50[32], i99[32];
		const json_t *t = json_object_get(st, "timer"), *ipi = json_object_get(st, "ipi");
		const char *cells[7] = {
			str_or(st, "name", "?"),
			fmt_ns(num(st, "declared_latency_ns"), d, sizeof(d)),
			fmt_ns(num(t, "p50_ns"), t50, sizeof(t50)),
			fmt_ns(num(t, "p99_ns"), t99, sizeof(t99)),
			fmt_ns(num(ipi, "p50_ns"), i50, sizeof(i50)),
			fmt_ns(num(ipi, "p99_ns"), i99, sizeof(i99)),
			json_is_true(json_object_get(st, "entered")) ? "yes" : "no",
		};

		table_row(o, cells, 7);
	}
	table_end(o);
}

/* One bench run: what was asked, what came out, and the model's view of
 * the measured parameters. */
static void render_bench(struct out *o, const json_t *doc)
{
	static const char *const cols[] = { "", "measured", "model" };
	static const char *const pct[] = { "p50", "p95", "p98", "p99", "max" };
	const json_t *cfg = json_object_get(doc, "config"), *lat = json_object_get(doc, "latency_ns");
	const json_t *model = json_object_get(doc, "model"), *cpu = json_object_get(doc, "cpu");
	char line[320], a[32], b[32], c[32];
	double xs[5], ys[5];
	unsigned int i;

	heading(o, 3, "Reference device run");
	snprintf(line, sizeof(line), "backend %s, producer %s, consumer %s, L %.0f, kp %.0f, kc %.0f, Wp %s, Wc %s: %.3g items/s, CPU producer %.0f%% consumer %.0f%%.",
		 str_or(cfg, "backend", "?"), str_or(cfg, "p_mode", "?"), str_or(cfg, "c_mode", "?"),
		 num(cfg, "len"), num(cfg, "kp"), num(cfg, "kc"),
		 fmt_ns(num(cfg, "wp_ns"), a, sizeof(a)), fmt_ns(num(cfg, "wc_ns"), b, sizeof(b)),
		 num(doc, "throughput_ops"), 100 * num(cpu, "producer"), 100 * num(cpu, "consumer"));
	para(o, line);
	table_begin(o, cols, 3);
	table_row(o, (const char *[]){ "regime", "-", str_or(model, "regime", "-") }, 3);
	table_row(o, (const char *[]){ "T", fmt_ns(num(doc, "T_ns"), a, sizeof(a)),
				      fmt_ns(num(model, "T_ns"), b, sizeof(b)) }, 3);
	table_row(o, (const char *[]){ "E", fmt_ns(num(doc, "E_ns"), a, sizeof(a)),
				      fmt_ns(num(model, "E_ns"), b, sizeof(b)) }, 3);
	table_row(o, (const char *[]){ "D (max latency)", fmt_ns(num(lat, "max"), a, sizeof(a)),
				      fmt_ns(num(model, "D_ns"), b, sizeof(b)) }, 3);
	table_row(o, (const char *[]){ "batch", fmt_num(num(doc, "batch"), a, sizeof(a)),
				      fmt_num(num(model, "batch"), b, sizeof(b)) }, 3);
	snprintf(c, sizeof(c), "%.0f / %.0f", num(doc, "kicks"), num(doc, "interrupts"));
	table_row(o, (const char *[]){ "kicks / interrupts", c, "-" }, 3);
	table_end(o);
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
		chart(o, ch);
	}
	if (json_string_value(json_object_get(doc, "note")) && *str_or(doc, "note", ""))
		para(o, str_or(doc, "note", ""));
}

/* validate: model curves against measured points, per sweep (Fig. 6-8). */
static void render_validate(struct out *o, const json_t *doc)
{
	static const char *const cols[] = { "sweep", "x", "points", "median |err| of T",
					    "worst", "at", "within limit" };
	const json_t *sw;
	size_t i;

	heading(o, 3, "Model against the reference device");
	table_begin(o, cols, 7);
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
		cells[5] = fmt_ns(num(sw, "worst_x"), at, sizeof(at));
		cells[6] = json_is_true(json_object_get(sw, "ok")) ? "yes" : "no";
		table_row(o, cells, 7);
	}
	table_end(o);
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
		add_regime_bands(ct, pts, "x", "regime");
		add_column_series(ct, "model", VS_SERIES_LINE, pts, "x", NULL, "model_T_ns");
		add_column_series(ct, "measured", VS_SERIES_POINTS, pts, "x", NULL, "T_ns");
		chart(o, ct);
		snprintf(title, sizeof(title), "%s sweep: E against %s", str_or(sw, "name", "?"),
			 str_or(sw, "x", "x"));
		ce = vs_chart_new(title, xl, "E (CPU ns per item)");
		add_regime_bands(ce, pts, "x", "regime");
		add_column_series(ce, "model", VS_SERIES_LINE, pts, "x", NULL, "model_E_ns");
		add_column_series(ce, "measured", VS_SERIES_POINTS, pts, "x", NULL, "E_ns");
		chart(o, ce);
	}
}

/* sim: simulated against closed-form, and where the time went. */
static void render_sim(struct out *o, const json_t *doc)
{
	static const char *const cols[] = { "", "simulated", "model" };
	const json_t *model = json_object_get(doc, "model"), *share = json_object_get(doc, "regime_share");
	const json_t *lat = json_object_get(doc, "latency_ns"), *v;
	char a[32], b[32], line[256] = "time share per regime:";
	const char *key;

	heading(o, 3, "Simulation");
	table_begin(o, cols, 3);
	table_row(o, (const char *[]){ "regime", str_or(doc, "regime", "-"),
				      str_or(model, "regime", "-") }, 3);
	table_row(o, (const char *[]){ "T", fmt_ns(num(doc, "T_ns"), a, sizeof(a)),
				      fmt_ns(num(model, "T_ns"), b, sizeof(b)) }, 3);
	table_row(o, (const char *[]){ "E", fmt_ns(num(doc, "E_ns"), a, sizeof(a)),
				      fmt_ns(num(model, "E_ns"), b, sizeof(b)) }, 3);
	table_row(o, (const char *[]){ "D / max latency", fmt_ns(num(lat, "max"), a, sizeof(a)),
				      fmt_ns(num(model, "D_ns"), b, sizeof(b)) }, 3);
	table_row(o, (const char *[]){ "batch", fmt_num(num(doc, "batch"), a, sizeof(a)),
				      fmt_num(num(model, "batch"), b, sizeof(b)) }, 3);
	table_end(o);
	json_object_foreach((json_t *)share, key, v) {
		size_t len = strlen(line);

		snprintf(line + len, sizeof(line) - len, " %s %.0f%%", key,
			 100 * json_number_value(v));
	}
	para(o, line);
}


/* The estimate called `name` in a diagnose verdict, NaN if absent. */
static double estimate(const json_t *verdict, const char *name)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(verdict, "estimates"), i, e)
		if (!strcmp(str_or(e, "name", ""), name))
			return num(e, "value");
	return NAN;
}

static void set_if(double *field, double v)
{
	if (isfinite(v))
		*field = v;
}

/*
 * Model curves around a diagnosed queue, from diagnose's own estimates:
 * T against Wp for the mechanism in use (paper Fig. 2/8) with the measured
 * point, and T and D against the consumer's sleep Y (Fig. 4/6) with Dmax.
 */
static void diagnose_curves(struct out *o, const json_t *q, double dmax)
{
	const json_t *v = json_object_get(q, "verdict"), *smp = json_object_get(q, "sample");
	const char *mech_name = str_or(v, "mechanism", "notify");
	enum vs_mech mech = !strcmp(mech_name, "sleep") ? VS_MECH_SLEEP :
			    !strcmp(mech_name, "busy") ? VS_MECH_BUSY : VS_MECH_NOTIFY;
	double wp = estimate(v, "Wp"), wc = estimate(v, "Wc"), items = num(smp, "items_per_s");
	struct vs_params p;
	enum { N = 48 };
	double x[N], t[N], d[N], mx, my;
	const char *reg[N];
	struct vs_chart *c;
	unsigned int i, j;
	char title[128];

	if (!isfinite(wp) || !isfinite(wc) || wp <= 0 || wc <= 0)
		return;
	vs_params_default(&p);
	set_if(&p.wc, wc);
	set_if(&p.np, estimate(v, "Np"));
	set_if(&p.nc, estimate(v, "Nc"));
	set_if(&p.sp, estimate(v, "Sp"));
	set_if(&p.sc, estimate(v, "Sc"));
	set_if(&p.yz, estimate(v, "Yz"));
	set_if(&p.yc, estimate(v, "Yc"));
	set_if(&p.yp, estimate(v, "Yc"));
	if (isfinite(estimate(v, "L")) && estimate(v, "L") >= 2) {
		p.len = (unsigned int)estimate(v, "L");
		p.kc = p.len * 3 / 4 ? p.len * 3 / 4 : 1;
	}
	/* T against Wp, Wp from Wc/10 to 3 Wc and past the measured Wp. */
	{
		double hi = fmax(3 * wc, 1.3 * wp), lo = wc / 10;

		for (i = 0; i < N; i++) {
			struct vs_prediction pr;

			x[i] = lo + (hi - lo) * i / (N - 1);
			p.wp = x[i];
			if (vs_params_validate(&p, NULL) || vs_model_predict(&p, mech, &pr)) {
				t[i] = NAN;
				reg[i] = NULL;
				continue;
			}
			t[i] = pr.t_ns;
			reg[i] = vs_regime_name(pr.regime);
		}
	}
	snprintf(title, sizeof(title), "Model T against Wp (%s), measured point", mech_name);
	c = vs_chart_new(title, "Wp (ns)", "T (ns per item)");
	for (i = 0; i < N; i = j) {
		for (j = i + 1; j < N && reg[i] && reg[j] && !strcmp(reg[i], reg[j]); j++)
			;
		if (reg[i])
			vs_chart_add_band(c, i ? (x[i - 1] + x[i]) / 2 : x[i],
					  j < N ? (x[j - 1] + x[j]) / 2 : x[j - 1], reg[i]);
	}
	vs_chart_add_series(c, "model", VS_SERIES_LINE, x, t, N);
	mx = wp;
	my = items > 0 ? 1e9 / items : NAN;
	vs_chart_add_series(c, "measured", VS_SERIES_POINTS, &mx, &my, 1);
	chart(o, c);

	/* T and D against the consumer's sleep: where Dmax cuts the choice. */
	p.wp = wp;
	for (i = 0; i < N; i++) {
		struct vs_prediction pr;

		x[i] = fmax(p.yz, 1000) * pow(1000.0, (double)i / (N - 1));
		p.yc = p.yp = x[i];
		if (vs_params_validate(&p, NULL) || vs_model_predict(&p, VS_MECH_SLEEP, &pr)) {
			t[i] = d[i] = NAN;
			reg[i] = NULL;
			continue;
		}
		t[i] = pr.t_ns;
		d[i] = pr.d_ns;
		reg[i] = vs_regime_name(pr.regime);
	}
	c = vs_chart_new("Model T and D against the sleep Y (sleeping)", "Y (ns)", "ns");
	vs_chart_set_log(c, true, true);
	for (i = 0; i < N; i = j) {
		for (j = i + 1; j < N && reg[i] && reg[j] && !strcmp(reg[i], reg[j]); j++)
			;
		if (reg[i])
			vs_chart_add_band(c, i ? sqrt(x[i - 1] * x[i]) : x[i],
					  j < N ? sqrt(x[j - 1] * x[j]) : x[j - 1], reg[i]);
	}
	vs_chart_add_series(c, "T", VS_SERIES_LINE, x, t, N);
	vs_chart_add_series(c, "D (worst latency)", VS_SERIES_LINE, x, d, N);
	if (isfinite(dmax) && dmax > 0)
		vs_chart_add_rule(c, true, dmax, "Dmax");
	chart(o, c);
}

static void prediction_row(struct out *o, const char *what, const json_t *pr)
{
	char t[32], e[32], d[32], b[32];

	table_row(o, (const char *[]){ what, str_or(pr, "mechanism", "-"),
				      str_or(pr, "regime", "-"),
				      fmt_ns(num(pr, "T_ns"), t, sizeof(t)),
				      fmt_ns(num(pr, "E_ns"), e, sizeof(e)),
				      fmt_ns(num(pr, "D_ns"), d, sizeof(d)),
				      fmt_num(num(pr, "batch"), b, sizeof(b)) }, 7);
}

/* diagnose: per queue, the regime with its evidence, the recommendation,
 * and the model's prediction against what was measured. */
/* diagnose's host section, output/hostpoll.c. */
static void render_host_polling(struct out *o, const json_t *hp)
{
	struct vs_chart *cpu, *p98;
	char line[400];

	if (!json_is_object(hp))
		return;
	heading(o, 4, "Host: shared polling cores");
	vs_hostpoll_summary(hp, line, sizeof(line));
	para(o, line);
	vs_hostpoll_charts(hp, &cpu, &p98);
	chart(o, cpu);
	chart(o, p98);
}

static void render_diagnose(struct out *o, const json_t *doc)
{
	const json_t *q, *truth = json_object_get(doc, "ground_truth");
	double dmax = num(doc, "dmax_ns");
	size_t i, j;

	json_array_foreach(json_object_get(doc, "queues"), i, q) {
		const json_t *v = json_object_get(q, "verdict"), *r = json_object_get(q, "recommendation");
		const json_t *smp = json_object_get(q, "sample"), *el;
		double items = num(smp, "items_per_s");
		double cpu = num(json_object_get(smp, "producer"), "cpu") +
			     num(json_object_get(smp, "consumer"), "cpu");
		char title[160], line[256], a[32], b[32], c[32];

		snprintf(title, sizeof(title), "Queue of %s (pid %.0f, %s): %s",
			 str_or(q, "name", "?"), num(q, "pid"), str_or(q, "kind", "?"),
			 json_is_true(json_object_get(v, "known")) ? str_or(v, "regime", "?") :
								      "regime unknown");
		heading(o, 3, title);
		snprintf(line, sizeof(line), "%s (confidence %.2f)", str_or(v, "summary", ""),
			 num(v, "confidence"));
		para(o, line);
		{
			static const char *const cols[] = { "inequality", "measured", "against", "holds" };

			table_begin(o, cols, 4);
			json_array_foreach(json_object_get(v, "inequalities"), j, el)
				table_row(o, (const char *[]){ str_or(el, "expr", "?"),
							      fmt_ns(num(el, "lhs"), a, sizeof(a)),
							      fmt_ns(num(el, "rhs"), b, sizeof(b)),
							      json_is_true(json_object_get(el, "holds")) ?
							      "yes" : "no" }, 4);
			table_end(o);
		}
		{
			static const char *const cols[] = { "estimate", "value", "from" };

			table_begin(o, cols, 3);
			json_array_foreach(json_object_get(v, "estimates"), j, el) {
				const char *unit = str_or(el, "unit", "");

				if (!strcmp(unit, "ns"))
					fmt_ns(num(el, "value"), a, sizeof(a));
				else
					snprintf(a, sizeof(a), "%.4g %s", num(el, "value"), unit);
				table_row(o, (const char *[]){ str_or(el, "name", "?"), a,
							      str_or(el, "from", "") }, 3);
			}
			table_end(o);
		}
		heading(o, 4, "Recommendation");
		para(o, str_or(r, "summary", "-"));
		{
			static const char *const cols[] = { "", "mechanism", "regime", "T", "E", "D",
							    "batch" };

			table_begin(o, cols, 7);
			prediction_row(o, "predicted, current", json_object_get(r, "current"));
			prediction_row(o, "predicted, recommended", json_object_get(r, "recommended"));
			/* Measured: T and E from the public counters; D only
			 * where the device's own report (ground truth) has it. */
			table_row(o, (const char *[]){ "measured", str_or(v, "mechanism", "-"), "-",
						      fmt_ns(items > 0 ? 1e9 / items : NAN, a, sizeof(a)),
						      fmt_ns(items > 0 ? cpu * 1e9 / items : NAN, b, sizeof(b)),
						      fmt_ns(num(json_object_get(truth, "latency_ns"), "max"),
							     c, sizeof(c)), "-" }, 7);
			table_end(o);
		}
		if (json_array_size(json_object_get(r, "actions"))) {
			static const char *const cols[] = { "knob", "target", "now", "set", "how", "why" };

			table_begin(o, cols, 6);
			json_array_foreach(json_object_get(r, "actions"), j, el) {
				char target[96];

				snprintf(target, sizeof(target), "%s%s%s%s", str_or(el, "role", ""),
					 json_object_get(el, "pid") ? " of " : "",
					 json_object_get(el, "pid") ? fmt_num(num(el, "pid"), a, sizeof(a)) : "",
					 str_or(el, "cpus", ""));
				table_row(o, (const char *[]){ str_or(el, "knob", "?"), target,
							      str_or(el, "current", "-"),
							      str_or(el, "value", "?"),
							      str_or(el, "applies", ""),
							      str_or(el, "why", "") }, 6);
			}
			table_end(o);
		}
		json_array_foreach(json_object_get(r, "warnings"), j, el) {
			snprintf(line, sizeof(line), "Warning: %s", json_string_value(el) ?: "");
			para(o, line);
		}
		diagnose_curves(o, q, dmax);
	}
	if (json_is_object(truth)) {
		heading(o, 4, "Ground truth (the reference device's own report)");
		render_bench(o, truth);
	}
	render_host_polling(o, json_object_get(doc, "host_polling"));
}

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
		fmt_ns(num(doc, "dmax_ns"), t, sizeof(t));
		ADD("; Dmax %s", t);
	}
	if (num(doc, "host_steps_left_out") > 0)
		ADD("; %.0f host-wide step(s) of the plan left out", num(doc, "host_steps_left_out"));
#undef ADD
	para(o, line);
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
		chart(o, c);
	}
}

/* tune: the before/after table and the decision. */
static void render_tune(struct out *o, const json_t *doc)
{
	static const char *const cols[] = { "objective", "before", "after", VS_RATIO_HEADING };
	const json_t *before = json_object_get(doc, "before"), *after = json_object_get(doc, "after");
	const json_t *dec = json_object_get(doc, "decision"), *v, *el;
	const char *key;
	char line[320], a[32], b[32], r[48];
	size_t i;

	heading(o, 3, "Closed-loop tuning");
	snprintf(line, sizeof(line), "workload %s: change %s, %s (%s).",
		 str_or(doc, "workload", "?"),
		 json_is_true(json_object_get(dec, "applied")) ? "applied" : "not applied",
		 !json_is_true(json_object_get(dec, "applied")) ? "nothing to undo" :
		 json_is_true(json_object_get(dec, "kept")) ? "kept" : "rolled back",
		 str_or(dec, "why", ""));
	para(o, line);
	tune_context(o, doc);
	table_begin(o, cols, 4);
	json_object_foreach((json_t *)before, key, v) {
		double bv = json_number_value(v), av = num(after, key);
		int is_ns = strstr(key, "_ns") != NULL;

		if (!json_is_number(v))
			continue;
		if (is_ns) {
			fmt_ns(bv, a, sizeof(a));
			fmt_ns(av, b, sizeof(b));
		} else {
			fmt_num(bv, a, sizeof(a));
			fmt_num(av, b, sizeof(b));
		}
		vs_format_ratio(bv, av, vs_ratio_what(key), r, sizeof(r));
		table_row(o, (const char *[]){ key, a, b, r }, 4);
	}
	table_end(o);
	if (json_array_size(json_object_get(doc, "actions"))) {
		static const char *const acols[] = { "step", "detail" };

		table_begin(o, acols, 2);
		json_array_foreach(json_object_get(doc, "actions"), i, el) {
			char detail[512];

			snprintf(a, sizeof(a), "%zu", i + 1);
			snprintf(detail, sizeof(detail), "%s on %s: %s -> %s (%s)",
				 str_or(el, "knob", "?"), str_or(el, "label", str_or(el, "target", "?")),
				 str_or(el, "old", "?"), str_or(el, "new", "?"), str_or(el, "why", ""));
			table_row(o, (const char *[]){ a, detail }, 2);
		}
		table_end(o);
	}
	tune_charts(o, doc);
}

/* virtsync topo: the topology, the round-trip heat map (an unstable pair
 * split between its two modes), the pairs and the clusters. */
static void render_topo(struct out *o, const json_t *doc)
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
	para(o, line);
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
	para(o, line);
	table_begin(o, pcols, 4);
	json_array_foreach(pairs, i, v) {
		char pair[32], rt[96], cnt[16];

		if (shown++ >= 64)
			break;
		snprintf(pair, sizeof(pair), "%lld-%lld",
			 (long long)json_integer_value(json_object_get(v, "a")),
			 (long long)json_integer_value(json_object_get(v, "b")));
		if (json_is_true(json_object_get(v, "unstable")))
			snprintf(rt, sizeof(rt), "%s or %s (%.0f%% slow), %lld switches",
				 fmt_ns(num(v, "low_ns"), a, sizeof(a)),
				 fmt_ns(num(v, "high_ns"), b, sizeof(b)),
				 100 * num(v, "high_share"), (long long)num(v, "switches"));
		else
			snprintf(rt, sizeof(rt), "%s", fmt_ns(num(v, "median_ns"), a, sizeof(a)));
		snprintf(cnt, sizeof(cnt), "%lld", (long long)num(v, "samples"));
		table_row(o, (const char *[]){ pair, str_or(v, "relation", "-"), rt, cnt }, 4);
	}
	table_end(o);
	if (!json_array_size(json_object_get(c, "clusters")))
		return;
	table_begin(o, ccols, 3);
	json_array_foreach(json_object_get(c, "clusters"), i, v)
		table_row(o, (const char *[]){ str_or(v, "cpus", "?"),
			  fmt_ns(num(v, "median_ns"), a, sizeof(a)), str_or(v, "name", "") }, 3);
	table_end(o);
}

static void render_generic(struct out *o, const json_t *doc)
{
	kv_table(o, doc);
}

static const struct {
	const char *kind;
	const char *title;
	void (*render)(struct out *o, const json_t *doc);
} renderers[] = {
	{ "model", "Model", render_model },
	{ "sweep", "Sweep", render_sweep },
	{ "sleepcost", "Sleep cost", render_sleepcost },
	{ "idlelat", "Idle-state latency", render_idlelat },
	{ "bench", "Reference device", render_bench },
	{ "validate", "Validation", render_validate },
	{ "sim", "Simulation", render_sim },
	{ "diagnose", "Diagnosis", render_diagnose },
	{ "tune", "Tuning", render_tune },
	{ "topo", "Topology", render_topo },
};

static void render_input(struct out *o, const struct input *in)
{
	size_t i;

	if (o->fmt == VS_REPORT_HTML)
		fprintf(o->f, "<section class=\"input\" data-kind=\"%s\">\n", in->kind);
	heading(o, 3, in->name);
	{
		char line[512];

		snprintf(line, sizeof(line), "%s run, %s, kernel %s: %s", in->kind,
			 str_or(in->doc, "time", "time unknown"),
			 str_or(in->doc, "kernel", "?"), str_or(in->doc, "cmdline", ""));
		para(o, line);
	}
	for (i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++)
		if (!strcmp(renderers[i].kind, in->kind)) {
			renderers[i].render(o, in->doc);
			break;
		}
	if (i == sizeof(renderers) / sizeof(renderers[0]))
		render_generic(o, in->doc);
	if (o->fmt == VS_REPORT_HTML)
		fputs("</section>\n", o->f);
}

static const char css[] =
	"body{font-family:sans-serif;max-width:60em;margin:1em auto;color:#222}"
	"table{border-collapse:collapse;margin:.5em 0}"
	"td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
	"th{background:#f3f3f3}section.host{border-top:2px solid #0072B2;margin-top:2em}"
	"figure{margin:.5em 0}";

static int write_json(const struct vs_report *r, FILE *f)
{
	json_t *root = json_object(), *inputs = json_array();
	unsigned int i;
	int err;

	for (i = 0; i < r->n; i++)
		json_array_append_new(inputs, json_pack("{s:s,s:s,s:s,s:O}", "source", r->in[i].name,
							 "kind", r->in[i].kind, "host", r->in[i].host,
							 "data", r->in[i].doc));
	json_object_set_new(root, "report", json_string("virtsync"));
	json_object_set_new(root, "inputs", inputs);
	err = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	fputc('\n', f);
	return err ? -EIO : 0;
}

int vs_report_write(const struct vs_report *r, enum vs_report_format fmt, FILE *f)
{
	struct out o = { f, fmt };
	const char *hosts[MAX_INPUTS];
	unsigned int nh = 0, i, j;

	if (fmt == VS_REPORT_JSON)
		return write_json(r, f);
	for (i = 0; i < r->n; i++) {
		for (j = 0; j < nh && strcmp(hosts[j], r->in[i].host); j++)
			;
		if (j == nh)
			hosts[nh++] = r->in[i].host;
	}
	if (fmt == VS_REPORT_HTML)
		fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			"<title>virtsync report</title><style>%s</style></head><body>\n", css);
	heading(&o, 1, "virtsync report");
	{
		static const char *const cols[] = { "host", "inputs", "kinds" };

		table_begin(&o, cols, 3);
		for (j = 0; j < nh; j++) {
			char count[16], kinds[256] = "";
			unsigned int c = 0;

			for (i = 0; i < r->n; i++)
				if (!strcmp(r->in[i].host, hosts[j])) {
					c++;
					if (!strstr(kinds, r->in[i].kind) &&
					    strlen(kinds) + strlen(r->in[i].kind) + 3 < sizeof(kinds)) {
						if (*kinds)
							strcat(kinds, ", ");
						strcat(kinds, r->in[i].kind);
					}
				}
			snprintf(count, sizeof(count), "%u", c);
			table_row(&o, (const char *[]){ hosts[j], count, kinds }, 3);
		}
		table_end(&o);
	}
	for (j = 0; j < nh; j++) {
		if (fmt == VS_REPORT_HTML)
			fputs("<section class=\"host\">\n", f);
		heading(&o, 2, hosts[j]);
		for (i = 0; i < r->n; i++)
			if (!strcmp(r->in[i].host, hosts[j]))
				render_input(&o, &r->in[i]);
		if (fmt == VS_REPORT_HTML)
			fputs("</section>\n", f);
	}
	if (fmt == VS_REPORT_HTML)
		fputs("</body></html>\n", f);
	return ferror(f) ? -EIO : 0;
}
