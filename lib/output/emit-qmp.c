// SPDX-License-Identifier: GPL-2.0-only
/* QMP query-stats rows walked once for JSON and Prometheus (emit-qmp.h). */
#include <math.h>

#include "output/emit.h"
#include "output/emit-qmp.h"
#include "sources/qmpstat.h"

static void vcpu(struct vs_emitter *e, const struct vs_qmp_vcpu_row *r)
{
	vs_emit_open(e, NULL, NULL);
	vs_emit_id(e, "cpu_index", "vCPU", r->cpu_index);
	vs_emit_id(e, "thread_id", "host thread", r->thread_id);
	vs_emit_counter(e, "exits", "VM exits (KVM binary statistics).", r->exits);
	vs_emit_rate(e, "exits_per_s", "VM exits per second over the interval.",
		     r->exits_per_s);
	vs_emit_counter(e, "halt_exits", "Exits for HLT.", r->halt_exits);
	vs_emit_rate(e, "halt_exits_per_s", "Exits for HLT per second over the interval.",
		     r->halt_exits_per_s);
	vs_emit_counter(e, "io_exits", "Exits for port I/O.", r->io_exits);
	vs_emit_counter(e, "halt_polls_succeeded",
			"Halt polls that ended with a wake-up.", r->polls_ok);
	vs_emit_counter(e, "halt_polls_failed",
			"Halt polls that ended without a wake-up.", r->polls_fail);
	vs_emit_pct(e, "halt_poll_success_pct",
		    "Share of the halt polls that succeeded.", r->poll_ok_pct);
	vs_emit_ns_counter(e, "halt_poll_success_ns",
			   "Time spent in halt polls that succeeded.", r->poll_ok_ns);
	vs_emit_ns_counter(e, "halt_poll_fail_ns",
			   "Time spent in halt polls that failed.", r->poll_fail_ns);
	vs_emit_ns_counter(e, "halt_wait_ns", "Time halted vCPUs waited after polling.",
			   r->wait_ns);
	/* KVM adds a halt's wait when the halt ends: a share can pass 1 */
	vs_emit_ratio(e, "halt_wait_share",
		      "Halt wait time over the interval's length.", r->wait_share);
	/* no median from a histogram that cannot hold the total it
	 * describes (vs_qmp_hist_fits()) */
	vs_emit_ns(e, "halt_wait_p50_at_most_ns",
		   "Upper end of the median halt wait's log2 bucket.",
		   r->wait_hist_fits ? vs_qmp_hist_quantile(r->wait_hist, 0.5) : NAN);
	vs_emit_bool(e, "halt_wait_hist_fits",
		     "1 if the halt wait histogram can hold the total wait time.",
		     r->wait_hist_fits);
	vs_emit_hist(e, "halt_wait_hist", "Length of each halt wait after polling.",
		     r->wait_hist, VS_QMP_HIST_BUCKETS, (double)r->wait_ns);
	vs_emit_hist(e, "halt_poll_success_hist",
		     "Length of each halt poll that succeeded.",
		     r->poll_ok_hist, VS_QMP_HIST_BUCKETS, (double)r->poll_ok_ns);
	vs_emit_hist(e, "halt_poll_fail_hist", "Length of each halt poll that failed.",
		     r->poll_fail_hist, VS_QMP_HIST_BUCKETS, (double)r->poll_fail_ns);
	vs_emit_close(e);
}

int vs_emit_qmp(struct vs_emitter *e, const struct vs_qmp_vcpu_row *rows, int n,
		const struct vs_qmp_sample *now)
{
	int i;

	vs_emit_open_series(e, "vcpus", "vCPUs");
	for (i = 0; i < n; i++)
		vcpu(e, &rows[i]);
	vs_emit_close(e);
	vs_emit_open_array(e, "iothreads", "iothreads");
	for (i = 0; i < now->n_iothreads; i++) {
		const struct vs_qmp_iothread *io = &now->iothreads[i];

		vs_emit_open(e, NULL, NULL);
		/* ids are QEMU object ids ([A-Za-z0-9_.-]): a label as they are */
		vs_emit_str(e, "id", "iothread", io->id);
		vs_emit_id(e, "thread_id", "host thread", io->thread_id);
		vs_emit_ns_int(e, "poll_max_ns", "Adaptive polling window of the iothread.",
			       (uint64_t)io->poll_max_ns);
		vs_emit_close(e);
	}
	vs_emit_close(e);
	return vs_emit_error(e);
}
