/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_SWEEP_H
#define VS_SWEEP_H

#include "model/model.h"

/*
 * Named fields of struct vs_params, so that `--sweep wp=200ns:3us:100ns`
 * (model, sim, bench) and any "name=value" setting share one table.
 * Names are the lower-case paper symbols: len kp kc (integers) and
 * wp wc np nc sp sc yp yc yz pp pc (times); "y" (alias "sleep") sets Yp and
 * Yc together, the Yp = Yc case of the paper's Sec. 5.1, and "poll" sets
 * the hybrid mechanism's Pp and Pc together.
 */
enum vs_param_kind {
	VS_PARAM_UINT,		/* unsigned int field: len, kp, kc */
	VS_PARAM_TIME,		/* double nanoseconds */
};

struct vs_param_field {
	const char *name;
	enum vs_param_kind kind;
	const char *help;	/* one short line for --help and errors */
};

/* NULL-name-terminated table, in the order the CLI prints parameters. */
extern const struct vs_param_field vs_param_fields[];

/* Case-sensitive lookup by name or alias ("sleep" -> "y"); NULL if none. */
const struct vs_param_field *vs_param_field_find(const char *name);

/* Comma-separated list of the names, for error messages. */
const char *vs_param_field_names(void);

/*
 * Parse one value for a field: integers (decimal) for len/kp/kc, times
 * through vs_parse_time_ns() otherwise. -EINVAL on bad text, -ERANGE when
 * an integer does not fit an unsigned int or a time exceeds 1e15 ns.
 */
int vs_param_parse(const struct vs_param_field *f, const char *text,
		   double *value);

/*
 * Set / read a field. Setting an integer field to a value that is not a
 * whole number in [0, UINT_MAX] returns -EINVAL; "y" sets yp and yc and
 * reads back yc (they are equal when set through "y"); "poll" likewise
 * sets pp and pc and reads back pc.
 */
int vs_param_set(struct vs_params *p, const struct vs_param_field *f,
		 double value);
double vs_param_get(const struct vs_params *p, const struct vs_param_field *f);

/* Longest sweep accepted: a curve, not a data dump. */
#define VS_SWEEP_MAX_POINTS 100000u

/*
 * "param=start:end:step": points start, start+step, ... up to end
 * (inclusive within a 1e-9 relative tolerance, so 200ns:3us:100ns ends at
 * 3us). A step written "x1.5" is geometric (start, 1.5*start, ...), handy for
 * sleep lengths over decades. start <= end and step > 0 (factor > 1) are
 * required.
 */
struct vs_sweep {
	const struct vs_param_field *field;
	double start, end, step;
	int geometric;		/* step is a factor */
	unsigned int npoints;
};

/*
 * Parse a sweep spec. On error returns -EINVAL (or -ERANGE, -E2BIG for
 * too many points) and, if why is non-NULL, points it at a static
 * description of what is wrong ("unknown parameter", ...).
 */
int vs_sweep_parse(const char *spec, struct vs_sweep *sw, const char **why);

/* The i-th point (0 <= i < npoints); integers are rounded to whole. */
double vs_sweep_value(const struct vs_sweep *sw, unsigned int i);

#endif
