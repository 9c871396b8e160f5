// SPDX-License-Identifier: GPL-2.0-only
/* virtsync verify: are the applied values still in place? */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/safefile.h"
#include "cmd.h"
#include "output/print.h"
#include "tune/apply.h"

static const char doc[] =
"List the applies still in place (source, command, user, time), then compare\n"
"the live value of every knob they changed with the value they set; exit 1\n"
"listing each one that drifted.\n"
"\n"
"Synopsis: virtsync verify\n"
"\n"
"Examples:\n"
"    virtsync verify && echo still tuned\n"
"    virtsync verify --json";

struct vf_ctx {
	json_t *arr;
	size_t gone;
};

static void on_entry(const struct vs_jentry *e, size_t idx, enum vs_vf_result res,
		     const char *live, int err, void *ctx)
{
	struct vf_ctx *c = ctx;
	bool drift = res == VS_VF_DRIFT;
	char label[4 * 22 + 4];

	c->gone += res == VS_VF_GONE;
	if (vs_global.json) {
		json_t *o = json_object();

		json_object_set_new(o, "entry", json_integer(idx));
		json_object_set_new(o, "apply", json_integer(e->apply));
		json_object_set_new(o, "knob", json_string(e->knob));
		json_object_set_new(o, "target", json_string(e->target));
		json_object_set_new(o, "label", json_string(e->label));
		json_object_set_new(o, "applied", json_string(e->new));
		json_object_set_new(o, "live", live ? json_string(live) : json_null());
		json_object_set_new(o, "drift", json_boolean(drift));
		json_object_set_new(o, "gone", json_boolean(res == VS_VF_GONE));
		if (err)
			json_object_set_new(o, "error", json_string(strerror(-err)));
		json_array_append_new(c->arr, o);
		return;
	}
	vs_fit(e->label, 22, label, sizeof(label));
	if (res == VS_VF_OK)
		printf("ok    %-28s %s %s  (entry %zu)\n", e->knob, label, e->new, idx);
	else if (res == VS_VF_GONE)
		printf("gone  %-28s %s target gone (%s); 'virtsync rollback' marks it "
		       "(entry %zu)\n", e->knob, label, strerror(-err), idx);
	else if (live)
		printf("DRIFT %-28s %s applied %s, live %s  (entry %zu)\n", e->knob,
		       label, e->new, live, idx);
	else
		printf("DRIFT %-28s %s applied %s, unreadable: %s  (entry %zu)\n",
		       e->knob, label, e->new, strerror(-err), idx);
}

/* The applies still in place, oldest first: on a shared host, whose they
 * are and what made them. */
static json_t *list_applies(const struct vs_journal *j)
{
	json_t *arr = json_array();
	struct vs_japply a;
	size_t id;

	for (id = 0; id < vs_journal_applies(j); id++) {
		if (vs_journal_apply_get(j, (int)id, &a) || !a.active)
			continue;
		if (vs_global.json) {
			json_t *o = json_object();

			json_object_set_new(o, "id", json_integer(a.id));
			json_object_set_new(o, "source", json_string(a.source));
			json_object_set_new(o, "command", json_string(a.command));
			json_object_set_new(o, "user", json_string(a.user));
			json_object_set_new(o, "time", json_string(a.time));
			json_object_set_new(o, "pid", json_integer(a.pid));
			json_object_set_new(o, "active", json_integer(a.active));
			json_array_append_new(arr, o);
		} else {
			printf("apply %d  %s  by %s  %s: %zu change%s in place\n", a.id, a.time,
			       a.user[0] ? a.user : "?", a.source, a.active,
			       a.active == 1 ? "" : "s");
			if (a.command[0])
				printf("        command: %s\n", a.command);
		}
	}
	return arr;
}

static const struct argp_child children[] = {
	{ &vs_common_argp, 0, "Common options:", 0 },
	{ 0 },
};

VS_COMMAND(verify, 0, "check that applied knob values are still in place")
{
	const struct argp argp = { NULL, NULL, NULL, doc, children };
	struct vf_ctx ctx = { .arr = json_array() };
	struct vs_journal *j = NULL;
	json_t *applies = NULL;
	size_t checked = 0;
	char why[640];
	int e, drift = 0, ret = VS_EXIT_FAIL;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL)) {
		json_decref(ctx.arr);
		return VS_EXIT_USAGE;
	}
	/* a reader too cleans what killed runs left, when nobody holds the
	 * lock; it cannot fail the check */
	vs_apply_sweep();
	e = vs_journal_load_why(&j, why, sizeof(why));
	if (e) {
		vs_err("cannot read the journal: %s", why[0] ? why : vs_safe_strerror(e));
		goto out;
	}
	if (vs_journal_active(j)) {
		applies = list_applies(j);
		drift = vs_apply_verify(j, on_entry, &ctx, &checked);
	}
	if (!vs_global.json) {
		if (!checked)
			printf("nothing applied (no journal, or rolled back)\n");
		else if (drift)
			printf("%d of %zu knob%s drifted\n", drift, checked,
			       checked == 1 ? "" : "s");
		else
			printf("all %zu knob%s as applied%s\n", checked - ctx.gone,
			       checked - ctx.gone == 1 ? "" : "s",
			       ctx.gone ? ", the others' targets are gone" : "");
	} else {
		json_t *out = json_object();

		vs_json_add_meta(out, argc, argv);
		json_object_set_new(out, "applies", applies ? applies : json_array());
		applies = NULL;
		json_object_set_new(out, "checked", json_integer(checked));
		json_object_set_new(out, "drifted", json_integer(drift));
		json_object_set_new(out, "gone", json_integer(ctx.gone));
		json_object_set_new(out, "knobs", ctx.arr);
		ctx.arr = NULL;
		if (vs_json_print(out))
			goto out;
	}
	ret = drift ? VS_EXIT_FAIL : VS_EXIT_OK;
out:
	json_decref(applies);
	json_decref(ctx.arr);
	vs_journal_free(j);
	return ret;
}
