// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus families of a probe snapshot (lib/sources/probe.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "output/prom.h"
#include "sources/probe.h"

struct vm_labels {
	char pid[16];
	struct vs_prom_label l[3];
};

static unsigned int labels_of(struct vm_labels *v, const struct vs_probe_vm *vm,
			      const struct vs_prom_probe_opts *o,
			      const char *extra_name, const char *extra_value)
{
	const char *name = NULL;
	unsigned int n = 0;

	snprintf(v->pid, sizeof(v->pid), "%d", (int)vm->pid);
	if (o->vm_name)
		name = o->vm_name(vm->pid, vm->comm, o->ctx);
	v->l[n].name = "pid";
	v->l[n++].value = v->pid;
	v->l[n].name = o->name_label ? o->name_label : "comm";
	v->l[n++].value = name ? name : vm->comm;
	if (extra_name) {
		v->l[n].name = extra_name;
		v->l[n++].value = extra_value;
	}
	return n;
}

static void vm_sample(struct vs_prom *p, const struct vs_probe_vm *vm,
		      const struct vs_prom_probe_opts *o, const char *extra_name,
		      const char *extra_value, double v)
{
	struct vm_labels l;
	unsigned int n = labels_of(&l, vm, o, extra_name, extra_value);

	vs_prom_sample(p, l.l, n, v);
}

/* A VM that exited has no series: Prometheus marks them stale at the next
 * scrape rather than holding its last counts as if it still ran. */
#define EACH_LIVE_VM(s, i) \
	for (i = 0; i < (s)->n_vms; i++) \
		if ((s)->vms[i].alive)

static const struct vs_probe_vm *vm_in(const struct vs_probe_snapshot *s, int pid)
{
	unsigned int i;

	for (i = 0; s && i < s->n_vms; i++)
		if (s->vms[i].pid == pid)
			return &s->vms[i];
	return NULL;
}

/* Counters of vm over the window since prev. */
static void window_of(struct vs_counters *d, const struct vs_probe_vm *vm,
		      const struct vs_probe_snapshot *prev)
{
	static const struct vs_counters zero;
	const struct vs_probe_vm *old = vm_in(prev, vm->pid);

	vs_counters_sub(d, &vm->c, old ? &old->c : &zero);
}

int vs_prom_probe(struct vs_prom *p, const struct vs_probe_snapshot *s,
		  const struct vs_probe_snapshot *prev, double secs,
		  const struct vs_prom_probe_opts *o)
{
	static const struct { const char *value; enum vs_ctr c; } kicks[] = {
		{ "pio", VS_KICK_PIO }, { "mmio", VS_KICK_MMIO },
		{ "fast_mmio", VS_KICK_FAST_MMIO },
	}, irqs[] = {
		{ "set_irq", VS_IRQ_SET }, { "msi", VS_IRQ_MSI },
	}, halts[] = {
		{ "polled", VS_HALT_POLLED }, { "waited", VS_HALT_WAITED },
	};
	static const struct vs_prom_probe_opts plain = { 0 };
	struct vs_counters d;
	unsigned int i, k;

	(void)secs;	/* ratios and quantiles need no duration */
	if (!o)
		o = &plain;
	vs_prom_family(p, "virtsync_source_up", VS_PROM_GAUGE,
		       "1 if virtsync could measure from this source, 0 if not.");
	for (i = 0; i < s->n_sources; i++) {
		const struct vs_prom_label l[] = {
			{ "source", s->sources[i].name }, { "how", s->sources[i].how },
		};

		vs_prom_sample(p, l, 2, s->sources[i].used);
	}
	vs_prom_family(p, "virtsync_kicks_total", VS_PROM_COUNTER,
		       "Guest-to-host notifications (PIO out, MMIO write, fast MMIO).");
	EACH_LIVE_VM(s, i)
		for (k = 0; k < 3; k++)
			vm_sample(p, &s->vms[i], o, "kind", kicks[k].value,
				  (double)s->vms[i].c.ctr[kicks[k].c]);
	vs_prom_family(p, "virtsync_interrupts_total", VS_PROM_COUNTER,
		       "Interrupts injected into the guest (kvm_set_irq raise, MSI).");
	EACH_LIVE_VM(s, i)
		for (k = 0; k < 2; k++)
			vm_sample(p, &s->vms[i], o, "kind", irqs[k].value,
				  (double)s->vms[i].c.ctr[irqs[k].c]);
	vs_prom_family(p, "virtsync_exits_total", VS_PROM_COUNTER,
		       "VM exits seen by kvm:kvm_exit (silent on some hosts).");
	EACH_LIVE_VM(s, i)
		vm_sample(p, &s->vms[i], o, NULL, NULL,
			  (double)s->vms[i].c.ctr[VS_EXIT]);
	vs_prom_family(p, "virtsync_userspace_exits_total", VS_PROM_COUNTER,
		       "Exits to the VMM in userspace, by KVM_EXIT reason.");
	EACH_LIVE_VM(s, i)
		for (k = 0; k < VS_UEXIT_SLOTS; k++)
			if (s->vms[i].c.uexit[k])
				vm_sample(p, &s->vms[i], o, "reason", vs_uexit_name(k),
					  (double)s->vms[i].c.uexit[k]);
	vs_prom_family(p, "virtsync_halts_total", VS_PROM_COUNTER,
		       "vCPU halts that ended, by whether halt polling caught the wake-up.");
	EACH_LIVE_VM(s, i)
		for (k = 0; k < 2; k++)
			vm_sample(p, &s->vms[i], o, "result", halts[k].value,
				  (double)s->vms[i].c.ctr[halts[k].c]);
	vs_prom_family(p, "virtsync_halt_poll_success_ratio", VS_PROM_GAUGE,
		       "Share of halts ended by polling over the last interval.");
	EACH_LIVE_VM(s, i) {
		uint64_t hp, hw;

		window_of(&d, &s->vms[i], prev);
		hp = d.ctr[VS_HALT_POLLED];
		hw = d.ctr[VS_HALT_WAITED];
		vm_sample(p, &s->vms[i], o, NULL, NULL,
			  hp + hw ? (double)hp / (double)(hp + hw) : NAN);
	}
	/* A summary as client libraries make them: quantiles over a recent
	 * window (the last interval), _sum and _count since the start. */
	vs_prom_family(p, "virtsync_wakeup_latency_seconds", VS_PROM_SUMMARY,
		       "Thread wake-up to run latency: quantiles over the last interval, "
		       "sum and count since the probes opened.");
	EACH_LIVE_VM(s, i) {
		struct vm_labels l;
		unsigned int n;

		window_of(&d, &s->vms[i], prev);
		vm_sample(p, &s->vms[i], o, "quantile", "0.5",
			  vs_hist_quantile(&d.hist[VS_HIST_WAKEUP], 0.5) / 1e9);
		vm_sample(p, &s->vms[i], o, "quantile", "0.99",
			  vs_hist_quantile(&d.hist[VS_HIST_WAKEUP], 0.99) / 1e9);
		n = labels_of(&l, &s->vms[i], o, NULL, NULL);
		vs_prom_sample_suffix(p, "_sum", l.l, n,
				      s->vms[i].c.sum[VS_SUM_WAKEUP_NS] / 1e9);
		vs_prom_sample_suffix(p, "_count", l.l, n,
				      (double)s->vms[i].c.ctr[VS_WAKEUP]);
	}
	vs_prom_family(p, "virtsync_wakeups_total", VS_PROM_COUNTER,
		       "Thread wake-ups measured (sched_waking to sched_switch in).");
	EACH_LIVE_VM(s, i)
		vm_sample(p, &s->vms[i], o, NULL, NULL,
			  (double)s->vms[i].c.ctr[VS_WAKEUP]);
	vs_prom_family(p, "virtsync_probe_threads", VS_PROM_GAUGE,
		       "Threads whose counters the probes hold for the VM (the entries of "
		       "threads that exited are folded into the VM's sums).");
	EACH_LIVE_VM(s, i) {
		unsigned int n = 0;

		for (k = 0; k < s->n_threads; k++)
			n += s->threads[k].tgid == s->vms[i].pid;
		vm_sample(p, &s->vms[i], o, NULL, NULL, n);
	}
	return vs_prom_error(p);
}
