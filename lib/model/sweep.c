// SPDX-License-Identifier: GPL-2.0-only
/* Named parameter fields and "param=start:end:step" sweep specs. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/sweep.h"
#include "core/units.h"

const struct vs_param_field vs_param_fields[] = {
	{ "len", VS_PARAM_UINT, "L, queue slots" },
	{ "wp", VS_PARAM_TIME, "Wp, producer work per item" },
	{ "wc", VS_PARAM_TIME, "Wc, consumer work per item" },
	{ "kp", VS_PARAM_UINT, "kp, items queued before P notifies C" },
	{ "kc", VS_PARAM_UINT, "kc, free slots before C notifies P" },
	{ "np", VS_PARAM_TIME, "Np, cost for P to notify C" },
	{ "nc", VS_PARAM_TIME, "Nc, cost for C to notify P" },
	{ "sp", VS_PARAM_TIME, "Sp, P start-up after a notification" },
	{ "sc", VS_PARAM_TIME, "Sc, C start-up after a notification" },
	{ "yp", VS_PARAM_TIME, "Yp, producer sleep length" },
	{ "yc", VS_PARAM_TIME, "Yc, consumer sleep length" },
	{ "yz", VS_PARAM_TIME, "Yz, CPU cost of one sleep (shortest sleep)" },
	{ "y", VS_PARAM_TIME, "Y, sets Yp and Yc together" },
	{ "pp", VS_PARAM_TIME, "Pp, producer poll budget (hybrid)" },
	{ "pc", VS_PARAM_TIME, "Pc, consumer poll budget (hybrid)" },
	{ "poll", VS_PARAM_TIME, "P, sets Pp and Pc together (hybrid)" },
	{ NULL, 0, NULL },
};

const struct vs_param_field *vs_param_field_find(const char *name)
{
	const struct vs_param_field *f;

	if (!name)
		return NULL;
	if (!strcmp(name, "sleep"))
		name = "y";
	for (f = vs_param_fields; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

const char *vs_param_field_names(void)
{
	static char names[128];
	const struct vs_param_field *f;
	size_t off = 0;

	if (names[0])
		return names;
	for (f = vs_param_fields; f->name; f++)
		off += snprintf(names + off, sizeof(names) - off, "%s%s",
				off ? "," : "", f->name);
	return names;
}

int vs_param_parse(const struct vs_param_field *f, const char *text,
		   double *value)
{
	uint64_t u;
	int err;

	if (f->kind == VS_PARAM_TIME)
		return vs_parse_time_ns(text, value);
	err = vs_parse_u64(text, 0, UINT_MAX, &u);
	if (err)
		return err;
	*value = (double)u;
	return 0;
}

/* Where each named field lives in struct vs_params ("y" is handled apart). */
static const struct {
	const char *name;
	size_t off;
} field_offsets[] = {
	{ "len", offsetof(struct vs_params, len) },
	{ "kp", offsetof(struct vs_params, kp) },
	{ "kc", offsetof(struct vs_params, kc) },
	{ "wp", offsetof(struct vs_params, wp) },
	{ "wc", offsetof(struct vs_params, wc) },
	{ "np", offsetof(struct vs_params, np) },
	{ "nc", offsetof(struct vs_params, nc) },
	{ "sp", offsetof(struct vs_params, sp) },
	{ "sc", offsetof(struct vs_params, sc) },
	{ "yp", offsetof(struct vs_params, yp) },
	{ "yc", offsetof(struct vs_params, yc) },
	{ "yz", offsetof(struct vs_params, yz) },
	{ "pp", offsetof(struct vs_params, pp) },
	{ "pc", offsetof(struct vs_params, pc) },
};

static long field_offset(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(field_offsets) / sizeof(field_offsets[0]); i++)
		if (!strcmp(field_offsets[i].name, name))
			return (long)field_offsets[i].off;
	return -1;
}

int vs_param_set(struct vs_params *p, const struct vs_param_field *f,
		 double value)
{
	long off;

	if (!p || !f || isnan(value))
		return -EINVAL;
	if (!strcmp(f->name, "y")) {
		p->yp = p->yc = value;
		return 0;
	}
	if (!strcmp(f->name, "poll")) {
		p->pp = p->pc = value;
		return 0;
	}
	off = field_offset(f->name);
	if (off < 0)
		return -EINVAL;
	if (f->kind == VS_PARAM_UINT) {
		if (value < 0 || value > UINT_MAX || value != floor(value))
			return -EINVAL;
		*(unsigned int *)((char *)p + off) = (unsigned int)value;
	} else {
		*(double *)((char *)p + off) = value;
	}
	return 0;
}

double vs_param_get(const struct vs_params *p, const struct vs_param_field *f)
{
	long off = field_offset(!strcmp(f->name, "y") ? "yc" :
				!strcmp(f->name, "poll") ? "pc" : f->name);

	if (off < 0)
		return NAN;
	if (f->kind == VS_PARAM_UINT)
		return *(const unsigned int *)((const char *)p + off);
	return *(const double *)((const char *)p + off);
}

/* Split "a:b:c" in place into three non-empty parts. */
static int split3(char *s, char **a, char **b, char **c)
{
	char *p1 = strchr(s, ':'), *p2;

	if (!p1)
		return -EINVAL;
	p2 = strchr(p1 + 1, ':');
	if (!p2 || strchr(p2 + 1, ':'))
		return -EINVAL;
	*p1 = *p2 = '\0';
	*a = s;
	*b = p1 + 1;
	*c = p2 + 1;
	return (**a && **b && **c) ? 0 : -EINVAL;
}

int vs_sweep_parse(const char *spec, struct vs_sweep *sw, const char **why)
{
	char buf[256], *eq, *a, *b, *c;
	const char *dummy;
	double n;
	int err;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!spec || strlen(spec) >= sizeof(buf)) {
		*why = "expected PARAM=START:END:STEP";
		return -EINVAL;
	}
	strcpy(buf, spec);
	eq = strchr(buf, '=');
	if (!eq) {
		*why = "expected PARAM=START:END:STEP";
		return -EINVAL;
	}
	*eq = '\0';
	memset(sw, 0, sizeof(*sw));
	sw->field = vs_param_field_find(buf);
	if (!sw->field) {
		*why = "unknown parameter";
		return -EINVAL;
	}
	if (split3(eq + 1, &a, &b, &c)) {
		*why = "expected PARAM=START:END:STEP";
		return -EINVAL;
	}
	err = vs_param_parse(sw->field, a, &sw->start);
	if (!err)
		err = vs_param_parse(sw->field, b, &sw->end);
	if (err == -EDOM) {
		*why = "start and end need a unit (300ns, 2us, 1.5ms; only 0 goes without)";
		return -EINVAL;
	}
	if (err) {
		*why = sw->field->kind == VS_PARAM_UINT ?
		       "start and end must be non-negative integers" :
		       "start and end must be times (300ns, 2us, 1.5ms, 1s)";
		return err;
	}
	if (c[0] == 'x') {
		sw->geometric = 1;
		err = vs_parse_double(c + 1, 1.0, 1e6, &sw->step);
		if (err || sw->step <= 1.0) {
			*why = "a geometric step must be a factor above 1 (x1.5)";
			return -EINVAL;
		}
	} else {
		err = vs_param_parse(sw->field, c, &sw->step);
		if (err == -EDOM) {
			*why = "step needs a unit (100ns, 1us; or xFACTOR)";
			return -EINVAL;
		}
		if (err || !(sw->step > 0)) {
			*why = sw->field->kind == VS_PARAM_UINT ?
			       "step must be a positive integer (or xFACTOR)" :
			       "step must be a positive time (or xFACTOR)";
			return -EINVAL;
		}
	}
	if (sw->start > sw->end) {
		*why = "start is above end";
		return -EINVAL;
	}
	if (sw->geometric) {
		if (!(sw->start > 0)) {
			*why = "a geometric sweep needs start above 0";
			return -EINVAL;
		}
		n = floor(log(sw->end / sw->start) / log(sw->step) + 1e-9) + 1;
	} else {
		n = floor((sw->end - sw->start) / sw->step + 1e-9) + 1;
	}
	if (!(n >= 1) || n > VS_SWEEP_MAX_POINTS) {
		*why = "too many points (at most 100000)";
		return -E2BIG;
	}
	sw->npoints = (unsigned int)n;
	return 0;
}

double vs_sweep_value(const struct vs_sweep *sw, unsigned int i)
{
	double v;

	if (sw->geometric)
		v = sw->start * pow(sw->step, i);
	else
		v = sw->start + i * sw->step;
	/* Accumulated rounding must not push the last point past end. */
	if (v > sw->end)
		v = sw->end;
	if (sw->field->kind == VS_PARAM_UINT)
		v = round(v);
	return v;
}
