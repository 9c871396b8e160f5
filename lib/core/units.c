// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/units.h"

#define VS_TIME_MAX_NS 1e15

static const struct {
	const char *suffix;
	double scale;
} time_units[] = {
	{ "ns", 1.0 },
	{ "us", 1e3 },
	{ "ms", 1e6 },
	{ "s", 1e9 },
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
	if (!*unit) {
		scale = 1.0;
	} else {
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
	v *= scale;
	if (v > VS_TIME_MAX_NS)
		return -ERANGE;
	*ns = v;
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

const char *vs_format_time(double ns, char *buf, size_t len)
{
	double a = fabs(ns);

	if (isnan(ns))
		snprintf(buf, len, "-");
	else if (a < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (a < 1e6)
		snprintf(buf, len, "%.2fus", ns / 1e3);
	else if (a < 1e9)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
	return buf;
}
