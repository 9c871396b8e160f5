// SPDX-License-Identifier: GPL-2.0-only
/*
 * One queue of the multi-queue device on the kvm backend (kvm-mq.h): the
 * single-queue device's VM and vCPU thread (kvm-vm.c, kvm.c) with P in rate
 * mode, its kicks into the owning poller's eventfd and no C of its own. The
 * VM gets a run of its own: its vCPU thread ends that run when the guest
 * stops, and the caller's run must go on until every queue is drained.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcdev/kvm.h"

int pcdev_kvm_queue_open(const struct pcdev_kvm_queue_cfg *q, struct kvmdev **out)
{
	struct pcdev_config *base;
	struct pcdev_run *run = NULL;
	struct kvmdev *d;
	int err;

	*out = NULL;
	if (posix_memalign((void **)&run, 64, sizeof(*run)))
		return -ENOMEM;
	err = pcdev_run_init(run);
	if (err) {
		free(run);
		return err;
	}
	d = pcdev_kvm_new(NULL, run);
	if (!d) {
		pcdev_run_destroy(run);
		free(run);
		return -ENOMEM;
	}
	*out = d;
	d->qcfg = q;
	/* The single-queue configuration kvm-vm.c builds from: what P does
	 * between bursts is the rate mode's, so only L, Wp, the vCPU's CPU
	 * and priority count; C "notify" makes the guest kick. */
	base = &d->qbase;
	pcdev_config_default(base);
	base->backend = PCDEV_BACKEND_KVM;
	base->len = q->len;
	base->wp_ns = q->wp_ns;
	base->c_mode = base->p_mode = PCDEV_NOTIFY;
	base->pin_p = q->pin;
	base->rt_priority = q->rt_priority;
	base->stop = q->stop;
	base->trace_path = NULL;
	base->publish = false;
	base->halt_poll_ns = q->halt_poll_ns;
	d->cfg = base;
	return pcdev_kvm_vm_create(d);
}

void pcdev_kvm_queue_view(struct kvmdev *d, struct pcdev_kvm_queue_view *v)
{
	v->vr = d->vr;
	v->items = d->items;
	v->tsc_offset = d->tsc_offset;
	v->kick_tsc = &d->ctl->kick_tsc;
}

int pcdev_kvm_queue_boot(struct kvmdev *d)
{
	return pcdev_kvm_boot(d);
}

void pcdev_kvm_queue_go(struct kvmdev *d)
{
	pcdev_kvm_go(d);
}

bool pcdev_kvm_queue_ended(struct kvmdev *d)
{
	return pcdev_kvm_ended(d);
}

void pcdev_kvm_queue_stop_begin(struct kvmdev *d)
{
	if (d->vcpu_started)
		pcdev_kvm_stop_guest(d);
}

void pcdev_kvm_queue_stop(struct kvmdev *d)
{
	pcdev_kvm_stop(d);
}

int pcdev_kvm_queue_results(struct kvmdev *d, struct pcdev_kvm_queue_res *r)
{
	const struct pcdev_guest_ctl *g = d->ctl;
	struct pcdev_results *st;
	double gns = g->tsc_khz / 1e6;

	memset(r, 0, sizeof(*r));
	if (d->vcpu_err)
		return d->vcpu_err;
	r->produced = g->produced;
	r->offered = g->offered;
	r->publishes = g->publishes;
	r->full = g->full_waits;
	r->kicks = g->kicks;
	r->sleeps = g->sleeps;
	r->cpu_ns = d->cpu_p_ns;
	r->kick_ns = g->kicks && gns > 0 ? g->kick_cycles / gns / g->kicks : 0;
	/* The statistics collector fills a single-queue result's table. */
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	pcdev_kvm_stats_collect(&d->st_vcpu, "", 0, st);
	r->exits = pcdev_kvm_stat_value(st, "exits");
	r->io_exits = pcdev_kvm_stat_value(st, "io_exits");
	r->halt_exits = pcdev_kvm_stat_value(st, "halt_exits");
	r->halt_wakeup = pcdev_kvm_stat_value(st, "halt_wakeup");
	r->insn_emulation = pcdev_kvm_stat_value(st, "insn_emulation");
	r->halt_attempted_poll = pcdev_kvm_stat_value(st, "halt_attempted_poll");
	r->halt_successful_poll = pcdev_kvm_stat_value(st, "halt_successful_poll");
	r->halt_poll_success_ns = (double)pcdev_kvm_stat_value(st, "halt_poll_success_ns");
	r->halt_poll_fail_ns = (double)pcdev_kvm_stat_value(st, "halt_poll_fail_ns");
	free(st);
	return 0;
}

const char *pcdev_kvm_queue_failure(struct kvmdev *d)
{
	return d && d->why[0] ? d->why : NULL;
}

void pcdev_kvm_queue_close(struct kvmdev *d)
{
	struct pcdev_run *run;

	if (!d)
		return;
	run = d->run;
	pcdev_kvm_free(d);
	pcdev_run_destroy(run);
	free(run);
}
