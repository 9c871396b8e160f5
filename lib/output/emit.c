// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/units.h"
#include "output/emit.h"
#include "output/prom.h"

#define EMIT_DEPTH 8
#define EMIT_LABELS 8
#define EMIT_NAME 128

struct emit_level {
	json_t *json;			/* JSON mode: the object or array */
	const char *key;		/* NULL: array element or root */
	int is_array;
	unsigned int nlabels;		/* labels in force at entry */
};

/* A Prometheus sample waiting for vs_emit_finish(). */
struct emit_sample {
	char name[EMIT_NAME];
	char help[EMIT_NAME];
	enum vs_prom_type type;
	unsigned int nlabels;
	char lname[EMIT_LABELS][32];
	char lvalue[EMIT_LABELS][EMIT_NAME];
	double value;
	int written;
};

struct vs_emitter {
	enum vs_emit_mode mode;
	FILE *out;
	const char *prefix;
	int err;
	unsigned int depth;
	struct emit_level lv[EMIT_DEPTH];
	json_t *root;
	/* PROM: labels in force (strings written so far, scoped by level). */
	unsigned int nlabels;
	char lname[EMIT_LABELS][32];
	char lvalue[EMIT_LABELS][EMIT_NAME];
	struct emit_sample *samples;
	size_t nsamples, cap;
};

static void fail(struct vs_emitter *e, int err)
{
	if (!e->err)
		e->err = err;
}

struct vs_emitter *vs_emit_new(enum vs_emit_mode mode, FILE *out,
			       const char *prom_prefix)
{
	struct vs_emitter *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->mode = mode;
	e->out = out;
	e->prefix = prom_prefix ? prom_prefix : "virtsync";
	if (mode == VS_EMIT_JSON) {
		e->root = json_object();
		if (!e->root) {
			free(e);
			return NULL;
		}
		e->lv[0].json = e->root;
	}
	e->depth = 1;
	return e;
}

enum vs_emit_mode vs_emit_mode(const struct vs_emitter *e)
{
	return e->mode;
}

int vs_emit_error(const struct vs_emitter *e)
{
	return e->err;
}

static void indent(struct vs_emitter *e)
{
	unsigned int i;

	for (i = 1; i < e->depth; i++)
		fputs("  ", e->out);
}

/* JSON: put v into the current container under key (or append). */
static void json_put(struct vs_emitter *e, const char *key, json_t *v)
{
	struct emit_level *l = &e->lv[e->depth - 1];

	if (!v) {
		fail(e, -ENOMEM);
		return;
	}
	if (l->is_array ? json_array_append_new(l->json, v)
			: json_object_set_new(l->json, key, v))
		fail(e, -ENOMEM);
}

/* Prometheus name: prefix, the keys of the named levels, key, suffix. */
static int prom_name(struct vs_emitter *e, char *buf, size_t len,
		     const char *key, const char *suffix)
{
	size_t n;
	unsigned int i;
	int r;

	r = snprintf(buf, len, "%s", e->prefix);
	if (r < 0 || (size_t)r >= len)
		return -ENAMETOOLONG;
	n = (size_t)r;
	for (i = 1; i < e->depth; i++) {
		if (!e->lv[i].key)
			continue;
		r = snprintf(buf + n, len - n, "_%s", e->lv[i].key);
		if (r < 0 || (size_t)r >= len - n)
			return -ENAMETOOLONG;
		n += (size_t)r;
	}
	r = snprintf(buf + n, len - n, "_%s%s", key, suffix);
	if (r < 0 || (size_t)r >= len - n)
		return -ENAMETOOLONG;
	return 0;
}

static void prom_add(struct vs_emitter *e, const char *key, const char *label,
		     const char *suffix, enum vs_prom_type type, double v)
{
	struct emit_sample *s;
	int r;

	if (e->nsamples == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 32;
		void *p = realloc(e->samples, cap * sizeof(*s));

		if (!p) {
			fail(e, -ENOMEM);
			return;
		}
		e->samples = p;
		e->cap = cap;
	}
	s = &e->samples[e->nsamples];
	memset(s, 0, sizeof(*s));
	r = prom_name(e, s->name, sizeof(s->name), key, suffix);
	if (r) {
		fail(e, r);
		return;
	}
	snprintf(s->help, sizeof(s->help), "%s", label);
	s->type = type;
	s->nlabels = e->nlabels;
	/* Copied: the labels in force change as the walk moves on. */
	memcpy(s->lname, e->lname, sizeof(s->lname));
	memcpy(s->lvalue, e->lvalue, sizeof(s->lvalue));
	s->value = v;
	e->nsamples++;
}

static void push(struct vs_emitter *e, const char *key, const char *label,
		 int is_array)
{
	struct emit_level *l;
	json_t *j = NULL;

	if (e->err)
		return;
	if (e->depth == EMIT_DEPTH) {
		fail(e, -E2BIG);
		return;
	}
	if (e->mode == VS_EMIT_TEXT) {
		indent(e);
		fprintf(e->out, "%s:\n", label ? label : key ? key : "-");
	} else if (e->mode == VS_EMIT_JSON) {
		/* the parent takes the reference; j stays valid as its child */
		j = is_array ? json_array() : json_object();
		json_put(e, key, j);
		if (e->err)
			return;
	}
	l = &e->lv[e->depth++];
	l->json = j;
	l->key = key;
	l->is_array = is_array;
	l->nlabels = e->nlabels;
}

void vs_emit_open(struct vs_emitter *e, const char *key, const char *label)
{
	push(e, key, label, 0);
}

void vs_emit_open_array(struct vs_emitter *e, const char *key, const char *label)
{
	push(e, key, label, 1);
}

void vs_emit_close(struct vs_emitter *e)
{
	if (e->err)
		return;
	if (e->depth <= 1) {
		fail(e, -EINVAL);
		return;
	}
	e->depth--;
	/* Labels written in the closed object go out of force. */
	e->nlabels = e->lv[e->depth].nlabels;
}

static void text_line(struct vs_emitter *e, const char *label, const char *value)
{
	indent(e);
	fprintf(e->out, "%s: %s\n", label, value);
}

void vs_emit_ns(struct vs_emitter *e, const char *key, const char *label, double ns)
{
	char b[VS_FMT_LEN];

	if (e->err)
		return;
	switch (e->mode) {
	case VS_EMIT_TEXT:
		text_line(e, label, vs_format_time(ns, b, sizeof(b)));
		break;
	case VS_EMIT_JSON:
		json_put(e, key, vs_json_num(ns));
		break;
	case VS_EMIT_PROM:
		prom_add(e, key, label, "_seconds", VS_PROM_GAUGE, ns / 1e9);
		break;
	}
}

static void emit_num(struct vs_emitter *e, const char *key, const char *label,
		     double v, const char *text, enum vs_prom_type type)
{
	if (e->err)
		return;
	switch (e->mode) {
	case VS_EMIT_TEXT:
		text_line(e, label, text);
		break;
	case VS_EMIT_JSON:
		json_put(e, key, vs_json_num(v));
		break;
	case VS_EMIT_PROM:
		prom_add(e, key, label, "", type, v);
		break;
	}
}

/* Integers stay integers in JSON; text and Prometheus take the number. */
static void emit_uint(struct vs_emitter *e, const char *key, const char *label,
		      uint64_t v, enum vs_prom_type type)
{
	char b[32];

	if (e->mode == VS_EMIT_JSON && !e->err) {
		json_put(e, key, json_integer((json_int_t)v));
		return;
	}
	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	emit_num(e, key, label, (double)v, b, type);
}

void vs_emit_counter(struct vs_emitter *e, const char *key, const char *label,
		     uint64_t v)
{
	emit_uint(e, key, label, v, VS_PROM_COUNTER);
}

void vs_emit_u64(struct vs_emitter *e, const char *key, const char *label, uint64_t v)
{
	emit_uint(e, key, label, v, VS_PROM_GAUGE);
}

void vs_emit_rate(struct vs_emitter *e, const char *key, const char *label,
		  double per_s)
{
	char b[VS_FMT_LEN];

	emit_num(e, key, label, per_s, vs_format_rate(per_s, b, sizeof(b)),
		 VS_PROM_GAUGE);
}

void vs_emit_ratio(struct vs_emitter *e, const char *key, const char *label,
		   double r)
{
	char b[32];

	if (isfinite(r))
		snprintf(b, sizeof(b), "%.1f%%", r * 100);
	else
		snprintf(b, sizeof(b), "-");
	emit_num(e, key, label, r, b, VS_PROM_GAUGE);
}

void vs_emit_str(struct vs_emitter *e, const char *key, const char *label,
		 const char *s)
{
	unsigned int i;

	if (e->err)
		return;
	switch (e->mode) {
	case VS_EMIT_TEXT:
		text_line(e, label, s ? s : "-");
		break;
	case VS_EMIT_JSON:
		json_put(e, key, s ? json_string(s) : json_null());
		break;
	case VS_EMIT_PROM:
		if (e->nlabels == EMIT_LABELS) {
			fail(e, -E2BIG);
			return;
		}
		if (strlen(key) >= sizeof(e->lname[0]) ||
		    strlen(s ? s : "") >= sizeof(e->lvalue[0])) {
			fail(e, -ENAMETOOLONG);
			return;
		}
		for (i = 0; i < e->nlabels; i++)
			if (!strcmp(e->lname[i], key))
				break;
		/* A key met again in a sibling object replaces its value. */
		snprintf(e->lname[i], sizeof(e->lname[i]), "%s", key);
		snprintf(e->lvalue[i], sizeof(e->lvalue[i]), "%s", s ? s : "");
		if (i == e->nlabels)
			e->nlabels++;
		break;
	}
}

/* Families in order of first appearance, each with all its samples. */
static int prom_write(struct vs_emitter *e)
{
	struct vs_prom *p = vs_prom_new();
	const char *text;
	size_t i, j, len;
	int err;

	if (!p)
		return -ENOMEM;
	for (i = 0; i < e->nsamples; i++) {
		struct emit_sample *s = &e->samples[i];

		if (s->written)
			continue;
		vs_prom_family(p, s->name, s->type, s->help);
		for (j = i; j < e->nsamples; j++) {
			struct emit_sample *t = &e->samples[j];

			struct vs_prom_label l[EMIT_LABELS];
			unsigned int k;

			if (t->written || strcmp(t->name, s->name))
				continue;
			for (k = 0; k < t->nlabels; k++) {
				l[k].name = t->lname[k];
				l[k].value = t->lvalue[k];
			}
			vs_prom_sample(p, l, t->nlabels, t->value);
			t->written = 1;
		}
	}
	err = vs_prom_error(p);
	if (!err) {
		text = vs_prom_text(p, &len);
		if (fwrite(text, 1, len, e->out) != len)
			err = -EIO;
	}
	vs_prom_free(p);
	return err;
}

int vs_emit_finish(struct vs_emitter *e)
{
	int err;

	if (!e)
		return 0;
	err = e->err;
	if (!err && e->depth != 1)
		err = -EINVAL;	/* an open without its close */
	if (!err && e->mode == VS_EMIT_JSON) {
		if (json_dumpf(e->root, e->out, JSON_INDENT(2)) ||
		    fputc('\n', e->out) == EOF)
			err = -EIO;
	}
	if (!err && e->mode == VS_EMIT_PROM)
		err = prom_write(e);
	json_decref(e->root);
	free(e->samples);
	free(e);
	return err;
}
