// SPDX-License-Identifier: GPL-2.0-only
/*
 * The probes' per-address kick counts on a real KVM VM: the reference
 * device's kvm backend runs in this process, its guest kicks with a 16-bit
 * OUT to port 0x510 (an ioeventfd, completed in the kernel) and writes its
 * control port 0x514 at phase changes. The BPF map must count at 0x510
 * exactly the kicks the guest counted itself, lose no write (its PIO rows
 * sum to the VM's kvm_pio write counter), and, through notify.c with the
 * one-address table of the reference device, give the queue those kicks.
 * For the tp_btf programs and their raw_tp twins. Needs root, /dev/kvm and
 * BPF: skips with the reason where one is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "pcdev/guest/abi.h"
#include "pcdev/pcdev.h"
#include "sources/notify.h"
#include "sources/probe.h"

static const char *missing(void)
{
	int fd;

	if (geteuid())
		return "needs root (BPF)";
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return "/dev/kvm not usable";
	close(fd);
	return NULL;
}

static void kicks_at_port(enum vs_probe_attach how)
{
	pid_t me = getpid();
	struct vs_probe_opts o = {
		.pids = &me, .n_pids = 1, .flags = VS_PROBE_KVM, .attach = how,
	};
	struct vs_probe_snapshot snap;
	struct pcdev_results res;
	struct pcdev_config cfg;
	struct vs_probe *p;
	struct vs_notify_map m = { 0 };
	uint64_t counts[1] = { 0 }, at_kick = 0, pio_rows = 0, pio_ctr = 0;
	struct vs_notify_counts c = { .per_dev = 1, .counts = counts, .n_counts = 1 };
	unsigned int i;
	int err;

	err = vs_probe_open(&o, &p);
	if (err == -EPERM)
		__SKIP("BPF refused (EPERM)");
	__T("probe open", err == 0);

	/* A fast consumer that waits for a kick after each item (the
	 * kick-heavy run of test-pcdev-kvm). */
	pcdev_config_default(&cfg);
	cfg.backend = PCDEV_BACKEND_KVM;
	cfg.len = 4;
	cfg.kp = 1;
	cfg.kc = 1;
	cfg.wp_ns = 0;
	cfg.wc_ns = 1000;
	cfg.items = 3000;
	cfg.duration_ns = 60e9;
	cfg.publish = false;
	err = pcdev_run(&cfg, &res);
	__T(res.note, err == 0);
	__T("read", vs_probe_read(p, &snap) == 0);
	vs_probe_close(p);
	__T("BPF backend", snap.backend == VS_PROBE_BPF);
	__T("the guest kicked", res.kicks >= 100);

	for (i = 0; i < snap.n_kick_addrs; i++) {
		const struct vs_probe_kick_addr *k = &snap.kick_addrs[i];

		__T("only the target's rows", k->tgid == me);
		if (k->space != VS_KICK_SPACE_PIO)
			continue;
		pio_rows += k->count;
		if (k->addr == PCDEV_PORT_KICK) {
			__T("the kick's value, 0", k->value == 0);
			at_kick += k->count;
		}
	}
	/* the VM's sum: the vCPU thread has exited, its counts are retired
	 * into it */
	for (i = 0; i < snap.n_vms; i++)
		if (snap.vms[i].pid == me)
			pio_ctr += snap.vms[i].c.ctr[VS_KICK_PIO];
	print_message("%s: guest kicks %llu, map at 0x%x %llu; PIO writes map %llu, "
		      "kvm_pio counter %llu\n", how == VS_ATTACH_TP_BTF ? "tp_btf" : "raw_tp",
		      (unsigned long long)res.kicks, PCDEV_PORT_KICK,
		      (unsigned long long)at_kick, (unsigned long long)pio_rows,
		      (unsigned long long)pio_ctr);
	__T("every kick at the kick port, exactly", at_kick == res.kicks);
	__T("no PIO write lost by the map", pio_rows == pio_ctr);
	__T("control port writes beside the kicks", pio_rows > at_kick);

	/* The reference device's table: one address, its one queue. */
	__T("table", !vs_notify_add(&m, VS_NOTIFY_PIO, PCDEV_PORT_KICK, -1, 0, 0));
	__T("count", vs_notify_count_probe(&m, &snap, me, &c) == 0);
	__T("the queue's kicks", counts[0] == res.kicks && c.matched == res.kicks &&
	    c.unmatched == pio_rows - at_kick);
	vs_probe_snapshot_free(&snap);
}

static void test_tp_btf(void **state)
{
	const char *why = missing();

	(void)state;
	if (why)
		__SKIP(why);
	kicks_at_port(VS_ATTACH_TP_BTF);
}

static void test_raw_tp(void **state)
{
	const char *why = missing();

	(void)state;
	if (why)
		__SKIP(why);
	kicks_at_port(VS_ATTACH_RAW_TP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tp_btf),
		cmocka_unit_test(test_raw_tp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
