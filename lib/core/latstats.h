/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_LATSTATS_H
#define VS_LATSTATS_H

#include <stddef.h>

/*
 * Summary of a set of latency (or duration) samples, all in ns. Shared by
 * sleepcost and idlelat. Percentiles interpolate linearly between the two
 * nearest order statistics (Hyndman-Fan type 7, numpy's default), so p50 of
 * {1, 2, 3, 4} is 2.5 and a single sample is every percentile.
 */
struct vs_latstats {
	size_t n;
	double mean, min, max;
	double p50, p90, p99;
};

/*
 * Percentile `p` in [0, 100] of `sorted` (ascending, n > 0). NaN when n is 0
 * or p is out of range.
 */
double vs_percentile_sorted(const double *sorted, size_t n, double p);

/*
 * Sort `v` in place and fill `st`. n == 0 gives n = 0 and NaN everywhere
 * (JSON prints null), never a division by zero. Returns 0, or -EINVAL for
 * NULL pointers or a NaN among the samples.
 */
int vs_latstats_compute(double *v, size_t n, struct vs_latstats *st);

/* Median of v[0..n-1], n > 0 (sorts v in place); NaNs sort unordered, so
 * callers drop them first when they matter. */
double vs_median(double *v, size_t n);

#endif
