// SPDX-License-Identifier: GPL-2.0-only
/* The writers every renderer of the report uses: one call, HTML or
 * Markdown by the output context, and the helpers that feed charts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "output/report-impl.h"
#include "output/svg.h"

/* ---- small writers shared by HTML and Markdown ------------------------ */

void rpt_text(struct out *o, const char *s)
{
	if (o->fmt == VS_REPORT_HTML)
		vs_html_escape(o->f, s);
	else
		for (; s && *s; s++)
			fputs(*s == '|' ? "\\|" : (char[2]){ *s, 0 }, o->f);
}

void rpt_heading(struct out *o, int level, const char *s)
{
	if (o->fmt == VS_REPORT_HTML) {
		fprintf(o->f, "<h%d>", level);
		rpt_text(o, s);
		fprintf(o->f, "</h%d>\n", level);
	} else {
		fprintf(o->f, "\n%.*s ", level, "######");
		rpt_text(o, s);
		fputs("\n\n", o->f);
	}
}

void rpt_para(struct out *o, const char *s)
{
	if (o->fmt == VS_REPORT_HTML)
		fputs("<p>", o->f);
	rpt_text(o, s);
	fputs(o->fmt == VS_REPORT_HTML ? "</p>\n" : "\n\n", o->f);
}

void rpt_table_begin(struct out *o, const char *const *cols, unsigned int n)
{
	unsigned int i;

	if (o->fmt == VS_REPORT_HTML) {
		fputs("<table><tr>", o->f);
		for (i = 0; i < n; i++) {
			fputs("<th>", o->f);
			rpt_text(o, cols[i]);
			fputs("</th>", o->f);
		}
		fputs("</tr>\n", o->f);
		return;
	}
	fputs("|", o->f);
	for (i = 0; i < n; i++) {
		fputc(' ', o->f);
		rpt_text(o, cols[i]);
		fputs(" |", o->f);
	}
	fputs("\n|", o->f);
	for (i = 0; i < n; i++)
		fputs(" --- |", o->f);
	fputc('\n', o->f);
}

void rpt_table_row(struct out *o, const char *const *cells, unsigned int n)
{
	unsigned int i;

	fputs(o->fmt == VS_REPORT_HTML ? "<tr>" : "|", o->f);
	for (i = 0; i < n; i++) {
		if (o->fmt == VS_REPORT_HTML) {
			fputs("<td>", o->f);
			rpt_text(o, cells[i] ? cells[i] : "-");
			fputs("</td>", o->f);
		} else {
			fputc(' ', o->f);
			rpt_text(o, cells[i] ? cells[i] : "-");
			fputs(" |", o->f);
		}
	}
	fputs(o->fmt == VS_REPORT_HTML ? "</tr>\n" : "\n", o->f);
}

void rpt_table_end(struct out *o)
{
	fputs(o->fmt == VS_REPORT_HTML ? "</table>\n" : "\n", o->f);
}

/* Charts exist only in HTML; Markdown gets the tables. */
void rpt_chart(struct out *o, struct vs_chart *c)
{
	if (o->fmt == VS_REPORT_HTML && c) {
		fputs("<figure>", o->f);
		vs_chart_render(c, o->f, 720, 380);
		fputs("</figure>\n", o->f);
	}
	vs_chart_free(c);
}

const char *rpt_fmt_num(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.4g", v);
	return buf;
}

/* "name value" pairs of a flat object, e.g. the model's params. */
void rpt_kv_table(struct out *o, const json_t *obj)
{
	static const char *const cols[] = { "parameter", "value" };
	const char *key;
	json_t *v;
	char buf[64];

	if (!json_is_object(obj))
		return;
	rpt_table_begin(o, cols, 2);
	json_object_foreach((json_t *)obj, key, v) {
		const char *cells[2] = { key, buf };

		if (json_is_string(v))
			snprintf(buf, sizeof(buf), "%s", json_string_value(v));
		else if (json_is_number(v))
			snprintf(buf, sizeof(buf), "%g", json_number_value(v));
		else if (json_is_boolean(v))
			snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
		else
			continue;
		rpt_table_row(o, cells, 2);
	}
	rpt_table_end(o);
}

/* Collect a numeric member of each element of an array (NaN when absent);
 * `sub` descends into an object member first (e.g. "effective"). */
double *rpt_column(const json_t *arr, const char *sub, const char *key)
{
	size_t n = json_array_size(arr), i;
	double *v = calloc(n ? n : 1, sizeof(double));
	json_t *el;

	if (!v)
		return NULL;
	json_array_foreach(arr, i, el)
		v[i] = num(sub ? json_object_get(el, sub) : el, key);
	return v;
}

void rpt_add_column_series(struct vs_chart *c, const char *name,
			      enum vs_series_style style, const json_t *arr,
			      const char *xkey, const char *sub, const char *ykey)
{
	double *x = rpt_column(arr, NULL, xkey), *y = rpt_column(arr, sub, ykey);

	if (x && y && json_array_size(arr))
		vs_chart_add_series(c, name, style, x, y, json_array_size(arr));
	free(x);
	free(y);
}

/* Shade runs of equal "regime" members of the points, meeting halfway. */
void rpt_add_regime_bands(struct vs_chart *c, const json_t *points,
			     const char *xkey, const char *regime_key)
{
	size_t n = json_array_size(points), i, j;

	for (i = 0; i < n; i = j) {
		const char *reg = str_or(json_array_get(points, i), regime_key, NULL);
		double lo, hi;

		for (j = i + 1; j < n && reg &&
		     !strcmp(str_or(json_array_get(points, j), regime_key, ""), reg); j++)
			;
		if (!reg)
			continue;
		lo = i ? (num(json_array_get(points, i - 1), xkey) +
			  num(json_array_get(points, i), xkey)) / 2 :
			 num(json_array_get(points, i), xkey);
		hi = j < n ? (num(json_array_get(points, j - 1), xkey) +
			      num(json_array_get(points, j), xkey)) / 2 :
			     num(json_array_get(points, j - 1), xkey);
		vs_chart_add_band(c, lo, hi, reg);
	}
}
