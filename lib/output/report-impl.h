/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_REPORT_IMPL_H
#define VS_REPORT_IMPL_H

/*
 * Inside the report: one renderer per input kind (report-model.c,
 * report-host.c, report-diagnose.c, report-tune.c), all written with the
 * writers of report-write.c, so that one walk of a document renders HTML
 * or Markdown. report.c collects the inputs and calls the renderers.
 */

#include <math.h>
#include <stdio.h>
#include <jansson.h>

#include "output/report.h"
#include "output/svg.h"

/* Output context: the same walk of the inputs renders HTML or Markdown. */
struct out {
	FILE *f;
	enum vs_report_format fmt;
};

/* A member of a document: the string, or `dflt`; the number, or NaN. */
static inline const char *str_or(const json_t *o, const char *key,
				 const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static inline double num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Escaped text, headings, paragraphs and tables in either format. */
void rpt_text(struct out *o, const char *s);
void rpt_heading(struct out *o, int level, const char *s);
void rpt_para(struct out *o, const char *s);
void rpt_table_begin(struct out *o, const char *const *cols, unsigned int n);
void rpt_table_row(struct out *o, const char *const *cells, unsigned int n);
void rpt_table_end(struct out *o);
/* "name value" rows of a flat object, e.g. the model's params. */
void rpt_kv_table(struct out *o, const json_t *obj);
/* "%.4g", or "-" for NaN. */
const char *rpt_fmt_num(double v, char *buf, size_t len);

/* Charts exist only in HTML; Markdown gets the tables. Takes `c`. */
void rpt_chart(struct out *o, struct vs_chart *c);
double *rpt_column(const json_t *arr, const char *sub, const char *key);
void rpt_add_column_series(struct vs_chart *c, const char *name,
			   enum vs_series_style style, const json_t *arr,
			   const char *xkey, const char *sub, const char *ykey);
/* Shade runs of equal "regime" members of the points, meeting halfway. */
void rpt_add_regime_bands(struct vs_chart *c, const json_t *points,
			  const char *xkey, const char *regime_key);

/* The renderers, one per kind. */
void rpt_model(struct out *o, const json_t *doc);
void rpt_sweep(struct out *o, const json_t *doc);
void rpt_bench(struct out *o, const json_t *doc);
void rpt_validate(struct out *o, const json_t *doc);
void rpt_sim(struct out *o, const json_t *doc);
void rpt_sleepcost(struct out *o, const json_t *doc);
void rpt_idlelat(struct out *o, const json_t *doc);
void rpt_topo(struct out *o, const json_t *doc);
void rpt_diagnose(struct out *o, const json_t *doc);
void rpt_tune(struct out *o, const json_t *doc);

#endif
