// SPDX-License-Identifier: GPL-2.0-only
/* lib/sources/vqueue: devices and queues of a QEMU from its command line
 * (tests/fixtures/diagnose-host, pid 700: QEMU under TCG), ring index
 * arithmetic, and how kicks and interrupts are attributed to queues. */
#include "test.h"
#include "diag-fixture.h"

#include <math.h>

#include "sources/discover.h"
#include "sources/probe.h"
#include "sources/vqueue.h"

static void test_idx_delta(void **state)
{
	(void)state;
	__T("forward", vs_vq_idx_delta(10, 15) == 5);
	__T("across the 16-bit wrap", vs_vq_idx_delta(65530, 4) == 10);
	__T("nothing moved", vs_vq_idx_delta(7, 7) == 0);
}

static void test_cmdline_devices(void **state)
{
	static struct vs_vqset set;
	struct vs_vm vm;
	const struct vs_vdev *blk, *net;

	(void)state;
	__T("fixture root", diag_fixture_root("diagnose-host") == 0);
	__T("the TCG QEMU", vs_discover_pid(700, &vm) == 0);
	__T("devices without QMP", vs_vq_discover(NULL, &vm, &set) == 0);
	__T("said where from", strstr(set.from, "command line") != NULL);
	__T("two virtio devices", set.n_devs == 2);
	blk = &set.devs[0];
	net = &set.devs[1];
	__T("virtio-blk blk0", !strcmp(blk->type, "virtio-blk") && !strcmp(blk->id, "blk0"));
	__T("bound to io1", !strcmp(blk->iothread, "io1") &&
	    blk->cons_kind == VS_VQ_CONS_IOTHREAD && blk->cons_tid == 703);
	__T("one queue per vCPU, QEMU's default, said so",
	    blk->n_vqs == 2 && blk->queues_assumed && !strcmp(blk->vqs[1].role, "req"));
	__T("virtio-net on the main loop", !strcmp(net->type, "virtio-net") &&
	    net->cons_kind == VS_VQ_CONS_MAIN_LOOP && net->cons_tid == 700);
	__T("rx, tx, ctrl", net->n_vqs == 3 && !strcmp(net->vqs[0].role, "rx") &&
	    !strcmp(net->vqs[1].role, "tx") && !strcmp(net->vqs[2].role, "ctrl"));
	__T("no items without QMP, and why", isnan(blk->vqs[0].items.per_s) &&
	    strstr(blk->vqs[0].items.note, "not measured") != NULL);
	__T("no such process", vs_vq_discover(NULL, &(struct vs_vm){ .pid = 999 }, &set) < 0);
}

/* Wake-ups over one second: vCPU 701 wakes IO io1 (703) 300 times, the
 * main loop wakes vCPU 701 200 times after 20 us each. */
static void fill_snapshot(struct vs_probe_snapshot *snap, struct vs_probe_pair *pairs)
{
	memset(snap, 0, sizeof(*snap));
	memset(pairs, 0, 2 * sizeof(*pairs));
	pairs[0] = (struct vs_probe_pair){ .waker_tgid = 700, .waker_tid = 701,
					   .wakee_tgid = 700, .wakee_tid = 703, .count = 300 };
	pairs[1] = (struct vs_probe_pair){ .waker_tgid = 700, .waker_tid = 700,
					   .wakee_tgid = 700, .wakee_tid = 701, .count = 200,
					   .sum_ns = 200 * 20000 };
	snap->pairs = pairs;
	snap->n_pairs = 2;
	snap->elapsed_ns = 1000000000ull;
}

static void test_attribute(void **state)
{
	static struct vs_vqset set;
	struct vs_probe_snapshot snap;
	struct vs_probe_pair pairs[2];
	struct vs_vm vm;
	unsigned int i, j;

	(void)state;
	__T("fixture root", diag_fixture_root("diagnose-host") == 0);
	__T("the TCG QEMU", vs_discover_pid(700, &vm) == 0);
	fill_snapshot(&snap, pairs);

	/* No QMP: five queues might be active, nothing can be pinned on one. */
	__T("devices", vs_vq_discover(NULL, &vm, &set) == 0);
	set.secs = 1;
	vs_vq_attribute(&set, &vm, &snap);
	__T("shared kicks are not given to a queue", isnan(set.devs[0].vqs[0].kicks.per_s) &&
	    strstr(set.devs[0].vqs[0].kicks.note, "300/s woke IO io1") != NULL);
	__T("guest-side wake-up cost from the vCPU's own wake-ups",
	    fabs(set.vcpu_wake_ns - 20000) < 1 && strstr(set.costs_from, "200 wake-ups"));

	/* QMP said only blk0's first queue moved items. */
	for (i = 0; i < set.n_devs; i++)
		for (j = 0; j < set.devs[i].n_vqs; j++) {
			struct vs_vq *v = &set.devs[i].vqs[j];

			v->items.per_s = i == 0 && j == 0 ? 280 : 0;
			v->active = i == 0 && j == 0;
			v->n_samples = 10;
		}
	vs_vq_attribute(&set, &vm, &snap);
	__T("kicks: the consumer's wake-ups by the vCPUs, a floor",
	    set.devs[0].vqs[0].kicks.per_s == 300 &&
	    !strcmp(set.devs[0].vqs[0].kicks.source, "sched_waking vcpu->consumer") &&
	    strstr(set.devs[0].vqs[0].kicks.note, "floor"));
	__T("interrupts: the vCPU's wake-ups by QEMU",
	    set.devs[0].vqs[0].irqs.per_s == 200 &&
	    !strcmp(set.devs[0].vqs[0].irqs.source, "sched_waking qemu->vcpu"));
	__T("an idle queue says so", isnan(set.devs[1].vqs[1].kicks.per_s) &&
	    strstr(set.devs[1].vqs[1].kicks.note, "idle"));

	/* The vCPUs' write() count, when known, is the kick figure (a
	 * ceiling), with the wake-ups beside it. */
	set.vcpu_writes_per_s = 310;
	vs_vq_attribute(&set, &vm, &snap);
	__T("kicks from the vCPU write() calls", set.devs[0].vqs[0].kicks.per_s == 310 &&
	    !strcmp(set.devs[0].vqs[0].kicks.source, "vcpu write() syscalls") &&
	    strstr(set.devs[0].vqs[0].kicks.note, "300/s woke IO io1"));

	/* Without probes: QMP's signalled-used is the interrupt floor. */
	set.devs[0].vqs[0].signalled_advances = 7;
	vs_vq_attribute(&set, &vm, NULL);
	__T("interrupts from signalled-used", set.devs[0].vqs[0].irqs.per_s == 7 &&
	    !strcmp(set.devs[0].vqs[0].irqs.source, "qmp signalled-used"));
}

/*
 * Kicks per queue from the probes' per-address counts: two active queues
 * of a KVM VM, each kicked at its own notify address, get their own kicks;
 * without the address table (or with the perf fallback, which counts no
 * address) the VM's total stays shared, as before.
 */
static void test_attribute_by_address(void **state)
{
	static struct vs_vqset set;
	struct vs_probe_snapshot snap;
	struct vs_probe_pair pairs[2];
	struct vs_probe_vm pvm;
	struct vs_probe_kick_addr ka[4] = {
		{ .tgid = 700, .space = VS_KICK_SPACE_MMIO, .addr = 0xfebfb000, .value = -1,
		  .count = 300 },
		{ .tgid = 700, .space = VS_KICK_SPACE_MMIO, .addr = 0xfebff004, .value = -1,
		  .count = 200 },
		/* the serial console: a PIO write, not a kick */
		{ .tgid = 700, .space = VS_KICK_SPACE_PIO, .addr = 0x3f8, .value = 65,
		  .count = 40 },
		/* another VM's write at the same address */
		{ .tgid = 900, .space = VS_KICK_SPACE_MMIO, .addr = 0xfebfb000, .value = -1,
		  .count = 999 },
	};
	struct vs_vq *blk_req, *net_tx;
	struct vs_vm vm;
	unsigned int i, j;

	(void)state;
	__T("fixture root", diag_fixture_root("diagnose-host") == 0);
	__T("the QEMU", vs_discover_pid(700, &vm) == 0);
	vm.kvm = true;
	fill_snapshot(&snap, pairs);
	snap.backend = VS_PROBE_BPF;
	memset(&pvm, 0, sizeof(pvm));
	pvm.pid = 700;
	pvm.c.ctr[VS_KICK_FAST_MMIO] = 500;
	pvm.c.ctr[VS_KICK_PIO] = 40;
	snap.vms = &pvm;
	snap.n_vms = 1;
	snap.kick_addrs = ka;
	snap.n_kick_addrs = 4;
	__T("devices", vs_vq_discover(NULL, &vm, &set) == 0);
	set.secs = 1;
	blk_req = &set.devs[0].vqs[0];
	net_tx = &set.devs[1].vqs[1];
	for (i = 0; i < set.n_devs; i++)
		for (j = 0; j < set.devs[i].n_vqs; j++) {
			struct vs_vq *v = &set.devs[i].vqs[j];

			v->active = v == blk_req || v == net_tx;
			v->items.per_s = v->active ? 250 : 0;
			v->n_samples = 10;
		}

	vs_vq_attribute(&set, &vm, &snap);
	__T("no address table: the VM's kicks are shared", isnan(blk_req->kicks.per_s) &&
	    strstr(blk_req->kicks.note, "540/s for the VM, shared by 2 active queues"));

	__T("blk0", !vs_notify_add_modern(&set.notify, 0, 0xfebf8000, VS_QEMU_NOTIFY_OFFSET,
					  VS_QEMU_NOTIFY_MULTIPLIER, 2, NULL));
	__T("net0", !vs_notify_add_modern(&set.notify, 1, 0xfebfc000, VS_QEMU_NOTIFY_OFFSET,
					  VS_QEMU_NOTIFY_MULTIPLIER, 3, NULL));
	vs_vq_attribute(&set, &vm, &snap);
	__T("blk0 req: its own address", blk_req->kicks.per_s == 300 &&
	    !strcmp(blk_req->kicks.source, "kvm_pio/kvm_mmio address") &&
	    strstr(blk_req->kicks.note, "mmio 0xfebfb000") &&
	    strstr(blk_req->kicks.note, "500 of the VM's 540 kick writes"));
	__T("net0 tx: its own address", net_tx->kicks.per_s == 200 &&
	    !strcmp(net_tx->kicks.source, "kvm_pio/kvm_mmio address"));
	__T("an idle queue stays idle", isnan(set.devs[1].vqs[0].kicks.per_s) &&
	    strstr(set.devs[1].vqs[0].kicks.note, "idle"));

	snap.backend = VS_PROBE_PERF;
	vs_vq_attribute(&set, &vm, &snap);
	__T("perf counts no address: shared again", isnan(blk_req->kicks.per_s) &&
	    strstr(blk_req->kicks.note, "shared"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attribute_by_address),
		cmocka_unit_test(test_idx_delta),
		cmocka_unit_test(test_cmdline_devices),
		cmocka_unit_test(test_attribute),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
