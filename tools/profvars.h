/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TOOLS_PROFVARS_H
#define VS_TOOLS_PROFVARS_H

#include <stdbool.h>
#include <stddef.h>

#include "profile.h"

/*
 * Profile variables given on the command line, shared by apply and export:
 * --set NAME=VALUE and its shorthands --pid, --dmax, --cpus, --qmp. Include
 * vs_profvars_argp as an argp child; the values land in vs_profvars.
 */
struct vs_profvars {
	struct vs_var vars[VS_PROFILE_MAX_VARS];
	size_t n;
	bool reported;		/* a bad value's line is out already */
};

extern struct vs_profvars vs_profvars;
extern const struct argp vs_profvars_argp;

#endif
