/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TOOLS_PARAMS_H
#define VS_TOOLS_PARAMS_H

#include <stdbool.h>

#include <stdio.h>

#include "model/model.h"
#include "model/sweep.h"

/*
 * The model parameters as command-line options, shared by the tools that
 * take them (`virtsync model`, `virtsync sim`): --preset NAME, one
 * option per field of lib/model/sweep.h's table (--len --wp --wc --kp --kc --np
 * --nc --sp --sc --yp --yc --yz --y, -y/--sleep, --pp --pc --poll) and --sweep
 * PARAM=START:END:STEP (also -s in vs_params_argp_s, for tools that leave
 * -s free). A preset is applied first and explicit options override it,
 * whatever their order on the command line; a new L (--len or a len sweep)
 * moves kc to 3/4 L, virtio's choice in every preset, unless kc is given
 * or swept.
 *
 * Use it as an argp child and hand it its input from the parent parser:
 *	static const struct argp_child children[] = {
 *		{ &vs_params_argp, 0, "Model parameters:", 0 }, ... };
 *	case ARGP_KEY_INIT: state->child_inputs[0] = &env.params; break;
 * then call vs_param_opts_finish() after argp_parse().
 */
#define VS_PARAM_OPTS_MAX 64

struct vs_param_opts {
	const char *preset;
	struct {
		const struct vs_param_field *field;
		double value;
	} set[VS_PARAM_OPTS_MAX];
	unsigned int nset;
	bool have_sweep;
	struct vs_sweep sweep;
	struct vs_params p;	/* the result, after vs_param_opts_finish() */
	bool kc_follows_len;	/* set by vs_param_opts_finish() */
};

extern const struct argp vs_params_argp;
extern const struct argp vs_params_argp_s;	/* with -s for --sweep */

/* Was the field (by name) set by an explicit option? */
bool vs_param_opts_given(const struct vs_param_opts *o, const char *name);

/*
 * Apply the preset (or vs_params_default()) and the explicit options, then
 * validate the result and, with a sweep, every point of it. On error prints
 * one line naming the option and the values involved ("--kc: must be
 * between 1 and L (L=64 kp=1 kc=96) at kc=96 of the sweep") and returns
 * -EINVAL (the tool exits 2).
 */
int vs_param_opts_finish(struct vs_param_opts *o);

/* o->p with the sweep's i-th value applied (and kc following a new L). */
void vs_param_opts_point(const struct vs_param_opts *o, unsigned int i,
			 struct vs_params *out);

/* Three lines of "name=value" pairs, each under 80 columns, with prefix. */
void vs_params_print(FILE *out, const char *prefix, const struct vs_params *p);

#endif
