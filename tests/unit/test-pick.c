// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/model/pick: the poll budget picked from the hybrid model. Limits
 * (P = 0 is notify, a budget beyond every wait is busy), T non-increasing
 * in P, and picks on both sides of each regime boundary of the staircase
 * in docs/hybrid.md (Wp 50 us, Wc 10 us, Sc 20 us, Np 25 us: delta 20 us,
 * g 40 us).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "model/pick.h"

static struct vs_params staircase(void)
{
	struct vs_params p;

	vs_params_default(&p);
	p.wp = 50000;
	p.wc = 10000;
	p.sc = 20000;
	p.np = 25000;
	p.kp = 1;
	p.pp = 0;
	p.pc = 0;
	return p;
}

/* The mirror image: a fast producer waiting for the consumer's frees. */
static struct vs_params staircase_fp(void)
{
	struct vs_params p;

	vs_params_default(&p);
	p.wp = 10000;
	p.wc = 50000;
	p.sp = 20000;
	p.nc = 25000;
	p.kc = 1;
	p.pp = 0;
	p.pc = 0;
	return p;
}

static struct vs_pick_opts opts(enum vs_pick_side side, double p_max)
{
	struct vs_pick_opts o = {
		.side = side, .p_max_ns = p_max, .dmax_ns = INFINITY,
		.t_slack = 0.01, .e_slack = 0.05, .current_ns = NAN,
	};

	return o;
}

static void test_limits(void **state)
{
	struct vs_params p = staircase();
	struct vs_prediction h, ref;
	int side;

	(void)state;
	for (side = 0; side < 2; side++) {
		struct vs_params q = side ? staircase_fp() : p;

		__T("notify", !vs_model_predict(&q, VS_MECH_NOTIFY, &ref));
		__T("P = 0", !vs_pick_predict_at(&q, side, 0, &h));
		__T_REL("P = 0: notify's T", h.t_ns, ref.t_ns, 1e-9);
		__T_REL("P = 0: notify's E", h.e_ns, ref.e_ns, 1e-9);
		__T("P = 0: notify's regime", h.regime == ref.regime);
		__T("busy", !vs_model_predict(&q, VS_MECH_BUSY, &ref));
		__T("P = 1 s", !vs_pick_predict_at(&q, side, 1e9, &h));
		__T_REL("large P: busy's T", h.t_ns, ref.t_ns, 1e-9);
		__T_REL("large P: busy's E", h.e_ns, ref.e_ns, 1e-9);
		__T("large P: BW", h.regime == VS_REGIME_BW);
	}
}

/* T never rises with the budget, on the staircase and on random systems. */
static void test_monotone(void **state)
{
	struct vs_prediction a, b;
	unsigned int seed = 17, n, side;
	double x;

	(void)state;
	for (n = 0; n < 300; n++) {
		struct vs_params p;

		vs_params_default(&p);
		if (n == 0) {
			p = staircase();
		} else if (n == 1) {
			p = staircase_fp();
		} else {
			p.len = 2 + rand_r(&seed) % 300;
			p.wp = 1000 + rand_r(&seed) % 80000;
			p.wc = 1000 + rand_r(&seed) % 80000;
			p.np = rand_r(&seed) % 40000;
			p.nc = rand_r(&seed) % 40000;
			p.sp = rand_r(&seed) % 40000;
			p.sc = rand_r(&seed) % 40000;
			p.kc = 1 + rand_r(&seed) % p.len;
			p.pp = rand_r(&seed) % 2 ? rand_r(&seed) % 60000 : 0;
			p.pc = rand_r(&seed) % 2 ? rand_r(&seed) % 60000 : 0;
		}
		for (side = 0; side < 2; side++) {
			__T("P = 0", !vs_pick_predict_at(&p, side, 0, &a));
			for (x = 250; x <= 200000; x += 250) {
				__T("predict", !vs_pick_predict_at(&p, side, x, &b));
				if (b.t_ns > a.t_ns * (1 + 1e-9))
					fail_msg("system %u side %u: T %g at P %g > %g just below",
						 n, side, b.t_ns, x, a.t_ns);
				a = b;
			}
		}
	}
}

static void test_pick_steps(void **state)
{
	struct vs_params p = staircase();
	struct vs_pick_opts o = opts(VS_PICK_CONSUMER, 512000);
	struct vs_pick k;

	(void)state;
	/* Up to 512 us the best is BW from g = 40 us on. */
	__T("pick", !vs_pick_poll(&p, &o, &k));
	__T_REL("best T is Wp", k.t_best_ns, 50000, 1e-9);
	__T("pick at g", k.p_ns >= 40000 && k.p_ns <= 40002);
	__T("BW at the pick", k.at_pick.regime == VS_REGIME_BW);
	__T("notify at 0", k.at_zero.regime == VS_REGIME_NFC && k.at_zero.batch == 1);
	__T("strategies", k.strategy_valid[VS_MECH_BUSY] && k.strategy_valid[VS_MECH_NOTIFY]);
	__T_REL("busy's E", k.strategy[VS_MECH_BUSY].e_ns, k.at_pick.e_ns, 1e-9);

	/* Up to 30 us only the first step (delta = 20 us) is reachable. */
	o.p_max_ns = 30000;
	__T("pick", !vs_pick_poll(&p, &o, &k));
	__T_REL("best T is Wp + Np/2", k.t_best_ns, 62500, 1e-9);
	__T("pick at delta", k.p_ns >= 20000 && k.p_ns <= 20002);
	__T("batch 2", k.at_pick.batch == 2);

	/* Below delta no budget helps: 0 is the pick. */
	o.p_max_ns = 19000;
	o.current_ns = 0;
	__T("pick", !vs_pick_poll(&p, &o, &k));
	__T("pick 0", k.p_ns == 0);
	__T("0 is right", k.have_current && k.current_right);

	/* A budget in force inside the right step is right within e_slack
	 * (E 92.5 us + P/2: 25 us costs 2.4 % more than 20 us). */
	o.p_max_ns = 30000;
	o.current_ns = 25000;
	__T("pick", !vs_pick_poll(&p, &o, &k));
	__T("25 us is right at 5 %", k.current_right);
	o.e_slack = 0.01;
	__T("pick", !vs_pick_poll(&p, &o, &k));
	__T("25 us is not right at 1 %", !k.current_right);
	/* ... and one below the step is not. */
	o.current_ns = 10000;
	o.e_slack = 0.05;
	__T("pick", !vs_pick_poll(&p, &o, &k));
	__T("10 us is not right", !k.current_right);
	__T("it predicts notify's T", k.at_current.t_ns > k.t_best_ns * 1.1);
}

/* The producer's budget (halt polling) on the mirrored staircase. */
static void test_pick_producer(void **state)
{
	struct vs_params p = staircase_fp();
	struct vs_pick_opts o = opts(VS_PICK_PRODUCER, 512000);
	struct vs_pick k;

	(void)state;
	__T("pick", !vs_pick_poll(&p, &o, &k));
	__T_REL("best T is Wc", k.t_best_ns, 50000, 1e-9);
	__T("pick at g", k.p_ns >= 40000 && k.p_ns <= 40002);
	/* The consumer's budget does nothing for a fast producer's waits. */
	o.side = VS_PICK_CONSUMER;
	__T("pick", !vs_pick_poll(&p, &o, &k));
	__T("no consumer polling", k.p_ns == 0);
}

/* Dmax excludes budgets whose D exceeds it; none fitting is reported. */
static void test_dmax(void **state)
{
	struct vs_params p = staircase();
	struct vs_pick_opts o = opts(VS_PICK_CONSUMER, 512000);
	struct vs_pick k;

	(void)state;
	o.dmax_ns = 1000;
	__T("pick", !vs_pick_poll(&p, &o, &k));
	__T("nothing fits 1 us", !k.meets_dmax);
	o.dmax_ns = INFINITY;
	__T("pick", !vs_pick_poll(&p, &o, &k));
	__T("everything fits", k.meets_dmax);
	o.p_max_ns = -1;
	__T("negative p_max", vs_pick_poll(&p, &o, &k) == -EINVAL);
	o.p_max_ns = 1000;
	p.len = 1;
	__T("bad params", vs_pick_poll(&p, &o, &k) == -EINVAL);
}

/* The request/response loop: one step, at the length of one wait. */
static void test_rr(void **state)
{
	struct vs_rr rr = { .wp = 80000, .wc = 16000, .idle_ns = 150000, .waits = 2,
			    .sc = 20000, .np = 200 };
	struct vs_pick_opts o = opts(VS_PICK_CONSUMER, 512000);
	struct vs_prediction pr;
	struct vs_pick k;

	(void)state;
	o.rr = &rr;
	o.current_ns = 32768;
	__T("P = 0", !vs_rr_predict(&rr, 0, &pr));
	__T_REL("notify: the wake-ups on the loop", pr.t_ns, 16000 + 150000 + 40000, 1e-9);
	__T("pick", !vs_pick_poll(NULL, &o, &k));
	__T("pick covers one wait", k.p_ns >= 75000 && k.p_ns <= 75002);
	__T_REL("busy's T", k.at_pick.t_ns, 166000, 1e-9);
	__T_REL("busy's E", k.at_pick.e_ns, k.strategy[VS_MECH_BUSY].e_ns, 1e-9);
	__T("32 us blocks", !k.current_right && k.at_current.regime == VS_REGIME_NFC);
	/* A slower backend: longer waits, a longer pick. */
	rr.idle_ns = 400000;
	__T("pick", !vs_pick_poll(NULL, &o, &k));
	__T("longer waits, longer pick", k.p_ns >= 200000 && k.p_ns <= 200002);
	/* Waits within 32 us: the default already covers them. */
	rr.idle_ns = 40000;
	__T("pick", !vs_pick_poll(NULL, &o, &k));
	__T("pick 20 us", k.p_ns >= 20000 && k.p_ns <= 20002);
	__T("32 us is right", k.current_right);
	/* A wake-up that costs nothing: no budget pays. */
	rr.idle_ns = 150000;
	rr.sc = 0;
	__T("pick", !vs_pick_poll(NULL, &o, &k));
	__T("no polling", k.p_ns == 0);
	rr.waits = 0;
	__T("bad waits", vs_pick_poll(NULL, &o, &k) == -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_monotone),
		cmocka_unit_test(test_pick_steps),
		cmocka_unit_test(test_pick_producer),
		cmocka_unit_test(test_dmax),
		cmocka_unit_test(test_rr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
