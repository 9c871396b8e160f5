// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync model: closed-form predictions of the producer/consumer model
 * (lib/model/model.h) for busy waiting, sleeping, notifications and
 * poll-then-block (hybrid) side by side, for one parameter set or along a
 * sweep of one parameter.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "model/model.h"
#include "model-mq.h"
#include "params.h"
#include "model/sweep.h"
#include "core/units.h"

static struct env {
	struct vs_param_opts params;	/* preset, parameters, sweep */
	bool csv;
} env;

enum {
	OPT_CSV = 0x100,
};

static const char argp_doc[] =
"Closed-form predictions of the producer/consumer model (seed paper Sec. 2):\n"
"regime, time per item T, CPU per item E, worst-case latency D and batch,\n"
"for busy waiting, sleeping, notifications and hybrid (poll up to Pp/Pc,\n"
"then block: vhost poll-us, QEMU poll-max-ns, halt polling) side by side.\n"
"\n"
"Synopsis: virtsync model [--preset NAME] [--wp TIME] [--wc TIME] [--len N] ...\n"
"                         [--sweep PARAM=START:END:STEP] [--csv] [--json]\n"
"\n"
"Times take a unit (300ns, 2us, 1.5ms, 1s, 2m, 1h); only 0 goes without.\n"
"Without --preset the Table 4 costs with L=256, kp=1, kc=192, Wp=300ns,\n"
"Wc=200ns, Y=5us, P=32.768us (--poll sets Pp and Pc).\n"
"Options override the preset wherever they stand; a new L moves kc to 3/4 L\n"
"unless --kc is given. Presets: paper-costs, fc-example (Sec. 8.1),\n"
"fp-example (Sec. 8.2).\n"
"\n"
"Examples:\n"
"    virtsync model --preset fc-example        # the paper's Sec. 8.1 case\n"
"    virtsync model --wp 2.4us --wc 2us --len 512 --kc 384\n"
"    virtsync model --preset paper-costs --sweep wp=200ns:2.9us:100ns\n"
"    virtsync model --wp 2us --wc 1us --len 512 --sweep y=4us:3ms:x1.2 --csv\n"
"    virtsync model --preset fp-example --json=pretty\n"
"    virtsync model --wp 50us --wc 10us --sc 20us --np 25us \\\n"
"        --sweep pc=0:50us:5us";

/* The parameters, --preset and --sweep come from tools/params.c. */
static const struct argp_option opts[] = {
	{ NULL, 0, NULL, 0, "Output:", 2 },
	{ "csv", OPT_CSV, NULL, 0, "sweep as CSV (nanoseconds)", 2 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &env.params;
		return 0;
	case OPT_CSV:
		env.csv = true;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

/* "1.234us": four significant digits, enough to tell nFP's 2001ns from
 * the 2000ns of BW. */
/* The one time formatter (lib/core/units.c), so that what model prints
 * parses back as a time; an infinite time is the model's "unbounded" (a D
 * that grows without limit), not the formatter's "inf". */
static const char *fmt_time(double ns, char *buf, size_t len)
{
	if (isinf(ns) && ns > 0) {
		snprintf(buf, len, "unbounded");
		return buf;
	}
	return vs_format_time(ns, buf, len);
}

static const char *fmt_batch(double b, char *buf, size_t len)
{
	if (isnan(b))
		snprintf(buf, len, "-");
	else if (isinf(b))
		snprintf(buf, len, "no sync");
	else if (b == floor(b))
		snprintf(buf, len, "%.0f", b);
	else
		snprintf(buf, len, "%.1f", b);
	return buf;
}

static const char *fmt_rate(double t_ns, char *buf, size_t len)
{
	double r = 1e9 / t_ns;

	if (!isfinite(t_ns) || t_ns <= 0)
		snprintf(buf, len, "-");
	else if (r >= 1e6)
		snprintf(buf, len, "%.2f M/s", r / 1e6);
	else if (r >= 1e3)
		snprintf(buf, len, "%.2f k/s", r / 1e3);
	else
		snprintf(buf, len, "%.2f /s", r);
	return buf;
}

static void print_params(const struct vs_params *p, const char *skip)
{
	const struct vs_param_field *f;
	char buf[32], line[128];
	size_t off = 0;

	printf("parameters:");
	line[0] = '\0';
	for (f = vs_param_fields; f->name; f++) {
		if (!strcmp(f->name, "y") || !strcmp(f->name, "poll") ||
		    (skip && !strcmp(f->name, skip)))
			continue;
		if (f->kind == VS_PARAM_UINT) {
			snprintf(buf, sizeof(buf), "%s=%.0f", f->name,
				 vs_param_get(p, f));
		} else {
			char t[24];

			snprintf(buf, sizeof(buf), "%.4s=%s", f->name,
				 fmt_time(vs_param_get(p, f), t, sizeof(t)));
		}
		/* wrap at 78 columns, continuation indented */
		if (off + strlen(buf) + 1 > 66) {
			printf("%s\n           ", line);
			off = 0;
			line[0] = '\0';
		}
		off += snprintf(line + off, sizeof(line) - off, " %s", buf);
	}
	printf("%s\n", line);
}

#define COLW 14

/* Print a line built with padded columns, without trailing blanks. */
static void put_trimmed(char *line)
{
	size_t n = strlen(line);

	while (n && line[n - 1] == ' ')
		line[--n] = '\0';
	puts(line);
}

static void print_row(const char *label, const char *cells[VS_MECH_COUNT])
{
	char line[160];
	size_t off;
	int m;

	off = snprintf(line, sizeof(line), "%-22s", label);
	for (m = 0; m < VS_MECH_COUNT && off < sizeof(line); m++)
		off += snprintf(line + off, sizeof(line) - off, "%-*s", COLW,
				cells[m]);
	put_trimmed(line);
}

/* What each regime means, for the legend under the table. */
static const char *const regime_legend[VS_REGIME_COUNT] = {
	[VS_REGIME_BW] = "the fast party spins (or polls within its budget)",
	[VS_REGIME_SFC] = "C sleeps between batches, P never waits",
	[VS_REGIME_SFP] = "P sleeps on a full queue, C never waits",
	[VS_REGIME_SLS] = "sleeps too long for the queue: both wait",
	[VS_REGIME_NFC] = "C blocks, P notifies it every batch (Np)",
	[VS_REGIME_NFP] = "P blocks on a full queue, C notifies it",
	[VS_REGIME_NSCS] = "C starts too slowly: P fills the queue, blocks",
	[VS_REGIME_NSPS] = "P starts too slowly: C drains the queue, blocks",
	[VS_REGIME_NSS] = "both start too slowly: P and C take turns",
};

/* What the paper measured for the Sec. 8 presets, to compare. */
static const char *preset_measured(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, "fc-example"))
		return "paper measured: notify 550ns/item, batch 5.3; "
		       "sleep ~300ns/item, batch 50.5";
	if (!strcmp(name, "fp-example"))
		return "paper measured: notify ~300ns/item, batch 1480; "
		       "sleep (Yp 20us) batch 200";
	return NULL;
}

/* "busy+sleep (300.0ns)": the mechanisms within 0.1% of the best. */
static const char *winners(const struct vs_prediction pr[VS_MECH_COUNT],
			   int energy, char *buf, size_t len)
{
	double best = INFINITY, v;
	char t[32];
	size_t off = 0;
	int m;

	for (m = 0; m < VS_MECH_COUNT; m++) {
		v = energy ? pr[m].e_ns : pr[m].t_ns;
		if (isfinite(v) && v < best)
			best = v;
	}
	buf[0] = '\0';
	for (m = 0; m < VS_MECH_COUNT && off < len; m++) {
		v = energy ? pr[m].e_ns : pr[m].t_ns;
		if (isfinite(v) && v <= best * 1.001)
			off += snprintf(buf + off, len - off, "%s%s",
					off ? "+" : "", vs_mech_name(m));
	}
	if (off < len)
		snprintf(buf + off, len - off, " (%s)",
			 fmt_time(best, t, sizeof(t)));
	return buf;
}

static void print_single_text(const struct vs_params *p,
			      const struct vs_prediction pr[VS_MECH_COUNT])
{
	char c[10][VS_MECH_COUNT][32];
	const char *cells[VS_MECH_COUNT];
	const char *summary = vs_preset_summary(env.params.preset);
	int m, any_sls = 0, any_e_bounds = 0;

	if (env.params.preset)
		printf("preset %s: %s\n", env.params.preset, summary);
	print_params(p, NULL);
	printf("\n");
	for (m = 0; m < VS_MECH_COUNT; m++)
		cells[m] = vs_mech_name(m);
	print_row("", cells);
	for (m = 0; m < VS_MECH_COUNT; m++) {
		snprintf(c[0][m], sizeof(c[0][m]), "%s",
			 vs_regime_name(pr[m].regime));
		fmt_time(pr[m].t_ns, c[1][m], sizeof(c[1][m]));
		fmt_rate(pr[m].t_ns, c[2][m], sizeof(c[2][m]));
		fmt_time(pr[m].e_ns, c[3][m], sizeof(c[3][m]));
		fmt_time(pr[m].d_ns, c[4][m], sizeof(c[4][m]));
		fmt_batch(pr[m].batch, c[5][m], sizeof(c[5][m]));
		fmt_time(pr[m].t_lo_ns, c[6][m], sizeof(c[6][m]));
		fmt_time(pr[m].t_hi_ns, c[7][m], sizeof(c[7][m]));
		fmt_time(pr[m].e_lo_ns, c[8][m], sizeof(c[8][m]));
		fmt_time(pr[m].e_hi_ns, c[9][m], sizeof(c[9][m]));
		if (pr[m].regime == VS_REGIME_SLS)
			any_sls = 1;
		if (isfinite(pr[m].e_lo_ns))
			any_e_bounds = 1;
	}
#define ROW(i, label) do { \
		for (m = 0; m < VS_MECH_COUNT; m++) \
			cells[m] = c[i][m]; \
		print_row(label, cells); \
	} while (0)
	ROW(0, "regime");
	ROW(1, "T, time per item");
	ROW(2, "  throughput");
	ROW(3, "E, CPU per item");
	ROW(4, "D, worst latency");
	ROW(5, "batch (items/sync)");
	if (any_sls) {
		ROW(6, "T lower bound (eq.6)");
		ROW(7, "T upper bound (eq.7)");
	}
	if (any_e_bounds) {
		ROW(8, "E at T lower bound");
		ROW(9, "E at T upper bound");
	}
#undef ROW
	printf("\n");
	{
		char a[64], b[64];

		printf("best throughput: %s; least CPU: %s\n",
		       winners(pr, 0, a, sizeof(a)), winners(pr, 1, b, sizeof(b)));
	}
	printf("\n");
	for (m = 0; m < VS_MECH_COUNT; m++) {
		enum vs_regime r = pr[m].regime;
		int seen = 0, i;

		for (i = 0; i < m; i++)
			seen |= pr[i].regime == r;
		if (!seen && (unsigned int)r < VS_REGIME_COUNT)
			printf("%-5s %s\n", vs_regime_name(r), regime_legend[r]);
	}
	if (pr[VS_MECH_SLEEP].regime == VS_REGIME_SLS &&
	    isnan(pr[VS_MECH_SLEEP].batch))
		printf("(sLS: T is the midpoint of its bounds, E the CPU at that T)\n");
	if (preset_measured(env.params.preset))
		printf("%s\n", preset_measured(env.params.preset));
}

static json_t *mechanisms_json(const struct vs_prediction pr[VS_MECH_COUNT])
{
	json_t *o = json_object();
	int m;

	for (m = 0; m < VS_MECH_COUNT; m++)
		json_object_set_new(o, vs_mech_name(m),
				    vs_prediction_json(&pr[m]));
	return o;
}

static json_t *params_json(const struct vs_params *p)
{
	return vs_params_json(p);
}

static void csv_header(void)
{
	int m;

	printf("%s", env.params.sweep.field->name);
	for (m = 0; m < VS_MECH_COUNT; m++)
		printf(",%1$s_regime,%1$s_T_ns,%1$s_E_ns,%1$s_D_ns,%1$s_batch"
		       ",%1$s_T_lo_ns,%1$s_T_hi_ns,%1$s_E_lo_ns,%1$s_E_hi_ns",
		       vs_mech_name(m));
	printf("\n");
}

static void csv_num(double v)
{
	if (isfinite(v))
		printf(",%.10g", v);
	else
		printf(",");
}

static void csv_row(double value, const struct vs_prediction pr[VS_MECH_COUNT])
{
	int m;

	printf("%.10g", value);
	for (m = 0; m < VS_MECH_COUNT; m++) {
		printf(",%s", vs_regime_name(pr[m].regime));
		csv_num(pr[m].t_ns);
		csv_num(pr[m].e_ns);
		csv_num(pr[m].d_ns);
		csv_num(pr[m].batch);
		csv_num(pr[m].t_lo_ns);
		csv_num(pr[m].t_hi_ns);
		csv_num(pr[m].e_lo_ns);
		csv_num(pr[m].e_hi_ns);
	}
	printf("\n");
}

static const char *fmt_value(const struct vs_param_field *f, double v,
			     char *buf, size_t len)
{
	if (f->kind == VS_PARAM_UINT)
		snprintf(buf, len, "%.0f", v);
	else
		fmt_time(v, buf, len);
	return buf;
}

static void sweep_text_header(const struct vs_params *p)
{
	char a[32], b[32], c[32];
	int m;

	if (env.params.preset)
		printf("preset %s: %s\n", env.params.preset,
		       vs_preset_summary(env.params.preset));
	printf("sweep %s from %s to %s, step %s%s\n", env.params.sweep.field->name,
	       fmt_value(env.params.sweep.field, env.params.sweep.start, a, sizeof(a)),
	       fmt_value(env.params.sweep.field, env.params.sweep.end, b, sizeof(b)),
	       env.params.sweep.geometric ? "x" : "",
	       env.params.sweep.geometric ? (snprintf(c, sizeof(c), "%g",
					       env.params.sweep.step), c) :
	       fmt_value(env.params.sweep.field, env.params.sweep.step, c, sizeof(c)));
	char line[160];
	size_t off;

	print_params(p, !strcmp(env.params.sweep.field->name, "y") ||
		     !strcmp(env.params.sweep.field->name, "poll") ? NULL :
		     env.params.sweep.field->name);
	printf("\n");
	/* Four mechanisms do not fit 80 columns as regime, T and E side by
	 * side: each point is two lines, T with the regime, then E. */
	off = snprintf(line, sizeof(line), "%-12s", env.params.sweep.field->name);
	for (m = 0; m < VS_MECH_COUNT; m++)
		off += snprintf(line + off, sizeof(line) - off, " %-15s",
				vs_mech_name(m));
	put_trimmed(line);
}

static void sweep_text_row(double value,
			   const struct vs_prediction pr[VS_MECH_COUNT])
{
	char v[32], t[32], line[160];
	size_t off;
	int m;

	off = snprintf(line, sizeof(line), "%-9s T ",
		       fmt_value(env.params.sweep.field, value, v, sizeof(v)));
	for (m = 0; m < VS_MECH_COUNT; m++)
		off += snprintf(line + off, sizeof(line) - off, " %-5s %-9s",
				vs_regime_name(pr[m].regime),
				fmt_time(pr[m].t_ns, t, sizeof(t)));
	put_trimmed(line);
	off = snprintf(line, sizeof(line), "%-9s E ", "");
	for (m = 0; m < VS_MECH_COUNT; m++)
		off += snprintf(line + off, sizeof(line) - off, " %-5s %-9s", "",
				fmt_time(pr[m].e_ns, t, sizeof(t)));
	put_trimmed(line);
}

static int run_sweep(const struct vs_params *base, int argc, char **argv)
{
	struct vs_prediction pr[VS_MECH_COUNT];
	struct vs_params p;
	json_t *doc = NULL, *points = NULL, *sweep, *pt, *params;
	char key[16];
	unsigned int i;
	double v;

	/* vs_param_opts_finish() validated every point: bad input has left
	 * stdout empty. */
	if (vs_global.json) {
		doc = json_object();
		vs_json_add_meta(doc, argc, argv);
		if (env.params.preset)
			json_object_set_new(doc, "preset",
					    json_string(env.params.preset));
		params = params_json(base);
		/* the swept parameter has no single value */
		if (!strcmp(env.params.sweep.field->name, "y")) {
			json_object_set_new(params, "yp_ns", json_null());
			json_object_set_new(params, "yc_ns", json_null());
		} else if (!strcmp(env.params.sweep.field->name, "poll")) {
			json_object_set_new(params, "pp_ns", json_null());
			json_object_set_new(params, "pc_ns", json_null());
		} else {
			snprintf(key, sizeof(key), "%s%s", env.params.sweep.field->name,
				 env.params.sweep.field->kind == VS_PARAM_TIME ? "_ns" : "");
			json_object_set_new(params, key, json_null());
		}
		json_object_set_new(doc, "params", params);
		sweep = json_object();
		json_object_set_new(sweep, "param",
				    json_string(env.params.sweep.field->name));
		points = json_array();
		json_object_set_new(sweep, "points", points);
		json_object_set_new(doc, "sweep", sweep);
	} else if (env.csv) {
		csv_header();
	} else {
		sweep_text_header(base);
	}
	for (i = 0; i < env.params.sweep.npoints; i++) {
		v = vs_sweep_value(&env.params.sweep, i);
		vs_param_opts_point(&env.params, i, &p);
		if (vs_model_predict_all(&p, pr))
			return VS_EXIT_FAIL;	/* validated above */
		if (doc) {
			pt = json_object();
			json_object_set_new(pt, "value", json_real(v));
			json_object_set_new(pt, "mechanisms", mechanisms_json(pr));
			json_array_append_new(points, pt);
		} else if (env.csv) {
			csv_row(v, pr);
		} else {
			sweep_text_row(v, pr);
		}
	}
	if (doc)
		return vs_json_print(doc) ? VS_EXIT_FAIL : VS_EXIT_OK;
	return fflush(stdout) ? VS_EXIT_FAIL : VS_EXIT_OK;
}

/* VS_COMMAND() defines the function; -Wmissing-prototypes wants this. */
int cmd_model(int argc, char **argv);

VS_COMMAND(model, 0, "closed-form predictions for given parameters")
{
	/* child 0 gets env.params in parse_opt(ARGP_KEY_INIT) */
	static const struct argp_child children[] = {
		{ &vs_params_argp_s, 0, "Parameters (paper Table 1):", 1 },
		{ &vs_common_argp, 0, "Common options:", 0 },
		{ 0 },
	};
	static const struct argp argp = {
		.options = opts,
		.parser = parse_opt,
		.doc = argp_doc,
		.children = children,
	};
	struct vs_prediction pr[VS_MECH_COUNT];
	struct vs_params p;
	json_t *doc;
	int err;

	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--queues", 8) &&
		    (argv[i][8] == '\0' || argv[i][8] == '='))
			return model_queues(argc, argv);
	memset(&env, 0, sizeof(env));
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	if (env.csv && !env.params.have_sweep) {
		vs_err("--csv: only with --sweep");
		return VS_EXIT_USAGE;
	}
	if (vs_param_opts_finish(&env.params))
		return VS_EXIT_USAGE;
	p = env.params.p;
	if (env.params.have_sweep)
		return run_sweep(&p, argc, argv);
	err = vs_model_predict_all(&p, pr);
	if (err) {
		vs_err("model: %s", strerror(-err));
		return VS_EXIT_FAIL;
	}
	if (vs_global.json) {
		doc = json_object();
		vs_json_add_meta(doc, argc, argv);
		if (env.params.preset)
			json_object_set_new(doc, "preset",
					    json_string(env.params.preset));
		json_object_set_new(doc, "params", params_json(&p));
		json_object_set_new(doc, "mechanisms", mechanisms_json(pr));
		return vs_json_print(doc) ? VS_EXIT_FAIL : VS_EXIT_OK;
	}
	print_single_text(&p, pr);
	return fflush(stdout) ? VS_EXIT_FAIL : VS_EXIT_OK;
}
