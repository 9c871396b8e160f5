// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "core/latstats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double vs_percentile_sorted(const double *sorted, size_t n, double p)
{
	double rank, frac;
	size_t lo;

	if (!sorted || !n || !(p >= 0 && p <= 100))
		return NAN;
	rank = p / 100.0 * (double)(n - 1);
	lo = (size_t)rank;
	if (lo >= n - 1)
		return sorted[n - 1];
	frac = rank - (double)lo;
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

int vs_latstats_compute(double *v, size_t n, struct vs_latstats *st)
{
	double sum = 0;
	size_t i;

	if (!st || (n && !v))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (isnan(v[i]))
			return -EINVAL;
		sum += v[i];
	}
	st->n = n;
	if (!n) {
		st->mean = st->min = st->max = NAN;
		st->p50 = st->p90 = st->p99 = NAN;
		return 0;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	st->mean = sum / (double)n;
	st->min = v[0];
	st->max = v[n - 1];
	st->p50 = vs_percentile_sorted(v, n, 50);
	st->p90 = vs_percentile_sorted(v, n, 90);
	st->p99 = vs_percentile_sorted(v, n, 99);
	return 0;
}

double vs_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
