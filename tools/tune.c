// SPDX-License-Identifier: GPL-2.0-only
/* virtsync tune: the closed loop (measure, change, measure, keep or undo). */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "plan.h"
#include "tune-print.h"
#include "tune_loop.h"
#include "units.h"

static const char doc[] =
"Closed-loop tuning: measure a workload, apply the change it calls for\n"
"through the journal, measure again, keep it when the objective improved,\n"
"else roll it back; print the before/after table.\n"
"\n"
"USAGE: virtsync tune --auto --workload wakeup [--dmax TIME] [--save FILE]\n"
"\n"
"The wakeup workload is an eventfd ping-pong between two threads pinned to\n"
"two CPUs; the objective is its median round trip.\n"
"\n"
"EXAMPLES:\n"
"    virtsync tune --auto --workload wakeup\n"
"    virtsync tune --auto --workload wakeup --save /tmp/tune.json\n"
"    virtsync rollback                     # undo a kept change";

static struct env {
	bool auto_;
	const char *workload;
	const char *save;
	unsigned int rounds, repeats;
	double dmax_ns, min_gain;
	bool have_pid;
} env;

enum { OPT_AUTO = 1000, OPT_WORKLOAD, OPT_SAVE, OPT_ROUNDS, OPT_REPEATS, OPT_DMAX,
       OPT_MIN_GAIN, OPT_PID, OPT_DURATION };

static const struct argp_option opts[] = {
	{ "auto", OPT_AUTO, NULL, 0, "Decide, apply, check, keep or roll back", 0 },
	{ "workload", OPT_WORKLOAD, "PRESET", 0, "Workload to measure: wakeup", 0 },
	{ "pid", OPT_PID, "PID", 0, "Tune a running VM (needs diagnose)", 0 },
	{ "rounds", OPT_ROUNDS, "N", 0, "Round trips per batch (default 2000)", 0 },
	{ "repeats", OPT_REPEATS, "N", 0, "Batches per measurement (default 5)", 0 },
	{ "duration", OPT_DURATION, "TIME", 0, "Measure for about this long (sets --rounds)", 0 },
	{ "dmax", OPT_DMAX, "TIME", 0, "Latency bound: p98 must stay within it", 0 },
	{ "min-gain", OPT_MIN_GAIN, "PCT", 0, "Keep only above this gain (default 10)", 0 },
	{ "save", OPT_SAVE, "FILE", 0, "Save measurements, plan and decision (JSON)", 0 },
	{ 0 },
};

static double duration_ns;

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case OPT_AUTO:
		env.auto_ = true;
		return 0;
	case OPT_WORKLOAD:
		if (strcmp(arg, "wakeup")) {
			vs_err("--workload: unknown preset '%s' (this build has: wakeup)", arg);
			return EINVAL;
		}
		env.workload = arg;
		return 0;
	case OPT_PID:
		env.have_pid = true;
		return 0;
	case OPT_ROUNDS:
		return opt_uint("--rounds", arg, 10, 10000000, &env.rounds) ? EINVAL : 0;
	case OPT_REPEATS:
		return opt_uint("--repeats", arg, 1, 16, &env.repeats) ? EINVAL : 0;
	case OPT_DURATION:
		if (opt_time("--duration", arg, &duration_ns))
			return EINVAL;
		if (duration_ns < 1e6) {
			vs_err("--duration: '%s' is too short (at least 1ms)", arg);
			return EINVAL;
		}
		return 0;
	case OPT_DMAX:
		return opt_time("--dmax", arg, &env.dmax_ns) ? EINVAL : 0;
	case OPT_MIN_GAIN:
		return opt_double("--min-gain", arg, 0, 1000, &env.min_gain) ? EINVAL : 0;
	case OPT_SAVE:
		env.save = arg;
		return 0;
	case ARGP_KEY_ARG:
		vs_err("unexpected argument '%s'", arg);
		return EINVAL;
	case ARGP_KEY_END:
		if (!env.auto_) {
			vs_err("only --auto is implemented: give --auto");
			return EINVAL;
		}
		if (!env.workload && !env.have_pid) {
			vs_err("give --workload wakeup (or --pid PID)");
			return EINVAL;
		}
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_child children[] = {
	{ &vs_common_argp, 0, "Common options:", 0 },
	{ 0 },
};

static void row(const char *name, double b, double a)
{
	char tb[32], ta[32];

	printf("%-22s %12s %12s", name, vs_format_time(b, tb, sizeof(tb)),
	       isfinite(a) ? vs_format_time(a, ta, sizeof(ta)) : "-");
	if (isfinite(a) && a > 0)
		printf("   %.2fx", b / a);
	printf("\n");
}

static const char *pct(double frac, char *buf, size_t len)
{
	if (!isfinite(frac))
		return "-";
	snprintf(buf, len, "%.0f%%", frac * 100);
	return buf;
}

static json_t *objective_json(const struct vs_objective *o)
{
	json_t *j = json_object();

	json_object_set_new(j, "median_ns", vs_json_num(o->latency_ns));
	json_object_set_new(j, "p98_ns", vs_json_num(o->p98_ns));
	json_object_set_new(j, "cpu_ns_per_round_trip", vs_json_num(o->cpu_ns_per_item));
	json_object_set_new(j, "cpu_idle_fraction", vs_json_num(o->idle_frac));
	json_object_set_new(j, "cpu_steal_fraction", vs_json_num(o->steal_frac));
	return j;
}

static json_t *outcome_json(const struct vs_tune_outcome *o, int argc, char **argv)
{
	json_t *doc_out = json_object(), *dec = json_object();

	vs_json_add_meta(doc_out, argc, argv);
	json_object_set_new(doc_out, "workload", json_string("wakeup"));
	json_object_set_new(doc_out, "before", objective_json(&o->before));
	json_object_set_new(doc_out, "after", o->applied ? objective_json(&o->after) : json_null());
	json_object_set_new(doc_out, "measured_before", json_incref(o->raw_before) ?
			    o->raw_before : json_null());
	json_object_set_new(doc_out, "measured_after", o->raw_after ?
			    json_incref(o->raw_after) : json_null());
	json_object_set_new(doc_out, "plan", o->plan ? vs_plan_to_json(o->plan) : json_null());
	json_object_set_new(doc_out, "actions", tune_actions_json(o->actions, o->nactions));
	json_object_set_new(dec, "applied", json_boolean(o->applied));
	json_object_set_new(dec, "kept", json_boolean(o->kept));
	json_object_set_new(dec, "gain", vs_json_num(o->applied ? o->gain : NAN));
	json_object_set_new(dec, "why", json_string(o->why));
	json_object_set_new(doc_out, "decision", dec);
	return doc_out;
}

static int interrupted_rollback(size_t first)
{
	struct vs_journal *j = NULL;
	size_t restored, failed;
	int fd = -1, holder, e;

	e = vs_tune_lock(&fd, &holder);
	if (!e)
		e = vs_journal_load(&j);
	if (!e)
		e = vs_tune_rollback(j, first, NULL, NULL, &restored, &failed);
	vs_journal_free(j);
	vs_tune_unlock(fd);
	if (e) {
		vs_err("rollback failed (%s); run 'virtsync rollback'", strerror(-e));
		return VS_EXIT_FAIL;
	}
	return 130;
}

VS_COMMAND(tune, VS_NEEDS_ROOT, "closed loop: measure, apply, re-measure, keep or roll back")
{
	const struct argp argp = { opts, parse_arg, NULL, doc, children };
	sigset_t sigs, oldsigs, pending;
	struct vs_wakeup_ctx ctx;
	struct vs_tune_outcome o;
	char err[512], tb[32], pb[16], pa[16];
	size_t i;
	int e, ret = VS_EXIT_FAIL;

	memset(&env, 0, sizeof(env));
	duration_ns = 0;
	env.min_gain = 10;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	if (env.have_pid) {
		vs_err("--pid needs 'virtsync diagnose' to find the plan, and this build lacks it; use --workload wakeup");
		return VS_EXIT_FAIL;
	}
	memset(&ctx, 0, sizeof(ctx));
	vs_wakeup_opts_default(&ctx.opts);
	ctx.repeats = env.repeats ? env.repeats : 5;
	if (env.rounds)
		ctx.opts.rounds = env.rounds;
	else if (duration_ns > 0)
		/* ~50 us per round trip at worst here; two measurements */
		ctx.opts.rounds = duration_ns / 2 / 50e3 / ctx.repeats + 10;
	ctx.dmax_ns = env.dmax_ns;
	/* Ctrl-C between apply and the decision would leave a change nobody
	 * decided on: hold the signals for the few seconds of the loop, then
	 * undo a kept change if one arrived. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, &oldsigs);
	e = vs_tune_loop(&vs_workload_wakeup, &ctx, env.min_gain / 100, env.dmax_ns, &o,
			 err, sizeof(err));
	sigpending(&pending);
	if (!e && (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) ||
		   sigismember(&pending, SIGHUP))) {
		ret = 130;
		if (o.kept) {
			vs_err("interrupted: rolling the change back");
			ret = interrupted_rollback(o.journal_first);
		} else {
			vs_err("interrupted; nothing was left changed");
		}
		vs_tune_outcome_free(&o);
		sigprocmask(SIG_SETMASK, &oldsigs, NULL);
		return ret;
	}
	sigprocmask(SIG_SETMASK, &oldsigs, NULL);
	if (e) {
		vs_err("%s", err);
		vs_tune_outcome_free(&o);
		return VS_EXIT_FAIL;
	}
	if (vs_global.json) {
		if (vs_json_print(outcome_json(&o, argc, argv)))
			goto out;
	} else {
		printf("wake-up round trip: eventfd ping-pong, CPUs %d and %d, %u x %u rounds\n",
		       ctx.opts.cpu_ping, ctx.opts.cpu_pong, ctx.repeats, ctx.opts.rounds);
		if (o.nactions) {
			printf("\n");
			tune_print_actions(o.actions, o.nactions);
		}
		printf("\n%-22s %12s %12s\n", "", "before", o.applied ? "after" : "");
		row("median round trip", o.before.latency_ns, o.applied ? o.after.latency_ns : NAN);
		row("p98 round trip", o.before.p98_ns, o.applied ? o.after.p98_ns : NAN);
		row("CPU per round trip", o.before.cpu_ns_per_item,
		    o.applied ? o.after.cpu_ns_per_item : NAN);
		printf("%-22s %12s %12s\n", "CPUs idle", pct(o.before.idle_frac, pb, sizeof(pb)),
		       o.applied ? pct(o.after.idle_frac, pa, sizeof(pa)) : "-");
		printf("\n");
		if (isfinite(o.before.idle_frac) && o.before.idle_frac < 0.5)
			printf("note: the CPUs were idle only %.0f%% of the time: halt polling shortens\n"
			       "wake-ups of idle CPUs; other load makes this a scheduling benchmark\n\n",
			       o.before.idle_frac * 100);
		if (!o.applied)
			printf("no change: %s\n", o.why);
		else if (o.kept)
			printf("kept: %s; undo with 'virtsync rollback'\n", o.why);
		else
			printf("rolled back: %s\n", o.why);
		(void)tb;
		(void)i;
	}
	if (env.save) {
		json_t *doc_out = outcome_json(&o, argc, argv);

		if (json_dump_file(doc_out, env.save, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
			vs_err("cannot write %s", env.save);
			json_decref(doc_out);
			goto out;
		}
		json_decref(doc_out);
	}
	ret = VS_EXIT_OK;
out:
	vs_tune_outcome_free(&o);
	return ret;
}
