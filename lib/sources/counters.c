// SPDX-License-Identifier: GPL-2.0-only
/* Arithmetic on probe snapshots, histogram quantiles and counter names
 * (probe.h): plain C, no privileges, unit-tested. */
#include <math.h>
#include <stdint.h>

#include "sources/probe.h"

void vs_counters_sub(struct vs_counters *out, const struct vs_counters *a,
		     const struct vs_counters *b)
{
	unsigned int i, j;

	for (i = 0; i < VS_NR_CTR; i++)
		out->ctr[i] = a->ctr[i] - b->ctr[i];
	for (i = 0; i < VS_NR_SUM; i++)
		out->sum[i] = a->sum[i] - b->sum[i];
	for (i = 0; i < VS_UEXIT_SLOTS; i++)
		out->uexit[i] = a->uexit[i] - b->uexit[i];
	for (i = 0; i < VS_NR_HIST; i++)
		for (j = 0; j < VS_HIST_SLOTS; j++)
			out->hist[i].slot[j] = a->hist[i].slot[j] -
					       b->hist[i].slot[j];
	out->halt_poll_ns = a->halt_poll_ns;
}

void vs_counters_add(struct vs_counters *acc, const struct vs_counters *c)
{
	unsigned int i, j;

	for (i = 0; i < VS_NR_CTR; i++)
		acc->ctr[i] += c->ctr[i];
	for (i = 0; i < VS_NR_SUM; i++)
		acc->sum[i] += c->sum[i];
	for (i = 0; i < VS_UEXIT_SLOTS; i++)
		acc->uexit[i] += c->uexit[i];
	for (i = 0; i < VS_NR_HIST; i++)
		for (j = 0; j < VS_HIST_SLOTS; j++)
			acc->hist[i].slot[j] += c->hist[i].slot[j];
	if (c->halt_poll_ns)
		acc->halt_poll_ns = c->halt_poll_ns;
}

uint64_t vs_hist_total(const struct vs_hist *h)
{
	uint64_t t = 0;
	unsigned int i;

	for (i = 0; i < VS_HIST_SLOTS; i++)
		t += h->slot[i];
	return t;
}

double vs_hist_quantile(const struct vs_hist *h, double q)
{
	uint64_t total = vs_hist_total(h), acc = 0;
	double rank;
	unsigned int i;

	if (!total)
		return NAN;
	rank = q * (double)total;
	for (i = 0; i < VS_HIST_SLOTS; i++) {
		double lo, hi;

		if (!h->slot[i] || (double)(acc + h->slot[i]) < rank) {
			acc += h->slot[i];
			continue;
		}
		if (i == 0)
			return 0.0;
		lo = ldexp(1.0, (int)i - 1);
		hi = ldexp(1.0, (int)i);
		return lo + (hi - lo) * (rank - (double)acc) / (double)h->slot[i];
	}
	return ldexp(1.0, VS_HIST_SLOTS - 1);
}

uint64_t vs_counters_kicks(const struct vs_counters *c)
{
	return c->ctr[VS_KICK_PIO] + c->ctr[VS_KICK_MMIO] +
	       c->ctr[VS_KICK_FAST_MMIO];
}

uint64_t vs_counters_irqs(const struct vs_counters *c)
{
	return c->ctr[VS_IRQ_SET] + c->ctr[VS_IRQ_MSI];
}

const char *vs_ctr_name(enum vs_ctr c)
{
	static const char *const names[VS_NR_CTR] = {
		[VS_KICK_PIO] = "kicks_pio",
		[VS_KICK_MMIO] = "kicks_mmio",
		[VS_KICK_FAST_MMIO] = "kicks_fast_mmio",
		[VS_PIO_IN] = "pio_in",
		[VS_IRQ_SET] = "irqs_set_irq",
		[VS_IRQ_MSI] = "irqs_msi",
		[VS_IRQ_APIC_ACCEPT] = "irqs_apic_accept",
		[VS_EXIT] = "exits",
		[VS_UEXIT] = "userspace_exits",
		[VS_HALT_POLLED] = "halts_polled",
		[VS_HALT_WAITED] = "halts_waited",
		[VS_HALT_INVALID] = "halts_invalid",
		[VS_HALT_GROW] = "halt_poll_grow",
		[VS_HALT_SHRINK] = "halt_poll_shrink",
		[VS_WAKEUP] = "wakeups",
		[VS_SLEEP] = "sleeps",
		[VS_WAIT] = "waits",
	};

	return (unsigned int)c < VS_NR_CTR ? names[c] : "?";
}

const char *vs_uexit_name(unsigned int slot)
{
	/* KVM_EXIT_* numbers from <linux/kvm.h> */
	static const char *const names[] = {
		"UNKNOWN", "EXCEPTION", "IO", "HYPERCALL", "DEBUG", "HLT",
		"MMIO", "IRQ_WINDOW_OPEN", "SHUTDOWN", "FAIL_ENTRY", "INTR",
		"SET_TPR", "TPR_ACCESS", "S390_SIEIC", "S390_RESET", "DCR",
		"NMI", "INTERNAL_ERROR", "OSI", "PAPR_HCALL", "S390_UCONTROL",
		"WATCHDOG", "S390_TSCH", "EPR", "SYSTEM_EVENT", "S390_STSI",
		"IOAPIC_EOI", "HYPERV", "ARM_NISV", "X86_RDMSR",
	};

	if (slot < sizeof(names) / sizeof(names[0]))
		return names[slot];
	if (slot == VS_UEXIT_ERRNO)
		return "ERRNO";
	return "OTHER";
}

const struct vs_probe_vm *vs_probe_snapshot_vm(const struct vs_probe_snapshot *s,
					       pid_t pid)
{
	unsigned int i;

	for (i = 0; s && i < s->n_vms; i++)
		if (s->vms[i].pid == pid)
			return &s->vms[i];
	return NULL;
}

const struct vs_probe_thread *vs_probe_snapshot_thread(const struct vs_probe_snapshot *s,
						       pid_t tgid, pid_t tid)
{
	unsigned int i;

	for (i = 0; s && i < s->n_threads; i++)
		if (s->threads[i].tid == tid && s->threads[i].tgid == tgid)
			return &s->threads[i];
	return NULL;
}
const struct vs_probe_pair *vs_probe_snapshot_pair(const struct vs_probe_snapshot *s,
						   const struct vs_probe_pair *k)
{
	unsigned int i;

	for (i = 0; s && i < s->n_pairs; i++) {
		const struct vs_probe_pair *p = &s->pairs[i];

		if (p->waker_tid == k->waker_tid && p->wakee_tid == k->wakee_tid &&
		    p->waker_tgid == k->waker_tgid && p->wakee_tgid == k->wakee_tgid)
			return p;
	}
	return NULL;
}

void vs_probe_snapshot_sub(struct vs_probe_snapshot *b, const struct vs_probe_snapshot *a)
{
	unsigned int i, j, k, m;

	for (i = 0; i < b->n_vms; i++)
		for (j = 0; j < a->n_vms; j++)
			if (a->vms[j].pid == b->vms[i].pid)
				vs_counters_sub(&b->vms[i].c, &b->vms[i].c, &a->vms[j].c);
	for (i = 0; i < b->n_threads; i++) {
		struct vs_probe_thread *t = &b->threads[i];

		for (j = 0; j < a->n_threads; j++) {
			const struct vs_probe_thread *o = &a->threads[j];

			if (o->tid != t->tid || o->tgid != t->tgid)
				continue;
			vs_counters_sub(&t->c, &t->c, &o->c);
			/* Where it ran since: the same CPUs, less what was seen
			 * before (a CPU dropped from the top list stays). */
			for (k = 0; k < t->n_on_cpu; k++)
				for (m = 0; m < o->n_on_cpu; m++)
					if (o->on_cpu[m].cpu == t->on_cpu[k].cpu)
						t->on_cpu[k].n -= o->on_cpu[m].n <= t->on_cpu[k].n ?
								  o->on_cpu[m].n : t->on_cpu[k].n;
			for (k = 0, m = 0; k < t->n_on_cpu; k++)
				if (t->on_cpu[k].n)
					t->on_cpu[m++] = t->on_cpu[k];
			t->n_on_cpu = m;
			vs_cpu_count_sort(t->on_cpu, t->n_on_cpu);
		}
	}
	for (i = 0; i < b->n_exitlats; i++) {
		struct vs_probe_exitlat *e = &b->exitlats[i];

		for (j = 0; j < a->n_exitlats; j++) {
			const struct vs_probe_exitlat *o = &a->exitlats[j];

			if (o->tgid != e->tgid || o->isa != e->isa || o->reason != e->reason)
				continue;
			e->count -= o->count;
			e->sum_ns -= o->sum_ns;
			for (k = 0; k < VS_HIST_SLOTS; k++)
				e->hist.slot[k] -= o->hist.slot[k];
		}
	}
	for (i = 0; i < b->n_kick_addrs; i++) {
		struct vs_probe_kick_addr *ka = &b->kick_addrs[i];

		for (j = 0; j < a->n_kick_addrs; j++) {
			const struct vs_probe_kick_addr *o = &a->kick_addrs[j];

			if (o->tgid == ka->tgid && o->space == ka->space && o->addr == ka->addr &&
			    o->value == ka->value)
				ka->count -= o->count <= ka->count ? o->count : ka->count;
		}
	}
	b->elapsed_ns -= a->elapsed_ns;
}
