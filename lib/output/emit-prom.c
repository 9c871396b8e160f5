// SPDX-License-Identifier: GPL-2.0-only
/* The emitter's Prometheus side (emit.h): names from the open levels,
 * labels in force, samples collected and written by family. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "output/emit-impl.h"

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
int emit_label_add(struct emit_sample *s, const char *name, const char *value)
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

struct emit_sample *emit_prom_add(struct vs_emitter *e, const char *key,
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
			emit_fail(e, -ENOMEM);
			return NULL;
		}
		e->samples = p;
		e->cap = cap;
	}
	s = &e->samples[e->nsamples];
	memset(s, 0, sizeof(*s));
	r = prom_name(e, s->name, sizeof(s->name), key, u);
	if (r) {
		emit_fail(e, r);
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
		r = emit_label_add(s, top->map_label, key);
		if (r) {
			emit_fail(e, r);
			return NULL;
		}
	}
	s->value = v;
	e->nsamples++;
	return s;
}

/* PROM: key=value in force for the rest of the current object. */
void emit_label_set(struct vs_emitter *e, const char *key, const char *value)
{
	unsigned int i;

	if (strlen(key) >= sizeof(e->lname[0]) ||
	    strlen(value) >= sizeof(e->lvalue[0])) {
		emit_fail(e, -ENAMETOOLONG);
		return;
	}
	for (i = 0; i < e->nlabels; i++)
		if (!strcmp(e->lname[i], key))
			break;
	/* Two labels of one name are invalid: the inner one wins (a thread's
	 * comm over its VM's) until its object closes. */
	if (i == e->nlabels && e->nlabels == EMIT_LABELS - 2) {
		emit_fail(e, -E2BIG);	/* room kept for a map's and le */
		return;
	}
	snprintf(e->lname[i], sizeof(e->lname[i]), "%s", key);
	snprintf(e->lvalue[i], sizeof(e->lvalue[i]), "%s", value);
	if (i == e->nlabels)
		e->nlabels++;
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

int emit_prom_write(struct vs_emitter *e)
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
