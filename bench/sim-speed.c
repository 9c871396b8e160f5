// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/sim-speed: simulated events per second of lib/sim on one core, for
 * a few representative configurations (constant parameters in the Fig. 8
 * notification regimes and the Fig. 6 sleep regimes, random parameters as in
 * Fig. 13, and poll-then-block: a fixed poll that catches one more item per
 * nFC batch, and QEMU's adaptive window over Fig. 13's random costs). Rates are per second of this process's CPU time, so that other
 * load on the machine does not count against the simulator; wall-clock rates
 * are printed too. The goal is 20 million events per second.
 *
 * Usage: sim-speed [ITEMS_PER_CASE]   (default 2000000)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/mq.h"
#include "model/sim.h"

static double seconds(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Fig. 8: Wc = 2us, L = 512, kp = 1, kc = 384, Table 4 costs. */
static void fig8(struct vs_sim_config *c, double wp)
{
	vs_sim_config_default(c);
	c->p.len = 512;
	c->p.wp = wp;
	c->p.wc = 2000;
	c->p.kp = 1;
	c->p.kc = 384;
	c->p.np = 1100;
	c->p.nc = 580;
	c->p.sp = 28000;
	c->p.sc = 420;
}

/* Fig. 13: Table 4 spreads for the costs, 0.5% for Wp, Wc exponential. */
static void fig13(struct vs_sim_config *c, double wp)
{
	fig8(c, wp);
	c->dist[VS_SIM_WP] = (struct vs_dist){ VS_DIST_NORMAL, 0.005 * wp };
	c->dist[VS_SIM_WC] = (struct vs_dist){ VS_DIST_EXP, 0 };
	c->dist[VS_SIM_NP] = (struct vs_dist){ VS_DIST_NORMAL, 220 };
	c->dist[VS_SIM_NC] = (struct vs_dist){ VS_DIST_NORMAL, 30 };
	c->dist[VS_SIM_SP] = (struct vs_dist){ VS_DIST_NORMAL, 3500 };
	c->dist[VS_SIM_SC] = (struct vs_dist){ VS_DIST_NORMAL, 20 };
}

int main(int argc, char **argv)
{
	struct vs_sim_config c;
	struct vs_sim_result r;
	uint64_t items = 2000000, total_ev = 0;
	double total_cpu = 0, total_wall = 0;
	char *end;
	cpu_set_t set;
	int i, err;
	static const char *const names[] = {
		"nFC  Wp=2.5us (const)", "nFP  Wp=1us (const)",
		"sFC  Y=50us (const)", "nFC  Wp=2.5us (Fig.13 random)",
		"nFP  Wp=1us (Fig.13 random)",
		"hybrid nFC Pc=100ns (const)",
		"hybrid qemu Pc=1us (Fig.13)",
	};
	const int ncases = sizeof(names) / sizeof(names[0]);

	if (argc > 1) {
		errno = 0;
		items = strtoull(argv[1], &end, 10);
		if (errno || *end || !items) {
			fprintf(stderr, "sim-speed: '%s' is not an item count\n",
				argv[1]);
			return 2;
		}
	}
	/* One core: stay on the CPU we started on. */
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);

	printf("%-30s %12s %10s %10s\n", "case", "events", "Mev/s cpu",
	       "Mev/s wall");
	for (i = 0; i < ncases; i++) {
		double c0, w0, cpu, wall;

		switch (i) {
		case 0: fig8(&c, 2500); break;
		case 1: fig8(&c, 1000); break;
		case 2:
			fig8(&c, 2000);
			c.p.wc = 1000;
			c.p.yp = c.p.yc = 50000;
			c.p_mode = c.c_mode = VS_MECH_SLEEP;
			break;
		case 3: fig13(&c, 2500); break;
		case 4: fig13(&c, 1000); break;
		case 5:
			/* g = 500ns, nFC batch 1, the next item 80ns away */
			fig8(&c, 2500);
			c.p_mode = c.c_mode = VS_MECH_HYBRID;
			c.p.pp = 0;
			c.p.pc = 100;
			break;
		default:
			fig13(&c, 2500);
			c.p_mode = c.c_mode = VS_MECH_HYBRID;
			c.poll_p.kind = c.poll_c.kind = VS_POLL_QEMU;
			c.p.pp = c.p.pc = 1000;
			break;
		}
		c.items = items;
		c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
		w0 = seconds(CLOCK_MONOTONIC);
		err = vs_sim_run(&c, &r);
		cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
		wall = seconds(CLOCK_MONOTONIC) - w0;
		if (err) {
			fprintf(stderr, "sim-speed: %s: %s\n", names[i],
				strerror(-err));
			return 1;
		}
		printf("%-30s %12llu %10.1f %10.1f\n", names[i],
		       (unsigned long long)r.events, r.events / cpu / 1e6,
		       r.events / wall / 1e6);
		total_ev += r.events;
		total_cpu += cpu;
		total_wall += wall;
	}
	/* Shared polling cores (lib/model/mqsim.c): a busy poller over 8
	 * queues, two pollers over 16 with one saturated. */
	for (i = 0; i < 2; i++) {
		struct vs_mq_sim_config mc = { .seed = 3 };
		struct vs_mq_sim_result mr;
		double c0, w0, cpu, wall, total = 0;
		unsigned int q;

		vs_mq_params_default(&mc.p);
		mc.p.n_queues = i ? 16 : 8;
		mc.p.n_pollers = i ? 2 : 1;
		for (q = 0; q < mc.p.n_queues; q++) {
			mc.p.q[q] = (struct vs_mq_queue){ .rate = i && !q ? 2e6 : 40e3,
							  .burst = 8, .wc_ns = 2e3 };
			total += mc.p.q[q].rate;
		}
		mc.sim_ns = (double)items / total * 1e9;
		c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
		w0 = seconds(CLOCK_MONOTONIC);
		err = vs_mq_sim(&mc, &mr);
		cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
		wall = seconds(CLOCK_MONOTONIC) - w0;
		if (err) {
			fprintf(stderr, "sim-speed: mq: %s\n", strerror(-err));
			return 1;
		}
		printf("%-30s %12llu %10.1f %10.1f\n",
		       i ? "mq 16 queues, 2 pollers, sat" : "mq 8 queues, 1 poller",
		       (unsigned long long)mr.events, mr.events / cpu / 1e6,
		       mr.events / wall / 1e6);
		total_ev += mr.events;
		total_cpu += cpu;
		total_wall += wall;
	}
	printf("%-30s %12llu %10.1f %10.1f\n", "all",
	       (unsigned long long)total_ev, total_ev / total_cpu / 1e6,
	       total_ev / total_wall / 1e6);
	printf("events/s (cpu, all cases): %.0f (goal 20000000: %s)\n",
	       total_ev / total_cpu,
	       total_ev / total_cpu >= 20e6 ? "met" : "NOT met");
	return 0;
}
