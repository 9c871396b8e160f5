/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_OUTPUT_EMIT_IMPL_H
#define VS_OUTPUT_EMIT_IMPL_H

/*
 * The emitter's state, shared by emit.c (the walk: levels, text, JSON) and
 * emit-prom.c (Prometheus names, labels, samples and their families).
 * Nothing outside these two files includes it.
 */

#include <stdio.h>

#include "core/json.h"
#include "output/emit.h"
#include "output/prom.h"

#define EMIT_DEPTH 8
#define EMIT_LABELS 10		/* in force, plus a map's and a bucket's */
#define EMIT_NAME 128

struct emit_level {
	json_t *json;			/* JSON mode: the object or array */
	const char *key;		/* NULL: array element or root */
	int is_array;
	int unnamed;			/* a series: key not in Prometheus names */
	const char *map_label;		/* a map: its members' label name */
	const char *label;		/* text label, a map family's HELP */
	unsigned int nlabels;		/* labels in force at entry ... */
	char lvalue[EMIT_LABELS][EMIT_NAME];	/* ... and their values */
};

/* A Prometheus sample waiting for vs_emit_finish(). */
struct emit_sample {
	char name[EMIT_NAME];		/* the family */
	const char *suffix;		/* "", or a histogram's _bucket/_sum/_count */
	char help[EMIT_NAME];
	enum vs_prom_type type;
	unsigned int nlabels;
	char lname[EMIT_LABELS][32];
	char lvalue[EMIT_LABELS][EMIT_NAME];
	double value;
};

struct vs_emitter {
	enum vs_emit_mode mode;
	FILE *out;
	const char *prefix;
	int err;
	unsigned int depth;
	struct emit_level lv[EMIT_DEPTH];
	json_t *root;
	int borrowed;			/* root is the caller's */
	struct vs_prom *into;		/* PROM: the caller's document */
	/* PROM: labels in force (strings written so far, scoped by level). */
	unsigned int nlabels;
	char lname[EMIT_LABELS][32];
	char lvalue[EMIT_LABELS][EMIT_NAME];
	struct emit_sample *samples;
	size_t nsamples, cap;
};

/* What a call's unit does to its Prometheus name: the JSON key's tag is
 * dropped and the base-unit suffix put on (unless already there). */
struct emit_unit {
	const char *tag;		/* the JSON key's unit, dropped */
	const char *suffix;		/* the Prometheus one, added */
};

static inline void emit_fail(struct vs_emitter *e, int err)
{
	if (!e->err)
		e->err = err;
}

/* A sample of the family key names under the levels open now, with the
 * labels in force (and a map's member label); NULL after an error. */
struct emit_sample *emit_prom_add(struct vs_emitter *e, const char *key,
				  const char *label, const struct emit_unit *u,
				  enum vs_prom_type type, double v);
/* One more label on a sample (a histogram bucket's le). */
int emit_label_add(struct emit_sample *s, const char *name, const char *value);
/* key=value in force for the rest of the current object. */
void emit_label_set(struct vs_emitter *e, const char *key, const char *value);
/* The collected samples, family by family, into e->into or e->out. */
int emit_prom_write(struct vs_emitter *e);

#endif
