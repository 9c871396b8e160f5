// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync sleepcost: effective length and CPU cost of nanosleep() against
 * the nominal length, with the current timer slack and with 1 ns (paper
 * Sec. 4.3, Fig. 5), and the estimate of Yz, the shortest useful sleep.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "cmd.h"
#include "core/cpuonline.h"
#include "sources/sleepcost.h"
#include "core/units.h"

static struct env {
	struct vs_sleepcost_opts o;
	bool quick;
	bool no_cache;
	bool samples_set, duration_set, steps_set;
} env;

static const char argp_doc[] =
"Effective length and CPU cost of short sleeps, per timer slack.\n"
"\n"
"Synopsis: virtsync sleepcost [--cpu N] [--min T] [--max T] [--steps N]\n"
"                             [--samples N | --duration T] [--quick] [--json]\n"
"\n"
"For nominal sleeps from --min to --max (log steps) a thread pinned to --cpu\n"
"calls nanosleep() in a loop, once with its current timer slack and once\n"
"with 1 ns. Per nominal: the effective sleep (mean, p50, p99), the CPU (C0)\n"
"time per sleep, the C0 share, and the thread's own CPU time per sleep.\n"
"Yz, the shortest useful sleep, is the median effective length at --min.\n"
"The result is cached in /run/virtsync/yz.json for `virtsync diagnose`.\n"
"\n"
"Examples:\n"
"    virtsync sleepcost --cpu 1            # about 3 s\n"
"    virtsync sleepcost --cpu 1 --quick    # about 0.5 s\n"
"    virtsync sleepcost --min 2us --max 100us --steps 6 --samples 2000\n"
"    virtsync sleepcost --json=pretty\n";

enum { OPT_MIN = 256, OPT_MAX, OPT_NO_CACHE, OPT_STEPS };

static const struct argp_option options[] = {
	{ "cpu", 'C', "N", 0, "Pin the sleeping thread to CPU N (default: "
	  "the CPU it starts on)", 0 },
	{ "min", OPT_MIN, "TIME", 0, "Smallest nominal sleep (default 1us)", 0 },
	{ "max", OPT_MAX, "TIME", 0, "Largest nominal sleep (default 1ms)", 0 },
	{ "steps", OPT_STEPS, "N", 0, "Points between min and max, log-spaced "
	  "(default 7, --quick 4)", 0 },
	{ "samples", 'n', "N", 0, "Sleeps per point (instead of --duration)", 0 },
	{ "duration", 'd', "TIME", 0, "Time per point (default 200ms, --quick "
	  "50ms)", 0 },
	{ "quick", 'q', NULL, 0, "Short run (about 0.5 s), as diagnose uses", 0 },
	{ "no-cache", OPT_NO_CACHE, NULL, 0, "Do not write /run/virtsync/yz.json",
	  0 },
	{ 0 },
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	unsigned int u;

	switch (key) {
	case 'C':
		if (opt_uint("--cpu", arg, 0, 65535, &u))
			return EINVAL;
		env.o.cpu = (int)u;
		return 0;
	case OPT_MIN:
		return opt_time_in("--min", arg, 1, 10e9, &env.o.min_ns) ?
		       EINVAL : 0;
	case OPT_MAX:
		return opt_time_in("--max", arg, 1, 10e9, &env.o.max_ns) ?
		       EINVAL : 0;
	case OPT_STEPS:
		env.steps_set = true;
		return opt_uint("--steps", arg, 1, 100, &env.o.steps) ? EINVAL : 0;
	case 'n':
		env.samples_set = true;
		return opt_uint("--samples", arg, 1, 1000000, &env.o.samples) ?
		       EINVAL : 0;
	case 'd':
		env.duration_set = true;
		return opt_duration("--duration", arg, 1e6, 600e9,
				    &env.o.duration_ns) ? EINVAL : 0;
	case 'q':
		env.quick = true;
		return 0;
	case OPT_NO_CACHE:
		env.no_cache = true;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static void print_pass(const struct vs_sleepcost_result *r, int i)
{
	const struct vs_sleepcost_pass *p = &r->pass[i];
	char b[7][24];
	unsigned int k;

	if (i == 0)
		printf("\ntimer slack %s (the thread's current slack)\n",
		       vs_format_time((double)p->slack_ns, b[0], sizeof(b[0])));
	else
		printf("\ntimer slack 1ns\n");
	/* interrupted before this pass measured a point */
	if (!p->npoints) {
		printf("not measured (interrupted)\n");
		return;
	}
	printf("%9s %7s %9s %9s %9s %9s %6s %9s\n", "nominal", "sleeps", "mean",
	       "p50", "p99", "cost", "C0", "thread");
	for (k = 0; k < p->npoints; k++) {
		const struct vs_sleepcost_point *pt = &p->points[k];

		printf("%9s %7zu %9s %9s %9s %9s %5.1f%% %9s\n",
		       vs_format_time(pt->nominal_ns, b[0], sizeof(b[0])),
		       pt->eff.n,
		       vs_format_time(pt->eff.mean, b[1], sizeof(b[1])),
		       vs_format_time(pt->eff.p50, b[2], sizeof(b[2])),
		       vs_format_time(pt->eff.p99, b[3], sizeof(b[3])),
		       vs_format_time(pt->cost_ns, b[4], sizeof(b[4])),
		       pt->busy_frac * 100,
		       vs_format_time(pt->thread_cpu_ns, b[5], sizeof(b[5])));
	}
	printf("Yz %s (median effective sleep at %s nominal), CPU cost %s\n",
	       vs_format_time(p->yz_ns, b[0], sizeof(b[0])),
	       vs_format_time(p->points[0].nominal_ns, b[1], sizeof(b[1])),
	       vs_format_time(p->yz_cost_ns, b[2], sizeof(b[2])));
	if (isnan(p->knee_nominal_ns))
		printf("The CPU stays busy for most of every sleep measured.\n");
	if (r->source != VS_COST_THREAD && p->npoints &&
	    p->points[p->npoints - 1].busy_frac > 0.5 &&
	    p->points[p->npoints - 1].nominal_ns >= 100e3)
		printf("NOTE: CPU %d was busy %.0f%% of the %s sleeps: other tasks "
		       "run there, so the\ncost column counts them too; see the "
		       "thread column or pick a quiet CPU.\n", r->cpu,
		       p->points[p->npoints - 1].busy_frac * 100,
		       vs_format_time(p->points[p->npoints - 1].nominal_ns, b[0],
				      sizeof(b[0])));
	else if (!isnan(p->knee_nominal_ns))
		printf("The CPU idles for most of the sleep from %s nominal on "
		       "(cost %s).\n",
		       vs_format_time(p->knee_nominal_ns, b[0], sizeof(b[0])),
		       vs_format_time(p->knee_cost_ns, b[1], sizeof(b[1])));
}

static void print_text(const struct vs_sleepcost_result *r)
{
	char b[3][24];

	printf("CPU %d; cost = C0 time per sleep, from %s%s%s%s\n", r->cpu,
	       vs_cost_source_name(r->source),
	       r->source_why[0] ? " (" : "", r->source_why,
	       r->source_why[0] ? ")" : "");
	print_pass(r, 0);
	print_pass(r, 1);
	printf("\n");
	if (isnan(r->inflation))
		;	/* interrupted: no 1 ns Yz to compare with */
	else if (r->orig_slack_ns <= 1)
		printf("The thread's timer slack is already 1ns.\n");
	else if (r->inflation > 1.2)
		printf("WARNING: timer slack %s makes the shortest sleep %.1fx "
		       "longer:\n%s instead of %s with 1ns. Use 1ns for threads "
		       "that sleep briefly\n(prctl PR_SET_TIMERSLACK or "
		       "/proc/PID/timerslack_ns).\n",
		       vs_format_time((double)r->orig_slack_ns, b[0], sizeof(b[0])),
		       r->inflation,
		       vs_format_time(r->pass[0].yz_ns, b[1], sizeof(b[1])),
		       vs_format_time(r->pass[1].yz_ns, b[2], sizeof(b[2])));
	else
		printf("Timer slack %s changes the shortest sleep by %.2fx.\n",
		       vs_format_time((double)r->orig_slack_ns, b[0], sizeof(b[0])),
		       r->inflation);
}

static json_t *pass_json(const struct vs_sleepcost_pass *p)
{
	json_t *o = json_object(), *pts = json_array();
	unsigned int k;

	json_object_set_new(o, "slack_ns", json_integer((json_int_t)p->slack_ns));
	for (k = 0; k < p->npoints; k++) {
		const struct vs_sleepcost_point *pt = &p->points[k];
		json_t *j = json_object();

		json_object_set_new(j, "nominal_ns", vs_json_num(pt->nominal_ns));
		json_object_set_new(j, "effective", vs_latstats_json(&pt->eff));
		json_object_set_new(j, "cost_ns", vs_json_num(pt->cost_ns));
		json_object_set_new(j, "c0_fraction", vs_json_num(pt->busy_frac));
		json_object_set_new(j, "thread_cpu_ns", vs_json_num(pt->thread_cpu_ns));
		json_object_set_new(j, "wall_ns", vs_json_num(pt->wall_ns));
		json_array_append_new(pts, j);
	}
	json_object_set_new(o, "points", pts);
	json_object_set_new(o, "yz_ns", vs_json_num(p->yz_ns));
	json_object_set_new(o, "yz_cost_ns", vs_json_num(p->yz_cost_ns));
	json_object_set_new(o, "knee_nominal_ns", vs_json_num(p->knee_nominal_ns));
	json_object_set_new(o, "knee_cost_ns", vs_json_num(p->knee_cost_ns));
	return o;
}

static int print_json(const struct vs_sleepcost_result *r, bool interrupted,
		      int argc, char **argv)
{
	json_t *doc = json_object();

	vs_json_add_meta(doc, argc, argv);
	json_object_set_new(doc, "cpu", json_integer(r->cpu));
	json_object_set_new(doc, "cost_source",
			    json_string(vs_cost_source_name(r->source)));
	json_object_set_new(doc, "cost_source_why", json_string(r->source_why));
	json_object_set_new(doc, "current_slack", pass_json(&r->pass[0]));
	json_object_set_new(doc, "slack_1ns", pass_json(&r->pass[1]));
	json_object_set_new(doc, "yz_ns", vs_json_num(r->pass[0].yz_ns));
	json_object_set_new(doc, "yz_1ns_ns", vs_json_num(r->pass[1].yz_ns));
	json_object_set_new(doc, "slack_inflation", vs_json_num(r->inflation));
	/* the points measured until Ctrl-C */
	if (interrupted)
		json_object_set_new(doc, "interrupted", json_true());
	return vs_json_print(doc);
}

static void show_progress(void *arg, unsigned int done, unsigned int total)
{
	vs_progress_update(arg, done, total);
}

VS_COMMAND(sleepcost, 0, "effective length and CPU cost of short sleeps (Yz)")
{
	static const struct argp_child children[] = {
		{ &vs_common_argp, 0, "Common options:", 0 },
		{ 0 },
	};
	static const struct argp argp = {
		.options = options, .parser = parse_arg, .doc = argp_doc,
		.children = children,
	};
	struct vs_sleepcost_result r;
	struct vs_progress progress;
	unsigned int done;
	bool interrupted;
	const char *what;
	char online[256] = "";
	struct vs_yz yz;
	int err;

	memset(&env, 0, sizeof(env));
	vs_sleepcost_opts_default(&env.o, false);
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	if (env.quick) {
		struct vs_sleepcost_opts q;

		vs_sleepcost_opts_default(&q, true);
		if (!env.steps_set)
			env.o.steps = q.steps;
		if (!env.duration_set)
			env.o.duration_ns = q.duration_ns;
	}
	if (env.samples_set && env.duration_set) {
		vs_err("--samples and --duration exclude each other");
		return VS_EXIT_USAGE;
	}
	if (vs_sleepcost_opts_check(&env.o, &what)) {
		char lo[VS_FMT_LEN], hi[VS_FMT_LEN];

		/* The single-option ranges were checked while parsing. */
		if (!strcmp(what, "max"))
			vs_err("--max: %s is below --min %s",
			       vs_format_time(env.o.max_ns, hi, sizeof(hi)),
			       vs_format_time(env.o.min_ns, lo, sizeof(lo)));
		else
			vs_err("--%s: out of range", what);
		return VS_EXIT_USAGE;
	}
	if (env.o.cpu >= 0) {
		err = vs_cpu_is_online(env.o.cpu, online, sizeof(online));
		if (err < 0) {
			vs_err("cannot read the online CPU list: %s", strerror(-err));
			return VS_EXIT_FAIL;
		}
		if (!err) {
			vs_err("--cpu %d: no such online CPU (online: %s)",
			       env.o.cpu, online);
			return VS_EXIT_USAGE;
		}
	}
	env.o.stop = vs_stop_flag();
	vs_stop_on_signals();
	vs_progress_begin(&progress, "sleepcost: points");
	env.o.progress = show_progress;
	env.o.progress_arg = &progress;
	err = vs_sleepcost_run(&env.o, &r);
	vs_progress_done(&progress);
	/* Ctrl-C: what was measured so far is printed, never cached (a
	 * partial Yz) */
	interrupted = err == -EINTR;
	if (interrupted)
		err = 0;
	if (err == -ENODEV) {
		vs_err("--cpu %d: not allowed for this process (cpuset?)",
		       env.o.cpu);
		return VS_EXIT_FAIL;
	}
	if (err) {
		vs_err("measurement failed: %s", strerror(-err));
		return VS_EXIT_FAIL;
	}
	if (!interrupted && !env.no_cache) {
		vs_sleepcost_yz_from_result(&r, &yz);
		/* the cache only spares diagnose a measurement: a warning,
		 * not a failure (as non-root this used to exit 1 silently) */
		err = vs_sleepcost_cache_write(&yz);
		if (err)
			vs_err("warning: cannot write the Yz cache /run/virtsync/yz.json: %s (--no-cache skips it)",
			       strerror(-err));
		err = 0;
	}
	done = r.pass[0].npoints + r.pass[1].npoints;
	if (vs_global.json)
		err = print_json(&r, interrupted, argc, argv);
	else
		print_text(&r);
	vs_sleepcost_result_free(&r);
	if (interrupted) {
		fflush(stdout);
		vs_err("interrupted after %u of %u points; timer slack and affinity restored",
		       done, 2 * env.o.steps);
		return err ? VS_EXIT_FAIL : 130;
	}
	return err ? VS_EXIT_FAIL : VS_EXIT_OK;
}
