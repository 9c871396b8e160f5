/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_QMPSTAT_H
#define VS_QMPSTAT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sources/qmp.h"

/*
 * Per-vCPU rates of a running QEMU from QMP alone: two samples of
 * query-stats (KVM binary statistics: exits, halt polls and their time)
 * joined with query-cpus-fast (vCPU index and host thread id) by QOM path,
 * and query-iothreads. For `virtsync stat --qmp` and `diagnose --qmp`.
 */

struct vs_qmp_sample {
	uint64_t time_ns;		/* CLOCK_MONOTONIC when stats were read */
	struct vs_qmp_vcpu *vcpus;
	int n_vcpus;
	struct vs_qmp_vcpu_stats *stats;
	int n_stats;
	struct vs_qmp_iothread *iothreads;
	int n_iothreads;
};

/* One vCPU over one interval. Counts are deltas; *_pct is NaN when there
 * was nothing to divide. */
struct vs_qmp_vcpu_row {
	int cpu_index;
	int thread_id;
	double secs;
	uint64_t exits, halt_exits, io_exits;
	uint64_t polls_ok, polls_fail;	/* halt polls that succeeded / failed */
	double poll_ok_pct;		/* polls_ok / attempted, percent */
	uint64_t poll_ok_ns, poll_fail_ns, wait_ns;
	double exits_per_s, halt_exits_per_s;
	double wait_share;		/* halt_wait_ns / interval */
	/* KVM's log2 histograms over the interval (struct vs_qmp_vcpu_stats
	 * buckets): how long halts waited, and polls that succeeded or failed */
	uint64_t wait_hist[VS_QMP_HIST_BUCKETS];
	uint64_t poll_ok_hist[VS_QMP_HIST_BUCKETS];
	uint64_t poll_fail_hist[VS_QMP_HIST_BUCKETS];
	/* Does wait_hist fit wait_ns (the sum its buckets allow brackets the
	 * total)? Not always: see vs_qmp_hist_fits(). */
	bool wait_hist_fits;
};

/* The q-quantile (0..1) of a log2 histogram as the upper end of its
 * bucket, in ns (2^i for bucket i): "at most". NaN when it is empty. */
double vs_qmp_hist_quantile(const uint64_t *hist, double q);
/*
 * Can a log2 histogram hold these events and this total time: is sum_ns
 * between the sums of its buckets' lower and upper ends? On the project
 * machines (QEMU 7.2, Linux 6.18, nested) query-stats reports
 * halt_wait_hist counts in buckets of tens of ns next to a halt_wait_ns of
 * seconds, so a histogram is only trusted when it fits. An empty histogram
 * fits a zero total.
 */
bool vs_qmp_hist_fits(const uint64_t *hist, uint64_t sum_ns);
/* The histogram as JSON, as every virtsync histogram: {"unit": "nsecs",
 * "buckets": [{"low", "high", "count"}]} for the non-empty buckets, high
 * null for KVM's open last one. */
json_t *vs_qmp_hist_json(const uint64_t *hist);

/* Read one sample; -ENOTSUP when QEMU has no KVM query-stats. */
int vs_qmp_sample_read(struct vs_qmp *q, struct vs_qmp_sample *s);
void vs_qmp_sample_free(struct vs_qmp_sample *s);

/* Rows for the vCPUs present in both samples, by cpu_index; malloc()ed
 * array in *rows, count returned (or -errno). */
int vs_qmp_sample_rows(const struct vs_qmp_sample *prev,
		       const struct vs_qmp_sample *now,
		       struct vs_qmp_vcpu_row **rows);
/*
 * The same rows with the counts, the histograms and what they give (the
 * success percentage, whether the wait histogram fits) as totals since each
 * vCPU was created, which is what a Prometheus counter is; the rates and
 * the wait share stay the interval's (a vCPU's age is not known, so a rate
 * since its creation cannot be made).
 */
int vs_qmp_sample_totals(const struct vs_qmp_sample *prev,
			 const struct vs_qmp_sample *now,
			 struct vs_qmp_vcpu_row **rows);

#endif
