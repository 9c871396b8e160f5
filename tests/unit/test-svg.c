// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "output/svg.h"

static char *render(struct vs_chart *c, int *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*err = vs_chart_render(c, f, 640, 360);
	fclose(f);
	return buf;
}

static void test_series_and_marks(void **state)
{
	double x[] = { 200, 500, 1000, 2000, 2900 }, y[] = { 2100, 2050, NAN, 2000, 2900 };
	struct vs_chart *c = vs_chart_new("T <vs> Wp", "Wp (ns)", "T (ns)");
	char *svg, *p;
	int err, circles = 0;

	__T("new", c != NULL);
	__T("line", vs_chart_add_series(c, "model \"nFP\"", VS_SERIES_LINE, x, y, 5) == 0);
	__T("points", vs_chart_add_series(c, "measured", VS_SERIES_POINTS, x, y, 5) == 0);
	__T("band", vs_chart_add_band(c, 200, 1000, "nFP") == 0);
	__T("rule", vs_chart_add_rule(c, true, 2500, "Dmax") == 0);
	__T("empty series refused", vs_chart_add_series(c, "x", VS_SERIES_LINE, x, y, 0) == -EINVAL);
	svg = render(c, &err);
	__T("rendered", err == 0);
	__T("escaped title", strstr(svg, "T &lt;vs&gt; Wp") != NULL);
	__T("escaped series name", strstr(svg, "data-series=\"model &quot;nFP&quot;\"") != NULL);
	__T("measured series", strstr(svg, "data-series=\"measured\" data-points=\"5\"") != NULL);
	__T("band", strstr(svg, "data-band=\"nFP\"") != NULL);
	__T("rule", strstr(svg, "data-rule=\"Dmax\"") != NULL);
	/* The NaN point is a gap: 4 circles, and the line restarts with M. */
	for (p = svg; (p = strstr(p, "<circle")); p++)
		circles++;
	__T("NaN skipped", circles == 4);
	__T("gap in line", strstr(svg, "M") != strrchr(svg, 'M'));
	__T("no nan in output", !strstr(svg, "nan") && !strstr(svg, "inf"));
	free(svg);
	vs_chart_free(c);
}

static void test_log_and_empty(void **state)
{
	double x[] = { 1e3, 1e4, 1e5, 1e6 }, y[] = { 26e3, 30e3, 1.1e5, 1.0e6 };
	double bad[] = { NAN, NAN };
	struct vs_chart *c = vs_chart_new("sleep", "nominal", "effective");
	char *svg;
	int err;

	vs_chart_set_log(c, true, true);
	__T("series", vs_chart_add_series(c, "slack 1ns", VS_SERIES_LINE, x, y, 4) == 0);
	svg = render(c, &err);
	__T("log render", err == 0 && strstr(svg, ">1M<") != NULL && strstr(svg, ">10k<") != NULL);
	free(svg);
	vs_chart_free(c);

	c = vs_chart_new("empty", "", "");
	vs_chart_add_series(c, "none", VS_SERIES_POINTS, bad, bad, 2);
	svg = render(c, &err);
	__T("nothing to draw", err == -EDOM);
	free(svg);
	vs_chart_free(c);
	vs_chart_free(NULL);
}

static void test_heatmap(void **state)
{
	const char *labels[] = { "0", "1", "<2>" };
	double v[9] = { NAN, 20, 100, 20, NAN, 40, 100, 40, NAN };
	double alt[9] = { NAN, NAN, 400, NAN, NAN, NAN, 400, NAN, NAN };
	double none[4] = { NAN, NAN, NAN, NAN };
	char *buf = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rects = 0, err;

	(void)state;
	err = vs_svg_heatmap(f, "round trips", "c2c", labels, 3, v, alt, "ns");
	fclose(f);
	__T("rendered", err == 0);
	__T("series", strstr(buf, "data-series=\"c2c\"") != NULL);
	for (p = buf; (p = strstr(p, "data-value=")); p++)
		rects++;
	__T("one rect per finite cell", rects == 6);
	__T("two modes in one cell", strstr(buf, "data-row=\"0\" data-col=\"2\" data-value=\"100\" "
						 "data-alt=\"400\"") != NULL);
	__T("escaped label", strstr(buf, "&lt;2&gt;") != NULL);
	__T("legend ends", strstr(buf, ">400 ns<") && strstr(buf, ">20 ns<"));
	__T("no nan", !strstr(buf, "nan"));
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	__T("nothing finite", vs_svg_heatmap(f, "x", "c2c", labels, 2, none, NULL, "ns") == -EDOM);
	fclose(f);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series_and_marks),
		cmocka_unit_test(test_log_and_empty),
		cmocka_unit_test(test_heatmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
