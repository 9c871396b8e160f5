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

/* What a call's unit does to its Prometheus name: the JSON key's tag is
 * dropped and the base-unit suffix put on (unless already there). */
struct emit_unit {
	const char *tag;		/* the JSON key's unit, dropped */
	const char *suffix;		/* the Prometheus one, added */
};

static const struct emit_unit U_NONE = { NULL, "" };
static const struct emit_unit U_NS = { "_ns", "_seconds" };
static const struct emit_unit U_S = { "_s", "_seconds" };
static const struct emit_unit U_TOTAL = { NULL, "_total" };
static const struct emit_unit U_RATE = { "_per_s", "_per_second" };
static const struct emit_unit U_RATIO = { "_ratio", "_ratio" };
static const struct emit_unit U_PCT = { "_pct", "_ratio" };

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
		fail(e, -ENOMEM);
		return;
	}
	if (l->is_array ? json_array_append_new(l->json, v)
			: json_object_set_new(l->json, key, v))
		fail(e, -ENOMEM);
}

static int ends_with(const char *s, size_t n, const char *tail)
{
	size_t t = strlen(tail);

	return n >= t && !memcmp(s + n - t, tail, t);
}

static int put(char *buf, size_t len, size_t *n, const char *s, size_t sl)
{
	if (*n + 1 + sl >= len)
		return -ENAMETOOLONG;
	buf[(*n)++] = '_';
	memcpy(buf + *n, s, sl);
	*n += sl;
	buf[*n] = '\0';
	return 0;
}

/*
 * Prometheus name: prefix, the keys of the named levels (an object key's
 * "_ns" dropped: its members say their unit), then key with its unit tag
 * turned into the base-unit suffix. Inside a map the key is a label, so the
 * map's key takes its place.
 */
static int prom_name(struct vs_emitter *e, char *buf, size_t len,
		     const char *key, const struct emit_unit *u)
{
	const struct emit_level *top = &e->lv[e->depth - 1];
	unsigned int i, last = e->depth - (top->map_label ? 1 : 0);
	size_t n, kl;
	int r;

	r = snprintf(buf, len, "%s", e->prefix);
	if (r < 0 || (size_t)r >= len)
		return -ENAMETOOLONG;
	n = (size_t)r;
	for (i = 1; i < last; i++) {
		const char *k = e->lv[i].key;

		if (!k || e->lv[i].unnamed)
			continue;
		kl = strlen(k);
		if (ends_with(k, kl, "_ns"))
			kl -= 3;
		r = put(buf, len, &n, k, kl);
		if (r)
			return r;
	}
	if (top->map_label) {
		key = top->key;
		kl = strlen(key);
		if (ends_with(key, kl, "_ns"))
			kl -= 3;
	} else {
		kl = strlen(key);
	}
	if (u->tag && ends_with(key, kl, u->tag))
		kl -= strlen(u->tag);
	r = put(buf, len, &n, key, kl);
	if (r)
		return r;
	if (!ends_with(buf, n, u->suffix)) {
		if (n + strlen(u->suffix) >= len)
			return -ENAMETOOLONG;
		strcpy(buf + n, u->suffix);
	}
	return 0;
}

/* One more label on sample s (a map's member, a bucket's le). */
static int label_add(struct emit_sample *s, const char *name, const char *value)
{
	if (s->nlabels == EMIT_LABELS)
		return -E2BIG;
	if (strlen(name) >= sizeof(s->lname[0]) || strlen(value) >= sizeof(s->lvalue[0]))
		return -ENAMETOOLONG;
	snprintf(s->lname[s->nlabels], sizeof(s->lname[0]), "%s", name);
	snprintf(s->lvalue[s->nlabels], sizeof(s->lvalue[0]), "%s", value);
	s->nlabels++;
	return 0;
}

static struct emit_sample *prom_add(struct vs_emitter *e, const char *key,
				    const char *label, const struct emit_unit *u,
				    enum vs_prom_type type, double v)
{
	const struct emit_level *top = &e->lv[e->depth - 1];
	struct emit_sample *s;
	int r;

	if (e->err)
		return NULL;
	if (e->nsamples == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 32;
		void *p = realloc(e->samples, cap * sizeof(*s));

		if (!p) {
			fail(e, -ENOMEM);
			return NULL;
		}
		e->samples = p;
		e->cap = cap;
	}
	s = &e->samples[e->nsamples];
	memset(s, 0, sizeof(*s));
	r = prom_name(e, s->name, sizeof(s->name), key, u);
	if (r) {
		fail(e, r);
		return NULL;
	}
	s->suffix = "";
	/* a map is one family: its own label says what the members are */
	snprintf(s->help, sizeof(s->help), "%s",
		 top->map_label ? top->label : label ? label : key);
	s->type = type;
	s->nlabels = e->nlabels;
	/* Copied: the labels in force change as the walk moves on. */
	memcpy(s->lname, e->lname, sizeof(s->lname));
	memcpy(s->lvalue, e->lvalue, sizeof(s->lvalue));
	if (top->map_label) {
		r = label_add(s, top->map_label, key);
		if (r) {
			fail(e, r);
			return NULL;
		}
	}
	s->value = v;
	e->nsamples++;
	return s;
}

static void push(struct vs_emitter *e, const char *key, const char *label,
		 int is_array, int unnamed, const char *map_label)
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
		fail(e, -EINVAL);
		return;
	}
	push(e, key, label, 0, 0, label_name);
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
		prom_add(e, key, label, &U_NS, VS_PROM_GAUGE, ns / 1e9);
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
		prom_add(e, key, label, u, type, prom);
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

/* PROM: key=value in force for the rest of the current object. */
static void label_set(struct vs_emitter *e, const char *key, const char *value)
{
	unsigned int i;

	if (strlen(key) >= sizeof(e->lname[0]) ||
	    strlen(value) >= sizeof(e->lvalue[0])) {
		fail(e, -ENAMETOOLONG);
		return;
	}
	for (i = 0; i < e->nlabels; i++)
		if (!strcmp(e->lname[i], key))
			break;
	/* Two labels of one name are invalid: the inner one wins (a thread's
	 * comm over its VM's) until its object closes. */
	if (i == e->nlabels && e->nlabels == EMIT_LABELS - 2) {
		fail(e, -E2BIG);	/* room kept for a map's and le */
		return;
	}
	snprintf(e->lname[i], sizeof(e->lname[i]), "%s", key);
	snprintf(e->lvalue[i], sizeof(e->lvalue[i]), "%s", value);
	if (i == e->nlabels)
		e->nlabels++;
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
		label_set(e, key, s ? s : "");
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
		label_set(e, key, b);
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
		fail(e, -ENOMEM);
		return;
	}
	json_object_set_new(o, "unit", json_string("nsecs"));
	for (i = 0; i < n; i++) {
		json_t *x;

		if (!slot[i])
			continue;
		x = json_pack("{sIsIsI}", "low", (json_int_t)slot_low(i),
			      "high", (json_int_t)slot_high(i),
			      "count", (json_int_t)slot[i]);
		if (!x || json_array_append_new(b, x))
			fail(e, -ENOMEM);
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
		s = prom_add(e, key, label, &U_NS, VS_PROM_HISTOGRAM, (double)cum);
		if (!s)
			return;
		s->suffix = "_bucket";
		if ((err = label_add(s, "le", le))) {
			fail(e, err);
			return;
		}
	}
	if (isfinite(sum_ns)) {
		s = prom_add(e, key, label, &U_NS, VS_PROM_HISTOGRAM, sum_ns / 1e9);
		if (!s)
			return;
		s->suffix = "_sum";
	}
	s = prom_add(e, key, label, &U_NS, VS_PROM_HISTOGRAM, (double)cum);
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
		fail(e, -EINVAL);
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

/* Sorting the samples by family, each family's in walk order (qsort_r:
 * watch renders in its server's thread). */
static int by_family(const void *a, const void *b, void *base)
{
	const struct emit_sample *sm = base;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(sm[x].name, sm[y].name);

	return c ? c : x < y ? -1 : x > y;
}

struct emit_family {
	size_t first, start, n;		/* first sample; its run in the order */
};

static int by_first(const void *a, const void *b)
{
	const struct emit_family *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/*
 * Families in order of first appearance, each with all its samples: sorted
 * rather than searched, since a scrape of many VMs holds thousands of
 * samples (histograms of 36 buckets each).
 */
static int prom_families(struct vs_emitter *e, struct vs_prom *p)
{
	size_t *order = NULL, i, j, nf = 0;
	struct emit_family *f = NULL;
	int err;

	if (!e->nsamples)
		return vs_prom_error(p);
	order = malloc(e->nsamples * sizeof(*order));
	f = malloc(e->nsamples * sizeof(*f));
	if (!order || !f) {
		free(order);
		free(f);
		return -ENOMEM;
	}
	for (i = 0; i < e->nsamples; i++)
		order[i] = i;
	qsort_r(order, e->nsamples, sizeof(*order), by_family, e->samples);
	for (i = 0; i < e->nsamples; i = j) {
		for (j = i + 1; j < e->nsamples &&
		     !strcmp(e->samples[order[j]].name, e->samples[order[i]].name); j++)
			;
		f[nf++] = (struct emit_family){ order[i], i, j - i };
	}
	qsort(f, nf, sizeof(*f), by_first);
	for (i = 0; i < nf; i++) {
		const struct emit_sample *s = &e->samples[f[i].first];

		vs_prom_family(p, s->name, s->type, s->help);
		for (j = f[i].start; j < f[i].start + f[i].n; j++) {
			const struct emit_sample *t = &e->samples[order[j]];
			struct vs_prom_label l[EMIT_LABELS];
			unsigned int k;

			for (k = 0; k < t->nlabels; k++) {
				l[k].name = t->lname[k];
				l[k].value = t->lvalue[k];
			}
			if (*t->suffix)
				vs_prom_sample_suffix(p, t->suffix, l, t->nlabels, t->value);
			else
				vs_prom_sample(p, l, t->nlabels, t->value);
		}
	}
	err = vs_prom_error(p);
	free(order);
	free(f);
	return err;
}

static int prom_write(struct vs_emitter *e)
{
	struct vs_prom *p;
	const char *text;
	size_t len;
	int err;

	if (e->into)
		return prom_families(e, e->into);
	p = vs_prom_new();
	if (!p)
		return -ENOMEM;
	err = prom_families(e, p);
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
	if (!err && e->mode == VS_EMIT_JSON && !e->borrowed) {
		if (json_dumpf(e->root, e->out, JSON_INDENT(2)) ||
		    fputc('\n', e->out) == EOF)
			err = -EIO;
	}
	if (!err && e->mode == VS_EMIT_PROM)
		err = prom_write(e);
	if (!e->borrowed)
		json_decref(e->root);
	free(e->samples);
	free(e);
	return err;
}
