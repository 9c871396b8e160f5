// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/analyze/hostpoll.c: the host's polling-core plan. Several queues
 * are needed, a rarely notified queue stays on notifications and keeps its
 * cost, the advice is the fewest pollers that meet Dmax, the cost now is
 * the threads plus the kicks.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "test.h"
#include "analyze/hostpoll.h"

static struct vs_hostpoll_queue queue(double rate, double wc, double cpu, double kicks)
{
	struct vs_hostpoll_queue q = { .items_per_s = rate, .wc_ns = wc, .burst = 8,
				       .cons_cpu = cpu, .kicks_per_s = kicks };

	strcpy(q.name, "q");
	return q;
}

static void test_one_queue(void **state)
{
	struct vs_hostpoll_queue q = queue(20e3, 2e3, 0.1, 2e3);
	struct vs_hostpoll hp;

	(void)state;
	assert_int_equal(vs_hostpoll_plan(&q, 1, 100e3, 15e3, 20e3, &hp), 0);
	assert_false(hp.known);
	assert_non_null(strstr(hp.why, "one queue"));
}

static void test_plan(void **state)
{
	struct vs_hostpoll_queue q[3] = {
		queue(20e3, 2e3, 0.10, 2500), queue(20e3, 2e3, 0.10, 2500),
		queue(100, 2e3, 0.01, 100),	/* rarely notified */
	};
	struct vs_hostpoll hp;

	(void)state;
	assert_int_equal(vs_hostpoll_plan(q, 3, 100e3, 15e3, 20e3, &hp), 0);
	assert_true(hp.known);
	assert_true(hp.polled[0] && hp.polled[1] && !hp.polled[2]);
	assert_int_equal(hp.n_polled, 2);
	assert_int_equal(hp.n_shapes, 2);
	assert_float_equal(hp.cpu_now, 0.21 + (2500 + 2500 + 100) * 15e3 / 1e9, 1e-9);
	assert_int_equal(hp.pollers, 1);
	assert_true(hp.p98_ns <= 100e3);
	assert_true(hp.headroom > 1);
	/* the queue left on notifications keeps its cost in every shape */
	assert_true(hp.cpu >= 0.01 + 100 * 15e3 / 1e9);
	assert_true(hp.shape[1].cpu > hp.shape[0].cpu);
	/* (not monotone in S: a poller with fewer queues idles more, blocks
	 * more and adds more wake-ups to the latency) */
	assert_true(hp.shape[1].p98_ns > 8 * 2e3);
}

static void test_heavy_and_impossible(void **state)
{
	struct vs_hostpoll_queue q[4];
	struct vs_hostpoll hp;
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++)	/* 1.6 CPUs of work */
		q[i] = queue(100e3, 4e3, 0.4, 10e3);
	assert_int_equal(vs_hostpoll_plan(q, 4, NAN, 15e3, 20e3, &hp), 0);
	assert_int_equal(hp.pollers, 2);
	assert_true(hp.shape[0].saturated > 0 && !hp.shape[1].saturated);
	/* a bound below one burst's own work: nothing meets it */
	assert_int_equal(vs_hostpoll_plan(q, 4, 10e3, 15e3, 20e3, &hp), 0);
	assert_int_equal(hp.pollers, 0);
	assert_non_null(strstr(hp.why, "miss Dmax"));
	assert_int_equal(vs_hostpoll_plan(q, VS_MQ_MAX + 1, NAN, 0, 0, &hp), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_queue),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_heavy_and_impossible),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
