// SPDX-License-Identifier: GPL-2.0-only
/* virtsync verify: are the applied values still in place? */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "tune/apply.h"

static const char doc[] =
"Compare the live value of every knob apply or tune changed with the value\n"
"they set; exit 1 listing each one that drifted.\n"
"\n"
"Synopsis: virtsync verify\n"
"\n"
"Examples:\n"
"    virtsync verify && echo still tuned\n"
"    virtsync verify --json";

struct vf_ctx {
	json_t *arr;
};

static void on_entry(const struct vs_jentry *e, const char *live, int err,
		     bool drift, void *ctx)
{
	struct vf_ctx *c = ctx;

	if (vs_global.json) {
		json_t *o = json_object();

		json_object_set_new(o, "knob", json_string(e->knob));
		json_object_set_new(o, "target", json_string(e->target));
		json_object_set_new(o, "label", json_string(e->label));
		json_object_set_new(o, "applied", json_string(e->new));
		json_object_set_new(o, "live", live ? json_string(live) : json_null());
		json_object_set_new(o, "drift", json_boolean(drift));
		if (err)
			json_object_set_new(o, "error", json_string(strerror(-err)));
		json_array_append_new(c->arr, o);
		return;
	}
	if (!drift)
		printf("ok    %-28s %-22.22s %s\n", e->knob, e->label, e->new);
	else if (live)
		printf("DRIFT %-28s %-22.22s applied %s, live %s\n", e->knob, e->label,
		       e->new, live);
	else
		printf("DRIFT %-28s %-22.22s applied %s, unreadable: %s\n", e->knob,
		       e->label, e->new, strerror(-err));
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
	size_t checked = 0;
	int e, drift = 0, ret = VS_EXIT_FAIL;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL)) {
		json_decref(ctx.arr);
		return VS_EXIT_USAGE;
	}
	e = vs_journal_load(&j);
	if (e) {
		vs_err("cannot read the journal: %s%s", strerror(-e),
		       e == -EACCES ? " (run it as root)" : "");
		goto out;
	}
	if (vs_journal_active(j))
		drift = vs_apply_verify(j, on_entry, &ctx, &checked);
	if (!vs_global.json) {
		if (!checked)
			printf("nothing applied (no journal, or rolled back)\n");
		else if (drift)
			printf("%d of %zu knob%s drifted\n", drift, checked,
			       checked == 1 ? "" : "s");
		else
			printf("all %zu knob%s as applied\n", checked, checked == 1 ? "" : "s");
	} else {
		json_t *out = json_object();

		vs_json_add_meta(out, argc, argv);
		json_object_set_new(out, "checked", json_integer(checked));
		json_object_set_new(out, "drifted", json_integer(drift));
		json_object_set_new(out, "knobs", ctx.arr);
		ctx.arr = NULL;
		if (vs_json_print(out))
			goto out;
	}
	ret = drift ? VS_EXIT_FAIL : VS_EXIT_OK;
out:
	json_decref(ctx.arr);
	vs_journal_free(j);
	return ret;
}
