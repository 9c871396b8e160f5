// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/units.h"

static const struct {
	const char *suffix;
	double scale;
} time_units[] = {
	{ "ns", 1.0 },
	{ "us", 1e3 },
	{ "ms", 1e6 },
	{ "s", 1e9 },
	{ "m", 60e9 },
	{ "min", 60e9 },	/* what people write for minutes */
	{ "h", 3600e9 },
};

/* strtod() accepts leading blanks, signs, "inf", "nan" and hex floats: none
 * of them is a time a user means, so only digits and one '.' get through. */
static size_t plain_number_span(const char *s)
{
	size_t i = 0, digits = 0, dots = 0;

	for (; s[i]; i++) {
		if (isdigit((unsigned char)s[i]))
			digits++;
		else if (s[i] == '.' && !dots)
			dots++;
		else
			break;
	}
	return digits ? i : 0;
}

int vs_parse_time_ns(const char *text, double *ns)
{
	const char *unit;
	size_t span, i;
	double v, scale = 0;
	char *end;

	if (!text || !*text)
		return -EINVAL;
	span = plain_number_span(text);
	if (!span)
		return -EINVAL;
	unit = text + span;
	if (*unit) {
		for (i = 0; i < sizeof(time_units) / sizeof(time_units[0]); i++)
			if (!strcmp(unit, time_units[i].suffix))
				scale = time_units[i].scale;
		if (!scale)
			return -EINVAL;
	}
	errno = 0;
	v = strtod(text, &end);
	if (errno || end != unit || !isfinite(v))
		return -EINVAL;
	/* A bare number was once nanoseconds everywhere, silently: "bench
	 * --duration 2" ran 2 ns. Only 0 means the same in every unit. */
	if (!scale) {
		if (v != 0)
			return -EDOM;
		scale = 1.0;
	}
	v *= scale;
	/* What vs_format_time() prints of a time in range parses back: its four
	 * digits may round the largest times up ("277.8h" for 277.76h), which
	 * reads as the largest time. */
	if (v > VS_TIME_MAX_NS * (1 + 5e-4))
		return -ERANGE;
	*ns = v < VS_TIME_MAX_NS ? v : VS_TIME_MAX_NS;
	return 0;
}

int vs_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!text || !*text || !(isdigit((unsigned char)text[0])))
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int vs_parse_double(const char *text, double min, double max, double *out)
{
	double v;
	char *end;

	if (!text || !*text || isspace((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	v = strtod(text, &end);
	if (errno || *end || !isfinite(v))
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* v rounded to four significant digits, so that the unit is chosen after
 * rounding: 999.96ns is "1us", not "1000ns". */
static double round4(double v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%.3e", v);
	return strtod(tmp, NULL);
}

static const char *format_scaled(double v, double scale, const char *unit,
				 char *buf, size_t len)
{
	double x = v / scale;

	/* %.4g would switch to an exponent from 10000 on (hours, G/s). */
	if (fabs(x) >= 1e4)
		snprintf(buf, len, "%.0f%s", x, unit);
	else
		snprintf(buf, len, "%.4g%s", x, unit);
	return buf;
}

const char *vs_format_time(double ns, char *buf, size_t len)
{
	double a;

	if (isnan(ns))
		return snprintf(buf, len, "-"), buf;
	if (isinf(ns))
		return snprintf(buf, len, ns < 0 ? "-inf" : "inf"), buf;
	ns = round4(ns);
	a = fabs(ns);
	if (a < 1e3)
		return format_scaled(ns, 1, "ns", buf, len);
	if (a < 1e6)
		return format_scaled(ns, 1e3, "us", buf, len);
	if (a < 1e9)
		return format_scaled(ns, 1e6, "ms", buf, len);
	if (a < 60e9)
		return format_scaled(ns, 1e9, "s", buf, len);
	if (a < 3600e9)
		return format_scaled(ns, 60e9, "m", buf, len);
	return format_scaled(ns, 3600e9, "h", buf, len);
}

const char *vs_format_count(double v, char *buf, size_t len)
{
	double a;

	if (isnan(v))
		return snprintf(buf, len, "-"), buf;
	if (isinf(v))
		return snprintf(buf, len, v < 0 ? "-inf" : "inf"), buf;
	v = round4(v);
	a = fabs(v);
	if (a < 1e3)
		return format_scaled(v, 1, "", buf, len);
	if (a < 1e6)
		return format_scaled(v, 1e3, "k", buf, len);
	if (a < 1e9)
		return format_scaled(v, 1e6, "M", buf, len);
	return format_scaled(v, 1e9, "G", buf, len);
}

const char *vs_format_rate(double per_s, char *buf, size_t len)
{
	size_t n;

	vs_format_count(per_s, buf, len);
	n = strlen(buf);
	if (isfinite(per_s) && n + 2 < len)
		memcpy(buf + n, "/s", 3);
	return buf;
}
