// SPDX-License-Identifier: GPL-2.0-only
/*
 * How fast the kvm backend of the reference device can notify, in both
 * directions, on this machine:
 *   kick      C blocks after every item (kp 1, notify), P never waits
 *             (poll, a ring large enough): every kick the guest sends is an
 *             ioeventfd write that wakes vs-vhost. Reports kicks/s, Np (the
 *             guest's cost of one kick: the ceiling is 1/Np) and Sc.
 *   intr/W    P blocks in HLT whenever one slot is missing (L 2, kc 1,
 *             notify), C polls with Wc W us: when C is slower than the
 *             emulated P, every item is an irqfd interrupt that wakes the
 *             vCPU. W = 60, 90, 120, 180 us; the highest interrupts/s of
 *             the four is the rate the backend sustains. Reports Sp.
 *   notify    both sides notify, L 256, kp 1, kc 192 (virtio's usual).
 * A kick -> C -> interrupt -> P round trip is Sc + Sp (plus C's work).
 * Usage: kvm-rates [SECONDS [PIN_P,PIN_C [HALT_POLL_NS [RT_PRIO]]]]
 *        (defaults 2 0,1 -1 0; RT_PRIO > 0 runs both sides SCHED_FIFO)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcdev/pcdev.h"

static struct pcdev_results res;

static uint64_t stat_of(const char *name)
{
	unsigned int i;

	for (i = 0; i < res.n_kvm_stats; i++)
		if (!strcmp(res.kvm_stats[i].name, name))
			return res.kvm_stats[i].value;
	return 0;
}

static int run(const char *name, struct pcdev_config *cfg)
{
	double secs;
	int err = pcdev_run(cfg, &res);

	if (err) {
		fprintf(stderr, "kvm-rates: %s: %s%s%s\n", name, strerror(-err),
			res.note[0] ? ": " : "", res.note);
		return err;
	}
	secs = res.elapsed_ns / 1e9;
	printf("%-9s %9.0f %9.0f %9.0f %7.1f %7.1f %7.1f %8.1f %6.1f\n", name,
	       res.items / secs, res.kicks / secs, res.interrupts / secs,
	       res.measured.np / 1e3, res.measured.sc / 1e3,
	       res.measured.sp / 1e3, res.latency.p50 / 1e3,
	       res.items ? (double)stat_of("insn_emulation") / res.items : NAN);
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned int wc_us[] = { 60, 90, 120, 180 };
	struct pcdev_config cfg;
	unsigned int i;
	double secs = argc > 1 ? atof(argv[1]) : 2;
	int pin_p = 0, pin_c = 1, err = 0;
	long long halt_poll = argc > 3 ? atoll(argv[3]) : -1;
	int rt = argc > 4 ? atoi(argv[4]) : 0;

	if (argc > 2 && sscanf(argv[2], "%d,%d", &pin_p, &pin_c) != 2) {
		fprintf(stderr, "kvm-rates: PIN must be P,C (e.g. 0,1 or -1,-1)\n");
		return 2;
	}
	if (!(secs > 0)) {
		fprintf(stderr, "kvm-rates: SECONDS must be positive\n");
		return 2;
	}
	printf("kvm backend notification rates, %.1f s per run, pin %d,%d, "
	       "halt_poll_ns %lld, rt %d\n", secs, pin_p, pin_c, halt_poll, rt);
	printf("%-9s %9s %9s %9s %7s %7s %7s %8s %6s\n", "run", "items/s",
	       "kicks/s", "intr/s", "Np_us", "Sc_us", "Sp_us", "lat50_us",
	       "insn/i");

	pcdev_config_default(&cfg);
	cfg.backend = PCDEV_BACKEND_KVM;
	cfg.duration_ns = secs * 1e9;
	cfg.pin_p = pin_p;
	cfg.pin_c = pin_c;
	cfg.halt_poll_ns = halt_poll;
	cfg.rt_priority = rt;
	cfg.publish = false;
	cfg.wp_ns = cfg.wc_ns = 0;

	cfg.p_mode = PCDEV_POLL;
	cfg.c_mode = PCDEV_NOTIFY;
	cfg.len = 1024;
	cfg.kp = 1;
	cfg.kc = 768;
	err |= run("kick", &cfg);

	/* C must be slower than P for P to find the ring full each time. */
	cfg.p_mode = PCDEV_NOTIFY;
	cfg.c_mode = PCDEV_POLL;
	cfg.len = 2;
	cfg.kp = 1;
	cfg.kc = 1;
	for (i = 0; i < sizeof(wc_us) / sizeof(wc_us[0]); i++) {
		char name[16];

		snprintf(name, sizeof(name), "intr/%u", wc_us[i]);
		cfg.wc_ns = wc_us[i] * 1e3;
		err |= run(name, &cfg);
	}

	cfg.c_mode = PCDEV_NOTIFY;
	cfg.wc_ns = 0;
	cfg.len = 256;
	cfg.kc = 192;
	err |= run("notify", &cfg);
	return err ? 1 : 0;
}
