// SPDX-License-Identifier: GPL-2.0-only
/* Prometheus text exposition writer (see prom.h for the rules it keeps). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/prom.h"

struct vs_prom {
	char *buf;
	size_t len, cap;
	char **families;	/* names written, to refuse a second one */
	unsigned int n_families, cap_families;
	bool open;		/* a family is started */
	enum vs_prom_type type;	/* ... of this type */
	int err;
};

static const char *const type_names[] = {
	[VS_PROM_COUNTER] = "counter",
	[VS_PROM_GAUGE] = "gauge",
	[VS_PROM_UNTYPED] = "untyped",
	[VS_PROM_SUMMARY] = "summary",
	[VS_PROM_HISTOGRAM] = "histogram",
};

struct vs_prom *vs_prom_new(void)
{
	return calloc(1, sizeof(struct vs_prom));
}

void vs_prom_reset(struct vs_prom *p)
{
	unsigned int i;

	for (i = 0; i < p->n_families; i++)
		free(p->families[i]);
	p->n_families = 0;
	p->len = 0;
	if (p->buf)
		p->buf[0] = '\0';
	p->open = false;
	p->err = 0;
}

void vs_prom_free(struct vs_prom *p)
{
	if (!p)
		return;
	vs_prom_reset(p);
	free(p->families);
	free(p->buf);
	free(p);
}

static int grow(struct vs_prom *p, size_t need)
{
	size_t cap = p->cap ? p->cap : 4096;
	char *b;

	if (p->len + need + 1 <= p->cap)
		return 0;
	while (cap < p->len + need + 1)
		cap *= 2;
	b = realloc(p->buf, cap);
	if (!b)
		return -ENOMEM;
	p->buf = b;
	p->cap = cap;
	return 0;
}

static void put(struct vs_prom *p, const char *s, size_t n)
{
	if (p->err)
		return;
	p->err = grow(p, n);
	if (p->err)
		return;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void puts_(struct vs_prom *p, const char *s)
{
	put(p, s, strlen(s));
}

/* `quote`: label values escape the double quote too, HELP text does not. */
static void put_escaped(struct vs_prom *p, const char *s, bool quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = NULL;

		if (*s == '\\')
			esc = "\\\\";
		else if (*s == '\n')
			esc = "\\n";
		else if (*s == '"' && quote)
			esc = "\\\"";
		if (!esc)
			continue;
		put(p, run, (size_t)(s - run));
		puts_(p, esc);
		run = s + 1;
	}
	put(p, run, (size_t)(s - run));
}

static bool name_char(char c, bool first, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (c == ':')
		return colon;
	return !first && c >= '0' && c <= '9';
}

int vs_prom_metric_name_ok(const char *name)
{
	const char *s;

	if (!name || !*name)
		return 0;
	for (s = name; *s; s++)
		if (!name_char(*s, s == name, true))
			return 0;
	return 1;
}

int vs_prom_label_name_ok(const char *name)
{
	const char *s;

	/* Names starting "__" are reserved for Prometheus itself. */
	if (!name || !*name || !strncmp(name, "__", 2))
		return 0;
	for (s = name; *s; s++)
		if (!name_char(*s, s == name, false))
			return 0;
	return 1;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && !strcmp(s + a - b, tail);
}

int vs_prom_family(struct vs_prom *p, const char *name, enum vs_prom_type type,
		   const char *help)
{
	unsigned int i;
	char *copy;

	if (p->err)
		return p->err;
	if (!vs_prom_metric_name_ok(name) || (unsigned int)type > VS_PROM_HISTOGRAM ||
	    !help || !*help || (type == VS_PROM_COUNTER && !ends_with(name, "_total")))
		return p->err = -EINVAL;
	for (i = 0; i < p->n_families; i++)
		if (!strcmp(p->families[i], name))
			return p->err = -EEXIST;
	if (p->n_families == p->cap_families) {
		unsigned int cap = p->cap_families ? 2 * p->cap_families : 32;
		char **f = realloc(p->families, cap * sizeof(*f));

		if (!f)
			return p->err = -ENOMEM;
		p->families = f;
		p->cap_families = cap;
	}
	copy = strdup(name);
	if (!copy)
		return p->err = -ENOMEM;
	p->families[p->n_families++] = copy;
	p->type = type;
	puts_(p, "# HELP ");
	puts_(p, name);
	puts_(p, " ");
	put_escaped(p, help, false);
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	puts_(p, " ");
	puts_(p, type_names[type]);
	puts_(p, "\n");
	p->open = true;
	return p->err;
}

/* The shortest of %.15g and %.17g that reads back as the same double. */
static void put_number(struct vs_prom *p, double v)
{
	char tmp[40];

	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	puts_(p, " ");
	puts_(p, tmp);
	puts_(p, "\n");
}

static int sample(struct vs_prom *p, const char *suffix,
		  const struct vs_prom_label *labels, unsigned int n, double value)
{
	unsigned int i, j;

	if (p->err)
		return p->err;
	if (!p->open)
		return p->err = -EINVAL;
	for (i = 0; i < n; i++) {
		if (!vs_prom_label_name_ok(labels[i].name) || !labels[i].value)
			return p->err = -EINVAL;
		for (j = 0; j < i; j++)
			if (!strcmp(labels[i].name, labels[j].name))
				return p->err = -EINVAL;
	}
	puts_(p, p->families[p->n_families - 1]);
	puts_(p, suffix);
	for (i = 0; i < n; i++) {
		puts_(p, i ? "," : "{");
		puts_(p, labels[i].name);
		puts_(p, "=\"");
		put_escaped(p, labels[i].value, true);
		puts_(p, "\"");
	}
	if (n)
		puts_(p, "}");
	if (isnan(value))
		puts_(p, " NaN\n");
	else if (isinf(value))
		puts_(p, value > 0 ? " +Inf\n" : " -Inf\n");
	else
		put_number(p, value);
	return p->err;
}

int vs_prom_sample(struct vs_prom *p, const struct vs_prom_label *labels,
		   unsigned int n, double value)
{
	return sample(p, "", labels, n, value);
}

int vs_prom_sample_suffix(struct vs_prom *p, const char *suffix,
			  const struct vs_prom_label *labels, unsigned int n,
			  double value)
{
	if (!p->err && (!p->open || !suffix ||
			(p->type != VS_PROM_SUMMARY && p->type != VS_PROM_HISTOGRAM) ||
			(strcmp(suffix, "_sum") && strcmp(suffix, "_count") &&
			 (p->type != VS_PROM_HISTOGRAM || strcmp(suffix, "_bucket")))))
		p->err = -EINVAL;
	return sample(p, suffix ? suffix : "", labels, n, value);
}

int vs_prom_error(const struct vs_prom *p)
{
	return p->err;
}

const char *vs_prom_text(const struct vs_prom *p, size_t *len)
{
	if (len)
		*len = p->len;
	return p->buf ? p->buf : "";
}
