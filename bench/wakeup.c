// SPDX-License-Identifier: GPL-2.0-only
/*
 * Wake-up round trip (lib/sources/wakeup.c eventfd ping-pong) against the guest's
 * halt-poll window, measured in one run with the settings interleaved, so
 * the ratio is not skewed by load that comes and goes on a shared machine.
 * Restores guest_halt_poll_ns to its value at start, also on Ctrl-C.
 *
 *   .output/bench/wakeup [ROUNDS [REPEATS [NS...]]]   (root, KVM guest)
 *   default: 2000 rounds, 5 repeats, windows 0 and 200000 ns
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "knobs/knobs.h"
#include "core/units.h"
#include "sources/wakeup.h"

#define MAX_VALUES 8
#define MAX_REPEATS 32

static const struct vs_knob_ops *knob;
static char saved[VS_KNOB_VAL_MAX];

static void restore(void)
{
	if (knob && saved[0])
		knob->write("", saved);
}

static void on_signal(int sig)
{
	restore();
	_exit(128 + sig);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static double med[MAX_VALUES][MAX_REPEATS], p98[MAX_VALUES][MAX_REPEATS];
	static double idle[MAX_VALUES][MAX_REPEATS];
	const char *values[MAX_VALUES] = { "0", "200000" };
	struct vs_wakeup_opts o;
	struct vs_wakeup_result r;
	char canon[VS_KNOB_VAL_MAX], why[VS_KNOB_WHY_MAX], t1[32], t2[32];
	unsigned int repeats = 5, nvalues = 2, i, v;
	double base = 0;
	int err;

	vs_wakeup_opts_default(&o);
	if (argc > 1)
		o.rounds = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		repeats = strtoul(argv[2], NULL, 10);
	if (argc > 3) {
		nvalues = 0;
		for (i = 3; i < (unsigned int)argc && nvalues < MAX_VALUES; i++)
			values[nvalues++] = argv[i];
	}
	if (!o.rounds || !repeats || repeats > MAX_REPEATS) {
		fprintf(stderr, "usage: %s [ROUNDS [REPEATS(1-%d) [NS...]]]\n", argv[0],
			MAX_REPEATS);
		return 2;
	}
	knob = vs_knob_find("guest.halt_poll_ns");
	for (v = 0; v < nvalues; v++) {
		err = knob->validate("", values[v], canon, sizeof(canon), why, sizeof(why));
		if (err) {
			fprintf(stderr, "guest.halt_poll_ns=%s: %s\n", values[v], why);
			return 1;
		}
	}
	err = knob->read("", saved, sizeof(saved));
	if (err) {
		fprintf(stderr, "cannot read guest_halt_poll_ns: %s\n", strerror(-err));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (i = 0; i < repeats; i++)
		for (v = 0; v < nvalues; v++) {
			err = knob->write("", values[v]);
			if (!err)
				err = vs_wakeup_measure(&o, &r);
			if (err) {
				restore();
				fprintf(stderr, "measuring: %s\n", strerror(-err));
				return 1;
			}
			med[v][i] = r.median_ns;
			p98[v][i] = r.p98_ns;
			idle[v][i] = r.idle_frac;
		}
	restore();
	printf("eventfd ping-pong, CPUs %d and %d, %u rounds x %u repeats, interleaved\n",
	       o.cpu_ping, o.cpu_pong, o.rounds, repeats);
	printf("%-20s %12s %12s %8s %8s\n", "guest_halt_poll_ns", "median", "p98", "idle",
	       "speedup");
	for (v = 0; v < nvalues; v++) {
		double m, p, id = 0;

		for (i = 0; i < repeats; i++)
			id += idle[v][i] / repeats;
		qsort(med[v], repeats, sizeof(double), cmp);
		qsort(p98[v], repeats, sizeof(double), cmp);
		m = med[v][repeats / 2];
		p = p98[v][repeats / 2];
		if (!v)
			base = m;
		printf("%-20s %12s %12s %7.0f%% %7.2fx\n", values[v],
		       vs_format_time(m, t1, sizeof(t1)), vs_format_time(p, t2, sizeof(t2)),
		       id * 100, base / m);
	}
	printf("guest_halt_poll_ns restored to %s\n", saved);
	return 0;
}
