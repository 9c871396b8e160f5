// SPDX-License-Identifier: GPL-2.0-only
/* A probe snapshot walked once for JSON and Prometheus (emit-probe.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "output/emit.h"
#include "output/emit-probe.h"
#include "sources/exitlat.h"
#include "sources/probe.h"

static const struct vs_counters zero;

static void hist(struct vs_emitter *e, const char *key, const char *label,
		 const struct vs_hist *h, double sum_ns)
{
	vs_emit_hist(e, key, label, h->slot, VS_HIST_SLOTS, sum_ns);
}

static double mean(uint64_t sum, uint64_t n)
{
	return n ? (double)sum / n : NAN;
}

/* The figures of one VM or thread over the window (d = now - prev). */
static void counters(struct vs_emitter *e, const struct vs_counters *d, double secs)
{
	static const struct { const char *key; enum vs_ctr c; } rate[] = {
		{ "exits", VS_EXIT }, { "userspace_exits", VS_UEXIT },
		{ "halts_polled", VS_HALT_POLLED }, { "halts_waited", VS_HALT_WAITED },
		{ "sleeps", VS_SLEEP },
	};
	uint64_t hp = d->ctr[VS_HALT_POLLED], hw = d->ctr[VS_HALT_WAITED];
	unsigned int i;

	vs_emit_open_map(e, "rates", "Events per second, by event.", "event");
	vs_emit_rate(e, rate[0].key, rate[0].key, d->ctr[VS_EXIT] / secs);
	vs_emit_rate(e, "kicks", "kicks", vs_counters_kicks(d) / secs);
	vs_emit_rate(e, "interrupts", "interrupts", vs_counters_irqs(d) / secs);
	for (i = 1; i < sizeof(rate) / sizeof(rate[0]); i++)
		vs_emit_rate(e, rate[i].key, rate[i].key, d->ctr[rate[i].c] / secs);
	vs_emit_close(e);
	vs_emit_open_map(e, "counts", "Probe counts, by counter.", "counter");
	for (i = 0; i < VS_NR_CTR; i++)
		vs_emit_counter(e, vs_ctr_name(i), vs_ctr_name(i), d->ctr[i]);
	vs_emit_close(e);
	/* kvm_vcpu_wakeup waited = 0 means the poll found work: KVM's
	 * halt_successful_poll over all halts that ended. */
	vs_emit_pct(e, "halt_poll_success_pct",
		    "Share of the vCPU halts that ended while KVM polled.",
		    hp + hw ? 100.0 * hp / (hp + hw) : NAN);
	if (d->halt_poll_ns)
		vs_emit_ns_int(e, "halt_poll_ns", "KVM's halt_poll_ns in force for the VM.", d->halt_poll_ns);
	vs_emit_open(e, "wakeup_latency_ns", "wake-up latency");
	vs_emit_ns(e, "p50", "Median thread wake-up to run latency.",
		   vs_hist_quantile(&d->hist[VS_HIST_WAKEUP], 0.5));
	vs_emit_ns(e, "p99", "99th percentile of thread wake-up to run latency.",
		   vs_hist_quantile(&d->hist[VS_HIST_WAKEUP], 0.99));
	vs_emit_ns(e, "mean", "Mean thread wake-up to run latency.", mean(d->sum[VS_SUM_WAKEUP_NS], d->ctr[VS_WAKEUP]));
	hist(e, "hist", "Thread wake-up (sched_waking) to run (sched_switch in) latency.",
	     &d->hist[VS_HIST_WAKEUP],
	     (double)d->sum[VS_SUM_WAKEUP_NS]);
	vs_emit_close(e);
	vs_emit_open_map(e, "userspace_exits",
			 "Exits to the VMM in userspace, by KVM_EXIT reason.", "reason");
	for (i = 0; i < VS_UEXIT_SLOTS; i++)
		if (d->uexit[i])
			vs_emit_counter(e, vs_uexit_name(i), vs_uexit_name(i), d->uexit[i]);
	vs_emit_close(e);
	if (hp + hw) {
		vs_emit_open(e, "halt_ns", "halt");
		hist(e, "polled", "Length of the vCPU halts that KVM's polling ended.", &d->hist[VS_HIST_HALT_POLLED],
		     (double)d->sum[VS_SUM_HALT_POLLED_NS]);
		hist(e, "waited", "Length of the vCPU halts that slept after polling.", &d->hist[VS_HIST_HALT_WAITED],
		     (double)d->sum[VS_SUM_HALT_WAITED_NS]);
		vs_emit_close(e);
	}
	if (d->ctr[VS_SLEEP]) {
		uint64_t n = d->ctr[VS_SLEEP];

		vs_emit_open(e, "sleeps", "sleeps");
		vs_emit_counter(e, "count", "Completed nanosleep and clock_nanosleep calls.", n);
		vs_emit_ns(e, "asked_mean_ns", "Mean sleep asked for.",
			   mean(d->sum[VS_SUM_SLEEP_ASKED_NS], n));
		vs_emit_ns(e, "slept_mean_ns", "Mean time a sleep lasted.",
			   mean(d->sum[VS_SUM_SLEEP_SLEPT_NS], n));
		hist(e, "overshoot", "Time slept beyond the request (timer slack and wake-up).",
		     &d->hist[VS_HIST_SLEEP_OVER],
		     (double)d->sum[VS_SUM_SLEEP_SLEPT_NS] -
		     (double)d->sum[VS_SUM_SLEEP_ASKED_NS]);
		vs_emit_close(e);
	}
}

/* Exits by reason since the probes opened (they are rare: a window would
 * mostly say 0), reasons of two ISAs' numbers merged by name. */
static void exit_reasons(struct vs_emitter *e, const struct vs_probe_snapshot *s,
			 pid_t pid)
{
	struct { char key[48]; uint64_t n; } r[64];
	unsigned int n = 0, i, k;

	for (i = 0; i < s->n_exits; i++) {
		const struct vs_probe_exit *x = &s->exits[i];
		const char *name = vs_exit_reason_name(x->isa, x->reason);
		char key[48];

		if (x->tgid != pid)
			continue;
		if (name)
			snprintf(key, sizeof(key), "%s", name);
		else
			snprintf(key, sizeof(key), "%s_%u", x->isa == 1 ? "vmx" : "svm",
				 x->reason);
		for (k = 0; k < n && strcmp(r[k].key, key); k++)
			;
		if (k == n) {
			if (n == sizeof(r) / sizeof(r[0]))
				continue;
			snprintf(r[n].key, sizeof(r[n].key), "%s", key);
			r[n++].n = 0;
		}
		r[k].n += x->count;
	}
	vs_emit_open_map(e, "exit_reasons_total",
			 "VM exits by reason since the probes opened.", "reason");
	for (k = 0; k < n; k++)
		vs_emit_counter(e, r[k].key, r[k].key, r[k].n);
	vs_emit_close(e);
}

/* Each exit reason's exit-to-entry time over the window ([] where kvm_exit
 * is silent). */
static void exit_costs(struct vs_emitter *e, const struct vs_probe_snapshot *s,
		       const struct vs_probe_snapshot *prev, pid_t pid, double secs)
{
	struct vs_exitcost x[VS_EXITCOST_MAX];
	unsigned int n = vs_exitcost_between(s, prev, pid, secs, x, VS_EXITCOST_MAX), i;

	vs_emit_open_array(e, "exit_cost", "exit cost");
	for (i = 0; i < n; i++) {
		vs_emit_open(e, NULL, NULL);
		vs_emit_str(e, "reason", "reason", x[i].name);
		vs_emit_bool(e, "kick", "1 if the exit reason is a guest kick (PIO, MMIO).", x[i].kick);
		vs_emit_counter(e, "count", "VM exits timed from kvm_exit to kvm_entry.", x[i].count);
		vs_emit_rate(e, "per_s", "VM exits per second, by reason.", x[i].per_s);
		vs_emit_ns(e, "mean_ns", "Mean time from VM exit to the next entry.", x[i].mean_ns);
		vs_emit_ns(e, "p50_ns", "Median time from VM exit to the next entry.", x[i].p50_ns);
		vs_emit_ns(e, "p99_ns", "99th percentile of the time from VM exit to entry.",
			   x[i].p99_ns);
		hist(e, "hist", "Time from VM exit to the next entry of the vCPU.", &x[i].hist, x[i].mean_ns * x[i].count);
		vs_emit_close(e);
	}
	vs_emit_close(e);
}

static void sources(struct vs_emitter *e, const struct vs_probe_snapshot *s)
{
	unsigned int i;

	vs_emit_open_array(e, "sources", "sources");
	for (i = 0; i < s->n_sources; i++) {
		const struct vs_probe_source *src = &s->sources[i];

		vs_emit_open(e, NULL, NULL);
		vs_emit_str(e, "name", "source", src->name);
		vs_emit_str(e, "how", "how", src->how);
		vs_emit_bool(e, "used", "1 if virtsync could measure from this source, 0 if not.",
			     src->used);
		if (!src->used)
			vs_emit_u64(e, "errno", "Why an unused source could not be used (errno).",
				    (uint64_t)-src->err);
		if (!src->used || src->why[0])
			vs_emit_str(e, "why", "why", src->why);
		vs_emit_close(e);
	}
	vs_emit_close(e);
}

static void vm(struct vs_emitter *e, const struct vs_probe_snapshot *s,
	       const struct vs_probe_snapshot *prev, double secs,
	       const struct vs_probe_vm *v, const struct vs_emit_probe_opts *o)
{
	const struct vs_probe_vm *old = vs_probe_snapshot_vm(prev, v->pid);
	const char *name = o->vm_name ? o->vm_name(v->pid, v->comm, o->ctx) : NULL;
	struct vs_counters d;
	unsigned int j, nthreads = 0;

	vs_emit_open(e, NULL, NULL);
	vs_emit_id(e, "pid", "pid", v->pid);
	vs_emit_str(e, o->name_label ? o->name_label : "comm", "name",
		    name ? name : v->comm);
	vs_emit_bool(e, "alive", "1 while the VM's process runs.", v->alive);
	vs_counters_sub(&d, &v->c, old ? &old->c : &zero);
	counters(e, &d, secs);
	for (j = 0; j < s->n_threads; j++)
		nthreads += s->threads[j].tgid == v->pid;
	vs_emit_u64(e, "probe_threads", "Threads whose counters the probes hold for the VM.",
		    nthreads);
	exit_reasons(e, s, v->pid);
	exit_costs(e, s, prev, v->pid, secs);
	if (o->threads) {
		vs_emit_open_array(e, "threads", "threads");
		for (j = 0; j < s->n_threads; j++) {
			const struct vs_probe_thread *t = &s->threads[j], *ot;

			if (t->tgid != v->pid)
				continue;
			ot = vs_probe_snapshot_thread(prev, t->tgid, t->tid);
			vs_counters_sub(&d, &t->c, ot ? &ot->c : &zero);
			vs_emit_open(e, NULL, NULL);
			vs_emit_id(e, "tid", "tid", t->tid);
			vs_emit_str(e, "comm", "comm", t->comm);
			counters(e, &d, secs);
			vs_emit_close(e);
		}
		vs_emit_close(e);
	}
	vs_emit_close(e);
}

static void wakers(struct vs_emitter *e, const struct vs_probe_snapshot *s,
		   const struct vs_probe_snapshot *prev)
{
	unsigned int i, j;

	vs_emit_open_array(e, "wakers", "wakers");
	for (i = 0; i < s->n_pairs; i++) {
		const struct vs_probe_pair *p = &s->pairs[i], *o = vs_probe_snapshot_pair(prev, p);
		uint64_t n = p->count - (o ? o->count : 0);
		struct vs_hist h;

		if (!n)
			continue;
		for (j = 0; j < VS_HIST_SLOTS; j++)
			h.slot[j] = p->lat.slot[j] - (o ? o->lat.slot[j] : 0);
		vs_emit_open(e, NULL, NULL);
		vs_emit_id(e, "waker_pid", "waker pid", p->waker_tgid);
		vs_emit_id(e, "waker_tid", "waker tid", p->waker_tid);
		vs_emit_str(e, "waker_comm", "waker", p->waker_comm);
		vs_emit_id(e, "wakee_pid", "wakee pid", p->wakee_tgid);
		vs_emit_id(e, "wakee_tid", "wakee tid", p->wakee_tid);
		vs_emit_str(e, "wakee_comm", "wakee", p->wakee_comm);
		vs_emit_counter(e, "count", "Wake-ups of the wakee by the waker.", n);
		hist(e, "latency_ns", "Wake-up to run latency of the wakee, by waker.", &h,
		     (double)(p->sum_ns - (o ? o->sum_ns : 0)));
		vs_emit_close(e);
	}
	vs_emit_close(e);
}

int vs_emit_probe(struct vs_emitter *e, const struct vs_probe_snapshot *s,
		  const struct vs_probe_snapshot *prev, double secs,
		  const struct vs_emit_probe_opts *o)
{
	static const struct vs_emit_probe_opts plain = { 0 };
	int prom = vs_emit_mode(e) == VS_EMIT_PROM;
	unsigned int i;

	if (!o)
		o = &plain;
	sources(e, s);
	vs_emit_open_series(e, "vms", "VMs");
	for (i = 0; i < s->n_vms; i++)
		if (s->vms[i].alive || !prom)
			vm(e, s, prev, secs, &s->vms[i], o);
	vs_emit_close(e);
	if (o->wakers)
		wakers(e, s, prev);
	return vs_emit_error(e);
}
