// SPDX-License-Identifier: GPL-2.0-only
/* lib/classify and lib/recommend on synthetic samples with known regimes. */
#include "test.h"
#include "core/units.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/classify.h"
#include "analyze/recommend.h"
#include "tune/planfile.h"
#include "model/pick.h"

struct side {
	double cpu, waits, sleep_frac;
};

static void sample(struct vs_sample *s, double items, double kicks, double irqs,
		   unsigned int len, struct side p, struct side c)
{
	memset(s, 0, sizeof(*s));
	s->duration_ns = 1e9;
	s->have_items = s->have_kicks = s->have_irqs = true;
	s->items_per_s = items;
	s->kicks_per_s = kicks;
	s->irqs_per_s = irqs;
	s->len = len;
	s->ncpus = 8;
	s->other_busy_cpus = 0.5;
	s->prod.present = s->cons.present = true;
	strcpy(s->prod.comm, "vs-producer");
	strcpy(s->cons.comm, "vhost-42");
	s->prod.role = VS_ROLE_PRODUCER;
	s->cons.role = VS_ROLE_VHOST;
	s->prod.cpu = p.cpu;
	s->prod.waits_per_s = p.waits;
	s->prod.runq = 0;
	s->prod.n_samples = 100;
	s->prod.frac_sleep = p.sleep_frac;
	s->prod.frac_wait = p.waits > 0 ? 1 - p.cpu - p.sleep_frac : 0;
	s->cons.cpu = c.cpu;
	s->cons.waits_per_s = c.waits;
	s->cons.runq = 0;
	s->cons.n_samples = 100;
	s->cons.frac_sleep = c.sleep_frac;
	s->cons.frac_wait = c.waits > 0 ? 1 - c.cpu - c.sleep_frac : 0;
}

static void costs(struct vs_hostcosts *hc)
{
	memset(hc, 0, sizeof(*hc));
	hc->notify_ns = 500;
	hc->wake_ns = 30000;
	hc->wake_polled_ns = 5000;
	hc->yz_ns = 2500;
}

/* 1 M items/s, P busy (Wp ~1 us), C blocks after 93 % of items: nFC. */
static void test_nfc_storm(void **state)
{
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_hostcosts hc;

	(void)state;
	costs(&hc);
	sample(&s, 1e6, 0.93e6, 0, 256, (struct side){ 1.0, 0, 0 },
	       (struct side){ 0.5, 0.93e6, 0 });
	__T("classify", vs_classify(&s, &hc, &v) == 0 && v.known);
	__T("nFC", v.regime == VS_REGIME_NFC);
	__T("fast consumer", v.fast == VS_FAST_CONSUMER);
	__T("notify mechanism", v.mech == VS_MECH_NOTIFY);
	__T_REL("kicks per item", v.kicks_per_item, 0.93, 1e-9);
	__T("storm sentence", strstr(v.summary, "0.93 kicks per item") &&
	    strstr(v.summary, "notification storm"));
	__T_REL("b = items per kick", vs_verdict_est(&v, "b"), 1 / 0.93, 1e-6);
	__T_REL("T from throughput", vs_verdict_est(&v, "T"), 1000, 1e-9);
	/* Wp = CPU per item minus Np/b = 1000 - 500 * 0.93 */
	__T_REL("Wp", vs_verdict_est(&v, "Wp"), 1000 - 500 * 0.93, 1e-6);
	__T("Table 3 evidence", v.n_ineq == 3 && v.ineq[1].known && v.ineq[1].holds);
	__T("confident", v.confidence > 0.8);
}

/* The same storm from a vCPU: Np is the kick's measured VM exit where
 * kvm_exit/kvm_entry fire, the host's eventfd write otherwise, and the
 * estimate says which. */
static void test_np_from_exits(void **state)
{
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_hostcosts hc;
	char from[112];

	(void)state;
	costs(&hc);
	strcpy(hc.notify_from, "eventfd write");
	sample(&s, 1e6, 0.93e6, 0, 256, (struct side){ 1.0, 0, 0 },
	       (struct side){ 0.5, 0.93e6, 0 });
	s.vm_kvm = s.have_kick_exit = true;
	s.kick_exit_ns = 400;
	strcpy(s.kick_exit_from, "mean kvm_exit -> kvm_entry of 9 EPT_MISCONFIG exits");
	__T("classify", vs_classify(&s, &hc, &v) == 0 && v.known && v.np_from_exits);
	__T("Np is the exit", vs_verdict_est(&v, "Np") == 400 && v.params.np == 400);
	__T("Nc stays the host's", v.params.nc == 500);
	__T_REL("Wp less the exit cost per item", vs_verdict_est(&v, "Wp"), 1000 - 400 * 0.93, 1e-6);
	s.have_kick_exit = false;
	strcpy(s.kick_exit_from, "kvm_exit did not fire");
	__T("classify", vs_classify(&s, &hc, &v) == 0 && !v.np_from_exits);
	__T("Np falls back to the eventfd write", vs_verdict_est(&v, "Np") == 500);
	for (unsigned int i = 0; i < v.n_est; i++)
		if (!strcmp(v.est[i].name, "Np"))
			snprintf(from, sizeof(from), "%s", v.est[i].from);
	__T("and says so", !strcmp(from, "eventfd write, not the kick's VM exit (kvm_exit did not fire)"));
}

static void test_nfp(void **state)
{
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_hostcosts hc;

	(void)state;
	costs(&hc);
	/* C busy at 300 ns per item, P blocks every 200 items. */
	sample(&s, 3.3e6, 0, 3.3e6 / 200, 512, (struct side){ 0.6, 3.3e6 / 200, 0 },
	       (struct side){ 1.0, 0, 0 });
	__T("classify", vs_classify(&s, &hc, &v) == 0 && v.known);
	__T("nFP", v.regime == VS_REGIME_NFP && v.fast == VS_FAST_PRODUCER);
	__T_REL("b = items per interrupt", vs_verdict_est(&v, "b"), 200, 1e-6);
}

static void test_sleep_regimes(void **state)
{
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_hostcosts hc;

	(void)state;
	costs(&hc);
	/* C sleeps (nanosleep), nobody kicks: sFC. */
	sample(&s, 1e6, 0, 0, 256, (struct side){ 1.0, 0, 0 },
	       (struct side){ 0.3, 20000, 0.7 });
	__T("sFC", vs_classify(&s, &hc, &v) == 0 && v.regime == VS_REGIME_SFC &&
	    v.fast == VS_FAST_CONSUMER && v.mech == VS_MECH_SLEEP);
	__T_REL("Yc = idle per sleep", vs_verdict_est(&v, "Yc"), 0.7 / 20000 * 1e9, 1e-6);
	{
		/* the summary's time is the one formatter's: it parses back */
		const char *a = strstr(v.summary, "sleeps (");
		char t[32];
		double ns;

		__T("summary names the sleep", a && sscanf(a, "sleeps (%31s per", t) == 1);
		__T(t, vs_parse_time_ns(t, &ns) == 0);
		__T_REL("summary time", ns, vs_verdict_est(&v, "Yc"), 5e-4);
	}
	/* P sleeps: sFP. */
	sample(&s, 1e6, 0, 0, 256, (struct side){ 0.3, 5000, 0.7 },
	       (struct side){ 1.0, 0, 0 });
	__T("sFP", vs_classify(&s, &hc, &v) == 0 && v.regime == VS_REGIME_SFP &&
	    v.fast == VS_FAST_PRODUCER);
	/* Both sleep about as often, short queue (L 4): sLS. */
	sample(&s, 20000, 0, 0, 4, (struct side){ 0.15, 7000, 0.85 },
	       (struct side){ 0.1, 7000, 0.9 });
	__T("sLS", vs_classify(&s, &hc, &v) == 0 && v.regime == VS_REGIME_SLS);
	/* Both sleep but the queue is long: the producer's sleeps are
	 * incidental (Table 2 says the queue absorbs them): sFC. */
	sample(&s, 100000, 0, 0, 1024, (struct side){ 0.5, 2000, 0.5 },
	       (struct side){ 0.1, 1500, 0.9 });
	__T("long queue: sFC despite both sleeping",
	    vs_classify(&s, &hc, &v) == 0 && v.regime == VS_REGIME_SFC);
}

static void test_bw_and_short(void **state)
{
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_hostcosts hc;

	(void)state;
	costs(&hc);
	sample(&s, 5e5, 0, 0, 256, (struct side){ 1.0, 0, 0 }, (struct side){ 1.0, 0, 0 });
	__T("BW", vs_classify(&s, &hc, &v) == 0 && v.regime == VS_REGIME_BW &&
	    v.mech == VS_MECH_BUSY && v.fast == VS_FAST_UNKNOWN);
	/* L = 4, both block once per round, S 30 us >> L*W: nSS. */
	sample(&s, 70000, 17000, 18000, 4, (struct side){ 0.15, 18000, 0 },
	       (struct side){ 0.15, 17000, 0 });
	__T("nSS", vs_classify(&s, &hc, &v) == 0 && v.regime == VS_REGIME_NSS);
	/* A rare incidental wait of the producer does not make it short. */
	sample(&s, 1e6, 0.5e6, 50, 256, (struct side){ 1.0, 50, 0 },
	       (struct side){ 0.4, 0.5e6, 0 });
	__T("incidental waits ignored", vs_classify(&s, &hc, &v) == 0 &&
	    v.regime == VS_REGIME_NFC);
}

/* Measured on the loaded project machine (bench --wp 500ns --wc 2us --len
 * 1024): the producer got 5 % of a CPU, so the consumer drained the ring and
 * waited 20 times as often; the work per item still says fast producer. */
static void test_contention(void **state)
{
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_hostcosts hc;

	(void)state;
	costs(&hc);
	sample(&s, 98107, 1876, 96, 1024, (struct side){ 0.053, 91, 0 },
	       (struct side){ 0.192, 1811, 0 });
	__T("classify", vs_classify(&s, &hc, &v) == 0 && v.known);
	__T("fast producer by the work per item", v.fast == VS_FAST_PRODUCER);
	__T("nFP", v.regime == VS_REGIME_NFP);
	__T("says why", strstr(v.summary, "CPU contention") != NULL);
	__T("lower confidence", v.confidence <= 0.5);
	/* The same rates with the producer doing more work per item than the
	 * consumer: a plain fast consumer, no contention note. */
	sample(&s, 98107, 1876, 96, 1024, (struct side){ 0.5, 91, 0 },
	       (struct side){ 0.192, 1811, 0 });
	__T("nFC", vs_classify(&s, &hc, &v) == 0 && v.regime == VS_REGIME_NFC &&
	    !strstr(v.summary, "contention"));
}

/*
 * Measured on the loaded machine (bench --backend kvm --mode sleep --wp 0
 * --wc 2ms --sleep 50us --len 64, 4 spinners): the producer is the guest
 * vCPU, which fills the ring and sleeps 50 us in HLT 15 times per item; each
 * sleep costs ~70 us of host CPU in KVM's emulator, so its CPU per item
 * (2.2 ms) exceeds the consumer's (1 ms of its 2 ms spin, preempted). That
 * CPU is exits, not work: the waits decide (sFP), not a contention flip.
 */
static void test_vcpu_exits(void **state)
{
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_hostcosts hc;

	(void)state;
	costs(&hc);
	sample(&s, 200, 0, 0, 64, (struct side){ 0.44, 3000, 0 },
	       (struct side){ 0.2, 0, 0 });
	s.prod.role = VS_ROLE_VCPU;
	strcpy(s.prod.comm, "vs-vcpu0");
	__T("classify", vs_classify(&s, &hc, &v) == 0 && v.known);
	__T("sFP", v.regime == VS_REGIME_SFP);
	__T("fast producer", v.fast == VS_FAST_PRODUCER);
	__T("says Wp is an upper bound", strstr(v.summary, "upper bound") != NULL);
	__T("not certain", v.confidence < 0.9);
	/* Both waiting (the consumer found the ring empty now and then), the
	 * vCPU's larger CPU per item does not make the consumer the fast side. */
	s.cons.waits_per_s = 40;
	__T("classify", vs_classify(&s, &hc, &v) == 0 && v.known);
	__T("fast producer when both wait", v.fast == VS_FAST_PRODUCER);
	__T("both wait: lower confidence", v.confidence <= 0.6);
	/* A host thread with the same numbers: its CPU per item is work, and
	 * the contention check still applies. */
	s.cons.waits_per_s = 0;
	s.prod.role = VS_ROLE_PRODUCER;
	__T("classify", vs_classify(&s, &hc, &v) == 0 && v.known);
	__T("host thread: contention flip", v.fast == VS_FAST_CONSUMER &&
	    strstr(v.summary, "contention"));
}

/*
 * Measured under heavy load (6 spinners, two tests in parallel): bench
 * --mode notify --wp 1us --wc 3us (nFP by construction). The producer got
 * 7.6 % of a CPU and the ping-pong's S came out at 271 us, more than the
 * 190 us the queue gives: both wait and Table 3 says nSPS. The producer
 * waited on a runqueue longer than it ran, so the verdict cannot tell slow
 * start-up from contention: low confidence, and the sentence says why.
 */
static void test_starved_short_queue(void **state)
{
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_hostcosts hc;

	(void)state;
	costs(&hc);
	hc.wake_ns = 271400;
	sample(&s, 69553, 151, 307, 256, (struct side){ 0.076, 305, 0 },
	       (struct side){ 0.219, 145, 0 });
	__T("classify", vs_classify(&s, &hc, &v) == 0 && v.known);
	__T("fast producer", v.fast == VS_FAST_PRODUCER);
	__T("nSPS from the inequalities", v.regime == VS_REGIME_NSPS);
	__T("confident without runqueue evidence", v.confidence > 0.5);
	s.prod.runq = 0.6;
	__T("classify", vs_classify(&s, &hc, &v) == 0 && v.known);
	__T("still nSPS", v.regime == VS_REGIME_NSPS);
	__T("low confidence when starved", v.confidence <= 0.4);
	__T("says why", strstr(v.summary, "CPU contention") != NULL);
}

static void test_no_verdict(void **state)
{
	struct vs_sample s;
	struct vs_verdict v;

	(void)state;
	sample(&s, 0, 0, 0, 256, (struct side){ 0, 0, 0 }, (struct side){ 0, 0, 0 });
	__T("no items: no verdict", vs_classify(&s, NULL, &v) == 0 && !v.known);
	s.have_items = false;
	s.prod.present = s.cons.present = false;
	__T("nothing at all", vs_classify(&s, NULL, &v) == -EINVAL);
}

/* ---- recommend ---- */

/* Two CPUs sharing an L2 on node 0: where recommend pins a pair. */
static const struct vs_topo *two_cpu_topo(void)
{
	static struct vs_topo t;
	int i;

	if (t.n_cpus)
		return &t;
	t.n_cpus = 2;
	t.n_caches = 1;
	t.caches[0].level = 2;
	t.n_nodes = 1;
	for (i = 0; i < 2; i++) {
		t.cpus[i].id = i;
		t.cpus[i].node = 0;
		t.cpus[i].core = i;
		t.cpus[i].package = 0;
		t.cpus[i].n_caches = 1;
		t.cpus[i].cache[0] = 0;
		vs_cpuset_add(&t.caches[0].cpus, i);
		vs_cpuset_add(&t.cpus[i].siblings, i);
		vs_cpuset_add(&t.nodes[0].cpus, i);
		vs_cpuset_add(&t.online, i);
	}
	return &t;
}

static void env_init(struct vs_reco_env *e, struct vs_hostcosts *hc, struct vs_vm *vm)
{
	memset(e, 0, sizeof(*e));
	memset(vm, 0, sizeof(*vm));
	vm->pid = 4242;
	vm->kind = VS_VM_PCDEV;
	e->vm = vm;
	e->hc = hc;
	e->dmax_ns = 50000;
	e->ncpus = 8;
	e->other_busy_cpus = 0.5;
	e->kvm_halt_poll_ns = 200000;
	e->guest_wait_ns = NAN;
	e->inflight = NAN;
	e->topo = two_cpu_topo();
}

static const struct vs_advice *find_action(const struct vs_plan *p, const char *knob)
{
	unsigned int i;

	for (i = 0; i < p->n_actions; i++)
		if (!strcmp(p->actions[i].knob, knob))
			return &p->actions[i];
	return NULL;
}

static bool has_warning(const struct vs_plan *p, const char *what)
{
	unsigned int i;

	for (i = 0; i < p->n_warnings; i++)
		if (strstr(p->warnings[i], what))
			return true;
	return false;
}

static void test_recommend_fast_consumer(void **state)
{
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_hostcosts hc;
	struct vs_reco_env e;
	struct vs_plan p;
	struct vs_vm vm;
	const struct vs_advice *a;
	double W;

	(void)state;
	costs(&hc);
	sample(&s, 1e6, 0.93e6, 0, 256, (struct side){ 1.0, 0, 0 },
	       (struct side){ 0.5, 0.93e6, 0 });
	vs_classify(&s, &hc, &v);
	env_init(&e, &hc, &vm);
	__T("recommend", vs_recommend(&v, &e, &p) == 0 && p.valid);
	W = vs_verdict_est(&v, "W");
	/* Y = Dmax/2 - W; (L-1)Wp - Wc - 500 ns is far larger here. */
	__T_REL("Y = Dmax/2 - W", p.y_ns, 25000 - W, 1e-9);
	__T("sleep recommended", p.rec_mech == VS_MECH_SLEEP);
	a = find_action(&p, "pcdev.consumer_sleep_ns");
	__T("consumer sleep knob", a && a->applies == VS_APPLY_NOW && atof(a->value) == round(p.y_ns));
	a = find_action(&p, "thread.timerslack_ns");
	__T("timer slack 1 ns", a && !strcmp(a->value, "1") && !strcmp(a->role, "consumer"));
	{
		struct vs_step st;

		__T("thread advice as a plan step: pid and role", a && !vs_advice_step(a, &st) &&
		    atoi(st.sel[VS_SEL_PID]) == (int)vm.pid && !strcmp(st.sel[VS_SEL_ROLE], "consumer") &&
		    !st.sel[VS_SEL_CPUS][0]);
	}
	__T("model predictions", p.have_cur && p.have_rec);
	__T("sleeping cuts the CPU per item", p.rec.e_ns < p.cur.e_ns);

	/* The sFC border caps Y: short queue, Y would overflow it. */
	s.len = 16;
	vs_classify(&s, &hc, &v);
	vs_recommend(&v, &e, &p);
	__T_REL("Y capped at (L-1)Wp - Wc - 500ns", p.y_ns,
		15 * v.params.wp - v.params.wc - 500, 1e-9);

	/* Dmax below Yz: busy polling, only on idle cores. */
	e.dmax_ns = 3000;
	vs_recommend(&v, &e, &p);
	__T("busy polling", p.rec_mech == VS_MECH_BUSY &&
	    find_action(&p, "pcdev.consumer_busyloop_ns") &&
	    find_action(&p, "cpuidle.state_disable"));
	e.other_busy_cpus = 7;
	vs_recommend(&v, &e, &p);
	__T("no polling on shared CPUs", p.rec_mech != VS_MECH_BUSY &&
	    !find_action(&p, "pcdev.consumer_busyloop_ns") && p.n_warnings >= 1 &&
	    strstr(p.warnings[0], "no busy-polling advice"));
}

static void test_recommend_qemu(void **state)
{
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_hostcosts hc;
	struct vs_reco_env e;
	struct vs_plan p;
	struct vs_vm vm;
	const struct vs_advice *a;

	(void)state;
	costs(&hc);
	sample(&s, 1e6, 0.93e6, 0, 0, (struct side){ 1.0, 0, 0 },
	       (struct side){ 0.5, 0.93e6, 0 });
	vs_classify(&s, &hc, &v);
	env_init(&e, &hc, &vm);
	vm.kind = VS_VM_QEMU;
	vm.kvm = true;
	/* A pipeline whose consumer wakes to a full queue (Sc 30 us, Wp
	 * 0.5 us): the hybrid model predicts nothing from polling. */
	vs_recommend(&v, &e, &p);
	__T("no vhost poll-us where polling gains nothing", !find_action(&p, "vhost.poll_us") &&
	    strstr(p.summary, "no vhost poll-us pays"));

	/* QD1 request/response as measured on the test guest: 8.6k items/s,
	 * vCPU 71 %, consumer 14 % and one wait per item; one request in
	 * flight. The consumer's wake-up (30 us) is on the loop: vhost polls. */
	sample(&s, 8600, 9000, 8400, 256, (struct side){ 0.71, 8400, 0 },
	       (struct side){ 0.14, 8600, 0 });
	vs_classify(&s, &hc, &v);
	e.sample = &s;
	e.inflight = 0.2;
	vs_recommend(&v, &e, &p);
	a = find_action(&p, "vhost.poll_us");
	__T("vhost poll-us at VM start", a && a->applies == VS_APPLY_RESTART &&
	    atof(a->value) > 0 && atof(a->value) <= 512 && strstr(a->why, "hybrid model"));
	{
		unsigned int i, floor = 0;

		for (i = 0; i < p.n_warnings; i++)
			floor += strstr(p.warnings[i], "the predicted gain is a floor") != NULL;
		__T("a VM's kicks: the predicted gain is a floor", floor == 1);
	}
	{
		struct vs_step st;

		__T("restart-time advice is not a plan step", vs_advice_step(a, &st) == -EOPNOTSUPP);
	}
	__T("exact QEMU change", strstr(a->qemu, "poll-us="));
	__T("exact libvirt change", strstr(a->libvirt, "poll_us="));

	/* The same queue drained by a QEMU iothread seen through QMP: its
	 * poll-max-ns is picked from the hybrid model and set live, with the
	 * selectors a plan needs; an iothread that is not the consumer is
	 * left alone. */
	{
		struct vs_qmp_iothread io[2] = {
			{ .id = "iot0", .thread_id = 4001, .poll_max_ns = 32768 },
			{ .id = "iot1", .thread_id = 4002, .poll_max_ns = 32768 },
		};
		unsigned int i, n = 0;
		double qd1_pick;

		e.qmp_socket = "/run/vm1.qmp";
		e.iothreads = io;
		e.n_iothreads = 2;
		e.consumer_tid = 4002;
		vs_recommend(&v, &e, &p);
		for (i = 0; i < p.n_actions; i++)
			n += !strcmp(p.actions[i].knob, "iothread.poll_max_ns");
		a = find_action(&p, "iothread.poll_max_ns");
		__T("iothread poll-max-ns, live", a && n == 1 && a->applies == VS_APPLY_NOW &&
		    !strcmp(a->iothread, "iot1") && !strcmp(a->qmp, "/run/vm1.qmp") &&
		    !strcmp(a->current, "32768"));
		__T("poll window = the pick", a && atof(a->value) == round(p.y_ns) &&
		    p.y_ns > 32768 && p.y_ns <= 524288 * 1.25);
		__T("predicted by the hybrid model", p.rec_mech == VS_MECH_HYBRID &&
		    p.cur_mech == VS_MECH_HYBRID && p.have_rec && p.have_cur &&
		    p.rec.t_ns < p.cur.t_ns && strstr(a->why, "hybrid model: T "));
		__T("no vhost change for an iothread consumer", !find_action(&p, "vhost.poll_us"));
		__T("QEMU and libvirt forms", a && strstr(a->qemu, "id=iot1,poll-max-ns=") &&
		    strstr(a->libvirt, "iothreadset"));
		{
			struct vs_step st;

			__T("iothread advice as a plan step", a && !vs_advice_step(a, &st) &&
			    !strcmp(st.sel[VS_SEL_QMP], "/run/vm1.qmp") &&
			    !strcmp(st.sel[VS_SEL_IOTHREAD], "iot1") && !st.sel[VS_SEL_PID][0] &&
			    !st.sel[VS_SEL_ROLE][0] && !strcmp(st.value, a->value));
		}
		/* A slower backend: the same CPU, fewer items, two waits per
		 * item (the backend's and the next kick's): a longer window. */
		qd1_pick = p.y_ns;
		sample(&s, 2400, 2900, 2900, 256, (struct side){ 0.33, 2900, 0 },
		       (struct side){ 0.12, 4700, 0 });
		vs_classify(&s, &hc, &v);
		vs_recommend(&v, &e, &p);
		__T("slower backend, longer window", find_action(&p, "iothread.poll_max_ns") &&
		    p.y_ns > qd1_pick);
		/* The same loop with the probes' lengths of its waits: the
		 * backend's 131-262 us, the next kick's 65-131 us. The pick
		 * covers the backend's, past the equal split's window, and
		 * names its CPU as the trade-off. */
		{
			double eq_pick = p.y_ns;

			s.cons.n_waits = 4700;
			s.cons.wait_slot[17] = s.cons.wait_slot[18] = 2350;
			vs_recommend(&v, &e, &p);
			a = find_action(&p, "iothread.poll_max_ns");
			__T("picked from the waits' lengths", a && strstr(a->why, "waits by length") &&
			    p.y_ns > 262144 && p.y_ns > eq_pick && atof(a->value) == round(p.y_ns));
			__T("the CPU trade-off said", strstr(p.summary, "x CPU/item") &&
			    strstr(p.summary, "trade-off: keep 32768"));
			__T("8 CPUs, 0.5 busy: nothing to say about spare CPU",
			    !has_warning(&p, "are spare"));
			/* Other threads keep 7.5 of the 8 busy: the polling
			 * has no core of its own, and the advice says so. */
			e.other_busy_cpus = 7.5;
			vs_recommend(&v, &e, &p);
			__T("no spare core: said", has_warning(&p, "are spare") &&
			    find_action(&p, "iothread.poll_max_ns"));
			e.other_busy_cpus = 0.5;
			/* QD1's waits as the test guest shows them at the
			 * default (99 % 33-131 us, 0.3 % 262-524 us): the
			 * widest window at the same T and CPU is the top of the
			 * range, 2^19 ns as the sweep sets it, not a step past. */
			sample(&s, 8600, 9000, 8400, 256, (struct side){ 0.71, 8400, 0 },
			       (struct side){ 0.14, 8600, 0 });
			s.cons.n_waits = 8600;
			s.cons.wait_slot[16] = 2900;
			s.cons.wait_slot[17] = 5674;
			s.cons.wait_slot[19] = 26;
			vs_classify(&s, &hc, &v);
			vs_recommend(&v, &e, &p);
			a = find_action(&p, "iothread.poll_max_ns");
			__T("QD1 by length: the range's top, exactly", a && !strcmp(a->value, "524288") &&
			    strstr(a->why, "widest within"));
			memset(s.cons.wait_slot, 0, sizeof(s.cons.wait_slot));
			s.cons.n_waits = 0;
		}
		/* QD16 as measured on the test guest at QEMU's default: 24k
		 * items/s, vCPU 88 % with 4.0k waits/s, the iothread 37 % with
		 * 12.5k waits/s, QMP's in-flight 0.07. The consumer found the
		 * next request waiting for half the items: a pipeline, not a
		 * request/response loop, whatever QMP's in-flight says. */
		sample(&s, 24000, 22900, 4100, 256, (struct side){ 0.88, 4000, 0 },
		       (struct side){ 0.37, 12500, 0 });
		s.cons.n_waits = 37500;
		s.cons.wait_slot[14] = s.cons.wait_slot[15] = s.cons.wait_slot[16] = 12500;
		vs_classify(&s, &hc, &v);
		e.inflight = 0.07;
		vs_recommend(&v, &e, &p);
		__T("fewer waits than items: a pipeline", strstr(p.summary, "(pipeline, ") &&
		    !strstr(p.summary, "request/response"));
		/* Its pick gains no T; it would save CPU against the model's
		 * view of 32 us (the consumer polling every gap), not against
		 * the 52 us per item measured there: the default stays. */
		__T("a CPU saving that is not measured: already right",
		    !find_action(&p, "iothread.poll_max_ns") &&
		    strstr(p.summary, "is already right") && strstr(p.summary, "measured now"));
		/* Measured at more CPU than the pick predicts, it moves. */
		s.cons.cpu = 1.0;
		vs_recommend(&v, &e, &p);
		__T("a measured saving: the pick", find_action(&p, "iothread.poll_max_ns") &&
		    !strstr(p.summary, "already right"));
		s.cons.cpu = 0.37;
		/* The same queue with a wait per item is a loop again. */
		s.cons.waits_per_s = 24000;
		vs_classify(&s, &hc, &v);
		vs_recommend(&v, &e, &p);
		__T("a wait per item: request/response", strstr(p.summary, "request/response"));
		memset(s.cons.wait_slot, 0, sizeof(s.cons.wait_slot));
		s.cons.n_waits = 0;
		e.inflight = 0.2;
		/* A loop with no wait the window would cover (its period no
		 * longer than Wc plus the wake-up): QEMU's default is right. */
		sample(&s, 8600, 9000, 8400, 256, (struct side){ 0.71, 8400, 0 },
		       (struct side){ 0.8, 8600, 0 });
		vs_classify(&s, &hc, &v);
		vs_recommend(&v, &e, &p);
		__T("the default is right", !find_action(&p, "iothread.poll_max_ns") &&
		    strstr(p.summary, "is already right") && strstr(p.summary, "QEMU's default"));
		e.consumer_tid = 5000;
		sample(&s, 8600, 9000, 8400, 256, (struct side){ 0.71, 8400, 0 },
		       (struct side){ 0.14, 8600, 0 });
		vs_classify(&s, &hc, &v);
		vs_recommend(&v, &e, &p);
		__T("a vhost consumer keeps the vhost advice",
		    !find_action(&p, "iothread.poll_max_ns") && find_action(&p, "vhost.poll_us"));
		e.qmp_socket = NULL;
		e.iothreads = NULL;
		e.n_iothreads = 0;
		e.consumer_tid = 0;
		e.sample = NULL;
		e.inflight = NAN;
	}

	/* nSS on a QEMU VM: longer queue given as QEMU/libvirt changes,
	 * halt polling through the read-only module parameter. */
	sample(&s, 70000, 17000, 18000, 4, (struct side){ 0.15, 18000, 0 },
	       (struct side){ 0.15, 17000, 0 });
	vs_classify(&s, &hc, &v);
	e.kvm_halt_poll_writable = false;
	vs_recommend(&v, &e, &p);
	a = find_action(&p, "queue.len");
	__T("longer queue", a && atoi(a->value) > 4 && strstr(a->qemu, "tx_queue_size=") &&
	    strstr(a->libvirt, "tx_queue_size="));
	/* KVM's default 200 us already covers the vCPU's waits: the hybrid
	 * model predicts no better T for less CPU, so no change */
	__T("halt polling in force already right", !find_action(&p, "kvm.halt_poll_ns") &&
	    has_warning(&p, "kvm.halt_poll_ns 200000 is already right"));
	/* none in force: the smallest halt poll for the best T, predicted */
	e.kvm_halt_poll_ns = 0;
	vs_recommend(&v, &e, &p);
	a = find_action(&p, "kvm.halt_poll_ns");
	__T("read-only module parameter named as such", a && a->applies == VS_APPLY_READONLY);
	__T("halt polling from the hybrid model", a && strstr(a->why, "hybrid model, vCPU side") &&
	    atoll(a->value) > 0 && atoll(a->value) <= 400000 && atoll(a->value) % 10000 == 0);
	if (a) {
		struct vs_prediction at0, at_pick, at_max;

		/* the pick reaches the best T any halt poll gives, no polling
		 * does not */
		assert_int_equal(vs_pick_predict_at(&v.params, VS_PICK_PRODUCER, 0, &at0), 0);
		assert_int_equal(vs_pick_predict_at(&v.params, VS_PICK_PRODUCER,
						    atof(a->value), &at_pick), 0);
		assert_int_equal(vs_pick_predict_at(&v.params, VS_PICK_PRODUCER, 400e3, &at_max), 0);
		__T("the pick reaches the best T", at_pick.t_ns <= 1.01 * at_max.t_ns &&
		    at0.t_ns > 1.1 * at_pick.t_ns);
	}
	{
		const struct vs_advice *pa = NULL, *ca = NULL;
		unsigned int i;

		for (i = 0; i < p.n_actions; i++) {
			if (strcmp(p.actions[i].knob, "thread.affinity"))
				continue;
			if (!strcmp(p.actions[i].role, "producer"))
				pa = &p.actions[i];
			else if (!strcmp(p.actions[i].role, "consumer"))
				ca = &p.actions[i];
		}
		__T("producer and consumer pinned to two different CPUs",
		    pa && ca && strcmp(pa->value, ca->value) && strstr(pa->why, "NUMA node"));
	}
	__T("haltpoll warning", p.n_warnings >= 2);
}

static void test_recommend_fast_producer(void **state)
{
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_hostcosts hc;
	struct vs_reco_env e;
	struct vs_plan p;
	struct vs_vm vm;

	(void)state;
	costs(&hc);
	/* Wc ~3 us, L 256: L*Wc ~ 770 us > Dmax 50 us: shorter queue. */
	sample(&s, 3.3e5, 0, 3.3e5 / 200, 256, (struct side){ 0.6, 3.3e5 / 200, 0 },
	       (struct side){ 1.0, 0, 0 });
	vs_classify(&s, &hc, &v);
	env_init(&e, &hc, &vm);
	vs_recommend(&v, &e, &p);
	__T("shorter queue", p.rec_params.len < 256 &&
	    p.rec_params.len * v.params.wc <= e.dmax_ns && find_action(&p, "queue.len"));
	/* A QEMU virtio-blk queue, ring full: its own queue-size, a power
	 * of two above 2, not virtio-net's tx/rx_queue_size. */
	{
		const struct vs_advice *a;

		vm.kind = VS_VM_QEMU;
		e.device_type = "virtio-blk";
		e.inflight = 250;
		/* Dmax 5 us: the ring Dmax alone allows is 1 slot, below
		 * virtio-blk's minimum */
		e.dmax_ns = 5000;
		vs_recommend(&v, &e, &p);
		a = find_action(&p, "queue.len");
		__T("virtio-blk queue-size", a && strstr(a->qemu, "virtio-blk-pci,...,queue-size=") &&
		    strstr(a->libvirt, "queue_size=") && !strstr(a->qemu, "tx_queue_size") &&
		    atoi(a->value) >= 4 && !(atoi(a->value) & (atoi(a->value) - 1)));
		{
			char said[80];

			snprintf(said, sizeof(said), "shorten the queue to %s", a ? a->value : "?");
			__T("the summary and the plan give the action's length",
			    a && strstr(p.summary, said) && p.rec_params.len == (unsigned int)atoi(a->value));
		}
		/* The same rates with almost nothing in the ring (the test
		 * guest at QD16: QMP's in-flight 0.07): no request waits in
		 * it, so no shorter ring to advise. */
		e.dmax_ns = 50000;
		e.inflight = 0.07;
		vs_recommend(&v, &e, &p);
		__T("no shorter ring where none waits", !find_action(&p, "queue.len") &&
		    !strstr(p.summary, "shorten"));
		vm.kind = VS_VM_PCDEV;
		e.device_type = NULL;
		e.inflight = NAN;
	}
	/* Large Dmax: nothing to change, notifications amortized. */
	e.dmax_ns = 10e6;
	vs_recommend(&v, &e, &p);
	__T("nothing to change", p.n_actions == 0 && strstr(p.summary, "nothing to change"));
}

static void test_recommend_guest(void **state)
{
	struct vs_guest_info g;
	struct vs_hostcosts hc;
	struct vs_reco_env e;
	struct vs_plan p;
	struct vs_vm vm;
	struct vs_sample s;
	struct vs_verdict v;
	const struct vs_advice *a;

	(void)state;
	costs(&hc);
	env_init(&e, &hc, &vm);
	e.vm = NULL;
	memset(&g, 0, sizeof(g));
	g.is_guest = true;
	g.haltpoll_loaded = true;
	g.guest_halt_poll_ns = 0;
	g.guest_halt_poll_writable = true;
	strcpy(g.cpuidle_driver, "haltpoll");
	g.n_cstates = 2;
	strcpy(g.cstates[0].name, "POLL");
	strcpy(g.cstates[1].name, "C6");
	g.cstates[1].latency_us = 100;
	e.guest = &g;
	memset(&p, 0, sizeof(p));
	__T("guest advice", vs_recommend_guest(&e, &p) == 0);
	a = find_action(&p, "guest.halt_poll_ns");
	__T("raises guest_halt_poll_ns from 0", a && atoll(a->value) > 0 &&
	    !strcmp(a->current, "0") && a->applies == VS_APPLY_NOW);
	__T("names the measured gain", strstr(a->why, "30us now") && strstr(a->why, "5us"));
	__T("haltpoll turns host polling off", p.n_warnings == 1 &&
	    strstr(p.warnings[0], "nobody polls"));
	a = find_action(&p, "cpuidle.state_disable");
	__T("deep C-state over Dmax/4", a && strstr(a->cpus, "C6"));
	/* Sized to the waits: 100 us waits -> 130 us (rounded up to 10 us). */
	e.guest_wait_ns = 100000;
	memset(&p, 0, sizeof(p));
	vs_recommend_guest(&e, &p);
	a = find_action(&p, "guest.halt_poll_ns");
	__T("sized to the waits", a && atoll(a->value) == 130000);
	/* With the queue whose threads wait in this guest (nFC: the consumer
	 * blocks after most items and pays a 30 us wake-up each time): picked
	 * with the hybrid model on the consumer's side, not sized to the
	 * waits. */
	sample(&s, 8600, 9000, 8400, 256, (struct side){ 0.71, 8400, 0 },
	       (struct side){ 0.14, 8600, 0 });
	vs_classify(&s, &hc, &v);
	e.guest_verdict = &v;
	memset(&p, 0, sizeof(p));
	vs_recommend_guest(&e, &p);
	__T("nFC: T is the producer's, polling gains nothing: 0 is right",
	    v.regime == VS_REGIME_NFC && !find_action(&p, "guest.halt_poll_ns") &&
	    has_warning(&p, "guest_halt_poll_ns 0 is right"));
	/* nSS: the consumer's 30 us wake-up is on T's path; a 10 us poll
	 * covers its waits */
	sample(&s, 70000, 17000, 18000, 4, (struct side){ 0.15, 18000, 0 },
	       (struct side){ 0.15, 17000, 0 });
	vs_classify(&s, &hc, &v);
	memset(&p, 0, sizeof(p));
	vs_recommend_guest(&e, &p);
	a = find_action(&p, "guest.halt_poll_ns");
	__T("nSS: picked on the consumer's side, predicted", v.regime == VS_REGIME_NSS && a &&
	    atoll(a->value) == 10000 && strstr(a->why, "30us now") &&
	    strstr(a->why, "hybrid model, consumer side") && strstr(a->why, "items/s"));
	e.guest_verdict = NULL;
	/* Not a guest: nothing. */
	g.is_guest = false;
	memset(&p, 0, sizeof(p));
	__T("host: no guest advice", vs_recommend_guest(&e, &p) == 0 && p.n_actions == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nfc_storm),
		cmocka_unit_test(test_np_from_exits),
		cmocka_unit_test(test_nfp),
		cmocka_unit_test(test_sleep_regimes),
		cmocka_unit_test(test_bw_and_short),
		cmocka_unit_test(test_contention),
		cmocka_unit_test(test_vcpu_exits),
		cmocka_unit_test(test_starved_short_queue),
		cmocka_unit_test(test_no_verdict),
		cmocka_unit_test(test_recommend_fast_consumer),
		cmocka_unit_test(test_recommend_qemu),
		cmocka_unit_test(test_recommend_fast_producer),
		cmocka_unit_test(test_recommend_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
