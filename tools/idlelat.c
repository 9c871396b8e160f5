// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync idlelat: wake-up latency of one CPU per cpuidle state (timer and
 * IPI wake-ups) against the exit latency the state declares. Changes the
 * disable flags of that CPU's idle states for the run and restores them on
 * exit, on SIGINT/SIGTERM/SIGHUP, and after a crash (restore file).
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "core/cpuonline.h"
#include "output/print.h"
#include "sources/idlelat.h"
#include "core/units.h"

static struct env {
	struct vs_idlelat_opts o;
	bool restore_only;
} env;

static const char argp_doc[] =
"Wake-up latency per C-state (timer and IPI wake-ups) on one CPU.\n"
"\n"
"Synopsis: virtsync idlelat [--cpu N] [--waker-cpu N] [--samples N] [--gap T]\n"
"                           [--governor NAME] [--state I] [--json]\n"
"          virtsync idlelat --restore\n"
"\n"
"For each cpuidle state of --cpu, every other state of that CPU is disabled,\n"
"then a thread pinned there measures how late it runs after an absolute\n"
"clock_nanosleep() deadline (timer) and after a thread on --waker-cpu writes\n"
"a timestamp to an eventfd it blocks on (IPI). Per state: declared exit\n"
"latency against measured p50/p99, and the usage and residency deltas that\n"
"show which states were really entered. The states are restored on exit,\n"
"on SIGINT/SIGTERM, and by the next run (or --restore) after a crash, from\n"
"/run/virtsync/idlelat-restore.json.\n"
"\n"
"Examples:\n"
"    virtsync idlelat --cpu 1                  # about 0.5 s per state\n"
"    virtsync idlelat --cpu 1 --governor menu  # governor honouring disable\n"
"    virtsync idlelat --cpu 1 --state 0 --samples 1000 --gap 200us\n"
"    virtsync idlelat --restore                # undo a killed run\n";

enum { OPT_WAKER = 256, OPT_GOVERNOR, OPT_RESTORE, OPT_STATE };

static const struct argp_option options[] = {
	{ "cpu", 'C', "N", 0, "CPU to measure (default: the last online CPU)", 0 },
	{ "waker-cpu", OPT_WAKER, "N", 0, "CPU of the IPI sender (default: the "
	  "first other online CPU)", 0 },
	{ "samples", 'n', "N", 0, "Wake-ups per kind and state (default 200)", 0 },
	{ "gap", 'g', "TIME", 0, "Idle time before each wake-up (default 1ms)", 0 },
	{ "governor", OPT_GOVERNOR, "NAME", 0, "cpuidle governor for the run "
	  "(restored after); haltpoll ignores disabled states, menu does not",
	  0 },
	{ "state", OPT_STATE, "I", 0, "Measure only state I", 0 },
	{ "restore", OPT_RESTORE, NULL, 0, "Only replay the restore file of a "
	  "run that died, then exit", 0 },
	{ 0 },
};

static bool cpu_ok(const char *opt, unsigned int cpu)
{
	char online[256] = "";
	int err = vs_cpu_is_online((int)cpu, online, sizeof(online));

	if (err < 0) {
		vs_err("cannot read the online CPU list: %s", strerror(-err));
		return false;
	}
	if (!err)
		vs_err("%s %u: no such online CPU (online: %s)", opt, cpu, online);
	return err == 1;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	unsigned int u;

	switch (key) {
	case 'C':
		if (opt_uint("--cpu", arg, 0, 65535, &u) || !cpu_ok("--cpu", u))
			return EINVAL;
		env.o.cpu = (int)u;
		return 0;
	case OPT_WAKER:
		if (opt_uint("--waker-cpu", arg, 0, 65535, &u) ||
		    !cpu_ok("--waker-cpu", u))
			return EINVAL;
		env.o.waker_cpu = (int)u;
		return 0;
	case 'n':
		return opt_uint("--samples", arg, 1, 1000000, &env.o.samples) ?
		       EINVAL : 0;
	case 'g':
		return opt_time_in("--gap", arg, 1e3, 1e9, &env.o.gap_ns) ?
		       EINVAL : 0;
	case OPT_GOVERNOR:
		env.o.governor = arg;
		return 0;
	case OPT_STATE:
		if (opt_uint("--state", arg, 0, VS_IDLE_MAX_STATES - 1, &u))
			return EINVAL;
		env.o.only_state = (int)u;
		return 0;
	case OPT_RESTORE:
		env.restore_only = true;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static int last_online_cpu(void)
{
	int c, last = -1;

	for (c = 0; c < 4096; c++)
		if (vs_cpu_is_online(c, NULL, 0) == 1)
			last = c;
	return last;
}

/* Replay what a dead run left; say so on stderr. <0: failed. */
static int replay_leftover(void)
{
	struct vs_idle_restore *left = calloc(1, sizeof(*left));
	char when[32] = "?";
	int n;

	if (!left)
		return -ENOMEM;
	n = vs_idlelat_replay(left);
	if (n < 0) {
		vs_err("cannot replay /run/virtsync/idlelat-restore.json: %s",
		       strerror(-n));
	} else if (left->n || left->governor[0]) {
		time_t t = (time_t)left->time;
		struct tm tm;

		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(stderr, "virtsync idlelat: restored %d cpuidle setting%s "
			"left by pid %d (started %s)\n", n, n == 1 ? "" : "s",
			left->pid, when);
	}
	free(left);
	return n;
}

static void print_stats_cells(const struct vs_latstats *st)
{
	char a[24], b[24];

	printf(" %8s %8s", vs_format_time(st->p50, a, sizeof(a)),
	       vs_format_time(st->p99, b, sizeof(b)));
}

/* Share of the wall time the CPU spent in any idle state: low when other
 * tasks ran there, and then the latencies include their run time. */
static double idle_share(const struct vs_idlelat_result *r,
			 const struct vs_idlelat_state_result *res)
{
	double idle = 0;
	unsigned int j;

	for (j = 0; j < r->nstates; j++)
		idle += (double)res->time_delta_us[j] * 1e3;
	return res->wall_ns > 0 ? idle / res->wall_ns : 0;
}

static void print_text(const struct vs_idlelat_result *r)
{
	unsigned int i, j;
	char t[3][24];

	printf("CPU %d: cpuidle driver %s, governor %s", r->cpu,
	       r->driver[0] ? r->driver : "?", r->governor);
	if (strcmp(r->governor, r->orig_governor))
		printf(" (was %s)", r->orig_governor);
	printf("\n");
	if (r->waker_cpu >= 0)
		printf("IPI sender on CPU %d; %u wake-ups per kind and state, "
		       "%s idle before each\n", r->waker_cpu, env.o.samples,
		       vs_format_time(env.o.gap_ns, t[0], sizeof(t[0])));
	else
		printf("no other CPU: IPI wake-ups not measured\n");
	printf("\n%-24s %17s %17s\n", "", "timer wake-up", "IPI wake-up");
	printf("%-15s %8s %8s %8s %8s %8s %5s  %s\n", "state", "declared",
	       "p50", "p99", "p50", "p99", "idle", "entered");
	for (i = 0; i < r->nresults; i++) {
		const struct vs_idlelat_state_result *res = &r->res[i];
		const struct vs_idle_state *st = &r->states[res->state];
		char label[80], cell[4 * 15 + 4];

		snprintf(label, sizeof(label), "%u %s", st->index, st->name);
		printf("%s %8s", vs_fit(label, 15, cell, sizeof(cell)),
		       vs_format_time((double)st->latency_us * 1e3, t[0],
				      sizeof(t[0])));
		print_stats_cells(&res->timer);
		print_stats_cells(&res->ipi);
		printf(" %4.0f%%  %s\n", idle_share(r, res) * 100,
		       !res->entered ? "NO" :
		       res->others_entered ? "+others" : "yes");
	}
	printf("\nEntries and residency of each state while measuring:\n");
	for (i = 0; i < r->nresults; i++) {
		const struct vs_idlelat_state_result *res = &r->res[i];
		char name[4 * 13 + 4];
		int col;

		col = printf("  %s:", vs_fit(r->states[res->state].name, 13, name, sizeof(name)));
		for (j = 0; j < r->nstates; j++) {
			char cell[80];
			int len = snprintf(cell, sizeof(cell), " %s %llux %s%s",
				 vs_cut(r->states[j].name, 13, name, sizeof(name)),
				 (unsigned long long)res->usage_delta[j],
				 vs_format_time((double)res->time_delta_us[j] * 1e3,
						t[0], sizeof(t[0])),
				 j + 1 < r->nstates ? "," : "");

			if (col + len > 79) {
				printf("\n%16s", "");
				col = 16;
			}
			col += printf("%s", cell);
		}
		printf("\n");
	}
	for (i = 0; i < r->nresults; i++) {
		const struct vs_idlelat_state_result *res = &r->res[i];
		const char *name = r->states[res->state].name;

		for (j = 0; j < r->nstates; j++)
			if (res->refused & (1u << j))
				printf("NOTE: %.16s: the kernel refused to disable "
				       "%.16s; it stayed enabled.\n", name,
				       r->states[j].name);
		if (res->others_entered)
			printf("WARNING: %.16s: disabled states were entered: "
			       "governor %.16s ignores\nthe disable flags "
			       "(try --governor menu).\n", name, r->governor);
		if (!res->entered)
			printf("NOTE: %.16s was never entered: its row measures "
			       "other states.\n", name);
		if (idle_share(r, res) < 0.5)
			printf("NOTE: %.16s: CPU %d was idle %.0f%% of the time; "
			       "other tasks ran there\nand the latencies "
			       "include their run time.\n", name, r->cpu,
			       idle_share(r, res) * 100);
	}
}

static int print_json(const struct vs_idlelat_result *r, bool interrupted, int argc,
		      char **argv)
{
	json_t *doc = json_object(), *states = json_array();
	unsigned int i, j;

	vs_json_add_meta(doc, argc, argv);
	json_object_set_new(doc, "cpu", json_integer(r->cpu));
	json_object_set_new(doc, "waker_cpu", r->waker_cpu >= 0 ?
			    json_integer(r->waker_cpu) : json_null());
	json_object_set_new(doc, "driver", json_string(r->driver));
	json_object_set_new(doc, "governor", json_string(r->governor));
	json_object_set_new(doc, "original_governor", json_string(r->orig_governor));
	json_object_set_new(doc, "samples", json_integer(env.o.samples));
	json_object_set_new(doc, "gap_ns", vs_json_num(env.o.gap_ns));
	for (i = 0; i < r->nresults; i++) {
		const struct vs_idlelat_state_result *res = &r->res[i];
		const struct vs_idle_state *st = &r->states[res->state];
		json_t *s = json_object(), *usage = json_array(), *refused = json_array();

		json_object_set_new(s, "index", json_integer(st->index));
		json_object_set_new(s, "name", json_string(st->name));
		json_object_set_new(s, "desc", json_string(st->desc));
		json_object_set_new(s, "declared_latency_ns",
				    json_integer((json_int_t)st->latency_us * 1000));
		json_object_set_new(s, "timer", vs_latstats_json(&res->timer));
		json_object_set_new(s, "ipi", vs_latstats_json(&res->ipi));
		json_object_set_new(s, "entered", json_boolean(res->entered));
		json_object_set_new(s, "disabled_states_entered",
				    json_boolean(res->others_entered));
		for (j = 0; j < r->nstates; j++) {
			json_t *u = json_object();

			json_object_set_new(u, "state", json_integer(j));
			json_object_set_new(u, "name", json_string(r->states[j].name));
			json_object_set_new(u, "usage",
					    json_integer((json_int_t)res->usage_delta[j]));
			json_object_set_new(u, "residency_us",
					    json_integer((json_int_t)res->time_delta_us[j]));
			json_array_append_new(usage, u);
			if (res->refused & (1u << j))
				json_array_append_new(refused,
						      json_string(r->states[j].name));
		}
		json_object_set_new(s, "usage_delta", usage);
		json_object_set_new(s, "disable_refused", refused);
		json_object_set_new(s, "wall_ns", vs_json_num(res->wall_ns));
		json_object_set_new(s, "idle_share", vs_json_num(idle_share(r, res)));
		json_array_append_new(states, s);
	}
	json_object_set_new(doc, "states", states);
	/* the states measured until Ctrl-C */
	if (interrupted)
		json_object_set_new(doc, "interrupted", json_true());
	return vs_json_print(doc);
}

/* The progress line, told as each state's measurement begins (the run
 * has enumerated the states into r by then). */
struct progress {
	struct vs_progress p;
	const struct vs_idlelat_result *r;
};

static void show_progress(unsigned int state, void *arg)
{
	struct progress *pr = arg;

	if (env.o.only_state >= 0)
		vs_progress_update(&pr->p, 0, 1);
	else
		vs_progress_update(&pr->p, state, pr->r->nstates);
}

VS_COMMAND(idlelat, VS_NEEDS_ROOT, "wake-up latency per C-state (timer, IPI)")
{
	static const struct argp_child children[] = {
		{ &vs_common_argp, 0, "Common options:", 0 },
		{ 0 },
	};
	static const struct argp argp = {
		.options = options, .parser = parse_arg, .doc = argp_doc,
		.children = children,
	};
	struct vs_idlelat_result *r = NULL;
	struct progress progress;
	int lock, err, ret = VS_EXIT_FAIL;

	memset(&env, 0, sizeof(env));
	vs_idlelat_opts_default(&env.o);
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	if (env.o.cpu < 0)
		env.o.cpu = last_online_cpu();
	if (env.o.cpu < 0) {
		vs_err("cannot read the online CPU list");
		return VS_EXIT_FAIL;
	}
	if (env.o.waker_cpu >= 0 && env.o.waker_cpu == env.o.cpu) {
		vs_err("--waker-cpu %d: must differ from --cpu", env.o.waker_cpu);
		return VS_EXIT_USAGE;
	}
	if (env.o.governor) {
		err = vs_idle_governor_available(env.o.governor);
		if (err < 0) {
			vs_err("--governor: cannot read the available cpuidle "
			       "governors: %s", strerror(-err));
			return VS_EXIT_FAIL;
		}
		if (!err) {
			vs_err("--governor: '%s' is not an available cpuidle "
			       "governor", env.o.governor);
			return VS_EXIT_USAGE;
		}
	}
	/* Handlers before the lock: from here on a signal only sets the stop flag,
	 * and the run restores before it returns. No SA_RESTART: a blocked
	 * read() or sleep must return EINTR so the loop sees it. */
	vs_stop_on_signals();
	vs_stop_on_hangup();
	lock = vs_idlelat_lock();
	if (lock == -EBUSY) {
		vs_err("another virtsync idlelat is running (it holds "
		       "/run/virtsync/idlelat.lock)");
		return VS_EXIT_FAIL;
	}
	if (lock < 0) {
		vs_err("cannot take /run/virtsync/idlelat.lock: %s",
		       strerror(-lock));
		return VS_EXIT_FAIL;
	}
	err = replay_leftover();
	if (err < 0)
		goto out;
	if (env.restore_only) {
		if (!err && !vs_global.json)
			printf("nothing to restore\n");
		ret = VS_EXIT_OK;
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		vs_err("out of memory");
		goto out;
	}
	env.o.stop = vs_stop_flag();
	progress.r = r;
	vs_progress_begin(&progress.p, "idlelat: states");
	env.o.on_state = show_progress;
	env.o.arg = &progress;
	err = vs_idlelat_run(&env.o, r);
	vs_progress_done(&progress.p);
	if (err == -EINTR) {
		/* what was measured so far: the states done */
		ret = 130;
		if (!vs_global.json)
			print_text(r);
		else if (print_json(r, true, argc, argv))
			ret = VS_EXIT_FAIL;
		fflush(stdout);
		vs_err("interrupted after %u of %u states; cpuidle states restored",
		       r->nresults, env.o.only_state >= 0 ? 1 : r->nstates);
	} else if (err == -ENODEV) {
		if (env.o.only_state >= 0 && r->nstates &&
		    env.o.only_state >= (int)r->nstates)
			vs_err("--state %d: CPU %d has states 0-%u only",
			       env.o.only_state, env.o.cpu, r->nstates - 1);
		else
			vs_err("CPU %d has no cpuidle states (cpuidle disabled?)",
			       env.o.cpu);
	} else if (err) {
		vs_err("measurement failed: %s; cpuidle states restored",
		       strerror(-err));
	} else {
		ret = VS_EXIT_OK;
		if (vs_global.json) {
			if (print_json(r, false, argc, argv))
				ret = VS_EXIT_FAIL;
		} else {
			print_text(r);
		}
	}
out:
	free(r);
	vs_idlelat_unlock(lock);
	return ret;
}
