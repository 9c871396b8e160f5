// SPDX-License-Identifier: GPL-2.0-only
/* The report of a diagnosis: per queue the regime and its evidence, the
 * model curves around the operating point, the recommendation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "output/hostpoll.h"
#include "output/report-impl.h"
#include "output/svg.h"
#include "core/units.h"

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
	rpt_chart(o, c);

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
	rpt_chart(o, c);
}

static void prediction_row(struct out *o, const char *what, const json_t *pr)
{
	char t[32], e[32], d[32], b[32];

	rpt_table_row(o, (const char *[]){ what, str_or(pr, "mechanism", "-"),
				      str_or(pr, "regime", "-"),
				      vs_format_time(num(pr, "T_ns"), t, sizeof(t)),
				      vs_format_time(num(pr, "E_ns"), e, sizeof(e)),
				      vs_format_time(num(pr, "D_ns"), d, sizeof(d)),
				      rpt_fmt_num(num(pr, "batch"), b, sizeof(b)) }, 7);
}

/* diagnose's host section, output/hostpoll.c. */
static void render_host_polling(struct out *o, const json_t *hp)
{
	struct vs_chart *cpu, *p98;
	char line[400];

	if (!json_is_object(hp))
		return;
	rpt_heading(o, 4, "Host: shared polling cores");
	vs_hostpoll_summary(hp, line, sizeof(line));
	rpt_para(o, line);
	vs_hostpoll_charts(hp, &cpu, &p98);
	rpt_chart(o, cpu);
	rpt_chart(o, p98);
}

/* diagnose: per queue, the regime with its evidence, the recommendation,
 * and the model's prediction against what was measured. */
void rpt_diagnose(struct out *o, const json_t *doc)
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
		rpt_heading(o, 3, title);
		snprintf(line, sizeof(line), "%s (confidence %.2f)", str_or(v, "summary", ""),
			 num(v, "confidence"));
		rpt_para(o, line);
		{
			static const char *const cols[] = { "inequality", "measured", "against", "holds" };

			rpt_table_begin(o, cols, 4);
			json_array_foreach(json_object_get(v, "inequalities"), j, el)
				rpt_table_row(o, (const char *[]){ str_or(el, "expr", "?"),
							      vs_format_time(num(el, "lhs"), a, sizeof(a)),
							      vs_format_time(num(el, "rhs"), b, sizeof(b)),
							      json_is_true(json_object_get(el, "holds")) ?
							      "yes" : "no" }, 4);
			rpt_table_end(o);
		}
		{
			static const char *const cols[] = { "estimate", "value", "from" };

			rpt_table_begin(o, cols, 3);
			json_array_foreach(json_object_get(v, "estimates"), j, el) {
				const char *unit = str_or(el, "unit", "");

				if (!strcmp(unit, "ns"))
					vs_format_time(num(el, "value"), a, sizeof(a));
				else
					snprintf(a, sizeof(a), "%.4g %s", num(el, "value"), unit);
				rpt_table_row(o, (const char *[]){ str_or(el, "name", "?"), a,
							      str_or(el, "from", "") }, 3);
			}
			rpt_table_end(o);
		}
		rpt_heading(o, 4, "Recommendation");
		rpt_para(o, str_or(r, "summary", "-"));
		{
			static const char *const cols[] = { "", "mechanism", "regime", "T", "E", "D",
							    "batch" };

			rpt_table_begin(o, cols, 7);
			prediction_row(o, "predicted, current", json_object_get(r, "current"));
			prediction_row(o, "predicted, recommended", json_object_get(r, "recommended"));
			/* Measured: T and E from the public counters; D only
			 * where the device's own report (ground truth) has it. */
			rpt_table_row(o, (const char *[]){ "measured", str_or(v, "mechanism", "-"), "-",
						      vs_format_time(items > 0 ? 1e9 / items : NAN, a, sizeof(a)),
						      vs_format_time(items > 0 ? cpu * 1e9 / items : NAN, b, sizeof(b)),
						      vs_format_time(num(json_object_get(truth, "latency_ns"), "max"),
							     c, sizeof(c)), "-" }, 7);
			rpt_table_end(o);
		}
		if (json_array_size(json_object_get(r, "actions"))) {
			static const char *const cols[] = { "knob", "target", "now", "set", "how", "why" };

			rpt_table_begin(o, cols, 6);
			json_array_foreach(json_object_get(r, "actions"), j, el) {
				char target[96];

				snprintf(target, sizeof(target), "%s%s%s%s", str_or(el, "role", ""),
					 json_object_get(el, "pid") ? " of " : "",
					 json_object_get(el, "pid") ? rpt_fmt_num(num(el, "pid"), a, sizeof(a)) : "",
					 str_or(el, "cpus", ""));
				rpt_table_row(o, (const char *[]){ str_or(el, "knob", "?"), target,
							      str_or(el, "current", "-"),
							      str_or(el, "value", "?"),
							      str_or(el, "applies", ""),
							      str_or(el, "why", "") }, 6);
			}
			rpt_table_end(o);
		}
		json_array_foreach(json_object_get(r, "warnings"), j, el) {
			snprintf(line, sizeof(line), "Warning: %s", json_string_value(el) ?: "");
			rpt_para(o, line);
		}
		diagnose_curves(o, q, dmax);
	}
	if (json_is_object(truth)) {
		rpt_heading(o, 4, "Ground truth (the reference device's own report)");
		rpt_bench(o, truth);
	}
	render_host_polling(o, json_object_get(doc, "host_polling"));
}
