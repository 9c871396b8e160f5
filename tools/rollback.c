// SPDX-License-Identifier: GPL-2.0-only
/* virtsync rollback: put back what the journal says was changed. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/safefile.h"
#include "cmd.h"
#include "output/print.h"
#include "tune-print.h"
#include "sources/qmp.h"
#include "tune/apply.h"

static const char doc[] =
"Undo what apply and tune changed, last change first.\n"
"\n"
"Synopsis: virtsync rollback [--last | --apply ID | --drop ENTRY]\n"
"\n"
"Reads /run/virtsync/journal.json, writes each old value back and marks it\n"
"restored. Safe to run again, and after apply crashed or was killed. On a\n"
"shared host --last or --apply ID undoes one apply only ('virtsync verify'\n"
"lists them); --drop ENTRY forgets an entry that can never be restored.\n"
"\n"
"Examples:\n"
"    virtsync rollback\n"
"    virtsync rollback --last\n"
"    virtsync rollback --apply 2\n"
"    virtsync rollback --drop 5\n"
"    virtsync rollback --json";

enum { OPT_LAST = 1000, OPT_APPLY, OPT_DROP };

static const struct argp_option opts[] = {
	{ "last", OPT_LAST, NULL, 0, "Undo only the last apply that is still in place", 0 },
	{ "apply", OPT_APPLY, "ID", 0, "Undo only apply ID (as 'virtsync verify' lists it)", 0 },
	{ "drop", OPT_DROP, "ENTRY", 0,
	  "Forget journal entry ENTRY without writing it (its target can never be restored)", 0 },
	{ 0 },
};

static struct env {
	bool last;
	int apply;		/* -1: every apply */
	long drop;		/* -1: none */
} env;

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	unsigned int v;

	switch (key) {
	case OPT_LAST:
		env.last = true;
		break;
	case OPT_APPLY:
		if (opt_uint("--apply", arg, 0, 1000000, &v))
			return EINVAL;
		env.apply = (int)v;
		break;
	case OPT_DROP:
		if (opt_uint("--drop", arg, 0, 10000000, &v))
			return EINVAL;
		env.drop = v;
		break;
	case ARGP_KEY_END:
		if (env.last + (env.apply >= 0) + (env.drop >= 0) > 1) {
			vs_err("give one of --last, --apply ID and --drop ENTRY");
			return EINVAL;
		}
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

struct rb_ctx {
	json_t *arr;
};

static const char *rollback_strerror(const struct vs_jentry *e, int err)
{
	const struct vs_knob_ops *k = vs_knob_find(e->knob);

	return k && k->scope == VS_SCOPE_IOTHREAD ? vs_qmp_strerror(err) : strerror(-err);
}

/* Messages name what was changed: the knob and its own target (a path
 * component, a thread TID@START, a QMP socket#iothread). */
static void target_text(const struct vs_jentry *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", e->knob, e->target[0] ? " " : "", e->target);
}

static const char *const result_names[] = {
	[VS_RB_RESTORED] = "restored", [VS_RB_GONE] = "gone", [VS_RB_REFUSED] = "refused",
	[VS_RB_HANDED_ON] = "handed-on", [VS_RB_FAILED] = "failed",
};

static void on_entry(const struct vs_jentry *e, enum vs_rb_result res, const char *live,
		     int err, const char *why, void *ctx)
{
	struct rb_ctx *c = ctx;
	char what[VS_KNOB_INST_MAX + 64], label[4 * 22 + 4];

	if (vs_global.json) {
		json_t *o = json_object();

		json_object_set_new(o, "knob", json_string(e->knob));
		json_object_set_new(o, "target", json_string(e->target));
		json_object_set_new(o, "label", json_string(e->label));
		json_object_set_new(o, "apply", json_integer(e->apply));
		json_object_set_new(o, "restored", json_string(e->old));
		json_object_set_new(o, "result", json_string(result_names[res]));
		if (why)
			json_object_set_new(o, "why", json_string(why));
		if (res == VS_RB_FAILED || res == VS_RB_GONE)
			json_object_set_new(o, "error", json_string(rollback_strerror(e, err)));
		json_array_append_new(c->arr, o);
		return;
	}
	target_text(e, what, sizeof(what));
	vs_fit(e->label, 22, label, sizeof(label));
	switch (res) {
	case VS_RB_RESTORED:
		printf("%-28s %s %12s -> %s\n", e->knob, label, live[0] ? live : "?", e->old);
		break;
	case VS_RB_GONE:
		printf("%-28s %s gone (%s), nothing to restore\n", e->knob, label,
		       rollback_strerror(e, err));
		break;
	case VS_RB_HANDED_ON:
		printf("%-28s %s kept: %s\n", e->knob, label, why);
		break;
	case VS_RB_REFUSED:
		vs_err("%s: %s; not written, marked refused", what, why);
		break;
	case VS_RB_FAILED:
		vs_err("%s: restoring '%s' failed: %s; run rollback again, or forget it with "
		       "'virtsync rollback --drop N' (N from 'virtsync verify')", what, e->old,
		       rollback_strerror(e, err));
		break;
	}
}

static int drop_entry(struct vs_journal *j)
{
	struct vs_jentry e;
	char who[96], what[VS_KNOB_INST_MAX + 64], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int err;

	if (vs_journal_get(j, env.drop, &e)) {
		vs_err("--drop %ld: the journal has no entry %ld ('virtsync verify' lists them)",
		       env.drop, env.drop);
		return VS_EXIT_USAGE;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(who, sizeof(who), "rollback --drop, %s", stamp);
	err = vs_apply_drop(j, env.drop, who);
	target_text(&e, what, sizeof(what));
	if (err == -EALREADY) {
		vs_err("--drop %ld: entry %ld (%s) is %s, not in place: nothing to drop",
		       env.drop, env.drop, what, vs_jstatus_name(e.status));
		return VS_EXIT_USAGE;
	}
	if (err) {
		vs_err("cannot write the journal: %s", strerror(-err));
		return VS_EXIT_FAIL;
	}
	if (!vs_global.json)
		printf("dropped entry %ld: %s (old value '%s' is not restored)\n", env.drop,
		       what, e.old);
	return VS_EXIT_OK;
}

static const struct argp_child children[] = {
	{ &vs_common_argp, 0, "Common options:", 0 },
	{ 0 },
};

VS_COMMAND(rollback, VS_NEEDS_ROOT, "undo apply/tune from the journal (crash safe)")
{
	const struct argp argp = { opts, parse_arg, NULL, doc, children };
	struct rb_ctx ctx = { .arr = json_array() };
	struct vs_journal *j = NULL;
	size_t restored = 0, failed = 0;
	char why[640];
	int e, lockfd = -1, holder, apply, ret = VS_EXIT_FAIL;

	memset(&env, 0, sizeof(env));
	env.apply = -1;
	env.drop = -1;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL)) {
		json_decref(ctx.arr);
		return VS_EXIT_USAGE;
	}
	e = vs_apply_lock(&lockfd, &holder);
	if (e) {
		tune_lock_error(e, holder);
		goto out;
	}
	e = vs_journal_load_why(&j, why, sizeof(why));
	if (e) {
		vs_err("cannot use the journal: %s", why[0] ? why : vs_safe_strerror(e));
		goto out;
	}
	if (env.drop >= 0) {
		ret = drop_entry(j);
		goto print;
	}
	apply = env.apply;
	if (env.last)
		apply = vs_journal_last_active(j);
	if (apply >= 0 && !env.last) {
		struct vs_japply a;

		if (vs_journal_apply_get(j, apply, &a) || !a.active) {
			vs_err("--apply %d: no apply %d is in place ('virtsync verify' lists them)",
			       apply, apply);
			ret = VS_EXIT_USAGE;
			goto out;
		}
	}
	if (!vs_journal_active(j)) {
		if (!vs_global.json)
			printf("nothing to roll back\n");
		ret = VS_EXIT_OK;
		goto print;
	}
	if (!vs_global.json)
		printf("%-28s %-22s %12s    %s\n", "KNOB", "TARGET", "WAS", "RESTORED");
	e = vs_apply_rollback_sel(j, 0, apply, on_entry, &ctx, &restored, &failed);
	ret = e ? VS_EXIT_FAIL : VS_EXIT_OK;
	if (!vs_global.json) {
		printf("restored %zu value%s", restored, restored == 1 ? "" : "s");
		if (apply >= 0)
			printf(" of apply %d", apply);
		printf("%s\n", failed ? ", some failed" : "");
	}
print:
	if (vs_global.json) {
		json_t *out = json_object();

		vs_json_add_meta(out, argc, argv);
		json_object_set_new(out, "entries", ctx.arr);
		ctx.arr = NULL;
		json_object_set_new(out, "restored", json_integer(restored));
		json_object_set_new(out, "failed", json_integer(failed));
		if (env.drop >= 0)
			json_object_set_new(out, "dropped", ret == VS_EXIT_OK ?
					    json_integer(env.drop) : json_null());
		if (vs_json_print(out))
			ret = VS_EXIT_FAIL;
	}
out:
	json_decref(ctx.arr);
	vs_journal_free(j);
	vs_apply_unlock(lockfd);
	return ret;
}
