// SPDX-License-Identifier: GPL-2.0-only
/* Percentiles and summaries (lib/core/latstats.h) and CPU lists (cpuonline.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "test.h"
#include "core/cpuonline.h"
#include "core/latstats.h"

static void test_percentile_small(void **state)
{
	double v[] = { 4, 1, 3, 2 };
	struct vs_latstats st;

	__T("compute", vs_latstats_compute(v, 4, &st) == 0);
	__T("sorted in place", v[0] == 1 && v[3] == 4);
	__T("n", st.n == 4);
	__T_REL("p50 interpolates", st.p50, 2.5, 1e-12);
	__T_REL("mean", st.mean, 2.5, 1e-12);
	__T("min/max", st.min == 1 && st.max == 4);
	/* type 7: rank = 0.99 * 3 = 2.97 -> 3 + 0.97 * (4 - 3) */
	__T_REL("p99", st.p99, 3.97, 1e-12);
	__T_REL("p90", st.p90, 3.7, 1e-12);
	__T("p0 is min", vs_percentile_sorted(v, 4, 0) == 1);
	__T("p100 is max", vs_percentile_sorted(v, 4, 100) == 4);
	__T("p101 is NaN", isnan(vs_percentile_sorted(v, 4, 101)));
	__T("p-1 is NaN", isnan(vs_percentile_sorted(v, 4, -1)));
}

static void test_percentile_large(void **state)
{
	struct vs_latstats st;
	size_t i, n = 1001;
	double *v = malloc(n * sizeof(*v));

	__T("malloc", v != NULL);
	/* 0..1000 shuffled deterministically: pN is exactly 10 * N. */
	for (i = 0; i < n; i++)
		v[i] = (double)((i * 7919) % n);
	__T("compute", vs_latstats_compute(v, n, &st) == 0);
	__T_REL("p50", st.p50, 500, 1e-12);
	__T_REL("p99", st.p99, 990, 1e-12);
	__T_REL("mean", st.mean, 500, 1e-12);
	free(v);
}

static void test_degenerate(void **state)
{
	struct vs_latstats st;
	double one = 7, bad[] = { 1, NAN };

	__T("single", vs_latstats_compute(&one, 1, &st) == 0);
	__T("single p50", st.p50 == 7 && st.p99 == 7 && st.mean == 7);
	__T("empty", vs_latstats_compute(NULL, 0, &st) == 0);
	__T("empty n", st.n == 0 && isnan(st.p50) && isnan(st.mean));
	__T("NaN refused", vs_latstats_compute(bad, 2, &st) == -EINVAL);
	__T("NULL stats", vs_latstats_compute(&one, 1, NULL) == -EINVAL);
}

static void test_cpulist(void **state)
{
	__T("single", vs_cpulist_contains("0", 0) == 1);
	__T("range", vs_cpulist_contains("0-3,8,10-11", 2) == 1);
	__T("after comma", vs_cpulist_contains("0-3,8,10-11", 8) == 1);
	__T("last range", vs_cpulist_contains("0-3,8,10-11\n", 11) == 1);
	__T("gap", vs_cpulist_contains("0-3,8,10-11", 9) == 0);
	__T("beyond", vs_cpulist_contains("0-1", 7) == 0);
	__T("empty", vs_cpulist_contains("", 0) == -EINVAL);
	__T("junk", vs_cpulist_contains("0-a", 0) == -EINVAL);
	__T("reversed", vs_cpulist_contains("3-1", 2) == -EINVAL);
	__T("negative", vs_cpulist_contains("-1", 0) == -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile_small),
		cmocka_unit_test(test_percentile_large),
		cmocka_unit_test(test_degenerate),
		cmocka_unit_test(test_cpulist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
