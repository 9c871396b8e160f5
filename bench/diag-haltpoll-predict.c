// SPDX-License-Identifier: GPL-2.0-only
/*
 * How well does diagnose predict the gain of guest halt polling without
 * touching the knob? Inside a guest with cpuidle-haltpoll, per round:
 *   1. eventfd ping-pong as configured (guest_halt_poll_ns as found),
 *   2. the same with every CPU kept out of idle by SCHED_IDLE spinners
 *      (diagnose's prediction, lib/sources/hostcost.c),
 *   3. guest_halt_poll_ns set to POLL_NS, ping-pong again (the truth),
 * then the parameter is restored (also on SIGINT/SIGTERM).
 *   usage: diag-haltpoll-predict [ROUNDS=3] [POLL_NS=200000]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/hostcost.h"
#include "core/sysfs.h"
#include "sources/wakeup.h"

static char param[512];
static char saved[64];

static void restore(void)
{
	if (saved[0])
		vs_write_str(param, saved);
}

static void on_signal(int sig)
{
	restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 3;
	const char *poll_ns = argc > 2 ? argv[2] : "200000";
	struct vs_hostcost_opts ho = { .rounds = 200, .polled = true, .yz = false };
	struct vs_wakeup_opts wo;
	struct vs_wakeup_result wr;
	struct vs_hostcosts hc;
	int i, err;

	if (vs_path(param, sizeof(param), "/sys/module/haltpoll/parameters/guest_halt_poll_ns") ||
	    vs_read_str(param, saved, sizeof(saved))) {
		fprintf(stderr, "no cpuidle-haltpoll here (%s)\n", param);
		return 77;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	vs_wakeup_opts_default(&wo);
	wo.rounds = 200;
	wo.warmup = 20;
	printf("guest_halt_poll_ns %s; one-way wake-up (median round trip / 2)\n", saved);
	printf("%-5s %14s %18s %16s\n", "round", "as configured", "predicted (spin)",
	       "measured at poll");
	for (i = 0; i < rounds; i++) {
		vs_hostcosts_measure(&ho, &hc);
		err = vs_write_str(param, poll_ns);
		if (err) {
			fprintf(stderr, "cannot write %s: %s\n", param, strerror(-err));
			return 1;
		}
		err = vs_wakeup_measure(&wo, &wr);
		restore();
		if (err) {
			fprintf(stderr, "ping-pong failed: %s\n", strerror(-err));
			return 1;
		}
		printf("%-5d %11.1f us %15.1f us %13.1f us\n", i + 1, hc.wake_ns / 1e3,
		       hc.wake_polled_ns / 1e3, wr.median_ns / 2e3);
	}
	return 0;
}
