// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "output/ratio.h"

const char *vs_ratio_what(const char *key)
{
	if (!key)
		return "value";
	/* CPU first: "cpu_ns_per_item" is a time too, but spent, not waited. */
	if (strstr(key, "cpu") && !strstr(key, "fraction"))
		return "CPU";
	if (strstr(key, "idle"))
		return "idle";
	if (strstr(key, "steal"))
		return "steal";
	if (strstr(key, "throughput") || strstr(key, "_ops") || strstr(key, "per_s"))
		return "throughput";
	if (strstr(key, "_ns") || strstr(key, "latency"))
		return "latency";
	return "value";
}

double vs_ratio(double before, double after)
{
	if (!isfinite(before) || !isfinite(after) || before <= 0)
		return NAN;
	return after / before;
}

const char *vs_format_ratio(double before, double after, const char *what, char *buf,
			    size_t len)
{
	double r = vs_ratio(before, after);

	if (!isfinite(r))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2fx %s", r, what ? what : "");
	return buf;
}
