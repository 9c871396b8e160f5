// SPDX-License-Identifier: GPL-2.0-only
/* The model parameters as command-line options (see params.h). */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "params.h"
#include "units.h"

/* Keys of the generated field options: VS_KEY_FIELD + index in the table. */
enum {
	VS_KEY_PRESET = 0x2000,
	VS_KEY_SWEEP,
	VS_KEY_SLEEP_ALIAS,
	VS_KEY_FIELD = 0x2100,
};

static char preset_doc[160];
/* fields + preset + sweep + --sleep alias + terminator */
static struct argp_option param_options[VS_PARAM_OPTS_MAX];

static const char *preset_list(void)
{
	static char list[96];
	size_t off = 0;
	int i;

	if (list[0])
		return list;
	for (i = 0; vs_preset_names[i]; i++)
		off += snprintf(list + off, sizeof(list) - off, "%s%s",
				i ? ", " : "", vs_preset_names[i]);
	return list;
}

/* argp wants a static option array; build it once from lib/sweep.h's table
 * so that a new parameter needs no edit here. */
static void build_options(void)
{
	const struct vs_param_field *f;
	unsigned int n = 0;

	if (param_options[0].name)
		return;
	snprintf(preset_doc, sizeof(preset_doc),
		 "Start from a preset: %s (explicit options override it)",
		 preset_list());
	param_options[n++] = (struct argp_option){
		"preset", VS_KEY_PRESET, "NAME", 0, preset_doc, 0 };
	for (f = vs_param_fields; f->name && n < VS_PARAM_OPTS_MAX - 4; f++) {
		param_options[n++] = (struct argp_option){
			f->name, VS_KEY_FIELD + (int)(f - vs_param_fields),
			f->kind == VS_PARAM_UINT ? "N" : "TIME", 0, f->help, 0 };
		if (!strcmp(f->name, "y"))
			param_options[n++] = (struct argp_option){
				"sleep", VS_KEY_SLEEP_ALIAS, NULL, OPTION_ALIAS,
				NULL, 0 };
	}
	param_options[n++] = (struct argp_option){
		"sweep", VS_KEY_SWEEP, "P=START:END:STEP", 0,
		"Vary parameter P (STEP may be xFACTOR for a geometric sweep)",
		0 };
	param_options[n] = (struct argp_option){ 0 };
}

static error_t params_parse_one(int key, char *arg, struct argp_state *state)
{
	struct vs_param_opts *o = state->input;
	const struct vs_param_field *f;
	struct vs_params tmp;
	const char *why;
	char opt[32];
	double v;
	int err;

	switch (key) {
	case ARGP_KEY_INIT:
		build_options();
		return 0;
	case VS_KEY_PRESET:
		if (vs_params_preset(arg, &tmp)) {
			vs_err("--preset: unknown preset '%s' (known: %s)", arg,
			       preset_list());
			return EINVAL;
		}
		o->preset = arg;
		return 0;
	case VS_KEY_SWEEP:
		err = vs_sweep_parse(arg, &o->sweep, &why);
		if (err) {
			vs_err("--sweep: '%s': %s (parameters: %s)", arg,
			       why ? why : strerror(-err),
			       vs_param_field_names());
			return EINVAL;
		}
		o->have_sweep = true;
		return 0;
	case VS_KEY_SLEEP_ALIAS:
		key = VS_KEY_FIELD + (int)(vs_param_field_find("y") -
					   vs_param_fields);
		/* fall through */
	default:
		if (key < VS_KEY_FIELD || key >= VS_KEY_FIELD + 64)
			return ARGP_ERR_UNKNOWN;
		f = &vs_param_fields[key - VS_KEY_FIELD];
		snprintf(opt, sizeof(opt), "--%s", f->name);
		if (f->kind == VS_PARAM_TIME) {
			if (opt_time(opt, arg, &v))
				return EINVAL;
		} else {
			unsigned int u;

			if (opt_uint(opt, arg, 0, ~0u, &u))
				return EINVAL;
			v = u;
		}
		if (o->nset >= VS_PARAM_OPTS_MAX) {
			vs_err("%s: too many parameter options", opt);
			return EINVAL;
		}
		o->set[o->nset].field = f;
		o->set[o->nset].value = v;
		o->nset++;
		return 0;
	}
}

/* Remember that a line went out, so the parent does not add another. */
static error_t params_parse(int key, char *arg, struct argp_state *state)
{
	error_t err = params_parse_one(key, arg, state);
	struct vs_param_opts *o = state->input;

	if (err && err != ARGP_ERR_UNKNOWN && o)
		o->reported = true;
	return err;
}

const struct argp vs_params_argp = {
	.options = param_options,
	.parser = params_parse,
};

/* The options must exist before argp looks at the parent's children. */
__attribute__((constructor)) static void params_init(void)
{
	build_options();
}

void vs_param_opts_point(const struct vs_param_opts *o, unsigned int i,
			 struct vs_params *out)
{
	*out = o->p;
	if (o->have_sweep)
		vs_param_set(out, o->sweep.field, vs_sweep_value(&o->sweep, i));
}

int vs_param_opts_finish(struct vs_param_opts *o)
{
	struct vs_params pt;
	const char *why = NULL;
	char buf[32];
	unsigned int i;

	if (o->preset)
		vs_params_preset(o->preset, &o->p);
	else
		vs_params_default(&o->p);
	for (i = 0; i < o->nset; i++)
		vs_param_set(&o->p, o->set[i].field, o->set[i].value);
	if (!o->have_sweep) {
		if (vs_params_validate(&o->p, &why)) {
			vs_err("invalid parameters: %s", why ? why : "?");
			return -EINVAL;
		}
		return 0;
	}
	for (i = 0; i < o->sweep.npoints; i++) {
		vs_param_opts_point(o, i, &pt);
		if (vs_params_validate(&pt, &why)) {
			double v = vs_sweep_value(&o->sweep, i);

			if (o->sweep.field->kind == VS_PARAM_TIME)
				vs_format_time(v, buf, sizeof(buf));
			else
				snprintf(buf, sizeof(buf), "%.0f", v);
			vs_err("invalid parameters at %s=%s of the sweep: %s",
			       o->sweep.field->name, buf, why ? why : "?");
			return -EINVAL;
		}
	}
	return 0;
}

void vs_params_print(FILE *out, const char *prefix, const struct vs_params *p)
{
	char b[9][16];

	fprintf(out, "%sL=%u kp=%u kc=%u Wp=%s Wc=%s Np=%s Nc=%s\n", prefix,
		p->len, p->kp, p->kc, vs_format_time(p->wp, b[0], 16),
		vs_format_time(p->wc, b[1], 16), vs_format_time(p->np, b[2], 16),
		vs_format_time(p->nc, b[3], 16));
	fprintf(out, "%sSp=%s Sc=%s Yp=%s Yc=%s Yz=%s\n", prefix,
		vs_format_time(p->sp, b[4], 16), vs_format_time(p->sc, b[5], 16),
		vs_format_time(p->yp, b[6], 16), vs_format_time(p->yc, b[7], 16),
		vs_format_time(p->yz, b[8], 16));
}
