// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync sim: discrete-event simulation of the producer/consumer system,
 * with constant or random parameters (paper Sec. 6), for one point or along
 * a sweep. The parameters and the sweep are the same options as `virtsync
 * model` (tools/params.c); the result names the regime the model would.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "params.h"
#include "model/sim.h"
#include "core/units.h"

enum {
	OPT_P_MODE = 0x1000,
	OPT_C_MODE,
	OPT_RANDOM,
	OPT_SIGMA,
	OPT_ARRIVAL,
	OPT_RECHECK,
	OPT_CSV,
	OPT_WARMUP,
	OPT_POLL_ADAPT,
	OPT_ITEMS,
	OPT_SIM_TIME,
	OPT_SEED,
};

/* A spread given in percent follows the mean along a sweep. */
struct sigma_opt {
	bool set;
	bool relative;
	double value;		/* ns, or a fraction of the mean */
};

static struct env {
	struct vs_param_opts params;
	struct vs_sim_config cfg;
	bool dist_set[VS_SIM_VAR_COUNT];
	struct sigma_opt sigma[VS_SIM_VAR_COUNT];
	bool csv;
} env;

const char argp_program_doc[] =
"Simulate the producer/consumer system event by event.\n"
"\n"
"Synopsis: virtsync sim [--preset NAME] [--wp TIME ...] [--mode MODE]\n"
"                       [--random VAR=DIST] [--sigma VAR=SPREAD] [--sweep SPEC]\n"
"\n"
"P and C exchange items through a queue of L slots; each side waits by\n"
"notifying (thresholds kp, kc), sleeping (Yp, Yc), busy waiting or polling\n"
"up to Pp, Pc and then notifying (hybrid; the window fixed or adapted as\n"
"QEMU's iothreads or KVM's halt polling adapt theirs). Wp, Wc,\n"
"Np, Nc, Sp, Sc (and Yp, Yc) may be random: normal truncated at 0, or\n"
"exponential. Results: T, E, batch, notifications (and spurious ones),\n"
"sleeps, latency percentiles, the regime (share of time in each).\n"
"\n"
"Examples:\n"
"  virtsync sim --preset paper-costs            # Fig. 8 set-up, Wp 2.2us\n"
"  virtsync sim --preset paper-costs --sweep wp=200ns:2.9us:100ns\n"
"  virtsync sim --preset paper-costs --random wc=exp --sigma wp=0.5% \\\n"
"      --sweep wp=1.9us:2.9us:100ns              # Fig. 13, exponential Wc\n"
"  virtsync sim --mode sleep --len 512 --wp 2us --wc 1us --y 1.5ms\n"
"  virtsync sim --preset fc-example --arrival-rate 1M --json\n"
"  virtsync sim --mode hybrid --wp 7us --wc 2us --np 2us --sc 8us --pp 0 \\\n"
"      --pc 32us --poll-adapt qemu           # QEMU's window finds the gap\n";

static const struct argp_option options[] = {
	{ "mode", 'm', "MODE", 0,
	  "How both sides wait: notify, sleep, poll or hybrid (default notify)", 1 },
	{ "poll-adapt", OPT_POLL_ADAPT, "CTL", 0,
	  "How a hybrid side's poll window moves, up to Pp or Pc: fixed "
	  "(default: always the maximum), qemu (aio-posix: from 4us, x2, back "
	  "to 0) or kvm (halt polling: from 10us, x2, back to 0)", 1 },
	{ "p-mode", OPT_P_MODE, "MODE", 0, "How P waits on a full queue", 1 },
	{ "c-mode", OPT_C_MODE, "MODE", 0, "How C waits on an empty queue", 1 },
	{ "random", OPT_RANDOM, "VAR=DIST", 0,
	  "Make VAR (wp wc np nc sp sc yp yc) random: normal, exp or const; "
	  "comma-separated list, repeatable", 1 },
	{ "sigma", OPT_SIGMA, "VAR=SPREAD", 0,
	  "Standard deviation of VAR, a time or a percentage of its mean "
	  "(wc=200ns, wp=0.5%); implies normal", 1 },
	{ "arrival-rate", OPT_ARRIVAL, "RATE", 0,
	  "Poisson requests per second into R (k and M suffixes); default: "
	  "greedy, R never empty", 1 },
	{ "items", OPT_ITEMS, "N", 0, "Items to simulate (default 200000)", 2 },
	{ "sim-time", OPT_SIM_TIME, "TIME", 0,
	  "Simulate this long (1us to 1h) instead of a number of items", 2 },
	{ "warmup", OPT_WARMUP, "N", 0,
	  "Items not measured (default a tenth of --items)", 2 },
	{ "seed", OPT_SEED, "N", 0, "Seed of the random generator (default 1)", 2 },
	{ "recheck", OPT_RECHECK, "TIME", 0,
	  "Time between re-enabling notifications and the second look at "
	  "the queue, the window of spurious notifications (default 20ns)", 2 },
	{ "csv", OPT_CSV, NULL, 0, "With --sweep: CSV instead of a table", 3 },
	{ 0 },
};

static int parse_mode(const char *opt, const char *arg, enum vs_mech *m)
{
	static const enum vs_mech of_wait[] = {
		[VS_WAITWORD_NOTIFY] = VS_MECH_NOTIFY, [VS_WAITWORD_SLEEP] = VS_MECH_SLEEP,
		[VS_WAITWORD_POLL] = VS_MECH_BUSY, [VS_WAITWORD_HYBRID] = VS_MECH_HYBRID,
	};
	enum vs_wait_word w;

	if (opt_wait_mode(opt, arg, &w))
		return EINVAL;
	*m = of_wait[w];
	return 0;
}

/* Split "a=b,c=d" and call fn for each pair on a copy of the text. */
static int each_pair(const char *opt, const char *arg,
		     int (*fn)(const char *opt, const char *var,
			       const char *val, enum vs_sim_var v))
{
	char buf[256], *save = NULL, *tok, *eq;
	enum vs_sim_var v;
	int err;

	if (!arg || !*arg || strlen(arg) >= sizeof(buf)) {
		vs_err("%s: expected VAR=VALUE[,VAR=VALUE...], got '%s'", opt,
		       arg ? arg : "");
		return EINVAL;
	}
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		eq = strchr(tok, '=');
		if (!eq || eq == tok) {
			vs_err("%s: expected VAR=VALUE, got '%s'", opt, tok);
			return EINVAL;
		}
		*eq = '\0';
		if (vs_sim_var_from_name(tok, &v)) {
			vs_err("%s: '%s' cannot be random (wp, wc, np, nc, sp, sc, yp, yc)",
			       opt, tok);
			return EINVAL;
		}
		err = fn(opt, tok, eq + 1, v);
		if (err)
			return err;
	}
	return 0;
}

static int set_random(const char *opt, const char *var, const char *val,
		      enum vs_sim_var v)
{
	enum vs_dist_kind k;

	if (vs_dist_from_name(val, &k)) {
		vs_err("%s: %s: '%s' is not a distribution (normal, exp or const)",
		       opt, var, val);
		return EINVAL;
	}
	env.cfg.dist[v].kind = k;
	env.dist_set[v] = true;
	return 0;
}

static int set_sigma(const char *opt, const char *var, const char *val,
		     enum vs_sim_var v)
{
	char name[48];
	size_t n = strlen(val);
	double x;

	snprintf(name, sizeof(name), "%s %s", opt, var);
	if (n > 1 && val[n - 1] == '%') {
		char num[64];

		if (n >= sizeof(num)) {
			vs_err("%s: '%s' is not a percentage", name, val);
			return EINVAL;
		}
		memcpy(num, val, n - 1);
		num[n - 1] = '\0';
		if (opt_double(name, num, 0, 1000, &x))
			return EINVAL;
		env.sigma[v] = (struct sigma_opt){ true, true, x / 100 };
		return 0;
	}
	if (opt_time(name, val, &x))
		return EINVAL;
	env.sigma[v] = (struct sigma_opt){ true, false, x };
	return 0;
}

/* "250000", "250k", "1.5M": requests per second. */
static int parse_rate(const char *opt, const char *arg, double *rate)
{
	char num[64];
	size_t n = arg ? strlen(arg) : 0;
	double mult = 1;

	if (n && (arg[n - 1] == 'k' || arg[n - 1] == 'M' ||
		  arg[n - 1] == 'G')) {
		mult = arg[n - 1] == 'k' ? 1e3 : arg[n - 1] == 'M' ? 1e6 : 1e9;
		n--;
	}
	if (!n || n >= sizeof(num)) {
		vs_err("%s: '%s' is not a rate (requests per second, e.g. 250k)",
		       opt, arg ? arg : "");
		return EINVAL;
	}
	memcpy(num, arg, n);
	num[n] = '\0';
	if (vs_parse_double(num, 0, 1e12, rate) || *rate <= 0) {
		vs_err("%s: '%s' is not a rate (requests per second, e.g. 250k)",
		       opt, arg);
		return EINVAL;
	}
	*rate *= mult;
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	uint64_t u;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &env.params;
		return 0;
	case 'm':
		if (parse_mode("--mode", arg, &env.cfg.p_mode))
			return EINVAL;
		env.cfg.c_mode = env.cfg.p_mode;
		return 0;
	case OPT_P_MODE:
		return parse_mode("--p-mode", arg, &env.cfg.p_mode);
	case OPT_C_MODE:
		return parse_mode("--c-mode", arg, &env.cfg.c_mode);
	case OPT_POLL_ADAPT:
		if (vs_poll_adapt_from_name(arg, &env.cfg.poll_p.kind)) {
			vs_err("--poll-adapt: '%s' is not a controller (fixed, qemu or kvm)",
			       arg);
			return EINVAL;
		}
		env.cfg.poll_c.kind = env.cfg.poll_p.kind;
		return 0;
	case OPT_RANDOM:
		return each_pair("--random", arg, set_random);
	case OPT_SIGMA:
		return each_pair("--sigma", arg, set_sigma);
	case OPT_ARRIVAL:
		return parse_rate("--arrival-rate", arg, &env.cfg.arrival_rate);
	case OPT_ITEMS:
		if (opt_u64("--items", arg, 1, UINT64_MAX / 2, &u))
			return EINVAL;
		env.cfg.items = u;
		return 0;
	case OPT_SIM_TIME:
		return opt_duration("--sim-time", arg, 1e3, 3600e9,
				    &env.cfg.sim_time_ns) ? EINVAL : 0;
	case OPT_WARMUP:
		if (opt_u64("--warmup", arg, 0, UINT64_MAX / 2, &u))
			return EINVAL;
		env.cfg.warmup_items = u;
		return 0;
	case OPT_SEED:
		return opt_u64("--seed", arg, 0, UINT64_MAX, &env.cfg.seed) ?
		       EINVAL : 0;
	case OPT_RECHECK:
		return opt_time("--recheck", arg, &env.cfg.recheck_ns) ?
		       EINVAL : 0;
	case OPT_CSV:
		env.csv = true;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

/* Cross-option rules, checked once everything is parsed. */
static int check_random(void)
{
	int i;

	for (i = 0; i < VS_SIM_VAR_COUNT; i++) {
		const char *n = vs_sim_var_name(i);

		if (env.sigma[i].set && !env.dist_set[i])
			env.cfg.dist[i].kind = VS_DIST_NORMAL;
		if (env.sigma[i].set && env.cfg.dist[i].kind != VS_DIST_NORMAL) {
			vs_err("--sigma %s: %s is %s, only a normal %s has a sigma",
			       n, n, vs_dist_name(env.cfg.dist[i].kind), n);
			return -EINVAL;
		}
		if (env.cfg.dist[i].kind == VS_DIST_NORMAL && !env.sigma[i].set) {
			vs_err("--random %s=normal: give its spread with --sigma %s=SPREAD",
			       n, n);
			return -EINVAL;
		}
	}
	if (env.csv && !env.params.have_sweep) {
		vs_err("--csv: only with --sweep");
		return -EINVAL;
	}
	return 0;
}

/* The config for one point: means from p, spreads resolved against them. */
static void point_config(const struct vs_params *p, struct vs_sim_config *c)
{
	int i;

	*c = env.cfg;
	c->p = *p;
	for (i = 0; i < VS_SIM_VAR_COUNT; i++) {
		double mean = *vs_sim_var_field(&c->p, i);

		if (env.sigma[i].set)
			c->dist[i].sigma = env.sigma[i].relative ?
					   env.sigma[i].value * mean :
					   env.sigma[i].value;
	}
}

static bool all_constant(const struct vs_sim_config *c)
{
	int i;

	for (i = 0; i < VS_SIM_VAR_COUNT; i++)
		if (c->dist[i].kind != VS_DIST_CONST)
			return false;
	return c->arrival_rate == 0;
}

static json_t *latency_json(const struct vs_sim_latency *l)
{
	json_t *o = json_object();

	json_object_set_new(o, "p50", vs_json_num(l->p50));
	json_object_set_new(o, "p95", vs_json_num(l->p95));
	json_object_set_new(o, "p98", vs_json_num(l->p98));
	json_object_set_new(o, "max", vs_json_num(l->max));
	return o;
}

static json_t *result_json(const struct vs_sim_config *c,
			   const struct vs_sim_result *r)
{
	json_t *o = json_object(), *share = json_object();
	struct vs_prediction pr;
	int i;

	json_object_set_new(o, "regime", json_string(vs_regime_name(r->regime)));
	json_object_set_new(o, "T_ns", vs_json_num(r->t_ns));
	json_object_set_new(o, "E_ns", vs_json_num(r->e_ns));
	/* The simulator has no bound, only what it saw: the worst latency. */
	json_object_set_new(o, "D_ns", vs_json_num(r->latency.max));
	json_object_set_new(o, "batch", vs_json_num(r->batch));
	json_object_set_new(o, "notifications_p", json_integer(r->notifications_p));
	json_object_set_new(o, "notifications_c", json_integer(r->notifications_c));
	json_object_set_new(o, "spurious",
			    json_integer(r->spurious_p + r->spurious_c));
	json_object_set_new(o, "spurious_p", json_integer(r->spurious_p));
	json_object_set_new(o, "spurious_c", json_integer(r->spurious_c));
	json_object_set_new(o, "sleeps_p", json_integer(r->sleeps_p));
	json_object_set_new(o, "sleeps_c", json_integer(r->sleeps_c));
	json_object_set_new(o, "polls_p", json_integer(r->polls_p));
	json_object_set_new(o, "polls_c", json_integer(r->polls_c));
	json_object_set_new(o, "poll_hits_p", json_integer(r->poll_hits_p));
	json_object_set_new(o, "poll_hits_c", json_integer(r->poll_hits_c));
	json_object_set_new(o, "poll_window_p_ns", vs_json_num(r->poll_window_p_ns));
	json_object_set_new(o, "poll_window_c_ns", vs_json_num(r->poll_window_c_ns));
	json_object_set_new(o, "latency_ns", latency_json(&r->latency));
	for (i = 0; i < VS_REGIME_COUNT; i++)
		if (r->regime_share[i] > 0)
			json_object_set_new(share, vs_regime_name(i),
					    json_real(r->regime_share[i]));
	json_object_set_new(o, "regime_share", share);
	json_object_set_new(o, "items", json_integer(r->items));
	json_object_set_new(o, "sim_time_ns", vs_json_num(r->sim_time_ns));
	json_object_set_new(o, "events", json_integer(r->events));
	/* What the closed form says for the same means, to compare. */
	if (c->p_mode == c->c_mode &&
	    !vs_model_predict(&c->p, c->p_mode, &pr))
		json_object_set_new(o, "model", vs_prediction_json(&pr));
	return o;
}

static json_t *setup_json(const struct vs_sim_config *c)
{
	json_t *o = json_object(), *rnd = json_object();
	int i;

	json_object_set_new(o, "p_mode", json_string(vs_mech_name(c->p_mode)));
	json_object_set_new(o, "c_mode", json_string(vs_mech_name(c->c_mode)));
	for (i = 0; i < VS_SIM_VAR_COUNT; i++) {
		json_t *d;

		if (c->dist[i].kind == VS_DIST_CONST)
			continue;
		d = json_object();
		json_object_set_new(d, "dist",
				    json_string(vs_dist_name(c->dist[i].kind)));
		if (c->dist[i].kind == VS_DIST_NORMAL)
			json_object_set_new(d, "sigma_ns",
					    vs_json_num(c->dist[i].sigma));
		json_object_set_new(rnd, vs_sim_var_name(i), d);
	}
	json_object_set_new(o, "random", rnd);
	json_object_set_new(o, "arrival_rate", c->arrival_rate > 0 ?
			    json_real(c->arrival_rate) : json_null());
	json_object_set_new(o, "recheck_ns", vs_json_num(c->recheck_ns));
	json_object_set_new(o, "poll_adapt",
			    json_string(vs_poll_adapt_name(c->poll_c.kind)));
	json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
	return o;
}

static void print_text(const struct vs_sim_config *c,
		       const struct vs_sim_result *r)
{
	char b[6][16];
	struct vs_prediction pr;
	int i, n;

	vs_params_print(stdout, "params      ", &c->p);
	printf("modes       P %s, C %s; %s; seed %llu\n",
	       vs_mech_name(c->p_mode), vs_mech_name(c->c_mode),
	       c->arrival_rate > 0 ? "Poisson arrivals" : "greedy R",
	       (unsigned long long)c->seed);
	for (i = 0, n = 0; i < VS_SIM_VAR_COUNT; i++) {
		if (c->dist[i].kind == VS_DIST_CONST)
			continue;
		printf("%s%s %s", n++ ? ", " : "random      ",
		       vs_sim_var_name(i), vs_dist_name(c->dist[i].kind));
		if (c->dist[i].kind == VS_DIST_NORMAL)
			printf(" sigma %s", vs_format_time(c->dist[i].sigma,
							   b[0], 16));
	}
	if (n)
		printf("\n");
	printf("regime      %s (%.1f%% of the time)\n",
	       vs_regime_name(r->regime), 100 * r->regime_share[r->regime]);
	printf("T           %s per item (%.1f k items/s)\n",
	       vs_format_time(r->t_ns, b[0], 16), 1e6 / r->t_ns);
	printf("E           %s of CPU per item\n",
	       vs_format_time(r->e_ns, b[0], 16));
	if (isfinite(r->batch))
		printf("batch       %.1f items per notification or sleep\n", r->batch);
	else
		printf("batch       - (no notification or sleep)\n");
	printf("notify      P->C %llu (spurious %llu), C->P %llu (spurious %llu)\n",
	       (unsigned long long)r->notifications_p,
	       (unsigned long long)r->spurious_p,
	       (unsigned long long)r->notifications_c,
	       (unsigned long long)r->spurious_c);
	printf("sleeps      P %llu, C %llu\n", (unsigned long long)r->sleeps_p,
	       (unsigned long long)r->sleeps_c);
	if (c->p_mode == VS_MECH_HYBRID || c->c_mode == VS_MECH_HYBRID)
		printf("polls       P %llu (%llu found), C %llu (%llu found); %s window P %s, C %s\n",
		       (unsigned long long)r->polls_p,
		       (unsigned long long)r->poll_hits_p,
		       (unsigned long long)r->polls_c,
		       (unsigned long long)r->poll_hits_c,
		       vs_poll_adapt_name(c->poll_c.kind),
		       vs_format_time(r->poll_window_p_ns, b[4], 16),
		       vs_format_time(r->poll_window_c_ns, b[5], 16));
	printf("latency     p50 %s  p95 %s  p98 %s  max %s\n",
	       vs_format_time(r->latency.p50, b[0], 16),
	       vs_format_time(r->latency.p95, b[1], 16),
	       vs_format_time(r->latency.p98, b[2], 16),
	       vs_format_time(r->latency.max, b[3], 16));
	printf("regimes    ");
	for (i = 0; i < VS_REGIME_COUNT; i++)
		if (r->regime_share[i] >= 0.0005)
			printf(" %s %.1f%%", vs_regime_name(i),
			       100 * r->regime_share[i]);
	printf("\n");
	printf("simulated   %llu items measured, %s, %llu events\n",
	       (unsigned long long)r->items,
	       vs_format_time(r->sim_time_ns, b[0], 16),
	       (unsigned long long)r->events);
	if (c->p_mode == c->c_mode && !vs_model_predict(&c->p, c->p_mode, &pr)) {
		if (isfinite(pr.t_lo_ns))
			printf("model       %s, T between %s and %s%s\n",
			       vs_regime_name(pr.regime),
			       vs_format_time(pr.t_lo_ns, b[0], 16),
			       vs_format_time(pr.t_hi_ns, b[1], 16),
			       all_constant(c) ? "" : " (constant parameters)");
		else
			printf("model       %s, T %s%s\n",
			       vs_regime_name(pr.regime),
			       vs_format_time(pr.t_ns, b[0], 16),
			       all_constant(c) ? "" : " (constant parameters)");
	}
}

/* T and E are intervals between items: one item gives none (T was the
 * first item's own time and batch printed "nan"). */
#define SIM_MIN_ITEMS 2

static void measured_nothing(const struct vs_sim_result *r, const char *param,
			     const char *value)
{
	char t[VS_FMT_LEN], at[64] = "";

	if (param)
		snprintf(at, sizeof(at), " at %s=%s", param, value);
	vs_err("%llu item%s measured after the warm-up in %s of simulated "
	       "time%s: too few for a figure (give a longer --sim-time or more "
	       "--items)", (unsigned long long)r->items, r->items == 1 ? "" : "s",
	       vs_format_time(r->sim_time_ns, t, sizeof(t)), at);
}

static void sweep_value_text(double v, char *buf, size_t len)
{
	if (env.params.sweep.field->kind == VS_PARAM_TIME)
		vs_format_time(v, buf, len);
	else
		snprintf(buf, len, "%.0f", v);
}

/* Ctrl-C in a sweep: the point being simulated ends at once and is
 * dropped (a cut point is not the point asked for); the points done are
 * printed. */
static int run_sweep(int argc, char **argv)
{
	const struct vs_sweep *sw = &env.params.sweep;
	json_t *doc = NULL, *points = NULL, *swj;
	struct vs_sim_config c;
	struct vs_sim_result r;
	struct vs_params p;
	struct vs_progress progress;
	char b[6][16];
	unsigned int i;
	int err;

	if (vs_global.json) {
		doc = json_object();
		vs_json_add_meta(doc, argc, argv);
		json_object_set_new(doc, "params", vs_params_json(&env.params.p));
		json_object_set_new(doc, "setup", setup_json(&env.cfg));
		points = json_array();
	} else if (env.csv) {
		printf("%s,regime,T_ns,E_ns,batch,notifications_p,notifications_c,"
		       "spurious_p,spurious_c,sleeps_p,sleeps_c,latency_p50_ns,"
		       "latency_p95_ns,latency_p98_ns,latency_max_ns,events\n",
		       sw->field->name);
	} else {
		printf("%9s %-6s %9s %9s %8s %9s %7s %9s\n", sw->field->name,
		       "regime", "T", "E", "batch", "notif", "spur", "lat.max");
	}
	vs_stop_on_signals();
	env.cfg.stop = vs_stop_flag();
	vs_progress_begin(&progress, "sim sweep");
	for (i = 0; i < sw->npoints && !vs_stop_requested(); i++) {
		double v = vs_sweep_value(sw, i);

		vs_param_opts_point(&env.params, i, &p);
		point_config(&p, &c);
		vs_progress_update(&progress, i, sw->npoints);
		err = vs_sim_run(&c, &r);
		vs_progress_done(&progress);
		if (err == -EINTR)
			break;
		if (!err && r.items < SIM_MIN_ITEMS) {
			sweep_value_text(v, b[0], 16);
			measured_nothing(&r, sw->field->name, b[0]);
			err = -ENODATA;
		} else if (err) {
			vs_err("simulation failed at %s=%g: %s", sw->field->name,
			       v, strerror(-err));
		}
		if (err) {
			json_decref(doc);
			json_decref(points);
			return VS_EXIT_FAIL;
		}
		if (doc) {
			json_t *pt = json_object(), *res = result_json(&c, &r);

			json_object_set_new(pt, sw->field->name, json_real(v));
			json_object_update(pt, res);
			json_decref(res);
			json_array_append_new(points, pt);
		} else if (env.csv) {
			printf("%.17g,%s,%.17g,%.17g,%.17g,%llu,%llu,%llu,%llu,%llu,%llu,%.17g,%.17g,%.17g,%.17g,%llu\n",
			       v, vs_regime_name(r.regime), r.t_ns, r.e_ns,
			       r.batch, (unsigned long long)r.notifications_p,
			       (unsigned long long)r.notifications_c,
			       (unsigned long long)r.spurious_p,
			       (unsigned long long)r.spurious_c,
			       (unsigned long long)r.sleeps_p,
			       (unsigned long long)r.sleeps_c, r.latency.p50,
			       r.latency.p95, r.latency.p98, r.latency.max,
			       (unsigned long long)r.events);
		} else {
			sweep_value_text(v, b[0], 16);
			if (isfinite(r.batch))
				snprintf(b[4], 16, "%.1f", r.batch);
			else
				snprintf(b[4], 16, "-");
			printf("%9s %-6s %9s %9s %8s %9llu %7llu %9s\n", b[0],
			       vs_regime_name(r.regime),
			       vs_format_time(r.t_ns, b[1], 16),
			       vs_format_time(r.e_ns, b[2], 16), b[4],
			       (unsigned long long)(r.notifications_p +
						    r.notifications_c),
			       (unsigned long long)(r.spurious_p + r.spurious_c),
			       vs_format_time(r.latency.max, b[3], 16));
		}
	}
	if (doc) {
		swj = json_object();
		json_object_set_new(swj, "param", json_string(sw->field->name));
		json_object_set_new(swj, "points", points);
		json_object_set_new(doc, "sweep", swj);
		if (vs_stop_requested())
			json_object_set_new(doc, "interrupted", json_true());
		if (vs_json_print(doc))
			return VS_EXIT_FAIL;
	}
	if (fflush(stdout))
		return VS_EXIT_FAIL;
	if (vs_stop_requested()) {
		vs_err("interrupted after %u of %u points", i, sw->npoints);
		return 130;
	}
	return VS_EXIT_OK;
}

static void show_progress(void *arg, double done)
{
	vs_progress_update(arg, (unsigned long)(done * 100), 100);
}

/* After the figures of a run Ctrl-C cut: say over what they are. */
static int interrupted_single(const struct vs_sim_result *r)
{
	char t[VS_FMT_LEN];

	vs_err("interrupted: the figures are over the %llu items measured until then (%s of simulated time)",
	       (unsigned long long)r->items, vs_format_time(r->sim_time_ns, t, sizeof(t)));
	return 130;
}

VS_COMMAND(sim, 0, "discrete-event simulation, constant or random parameters")
{
	static const struct argp_child children[] = {
		{ &vs_params_argp_s, 0, "Model parameters:", 4 },
		{ &vs_common_argp, 0, "Common options:", 5 },
		{ 0 },
	};
	static const struct argp argp = {
		.options = options,
		.parser = parse_arg,
		.args_doc = NULL,
		.doc = argp_program_doc,
		.children = children,
	};
	struct vs_sim_config c;
	struct vs_sim_result r;
	struct vs_progress progress;
	json_t *doc, *res;
	const char *why = NULL;
	bool stopped;
	int err;

	memset(&env, 0, sizeof(env));
	vs_sim_config_default(&env.cfg);
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	if (vs_param_opts_finish(&env.params) || check_random())
		return VS_EXIT_USAGE;
	env.cfg.p = env.params.p;
	if (env.params.have_sweep)
		return run_sweep(argc, argv);

	point_config(&env.params.p, &c);
	if (vs_sim_config_validate(&c, &why)) {
		vs_err("invalid simulation set-up: %s", why ? why : "?");
		return VS_EXIT_USAGE;
	}
	/* Ctrl-C ends the run where it is: the figures over the items
	 * measured until then, marked interrupted, exit 130 */
	vs_stop_on_signals();
	c.stop = vs_stop_flag();
	vs_progress_begin(&progress, "sim, percent done");
	c.progress = show_progress;
	c.progress_arg = &progress;
	err = vs_sim_run(&c, &r);
	vs_progress_done(&progress);
	stopped = err == -EINTR;
	if (stopped && r.items < SIM_MIN_ITEMS) {
		vs_err("interrupted after %llu events, in the warm-up: nothing measured",
		       (unsigned long long)r.events);
		return 130;
	}
	if (err && !stopped) {
		vs_err("simulation failed: %s", strerror(-err));
		return VS_EXIT_FAIL;
	}
	if (r.items < SIM_MIN_ITEMS) {
		measured_nothing(&r, NULL, NULL);
		return VS_EXIT_FAIL;
	}
	if (!vs_global.json) {
		print_text(&c, &r);
		if (fflush(stdout))
			return VS_EXIT_FAIL;
		return stopped ? interrupted_single(&r) : VS_EXIT_OK;
	}
	doc = json_object();
	vs_json_add_meta(doc, argc, argv);
	json_object_set_new(doc, "params", vs_params_json(&c.p));
	json_object_set_new(doc, "setup", setup_json(&c));
	res = result_json(&c, &r);
	json_object_update(doc, res);
	json_decref(res);
	if (stopped)
		json_object_set_new(doc, "interrupted", json_true());
	if (vs_json_print(doc))
		return VS_EXIT_FAIL;
	return stopped ? interrupted_single(&r) : VS_EXIT_OK;
}
