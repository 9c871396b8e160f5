/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_RATIO_H
#define VS_RATIO_H

/*
 * Before/after comparisons, one direction everywhere: after divided by
 * before, named by what it measures ("0.12x latency", "3.20x throughput",
 * "0.68x CPU"), so that tune's text, its JSON and report read the same run
 * the same way. Below 1 means less of it after the change.
 */

#include <stddef.h>

/* The column heading over such cells. */
#define VS_RATIO_HEADING "after/before"

/* The quantity a measurement key names ("p98_ns" -> "latency",
 * "throughput_ops" -> "throughput", "cpu_ns_per_item" -> "CPU"). */
const char *vs_ratio_what(const char *key);

/* after / before, or NAN when either is missing or before is not above 0. */
double vs_ratio(double before, double after);

/* "0.12x latency" into buf, or "-" when there is no ratio; returns buf. */
const char *vs_format_ratio(double before, double after, const char *what, char *buf,
			    size_t len);

#endif
