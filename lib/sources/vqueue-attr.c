// SPDX-License-Identifier: GPL-2.0-only
/* Kicks and interrupts per queue from the best source there is, and a
 * queue's figures as a sample the classifier reads (see vqueue.h). */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sources/measure.h"
#include "sources/probe.h"
#include "sources/vqueue.h"
#include "sources/vqueue-impl.h"

/* A queue that may have moved items: active, or not measurable (no QMP). */
static bool candidate(const struct vs_vq *v)
{
	return v->active || !isfinite(v->items.per_s);
}

static bool is_vcpu(const struct vs_vm *vm, pid_t tid)
{
	const struct vs_thread *t = vs_vm_thread_by_tid(vm, tid);

	return t && t->role == VS_ROLE_VCPU;
}

/* Wake-ups of `cons` by the vCPU threads; of the vCPUs by QEMU's other
 * threads (count and summed latency). */
static void pair_counts(const struct vs_probe_snapshot *snap, const struct vs_vm *vm,
			pid_t cons, double *kick_wakes, double *irq_wakes,
			double *irq_wake_ns)
{
	unsigned int i;

	*kick_wakes = *irq_wakes = *irq_wake_ns = 0;
	for (i = 0; i < snap->n_pairs; i++) {
		const struct vs_probe_pair *p = &snap->pairs[i];

		if (p->wakee_tgid != vm->pid)
			continue;
		if (cons && p->wakee_tid == cons && p->waker_tgid == vm->pid &&
		    is_vcpu(vm, p->waker_tid))
			*kick_wakes += (double)p->count;
		if (is_vcpu(vm, p->wakee_tid) && p->waker_tgid == vm->pid &&
		    !is_vcpu(vm, p->waker_tid)) {
			*irq_wakes += (double)p->count;
			*irq_wake_ns += (double)p->sum_ns;
		}
	}
}

static void figure_set(struct vs_vq_figure *f, double per_s, const char *source,
		       const char *note)
{
	f->per_s = per_s;
	snprintf(f->source, sizeof(f->source), "%s", source);
	snprintf(f->note, sizeof(f->note), "%s", note);
}

void vs_vq_attribute(struct vs_vqset *set, const struct vs_vm *vm,
		     const struct vs_probe_snapshot *snap)
{
	const struct vs_probe_vm *pv = vs_probe_snapshot_vm(snap, vm->pid);
	double secs = snap && snap->elapsed_ns ? (double)snap->elapsed_ns / 1e9 : set->secs;
	double all_irq_wakes = 0, all_irq_ns = 0;
	unsigned int i, j, n_active = 0;
	bool irq_pairs_done = false, by_addr = false;
	static_assert(VS_VQ_MAX_DEVICES * VS_VQ_MAX_QUEUES <= 128, "addr_kicks");
	uint64_t addr_kicks[VS_VQ_MAX_DEVICES * VS_VQ_MAX_QUEUES];
	struct vs_notify_counts ac = {
		.per_dev = VS_VQ_MAX_QUEUES, .counts = addr_kicks,
		.n_counts = VS_VQ_MAX_DEVICES * VS_VQ_MAX_QUEUES,
	};

	for (i = 0; i < set->n_devs; i++)
		for (j = 0; j < set->devs[i].n_vqs; j++)
			n_active += candidate(&set->devs[i].vqs[j]);
	/* Per queue from the kick addresses, where the address table exists
	 * and the probes counted per address (BPF; perf counts no address). */
	if (vm->kvm && set->notify.n && snap && snap->backend == VS_PROBE_BPF && secs > 0) {
		memset(addr_kicks, 0, sizeof(addr_kicks));
		by_addr = !vs_notify_count_probe(&set->notify, snap, vm->pid, &ac);
	}

	for (i = 0; i < set->n_devs; i++) {
		struct vs_vdev *d = &set->devs[i];
		unsigned int on_thread = 0;
		double kick_wakes = NAN, irq_wakes = NAN, irq_ns = 0;

		for (j = 0; j < d->n_vqs; j++)
			on_thread += candidate(&d->vqs[j]);
		if (snap && secs > 0) {
			pair_counts(snap, vm, d->cons_tid, &kick_wakes, &irq_wakes, &irq_ns);
			if (!irq_pairs_done) {
				all_irq_wakes = irq_wakes;
				all_irq_ns = irq_ns;
				irq_pairs_done = true;
			}
		}
		for (j = 0; j < d->n_vqs; j++) {
			const struct vs_notify_entry *e;
			struct vs_vq *v = &d->vqs[j];
			char note[96];

			if (!candidate(v)) {
				vs_vq__figure_none(&v->kicks, "the queue was idle");
				vs_vq__figure_none(&v->irqs, "the queue was idle");
				continue;
			}
			/* kicks */
			e = by_addr ? vs_notify_of_queue(&set->notify, i, j) : NULL;
			if (e) {
				char where[48];

				vs_notify_entry_str(e, where, sizeof(where));
				snprintf(note, sizeof(note),
					 "at %s; %" PRIu64 " of the VM's %" PRIu64 " kick writes mapped",
					 where, ac.matched, ac.matched + ac.unmatched);
				figure_set(&v->kicks,
					   (double)addr_kicks[i * VS_VQ_MAX_QUEUES + j] / secs,
					   "kvm_pio/kvm_mmio address", note);
			} else if (vm->kvm && pv && vs_counters_kicks(&pv->c)) {
				double k = (double)vs_counters_kicks(&pv->c) / secs;

				if (n_active == 1)
					figure_set(&v->kicks, k, "kvm kick tracepoints",
						   "the VM's only active queue");
				else {
					snprintf(note, sizeof(note),
						 "%.0f/s for the VM, shared by %u active queues",
						 k, n_active);
					vs_vq__figure_none(&v->kicks, note);
				}
			} else if (!vm->kvm && n_active == 1 && isfinite(set->vcpu_writes_per_s)) {
				if (isfinite(kick_wakes) && d->cons_tid)
					snprintf(note, sizeof(note),
						 "ceiling: every vCPU write(); %.0f/s woke %.20s",
						 kick_wakes / secs, d->cons_comm);
				else
					snprintf(note, sizeof(note), "ceiling: every vCPU write()");
				figure_set(&v->kicks, set->vcpu_writes_per_s,
					   "vcpu write() syscalls", note);
			} else if (isfinite(kick_wakes) && d->cons_tid && on_thread == 1) {
				figure_set(&v->kicks, kick_wakes / secs, "sched_waking vcpu->consumer",
					   "floor: a polling consumer is not woken");
			} else if (isfinite(kick_wakes) && d->cons_tid) {
				snprintf(note, sizeof(note),
					 "%.0f/s woke %.20s, shared by its %u active queues",
					 kick_wakes / secs, d->cons_comm, on_thread);
				vs_vq__figure_none(&v->kicks, note);
			} else {
				vs_vq__figure_none(&v->kicks, snap ? "no consumer thread known" :
					    "without the BPF probes no kick source here");
			}
			/* interrupts */
			if (vm->kvm && pv && vs_counters_irqs(&pv->c)) {
				double r = (double)vs_counters_irqs(&pv->c) / secs;

				if (n_active == 1)
					figure_set(&v->irqs, r, "kvm irq tracepoints",
						   "the VM's only active queue");
				else {
					snprintf(note, sizeof(note),
						 "%.0f/s for the VM, shared by %u active queues",
						 r, n_active);
					vs_vq__figure_none(&v->irqs, note);
				}
			} else if (isfinite(irq_wakes) && irq_wakes > 0 && n_active == 1) {
				figure_set(&v->irqs, irq_wakes / secs, "sched_waking qemu->vcpu",
					   "floor: a running vCPU is not woken");
			} else if (v->n_samples) {
				if (isfinite(irq_wakes) && irq_wakes > 0)
					snprintf(note, sizeof(note),
						 "floor, one per 100 ms sample at most; QEMU woke the vCPUs %.0f/s for %u active queues",
						 irq_wakes / secs, n_active);
				else
					snprintf(note, sizeof(note), "floor: at most one per 100 ms sample");
				figure_set(&v->irqs, (double)v->signalled_advances / set->secs,
					   "qmp signalled-used", note);
			} else {
				vs_vq__figure_none(&v->irqs, "no interrupt source here");
			}
		}
	}
	if (all_irq_wakes > 0) {
		set->vcpu_wake_ns = all_irq_ns / all_irq_wakes;
		snprintf(set->costs_from, sizeof(set->costs_from),
			 "vCPU wake-up: sched_waking->switch-in of the vCPU threads woken by QEMU's threads (%.0f wake-ups)",
			 all_irq_wakes);
	} else {
		snprintf(set->costs_from, sizeof(set->costs_from),
			 "vCPU wake-up: %s", snap ? "no vCPU was woken by QEMU in the window" :
			 "needs the BPF probes");
	}
}

static void figure_source(struct vs_sample *s, const char *what, const struct vs_vq_figure *f)
{
	if (isfinite(f->per_s))
		vs_sample_source(s, what, true, "%.0f/s from %s%s%s", f->per_s, f->source,
				 f->note[0] ? "; " : "", f->note);
	else
		vs_sample_source(s, what, false, "%s", f->note);
}

void vs_vq_fill_sample(const struct vs_vqset *set, const struct vs_vdev *d,
		       const struct vs_vq *v, const struct vs_sample *dev_sample,
		       struct vs_sample *s)
{
	*s = *dev_sample;
	s->have_items = isfinite(v->items.per_s);
	s->items_per_s = v->items.per_s;
	s->have_kicks = isfinite(v->kicks.per_s);
	s->kicks_per_s = v->kicks.per_s;
	s->have_irqs = isfinite(v->irqs.per_s);
	s->irqs_per_s = v->irqs.per_s;
	s->kicks_from_probes = s->have_kicks && strstr(v->kicks.source, "sched_waking");
	s->irqs_from_probes = s->have_irqs && strstr(v->irqs.source, "sched_waking");
	s->len = v->size;
	snprintf(s->items_from, sizeof(s->items_from), "%.39s",
		 s->have_items ? v->items.source : "");
	snprintf(s->len_from, sizeof(s->len_from), "%s",
		 v->size ? "vring-num from QMP" : "");
	snprintf(s->backend, sizeof(s->backend), "%.15s", d->type);
	s->guest_sp_ns = set->vcpu_wake_ns;
	s->have_guest_sp = isfinite(set->vcpu_wake_ns);
	if (s->have_guest_sp)
		snprintf(s->guest_sp_from, sizeof(s->guest_sp_from),
			 "mean wake-up of the vCPU threads woken by QEMU's threads (BPF): the guest's own, in-guest part not seen");
	figure_source(s, "virtqueue items", &v->items);
	if (isfinite(v->inflight))
		vs_sample_source(s, "virtqueue in-flight", true,
				 "mean inuse %.2f of %u over %u QMP samples", v->inflight,
				 v->size, v->n_samples);
	figure_source(s, "kicks", &v->kicks);
	figure_source(s, "interrupts", &v->irqs);
	vs_sample_source(s, "guest-side costs", isfinite(set->vcpu_wake_ns),
			 "%.100s", set->costs_from);
}
