// SPDX-License-Identifier: GPL-2.0-only
/* virtsync profiles: list and show tuning profiles, list knobs. */
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "knobs/knobs.h"
#include "output/print.h"
#include "tune/profile.h"
#include "tune-print.h"

static const char doc[] =
"List the tuning profiles, show one, or list the knobs profiles can set.\n"
"\n"
"Synopsis: virtsync profiles list | show NAME|PATH | knobs\n"
"\n"
"Examples:\n"
"    virtsync profiles list\n"
"    virtsync profiles show latency-poll\n"
"    virtsync profiles show ./my-profile.json\n"
"    virtsync profiles knobs";

static struct env {
	const char *verb;
	const char *name;
} env;

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case ARGP_KEY_ARG:
		if (!env.verb) {
			if (strcmp(arg, "list") && strcmp(arg, "show") && strcmp(arg, "knobs")) {
				vs_err("unknown action '%s' (list, show NAME or knobs)", arg);
				return EINVAL;
			}
			env.verb = arg;
		} else if (!env.name && !strcmp(env.verb, "show")) {
			env.name = arg;
		} else {
			vs_err("unexpected argument '%s'", arg);
			return EINVAL;
		}
		return 0;
	case ARGP_KEY_END:
		if (!env.verb) {
			vs_err("give an action: list, show NAME or knobs");
			return EINVAL;
		}
		if (!strcmp(env.verb, "show") && !env.name) {
			vs_err("show needs a profile NAME");
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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int do_list(void)
{
	char dir[4096], path[8192], err[512], *names[256];
	json_t *arr = json_array();
	struct dirent *de;
	size_t n = 0, i;
	DIR *d;

	if (vs_profile_dir(dir, sizeof(dir)) || !(d = opendir(dir))) {
		json_decref(arr);
		vs_err("no profile directory (%s): %s", dir, strerror(errno ? errno : ENOENT));
		return VS_EXIT_FAIL;
	}
	while ((de = readdir(d)) && n < 256) {
		size_t l = strlen(de->d_name);

		if (l > 5 && !strcmp(de->d_name + l - 5, ".json") && de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		struct vs_profile *p;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (vs_profile_load_file(path, VS_KIND_PROFILE, &p, err, sizeof(err))) {
			vs_err("%s: %s, ignoring", path, err);
		} else if (vs_global.json) {
			json_t *o = json_object();

			json_object_set_new(o, "name", json_string(p->name));
			json_object_set_new(o, "description", json_string(p->description));
			json_object_set_new(o, "steps", json_integer(p->nsteps));
			json_object_set_new(o, "path", json_string(path));
			json_array_append_new(arr, o);
		} else {
			/* first sentence of the description, cut to fit */
			const char *dot = strstr(p->description, ". ");
			size_t cut = dot ? (size_t)(dot - p->description) : strlen(p->description);
			char first[4 * 60 + 4], cell[4 * 60 + 4];

			snprintf(first, sizeof(first), "%.*s", (int)cut, p->description);
			printf("%-18s %s\n", p->name, vs_cut(first, 60, cell, sizeof(cell)));
		}
		vs_profile_free(p);
		free(names[i]);
	}
	if (vs_global.json) {
		json_t *doc_out = json_object();

		vs_json_add_meta(doc_out, 0, NULL);	/* the dispatcher's argv */
		json_object_set_new(doc_out, "directory", json_string(dir));
		json_object_set_new(doc_out, "profiles", arr);
		return vs_json_print(doc_out) ? VS_EXIT_FAIL : VS_EXIT_OK;
	}
	json_decref(arr);
	return VS_EXIT_OK;
}

static int do_show(const char *name)
{
	char path[4096], err[512], sel[512];
	struct vs_profile *p;
	size_t i;
	int e, k;

	e = vs_profile_locate(name, path, sizeof(path));
	if (e == -EINVAL) {
		vs_err("profile '%s': not a name ([A-Za-z0-9_.-]) nor a path starting with /, ./ or ../",
		       name);
		return VS_EXIT_USAGE;
	}
	if (e) {
		vs_err("profile '%s' not found (%s); see 'virtsync profiles list'", name,
		       strerror(-e));
		return VS_EXIT_USAGE;
	}
	if (vs_profile_load_file(path, VS_KIND_PROFILE, &p, err, sizeof(err))) {
		vs_err("profile %s: %s", path, err);
		return VS_EXIT_USAGE;
	}
	if (vs_global.json) {
		json_t *o = json_load_file(path, 0, NULL);

		vs_profile_free(p);
		return vs_json_print(o) ? VS_EXIT_FAIL : VS_EXIT_OK;
	}
	printf("%s (%s)\n\n", p->name, path);
	tune_print_wrapped(0, p->description);
	printf("\n");
	for (i = 0; i < p->nvars; i++)
		printf("variable ${%s} defaults to %s\n", p->vars[i].name, p->vars[i].value);
	if (p->nvars)
		printf("\n");
	printf("%-3s %-28s %-20s %s\n", "#", "KNOB", "TARGET", "VALUE");
	for (i = 0; i < p->nsteps; i++) {
		const struct vs_step *s = &p->steps[i];
		size_t off = 0;

		sel[0] = '\0';
		for (k = 0; k < VS_SEL_NKEYS; k++)
			if (s->sel[k][0] && off < sizeof(sel))
				off += snprintf(sel + off, sizeof(sel) - off, "%s%s=%s",
						off ? "," : "", vs_sel_key_names[k], s->sel[k]);
		printf("%-3zu %-28s %-20s %s%s\n", i + 1, s->knob->name,
		       sel[0] ? sel : "-", s->value, s->optional ? " (optional)" : "");
		if (s->why[0])
			tune_print_wrapped(4, s->why);
	}
	vs_profile_free(p);
	return VS_EXIT_OK;
}

static int do_knobs(void)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; vs_knobs[i]; i++) {
		const struct vs_knob_ops *k = vs_knobs[i];

		if (vs_global.json) {
			json_t *o = json_object();

			json_object_set_new(o, "name", json_string(k->name));
			json_object_set_new(o, "scope", json_string(vs_knob_scope_name(k->scope)));
			json_object_set_new(o, "live", json_boolean(k->live));
			json_object_set_new(o, "unit", json_string(k->unit));
			json_object_set_new(o, "help", json_string(k->help));
			json_array_append_new(arr, o);
		} else {
			char line[512], scope[4 * 8 + 4];

			/* the help wrapped under its column: cut, it hid the point */
			snprintf(line, sizeof(line), "%-30s %s %s", k->name,
				 vs_fit(vs_knob_scope_name(k->scope), 8, scope, sizeof(scope)),
				 k->help);
			vs_print_hanging(stdout, 0, 40, line);
		}
	}
	if (vs_global.json) {
		json_t *o = json_object();

		json_object_set_new(o, "knobs", arr);
		return vs_json_print(o) ? VS_EXIT_FAIL : VS_EXIT_OK;
	}
	json_decref(arr);
	return VS_EXIT_OK;
}

VS_COMMAND(profiles, 0, "list or show tuning profiles and knobs")
{
	const struct argp argp = { NULL, parse_arg, "list|show NAME|knobs", doc, children };

	memset(&env, 0, sizeof(env));
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	if (!strcmp(env.verb, "list"))
		return do_list();
	if (!strcmp(env.verb, "knobs"))
		return do_knobs();
	return do_show(env.name);
}
