// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "output/svg.h"

#define MAX_SERIES 16
#define MAX_BANDS 16
#define MAX_RULES 8

/* Colour-blind-safe palette (Okabe-Ito). */
static const char *const palette[] = {
	"#0072B2", "#D55E00", "#009E73", "#CC79A7",
	"#E69F00", "#56B4E9", "#F0E442", "#000000",
};

struct series {
	char *name;
	enum vs_series_style style;
	double *xs, *ys;
	unsigned int n;
};

struct band {
	double x0, x1;
	char *label;
};

struct rule {
	bool horizontal;
	double at;
	char *label;
};

struct vs_chart {
	char *title, *xlabel, *ylabel;
	bool logx, logy;
	struct series series[MAX_SERIES];
	unsigned int n_series;
	struct band bands[MAX_BANDS];
	unsigned int n_bands;
	struct rule rules[MAX_RULES];
	unsigned int n_rules;
};

struct vs_chart *vs_chart_new(const char *title, const char *xlabel,
			      const char *ylabel)
{
	struct vs_chart *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->title = strdup(title ? title : "");
	c->xlabel = strdup(xlabel ? xlabel : "");
	c->ylabel = strdup(ylabel ? ylabel : "");
	if (!c->title || !c->xlabel || !c->ylabel) {
		vs_chart_free(c);
		return NULL;
	}
	return c;
}

void vs_chart_free(struct vs_chart *c)
{
	unsigned int i;

	if (!c)
		return;
	for (i = 0; i < c->n_series; i++) {
		free(c->series[i].name);
		free(c->series[i].xs);
		free(c->series[i].ys);
	}
	for (i = 0; i < c->n_bands; i++)
		free(c->bands[i].label);
	for (i = 0; i < c->n_rules; i++)
		free(c->rules[i].label);
	free(c->title);
	free(c->xlabel);
	free(c->ylabel);
	free(c);
}

void vs_chart_set_log(struct vs_chart *c, bool logx, bool logy)
{
	c->logx = logx;
	c->logy = logy;
}

int vs_chart_add_series(struct vs_chart *c, const char *name,
			enum vs_series_style style, const double *xs,
			const double *ys, unsigned int n)
{
	struct series *s;

	if (!n)
		return -EINVAL;
	if (c->n_series >= MAX_SERIES)
		return -ENOSPC;
	s = &c->series[c->n_series];
	s->name = strdup(name);
	s->xs = malloc(n * sizeof(double));
	s->ys = malloc(n * sizeof(double));
	if (!s->name || !s->xs || !s->ys) {
		free(s->name);
		free(s->xs);
		free(s->ys);
		memset(s, 0, sizeof(*s));
		return -ENOMEM;
	}
	memcpy(s->xs, xs, n * sizeof(double));
	memcpy(s->ys, ys, n * sizeof(double));
	s->n = n;
	s->style = style;
	c->n_series++;
	return 0;
}

int vs_chart_add_band(struct vs_chart *c, double x0, double x1,
		      const char *label)
{
	if (c->n_bands >= MAX_BANDS)
		return -ENOSPC;
	c->bands[c->n_bands].label = strdup(label ? label : "");
	if (!c->bands[c->n_bands].label)
		return -ENOMEM;
	c->bands[c->n_bands].x0 = x0;
	c->bands[c->n_bands].x1 = x1;
	c->n_bands++;
	return 0;
}

int vs_chart_add_rule(struct vs_chart *c, bool horizontal, double at,
		      const char *label)
{
	if (c->n_rules >= MAX_RULES)
		return -ENOSPC;
	c->rules[c->n_rules].label = strdup(label ? label : "");
	if (!c->rules[c->n_rules].label)
		return -ENOMEM;
	c->rules[c->n_rules].horizontal = horizontal;
	c->rules[c->n_rules].at = at;
	c->n_rules++;
	return 0;
}

void vs_html_escape(FILE *out, const char *text)
{
	for (; text && *text; text++) {
		switch (*text) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*text, out);
		}
	}
}

struct axis {
	double lo, hi;
	bool log;
	double px0, px1;	/* pixel range */
};

static double axis_map(const struct axis *a, double v)
{
	double t;

	if (a->log) {
		t = (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
	} else {
		t = (v - a->lo) / (a->hi - a->lo);
	}
	return a->px0 + t * (a->px1 - a->px0);
}

static bool usable(const struct axis *a, double v)
{
	return isfinite(v) && (!a->log || v > 0);
}

/* Round the range out to "nice" numbers (1, 2, 5 x 10^k steps). */
static double nice_step(double span, int ticks)
{
	double raw = span / ticks, mag = pow(10, floor(log10(raw))), f = raw / mag;

	if (f < 1.5)
		return mag;
	if (f < 3.5)
		return 2 * mag;
	if (f < 7.5)
		return 5 * mag;
	return 10 * mag;
}

static void axis_finish(struct axis *a)
{
	double step;

	if (a->log) {
		a->lo = pow(10, floor(log10(a->lo)));
		a->hi = pow(10, ceil(log10(a->hi)));
		if (a->hi <= a->lo)
			a->hi = a->lo * 10;
		return;
	}
	if (a->hi <= a->lo) {
		double pad = a->lo ? fabs(a->lo) * 0.1 : 1;

		a->lo -= pad;
		a->hi += pad;
	}
	step = nice_step(a->hi - a->lo, 5);
	a->lo = floor(a->lo / step) * step;
	a->hi = ceil(a->hi / step) * step;
}

/* Ticks read "2.5k", "12M": exponents are hard to compare at a glance. */
static void fmt_tick(char *buf, size_t len, double v)
{
	static const struct {
		double scale;
		const char *suffix;
	} si[] = { { 1e12, "T" }, { 1e9, "G" }, { 1e6, "M" }, { 1e3, "k" } };
	double a = fabs(v);
	size_t i;

	for (i = 0; a >= 1e4 && i < sizeof(si) / sizeof(si[0]); i++)
		if (a >= si[i].scale) {
			snprintf(buf, len, "%g%s", v / si[i].scale, si[i].suffix);
			return;
		}
	if (a != 0 && a < 1e-2)
		snprintf(buf, len, "%.0e", v);
	else
		snprintf(buf, len, "%g", v);
}

static void draw_ticks(FILE *out, const struct axis *a, bool xaxis,
		       double other_px, double grid_to)
{
	char label[32];
	double v, step;
	int i;

	if (a->log) {
		for (v = a->lo; v <= a->hi * 1.0001; v *= 10) {
			double p = axis_map(a, v);

			fmt_tick(label, sizeof(label), v);
			if (xaxis)
				fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
					"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
					p, other_px, p, grid_to, p, other_px + 14, label);
			else
				fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
					"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
					other_px, p, grid_to, p, other_px - 4, p + 4, label);
		}
		return;
	}
	step = nice_step(a->hi - a->lo, 5);
	for (i = 0, v = a->lo; v <= a->hi + step * 1e-6 && i < 50; i++, v = a->lo + i * step) {
		double p = axis_map(a, v);

		fmt_tick(label, sizeof(label), fabs(v) < step * 1e-9 ? 0 : v);
		if (xaxis)
			fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
				"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
				p, other_px, p, grid_to, p, other_px + 14, label);
		else
			fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
				"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
				other_px, p, grid_to, p, other_px - 4, p + 4, label);
	}
}

static void draw_series(FILE *out, const struct series *s, const char *color,
			const struct axis *ax, const struct axis *ay)
{
	unsigned int i;
	bool pen = false;

	fputs("<g class=\"series\" data-series=\"", out);
	vs_html_escape(out, s->name);
	fprintf(out, "\" data-points=\"%u\">\n", s->n);
	switch (s->style) {
	case VS_SERIES_LINE:
		fprintf(out, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"", color);
		for (i = 0; i < s->n; i++) {
			if (!usable(ax, s->xs[i]) || !usable(ay, s->ys[i])) {
				pen = false;
				continue;
			}
			fprintf(out, "%c%.1f %.1f ", pen ? 'L' : 'M',
				axis_map(ax, s->xs[i]), axis_map(ay, s->ys[i]));
			pen = true;
		}
		fputs("\"/>\n", out);
		break;
	case VS_SERIES_POINTS:
		for (i = 0; i < s->n; i++)
			if (usable(ax, s->xs[i]) && usable(ay, s->ys[i]))
				fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
					axis_map(ax, s->xs[i]), axis_map(ay, s->ys[i]), color);
		break;
	case VS_SERIES_BARS: {
		double w = (ax->px1 - ax->px0) / (s->n ? s->n : 1) * 0.8;
		double base = axis_map(ay, ay->log ? ay->lo : (ay->lo > 0 ? ay->lo : 0));

		for (i = 0; i < s->n; i++) {
			double x, y;

			if (!usable(ax, s->xs[i]) || !usable(ay, s->ys[i]))
				continue;
			x = axis_map(ax, s->xs[i]);
			y = axis_map(ay, s->ys[i]);
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
				x - w / 2, y < base ? y : base, w, fabs(base - y), color);
		}
		break;
	}
	}
	fputs("</g>\n", out);
}

static unsigned int legend_rows(const struct vs_chart *c, double room)
{
	unsigned int i, rows = 1;
	double used = 0;

	for (i = 0; i < c->n_series; i++) {
		double w = 24 + 6.5 * strlen(c->series[i].name);

		if (used + w > room && used > 0) {
			rows++;
			used = 0;
		}
		used += w;
	}
	return rows;
}

int vs_chart_render(const struct vs_chart *c, FILE *out, int width, int height)
{
	struct axis ax = { INFINITY, -INFINITY, c->logx, 64, width - 16.0 };
	struct axis ay = { INFINITY, -INFINITY, c->logy, height - 44.0,
			  44.0 + 14.0 * (legend_rows(c, width - 80.0) - 1) };
	unsigned int i, j;
	bool bars = false;
	double lx, ly;

	for (i = 0; i < c->n_series; i++) {
		for (j = 0; j < c->series[i].n; j++) {
			double x = c->series[i].xs[j], y = c->series[i].ys[j];

			if (!usable(&ax, x) || !usable(&ay, y))
				continue;
			ax.lo = fmin(ax.lo, x);
			ax.hi = fmax(ax.hi, x);
			ay.lo = fmin(ay.lo, y);
			ay.hi = fmax(ay.hi, y);
		}
		bars |= c->series[i].style == VS_SERIES_BARS;
	}
	if (!isfinite(ax.lo) || !isfinite(ay.lo))
		return -EDOM;
	for (i = 0; i < c->n_rules; i++) {
		struct axis *a = c->rules[i].horizontal ? &ay : &ax;

		if (usable(a, c->rules[i].at)) {
			a->lo = fmin(a->lo, c->rules[i].at);
			a->hi = fmax(a->hi, c->rules[i].at);
		}
	}
	/* Throughput-like quantities read best from zero. */
	if (!ay.log && ay.lo > 0 && (bars || ay.lo < ay.hi * 0.5))
		ay.lo = 0;
	if (bars && !ax.log) {
		ax.lo -= 0.5;
		ax.hi += 0.5;
	}
	axis_finish(&ax);
	axis_finish(&ay);

	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">\n",
		width, height, width, height);
	fputs("<title>", out);
	vs_html_escape(out, c->title);
	fputs("</title>\n<style>.grid{stroke:#ddd;stroke-width:1}rect.band{fill-opacity:.12}"
	      "line.rule{stroke:#b00;stroke-dasharray:6 3;stroke-width:1.5}</style>\n", out);
	for (i = 0; i < c->n_bands; i++) {
		double x0 = fmax(c->bands[i].x0, ax.lo), x1 = fmin(c->bands[i].x1, ax.hi);
		double p0, p1;

		if (!usable(&ax, x0) || !usable(&ax, x1) || x1 <= x0)
			continue;
		p0 = axis_map(&ax, x0);
		p1 = axis_map(&ax, x1);
		fputs("<g class=\"band\" data-band=\"", out);
		vs_html_escape(out, c->bands[i].label);
		fprintf(out, "\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" class=\"band\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">",
			p0, ay.px1, p1 - p0, ay.px0 - ay.px1, palette[(i + 4) % 8],
			(p0 + p1) / 2, ay.px1 + 12);
		vs_html_escape(out, c->bands[i].label);
		fputs("</text></g>\n", out);
	}
	draw_ticks(out, &ax, true, ay.px0, ay.px1);
	draw_ticks(out, &ay, false, ax.px0, ax.px1);
	fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n",
		ax.px0, ay.px1, ax.px1 - ax.px0, ay.px0 - ay.px1);
	for (i = 0; i < c->n_series; i++)
		draw_series(out, &c->series[i], palette[i % 8], &ax, &ay);
	for (i = 0; i < c->n_rules; i++) {
		const struct rule *r = &c->rules[i];
		const struct axis *a = r->horizontal ? &ay : &ax;
		double p;

		if (!usable(a, r->at))
			continue;
		p = axis_map(a, r->at);
		fputs("<g class=\"rule\" data-rule=\"", out);
		vs_html_escape(out, r->label);
		if (r->horizontal)
			fprintf(out, "\"><line class=\"rule\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
				"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#b00\">",
				ax.px0, p, ax.px1, p, ax.px1 - 4, p - 4);
		else
			fprintf(out, "\"><line class=\"rule\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
				"<text x=\"%.1f\" y=\"%.1f\" fill=\"#b00\">",
				p, ay.px0, p, ay.px1, p + 4, ay.px1 + 24);
		vs_html_escape(out, r->label);
		fputs("</text></g>\n", out);
	}
	/* Title, axis labels and the legend. */
	fprintf(out, "<text x=\"%d\" y=\"16\" font-size=\"13\" font-weight=\"bold\">", 8);
	vs_html_escape(out, c->title);
	fprintf(out, "</text>\n<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
		(ax.px0 + ax.px1) / 2, height - 6);
	vs_html_escape(out, c->xlabel);
	fprintf(out, "</text>\n<text transform=\"translate(12 %.1f) rotate(-90)\" text-anchor=\"middle\">",
		(ay.px0 + ay.px1) / 2);
	vs_html_escape(out, c->ylabel);
	fputs("</text>\n<g class=\"legend\">", out);
	for (i = 0, lx = ax.px0, ly = 34; i < c->n_series; i++) {
		/* Entries as wide as their names, wrapping at the plot's edge. */
		double w = 24 + 6.5 * strlen(c->series[i].name), x, y;

		if (lx + w > ax.px1 && lx > ax.px0) {
			lx = ax.px0;
			ly += 14;
		}
		x = lx;
		y = ly;
		lx += w;

		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%.1f\">", x, y - 9, palette[i % 8], x + 14, y);
		vs_html_escape(out, c->series[i].name);
		fputs("</text>", out);
	}
	fputs("</g>\n</svg>\n", out);
	return ferror(out) ? -EIO : 0;
}

/* ---- heat map ------------------------------------------------------------ */

/* A sequential colour-blind-safe ramp (viridis, five stops), t in [0, 1]. */
static void ramp(double t, char *buf, size_t len)
{
	static const unsigned char stop[5][3] = {
		{ 68, 1, 84 }, { 59, 82, 139 }, { 33, 145, 140 },
		{ 94, 201, 98 }, { 253, 231, 37 },
	};
	double x = (t < 0 ? 0 : t > 1 ? 1 : t) * 4;
	int i = (int)x < 4 ? (int)x : 3, k;
	double f = x - i;
	unsigned int rgb[3];

	for (k = 0; k < 3; k++)
		rgb[k] = (unsigned int)lround(stop[i][k] + f * (stop[i + 1][k] - stop[i][k]));
	snprintf(buf, len, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

static double heat_t(double v, double lo, double hi)
{
	return hi > lo ? log(v / lo) / log(hi / lo) : 0;
}

int vs_svg_heatmap(FILE *out, const char *title, const char *name,
		   const char *const *labels, unsigned int n, const double *value,
		   const double *alt, const char *unit)
{
	double lo = INFINITY, hi = 0, cell;
	int left = 60, top = 40, size, i, j;
	char col[16], col2[16];

	for (i = 0; i < (int)(n * n); i++) {
		if (isfinite(value[i]) && value[i] > 0) {
			lo = fmin(lo, value[i]);
			hi = fmax(hi, value[i]);
		}
		if (alt && isfinite(alt[i]) && alt[i] > 0) {
			lo = fmin(lo, alt[i]);
			hi = fmax(hi, alt[i]);
		}
	}
	if (!isfinite(lo))
		return -EDOM;
	size = n <= 4 ? 80 * (int)n : n <= 16 ? 40 * (int)n : 640;
	cell = (double)size / n;
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"font-family=\"sans-serif\" font-size=\"11\">\n",
		left + size + 140 > 600 ? left + size + 140 : 600, top + size + 30);
	fprintf(out, "<text x=\"10\" y=\"18\" font-size=\"14\">");
	vs_html_escape(out, title);
	fputs("</text>\n", out);
	for (i = 0; i < (int)n && n <= 48; i++) {
		fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", left - 4,
			top + (i + 0.5) * cell + 4);
		vs_html_escape(out, labels[i]);
		fprintf(out, "</text><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
			left + (i + 0.5) * cell, top - 4);
		vs_html_escape(out, labels[i]);
		fputs("</text>\n", out);
	}
	fputs("<g class=\"series\" data-series=\"", out);
	vs_html_escape(out, name);
	fputs("\">\n", out);
	for (i = 0; i < (int)n; i++)
		for (j = 0; j < (int)n; j++) {
			double v = value[i * n + j], a = alt ? alt[i * n + j] : NAN;
			double x = left + j * cell, y = top + i * cell;

			if (!isfinite(v)) {
				fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
					"fill=\"#eeeeee\"/>\n", x, y, cell, cell);
				continue;
			}
			ramp(heat_t(v, lo, hi), col, sizeof(col));
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\" data-row=\"%d\" data-col=\"%d\" data-value=\"%.4g\"",
				x, y, cell, cell, col, i, j, v);
			if (isfinite(a))
				fprintf(out, " data-alt=\"%.4g\"", a);
			fputs("><title>", out);
			vs_html_escape(out, labels[i]);
			fputs(" - ", out);
			vs_html_escape(out, labels[j]);
			fprintf(out, ": %.4g", v);
			if (isfinite(a))
				fprintf(out, " or %.4g", a);
			fputc(' ', out);
			vs_html_escape(out, unit);
			fputs("</title></rect>\n", out);
			if (isfinite(a)) {
				/* The other mode in the lower-right half. */
				ramp(heat_t(a, lo, hi), col2, sizeof(col2));
				fprintf(out, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\"/>\n",
					x + cell, y, x + cell, y + cell, x, y + cell, col2);
			}
		}
	fputs("</g>\n", out);
	/* Legend: the ramp with its end values. */
	for (i = 0; i < 10; i++) {
		ramp(i / 9.0, col, sizeof(col));
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"16\" height=\"%d\" fill=\"%s\"/>\n",
			left + size + 20, top + (9 - i) * (size / 10), size / 10, col);
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\">%.4g ", left + size + 40, top + 10, hi);
	vs_html_escape(out, unit);
	fprintf(out, "</text><text x=\"%d\" y=\"%d\">%.4g ", left + size + 40, top + size, lo);
	vs_html_escape(out, unit);
	fputs("</text>\n</svg>\n", out);
	return ferror(out) ? -EIO : 0;
}
