// SPDX-License-Identifier: GPL-2.0-only
/* Regime identification from a measured sample (see classify.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analyze/classify.h"
#include "core/units.h"

/* QEMU's default virtqueue size, used when the queue length is not
 * published (virtio-net rx/tx_queue_size, virtio-blk queue-size). */
#define DEFAULT_LEN 256

const char *vs_wait_name(enum vs_wait_kind w)
{
	switch (w) {
	case VS_WAIT_NOTIFY: return "notify";
	case VS_WAIT_SLEEP: return "sleep";
	default: return "none";
	}
}

const char *vs_fast_name(enum vs_fast f)
{
	switch (f) {
	case VS_FAST_PRODUCER: return "producer";
	case VS_FAST_CONSUMER: return "consumer";
	default: return "unknown";
	}
}

static void add_est(struct vs_verdict *v, const char *name, double value,
		    const char *unit, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void add_est(struct vs_verdict *v, const char *name, double value,
		    const char *unit, const char *fmt, ...)
{
	struct vs_estimate *e;
	va_list ap;

	if (v->n_est >= VS_MAX_ESTIMATES)
		return;
	e = &v->est[v->n_est++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->value = value;
	snprintf(e->unit, sizeof(e->unit), "%s", unit);
	va_start(ap, fmt);
	vsnprintf(e->from, sizeof(e->from), fmt, ap);
	va_end(ap);
}

double vs_verdict_est(const struct vs_verdict *v, const char *name)
{
	unsigned int i;

	for (i = 0; i < v->n_est; i++)
		if (!strcmp(v->est[i].name, name))
			return v->est[i].value;
	return NAN;
}

static void add_ineq(struct vs_verdict *v, const char *expr, double lhs,
		     double rhs)
{
	struct vs_inequality *q = &v->ineq[v->n_ineq++];

	snprintf(q->expr, sizeof(q->expr), "%s", expr);
	q->lhs = lhs;
	q->rhs = rhs;
	q->known = isfinite(lhs) && isfinite(rhs);
	q->holds = q->known && lhs > rhs;
}

/*
 * A rate of waits or notifications counts when it is more than noise: a few
 * per second, and either frequent in absolute terms or at least one per
 * 5000 items (the largest batches the paper's regimes reach, sFP at Yp
 * 20 us over 300 ns items, are ~70 items per sleep).
 */
static bool significant(double rate, double items_per_s)
{
	if (!isfinite(rate) || rate < 2)
		return false;
	return rate >= 50 || !isfinite(items_per_s) || rate >= 2e-4 * items_per_s;
}

static enum vs_wait_kind side_wait(const struct vs_thread_sample *t,
				   double notif_per_s, double items_per_s)
{
	double waits = t->present ? t->waits_per_s : NAN;

	if (significant(waits, items_per_s)) {
		if (isfinite(notif_per_s) && notif_per_s >= 0.3 * waits)
			return VS_WAIT_NOTIFY;
		if (t->n_samples && t->frac_sleep > t->frac_wait)
			return VS_WAIT_SLEEP;
		/* It blocks, nobody notifies it: a timed wait (a guest's
		 * TSC-deadline HLT shows as a wait in KVM_RUN). */
		if (isfinite(notif_per_s) && notif_per_s < 0.05 * waits)
			return VS_WAIT_SLEEP;
		return VS_WAIT_NOTIFY;
	}
	/* Notified without scheduling out: halt polling or a busy loop
	 * caught the notification. Still the notification mechanism. */
	if (significant(notif_per_s, items_per_s))
		return VS_WAIT_NOTIFY;
	return VS_WAIT_NONE;
}

/* Below this ratio of waits per item the rarer side's waits are incidental:
 * in the short-queue regimes both sides wait once per round (ratio ~1). */
#define DOMINANCE 0.1
/* A waiting side needing this many times its peer's CPU per item is not the
 * fast one: the peer is starved of CPU. */
#define CONTENTION 2.0

static double nz(double x)
{
	return isfinite(x) ? x : 0;
}

/* The share of the window a thread wanted a CPU: running or runnable. On a
 * shared machine a bottleneck thread that never waits can still show 40 %
 * CPU, the rest spent waiting on the runqueue. */
static double demand(const struct vs_thread_sample *t)
{
	double d = t->cpu + (isfinite(t->runq) ? t->runq : 0);

	return d > 1 ? 1 : d;
}

/*
 * A vCPU's wait is a HLT exit: KVM emulates the timer or interrupt that ends
 * it, and halt polling spins on the host before it blocks. Under load those
 * exits cost tens of us of host CPU each (more when KVM's instruction
 * emulator runs the guest), none of it the guest's work on items. A vCPU
 * that waits at least once per item therefore shows CPU per item that
 * measures its exits, not its work: that CPU tells nothing about which
 * side is faster. Host threads' waits cost a few us and are left alone.
 */
static bool cpu_is_exits(const struct vs_thread_sample *t, double items_per_s)
{
	return t->present && t->role == VS_ROLE_VCPU && isfinite(t->waits_per_s) &&
	       isfinite(items_per_s) && items_per_s > 0 &&
	       t->waits_per_s >= items_per_s;
}

static double per_item(double rate, double items_per_s)
{
	if (!isfinite(rate) || !isfinite(items_per_s) || items_per_s <= 0)
		return NAN;
	return rate / items_per_s;
}

static double clamp_pos(double x, double floor_ns)
{
	return isfinite(x) && x > floor_ns ? x : floor_ns;
}

static void write_summary(struct vs_verdict *v, const struct vs_sample *s)
{
	const char *c_name = s->cons.present ? s->cons.comm : "consumer";
	const char *p_name = s->prod.present ? s->prod.comm : "producer";
	double b = vs_verdict_est(v, "b");
	char y[32];

	switch (v->regime) {
	case VS_REGIME_NFC:
		if (v->kicks_per_item >= 0.5)
			snprintf(v->summary, sizeof(v->summary),
				 "fast consumer: %.2f kicks per item; the %s thread drains the ring and blocks after almost every item: notification storm",
				 v->kicks_per_item, c_name);
		else
			snprintf(v->summary, sizeof(v->summary),
				 "fast consumer: %.3f kicks per item; the %s thread drains the ring and blocks every %.0f items; the producer never waits",
				 v->kicks_per_item, c_name, b);
		break;
	case VS_REGIME_SFC:
		vs_format_time(vs_verdict_est(v, "Yc"), y, sizeof(y));
		snprintf(v->summary, sizeof(v->summary),
			 "fast consumer: the %s thread empties the ring and sleeps (%s per sleep, %.1f items per wake-up); the producer never waits",
			 c_name, y, b);
		break;
	case VS_REGIME_NFP:
		snprintf(v->summary, sizeof(v->summary),
			 "fast producer: %.4f interrupts per item; the %s thread fills the ring, blocks and is woken every %.0f items; the consumer never waits",
			 v->irqs_per_item, p_name, b);
		break;
	case VS_REGIME_SFP:
		vs_format_time(vs_verdict_est(v, "Yp"), y, sizeof(y));
		snprintf(v->summary, sizeof(v->summary),
			 "fast producer: the %s thread fills the ring and sleeps (%s per sleep, %.0f items per wake-up); the consumer never waits",
			 p_name, y, b);
		break;
	case VS_REGIME_SLS:
		snprintf(v->summary, sizeof(v->summary),
			 "long sleeps: both sides sleep (producer every %.0f items, consumer every %.0f): the fast side sleeps too long for the queue and throughput falls below the slower side",
			 1 / v->p_waits_per_item, 1 / v->c_waits_per_item);
		break;
	case VS_REGIME_NSCS:
		vs_format_time(vs_verdict_est(v, "Sc"), y, sizeof(y));
		snprintf(v->summary, sizeof(v->summary),
			 "short queue, slow consumer start-up: both sides block; the consumer is faster but takes %s to wake, so the producer fills the %u-slot ring and waits",
			 y, v->params.len);
		break;
	case VS_REGIME_NSPS:
		vs_format_time(vs_verdict_est(v, "Sp"), y, sizeof(y));
		snprintf(v->summary, sizeof(v->summary),
			 "short queue, slow producer start-up: both sides block; the producer is faster but takes %s to wake, so the consumer empties the %u-slot ring and waits",
			 y, v->params.len);
		break;
	case VS_REGIME_NSS:
		snprintf(v->summary, sizeof(v->summary),
			 "short queue, slow start-up on both sides: producer and consumer take turns (CPU %.0f%% and %.0f%%) instead of working in parallel",
			 s->prod.cpu * 100, s->cons.cpu * 100);
		break;
	case VS_REGIME_BW:
	default:
		snprintf(v->summary, sizeof(v->summary),
			 "busy waiting: both threads run all the time (CPU %.0f%% and %.0f%%), no notifications, no sleeps",
			 s->prod.cpu * 100, s->cons.cpu * 100);
		break;
	}
}

int vs_classify(const struct vs_sample *s, const struct vs_hostcosts *hc,
		struct vs_verdict *v)
{
	double R = s->items_per_s, T, ep, ec, wp, wc, b = NAN, n, np, sp, sc, yp, yc;
	char np_from[256];
	double kpi, ipi, clarity = 1, agree = 1, incidental = 0, contention_cpu = 0;
	char contention_who[32] = "";
	bool contention = false, exits_blur = false;
	const struct vs_thread_sample *starved_fast = NULL;
	unsigned int len = s->len ? s->len : DEFAULT_LEN, kc;
	struct vs_params *p = &v->params;

	memset(v, 0, sizeof(*v));
	v->confidence = 0;
	if (!s->have_items && !s->prod.present && !s->cons.present)
		return -EINVAL;
	if (!s->have_items || !isfinite(R) || R <= 0) {
		snprintf(v->summary, sizeof(v->summary),
			 "no items moved during the window: nothing to classify");
		return 0;
	}
	if (!s->prod.present || !s->cons.present) {
		snprintf(v->summary, sizeof(v->summary),
			 "the %s thread could not be measured: no verdict",
			 s->prod.present ? "consumer" : "producer");
		return 0;
	}
	T = 1e9 / R;
	kpi = per_item(s->kicks_per_s, R);
	ipi = per_item(s->irqs_per_s, R);
	v->kicks_per_item = kpi;
	v->irqs_per_item = ipi;
	v->p_waits_per_item = per_item(s->prod.waits_per_s, R);
	v->c_waits_per_item = per_item(s->cons.waits_per_s, R);
	v->p_wait = side_wait(&s->prod, s->irqs_per_s, R);
	v->c_wait = side_wait(&s->cons, s->kicks_per_s, R);
	/*
	 * On a shared machine the slow side also blocks now and then (the fast
	 * one was descheduled and the ring filled or drained): a side waiting
	 * far less often per item than its peer is not a waiting side. In the
	 * short-queue regimes both wait about once per round (ratio ~1).
	 */
	if (v->p_wait != VS_WAIT_NONE && v->c_wait != VS_WAIT_NONE) {
		double pw = fmax(nz(v->p_waits_per_item), nz(ipi));
		double cw = fmax(nz(v->c_waits_per_item), nz(kpi));
		double ratio = fmin(pw, cw) / fmax(pw, cw);

		if (ratio < DOMINANCE) {
			if (pw < cw)
				v->p_wait = VS_WAIT_NONE;
			else
				v->c_wait = VS_WAIT_NONE;
			incidental = ratio / DOMINANCE;
		}
	}
	ep = s->prod.cpu * T;
	ec = s->cons.cpu * T;
	n = hc ? hc->notify_ns : NAN;
	/* A vCPU producer's kick is a VM exit: its measured cost where
	 * kvm_exit/kvm_entry fire, else the host's eventfd write, and the
	 * estimate says which. Nc stays the host's: the consumer's interrupt
	 * is an irqfd (eventfd) write on the host. */
	np = s->have_kick_exit ? s->kick_exit_ns : n;
	v->np_from_exits = s->have_kick_exit;
	if (s->have_kick_exit)
		snprintf(np_from, sizeof(np_from), "%s", s->kick_exit_from);
	else if (s->vm_kvm)
		snprintf(np_from, sizeof(np_from), "%s, not the kick's VM exit (%s)",
			 hc ? hc->notify_from : "not measured", s->kick_exit_from);
	else
		snprintf(np_from, sizeof(np_from), "%s", hc ? hc->notify_from : "not measured");
	sp = sc = hc ? hc->wake_ns : NAN;
	/* A real guest shows its own start-up: its vCPU woken by QEMU. */
	if (s->have_guest_sp)
		sp = s->guest_sp_ns;
	/*
	 * S is the whole start-up after a notification: syscall, wake-up, idle
	 * exit, switch, return to work. The ping-pong measures exactly that
	 * path on this host. The probes' sched_wakeup -> running latency of
	 * each thread is reported next to it (Sp_sched, Sc_sched) but does not
	 * replace it: it is only the scheduler's part, and on a shared machine
	 * its tail is CPU contention, not the wake-up mechanism.
	 */

	/* The effective length of one wait: idle time over waits. */
	yp = s->prod.waits_per_s > 0 ? fmax(1 - demand(&s->prod), 0) / s->prod.waits_per_s * 1e9 : NAN;
	yc = s->cons.waits_per_s > 0 ? fmax(1 - demand(&s->cons), 0) / s->cons.waits_per_s * 1e9 : NAN;

	add_est(v, "T", T, "ns", "1 / %.0f items/s (%s)", R,
		s->items_from[0] ? s->items_from : "device counters");

	if (v->p_wait == VS_WAIT_NONE && v->c_wait == VS_WAIT_NONE) {
		v->regime = VS_REGIME_BW;
		v->mech = VS_MECH_BUSY;
		v->fast = VS_FAST_UNKNOWN;
		wp = wc = T;
		/* Both at full CPU is the signature; a side well below it
		 * without waiting is being preempted, not busy waiting. */
		clarity = fmin(demand(&s->prod), demand(&s->cons)) / 0.9;
		if (clarity > 1)
			clarity = 1;
		add_est(v, "W", T, "ns",
			"throughput; which side is slower is not visible without notifications");
	} else if (v->p_wait == VS_WAIT_NONE) {
		v->fast = VS_FAST_CONSUMER;
		v->mech = v->c_wait == VS_WAIT_NOTIFY ? VS_MECH_NOTIFY : VS_MECH_SLEEP;
		v->regime = v->mech == VS_MECH_NOTIFY ? VS_REGIME_NFC : VS_REGIME_SFC;
		b = v->mech == VS_MECH_NOTIFY && kpi > 0 ? 1 / kpi : 1 / v->c_waits_per_item;
		/* CPU per item, not T: on a shared machine the producer also
		 * waits on the runqueue, which is not work. */
		wp = v->mech == VS_MECH_NOTIFY && isfinite(np) ? ep - np / b : ep;
		wp = clamp_pos(wp, 1);
		wc = clamp_pos(ec, 1);
		clarity = demand(&s->prod) / 0.9 > 1 ? 1 : demand(&s->prod) / 0.9;
		add_est(v, "W", T, "ns", "throughput: the producer never waits, W = Wp");
	} else if (v->c_wait == VS_WAIT_NONE) {
		v->fast = VS_FAST_PRODUCER;
		v->mech = v->p_wait == VS_WAIT_NOTIFY ? VS_MECH_NOTIFY : VS_MECH_SLEEP;
		v->regime = v->mech == VS_MECH_NOTIFY ? VS_REGIME_NFP : VS_REGIME_SFP;
		b = v->mech == VS_MECH_NOTIFY && ipi > 0 ? 1 / ipi : 1 / v->p_waits_per_item;
		wc = v->mech == VS_MECH_NOTIFY && isfinite(n) ? ec - n / b : ec;
		wc = clamp_pos(wc, 1);
		wp = clamp_pos(ep, 1);
		clarity = demand(&s->cons) / 0.9 > 1 ? 1 : demand(&s->cons) / 0.9;
		add_est(v, "W", T, "ns", "throughput: the consumer never waits, W = Wc");
	} else {
		/* Both wait: CPU per item tells the faster one. */
		wp = clamp_pos(ep, 1);
		wc = clamp_pos(ec, 1);
		/* CPU per item tells the faster side when it differs
		 * clearly; otherwise the side that waits more often. The
		 * larger CPU per item is no evidence when it is a vCPU's
		 * exits (cpu_is_exits). */
		bool cpu_says = fabs(wp - wc) > 0.25 * fmax(wp, wc);

		if (cpu_says && cpu_is_exits(wc < wp ? &s->prod : &s->cons, R))
			cpu_says = false, exits_blur = true;
		if (cpu_says)
			v->fast = wc < wp ? VS_FAST_CONSUMER : VS_FAST_PRODUCER;
		else
			v->fast = nz(v->c_waits_per_item) > nz(v->p_waits_per_item) ?
				  VS_FAST_CONSUMER : VS_FAST_PRODUCER;
		if (v->p_wait == VS_WAIT_SLEEP && v->c_wait == VS_WAIT_SLEEP)
			v->mech = VS_MECH_SLEEP;
		else if (v->p_wait == VS_WAIT_NOTIFY && v->c_wait == VS_WAIT_NOTIFY)
			v->mech = VS_MECH_NOTIFY;
		else	/* mixed: the fast side's way of waiting decides */
			v->mech = (v->fast == VS_FAST_CONSUMER ? v->c_wait : v->p_wait) ==
				  VS_WAIT_NOTIFY ? VS_MECH_NOTIFY : VS_MECH_SLEEP;
		b = 1 / fmax(v->p_waits_per_item, v->c_waits_per_item);
		add_est(v, "W", fmax(wp, wc), "ns",
			"CPU per item of the slower side (both sides wait)");
		clarity = fabs(wp - wc) / fmax(wp, wc) > 0.2 && !exits_blur ? 0.8 : 0.6;
		v->regime = v->mech == VS_MECH_SLEEP ? VS_REGIME_SLS : VS_REGIME_NSS;
	}

	/* Queue thresholds: virtio kicks at the first item after the consumer
	 * re-enables notifications (kp = 1); the interrupt threshold is not
	 * visible from outside: the fast producer's batch bounds it, else
	 * Linux's virtqueue_enable_cb_delayed() default of 3/4 L. */
	kc = (unsigned int)(len * 3 / 4);
	if (v->regime == VS_REGIME_NFP && isfinite(b) && b >= 1 && b < len)
		kc = (unsigned int)b;
	if (!kc)
		kc = 1;

	add_est(v, "Wp", wp, "ns",
		v->fast == VS_FAST_CONSUMER ? "producer CPU per item minus the amortized kick cost Np/b"
					    : "producer CPU per item");
	add_est(v, "Wc", wc, "ns",
		v->fast == VS_FAST_PRODUCER ? "consumer CPU per item minus the amortized interrupt cost Nc/b"
					    : "consumer CPU per item");
	if (isfinite(b))
		add_est(v, "b", b, "items", "%s",
			v->regime == VS_REGIME_NFC ? "items per kick" :
			v->regime == VS_REGIME_NFP ? "items per interrupt" :
			"items per wait of the fast side");
	add_est(v, "Np", np, "ns", "%s", np_from);
	add_est(v, "Nc", n, "ns", "%s", hc ? hc->notify_from : "not measured");
	add_est(v, "Sp", sp, "ns", "%s", s->have_guest_sp ? s->guest_sp_from :
		hc ? hc->wake_from : "not measured");
	add_est(v, "Sc", sc, "ns", "%s", hc ? hc->wake_from : "not measured");
	if (isfinite(s->prod.wake_lat_ns) && s->prod.wakeups_per_s >= 5)
		add_est(v, "Sp_sched", s->prod.wake_lat_ns, "ns",
			"median sched_wakeup -> running of %s (BPF probes)", s->prod.comm);
	if (isfinite(s->cons.wake_lat_ns) && s->cons.wakeups_per_s >= 5)
		add_est(v, "Sc_sched", s->cons.wake_lat_ns, "ns",
			"median sched_wakeup -> running of %s (BPF probes)", s->cons.comm);
	if (v->p_wait == VS_WAIT_SLEEP)
		add_est(v, "Yp", yp, "ns", "producer idle time per sleep (schedstat)");
	if (v->c_wait == VS_WAIT_SLEEP)
		add_est(v, "Yc", yc, "ns", "consumer idle time per sleep (schedstat)");
	add_est(v, "Yz", hc ? hc->yz_ns : NAN, "ns", "%s", hc ? hc->yz_from : "not measured");
	add_est(v, "L", len, "slots", "%s", s->len_from[0] ? s->len_from :
		s->len ? "published by the device" : "not visible: QEMU default 256");

	/* The inequalities of Table 2 (sleeping) or Table 3 (notifications). */
	add_ineq(v, "Wp > Wc", wp, wc);
	if (v->mech == VS_MECH_SLEEP) {
		double ycv = isfinite(yc) ? yc : 0, ypv = isfinite(yp) ? yp : 0;

		add_ineq(v, "(L-1)Wp-Wc > Yc", (len - 1) * wp - wc, ycv);
		add_ineq(v, "(L-1)Wc-Wp > Yp", (len - 1) * wc - wp, ypv);
	} else if (v->mech == VS_MECH_NOTIFY) {
		add_ineq(v, "(L-kp)Wp-Wc > Sc", (len - 1) * wp - wc, sc);
		add_ineq(v, "(L-kc)Wc-Wp > Sp", ((double)len - kc) * wc - wp, sp);
	}

	/*
	 * Both sides wait: Tables 2 and 3 on the estimates decide whether the
	 * queue is too short for the start-up (or sleep) of the peer. With the
	 * fast side's inequality holding, the queue absorbs it and the other
	 * side's waits come from CPU contention (descheduled threads), not
	 * from the regime: the fast-party regime, at lower confidence.
	 */
	if ((v->regime == VS_REGIME_NSS || v->regime == VS_REGIME_SLS) &&
	    v->n_ineq == 3 && v->ineq[1].known && v->ineq[2].known) {
		bool fc = v->fast == VS_FAST_CONSUMER;
		bool i2 = v->ineq[1].holds, i3 = v->ineq[2].holds;
		bool sleep = v->regime == VS_REGIME_SLS;

		if (fc && i2)
			v->regime = sleep ? VS_REGIME_SFC : VS_REGIME_NFC;
		else if (!fc && i3)
			v->regime = sleep ? VS_REGIME_SFP : VS_REGIME_NFP;
		else if (!sleep && !i2 && i3)
			v->regime = VS_REGIME_NSCS;
		else if (!sleep && i2 && !i3)
			v->regime = VS_REGIME_NSPS;
		if (v->regime != VS_REGIME_NSS && v->regime != VS_REGIME_SLS &&
		    v->regime != VS_REGIME_NSCS && v->regime != VS_REGIME_NSPS)
			agree = 0.7;
		/*
		 * A short-queue verdict says the fast side is slow to start
		 * after a notification. When that side spent more of the
		 * window runnable on a runqueue than running, its start-up
		 * here is CPU contention (and so is the ping-pong's S), not
		 * the wake-up mechanism: from this window the two cannot be
		 * told apart, and the verdict says so at low confidence.
		 */
		if (v->regime == VS_REGIME_NSCS || v->regime == VS_REGIME_NSPS ||
		    v->regime == VS_REGIME_NSS) {
			const struct vs_thread_sample *f = fc ? &s->cons : &s->prod;

			if (isfinite(f->runq) && isfinite(f->cpu) && f->runq > f->cpu)
				starved_fast = f;
		}
	}
	if (starved_fast)
		agree *= 0.5;

	/*
	 * Contention check: the side seen waiting is the fast one only if it
	 * does not also need clearly more CPU per item than its peer. When it
	 * needs over twice as much, its waits come from a peer that gets too
	 * little CPU (descheduled, not slow at its work): the work decides the
	 * direction and Tables 2/3 on the estimates the regime (Sec. 7.1 names
	 * notification rates as a rough guide, W itself is the definition).
	 */
	if ((v->regime == VS_REGIME_NFC || v->regime == VS_REGIME_SFC ||
	     v->regime == VS_REGIME_NFP || v->regime == VS_REGIME_SFP) &&
	    isfinite(ep) && isfinite(ec) && ep > 0 && ec > 0) {
		bool fc = v->fast == VS_FAST_CONSUMER;
		double waiter = fc ? ec : ep, other = fc ? ep : ec;

		/* A vCPU waiter whose CPU is its exits: its work per item
		 * is not known, so the waits observed are the evidence
		 * (with lower confidence below). */
		if (waiter > CONTENTION * other &&
		    cpu_is_exits(fc ? &s->cons : &s->prod, R)) {
			exits_blur = true;
		} else if (waiter > CONTENTION * other) {
			const struct vs_thread_sample *starved = fc ? &s->prod : &s->cons;

			v->fast = fc ? VS_FAST_PRODUCER : VS_FAST_CONSUMER;
			v->params.wp = wp = clamp_pos(ep, 1);
			v->params.wc = wc = clamp_pos(ec, 1);
			v->ineq[0].lhs = wp;
			v->ineq[0].rhs = wc;
			v->ineq[0].holds = wp > wc;
			if (v->mech == VS_MECH_SLEEP)
				v->regime = fc ? VS_REGIME_SFP : VS_REGIME_SFC;
			else if (fc)	/* now fast producer: its inequality */
				v->regime = v->ineq[2].known && !v->ineq[2].holds ?
					    VS_REGIME_NSPS : VS_REGIME_NFP;
			else
				v->regime = v->ineq[1].known && !v->ineq[1].holds ?
					    VS_REGIME_NSCS : VS_REGIME_NFC;
			/* b now counts items per wait of the new fast side. */
			for (unsigned int k = 0; k < v->n_est; k++) {
				double per = fc ? fmax(nz(ipi), nz(v->p_waits_per_item))
						: fmax(nz(kpi), nz(v->c_waits_per_item));

				if (strcmp(v->est[k].name, "b"))
					continue;
				v->est[k].value = per > 0 ? 1 / per : NAN;
				snprintf(v->est[k].from, sizeof(v->est[k].from),
					 "items per wait of the fast side");
			}
			contention = true;
			contention_cpu = starved->cpu;
			snprintf(contention_who, sizeof(contention_who), "%s",
				 starved->comm);
			agree *= 0.5;
		}
	}

	/* Cross-check the observed regime against the inequalities. */
	if (v->n_ineq >= 1 && v->ineq[0].known && v->fast != VS_FAST_UNKNOWN &&
	    (v->regime == VS_REGIME_NFC || v->regime == VS_REGIME_SFC ||
	     v->regime == VS_REGIME_NFP || v->regime == VS_REGIME_SFP)) {
		bool fc = v->fast == VS_FAST_CONSUMER;

		if (v->ineq[0].holds != fc)
			agree *= 0.8;
		if (v->n_ineq == 3 && v->ineq[fc ? 1 : 2].known &&
		    !v->ineq[fc ? 1 : 2].holds)
			agree *= 0.7;
	}
	if (R < 100)
		agree *= 0.5;
	agree *= 1 - 0.5 * incidental;
	v->confidence = clarity * agree;
	if (v->confidence < 0.05)
		v->confidence = 0.05;

	/* Model parameters for lib/recommend. */
	p->len = len;
	p->kp = 1;
	p->kc = kc;
	p->wp = wp;
	p->wc = wc;
	p->np = isfinite(np) ? np : 0;
	p->nc = isfinite(n) ? n : 0;
	p->sp = isfinite(sp) ? sp : 0;
	p->sc = isfinite(sc) ? sc : 0;
	p->yz = hc && isfinite(hc->yz_ns) ? hc->yz_ns : 0;
	p->yp = isfinite(yp) && v->p_wait == VS_WAIT_SLEEP ? yp : p->yz;
	p->yc = isfinite(yc) && v->c_wait == VS_WAIT_SLEEP ? yc : p->yz;
	v->known = true;
	write_summary(v, s);
	if (starved_fast) {
		size_t used = strlen(v->summary);

		snprintf(v->summary + used, sizeof(v->summary) - used,
			 " (but %s waited on a runqueue longer than it ran: its start-up may be CPU contention)",
			 starved_fast->comm);
	}
	if (exits_blur) {
		size_t used = strlen(v->summary);

		snprintf(v->summary + used, sizeof(v->summary) - used,
			 " (the vCPU waits more often than items move: its CPU per item is exits, an upper bound on its work)");
		for (unsigned int k = 0; k < v->n_est; k++)
			if (!strcmp(v->est[k].name, cpu_is_exits(&s->prod, R) ? "Wp" : "Wc"))
				snprintf(v->est[k].from, sizeof(v->est[k].from),
					 "upper bound: vCPU CPU per item, mostly HLT exits");
	}
	if (contention) {
		size_t used = strlen(v->summary);

		snprintf(v->summary + used, sizeof(v->summary) - used,
			 " (the other side's waits come from CPU contention: %s got %.0f%% of a CPU)",
			 contention_who, contention_cpu * 100);
	}
	return 0;
}
