// SPDX-License-Identifier: GPL-2.0-only
/* virtsync tune: the closed loop (measure, change, measure, keep or undo). */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "diagnose/device.h"
#include "tune/planfile.h"
#include "tune-pcdev.h"
#include "tune-print.h"
#include "tune-qmp.h"
#include "pcdev/pcdev.h"
#include "tune/loop.h"
#include "core/sysfs.h"
#include "core/units.h"
#include "output/ratio.h"
#include "sources/devstats.h"

static const char doc[] =
"Closed-loop tuning: measure a workload, apply the change it calls for\n"
"through the journal, measure again, keep it when the objective improved,\n"
"else roll it back; print the before/after table.\n"
"\n"
"Synopsis: virtsync tune --auto [--workload PRESET | --pid PID] [--dmax TIME]\n"
"                        [--duration TIME] [--rt] [--save FILE]\n"
"          virtsync tune --auto --qmp SOCKET --objective CMD [--goal GOAL]\n"
"                        [--plan FILE] [--repeats N] [--dmax TIME]\n"
"                        [--save FILE]\n"
"\n"
"The wakeup workload is an eventfd ping-pong between two threads pinned to\n"
"two CPUs; the objective is its median round trip. A reference-device\n"
"preset (fc-tune, fc-example, fp-example) starts the device, or --pid PID\n"
"takes a running one: diagnose's plan for the device is applied and kept\n"
"when throughput rose (or CPU per item fell) with p98 latency within Dmax.\n"
"\n"
"--qmp SOCKET tunes a running QEMU. The host cannot see what the guest's\n"
"application achieves: --objective CMD (run with /bin/sh -c, e.g. a\n"
"benchmark in the guest over ssh) prints it as the first number of its last\n"
"line, items/s (--goal throughput, the default) or ns (--goal latency).\n"
"Each measurement runs CMD --repeats times (default 3) and takes medians,\n"
"with QEMU's KVM statistics and the VM's host CPU time around each run.\n"
"The plan is diagnose --qmp's (its steps aimed at this VM), or --plan FILE.\n"
"\n"
"Examples:\n"
"    virtsync tune --auto --workload wakeup\n"
"    virtsync tune --auto --workload wakeup --save /tmp/tune.json\n"
"    virtsync tune --auto --workload fc-tune --rt\n"
"    virtsync tune --auto --pid 4242 --dmax 250us\n"
"    virtsync tune --auto --qmp /run/vm1.qmp --objective 'ssh vm1 ./iops'\n"
"    virtsync rollback                     # undo a kept change";

static struct env {
	bool auto_;
	const char *workload;
	const char *save;
	unsigned int rounds, repeats;
	double dmax_ns, min_gain;
	bool have_pid;
	int rt_prio;	/* SCHED_FIFO priority of a started device, 0 off */
	pid_t pid;
	const char *qmp, *objective, *plan, *backend;
	enum vs_goal goal;
} env;

enum { OPT_AUTO = 1000, OPT_WORKLOAD, OPT_SAVE, OPT_ROUNDS, OPT_REPEATS, OPT_DMAX,
       OPT_MIN_GAIN, OPT_PID, OPT_DURATION, OPT_RT, OPT_QMP, OPT_OBJECTIVE, OPT_GOAL,
       OPT_PLAN, OPT_BACKEND };

static const struct argp_option opts[] = {
	{ "auto", OPT_AUTO, NULL, 0, "Decide, apply, check, keep or roll back", 0 },
	{ "workload", OPT_WORKLOAD, "PRESET", 0,
	  "wakeup, or a device preset: fc-tune, fc-example, fp-example", 0 },
	{ "pid", 'p', "PID", 0, "Tune a running reference device", 0 },
	{ "rt", OPT_RT, "PRIO", OPTION_ARG_OPTIONAL,
	  "Run the started device SCHED_FIFO (priority 10, or PRIO; 0 off)", 0 },
	{ "backend", OPT_BACKEND, "NAME", 0,
	  "Device presets: thread or kvm (the producer in a guest; default thread)",
	  0 },
	{ "qmp", OPT_QMP, "SOCKET", 0, "Tune the QEMU serving this QMP socket", 0 },
	{ "objective", OPT_OBJECTIVE, "CMD", 0,
	  "With --qmp: command printing the guest's figure on its last line", 0 },
	{ "goal", OPT_GOAL, "GOAL", 0, "throughput (CMD prints items/s) or latency (ns)", 0 },
	{ "plan", OPT_PLAN, "FILE", 0, "With --qmp: apply this plan instead of diagnose's", 0 },
	{ "rounds", OPT_ROUNDS, "N", 0, "Round trips per batch (default 2000)", 0 },
	{ "repeats", OPT_REPEATS, "N", 0, "Runs per measurement: device windows or CMD runs (default 3), wakeup batches (default 5)", 0 },
	{ "duration", 'd', "TIME", 0, "Measure for about this long (sets --rounds)", 0 },
	{ "dmax", OPT_DMAX, "TIME", 0, "Latency bound: p98 must stay within it (default 50us, or the device's own bound)", 0 },
	{ "min-gain", OPT_MIN_GAIN, "PCT", 0, "Keep only above this gain (default 10)", 0 },
	{ "save", OPT_SAVE, "FILE", 0,
	  "Save the run with its plan (apply --plan, export --plan, report --from)", 0 },
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
			struct pcdev_config cfg;
			double dmax;

			pcdev_config_default(&cfg);
			if (pcdev_config_preset(arg, &cfg, &dmax)) {
				vs_err("--workload: unknown preset '%s' (wakeup, fc-tune, fc-example, fp-example)",
				       arg);
				return EINVAL;
			}
		}
		env.workload = arg;
		return 0;
	case OPT_RT: {
		uint64_t prio = 10;

		if (arg && opt_u64("--rt", arg, 0, 98, &prio))
			return EINVAL;
		env.rt_prio = (int)prio;
		return 0;
	}
	case OPT_BACKEND:
		if (strcmp(arg, "thread") && strcmp(arg, "kvm")) {
			vs_err("--backend: unknown backend '%s' (thread, kvm)", arg);
			return EINVAL;
		}
		env.backend = arg;
		return 0;
	case 'p': {
		unsigned int v;

		if (opt_uint("--pid", arg, 1, INT32_MAX, &v))
			return EINVAL;
		env.have_pid = true;
		env.pid = (pid_t)v;
		return 0;
	}
	case OPT_QMP:
		return opt_nonempty("--qmp", arg, "socket path", &env.qmp) ? EINVAL : 0;
	case OPT_OBJECTIVE:
		return opt_nonempty("--objective", arg, "command", &env.objective) ? EINVAL : 0;
	case OPT_GOAL:
		if (!strcmp(arg, "throughput")) {
			env.goal = VS_GOAL_THROUGHPUT;
		} else if (!strcmp(arg, "latency")) {
			env.goal = VS_GOAL_LATENCY;
		} else {
			vs_err("--goal: unknown goal '%s' (throughput, latency)", arg);
			return EINVAL;
		}
		return 0;
	case OPT_PLAN:
		if (access(arg, R_OK)) {
			vs_err("--plan: cannot read '%s': %s", arg, strerror(errno));
			return EINVAL;
		}
		env.plan = arg;
		return 0;
	case OPT_ROUNDS:
		return opt_uint("--rounds", arg, 10, 10000000, &env.rounds) ? EINVAL : 0;
	case OPT_REPEATS:
		return opt_uint("--repeats", arg, 1, 16, &env.repeats) ? EINVAL : 0;
	case 'd':
		return opt_duration("--duration", arg, 1e6, 3600e9, &duration_ns) ?
		       EINVAL : 0;
	case OPT_DMAX:
		return opt_time_in("--dmax", arg, VS_DMAX_MIN_NS, VS_DMAX_MAX_NS,
				   &env.dmax_ns) ? EINVAL : 0;
	case OPT_MIN_GAIN:
		return opt_double("--min-gain", arg, 0, 1000, &env.min_gain) ? EINVAL : 0;
	case OPT_SAVE:
		env.save = arg;
		return 0;
	case ARGP_KEY_END:
		if (!env.auto_) {
			vs_err("only --auto is implemented: give --auto");
			return EINVAL;
		}
		if ((env.workload != NULL) + env.have_pid + (env.qmp != NULL) > 1) {
			vs_err("--workload, --pid and --qmp exclude each other");
			return EINVAL;
		}
		if (!env.workload && !env.have_pid && !env.qmp) {
			vs_err("give --workload PRESET, --pid PID or --qmp SOCKET");
			return EINVAL;
		}
		if (env.qmp && !env.objective) {
			vs_err("--qmp needs --objective CMD: the host cannot see what the guest achieves");
			return EINVAL;
		}
		if (env.backend && (!env.workload || !strcmp(env.workload, "wakeup"))) {
			vs_err("--backend goes with a device preset (--workload fc-tune, ...)");
			return EINVAL;
		}
		if (!env.qmp && (env.objective || env.plan)) {
			vs_err("--objective and --plan go with --qmp");
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

/* The heading over before/after rows: the ratio column once there is an after. */
static void table_heading(bool applied)
{
	printf("\n%-22s %12s %12s%s%s\n", "", "before", applied ? "after" : "",
	       applied ? "   " : "", applied ? VS_RATIO_HEADING : "");
}

/* The ratio cell of a row: after/before, named by what it measures. */
static void ratio_cell(double b, double a, const char *what)
{
	char r[48];

	if (isfinite(vs_ratio(b, a)))
		printf("   %s", vs_format_ratio(b, a, what, r, sizeof(r)));
}

static void row(const char *name, double b, double a, const char *what)
{
	char tb[32], ta[32];

	printf("%-22s %12s %12s", name, vs_format_time(b, tb, sizeof(tb)),
	       isfinite(a) ? vs_format_time(a, ta, sizeof(ta)) : "-");
	ratio_cell(b, a, what);
	printf("\n");
}

/* after/before of every measured number in the document's before and after,
 * the same figures the text's last column shows. */
static void add_ratios(json_t *d)
{
	const json_t *before = json_object_get(d, "before"), *after = json_object_get(d, "after");
	json_t *r, *v;
	const char *key;

	if (!json_is_object(after))
		return;
	r = json_object();
	json_object_foreach((json_t *)before, key, v) {
		double q = vs_ratio(json_number_value(v), json_number_value(json_object_get(after, key)));

		if (json_is_number(v) && isfinite(q))
			json_object_set_new(r, key, json_real(q));
	}
	json_object_set_new(d, "after_over_before", r);
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

/* The raw measurements and what the loop decided, the same in every
 * workload's document. */
static void add_decision(json_t *d, const struct vs_tune_outcome *o)
{
	json_t *dec = json_object();

	add_ratios(d);
	json_object_set_new(d, "measured_before", o->raw_before ? json_incref(o->raw_before) :
			    json_null());
	json_object_set_new(d, "measured_after", o->raw_after ? json_incref(o->raw_after) :
			    json_null());

	json_object_set_new(d, "plan", o->plan ? vs_planfile_to_json(o->plan) : json_null());
	json_object_set_new(d, "actions", tune_changes_json(o->changes, o->nchanges));
	json_object_set_new(dec, "applied", json_boolean(o->applied));
	json_object_set_new(dec, "kept", json_boolean(o->kept));
	json_object_set_new(dec, "gain", vs_json_num(o->applied ? o->gain : NAN));
	json_object_set_new(dec, "why", json_string(o->why));
	json_object_set_new(d, "decision", dec);
	/* what was measured until Ctrl-C (lib/tune/loop.h) */
	if (o->interrupted)
		json_object_set_new(d, "interrupted", json_true());
}

static json_t *outcome_json(const struct vs_tune_outcome *o, int argc, char **argv)
{
	json_t *doc_out = json_object();

	vs_json_add_meta(doc_out, argc, argv);
	json_object_set_new(doc_out, "workload", json_string("wakeup"));
	json_object_set_new(doc_out, "before", objective_json(&o->before));
	json_object_set_new(doc_out, "after", o->applied ? objective_json(&o->after) : json_null());
	add_decision(doc_out, o);
	return doc_out;
}

/* Undo the change a run kept (journal entries from first on): 0, or
 * VS_EXIT_FAIL after saying so. */
static int rollback_kept(size_t first)
{
	struct vs_journal *j = NULL;
	size_t restored, failed;
	int fd = -1, holder, e;

	e = vs_apply_lock(&fd, &holder);
	if (!e)
		e = vs_journal_load(&j);
	if (!e)
		e = vs_apply_rollback(j, first, NULL, NULL, &restored, &failed);
	vs_journal_free(j);
	vs_apply_unlock(fd);
	if (e) {
		vs_err("rollback failed (%s); run 'virtsync rollback'", strerror(-e));
		return VS_EXIT_FAIL;
	}
	return 0;
}

/*
 * Ctrl-C, SIGTERM and SIGHUP (the terminal gone) only set the stop flag
 * (tools/cmd.h), which vs_tune_loop() watches between and inside its
 * measurement windows: the window under way ends at once, a change applied
 * but not yet decided on is rolled back through the journal, and the run
 * ends as usual, printing what it measured (the decision line says it was
 * interrupted), then exits 130. A decision taken on a complete measurement
 * stands (lib/tune/loop.h); a kept change on a device this command started
 * is undone with the device, as in every run.
 */
static void stop_on_signals(void)
{
	vs_stop_on_signals();
	vs_stop_on_hangup();
}

/* What an interrupted run measured, on stderr: windows of each side. */
static void say_interrupted(const struct vs_tune_outcome *o)
{
	const char *keys[] = { "windows", "batches" };
	size_t nb = 0, na = 0, k;

	for (k = 0; k < 2; k++) {
		nb += json_array_size(json_object_get(o->raw_before, keys[k]));
		na += json_array_size(json_object_get(o->raw_after, keys[k]));
	}
	if (o->applied)
		vs_err("interrupted after %zu window%s before and %zu after the change; the change was rolled back",
		       nb, nb == 1 ? "" : "s", na);
	else
		vs_err("interrupted after %zu measurement window%s; nothing was changed",
		       nb, nb == 1 ? "" : "s");
	if (env.save)
		vs_err("--save %s: not written for an interrupted run", env.save);
}

/* The exit status once the run is printed: 0, or 130 when it was
 * interrupted (saying what it measured). */
static int finish(const struct vs_tune_outcome *o, bool interrupted)
{
	if (!interrupted)
		return VS_EXIT_OK;
	fflush(stdout);
	say_interrupted(o);
	return 130;
}

/*
 * The progress line (tools/cmd.h: terminals only, after 2 s, never with
 * --json) for the loop's few seconds: the workload's measure() and
 * propose() are wrapped to name the phase, and a ticker thread redraws the
 * line every 250 ms while a phase runs.
 */
struct progress_loop {
	const struct vs_tune_workload *inner;
	void *ctx;
	struct vs_progress p;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int phase;	/* 0 measuring before, 1 deciding, 2 after */
	unsigned int measures;	/* the loop measures before, then after */
	bool done;
};

static const char *const phase_names[] = {
	"tune: measuring before the change",
	"tune: deciding what to change",
	"tune: measuring after the change",
};

static void *progress_ticker(void *arg)
{
	struct progress_loop *pl = arg;
	struct timespec ts;
	sigset_t all;

	/* signals go to the thread that measures (its sleeps end sooner) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&pl->lock);
	while (!pl->done) {
		pl->p.label = phase_names[pl->phase];
		vs_progress_update(&pl->p, pl->phase + 1, 3);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&pl->cond, &pl->lock, &ts);
	}
	vs_progress_done(&pl->p);
	pthread_mutex_unlock(&pl->lock);
	return NULL;
}

static void progress_phase(struct progress_loop *pl, unsigned int phase)
{
	pthread_mutex_lock(&pl->lock);
	pl->phase = phase;
	pthread_mutex_unlock(&pl->lock);
}

static int progress_measure(void *ctx, const volatile sig_atomic_t *stop,
			    struct vs_objective *o, json_t **raw)
{
	struct progress_loop *pl = ctx;

	progress_phase(pl, pl->measures++ ? 2 : 0);
	return pl->inner->measure(pl->ctx, stop, o, raw);
}

static int progress_propose(void *ctx, const volatile sig_atomic_t *stop,
			    const struct vs_objective *before,
			    struct vs_profile **plan, char *why, size_t len)
{
	struct progress_loop *pl = ctx;

	progress_phase(pl, 1);
	return pl->inner->propose(pl->ctx, stop, before, plan, why, len);
}

/* vs_tune_loop() with the progress line. */
static int run_loop(const struct vs_tune_workload *w, void *ctx, double dmax_ns,
		    struct vs_tune_outcome *o, char *err, size_t len)
{
	struct vs_tune_loop_opts lo = {
		.min_gain = env.min_gain / 100,
		.dmax_ns = dmax_ns,
		.stop = vs_stop_flag(),
	};
	struct progress_loop pl = { .inner = w, .ctx = ctx };
	struct vs_tune_workload shown = *w;
	pthread_t ticker;
	bool ticking;
	int e;

	shown.measure = progress_measure;
	shown.propose = progress_propose;
	pthread_mutex_init(&pl.lock, NULL);
	pthread_cond_init(&pl.cond, NULL);
	vs_progress_begin(&pl.p, phase_names[0]);
	ticking = !pthread_create(&ticker, NULL, progress_ticker, &pl);
	e = vs_tune_loop(ticking ? &shown : w, ticking ? (void *)&pl : ctx, &lo, o, err,
			 len);
	if (ticking) {
		pthread_mutex_lock(&pl.lock);
		pl.done = true;
		pthread_cond_signal(&pl.cond);
		pthread_mutex_unlock(&pl.lock);
		pthread_join(ticker, NULL);
	}
	pthread_cond_destroy(&pl.cond);
	pthread_mutex_destroy(&pl.lock);
	return e;
}

/*
 * --save FILE (consumes d), before anything is printed: 0, or -1 after
 * saying why. The path was checked before the first change; should the write
 * still fail, a change that stays in place is rolled back, so that a
 * failed tune never leaves the host tuned.
 */
static int save_run(json_t *d, const struct vs_tune_outcome *o, bool in_place)
{
	int e = d ? vs_json_save(env.save, d) : -ENOMEM;

	json_decref(d);
	if (!e)
		return VS_EXIT_OK;
	vs_err("--save: cannot write '%s': %s%s", env.save, strerror(-e),
	       in_place ? "; rolling the kept change back" : "");
	if (in_place)
		rollback_kept(o->journal_first);
	return -1;
}

/* ---- the reference device --------------------------------------------- */

static void dev_row(const char *name, double b, double a, double scale, const char *what)
{
	/* "-": nothing measured (a run interrupted at its start) */
	if (isfinite(b))
		printf("%-22s %12.3f", name, b / scale);
	else
		printf("%-22s %12s", name, "-");
	if (isfinite(a))
		printf(" %12.3f", a / scale);
	ratio_cell(b, a, what);
	printf("\n");
}

static json_t *dev_objective_json(const struct vs_objective *o)
{
	json_t *j = json_object();

	json_object_set_new(j, "throughput_ops", vs_json_num(o->throughput));
	json_object_set_new(j, "cpu_ns_per_item", vs_json_num(o->cpu_ns_per_item));
	json_object_set_new(j, "p98_ns", vs_json_num(o->p98_ns));
	return j;
}

static json_t *dev_outcome_json(const struct vs_tune_outcome *o, const char *workload,
				const struct tune_pcdev_ctx *ctx, int argc, char **argv)
{
	pid_t pid = ctx->pid;
	double dmax_ns = ctx->dmax_ns;
	json_t *d = json_object();

	vs_json_add_meta(d, argc, argv);
	json_object_set_new(d, "workload", json_string(workload ? workload : "pid"));
	json_object_set_new(d, "backend", workload ? json_string(env.backend ? env.backend :
								 "thread") : json_null());
	json_object_set_new(d, "pid", json_integer(pid));
	json_object_set_new(d, "dmax_ns", vs_json_num(dmax_ns > 0 ? dmax_ns : NAN));
	json_object_set_new(d, "regime", ctx->regime[0] ? json_string(ctx->regime) : json_null());
	json_object_set_new(d, "diagnoses", json_integer(ctx->diagnoses));
	json_object_set_new(d, "host_steps_left_out", json_integer(ctx->dropped));
	json_object_set_new(d, "before", dev_objective_json(&o->before));
	json_object_set_new(d, "after", o->applied ? dev_objective_json(&o->after) : json_null());
	add_decision(d, o);
	return d;
}

/*
 * tune --auto on the reference device: the one given by --pid, or one this
 * command starts with --workload PRESET and stops at the end, after
 * undoing whatever it changed (a device that exits takes its knobs along,
 * and the journal must not keep entries for it).
 */
static int tune_device(int argc, char **argv)
{
	struct tune_pcdev_ctx ctx;
	struct vs_tune_outcome o;
	struct pcdev_config cfg;
	char err[512];
	struct vs_refdev *dev = NULL;
	double dmax = NAN;
	bool interrupted;
	int e, ret = VS_EXIT_FAIL;

	memset(&ctx, 0, sizeof(ctx));
	ctx.repeats = env.repeats ? env.repeats : 3;
	ctx.window_ns = duration_ns > 0 ? duration_ns / ctx.repeats : 1e9;
	ctx.diag_ns = 2e9;
	if (env.workload) {
		pcdev_config_default(&cfg);
		pcdev_config_preset(env.workload, &cfg, &dmax);
	}
	/* The preset's bound, else diagnose's default (50 us), so that the
	 * plan and the check use the same Dmax. */
	ctx.dmax_ns = env.dmax_ns > 0 ? env.dmax_ns : (isfinite(dmax) ? dmax : 50e3);
	stop_on_signals();
	if (env.workload && !env.backend) {
		/* virtsync(8), SHARED OPTIONS: the thread backend unless asked */
		env.backend = "thread";
	} else if (env.workload && !strcmp(env.backend, "kvm") &&
		   !vs_kvm_usable(err, sizeof(err))) {
		vs_err("--backend kvm: %s", err);
		return VS_EXIT_FAIL;
	}
	if (env.workload) {
		struct vs_refdev_opts ro = {
			.preset = env.workload,
			.backend = strcmp(env.backend, "kvm") ? PCDEV_BACKEND_THREAD :
				   PCDEV_BACKEND_KVM,
			.pin = true,
			.rt_priority = env.rt_prio,
		};

		/* in this process: it ends with it (lib/diagnose/device.h) */
		e = vs_refdev_start(&ro, &dev);
		if (e) {
			vs_err("cannot start the reference device (%s): %s", env.workload,
			       strerror(-e));
			return VS_EXIT_FAIL;
		}
		ctx.pid = vs_refdev_pid(dev);
	} else {
		char path[512];

		ctx.pid = env.pid;
		if (vs_path(path, sizeof(path), PCDEV_STATS_FMT, (int)ctx.pid) ||
		    access(path, R_OK)) {
			vs_err("--pid %d: no reference device runs as that process (no %s); start one with 'virtsync bench'",
			       (int)ctx.pid, path);
			return VS_EXIT_USAGE;
		}
		/* A running device knows its own bound (fc-tune: 250 us);
		 * judging it by 50 us would roll every change back. */
		if (!(env.dmax_ns > 0)) {
			struct vs_devstats st;

			if (!vs_devstats_read(path, &st) && st.dmax_ns)
				ctx.dmax_ns = (double)st.dmax_ns;
		}
	}
	e = run_loop(&tune_workload_pcdev, &ctx, ctx.dmax_ns, &o,
			 err, sizeof(err));
	interrupted = !e && o.interrupted;
	if (!e && o.kept && env.workload) {
		/* The device stops with us: put its knobs back first. */
		if (rollback_kept(o.journal_first))
			e = -EIO, snprintf(err, sizeof(err), "rolling back the kept change failed");
	}
	vs_refdev_stop(dev, NULL);
	dev = NULL;
	if (e) {
		vs_err("%s", err);
		vs_tune_outcome_free(&o);
		return VS_EXIT_FAIL;
	}
	if (!interrupted && env.save &&
	    save_run(dev_outcome_json(&o, env.workload, &ctx, argc, argv), &o,
		     o.kept && !env.workload))
		goto out;
	if (vs_global.json) {
		if (vs_json_print(dev_outcome_json(&o, env.workload, &ctx, argc, argv)))
			goto out;
	} else {
		printf("reference device pid %d%s%s%s%s: %u x %s windows, medians\n",
		       (int)ctx.pid, env.workload ? ", preset " : "",
		       env.workload ? env.workload : "", env.backend ? ", backend " : "",
		       env.backend ? env.backend : "", ctx.repeats, VS_TIME(ctx.window_ns));
		if (ctx.regime[0])
			printf("diagnose: regime %s\n", ctx.regime);
		if (ctx.dropped)
			printf("left out %u host-wide step(s) of diagnose's plan\n", ctx.dropped);
		if (o.nchanges) {
			printf("\n");
			tune_print_changes(o.changes, o.nchanges);
		}
		table_heading(o.applied);
		dev_row("throughput (M/s)", o.before.throughput,
			o.applied ? o.after.throughput : NAN, 1e6, "throughput");
		dev_row("CPU per item (ns)", o.before.cpu_ns_per_item,
			o.applied ? o.after.cpu_ns_per_item : NAN, 1, "CPU");
		dev_row("p98 latency (us)", o.before.p98_ns, o.applied ? o.after.p98_ns : NAN, 1e3,
			"latency");
		if (ctx.dmax_ns > 0)
			printf("%-22s %12.3f\n", "Dmax (us)", ctx.dmax_ns / 1e3);
		printf("\n");
		if (!o.applied)
			printf("no change: %s\n", o.why);
		else if (o.kept && env.workload)
			printf("kept: %s; undone with the device at exit\n", o.why);
		else if (o.kept)
			printf("kept: %s; undo with 'virtsync rollback'\n", o.why);
		else
			printf("rolled back: %s\n", o.why);
	}
	ret = finish(&o, interrupted);
out:
	vs_tune_outcome_free(&o);
	return ret;
}

/* ---- a running QEMU --------------------------------------------------- */

static json_t *qemu_objective_json(const struct vs_objective *o, enum vs_goal goal)
{
	json_t *j = json_object();

	if (goal == VS_GOAL_THROUGHPUT) {
		json_object_set_new(j, "throughput_ops", vs_json_num(o->throughput));
		json_object_set_new(j, "cpu_ns_per_item", vs_json_num(o->cpu_ns_per_item));
	} else {
		json_object_set_new(j, "latency_ns", vs_json_num(o->latency_ns));
		json_object_set_new(j, "vm_cpus_busy", vs_json_num(o->cpu_ns_per_item / 1e9));
	}
	return j;
}

static json_t *qemu_outcome_json(const struct vs_tune_outcome *o,
				 const struct tune_qmp_ctx *ctx, int argc, char **argv)
{
	json_t *d = json_object();

	vs_json_add_meta(d, argc, argv);
	json_object_set_new(d, "workload", json_string("qmp"));
	json_object_set_new(d, "pid", json_integer(ctx->pid));
	json_object_set_new(d, "qmp", json_string(ctx->socket));
	json_object_set_new(d, "objective", json_string(ctx->objective));
	json_object_set_new(d, "goal", json_string(ctx->goal == VS_GOAL_THROUGHPUT ?
						   "throughput" : "latency"));
	json_object_set_new(d, "dmax_ns", vs_json_num(ctx->dmax_ns > 0 ? ctx->dmax_ns : NAN));
	json_object_set_new(d, "regime", ctx->regime[0] ? json_string(ctx->regime) : json_null());
	json_object_set_new(d, "plan_file", ctx->plan_file ? json_string(ctx->plan_file) :
			    json_null());
	json_object_set_new(d, "host_steps_left_out", json_integer(ctx->dropped));
	json_object_set_new(d, "before", qemu_objective_json(&o->before, ctx->goal));
	json_object_set_new(d, "after", o->applied ? qemu_objective_json(&o->after, ctx->goal) :
			    json_null());
	add_decision(d, o);
	return d;
}

static void qemu_print(const struct vs_tune_outcome *o, const struct tune_qmp_ctx *ctx)
{
	bool thr = ctx->goal == VS_GOAL_THROUGHPUT;

	printf("QEMU pid %d (QMP %s): %u runs of the objective per measurement, medians\n",
	       (int)ctx->pid, ctx->socket, ctx->repeats);
	if (ctx->plan_file)
		printf("plan: %s\n", ctx->plan_file);
	else if (ctx->regime[0])
		printf("diagnose: regime %s\n", ctx->regime);
	if (ctx->dropped)
		printf("left out %u step(s) of diagnose's plan aimed beyond this VM\n", ctx->dropped);
	if (o->nchanges) {
		printf("\n");
		tune_print_changes(o->changes, o->nchanges);
	}
	table_heading(o->applied);
	if (thr) {
		dev_row("objective (items/s)", o->before.throughput,
			o->applied ? o->after.throughput : NAN, 1, "throughput");
		dev_row("VM CPU per item (ns)", o->before.cpu_ns_per_item,
			o->applied ? o->after.cpu_ns_per_item : NAN, 1, "CPU");
	} else {
		row("objective (latency)", o->before.latency_ns,
		    o->applied ? o->after.latency_ns : NAN, "latency");
		dev_row("VM CPUs busy", o->before.cpu_ns_per_item,
			o->applied ? o->after.cpu_ns_per_item : NAN, 1e9, "CPU");
	}
	printf("\n");
	if (!o->applied)
		printf("no change: %s\n", o->why);
	else if (o->kept)
		printf("kept: %s; undo with 'virtsync rollback'\n", o->why);
	else
		printf("rolled back: %s\n", o->why);
}

static int tune_qemu(int argc, char **argv)
{
	struct vs_tune_workload w = tune_workload_qmp;
	struct tune_qmp_ctx ctx;
	struct vs_tune_outcome o;
	char err[512];
	int e, ret = VS_EXIT_FAIL;

	memset(&ctx, 0, sizeof(ctx));
	ctx.socket = env.qmp;
	ctx.objective = env.objective;
	ctx.goal = w.goal = env.goal;
	ctx.repeats = env.repeats ? env.repeats : 3;
	ctx.plan_file = env.plan;
	ctx.diag_ns = duration_ns > 0 ? duration_ns : 2e9;
	ctx.dmax_ns = env.dmax_ns;
	e = tune_qmp_peer(env.qmp, &ctx.pid, err, sizeof(err));
	if (e) {
		vs_err("%s", err);
		return VS_EXIT_FAIL;
	}
	stop_on_signals();
	e = run_loop(&w, &ctx, ctx.dmax_ns, &o, err, sizeof(err));
	if (e) {
		/* measure() keeps the reason errno cannot carry */
		vs_err("%s%s%s", err, ctx.err[0] ? ": " : "", ctx.err);
		vs_tune_outcome_free(&o);
		return VS_EXIT_FAIL;
	}
	if (!o.interrupted && env.save &&
	    save_run(qemu_outcome_json(&o, &ctx, argc, argv), &o, o.kept))
		goto out;
	if (vs_global.json) {
		if (vs_json_print(qemu_outcome_json(&o, &ctx, argc, argv)))
			goto out;
	} else {
		qemu_print(&o, &ctx);
	}
	ret = finish(&o, o.interrupted);
out:
	vs_tune_outcome_free(&o);
	return ret;
}

VS_COMMAND(tune, VS_NEEDS_ROOT, "closed loop: measure, apply, re-measure, keep or roll back")
{
	const struct argp argp = { opts, parse_arg, NULL, doc, children };
	struct vs_wakeup_ctx ctx;
	struct vs_tune_outcome o;
	char err[512], pb[16], pa[16];
	int e, ret = VS_EXIT_FAIL;

	memset(&env, 0, sizeof(env));
	env.goal = VS_GOAL_THROUGHPUT;
	duration_ns = 0;
	env.min_gain = 10;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	/* every output path is checked before the first change */
	if (env.save && (e = opt_save_check("--save", env.save)))
		return e;
	/* what a killed run left behind */
	vs_refdev_sweep();
	if (env.qmp || env.have_pid || strcmp(env.workload, "wakeup"))
		return env.qmp ? tune_qemu(argc, argv) : tune_device(argc, argv);
	memset(&ctx, 0, sizeof(ctx));
	vs_wakeup_opts_default(&ctx.opts);
	ctx.repeats = env.repeats ? env.repeats : 5;
	if (env.rounds)
		ctx.opts.rounds = env.rounds;
	else if (duration_ns > 0)
		/* ~50 us per round trip at worst here; two measurements */
		ctx.opts.rounds = duration_ns / 2 / 50e3 / ctx.repeats + 10;
	ctx.dmax_ns = env.dmax_ns;
	stop_on_signals();
	e = run_loop(&vs_workload_wakeup, &ctx, env.dmax_ns, &o,
			 err, sizeof(err));
	if (e) {
		vs_err("%s", err);
		vs_tune_outcome_free(&o);
		return VS_EXIT_FAIL;
	}
	if (!o.interrupted && env.save && save_run(outcome_json(&o, argc, argv), &o, o.kept))
		goto out;
	if (vs_global.json) {
		if (vs_json_print(outcome_json(&o, argc, argv)))
			goto out;
	} else {
		printf("wake-up round trip: eventfd ping-pong, CPUs %d and %d, %u x %u rounds\n",
		       ctx.opts.cpu_ping, ctx.opts.cpu_pong, ctx.repeats, ctx.opts.rounds);
		if (o.nchanges) {
			printf("\n");
			tune_print_changes(o.changes, o.nchanges);
		}
		table_heading(o.applied);
		row("median round trip", o.before.latency_ns, o.applied ? o.after.latency_ns : NAN,
		    "latency");
		row("p98 round trip", o.before.p98_ns, o.applied ? o.after.p98_ns : NAN, "latency");
		row("CPU per round trip", o.before.cpu_ns_per_item,
		    o.applied ? o.after.cpu_ns_per_item : NAN, "CPU");
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
	}
	ret = finish(&o, o.interrupted);
out:
	vs_tune_outcome_free(&o);
	return ret;
}
