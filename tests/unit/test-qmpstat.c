// SPDX-License-Identifier: GPL-2.0-only
/* lib/qmpstat: per-vCPU deltas joined by QOM path and cpu index. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "sources/qmpstat.h"

static void vcpu(struct vs_qmp_sample *s, int i, int idx, int tid, const char *path)
{
	s->vcpus[i].cpu_index = idx;
	s->vcpus[i].thread_id = tid;
	snprintf(s->vcpus[i].qom_path, sizeof(s->vcpus[i].qom_path), "%s", path);
	snprintf(s->stats[i].qom_path, sizeof(s->stats[i].qom_path), "%s", path);
}

static void test_rows(void **state)
{
	struct vs_qmp_vcpu_stats sa[2] = { 0 }, sb[2] = { 0 };
	struct vs_qmp_vcpu va[2], vb[2];
	struct vs_qmp_sample a = { .time_ns = 1000000000, .vcpus = va, .n_vcpus = 2,
				   .stats = sa, .n_stats = 2 };
	struct vs_qmp_sample b = { .time_ns = 3000000000, .vcpus = vb, .n_vcpus = 2,
				   .stats = sb, .n_stats = 2 };
	struct vs_qmp_vcpu_row *r;
	int n;

	/* the stats come back in another order than the vCPUs */
	vcpu(&a, 0, 1, 11, "/machine/unattached/device[2]");
	vcpu(&a, 1, 0, 10, "/machine/unattached/device[0]");
	vcpu(&b, 0, 0, 10, "/machine/unattached/device[0]");
	vcpu(&b, 1, 1, 11, "/machine/unattached/device[2]");
	sa[1].exits = 100;			/* vCPU 0 */
	sb[0].exits = 4100;
	sa[1].halt_attempted_poll = 10;
	sb[0].halt_attempted_poll = 30;
	sa[1].halt_successful_poll = 5;
	sb[0].halt_successful_poll = 20;
	sb[0].halt_wait_ns = 500000000;
	/* vCPU 0: 5 waits in 2^26..2^27 ns (67-134 ms) make 500 ms: fits */
	sa[1].halt_wait_hist[27] = 2;
	sb[0].halt_wait_hist[27] = 7;
	sb[1].exits = 7;			/* vCPU 1, from 0 */
	sb[1].halt_wait_ns = 1000000000;	/* 1 s of waits in ... */
	sb[1].halt_wait_hist[5] = 30;		/* ... 30 waits under 32 ns */
	n = vs_qmp_sample_rows(&a, &b, &r);
	__T("two rows", n == 2);
	__T("sorted by index", r[0].cpu_index == 0 && r[1].cpu_index == 1);
	__T("tid", r[0].thread_id == 10 && r[1].thread_id == 11);
	__T("exit delta", r[0].exits == 4000 && r[1].exits == 7);
	__T_REL("exits per second", r[0].exits_per_s, 2000, 1e-12);
	__T("polls", r[0].polls_ok == 15 && r[0].polls_fail == 5);
	__T_REL("success pct", r[0].poll_ok_pct, 75, 1e-12);
	__T("no polls: NaN", isnan(r[1].poll_ok_pct));
	__T_REL("wait share", r[0].wait_share, 0.25, 1e-12);
	__T("wait histogram delta", r[0].wait_hist[27] == 5 && r[1].wait_hist[5] == 30);
	__T("a histogram that holds the total fits", r[0].wait_hist_fits);
	__T("one that cannot hold it does not", !r[1].wait_hist_fits);
	free(r);

	/* totals (Prometheus counters): the counts since the vCPU was
	 * created, the rates still the interval's */
	n = vs_qmp_sample_totals(&a, &b, &r);
	__T("totals: two rows", n == 2 && r[0].cpu_index == 0);
	__T("exit total", r[0].exits == 4100 && r[1].exits == 7);
	__T("poll totals", r[0].polls_ok == 20 && r[0].polls_fail == 10);
	__T_REL("success pct of the totals", r[0].poll_ok_pct, 200.0 / 3, 1e-12);
	__T("wait histogram total", r[0].wait_hist[27] == 7);
	__T_REL("rate over the interval", r[0].exits_per_s, 2000, 1e-12);
	__T_REL("wait share over the interval", r[0].wait_share, 0.25, 1e-12);
	free(r);

	/* a vCPU only in the later sample has no row; time must move */
	b.n_vcpus = 2;
	a.n_vcpus = 1;
	a.vcpus = &va[1];
	n = vs_qmp_sample_rows(&a, &b, &r);
	__T("one common vCPU", n == 1 && r[0].cpu_index == 0);
	free(r);
	b.time_ns = a.time_ns;
	__T("no time: refused", vs_qmp_sample_rows(&a, &b, &r) == -EINVAL);
}

static void test_hist(void **state)
{
	uint64_t h[VS_QMP_HIST_BUCKETS] = { 0 };

	(void)state;
	__T("empty: no quantile", isnan(vs_qmp_hist_quantile(h, 0.5)));
	__T("empty fits nothing but 0", vs_qmp_hist_fits(h, 0) && !vs_qmp_hist_fits(h, 1));
	h[3] = 1;			/* [4, 8) ns */
	h[10] = 3;			/* [512, 1024) ns */
	__T_REL("p50 is the upper end of its bucket", vs_qmp_hist_quantile(h, 0.5), 1024, 0);
	__T_REL("p25", vs_qmp_hist_quantile(h, 0.25), 8, 0);
	/* sums between 4 + 3*512 and 8 + 3*1024 */
	__T("fits inside", vs_qmp_hist_fits(h, 2000));
	__T("below the lower ends", !vs_qmp_hist_fits(h, 1539));
	__T("above the upper ends", !vs_qmp_hist_fits(h, 3081));
	h[VS_QMP_HIST_BUCKETS - 1] = 1;	/* the open last bucket */
	__T("the last bucket holds anything longer", vs_qmp_hist_fits(h, 1ULL << 40));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_hist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
