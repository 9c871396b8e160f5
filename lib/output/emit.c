// SPDX-License-Identifier: GPL-2.0-only
/* The emitter's walk (emit.h): levels, text lines and JSON members; the
 * Prometheus samples are emit-prom.c's. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/units.h"
#include "output/emit-impl.h"

static const struct emit_unit U_NONE = { NULL, "" };
static const struct emit_unit U_NS = { "_ns", "_seconds" };
static const struct emit_unit U_S = { "_s", "_seconds" };
static const struct emit_unit U_TOTAL = { NULL, "_total" };
static const struct emit_unit U_NS_TOTAL = { "_ns", "_seconds_total" };
static const struct emit_unit U_RATE = { "_per_s", "_per_second" };
static const struct emit_unit U_RATIO = { "_ratio", "_ratio" };
static const struct emit_unit U_PCT = { "_pct", "_ratio" };

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

struct vs_emitter *vs_emit_new_json(struct json_t *into)
{
	struct vs_emitter *e;

	if (!into)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->mode = VS_EMIT_JSON;
	e->root = into;
	e->borrowed = 1;
	e->lv[0].json = into;
	e->depth = 1;
	return e;
}

struct vs_emitter *vs_emit_new_prom(struct vs_prom *into, const char *prom_prefix)
{
	struct vs_emitter *e;

	if (!into)
		return NULL;
	e = vs_emit_new(VS_EMIT_PROM, NULL, prom_prefix);
	if (e)
		e->into = into;
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
		emit_fail(e, -ENOMEM);
		return;
	}
	if (l->is_array ? json_array_append_new(l->json, v)
			: json_object_set_new(l->json, key, v))
		emit_fail(e, -ENOMEM);
}

static void push(struct vs_emitter *e, const char *key, const char *label,
		 int is_array, int unnamed, const char *map_label)
{
	struct emit_level *l;
	json_t *j = NULL;

	if (e->err)
		return;
	if (e->depth == EMIT_DEPTH) {
		emit_fail(e, -E2BIG);
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
	l->unnamed = unnamed;
	l->map_label = map_label;
	l->label = label ? label : key;
	l->nlabels = e->nlabels;
	if (e->mode == VS_EMIT_PROM)
		memcpy(l->lvalue, e->lvalue, sizeof(l->lvalue));
}

void vs_emit_open(struct vs_emitter *e, const char *key, const char *label)
{
	push(e, key, label, 0, 0, NULL);
}

void vs_emit_open_array(struct vs_emitter *e, const char *key, const char *label)
{
	push(e, key, label, 1, 0, NULL);
}

void vs_emit_open_series(struct vs_emitter *e, const char *key, const char *label)
{
	push(e, key, label, 1, 1, NULL);
}

void vs_emit_open_map(struct vs_emitter *e, const char *key, const char *label,
		      const char *label_name)
{
	if (!label_name || !key) {
		emit_fail(e, -EINVAL);
		return;
	}
	push(e, key, label, 0, 0, label_name);
}

void vs_emit_close(struct vs_emitter *e)
{
	if (e->err)
		return;
	if (e->depth <= 1) {
		emit_fail(e, -EINVAL);
		return;
	}
	e->depth--;
	/* Labels written in the closed object go out of force, and those it
	 * overrode (a thread's comm over its VM's) come back. */
	e->nlabels = e->lv[e->depth].nlabels;
	if (e->mode == VS_EMIT_PROM)
		memcpy(e->lvalue, e->lv[e->depth].lvalue, sizeof(e->lvalue));
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
		emit_prom_add(e, key, label, &U_NS, VS_PROM_GAUGE, ns / 1e9);
		break;
	}
}

static void emit_num(struct vs_emitter *e, const char *key, const char *label,
		     double json, const char *text, const struct emit_unit *u,
		     enum vs_prom_type type, double prom)
{
	if (e->err)
		return;
	switch (e->mode) {
	case VS_EMIT_TEXT:
		text_line(e, label, text);
		break;
	case VS_EMIT_JSON:
		json_put(e, key, vs_json_num(json));
		break;
	case VS_EMIT_PROM:
		emit_prom_add(e, key, label, u, type, prom);
		break;
	}
}

void vs_emit_ns_int(struct vs_emitter *e, const char *key, const char *label,
		    uint64_t ns)
{
	if (e->mode == VS_EMIT_JSON && !e->err) {
		json_put(e, key, json_integer((json_int_t)ns));
		return;
	}
	vs_emit_ns(e, key, label, (double)ns);
}

void vs_emit_seconds(struct vs_emitter *e, const char *key, const char *label,
		     double s)
{
	char b[VS_FMT_LEN];

	emit_num(e, key, label, s, vs_format_time(s * 1e9, b, sizeof(b)), &U_S,
		 VS_PROM_GAUGE, s);
}

/* Integers stay integers in JSON; text and Prometheus take the number. */
static void emit_uint(struct vs_emitter *e, const char *key, const char *label,
		      uint64_t v, const struct emit_unit *u, enum vs_prom_type type)
{
	char b[32];

	if (e->mode == VS_EMIT_JSON && !e->err) {
		json_put(e, key, json_integer((json_int_t)v));
		return;
	}
	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	emit_num(e, key, label, (double)v, b, u, type, (double)v);
}

void vs_emit_counter(struct vs_emitter *e, const char *key, const char *label,
		     uint64_t v)
{
	emit_uint(e, key, label, v, &U_TOTAL, VS_PROM_COUNTER);
}

void vs_emit_ns_counter(struct vs_emitter *e, const char *key, const char *label,
			uint64_t ns)
{
	char b[VS_FMT_LEN];

	if (e->mode == VS_EMIT_JSON && !e->err) {
		json_put(e, key, json_integer((json_int_t)ns));
		return;
	}
	emit_num(e, key, label, (double)ns, vs_format_time((double)ns, b, sizeof(b)),
		 &U_NS_TOTAL, VS_PROM_COUNTER, ns / 1e9);
}

void vs_emit_u64(struct vs_emitter *e, const char *key, const char *label, uint64_t v)
{
	emit_uint(e, key, label, v, &U_NONE, VS_PROM_GAUGE);
}

void vs_emit_rate(struct vs_emitter *e, const char *key, const char *label,
		  double per_s)
{
	char b[VS_FMT_LEN];

	emit_num(e, key, label, per_s, vs_format_rate(per_s, b, sizeof(b)),
		 &U_RATE, VS_PROM_GAUGE, per_s);
}

void vs_emit_ratio(struct vs_emitter *e, const char *key, const char *label,
		   double r)
{
	char b[32];

	if (isfinite(r))
		snprintf(b, sizeof(b), "%.1f%%", r * 100);
	else
		snprintf(b, sizeof(b), "-");
	emit_num(e, key, label, r, b, &U_RATIO, VS_PROM_GAUGE, r);
}

void vs_emit_num(struct vs_emitter *e, const char *key, const char *label, double v)
{
	char b[32];

	snprintf(b, sizeof(b), "%.6g", v);
	emit_num(e, key, label, v, isfinite(v) ? b : "-", &U_NONE, VS_PROM_GAUGE, v);
}

void vs_emit_pct(struct vs_emitter *e, const char *key, const char *label,
		 double pct)
{
	char b[32];

	if (isfinite(pct))
		snprintf(b, sizeof(b), "%.1f%%", pct);
	else
		snprintf(b, sizeof(b), "-");
	emit_num(e, key, label, pct, b, &U_PCT, VS_PROM_GAUGE, pct / 100);
}

void vs_emit_bool(struct vs_emitter *e, const char *key, const char *label, int v)
{
	if (e->mode == VS_EMIT_JSON && !e->err) {
		json_put(e, key, json_boolean(v));
		return;
	}
	emit_num(e, key, label, !!v, v ? "yes" : "no", &U_NONE, VS_PROM_GAUGE, !!v);
}

void vs_emit_str(struct vs_emitter *e, const char *key, const char *label,
		 const char *s)
{
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
		emit_label_set(e, key, s ? s : "");
		break;
	}
}

void vs_emit_id(struct vs_emitter *e, const char *key, const char *label,
		long long id)
{
	char b[24];

	if (e->err)
		return;
	snprintf(b, sizeof(b), "%lld", id);
	switch (e->mode) {
	case VS_EMIT_TEXT:
		text_line(e, label, b);
		break;
	case VS_EMIT_JSON:
		json_put(e, key, json_integer((json_int_t)id));
		break;
	case VS_EMIT_PROM:
		emit_label_set(e, key, b);
		break;
	}
}

/* Slot i's bounds in ns: [2^(i-1), 2^i), slot 0 [0, 1). */
static long long slot_low(unsigned int i)
{
	return i ? 1LL << (i - 1) : 0;
}

static long long slot_high(unsigned int i)
{
	return 1LL << i;
}

static void hist_json(struct vs_emitter *e, const char *key, const uint64_t *slot,
		      unsigned int n)
{
	json_t *o = json_object(), *b = json_array();
	unsigned int i;

	if (!o || !b) {
		json_decref(o);
		json_decref(b);
		emit_fail(e, -ENOMEM);
		return;
	}
	json_object_set_new(o, "unit", json_string("nsecs"));
	for (i = 0; i < n; i++) {
		json_t *x;

		if (!slot[i])
			continue;
		/* the last slot is open above: no high end */
		x = json_pack("{sIsosI}", "low", (json_int_t)slot_low(i),
			      "high", i + 1 == n ? json_null() :
			      json_integer((json_int_t)slot_high(i)),
			      "count", (json_int_t)slot[i]);
		if (!x || json_array_append_new(b, x))
			emit_fail(e, -ENOMEM);
	}
	json_object_set_new(o, "buckets", b);
	json_put(e, key, o);
}

static void hist_prom(struct vs_emitter *e, const char *key, const char *label,
		      const uint64_t *slot, unsigned int n, double sum_ns)
{
	struct emit_sample *s;
	uint64_t cum = 0;
	unsigned int i;
	char le[32];
	int err;

	/* The last slot is open above: it is only in +Inf. */
	for (i = 0; i < n; i++) {
		cum += slot[i];
		if (i + 1 == n)
			snprintf(le, sizeof(le), "+Inf");
		else
			snprintf(le, sizeof(le), "%.15g", slot_high(i) / 1e9);
		s = emit_prom_add(e, key, label, &U_NS, VS_PROM_HISTOGRAM, (double)cum);
		if (!s)
			return;
		s->suffix = "_bucket";
		if ((err = emit_label_add(s, "le", le))) {
			emit_fail(e, err);
			return;
		}
	}
	if (isfinite(sum_ns)) {
		s = emit_prom_add(e, key, label, &U_NS, VS_PROM_HISTOGRAM, sum_ns / 1e9);
		if (!s)
			return;
		s->suffix = "_sum";
	}
	s = emit_prom_add(e, key, label, &U_NS, VS_PROM_HISTOGRAM, (double)cum);
	if (s)
		s->suffix = "_count";
}

void vs_emit_hist(struct vs_emitter *e, const char *key, const char *label,
		  const uint64_t *slot, unsigned int n, double sum_ns)
{
	char lo[VS_FMT_LEN], hi[VS_FMT_LEN];
	unsigned int i;

	if (e->err)
		return;
	if (!n || n > 63) {
		emit_fail(e, -EINVAL);
		return;
	}
	switch (e->mode) {
	case VS_EMIT_TEXT:
		indent(e);
		fprintf(e->out, "%s:\n", label ? label : key);
		for (i = 0; i < n; i++) {
			if (!slot[i])
				continue;
			indent(e);
			fprintf(e->out, "  %s-%s: %llu\n",
				vs_format_time((double)slot_low(i), lo, sizeof(lo)),
				i + 1 == n ? "inf" :
				vs_format_time((double)slot_high(i), hi, sizeof(hi)),
				(unsigned long long)slot[i]);
		}
		break;
	case VS_EMIT_JSON:
		hist_json(e, key, slot, n);
		break;
	case VS_EMIT_PROM:
		hist_prom(e, key, label, slot, n, sum_ns);
		break;
	}
}

int vs_emit_finish(struct vs_emitter *e)
{
	int err;

	if (!e)
		return 0;
	err = e->err;
	if (!err && e->depth != 1)
		err = -EINVAL;	/* an open without its close */
	if (!err && e->mode == VS_EMIT_JSON && !e->borrowed) {
		if (json_dumpf(e->root, e->out, JSON_INDENT(2)) ||
		    fputc('\n', e->out) == EOF)
			err = -EIO;
	}
	if (!err && e->mode == VS_EMIT_PROM)
		err = emit_prom_write(e);
	if (!e->borrowed)
		json_decref(e->root);
	free(e->samples);
	free(e);
	return err;
}
