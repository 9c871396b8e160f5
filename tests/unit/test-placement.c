// SPDX-License-Identifier: GPL-2.0-only
/*
 * The placement audit on tests/fixtures/placement-host: two packages of two
 * SMT cores (CPUs p*2+c+4*t; node = package), a QEMU (pid 700: vCPU 701,
 * iothread 702, vhost 703) with 6 of its 8 GiB on node 1, tap0 on br0 with
 * eth0 (IRQs 40 on CPU 6, 41 on CPU 2), a VFIO group whose device has IRQ 50
 * on CPU 1, kvm_intel with APICv on and IPI virtualization off.
 */
#include "test.h"
#include "diag-fixture.h"

#include <errno.h>
#include <math.h>

#include "analyze/placement.h"
#include "output/placement.h"
#include "sources/discover.h"
#include "sources/placement.h"
#include "tune/planfile.h"

static struct vs_topo *topo(void)
{
	struct vs_topo *t = calloc(1, sizeof(*t));

	__T("fixture root", diag_fixture_root("placement-host") == 0);
	__T("topology", t && vs_topo_read(t) == 0);
	return t;
}

static void test_memory_nodes(void **state)
{
	struct vs_mem_nodes m;

	(void)state;
	__T("fixture root", diag_fixture_root("placement-host") == 0);
	__T("read", vs_mem_nodes_read(700, &m) == 0 && m.known);
	__T("node 1 first: 2048 huge pages and 100 small", m.nodes[0].node == 1 &&
	    m.nodes[0].kb == 2048ULL * 2048 + 400);
	__T("node 0: 512 huge pages, 1027 small", m.n == 2 && m.nodes[1].node == 0 &&
	    m.nodes[1].kb == 512ULL * 2048 + 1027 * 4);
	__T("total", m.total_kb == m.nodes[0].kb + m.nodes[1].kb);
	__T("a gone process", vs_mem_nodes_read(9999, &m) == -ESRCH);
}

static const struct vs_irq_info *irq_of(const struct vs_irq_info *q, unsigned int n,
					unsigned int irq)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (q[i].irq == irq)
			return &q[i];
	return NULL;
}

static void test_irqs(void **state)
{
	struct vs_irq_info q[VS_IRQ_MAX];
	const struct vs_irq_info *e;
	struct vs_vm vm;
	unsigned int n;

	(void)state;
	__T("fixture root", diag_fixture_root("placement-host") == 0);
	__T("the VM", vs_discover_pid(700, &vm) == 0 && vm.n_taps == 1);
	n = vs_vm_irqs_read(&vm, q, VS_IRQ_MAX);
	__T("two NIC queues and one VFIO vector", n == 3);
	e = irq_of(q, n, 40);
	__T("eth0 through the bridge", e && !strcmp(e->name, "eth0-TxRx-0") &&
	    strstr(e->owner, "eth0") && strstr(e->owner, "br0") && strstr(e->owner, "tap0"));
	__T("affinity 0-7, effective CPU 6", vs_cpuset_count(&e->affinity) == 8 &&
	    vs_cpuset_count(&e->effective) == 1 && vs_cpuset_has(&e->effective, 6));
	__T("count and busiest CPU", e->count == 91000 && e->busiest_cpu == 6);
	e = irq_of(q, n, 50);
	__T("VFIO group 12's device", e && !strcmp(e->owner, "vfio 0000:01:00.0") &&
	    vs_cpuset_has(&e->effective, 1));
	__T("the timer is not the VM's", !irq_of(q, n, 0));
}

static void test_apicv(void **state)
{
	struct vs_virt_irq v;

	(void)state;
	__T("fixture root", diag_fixture_root("placement-host") == 0);
	__T("read", vs_virt_irq_read(&v) == 0);
	__T("kvm_intel: APICv on, IPIv off", v.known && !strcmp(v.module, "kvm_intel") &&
	    v.apicv == 1 && v.ipiv == 0 && v.avic == -1);
	__T("another host", diag_fixture_root("diagnose-host") == 0);
	__T("read", vs_virt_irq_read(&v) == 0);
	__T("neither module: said so", !v.known &&
	    !strcmp(v.why, "no kvm_intel or kvm_amd module"));
}

/* A window of the QEMU: vCPU 701 mostly on `p`, the vhost worker 703 on `c`. */
static void window(struct vs_sample *s, int p, int c)
{
	memset(s, 0, sizeof(*s));
	s->prod.present = s->cons.present = true;
	s->prod.tid = 701;
	s->prod.role = VS_ROLE_VCPU;
	strcpy(s->prod.comm, "CPU 0/KVM");
	s->cons.tid = 703;
	s->cons.role = VS_ROLE_VHOST;
	strcpy(s->cons.comm, "vhost-700");
	s->prod.n_ran_on = 2;
	s->prod.ran_on[0] = (struct vs_cpu_count){ p, 90 };
	s->prod.ran_on[1] = (struct vs_cpu_count){ p == 0 ? 1 : 0, 10 };
	s->prod.ran_on_total = 100;
	s->cons.n_ran_on = 1;
	s->cons.ran_on[0] = (struct vs_cpu_count){ c, 50 };
	s->cons.ran_on_total = 50;
	strcpy(s->prod.ran_on_from, "BPF events");
	strcpy(s->cons.ran_on_from, "BPF events");
}

/* nFC: W = Wp + Np/b, the consumer waits for kicks. */
static void verdict(struct vs_verdict *v, enum vs_mech m)
{
	memset(v, 0, sizeof(*v));
	v->known = true;
	v->mech = m;
	v->regime = m == VS_MECH_BUSY ? VS_REGIME_BW : VS_REGIME_NFC;
	v->params = (struct vs_params){ .len = 256, .kp = 1, .kc = 192, .wp = 2000,
					.wc = 800, .np = 300, .nc = 300, .sp = 5000,
					.sc = 5000, .yp = 2500, .yc = 2500, .yz = 2500 };
}

static const struct vs_place_advice *advice(const struct vs_placement *pl, const char *knob)
{
	unsigned int i;

	for (i = 0; i < pl->n_advice; i++)
		if (!strcmp(pl->advice[i].a.knob, knob))
			return &pl->advice[i];
	return NULL;
}

/* The vCPU on node 0, the vhost worker and most memory on node 1. */
static void test_remote_vcpu(void **state)
{
	struct vs_topo *t = topo();
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_placement pl;
	struct vs_vm vm;
	struct vs_mem_nodes m;
	struct vs_irq_info q[VS_IRQ_MAX];
	struct vs_virt_irq vi;
	/* The hand-off measured on the pairs vs_placement_pairs() names. */
	struct vs_place_handoff h[] = { { 0, 2, 400 }, { 0, 4, 60 }, { 0, 1, 120 },
					{ 6, 2, 70 }, { 3, 2, 150 } };
	int a[VS_PLACE_MAX_PAIRS], b[VS_PLACE_MAX_PAIRS];
	struct vs_place_in in = { 0 };
	const struct vs_place_advice *x;
	struct vs_step st;
	unsigned int n, i;

	(void)state;
	__T("VM", vs_discover_pid(700, &vm) == 0);
	__T("memory", vs_mem_nodes_read(700, &m) == 0);
	window(&s, 0, 2);
	verdict(&v, VS_MECH_NOTIFY);
	n = vs_placement_pairs(t, &s, &m, a, b, VS_PLACE_MAX_PAIRS);
	__T("pairs: now, C next to P (SMT, L3), P next to C on the memory's node (SMT, L3)",
	    n == 5 && a[0] == 0 && b[0] == 2 && a[1] == 0 && b[1] == 4 && a[2] == 0 && b[2] == 1 &&
	    a[3] == 6 && b[3] == 2 && a[4] == 3 && b[4] == 2);
	in.topo = t;
	in.vm = &vm;
	in.sample = &s;
	in.verdict = &v;
	in.handoff = h;
	in.n_handoff = 5;
	in.handoff_what = "virtio split ring, batch 4";
	in.mem = &m;
	in.irqs = q;
	in.n_irqs = vs_vm_irqs_read(&vm, q, VS_IRQ_MAX);
	vs_virt_irq_read(&vi);
	in.virt = &vi;
	__T("audit", vs_placement_audit(&in, &pl) == 0 && pl.known);
	__T("where they ran", pl.prod.cpu == 0 && pl.cons.cpu == 2 && pl.prod.node == 0 &&
	    pl.cons.node == 1 && !strcmp(pl.relation, "other node (distance 21)"));
	__T("share", fabs(pl.prod.share - 0.9) < 1e-9 && !strcmp(pl.prod.cpus, "0 (90%), 1 (10%)"));
	__T("memory on node 1", pl.mem_node == 1 && pl.mem_share > 0.7);
	x = advice(&pl, "thread.affinity");
	__T("the vCPU moves to the memory's node, the cheapest CPU next to the consumer",
	    x && !strcmp(x->a.value, "6") && !strcmp(x->a.current, "0") && x->a.tid == 701 &&
	    x->a.pid == 700 && strstr(x->a.why, "another node than its memory"));
	__T("predicted with the measured hand-off", x->have_pred &&
	    strstr(x->model, "-165ns each") && strstr(x->model, "400ns -> 70ns") &&
	    strstr(x->model, "remote memory itself not modelled"));
	__T("a faster T", x->pred.t_ns < x->cur.t_ns);
	__T("libvirt: vcpupin", strstr(x->a.libvirt, "<vcpupin vcpu='0' cpuset='6'/>"));
	__T("a plan step for one thread", vs_advice_step(&x->a, &st) == 0 &&
	    !strcmp(st.sel[VS_SEL_TID], "701") && !st.sel[VS_SEL_ROLE][0] && !strcmp(st.value, "6"));
	/* IRQ 50 (CPU 1) and the consumer (CPU 2) share nothing; IRQ 41
	 * is on CPU 2 itself; IRQ 40 on CPU 6, its SMT sibling. */
	x = advice(&pl, "irq.affinity");
	__T("steer the VFIO vector", x && x->a.irq == 50 && !strcmp(x->a.value, "2") &&
	    !strcmp(x->a.current, "0-3"));
	__T("as an irq.affinity step", vs_advice_step(&x->a, &st) == 0 &&
	    !strcmp(st.sel[VS_SEL_IRQ], "50"));
	__T("nothing else", pl.n_advice == 2);
	for (i = 0; i < pl.n_notes; i++)
		if (strstr(pl.notes[i], "APICv on"))
			break;
	__T("APICv noted", i < pl.n_notes && strstr(pl.notes[i], "IPI virtualization off"));
	free(t);
}

/* The consumer alone on the other node: it follows the vCPU there. */
static void test_remote_consumer(void **state)
{
	struct vs_topo *t = topo();
	struct vs_sample s;
	struct vs_placement pl;
	struct vs_mem_nodes m;
	struct vs_place_in in = { 0 };
	const struct vs_place_advice *x;

	(void)state;
	__T("memory", vs_mem_nodes_read(700, &m) == 0);
	window(&s, 3, 0);
	in.topo = t;
	in.sample = &s;
	in.mem = &m;
	__T("audit", vs_placement_audit(&in, &pl) == 0 && pl.known);
	x = advice(&pl, "thread.affinity");
	__T("next to the vCPU on node 1 (its SMT sibling)", x && x->a.tid == 703 &&
	    !strcmp(x->a.value, "7") && strstr(x->a.why, "memory on another node"));
	__T("no verdict: said", !x->have_pred && !strcmp(x->model,
	    "no verdict: nothing to predict; remote memory itself not modelled (ELVIS: up to 30% lost)"));
	free(t);
}

/* One node, sharing only the L3: the consumer moves to the cheaper CPU. */
static void test_cache_rule(void **state)
{
	struct vs_topo *t = topo();
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_placement pl;
	struct vs_place_handoff h[] = { { 0, 1, 120 }, { 0, 4, 60 } };
	struct vs_place_in in = { 0 };
	const struct vs_place_advice *x;

	(void)state;
	window(&s, 0, 1);
	verdict(&v, VS_MECH_NOTIFY);
	in.topo = t;
	in.sample = &s;
	in.verdict = &v;
	in.handoff = h;
	in.n_handoff = 2;
	__T("audit", vs_placement_audit(&in, &pl) == 0 && pl.known &&
	    !strcmp(pl.relation, "share L3"));
	x = advice(&pl, "thread.affinity");
	__T("to the SMT sibling, 60 ns a message", x && !strcmp(x->a.value, "4") &&
	    strstr(x->model, "120ns -> 60ns"));
	h[1].ns = 130;	/* measured dearer: no advice */
	__T("audit", vs_placement_audit(&in, &pl) == 0 && !advice(&pl, "thread.affinity"));
	free(t);
}

static void test_spinning_siblings(void **state)
{
	struct vs_topo *t = topo();
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_placement pl;
	struct vs_place_in in = { 0 };
	const struct vs_place_advice *x;

	(void)state;
	window(&s, 0, 4);		/* SMT siblings */
	verdict(&v, VS_MECH_BUSY);
	in.topo = t;
	in.sample = &s;
	in.verdict = &v;
	__T("audit", vs_placement_audit(&in, &pl) == 0 && pl.known);
	__T("SMT siblings", !strcmp(pl.relation, "SMT siblings"));
	x = advice(&pl, "thread.affinity");
	__T("off the core, keeping the L3", x && !strcmp(x->a.value, "1") &&
	    strstr(x->a.why, "SMT siblings"));
	__T("nothing measured: not predicted, and said", !x->have_pred &&
	    strstr(x->model, "not predicted"));
	verdict(&v, VS_MECH_NOTIFY);
	__T("audit", vs_placement_audit(&in, &pl) == 0);
	__T("siblings that do not spin stay", !advice(&pl, "thread.affinity"));
	free(t);
}

/* Both threads on one CPU: the consumer moves to the closest other one. */
static void test_shared_cpu(void **state)
{
	struct vs_topo *t = topo();
	struct vs_sample s;
	struct vs_placement pl;
	struct vs_place_in in = { 0 };
	const struct vs_place_advice *x;
	int a[VS_PLACE_MAX_PAIRS], b[VS_PLACE_MAX_PAIRS];

	(void)state;
	window(&s, 5, 5);
	__T("candidates from the shared CPU", vs_placement_pairs(t, &s, NULL, a, b,
	    VS_PLACE_MAX_PAIRS) == 2 && a[0] == 5 && b[0] == 1 && b[1] == 0);
	in.topo = t;
	in.sample = &s;
	__T("audit", vs_placement_audit(&in, &pl) == 0 && pl.known &&
	    !strcmp(pl.relation, "same CPU"));
	x = advice(&pl, "thread.affinity");
	__T("to its SMT sibling", x && !strcmp(x->a.value, "1") && !x->have_pred &&
	    strstr(x->model, "take turns on CPU 5"));
	free(t);
}

static void test_not_known(void **state)
{
	struct vs_topo *t = topo();
	struct vs_sample s;
	struct vs_placement pl;
	struct vs_place_in in = { 0 };

	(void)state;
	window(&s, 0, 2);
	s.cons.present = false;	/* the vhost worker exited mid-window */
	s.cons.n_ran_on = 0;
	in.topo = t;
	in.sample = &s;
	__T("audit", vs_placement_audit(&in, &pl) == 0 && !pl.known);
	__T("one clear reason", !strcmp(pl.why, "where the consumer ran is not known (it left the window)"));
	window(&s, 0, 12);		/* a CPU that went offline since */
	__T("audit", vs_placement_audit(&in, &pl) == 0 && !pl.known &&
	    !strcmp(pl.why, "CPU 0 or 12 is not online now"));
	__T("NULL", vs_placement_audit(NULL, &pl) == -EINVAL);
	free(t);
}

/* The audit as text (80 columns) and JSON, from the remote-vCPU case. */
static void test_render(void **state)
{
	struct vs_topo *t = topo();
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_placement pl;
	struct vs_mem_nodes m;
	struct vs_place_handoff h[] = { { 0, 2, 400 }, { 6, 2, 70 } };
	struct vs_place_in in = { 0 };
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f;
	json_t *j, *a;

	(void)state;
	__T("memory", vs_mem_nodes_read(700, &m) == 0);
	window(&s, 0, 2);
	verdict(&v, VS_MECH_NOTIFY);
	in.topo = t;
	in.sample = &s;
	in.verdict = &v;
	in.handoff = h;
	in.n_handoff = 2;
	in.mem = &m;
	__T("audit", vs_placement_audit(&in, &pl) == 0 && pl.n_advice == 1);
	f = open_memstream(&text, &len);
	vs_placement_print(f, &pl, 2);
	fclose(f);
	__T("names both sides", strstr(text, "vCPU CPU 0/KVM (tid 701) on CPU 0 (90%), 1 (10%)") &&
	    strstr(text, "consumer vhost-700 (tid 703)"));
	__T("the step and its model", strstr(text, "1. thread.affinity tid 701 = 6 (now 0)") &&
	    strstr(text, "model: T "));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		__T("under 80 columns", strlen(line) < 80);
	free(text);
	j = vs_placement_json(&pl);
	a = json_array_get(json_object_get(j, "advice"), 0);
	__T("JSON advice", a && json_integer_value(json_object_get(a, "tid")) == 701 &&
	    !strcmp(json_string_value(json_object_get(a, "value")), "6"));
	__T("JSON prediction", json_is_number(json_object_get(json_object_get(json_object_get(a,
		"predicted"), "after"), "t_ns")));
	__T("JSON memory node", json_integer_value(json_object_get(j, "memory_node")) == 1);
	json_decref(j);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_nodes),
		cmocka_unit_test(test_irqs),
		cmocka_unit_test(test_apicv),
		cmocka_unit_test(test_remote_vcpu),
		cmocka_unit_test(test_remote_consumer),
		cmocka_unit_test(test_cache_rule),
		cmocka_unit_test(test_spinning_siblings),
		cmocka_unit_test(test_shared_cpu),
		cmocka_unit_test(test_not_known),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
