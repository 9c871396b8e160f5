/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TOOLS_PROFVARS_H
#define VS_TOOLS_PROFVARS_H

#include <stdbool.h>
#include <stddef.h>

#include "tune/profile.h"

/*
 * Profile variables given on the command line, shared by apply and export:
 * --set NAME=VALUE and its shorthands --pid, --dmax, --cpus, --qmp. Include
 * vs_profvars_argp as an argp child; the values land in vs_profvars.
 */
struct vs_profvars {
	struct vs_var vars[VS_PROFILE_MAX_VARS];
	size_t n;
};

extern struct vs_profvars vs_profvars;
extern const struct argp vs_profvars_argp;

/*
 * The PROFILE operand of apply and export, from their argp parsers at
 * ARGP_KEY_ARG (at most one PROFILE, into *profile) and ARGP_KEY_END
 * (exactly one of PROFILE and --plan FILE). 0, or EINVAL after one line.
 */
int vs_profvars_operand(int key, char *arg, const char **profile, const char *plan);

/*
 * Load what apply and export were given: the plan file when `plan` is set,
 * else the profile named or pathed by `profile` (vs_profile_locate()). On
 * success *source names it ("plan FILE", "profile NAME"); else one line
 * is out and the return is VS_EXIT_USAGE.
 */
int vs_profvars_load(const char *profile, const char *plan, struct vs_profile **p,
		     char *source, size_t slen);

#endif
