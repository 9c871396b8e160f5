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

#include "sources/notify.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_device_trace),
		cmocka_unit_test(test_modern_and_legacy),
		cmocka_unit_test(test_shared_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
