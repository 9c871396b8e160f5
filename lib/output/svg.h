/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_SVG_H
#define VS_SVG_H

/*
 * Self-contained SVG charts for reports: axes with ticks, line/point/step
 * series, shaded x-bands (regime regions), reference lines (Dmax) and bars
 * (histograms). No JavaScript, no external fonts or files. Each series is
 * a <g class="series" data-series="NAME"> so tests can find it.
 */

#include <stdbool.h>
#include <stdio.h>

enum vs_series_style {
	VS_SERIES_LINE,
	VS_SERIES_POINTS,
	VS_SERIES_BARS,
};

struct vs_chart;

struct vs_chart *vs_chart_new(const char *title, const char *xlabel,
			      const char *ylabel);
void vs_chart_free(struct vs_chart *c);
void vs_chart_set_log(struct vs_chart *c, bool logx, bool logy);

/* Data is copied. NaN points are skipped (a gap in a line). -ENOMEM,
 * -EINVAL for n == 0. */
int vs_chart_add_series(struct vs_chart *c, const char *name,
			enum vs_series_style style, const double *xs,
			const double *ys, unsigned int n);
/* Shade x in [x0, x1] with a label (e.g. a regime name). */
int vs_chart_add_band(struct vs_chart *c, double x0, double x1,
		      const char *label);
/* Horizontal (horizontal=true, at y) or vertical reference line. */
int vs_chart_add_rule(struct vs_chart *c, bool horizontal, double at,
		      const char *label);

/* Write the <svg> element (width x height px). -EIO on a write error,
 * -EDOM when no series has a finite point. */
int vs_chart_render(const struct vs_chart *c, FILE *out, int width, int height);

/*
 * A square heat map of an n x n matrix (row-major, NaN: empty cell), on a
 * log colour scale from the smallest to the largest finite value, with
 * the row and column labels, a legend and one <title> per cell. A cell
 * whose `alt` value is finite has two values (value and alt, such as the
 * two modes of an unstable round trip): it is split diagonally, one half
 * per value. The cells are in <g class="series" data-series="NAME">,
 * each <rect> with data-row, data-col and data-value. -EDOM when no cell
 * is finite, -EIO on a write error.
 */
int vs_svg_heatmap(FILE *out, const char *title, const char *name,
		   const char *const *labels, unsigned int n, const double *value,
		   const double *alt, const char *unit);

/* Escape text for HTML/SVG content and attributes. */
void vs_html_escape(FILE *out, const char *text);

#endif
