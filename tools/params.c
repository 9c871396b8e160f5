// SPDX-License-Identifier: GPL-2.0-only
/* The model parameters as command-line options (see params.h). */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "params.h"
#include "core/units.h"

/* Keys of the generated field options: VS_KEY_FIELD + index in the table.
 * -y is --sleep (--y), -s is --sweep where the tool allows. */
enum {
	VS_KEY_PRESET = 0x1fff,	/* no short form: -p is --pid (virtsync(8)) */
	VS_KEY_SLEEP_ALIAS = 'y',
	VS_KEY_SWEEP_SHORT = 's',
	VS_KEY_SWEEP = 0x2000,
	VS_KEY_FIELD = 0x2100,
};

/* The largest L, kp, kc accepted (a simulated queue is allocated). */
#define VS_PARAM_UINT_MAX (1u << 30)

static char preset_doc[160];
/* fields + preset + sweep + --sleep alias + terminator; with and without
 * -s for --sweep */
static struct argp_option param_options[VS_PARAM_OPTS_MAX];
static struct argp_option param_options_s[VS_PARAM_OPTS_MAX];

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

/* argp wants a static option array; build it once from lib/model/sweep.h's table
 * so that a new parameter needs no edit here. */
static void build_options_into(struct argp_option *o, int sweep_key)
{
	const struct vs_param_field *f;
	unsigned int n = 0;

	o[n++] = (struct argp_option){
		"preset", VS_KEY_PRESET, "NAME", 0, preset_doc, 0 };
	for (f = vs_param_fields; f->name && n < VS_PARAM_OPTS_MAX - 4; f++) {
		o[n++] = (struct argp_option){
			f->name, VS_KEY_FIELD + (int)(f - vs_param_fields),
			f->kind == VS_PARAM_UINT ? "N" : "TIME", 0, f->help, 0 };
		if (!strcmp(f->name, "y"))
			o[n++] = (struct argp_option){
				"sleep", VS_KEY_SLEEP_ALIAS, NULL, OPTION_ALIAS,
				NULL, 0 };
	}
	o[n++] = (struct argp_option){
		"sweep", sweep_key, "P=START:END:STEP", 0,
		"Vary parameter P (len, wp, wc, kp, kc, np, nc, sp, sc, yp, yc, "
		"yz or y): one result per point; STEP may be xFACTOR for a "
		"geometric sweep", 0 };
	o[n] = (struct argp_option){ 0 };
}

static void build_options(void)
{
	if (param_options[0].name)
		return;
	snprintf(preset_doc, sizeof(preset_doc),
		 "Start from a preset: %s (explicit options override it)",
		 preset_list());
	build_options_into(param_options, VS_KEY_SWEEP);
	build_options_into(param_options_s, VS_KEY_SWEEP_SHORT);
}

static error_t params_parse(int key, char *arg, struct argp_state *state)
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
	case VS_KEY_SWEEP_SHORT:
		err = vs_sweep_parse(arg, &o->sweep, &why);
		if (err) {
			if (!why)
				why = strerror(-err);
			if (!strcmp(why, "unknown parameter"))
				vs_err("--sweep: '%s': %s; one of %s", arg, why,
				       vs_param_field_names());
			else
				vs_err("--sweep: '%s': %s", arg, why);
			return EINVAL;
		}
		o->have_sweep = true;
		return 0;
	case VS_KEY_SLEEP_ALIAS:
		/* -y and --sleep: errors name --sleep */
		f = vs_param_field_find("y");
		snprintf(opt, sizeof(opt), "--sleep");
		goto set_field;
	default:
		if (key < VS_KEY_FIELD || key >= VS_KEY_FIELD + 64)
			return ARGP_ERR_UNKNOWN;
		f = &vs_param_fields[key - VS_KEY_FIELD];
		snprintf(opt, sizeof(opt), "--%s", f->name);
set_field:
		if (f->kind == VS_PARAM_TIME) {
			if (opt_time(opt, arg, &v))
				return EINVAL;
		} else {
			unsigned int u;

			if (opt_uint(opt, arg, 0, VS_PARAM_UINT_MAX, &u))
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

const struct argp vs_params_argp = {
	.options = param_options,
	.parser = params_parse,
};

const struct argp vs_params_argp_s = {
	.options = param_options_s,
	.parser = params_parse,
};

/* The options must exist before argp looks at the parent's children. */
__attribute__((constructor)) static void params_init(void)
{
	build_options();
}

bool vs_param_opts_given(const struct vs_param_opts *o, const char *name)
{
	unsigned int i;

	for (i = 0; i < o->nset; i++)
		if (!strcmp(o->set[i].field->name, name))
			return true;
	return false;
}

/* kc is virtio's 3/4 L in every preset and default. */
static void follow_len(const struct vs_param_opts *o, struct vs_params *p)
{
	if (o->kc_follows_len)
		p->kc = p->len >= 4 ? p->len * 3 / 4 : 1;
}

void vs_param_opts_point(const struct vs_param_opts *o, unsigned int i,
			 struct vs_params *out)
{
	*out = o->p;
	if (o->have_sweep) {
		vs_param_set(out, o->sweep.field, vs_sweep_value(&o->sweep, i));
		follow_len(o, out);
	}
}

/* One line naming the field as its option, and the values involved. */
static int check_point(const struct vs_params *p, const char *where)
{
	const char *why = NULL;

	if (!vs_params_validate(p, &why))
		return 0;
	if (!why)
		why = "?";
	if (!strncmp(why, "len", 3) || !strncmp(why, "kp", 2) ||
	    !strncmp(why, "kc", 2))
		vs_err("--%s (L=%u kp=%u kc=%u)%s%s", why, p->len, p->kp,
		       p->kc, where ? " at " : "", where ? where : "");
	else
		vs_err("--%s%s%s", why, where ? " at " : "", where ? where : "");
	return -EINVAL;
}

int vs_param_opts_finish(struct vs_param_opts *o)
{
	struct vs_params pt;
	const char *swept = o->have_sweep ? o->sweep.field->name : "";
	char buf[32], where[64];
	unsigned int i;

	if (o->preset)
		vs_params_preset(o->preset, &o->p);
	else
		vs_params_default(&o->p);
	for (i = 0; i < o->nset; i++)
		vs_param_set(&o->p, o->set[i].field, o->set[i].value);
	o->kc_follows_len = (vs_param_opts_given(o, "len") ||
			     !strcmp(swept, "len")) &&
			    !vs_param_opts_given(o, "kc") && strcmp(swept, "kc");
	follow_len(o, &o->p);
	if (!o->have_sweep)
		return check_point(&o->p, NULL);
	for (i = 0; i < o->sweep.npoints; i++) {
		double v = vs_sweep_value(&o->sweep, i);

		vs_param_opts_point(o, i, &pt);
		if (o->sweep.field->kind == VS_PARAM_TIME)
			vs_format_time(v, buf, sizeof(buf));
		else
			snprintf(buf, sizeof(buf), "%.0f", v);
		snprintf(where, sizeof(where), "%s=%s of the sweep",
			 o->sweep.field->name, buf);
		if (check_point(&pt, where))
			return -EINVAL;
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
	fprintf(out, "%sPp=%s Pc=%s\n", prefix, vs_format_time(p->pp, b[0], 16),
		vs_format_time(p->pc, b[1], 16));
}
