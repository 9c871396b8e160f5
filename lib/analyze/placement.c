// SPDX-License-Identifier: GPL-2.0-only
/* The placement audit of one queue (see placement.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/units.h"
#include "analyze/placement.h"

static void note(struct vs_placement *pl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct vs_placement *pl, const char *fmt, ...)
{
	va_list ap;

	if (pl->n_notes >= VS_PLACE_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(pl->notes[pl->n_notes++], sizeof(pl->notes[0]), fmt, ap);
	va_end(ap);
}

/* ---- where each side ran ----------------------------------------------------- */

static void side_of(const struct vs_thread_sample *t, const struct vs_topo *topo,
		    struct vs_place_side *s)
{
	const struct vs_topo_cpu *c;
	unsigned int i;
	size_t len = 0;

	memset(s, 0, sizeof(*s));
	s->cpu = s->node = -1;
	if (!t->present && !t->tid)
		return;
	s->tid = t->tid;
	snprintf(s->comm, sizeof(s->comm), "%s", t->comm);
	snprintf(s->role, sizeof(s->role), "%s", vs_role_name(t->role));
	snprintf(s->from, sizeof(s->from), "%s", t->ran_on_from);
	if (!t->n_ran_on || !t->ran_on_total)
		return;
	s->known = true;
	s->cpu = t->ran_on[0].cpu;
	s->share = (double)t->ran_on[0].n / (double)t->ran_on_total;
	for (i = 0; i < t->n_ran_on && i < 3 && len < sizeof(s->cpus); i++)
		len += (size_t)snprintf(s->cpus + len, sizeof(s->cpus) - len, "%s%d (%.0f%%)",
					i ? ", " : "", t->ran_on[i].cpu,
					100.0 * (double)t->ran_on[i].n / (double)t->ran_on_total);
	c = vs_topo_cpu(topo, s->cpu);
	s->node = c ? c->node : -1;
}

/* Both sides spin: busy waiting, or no wait at all on either side. */
static bool both_spin(const struct vs_verdict *v)
{
	return v && v->known && (v->mech == VS_MECH_BUSY || v->regime == VS_REGIME_BW);
}

/* ---- candidates ---------------------------------------------------------------- */

/*
 * The closest CPU to `p` for the consumer, by the topology: the smallest
 * shared cache on P's node, SMT siblings excluded when `no_smt`; among
 * `on_node` when >= 0. -1 when none.
 */
static int closest_to(const struct vs_topo *t, int p, int on_node, bool no_smt, int not)
{
	unsigned int i, best_level = 0;
	int best = -1;

	for (i = 0; i < t->n_cpus; i++) {
		int x = t->cpus[i].id;
		struct vs_topo_rel r;

		if (x == p || x == not || vs_topo_relate(t, p, x, &r))
			continue;
		if (on_node >= 0 && t->cpus[i].node != on_node)
			continue;
		if (on_node < 0 && !r.same_node)
			continue;
		if (no_smt && r.smt)
			continue;
		if (r.cache_level && (!best_level || r.cache_level < best_level)) {
			best_level = r.cache_level;
			best = x;
		} else if (best < 0) {
			best = x;
		}
	}
	return best;
}

/* The node the queue should live on: the guest memory's, on NUMA hosts. */
static int home_node(const struct vs_topo *t, const struct vs_mem_nodes *mem)
{
	return t->n_nodes > 1 && mem && mem->known && mem->n ? mem->nodes[0].node : -1;
}

static int node_of(const struct vs_topo *t, int cpu)
{
	const struct vs_topo_cpu *c = vs_topo_cpu(t, cpu);

	return c ? c->node : -1;
}

static void add_pair(int *a, int *b, unsigned int *n, unsigned int max, int p, int c)
{
	unsigned int i;

	if (p < 0 || c < 0 || p == c || *n >= max)
		return;
	for (i = 0; i < *n; i++)
		if (a[i] == p && b[i] == c)
			return;
	a[*n] = p;
	b[*n] = c;
	(*n)++;
}

unsigned int vs_placement_pairs(const struct vs_topo *t, const struct vs_sample *s,
				const struct vs_mem_nodes *mem, int *a, int *b,
				unsigned int max)
{
	int p = s->prod.n_ran_on ? s->prod.ran_on[0].cpu : -1;
	int c = s->cons.n_ran_on ? s->cons.ran_on[0].cpu : -1;
	int home = home_node(t, mem);
	unsigned int n = 0;

	if (p < 0 || c < 0 || !vs_topo_cpu(t, p) || !vs_topo_cpu(t, c))
		return 0;
	add_pair(a, b, &n, max, p, c);	/* not when both share one CPU */
	/* C next to P, with and without its SMT sibling */
	add_pair(a, b, &n, max, p, closest_to(t, p, -1, false, -1));
	add_pair(a, b, &n, max, p, closest_to(t, p, -1, true, -1));
	if (home >= 0 && node_of(t, p) != home) {
		/* P to the memory's node, next to C when C is there */
		add_pair(a, b, &n, max, closest_to(t, c, home, false, -1), c);
		add_pair(a, b, &n, max, closest_to(t, c, home, true, -1), c);
	}
	if (home >= 0 && node_of(t, c) != home && node_of(t, p) == home)
		add_pair(a, b, &n, max, p, closest_to(t, p, home, false, -1));
	return n;
}

/* ---- costs of a pair ------------------------------------------------------------- */

static double handoff_of(const struct vs_place_in *in, int p, int c)
{
	unsigned int i;

	for (i = 0; i < in->n_handoff; i++)
		if (in->handoff[i].a == p && in->handoff[i].b == c && isfinite(in->handoff[i].ns))
			return in->handoff[i].ns;
	return NAN;
}

/* A pair's round trip: its median, or with two modes the slow one (the
 * host may put it there again), NaN when not measured. */
static double rt_of(const struct vs_place_in *in, int p, int c, bool *unstable)
{
	const struct vs_c2c_pair *pr = in->c2c ? vs_c2c_find(in->c2c, p, c) : NULL;

	if (unstable)
		*unstable = pr && pr->unstable;
	if (!pr)
		return NAN;
	return pr->unstable ? pr->high_ns : pr->median_ns;
}

/* ---- advice ----------------------------------------------------------------------- */

static struct vs_place_advice *advise(struct vs_placement *pl, const char *knob,
				      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct vs_place_advice *advise(struct vs_placement *pl, const char *knob,
				      const char *fmt, ...)
{
	struct vs_place_advice *x;
	va_list ap;

	if (pl->n_advice >= VS_PLACE_MAX_ADVICE)
		return NULL;
	x = &pl->advice[pl->n_advice++];
	memset(x, 0, sizeof(*x));
	snprintf(x->a.knob, sizeof(x->a.knob), "%s", knob);
	x->a.applies = VS_APPLY_NOW;
	va_start(ap, fmt);
	vsnprintf(x->a.why, sizeof(x->a.why), fmt, ap);
	va_end(ap);
	return x;
}

/*
 * The model before and after the pair (p0, c0) becomes (p1, c1): the
 * hand-off of a message changes by d = h(p1, c1) - h(p0, c0), the cost
 * measured on each pair (else their round trips), and each side pulls the
 * other's lines, so Wp and Wc each change by d / 2.
 */
static void predict_move(const struct vs_place_in *in, struct vs_place_advice *x,
			 int p0, int c0, int p1, int c1)
{
	const struct vs_verdict *v = in->verdict;
	double h0 = handoff_of(in, p0, c0), h1 = handoff_of(in, p1, c1), d;
	struct vs_params q;
	const char *what = in->handoff_what ? in->handoff_what : "one message";

	if (!v || !v->known) {
		snprintf(x->model, sizeof(x->model), "no verdict: nothing to predict");
		return;
	}
	if (isfinite(h0) && isfinite(h1)) {
		d = h1 - h0;
		snprintf(x->model, sizeof(x->model),
			 "Wp, Wc %s%s each: half the measured hand-off change (%s: %s -> %s, CPUs %d,%d -> %d,%d)",
			 d >= 0 ? "+" : "", VS_TIME(d / 2), what, VS_TIME(h0), VS_TIME(h1), p0, c0, p1, c1);
	} else {
		double r0 = rt_of(in, p0, c0, NULL), r1 = rt_of(in, p1, c1, NULL);

		if (!isfinite(r0) || !isfinite(r1)) {
			snprintf(x->model, sizeof(x->model),
				 "no measured hand-off or round trip for CPUs %d,%d: not predicted", p1, c1);
			return;
		}
		d = r1 - r0;
		snprintf(x->model, sizeof(x->model),
			 "Wp, Wc %s%s each: half the round-trip change (%s -> %s, %s)",
			 d >= 0 ? "+" : "", VS_TIME(d / 2), VS_TIME(r0), VS_TIME(r1), in->c2c_from ? in->c2c_from : "virtsync topo");
	}
	q = v->params;
	q.wp = fmax(q.wp + d / 2, 1);
	q.wc = fmax(q.wc + d / 2, 1);
	x->have_pred = !vs_params_validate(&v->params, NULL) &&
		       !vs_model_predict(&v->params, v->mech, &x->cur) &&
		       !vs_params_validate(&q, NULL) && !vs_model_predict(&q, v->mech, &x->pred);
}

/* The libvirt and QEMU forms of pinning one thread of the VM. */
static void pin_forms(struct vs_advice *a, const struct vs_vm *vm,
		      const struct vs_place_side *s, int cpu)
{
	const struct vs_thread *t = vm ? vs_vm_thread_by_tid(vm, s->tid) : NULL;
	int idx = t ? t->vcpu_index : -1;

	if (vm && vm->kind == VS_VM_PCDEV) {
		snprintf(a->qemu, sizeof(a->qemu), "virtsync bench ... --pin P,%d (the device's consumer)",
			 cpu);
		snprintf(a->libvirt, sizeof(a->libvirt), "not a libvirt domain");
	} else if (!strcmp(s->role, "vcpu")) {
		snprintf(a->qemu, sizeof(a->qemu), "taskset -pc %d %d  (vCPU %d thread)", cpu,
			 (int)s->tid, idx);
		snprintf(a->libvirt, sizeof(a->libvirt), "<cputune><vcpupin vcpu='%d' cpuset='%d'/></cputune>",
			 idx < 0 ? 0 : idx, cpu);
	} else if (!strcmp(s->role, "iothread")) {
		snprintf(a->qemu, sizeof(a->qemu), "taskset -pc %d %d  (%s)", cpu, (int)s->tid,
			 s->comm);
		snprintf(a->libvirt, sizeof(a->libvirt),
			 "<cputune><iothreadpin iothread='N' cpuset='%d'/></cputune> (N: %s's id)",
			 cpu, s->comm);
	} else {
		/* vhost workers are threads of QEMU's emulator (or, before
		 * Linux 6.4, kthreads in its cgroup): libvirt pins them with
		 * the emulator. */
		snprintf(a->qemu, sizeof(a->qemu), "taskset -pc %d %d  (%s)", cpu, (int)s->tid,
			 s->comm);
		snprintf(a->libvirt, sizeof(a->libvirt),
			 "<cputune><emulatorpin cpuset='%d'/></cputune> (vhost follows the emulator)",
			 cpu);
	}
}

/* Pin one side (the consumer, or the producer when `prod`) to CPU `to`. */
static struct vs_place_advice *move_side(const struct vs_place_in *in,
					 struct vs_placement *pl, bool prod, int to,
					 const char *why)
{
	const struct vs_place_side *sd = prod ? &pl->prod : &pl->cons;
	int p1 = prod ? to : pl->prod.cpu, c1 = prod ? pl->cons.cpu : to;
	struct vs_place_advice *x;
	bool unst;
	double rt = rt_of(in, p1, c1, &unst);
	char rtt[48] = "";

	if (isfinite(rt))
		snprintf(rtt, sizeof(rtt), ", round trip %s%s", VS_TIME(rt), unst ? " (slow mode)" : "");
	x = advise(pl, "thread.affinity", "%s: %s to CPU %d%s", why, sd->comm, to, rtt);
	if (!x)
		return NULL;
	x->a.pid = in->vm ? in->vm->pid : 0;
	x->a.tid = sd->tid;
	snprintf(x->a.role, sizeof(x->a.role), "%s", sd->role);
	snprintf(x->a.value, sizeof(x->a.value), "%d", to);
	snprintf(x->a.current, sizeof(x->a.current), "%d", sd->cpu);
	pin_forms(&x->a, in->vm, sd, to);
	predict_move(in, x, pl->prod.cpu, pl->cons.cpu, p1, c1);
	return x;
}

/*
 * Where to put the moving side, among the pairs measured: the cheapest
 * hand-off with the other side's CPU `fixed` (on `node` when >= 0, SMT
 * siblings of `fixed` excluded when no_smt), else the topology's pick.
 */
static int best_measured(const struct vs_place_in *in, bool prod, int fixed, int now,
			 int topo_pick, int node, bool no_smt)
{
	double best = INFINITY;
	int pick = topo_pick;
	unsigned int i;

	for (i = 0; i < in->n_handoff; i++) {
		const struct vs_place_handoff *h = &in->handoff[i];
		int cand = prod ? h->a : h->b, other = prod ? h->b : h->a;
		struct vs_topo_rel r;

		if (other != fixed || cand == now || cand == fixed || !isfinite(h->ns) ||
		    vs_topo_relate(in->topo, fixed, cand, &r) || (no_smt && r.smt) ||
		    (node >= 0 && node_of(in->topo, cand) != node))
			continue;
		if (h->ns < best) {
			best = h->ns;
			pick = cand;
		}
	}
	return pick;
}

/* Would the move make the measured hand-off dearer? Then it is not advised. */
static bool measured_worse(const struct vs_place_in *in, int p0, int c0, int p1, int c1)
{
	double h0 = handoff_of(in, p0, c0), h1 = handoff_of(in, p1, c1);

	return isfinite(h0) && isfinite(h1) && h1 >= h0;
}

static void audit_cache(const struct vs_place_in *in, struct vs_placement *pl,
			const struct vs_topo_rel *r)
{
	int p = pl->prod.cpu, c = pl->cons.cpu, to;
	bool spin = both_spin(in->verdict);

	if (spin && r->smt) {
		to = best_measured(in, false, p, c, closest_to(in->topo, p, -1, true, -1), -1, true);
		if (to >= 0)
			move_side(in, pl, false, to,
				  "both sides spin on one core (SMT siblings): they share its pipeline; keep a shared cache, not the core");
		return;
	}
	if (r->cache_level && r->cache_level <= 2 && r->same_node)
		return;		/* already sharing a core-local cache */
	to = best_measured(in, false, p, c, closest_to(in->topo, p, -1, spin, -1), -1, spin);
	if (to < 0 || to == c || measured_worse(in, p, c, p, to))
		return;
	move_side(in, pl, false, to,
		  "producer and consumer share no core-local cache: move the consumer next to the producer");
}

/* Both on one CPU: every hand-off waits for the other to be switched out. */
static void audit_shared_cpu(const struct vs_place_in *in, struct vs_placement *pl)
{
	int p = pl->prod.cpu, to;
	struct vs_place_advice *x;

	to = best_measured(in, false, p, p, closest_to(in->topo, p, -1, false, -1), -1, false);
	if (to < 0) {
		note(pl, "producer and consumer share CPU %d, and there is no other CPU", p);
		return;
	}
	x = move_side(in, pl, false, to,
		      "producer and consumer share one CPU: every hand-off waits for a context switch");
	if (x)
		snprintf(x->model, sizeof(x->model),
			 "not predicted: the model has each side on its own CPU; here they take turns on CPU %d",
			 p);
}

/*
 * On a NUMA host the queue belongs on the node of the guest's memory (ELVIS
 * lost up to 30 % with the I/O core on the other socket): the side that is
 * elsewhere moves there, next to the other; if both are elsewhere, the
 * vCPU moves first and the consumer follows it. Returns true when it
 * decided (the cache rule is then not applied on top).
 */
static bool audit_memory(const struct vs_place_in *in, struct vs_placement *pl)
{
	const struct vs_mem_nodes *m = in->mem;
	int home = home_node(in->topo, m), to;
	bool spin = both_spin(in->verdict);
	struct vs_place_advice *x;

	if (!m || !m->known) {
		note(pl, "guest memory: node not known (%s)", m ? m->why : "not read");
		return false;
	}
	pl->mem_node = m->nodes[0].node;
	pl->mem_share = m->total_kb ? (double)m->nodes[0].kb / (double)m->total_kb : NAN;
	if (m->total_kb >= 1048576)
		note(pl, "guest memory: %.0f%% of %.1f GiB on node %d", 100 * pl->mem_share,
		     m->total_kb / 1048576.0, pl->mem_node);
	else
		note(pl, "guest memory: %.0f%% of %.0f MiB on node %d", 100 * pl->mem_share,
		     m->total_kb / 1024.0, pl->mem_node);
	if (home < 0 || (pl->prod.node == home && pl->cons.node == home))
		return false;
	if (pl->prod.node != home) {
		to = pl->cons.node == home ?
		     best_measured(in, true, pl->cons.cpu, pl->prod.cpu,
				   closest_to(in->topo, pl->cons.cpu, home, spin, -1), home, spin) :
		     closest_to(in->topo, -1, home, false, -1);
		if (to < 0) {	/* no CPU next to C: the first of the node */
			unsigned int i;

			for (i = 0; i < in->topo->n_cpus && to < 0; i++)
				if (in->topo->cpus[i].node == home &&
				    in->topo->cpus[i].id != pl->cons.cpu)
					to = in->topo->cpus[i].id;
		}
		x = to < 0 ? NULL : move_side(in, pl, true, to, pl->cons.node == home ?
			"the vCPU runs on another node than its memory and the consumer: move it next to them" :
			"the vCPU runs on another node than its memory: move it there");
		if (x)
			snprintf(x->model + strlen(x->model), sizeof(x->model) - strlen(x->model),
				 "; remote memory itself not modelled (ELVIS: up to 30%% lost)");
		if (pl->cons.node == home || to < 0)
			return true;
		/* both were elsewhere: the consumer follows the vCPU */
		x = move_side(in, pl, false, closest_to(in->topo, to, home, spin, -1) >= 0 ?
			      closest_to(in->topo, to, home, spin, -1) : to,
			      "and the consumer next to the vCPU's new CPU");
		return true;
	}
	to = best_measured(in, false, pl->prod.cpu, pl->cons.cpu,
			   closest_to(in->topo, pl->prod.cpu, home, spin, -1), home, spin);
	if (to < 0)
		return false;
	x = move_side(in, pl, false, to,
		      "the consumer touches guest memory on another node: move it next to the vCPU, on the memory's node");
	if (x)
		snprintf(x->model + strlen(x->model), sizeof(x->model) - strlen(x->model),
			 "; remote memory itself not modelled (ELVIS: up to 30%% lost)");
	return true;
}

static void audit_irqs(const struct vs_place_in *in, struct vs_placement *pl)
{
	int cons_cpu = pl->cons.cpu;
	unsigned int i;

	/* Where the consumer will run if the advice above is taken. */
	for (i = 0; i < pl->n_advice; i++)
		if (!strcmp(pl->advice[i].a.knob, "thread.affinity") &&
		    pl->advice[i].a.tid == pl->cons.tid)
			cons_cpu = atoi(pl->advice[i].a.value);

	for (i = 0; i < in->n_irqs; i++) {
		const struct vs_irq_info *q = &in->irqs[i];
		int cpu = vs_cpuset_next(&q->effective, -1);
		struct vs_topo_rel r;
		char aff[64];
		struct vs_place_advice *x;

		vs_cpuset_format(&q->affinity, aff, sizeof(aff));
		note(pl, "IRQ %u %s (%s): affinity %s, handled on %s%d, %llu since boot",
		     q->irq, q->name[0] ? q->name : "?", q->owner, aff[0] ? aff : "?",
		     q->busiest_cpu >= 0 ? "CPU " : "", q->busiest_cpu,
		     (unsigned long long)q->count);
		if (cons_cpu < 0 || cpu < 0 || vs_cpuset_count(&q->effective) != 1 ||
		    vs_topo_relate(in->topo, cpu, cons_cpu, &r) || r.same_cpu ||
		    (r.cache_level && r.cache_level <= 2))
			continue;
		x = advise(pl, "irq.affinity",
			   "IRQ %u (%s) lands on CPU %d, which shares no core-local cache with %s on CPU %d: steer it there",
			   q->irq, q->name, cpu, pl->cons.comm, cons_cpu);
		if (!x)
			continue;
		x->a.irq = q->irq;
		snprintf(x->a.value, sizeof(x->a.value), "%d", cons_cpu);
		snprintf(x->a.current, sizeof(x->a.current), "%.47s", aff);
		snprintf(x->a.qemu, sizeof(x->a.qemu),
			 "echo %d > /proc/irq/%u/smp_affinity_list (irqbalance: --banirq=%u)",
			 cons_cpu, q->irq, q->irq);
		snprintf(x->a.libvirt, sizeof(x->a.libvirt), "no domain XML element: host IRQ");
		snprintf(x->model, sizeof(x->model),
			 "not modelled: the interrupt's work moves next to the consumer it wakes");
	}
}

static void audit_virt(const struct vs_place_in *in, struct vs_placement *pl)
{
	const struct vs_virt_irq *v = in->virt;

	if (!v)
		return;
	if (!v->known) {
		note(pl, "posted interrupts / APICv / AVIC: %s", v->why);
		return;
	}
	if (!strcmp(v->module, "kvm_intel"))
		note(pl, "APICv %s (posted interrupts reach a running vCPU without an exit)%s",
		     v->apicv ? "on" : "OFF: every interrupt to a running vCPU exits",
		     v->ipiv == 1 ? ", IPI virtualization on" : v->ipiv == 0 ? ", IPI virtualization off" : "");
	else
		note(pl, "AVIC %s", v->avic ? "on (interrupts reach a running vCPU without an exit)" :
		     "OFF: every interrupt to a running vCPU exits (kvm_amd avic=1)");
}

int vs_placement_audit(const struct vs_place_in *in, struct vs_placement *pl)
{
	struct vs_topo_rel r;
	char rel[48];

	if (!in || !pl || !in->topo || !in->sample)
		return -EINVAL;
	memset(pl, 0, sizeof(*pl));
	pl->rt_ns = pl->rt_low_ns = pl->rt_high_ns = NAN;
	pl->mem_node = -1;
	pl->mem_share = NAN;
	side_of(&in->sample->prod, in->topo, &pl->prod);
	side_of(&in->sample->cons, in->topo, &pl->cons);
	audit_virt(in, pl);
	if (!pl->prod.known || !pl->cons.known) {
		snprintf(pl->why, sizeof(pl->why), "where the %s ran is not known (%s)",
			 !pl->prod.known ? "producer" : "consumer",
			 !pl->prod.known ? (pl->prod.tid ? "it left the window" : "no producer thread") :
			 (pl->cons.tid ? "it left the window" : "no consumer thread"));
		return 0;
	}
	if (vs_topo_relate(in->topo, pl->prod.cpu, pl->cons.cpu, &r)) {
		snprintf(pl->why, sizeof(pl->why), "CPU %d or %d is not online now",
			 pl->prod.cpu, pl->cons.cpu);
		return 0;
	}
	pl->known = true;
	snprintf(pl->relation, sizeof(pl->relation), "%s", vs_topo_rel_name(&r, rel, sizeof(rel)));
	if (in->c2c) {
		const struct vs_c2c_pair *p = vs_c2c_find(in->c2c, pl->prod.cpu, pl->cons.cpu);

		if (p) {
			pl->rt_ns = p->median_ns;
			pl->rt_unstable = p->unstable;
			pl->rt_low_ns = p->low_ns;
			pl->rt_high_ns = p->high_ns;
		}
	}
	if (pl->prod.share < 0.8 || pl->cons.share < 0.8)
		note(pl, "the threads moved during the window (producer %s; consumer %s): pinning them holds the placement",
		     pl->prod.cpus, pl->cons.cpus);
	if (pl->rt_unstable)
		note(pl, "round trip between CPUs %d and %d has two modes, %s or %s: the host moves these CPUs",
		     pl->prod.cpu, pl->cons.cpu, VS_TIME(pl->rt_low_ns), VS_TIME(pl->rt_high_ns));
	if (!audit_memory(in, pl)) {
		if (pl->prod.cpu == pl->cons.cpu)
			audit_shared_cpu(in, pl);
		else
			audit_cache(in, pl, &r);
	}
	audit_irqs(in, pl);
	return 0;
}
