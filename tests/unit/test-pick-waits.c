// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/model/pick: the request/response pick from the lengths of the
 * consumer's waits (struct vs_rr's wait_slot, log2 ns slots) under QEMU's
 * adaptive window, on synthetic histograms: what a window covers, the
 * window that covers the waits that matter where their mean would not,
 * the waits beyond any window, the default that is already right, and
 * the widest window for the same objective.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "model/pick.h"

/* The slot of [2^(s-1), 2^s) ns: slot 17 is [65.5, 131.1) us. */
#define SLOT_64US 17
#define SLOT_128US 18
#define SLOT_8US 14
#define SLOT_32US 16
#define SLOT_1MS 21

/* QD1 on the test guest: Wc 15 us, one wait per item, wake-up 25 us. */
static struct vs_rr loop(void)
{
	struct vs_rr rr = { .wp = 100000, .wc = 15000, .waits = 1, .sc = 25000, .np = 100 };

	return rr;
}

static double mean_of(const struct vs_rr *rr)
{
	double n = 0, m = 0;
	int s;

	for (s = 1; s < VS_RR_SLOTS; s++) {
		n += rr->wait_slot[s];
		m += rr->wait_slot[s] * 0.75 * ldexp(1, s);	/* slot middle */
	}
	return m / n;
}

/* The loop measured with every wait blocked (a window that covers none):
 * idle is what T leaves, as diagnose sets it. */
static void measured(struct vs_rr *rr)
{
	rr->idle_ns = rr->waits * mean_of(rr);
}

static struct vs_pick_opts opts(const struct vs_rr *rr, double current)
{
	struct vs_pick_opts o = {
		.side = VS_PICK_CONSUMER, .rr = rr, .p_max_ns = 512000,
		.dmax_ns = INFINITY, .t_slack = 0.01, .e_slack = 0.05,
		.current_ns = current,
	};

	return o;
}

static void test_cover_limits(void **state)
{
	struct vs_rr rr = loop();
	double b, c;

	(void)state;
	rr.wait_slot[SLOT_64US] = 1000;
	measured(&rr);
	__T("P = 0", !vs_rr_cover(&rr, 0, &b, &c) && b == 1 && c == 0);
	__T("P past every wait", !vs_rr_cover(&rr, 1e6, &b, &c) && b == 0);
	__T_REL("covered waits poll their length", c, 0.75 * 131072, 1e-9);
	__T_REL("quantile: the slot's middle", vs_rr_wait_quantile(&rr, 0.5), 0.75 * 131072, 1e-9);
	/* Below the slot nothing is covered, and the window never grows past
	 * a wait that ends beyond it: the poll costs the window each time. */
	__T("P below the waits", !vs_rr_cover(&rr, 60000, &b, &c) && b == 1);
	__T("polls nothing: the window is reset to 0 by every wait", c == 0);
	rr.wait_slot[SLOT_64US] = 0;
	rr.wait_slot[0] = 10;
	rr.idle_ns = 0;
	__T("zero-length waits are covered by any window",
	    !vs_rr_cover(&rr, 1000, &b, &c) && b == 0 && c == 0);
	rr.wait_slot[0] = -1;
	__T("negative count", vs_rr_cover(&rr, 1000, &b, &c) == -EINVAL);
	rr.wait_slot[0] = 0;
	rr.waits = 0.5;
	__T("waits < 1", vs_rr_cover(&rr, 1000, &b, &c) == -EINVAL);
	__T("no histogram: no quantile", isnan(vs_rr_wait_quantile(&(struct vs_rr){ .waits = 1 }, 0.5)));
}

/*
 * Waits spread over [65.5, 131) us with a 25 us wake-up. Their mean (98 us)
 * says a 100 us window covers them; their lengths say most of them block
 * there, because a wait that blocks and ends beyond the window (wake-up
 * included) drops QEMU's window to 0. The pick covers the longest of them
 * once the window can grow to it: past 131 us, within the wake-up of it.
 */
static void test_one_mode(void **state)
{
	struct vs_rr rr = loop(), eq;
	struct vs_pick_opts o = opts(&rr, 32768);
	struct vs_prediction pr;
	struct vs_pick k;
	double b, c;

	(void)state;
	rr.wait_slot[SLOT_64US] = 5000;
	measured(&rr);
	eq = rr;
	memset(eq.wait_slot, 0, sizeof(eq.wait_slot));
	__T("equal waits: 100 us covers them", !vs_rr_cover(&eq, 100000, &b, &c) && b == 0);
	__T("their lengths: most still block", !vs_rr_cover(&rr, 100000, &b, &c) && b > 0.5);
	__T("pick", !vs_pick_poll(NULL, &o, &k));
	__T("covers the longest wait", k.p_ns > 131072);
	__T("within a wake-up of it", k.p_ns <= 131072 + rr.sc + 2000);
	__T("not already right", k.have_current && !k.current_right);
	__T("busy's T", !vs_rr_predict(&rr, INFINITY, &pr));
	__T_REL("the pick reaches it", k.at_pick.t_ns, pr.t_ns, 0.01);
	__T_REL("the window in force: the measured T", k.at_current.t_ns,
		rr.wc + rr.idle_ns + rr.sc, 1e-9);
	/* Covered waits cost their length, not the window: past the pick
	 * more polling costs nothing. */
	__T("pick", !vs_rr_predict(&rr, 400000, &pr));
	__T_REL("CPU flat past the pick", pr.e_ns, k.at_pick.e_ns, 1e-6);
	__T("no kick once every wait is polled", pr.e_ns < rr.wp + rr.wc + mean_of(&rr) + 1);
}

/*
 * The slow backend: two waits per item, the backend's (here 131-262 us)
 * and the next kick's (65-131 us). Their mean splits the idle time evenly
 * (~147 us) and misses the backend's; the lengths pick past it. At the
 * equal split's window, T is far from the best.
 */
static void test_two_modes(void **state)
{
	struct vs_rr rr = loop(), eq;
	struct vs_pick_opts o = opts(&rr, 32768);
	struct vs_pick k, ke;
	struct vs_prediction pr;

	(void)state;
	rr.waits = 2;
	rr.wait_slot[SLOT_64US] = 4000;
	rr.wait_slot[SLOT_128US] = 4000;
	measured(&rr);
	eq = rr;
	memset(eq.wait_slot, 0, sizeof(eq.wait_slot));
	__T("pick", !vs_pick_poll(NULL, &o, &k));
	o.rr = &eq;
	__T("equal split", !vs_pick_poll(NULL, &o, &ke));
	__T("the equal split stops short of the backend's wait",
	    ke.p_ns > 131072 && ke.p_ns * 1.25 < 262144);
	__T("the lengths cover it", k.p_ns > 262144 && k.p_ns <= 262144 + rr.sc + 4000);
	__T("at the equal split's window", !vs_rr_predict(&rr, ke.p_ns * 1.25, &pr));
	__T("T stays far from the best", pr.t_ns > k.at_pick.t_ns + 0.5 * rr.waits * rr.sc);
	/* The gain costs CPU: the trade-off the advice must name. */
	__T("polling costs CPU per item", k.at_pick.e_ns > 1.5 * k.at_current.e_ns);
}

/* Waits that all fit QEMU's default 32 us (8-16 us, wake-up 10 us): the
 * window in force is already right. */
static void test_default_right(void **state)
{
	struct vs_rr rr = loop();
	struct vs_pick_opts o = opts(&rr, 32768);
	struct vs_pick k;

	(void)state;
	rr.sc = 10000;
	rr.wait_slot[SLOT_8US] = 3000;
	measured(&rr);
	__T("pick", !vs_pick_poll(NULL, &o, &k));
	__T("pick within the default", k.p_ns > 16384 && k.p_ns <= 32768);
	__T("32 us is right", k.have_current && k.current_right);
	o.current_ns = 8000;
	__T("pick", !vs_pick_poll(NULL, &o, &k));
	__T("8 us is not", !k.current_right);
}

/*
 * 90 % of the waits 32-65 us, 10 % past any window (1-2 ms: the guest
 * idles). No window covers those, and each resets QEMU's window, so T
 * cannot reach busy polling's; the pick covers the short ones and stops.
 */
static void test_tail_beyond(void **state)
{
	struct vs_rr rr = loop();
	struct vs_pick_opts o = opts(&rr, 32768);
	struct vs_prediction busy;
	struct vs_pick k;
	double b, c;

	(void)state;
	rr.wait_slot[SLOT_32US] = 9000;
	rr.wait_slot[SLOT_1MS] = 1000;
	measured(&rr);
	__T("pick", !vs_pick_poll(NULL, &o, &k));
	__T("covers the short waits", k.p_ns > 65536 && k.p_ns <= 65536 + rr.sc + 4000);
	__T("busy", !vs_rr_predict(&rr, INFINITY, &busy));
	__T("the tail keeps T above busy's", k.at_pick.t_ns > busy.t_ns + 0.1 * rr.sc);
	/* QEMU's window grows only on a wait that blocks and ends within
	 * the maximum: here none past the short ones, so a larger maximum
	 * leaves it where they put it (128 us) and the long waits poll that,
	 * not the maximum. Neither T nor the CPU changes much beyond. */
	__T("the maximum window: the same T",
	    fabs(k.at_max.t_ns - k.at_pick.t_ns) <= 0.01 * k.at_pick.t_ns);
	__T("... and about the same CPU, not 10 % of 512 us more per item",
	    k.at_max.e_ns < k.at_pick.e_ns + 0.1 * 0.5 * 512000);
	__T("cover", !vs_rr_cover(&rr, k.p_ns, &b, &c));
	/* every long wait blocks, and so do the short ones while the window
	 * regrows from 0 (4, 8, 16, 32 us: up to 5 of them) */
	__T("blocked: the long waits and the regrowth", b > 0.1 && b < 0.1 * 6 + 0.01);
}

/*
 * The widest window for the objective (o.widen, the iothread pick): the
 * QD1 waits of the test guest at the default (99 % 33-131 us) with a thin
 * tail at 262-524 us (0.3 %). The smallest window for the best T stops
 * past 131 us; a wider maximum costs only what the tail polls, so the
 * pick widens to the range at the same T. Where the waits between the
 * two would poll much longer than they block (a 10 % tail at 262-524 us
 * with a 2 us wake-up: covering it gains no T), it does not.
 */
static void test_widen(void **state)
{
	struct vs_rr rr = loop();
	struct vs_pick_opts o = opts(&rr, 32768);
	struct vs_prediction foot;
	struct vs_pick k, narrow;

	(void)state;
	rr.wait_slot[SLOT_32US] = 3400;
	rr.wait_slot[SLOT_64US] = 6600;
	rr.wait_slot[SLOT_128US + 1] = 30;
	measured(&rr);
	__T("smallest", !vs_pick_poll(NULL, &o, &narrow));
	o.widen = true;
	__T("widest", !vs_pick_poll(NULL, &o, &k));
	__T("the same foot", k.foot_ns == narrow.p_ns && narrow.foot_ns == narrow.p_ns);
	__T("covers the tail", k.p_ns > 524288 * 0.95 && k.p_ns > k.foot_ns);
	__T("foot", !vs_rr_predict(&rr, k.foot_ns, &foot));
	__T("at no more T", k.at_pick.t_ns <= foot.t_ns);
	__T("within 5 % of the foot's CPU", k.at_pick.e_ns <= foot.e_ns * 1.05);
	__T("the default is still not right", k.have_current && !k.current_right);

	memset(rr.wait_slot, 0, sizeof(rr.wait_slot));
	rr.sc = 2000;
	rr.wait_slot[SLOT_64US] = 9000;
	rr.wait_slot[SLOT_128US + 1] = 1000;
	measured(&rr);
	__T("widest", !vs_pick_poll(NULL, &o, &k));
	__T("not over waits that poll more than they gain", k.p_ns < 262144);
	__T("foot", !vs_rr_predict(&rr, 524288, &foot));
	__T("the range costs more than 5 %", foot.e_ns > k.at_pick.e_ns * 1.05);
}

/* Random histograms: shares and costs stay in their ranges, and T at the
 * largest window is never above T with polling off. */
static void test_random(void **state)
{
	unsigned int seed = 17, i;

	(void)state;
	for (i = 0; i < 300; i++) {
		struct vs_rr rr = loop();
		struct vs_prediction p0, pm;
		double b, c, budget;
		int s, n = 0;

		for (s = 10; s < 24; s++)
			if (rand_r(&seed) % 3 == 0) {
				rr.wait_slot[s] = rand_r(&seed) % 1000;
				n += rr.wait_slot[s] > 0;
			}
		if (!n)
			rr.wait_slot[17] = 1;
		rr.sc = rand_r(&seed) % 50000;
		rr.waits = 1 + rand_r(&seed) % 3;
		measured(&rr);
		budget = rand_r(&seed) % 600000;
		__T("cover", !vs_rr_cover(&rr, budget, &b, &c));
		__T("share in [0, 1]", b >= 0 && b <= 1);
		__T("never polls past the window", c >= 0 && c <= budget + 1e-6);
		__T("predict", !vs_rr_predict(&rr, 0, &p0) && !vs_rr_predict(&rr, 512000, &pm));
		__T("a window never lengthens T", pm.t_ns <= p0.t_ns + 1e-6);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cover_limits),
		cmocka_unit_test(test_one_mode),
		cmocka_unit_test(test_two_modes),
		cmocka_unit_test(test_default_right),
		cmocka_unit_test(test_tail_beyond),
		cmocka_unit_test(test_widen),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
