// SPDX-License-Identifier: GPL-2.0-only
/* virtsync apply: apply a tuning profile or a diagnose plan, journaled. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/safefile.h"
#include "cmd.h"
#include "profvars.h"
#include "tune/planfile.h"
#include "tune/profile.h"
#include "tune-print.h"
#include "tune/apply.h"
#include "core/units.h"

static struct env {
	const char *profile;
	const char *plan;
	bool dry_run;
} env;

static const char doc[] =
"Apply a tuning profile, or the plan of a run saved by diagnose or tune --save.\n"
"\n"
"Synopsis: virtsync apply PROFILE|--plan FILE [--dry-run] [--set NAME=VALUE]...\n"
"\n"
"Every step is resolved and validated before the first write; the old value\n"
"of each knob is journaled in /run/virtsync/journal.json before it changes,\n"
"so 'virtsync rollback' undoes it, even after a crash.\n"
"\n"
"Examples:\n"
"    virtsync profiles list                    # what there is\n"
"    virtsync apply latency-poll --dry-run     # show the diff only\n"
"    virtsync apply latency-poll --dmax 100us  # apply with ${dmax}=100000\n"
"    virtsync apply throughput-sleep --pid 4242\n"
"    virtsync apply --plan /tmp/run.json       # from diagnose/tune --save";

enum { OPT_PLAN = 1000, OPT_DRY };

static const struct argp_option opts[] = {
	{ "plan", OPT_PLAN, "FILE", 0, "Apply the plan of a run saved by diagnose or tune --save", 0 },
	{ "dry-run", OPT_DRY, NULL, 0, "Print the diff, change nothing", 0 },
	{ 0 },
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case OPT_PLAN:
		env.plan = arg;
		break;
	case OPT_DRY:
		env.dry_run = true;
		break;
	case ARGP_KEY_ARG:
	case ARGP_KEY_END:
		return vs_profvars_operand(key, arg, &env.profile, env.plan);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &vs_profvars_argp, 0, "Profile variables:", 0 },
	{ &vs_common_argp, 0, "Common options:", 0 },
	{ 0 },
};

VS_COMMAND(apply, 0, "apply a tuning profile or a diagnose plan (journaled)")
{
	const struct argp argp = { opts, parse_arg, "PROFILE", doc, children };
	struct vs_profile *p = NULL;
	struct vs_change *a = NULL;
	struct vs_journal *j = NULL;
	struct vs_apply_result ar;
	char err[512], source[128];
	size_t n = 0, i, todo = 0;
	int e, lockfd = -1, holder, ret = VS_EXIT_FAIL;
	bool stacked;

	memset(&env, 0, sizeof(env));
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	/* refused before reading anything that could lead to a change */
	if (!env.dry_run && geteuid() != 0) {
		vs_err("changing knobs needs root; run it with sudo (or use --dry-run)");
		return VS_EXIT_FAIL;
	}
	e = vs_profvars_load(env.profile, env.plan, &p, source, sizeof(source));
	if (e)
		return e;
	/* Resolve validates everything before the lock, so bad input leaves
	 * no trace (not even a lock file); the old values it reads are only
	 * for the dry run: vs_apply_changes() reads them again under the
	 * lock, and those are what is journaled and printed. */
	e = vs_apply_resolve(p, vs_profvars.vars, vs_profvars.n, &a, &n, err, sizeof(err));
	if (e) {
		vs_err("%s: %s; nothing was changed", source, err);
		goto out;
	}
	for (i = 0; i < n; i++)
		todo += !a[i].skip && !a[i].same;
	if (env.dry_run || !todo) {
		if (!vs_global.json)
			tune_print_changes(a, n);
		if (!vs_global.json && !env.dry_run)
			printf("nothing to change\n");
		ret = VS_EXIT_OK;
		goto print_json;
	}
	e = vs_apply_lock(&lockfd, &holder);
	if (e) {
		tune_lock_error(e, holder);
		goto out;
	}
	e = vs_journal_load_why(&j, err, sizeof(err));
	if (e) {
		vs_err("cannot use the journal: %s", err[0] ? err : vs_safe_strerror(e));
		goto out;
	}
	stacked = vs_journal_active(j);
	e = vs_apply_changes(j, source, a, n, &ar, err, sizeof(err));
	if (e) {
		vs_err("%s; the changes of this apply were rolled back", err);
		goto out;
	}
	if (!vs_global.json) {
		tune_print_changes(a, n);
		if (stacked)
			printf("note: stacked on an earlier apply; 'virtsync rollback --last' "
			       "undoes this one only\n");
		printf("applied %zu change%s; undo with 'virtsync rollback'\n",
		       ar.written, ar.written == 1 ? "" : "s");
	}
	ret = VS_EXIT_OK;
print_json:
	if (vs_global.json) {
		json_t *out = json_object();

		vs_json_add_meta(out, argc, argv);
		json_object_set_new(out, "source", json_string(source));
		json_object_set_new(out, "dry_run", json_boolean(env.dry_run));
		json_object_set_new(out, "actions", tune_changes_json(a, n));
		if (vs_json_print(out))
			ret = VS_EXIT_FAIL;
	}
out:
	vs_journal_free(j);
	vs_apply_unlock(lockfd);
	free(a);
	vs_profile_free(p);
	return ret;
}
