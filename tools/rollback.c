// SPDX-License-Identifier: GPL-2.0-only
/* virtsync rollback: put back every knob the journal says was changed. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/safefile.h"
#include "cmd.h"
#include "tune-print.h"
#include "sources/qmp.h"
#include "tune/apply.h"

static const char doc[] =
"Undo what apply and tune changed, last change first.\n"
"\n"
"Synopsis: virtsync rollback\n"
"\n"
"Reads /run/virtsync/journal.json, writes each old value back and marks it\n"
"restored. Safe to run again, and after apply crashed or was killed.\n"
"\n"
"Examples:\n"
"    virtsync rollback\n"
"    virtsync rollback --json";

struct rb_ctx {
	json_t *arr;
};

static const char *rollback_strerror(const struct vs_jentry *e, int err)
{
	const struct vs_knob_ops *k = vs_knob_find(e->knob);

	return k && k->scope == VS_SCOPE_IOTHREAD ? vs_qmp_strerror(err) : strerror(-err);
}

static void on_entry(const struct vs_jentry *e, const char *live, int err, void *ctx)
{
	struct rb_ctx *c = ctx;

	if (vs_global.json) {
		json_t *o = json_object();

		json_object_set_new(o, "knob", json_string(e->knob));
		json_object_set_new(o, "target", json_string(e->target));
		json_object_set_new(o, "label", json_string(e->label));
		json_object_set_new(o, "restored", json_string(e->old));
		json_object_set_new(o, "result", json_string(!err ? "restored" :
							    err == -ESRCH ? "gone" : "failed"));
		if (err && err != -ESRCH)
			json_object_set_new(o, "error", json_string(rollback_strerror(e, err)));
		json_array_append_new(c->arr, o);
		return;
	}
	if (!err)
		printf("%-28s %-22.22s %12s -> %s\n", e->knob, e->label,
		       live[0] ? live : "?", e->old);
	else if (err == -ESRCH)
		printf("%-28s %-22.22s gone, nothing to restore\n", e->knob, e->label);
	else
		vs_err("%s%s%s: restoring '%s' failed: %s; run rollback again",
		       e->knob, e->target[0] ? " " : "", e->target, e->old,
		       rollback_strerror(e, err));
}

static const struct argp_child children[] = {
	{ &vs_common_argp, 0, "Common options:", 0 },
	{ 0 },
};

VS_COMMAND(rollback, VS_NEEDS_ROOT, "undo apply/tune from the journal (crash safe)")
{
	const struct argp argp = { NULL, NULL, NULL, doc, children };
	struct rb_ctx ctx = { .arr = json_array() };
	struct vs_journal *j = NULL;
	size_t restored = 0, failed = 0;
	int e, lockfd = -1, holder, ret = VS_EXIT_FAIL;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL)) {
		json_decref(ctx.arr);
		return VS_EXIT_USAGE;
	}
	e = vs_apply_lock(&lockfd, &holder);
	if (e) {
		tune_lock_error(e, holder);
		goto out;
	}
	e = vs_journal_load(&j);
	if (e) {
		vs_err("cannot use the journal: %s", vs_safe_strerror(e));
		goto out;
	}
	if (!vs_journal_active(j)) {
		if (!vs_global.json)
			printf("nothing to roll back\n");
		ret = VS_EXIT_OK;
		goto print;
	}
	if (!vs_global.json)
		printf("%-28s %-22s %12s    %s\n", "KNOB", "TARGET", "WAS", "RESTORED");
	e = vs_apply_rollback(j, 0, on_entry, &ctx, &restored, &failed);
	ret = e ? VS_EXIT_FAIL : VS_EXIT_OK;
	if (!vs_global.json)
		printf("restored %zu value%s%s\n", restored, restored == 1 ? "" : "s",
		       failed ? ", some failed" : "");
print:
	if (vs_global.json) {
		json_t *out = json_object();

		vs_json_add_meta(out, argc, argv);
		json_object_set_new(out, "entries", ctx.arr);
		ctx.arr = NULL;
		json_object_set_new(out, "restored", json_integer(restored));
		json_object_set_new(out, "failed", json_integer(failed));
		if (vs_json_print(out))
			ret = VS_EXIT_FAIL;
	}
out:
	json_decref(ctx.arr);
	vs_journal_free(j);
	vs_apply_unlock(lockfd);
	return ret;
}
