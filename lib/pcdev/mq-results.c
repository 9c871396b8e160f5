// SPDX-License-Identifier: GPL-2.0-only
/* The multi-queue device's counters as results (mq-dev.h). */
#include <math.h>
#include <stdlib.h>

#include "pcdev/mq-dev.h"
#include "pcdev/tsc.h"

/* A guest's counters, final once it stopped, as a thread producer's. */
int mq_queue_vm_results(struct mq_queue *q)
{
	struct pcdev_kvm_queue_res *r = &q->vm_res;
	int err = pcdev_kvm_queue_results(q->vm, r);

	if (err)
		return err;
	q->offered = r->offered;
	q->produced = r->produced;
	q->publishes = r->publishes;
	q->full = r->full;
	q->kicks = r->kicks;
	q->cpu_ns = (uint64_t)r->cpu_ns;
	return 0;
}

void mq_dev_results(struct mq_dev *d, struct pcdev_mq_results *res)
{
	const struct pcdev_mq_config *cfg = d->cfg;
	const double tpn = vs_tsc_per_ns();
	struct pcdev_hist *all = calloc(1, sizeof(*all));
	uint64_t offered = 0;
	unsigned int i, b;
	double secs;

	res->elapsed_ns = (double)(d->tsc_end - d->run->tsc_start) / tpn;
	secs = res->elapsed_ns / 1e9;
	res->backend = cfg->backend;
	res->n_pollers = d->n_pollers;
	for (i = 0; i < cfg->n_queues; i++) {
		struct mq_queue *q = &d->q[i];
		struct pcdev_mq_queue_res *r = &res->q[i];

		r->poller = q->owner->idx;
		r->items = q->consumed;
		r->produced = q->produced;
		r->offered = q->offered;
		r->full = q->full;
		r->dropped = q->dropped;
		r->stall_max_ns = d->kvm ? NAN : (double)q->stall_max / tpn;
		r->publishes = q->publishes;
		r->kicks = q->kicks;
		r->starved = q->starved;
		r->visits = q->visits;
		r->throughput_ops = secs > 0 ? (double)q->consumed / secs : NAN;
		r->offered_ops = secs > 0 ? (double)q->offered / secs : NAN;
		r->burst = q->publishes ? (double)q->produced / (double)q->publishes : NAN;
		r->cpu_producer = res->elapsed_ns > 0 ? (double)q->cpu_ns / res->elapsed_ns : NAN;
		r->wait_max_ns = (double)q->wait_max / tpn;
		r->kick_ns = d->kvm && q->kicks ? q->vm_res.kick_ns : NAN;
		r->exits = q->vm_res.exits;
		r->io_exits = q->vm_res.io_exits;
		r->halt_exits = q->vm_res.halt_exits;
		r->halt_wakeup = q->vm_res.halt_wakeup;
		r->insn_emulation = q->vm_res.insn_emulation;
		r->halt_attempted_poll = q->vm_res.halt_attempted_poll;
		r->halt_successful_poll = q->vm_res.halt_successful_poll;
		r->halt_poll_ns = q->vm_res.halt_poll_success_ns +
				  q->vm_res.halt_poll_fail_ns;
		pcdev_hist_latency(q->hist, tpn, &r->latency);
		res->items += q->consumed;
		offered += q->offered;
		res->cpu_producers += r->cpu_producer;
		if (all) {
			for (b = 0; b < PCDEV_HIST_BUCKETS; b++)
				all->bucket[b] += q->hist->bucket[b];
			all->count += q->hist->count;
			if (q->hist->max > all->max)
				all->max = q->hist->max;
		}
	}
	for (i = 0; i < d->n_pollers; i++) {
		struct mq_poller *p = &d->p[i];
		struct pcdev_mq_poller_res *r = &res->p[i];

		r->n_queues = p->n;
		r->items = p->items;
		r->visits = p->visits;
		r->empty_visits = p->empty_visits;
		r->blocks = p->blocks;
		r->wakeups = p->wakeups;
		r->busy_ns = (double)p->busy_t / tpn;
		r->block_ns = (double)p->block_t / tpn;
		r->util = res->elapsed_ns > 0 ? r->busy_ns / res->elapsed_ns : NAN;
		r->cpu = res->elapsed_ns > 0 ? (double)p->cpu_ns / res->elapsed_ns : NAN;
		r->visit_ns = p->empty_visits ? (double)p->empty_t / tpn / (double)p->empty_visits : NAN;
		r->wake_ns = pcdev_avg_ns(&p->wake, tpn);
		r->wake_p10_ns = p->wake_hist->count ?
			pcdev_hist_quantile(p->wake_hist, 0.10) / tpn : NAN;
		r->wake_p98_ns = p->wake_hist->count ?
			pcdev_hist_quantile(p->wake_hist, 0.98) / tpn : NAN;
		res->cpu_pollers += r->cpu;
	}
	res->throughput_ops = secs > 0 ? (double)res->items / secs : NAN;
	res->offered_ops = secs > 0 ? (double)offered / secs : NAN;
	if (all)
		pcdev_hist_latency(all, tpn, &res->latency);
	else
		res->latency = (struct pcdev_latency){ NAN, NAN, NAN, NAN, NAN };
	free(all);
}

