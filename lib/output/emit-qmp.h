/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_OUTPUT_EMIT_QMP_H
#define VS_OUTPUT_EMIT_QMP_H

/*
 * QMP query-stats rows (lib/sources/qmpstat.h) through the emitter, the one
 * walk behind `virtsync stat --qmp --json` and `--prometheus`: "vcpus" (a
 * series: cpu_index and thread_id label every sample) with each vCPU's
 * exits, halt polls, the time they took and KVM's log2 histograms, then
 * "iothreads" with each one's poll-max-ns. The rows say which window the
 * counts cover: vs_qmp_sample_rows() for an interval (JSON),
 * vs_qmp_sample_totals() for counters that only grow (Prometheus).
 * Returns vs_emit_error().
 */

struct vs_emitter;
struct vs_qmp_sample;
struct vs_qmp_vcpu_row;

int vs_emit_qmp(struct vs_emitter *e, const struct vs_qmp_vcpu_row *rows, int n,
		const struct vs_qmp_sample *now);

#endif
