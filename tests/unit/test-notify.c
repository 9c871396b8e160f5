// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM kick addresses to virtqueues (lib/sources/notify.c). The guests of the
 * project's machines run under TCG, so no virtio-pci kick reaches a KVM
 * tracepoint here; the reference device's KVM backend does (its vCPU writes
 * port 0x510, an ioeventfd): tests/fixtures/traces/pcdev-kick-pio.perf is
 * `perf record -e kvm:kvm_pio -e kvm:kvm_mmio -e kvm:kvm_fast_mmio` of it on
 * this machine (400 lines of `perf script`). The virtio-pci layouts (modern
 * with QEMU's notify region, legacy) are checked on trace lines written in
 * the kernel's print formats of the three tracepoints.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sources/notify.h"
#include "sources/vqueue.h"

#define QMP_FIXTURE "tests/fixtures/qmp/tcg-guest-blk-net.json"

static void test_reference_device_trace(void **state)
{
	struct vs_notify_map m = { 0 };
	uint64_t counts[4] = { 0 };
	struct vs_notify_counts c = { .per_dev = 2, .counts = counts, .n_counts = 4 };
	FILE *f = fopen("tests/fixtures/traces/pcdev-kick-pio.perf", "re");

	__T("fixture", f);
	__T("map", !vs_notify_add(&m, VS_NOTIFY_PIO, 0x510, -1, 0, 0));
	__T("count", !vs_notify_count_trace(&m, f, &c));
	fclose(f);
	__T("every kick is the queue's", c.matched == 400 && c.unmatched == 0 &&
	    counts[0] == 400 && counts[1] == 0);
}

static void test_modern_and_legacy(void **state)
{
	/* blk0 (modern, BAR 4 at 0xfe000000, one queue), net0 (modern, BAR 4
	 * at 0xfe004000, rx tx ctrl), a legacy device at port 0xc040 (2 queues) */
	static const char trace[] =
		" CPU 0/KVM 4711 [000] 10.000001: kvm:kvm_fast_mmio: fast mmio at gpa 0xfe003000\n"
		" CPU 0/KVM 4711 [000] 10.000002: kvm:kvm_fast_mmio: fast mmio at gpa 0xfe007004\n"
		" CPU 1/KVM 4712 [001] 10.000003: kvm:kvm_fast_mmio: fast mmio at gpa 0xfe007004\n"
		" CPU 1/KVM 4712 [001] 10.000004: kvm:kvm_mmio: mmio write len 2 gpa 0xfe007008 val 0x2\n"
		" CPU 1/KVM 4712 [001] 10.000005: kvm:kvm_mmio: mmio read len 4 gpa 0xfe007008 val 0x0\n"
		" CPU 0/KVM 4711 [000] 10.000006: kvm:kvm_pio: pio_write at 0xc050 size 2 count 1 val 0x1\n"
		" CPU 0/KVM 4711 [000] 10.000007: kvm:kvm_pio: pio_write at 0xc050 size 2 count 1 val 0x0\n"
		" CPU 0/KVM 4711 [000] 10.000008: kvm:kvm_pio: pio_read at 0xc050 size 2 count 1 val 0x0\n"
		"  qemu-system-x86-4711  [000] d..1.    10.000009: kvm_fast_mmio: fast mmio at gpa 0xfe003000\n"
		" CPU 0/KVM 4711 [000] 10.000010: kvm:kvm_fast_mmio: fast mmio at gpa 0xfe00300c\n";
	struct vs_notify_map m = { 0 };
	uint64_t counts[3 * 4] = { 0 };
	struct vs_notify_counts c = { .per_dev = 4, .counts = counts, .n_counts = 12 };
	unsigned int dev, queue;
	FILE *f;

	__T("blk0", !vs_notify_add_modern(&m, 0, 0xfe000000, VS_QEMU_NOTIFY_OFFSET,
					  VS_QEMU_NOTIFY_MULTIPLIER, 1, NULL));
	__T("net0", !vs_notify_add_modern(&m, 1, 0xfe004000, VS_QEMU_NOTIFY_OFFSET,
					  VS_QEMU_NOTIFY_MULTIPLIER, 3, NULL));
	__T("legacy", !vs_notify_add_legacy(&m, 2, 0xc040, 2));
	__T("a BAR not programmed", vs_notify_add_modern(&m, 3, 0, 0x3000, 4, 1, NULL) == -EINVAL);
	__T("net0 tx", !vs_notify_lookup(&m, VS_NOTIFY_MMIO, 0xfe007004, -1, &dev, &queue) &&
	    dev == 1 && queue == 1);
	__T("legacy needs the value",
	    vs_notify_lookup(&m, VS_NOTIFY_PIO, 0xc050, -1, &dev, &queue) == -ENOENT);
	f = fmemopen((void *)trace, sizeof(trace) - 1, "r");
	__T("count", f && !vs_notify_count_trace(&m, f, &c));
	fclose(f);
	__T("blk0 q0 (perf and ftrace lines)", counts[0] == 2);
	__T("net0 tx twice, ctrl once by kvm_mmio", counts[4 + 1] == 2 && counts[4 + 2] == 1);
	__T("legacy q0 and q1 by the value", counts[8] == 1 && counts[9] == 1);
	__T("reads are no kicks; an unknown address is unmatched",
	    c.matched == 7 && c.unmatched == 1);
}

static void test_shared_address(void **state)
{
	/* notify_off_multiplier 0: one address, the queue index as the value */
	struct vs_notify_map m = { 0 };
	const uint16_t offs[2] = { 0, 0 };
	unsigned int dev, queue;

	__T("add", !vs_notify_add_modern(&m, 0, 0xfe000000, 0x3000, 0, 2, offs));
	__T("by value", !vs_notify_lookup(&m, VS_NOTIFY_MMIO, 0xfe003000, 1, &dev, &queue) &&
	    queue == 1);
	__T("no value: ambiguous",
	    vs_notify_lookup(&m, VS_NOTIFY_MMIO, 0xfe003000, -1, &dev, &queue) == -ENOENT);
	__T("twice", vs_notify_add_modern(&m, 0, 0xfe000000, 0x3000, 0, 2, offs) == -EEXIST);
}

/*
 * QMP replayed from QMP_FIXTURE: the replies of the test guest's QEMU 7.2
 * (tests/guest/guest.sh start DIR --with-net, under TCG on this machine)
 * to what vs_vq_map_notify() asks, one {"execute", "arguments", "return"}
 * per command. A command not recorded fails as QMP would (-EREMOTEIO).
 */
static int replay(void *ctx, const char *cmd, json_t *args, json_t **ret)
{
	json_t *rec = ctx, *e;
	size_t i;

	json_array_foreach(rec, i, e) {
		json_t *a = json_object_get(e, "arguments");

		if (strcmp(json_string_value(json_object_get(e, "execute")), cmd))
			continue;
		if ((a || args) && !(a && args && json_equal(a, args)))
			continue;
		json_decref(args);
		*ret = json_incref(json_object_get(e, "return"));
		return 0;
	}
	json_decref(args);
	return -EREMOTEIO;
}

static json_t *recorded(json_t *rec, const char *cmd)
{
	json_t *e;
	size_t i;

	json_array_foreach(rec, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "execute")), cmd))
			return json_object_get(e, "return");
	return NULL;
}

/* The devices as vqueue.c's QMP discovery finds them in the recording. */
static void devices_of(json_t *rec, struct vs_vqset *set)
{
	json_t *e;
	size_t i;

	memset(set, 0, sizeof(*set));
	json_array_foreach(recorded(rec, "x-query-virtio"), i, e) {
		struct vs_vdev *d = &set->devs[set->n_devs++];
		const char *path = json_string_value(json_object_get(e, "path"));
		json_t *st = NULL;

		snprintf(d->qom_path, sizeof(d->qom_path), "%s", path);
		/* "/machine/peripheral/blk0/virtio-backend" -> blk0 */
		sscanf(path, "/machine/peripheral/%47[^/]", d->id);
		__T("status recorded", !replay(rec, "x-query-virtio-status",
					       json_pack("{s:s}", "path", path), &st));
		d->n_vqs = (unsigned int)json_integer_value(json_object_get(st, "num-vqs"));
		json_decref(st);
	}
}

static const struct vs_vdev *dev_named(const struct vs_vqset *set, const char *id,
				       unsigned int *at)
{
	for (*at = 0; *at < set->n_devs; (*at)++)
		if (!strcmp(set->devs[*at].id, id))
			return &set->devs[*at];
	return NULL;
}

static void test_query_pci_fixture(void **state)
{
	static struct vs_vqset set;
	json_error_t jerr;
	json_t *rec = json_load_file(QMP_FIXTURE, 0, &jerr);
	const struct vs_vdev *blk, *net;
	unsigned int b, n, dev, queue;

	(void)state;
	__T("fixture", rec);
	devices_of(rec, &set);
	blk = dev_named(&set, "blk0", &b);
	net = dev_named(&set, "net0", &n);
	__T("blk0 (1 queue) and net0 (rx tx ctrl)", blk && net && blk->n_vqs == 1 &&
	    net->n_vqs == 3);
	__T("both mapped", vs_vq_map_notify(replay, rec, &set) == 2);
	/* By hand from the recording: blk0 is 00:02.0 with BAR4 at
	 * 0xfebf8000, net0 00:03.0 with BAR4 at 0xfebfc000; the notify region
	 * at 0x3000 (QOM's virtio-pci-notify-* addr), page-per-vq off:
	 * multiplier 4. The guest negotiated VIRTIO_F_VERSION_1, so the
	 * legacy ports (BAR0 0xc000 and 0xc080, + 16) are not its kicks. */
	__T("one address per queue, modern only", set.notify.n == 4);
	__T("blk0 req", !vs_notify_lookup(&set.notify, VS_NOTIFY_MMIO, 0xfebfb000, -1, &dev,
					  &queue) && dev == b && queue == 0);
	__T("net0 rx", !vs_notify_lookup(&set.notify, VS_NOTIFY_MMIO, 0xfebff000, -1, &dev,
					 &queue) && dev == n && queue == 0);
	__T("net0 tx, kvm_mmio with its value", !vs_notify_lookup(&set.notify, VS_NOTIFY_MMIO,
								 0xfebff004, 1, &dev, &queue) &&
	    dev == n && queue == 1);
	__T("net0 ctrl", !vs_notify_lookup(&set.notify, VS_NOTIFY_MMIO, 0xfebff008, -1, &dev,
					   &queue) && dev == n && queue == 2);
	__T("legacy port not mapped", vs_notify_lookup(&set.notify, VS_NOTIFY_PIO, 0xc090, 1,
						       &dev, &queue) == -ENOENT);
	__T("where from", strstr(net->notify_from, "qmp query-pci 00:03.0 BAR4 0xfebfc000+0x3000+4*q"));
	json_decref(rec);
}

/* The same reply, other facts: legacy, unknown transport, anonymous
 * devices, BARs not programmed, page-per-vq. */
static void test_query_pci_cases(void **state)
{
	json_error_t jerr;
	json_t *rec = json_load_file(QMP_FIXTURE, 0, &jerr), *pci, *fn = NULL, *r;
	struct vs_notify_pci_dev pd = {
		.qdev_id = "net0", .devfn = -1, .n_queues = 3, .modern = 0,
		.notify_offset = VS_QEMU_NOTIFY_OFFSET,
		.multiplier = VS_QEMU_NOTIFY_MULTIPLIER,
	};
	struct vs_notify_map m = { 0 };
	unsigned int dev, queue;
	char desc[96];
	size_t i;

	(void)state;
	__T("fixture", rec);
	pci = recorded(rec, "query-pci");
	__T("legacy", !vs_notify_add_query_pci(&m, pci, 5, &pd, desc, sizeof(desc)) &&
	    m.n == 3 && strstr(desc, "BAR0 0xc080+16=q"));
	__T("legacy tx: the port, value 1", !vs_notify_lookup(&m, VS_NOTIFY_PIO, 0xc090, 1, &dev,
							    &queue) && dev == 5 && queue == 1);
	__T("a legacy kick without its value is not pinned on a queue",
	    vs_notify_lookup(&m, VS_NOTIFY_PIO, 0xc090, -1, &dev, &queue) == -ENOENT);

	/* not known yet which one the guest uses: both */
	memset(&m, 0, sizeof(m));
	pd.modern = -1;
	__T("both transports", !vs_notify_add_query_pci(&m, pci, 0, &pd, desc, sizeof(desc)) &&
	    m.n == 6);

	/* blk0 as if it had no -device id=: found by its devfn (slot 2 << 3),
	 * among virtio functions only */
	json_array_foreach(json_object_get(json_array_get(pci, 0), "devices"), i, fn)
		if (!strcmp(json_string_value(json_object_get(fn, "qdev_id")), "blk0"))
			break;
	__T("blk0 in the reply", fn);
	json_object_set_new(fn, "qdev_id", json_string(""));
	memset(&m, 0, sizeof(m));
	pd = (struct vs_notify_pci_dev){ .qdev_id = NULL, .devfn = 16, .n_queues = 1,
		.modern = 1, .notify_offset = 0x3000, .multiplier = 0x1000 };
	__T("by devfn, page-per-vq", !vs_notify_add_query_pci(&m, pci, 0, &pd, desc, sizeof(desc)) &&
	    m.n == 1 && m.e[0].addr == 0xfebfb000 && strstr(desc, "00:02.0"));
	pd.n_queues = 2;
	memset(&m, 0, sizeof(m));
	__T("a second page would be outside the 16 KB BAR: not QEMU's layout",
	    vs_notify_add_query_pci(&m, pci, 0, &pd, desc, sizeof(desc)) == -EINVAL && !m.n);
	pd.devfn = 8;		/* the PIIX ISA bridge's slot: not virtio */
	__T("no such virtio function", vs_notify_add_query_pci(&m, pci, 0, &pd, desc,
							       sizeof(desc)) == -ENOENT);

	/* BAR 4 as QEMU reports it before the guest programs it */
	json_array_foreach(json_object_get(fn, "regions"), i, r)
		if (json_integer_value(json_object_get(r, "bar")) == 4)
			json_object_set_new(r, "address", json_integer(-1));
	pd = (struct vs_notify_pci_dev){ .devfn = 16, .n_queues = 1, .modern = 1,
		.notify_offset = 0x3000, .multiplier = 4 };
	__T("unprogrammed BAR", vs_notify_add_query_pci(&m, pci, 0, &pd, desc, sizeof(desc)) ==
	    -EINVAL && !m.n);
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_pci_fixture),
		cmocka_unit_test(test_query_pci_cases),
		cmocka_unit_test(test_reference_device_trace),
		cmocka_unit_test(test_modern_and_legacy),
		cmocka_unit_test(test_shared_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
