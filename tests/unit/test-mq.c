// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/model/mq.c and mqsim.c: shared polling cores. The closed forms at
 * their limits (unsaturated throughput is the offered rate, a saturated
 * round robin gives each queue K / C, a consumer that blocks at once is
 * blocked 1 - rho of the time, one that never blocks burns a CPU), the
 * assignment rule, the fewest pollers and the headroom, and the simulator
 * against the closed forms.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "test.h"
#include "model/mq.h"

static struct vs_mq_params base(unsigned int n, double rate, double wc)
{
	struct vs_mq_params p;
	unsigned int i;

	vs_mq_params_default(&p);
	p.n_queues = n;
	for (i = 0; i < n; i++)
		p.q[i] = (struct vs_mq_queue){ .rate = rate, .burst = 8, .wc_ns = wc };
	p.visit_ns = 5;
	return p;
}

static struct vs_mq_pred predict(const struct vs_mq_params *p)
{
	struct vs_mq_pred pr;

	assert_int_equal(vs_mq_predict(p, &pr), 0);
	return pr;
}

static struct vs_mq_sim_result simulate(const struct vs_mq_params *p, double ns)
{
	struct vs_mq_sim_config c = { .p = *p, .sim_ns = ns, .seed = 7 };
	struct vs_mq_sim_result r;

	assert_int_equal(vs_mq_sim(&c, &r), 0);
	return r;
}

static void test_throughput_limits(void **state)
{
	struct vs_mq_params p = base(4, 20e3, 2e3);
	struct vs_mq_pred pr;
	double c;
	unsigned int i;

	(void)state;
	p.n_pollers = 1;
	pr = predict(&p);
	for (i = 0; i < 4; i++) {
		assert_false(pr.q[i].saturated);
		assert_float_equal(pr.q[i].t_ops, 20e3, 1e-9);
	}
	assert_float_equal(pr.p[0].rho, 0.16, 1e-12);
	/* the mean cycle of a polling server: n s / (1 - rho) */
	assert_float_equal(pr.p[0].cycle_ns, 4 * 5 / (1 - 0.16), 1e-3);
	/* Two queues of 1M items/s at 1us on one poller: both saturated,
	 * each K items per cycle C = 2 (s + K Wc). */
	p = base(2, 1e6, 1e3);
	p.n_pollers = 1;
	pr = predict(&p);
	c = 2 * (5 + 64 * 1e3);
	assert_true(pr.q[0].saturated && pr.q[1].saturated && pr.p[0].saturated);
	assert_float_equal(pr.q[0].t_ops, 64 / c * 1e9, 1e-3 * pr.q[0].t_ops);
	assert_float_equal(pr.t_ops, 2 * 64 / c * 1e9, 1e-3 * pr.t_ops);
	assert_true(pr.t_ops < 1e6);
	assert_float_equal(pr.p[0].blocked, 0, 0);
	assert_float_equal(pr.p[0].cpu, 1, 0);
	/* a saturated ring holds L items: L / T */
	assert_float_equal(pr.q[0].p98_ns, 256 / pr.q[0].t_ops * 1e9, 1e-6 * pr.q[0].p98_ns);
	/* one light queue beside a saturated one keeps its rate */
	p.q[1].rate = 1e3;
	pr = predict(&p);
	assert_true(pr.q[0].saturated && !pr.q[1].saturated);
	assert_float_equal(pr.q[1].t_ops, 1e3, 1e-9);
}

static void test_cpu_limits(void **state)
{
	struct vs_mq_params p = base(1, 10e3, 2e3);
	struct vs_mq_pred pr;
	double rho = 10e3 * 2e3 / 1e9, a = 10e3 / 8, blocks;

	(void)state;
	/* one consumer that blocks at once: off CPU 1 - rho of the time
	 * (blocked, or waking up), a block per cycle of an idle period
	 * (mean 1/a) and a wake-up, each costing wake_cpu */
	p.idle_ns = 0;
	pr = predict(&p);
	blocks = a * (1 - rho) / (1 + a * p.wake_ns / 1e9);
	assert_float_equal(pr.p[0].blocked, 1 - rho, 1e-12);
	assert_float_equal(pr.p[0].blocks_per_s, blocks, 1e-9);
	assert_float_equal(pr.p[0].cpu, rho + blocks * p.wake_cpu_ns / 1e9, 1e-12);
	assert_float_equal(pr.cpu_kicks, blocks * p.kick_cpu_ns / 1e9, 1e-12);
	/* one that never blocks polls a whole CPU and is never kicked */
	p.idle_ns = 3600e9;
	pr = predict(&p);
	assert_float_equal(pr.p[0].cpu, 1, 1e-12);
	assert_float_equal(pr.cpu_kicks, 0, 1e-12);
	/* a longer idle budget never costs less CPU */
	p.idle_ns = 100e3;
	double c1 = predict(&p).cpu;
	p.idle_ns = 400e3;
	assert_true(predict(&p).cpu > c1);
}

static void test_latency_direction(void **state)
{
	struct vs_mq_params p = base(4, 20e3, 2e3);
	struct vs_mq_pred a, b;

	(void)state;
	p.n_pollers = 1;
	a = predict(&p);
	/* p50 <= p98, and the p98 is at least the last item of its burst */
	assert_true(a.q[0].p50_ns <= a.q[0].p98_ns);
	assert_true(a.q[0].p98_ns >= 8 * 2e3);
	/* slower wake-ups, more load: later */
	p.wake_ns = 60e3;
	b = predict(&p);
	assert_true(b.q[0].p98_ns > a.q[0].p98_ns);
	p.wake_ns = 20e3;
	p.idle_ns = 3600e9;	/* never blocks: no wake-up in the latency */
	b = predict(&p);
	assert_true(b.q[0].p98_ns < a.q[0].p98_ns);
	p.idle_ns = 200e3;
	for (unsigned int i = 0; i < 4; i++)
		p.q[i].rate = 60e3;
	b = predict(&p);
	assert_true(b.q[0].p98_ns > a.q[0].p98_ns);
}

static void test_assign(void **state)
{
	struct vs_mq_params p = base(4, 5e3, 1e3);
	unsigned int out[VS_MQ_MAX];

	(void)state;
	p.q[0].rate = 30e3;
	p.n_pollers = 2;
	vs_mq_assign(&p, out);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[2], 1);
	assert_int_equal(out[3], 1);
	p.n_pollers = 0;
	vs_mq_assign(&p, out);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(out[i], i);
}

static void test_needed_and_headroom(void **state)
{
	struct vs_mq_params p = base(4, 100e3, 4e3);	/* 1.6 CPUs of work */
	struct vs_mq_pred pr;
	unsigned int s;
	double h;

	(void)state;
	assert_int_equal(vs_mq_pollers_needed(&p, NAN, &s, &pr), 0);
	assert_int_equal(s, 2);
	assert_int_equal(pr.n_saturated, 0);
	/* a latency bound tighter than a burst's own work: nothing meets it */
	assert_int_equal(vs_mq_pollers_needed(&p, 10e3, &s, &pr), -ERANGE);
	assert_int_equal(s, 0);
	/* light load: one poller, with room to grow; the headroom is the
	 * edge: just below it S meets the bound, above it not */
	p = base(4, 20e3, 2e3);
	p.n_pollers = 1;
	h = vs_mq_headroom(&p, 100e3);
	assert_true(h > 1);
	for (unsigned int i = 0; i < 4; i++)
		p.q[i].rate = 20e3 * h * 0.99;
	pr = predict(&p);
	assert_true(!pr.n_saturated && pr.p98_ns <= 100e3);
	for (unsigned int i = 0; i < 4; i++)
		p.q[i].rate = 20e3 * h * 1.02;
	pr = predict(&p);
	assert_true(pr.n_saturated || pr.p98_ns > 100e3);
	/* more pollers, more headroom */
	p = base(4, 20e3, 2e3);
	p.n_pollers = 2;
	assert_true(vs_mq_headroom(&p, 100e3) > h);
}

static void test_bad_params(void **state)
{
	struct vs_mq_params p = base(2, 1e3, 1e3);
	struct vs_mq_pred pr;
	const char *why = NULL;

	(void)state;
	p.n_pollers = 3;
	assert_int_equal(vs_mq_predict(&p, &pr), -EINVAL);
	assert_int_equal(vs_mq_params_validate(&p, &why), -EINVAL);
	assert_non_null(why);
	p.n_pollers = 1;
	p.q[1].rate = 0;
	assert_int_equal(vs_mq_predict(&p, &pr), -EINVAL);
}

/* The simulator runs the system the closed forms describe. */
static void test_sim_agrees(void **state)
{
	struct vs_mq_params p = base(4, 20e3, 2e3);
	struct vs_mq_sim_result r;
	struct vs_mq_pred pr;
	unsigned int i;

	(void)state;
	p.n_pollers = 1;
	pr = predict(&p);
	/* 20 s: 50 000 Poisson bursts per queue, the count within 1.5 % */
	r = simulate(&p, 20e9);
	assert_true(r.events > 1000000);
	for (i = 0; i < 4; i++)
		assert_float_equal(r.pred.q[i].t_ops, pr.q[i].t_ops, 0.02 * pr.q[i].t_ops);
	assert_float_equal(r.pred.p[0].util, pr.p[0].util, 0.02 * pr.p[0].util);
	/* the wake-up is off CPU: blocked covers it, and the CPU is the rest */
	assert_float_equal(r.pred.p[0].blocked, pr.p[0].blocked, 0.01);
	assert_float_equal(r.pred.p[0].cpu, pr.p[0].cpu, 0.01);
	assert_float_equal(r.pred.p[0].blocks_per_s, pr.p[0].blocks_per_s,
			    0.03 * pr.p[0].blocks_per_s);
	for (i = 0; i < 4; i++) {
		assert_float_equal(r.pred.q[i].mean_ns, pr.q[i].mean_ns, 0.05 * pr.q[i].mean_ns);
		assert_float_equal(r.pred.q[i].p98_ns, pr.q[i].p98_ns, 0.1 * pr.q[i].p98_ns);
	}
	assert_float_equal(r.pred.p98_ns, pr.p98_ns, 0.1 * pr.p98_ns);
	/* one consumer per queue, blocking at once */
	p.n_pollers = 0;
	p.idle_ns = 0;
	pr = predict(&p);
	r = simulate(&p, 20e9);
	assert_float_equal(r.pred.cpu, pr.cpu, 0.02 * pr.cpu);
	assert_float_equal(r.pred.p[0].blocks_per_s, pr.p[0].blocks_per_s,
			    0.03 * pr.p[0].blocks_per_s);
	assert_float_equal(r.pred.p98_ns, pr.p98_ns, 0.1 * pr.p98_ns);
	/* saturated: the round robin's share */
	p = base(2, 1e6, 1e3);
	p.n_pollers = 1;
	pr = predict(&p);
	r = simulate(&p, 0.5e9);
	assert_float_equal(r.pred.t_ops, pr.t_ops, 0.02 * pr.t_ops);
	assert_true(r.lost > 0);
	assert_float_equal(r.pred.q[0].p98_ns, pr.q[0].p98_ns, 0.1 * pr.q[0].p98_ns);
}

/*
 * After a wake-up the poller starts its round at its first queue, so the
 * bursts that reached the earlier queues while it woke are served before a
 * later queue's: equal queues, and the later ones wait longer. Both the
 * closed forms and the simulator say so, and agree on each queue within
 * 12 % (the closed forms leave out the bursts that reach the earlier
 * queues while the poller serves that backlog: the sixth of six queues
 * is 9 % short; without the visit order the last queues were 19-27 %).
 */
static void test_wake_order(void **state)
{
	static const struct { unsigned int n; double rate, burst, wc_ns; } cfg[] = {
		{ 4, 20e3, 8, 2e3 }, { 3, 30e3, 16, 2e3 }, { 6, 10e3, 4, 5e3 },
	};
	struct vs_mq_sim_result r;
	struct vs_mq_pred pr;
	unsigned int c, i, last;

	(void)state;
	for (c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		struct vs_mq_params p = base(cfg[c].n, cfg[c].rate, cfg[c].wc_ns);

		for (i = 0; i < p.n_queues; i++)
			p.q[i].burst = cfg[c].burst;
		p.n_pollers = 1;
		p.wake_ns = 40e3;
		p.wake_min_ns = 10e3;
		last = p.n_queues - 1;
		pr = predict(&p);
		r = simulate(&p, 20e9);
		assert_true(pr.q[last].p98_ns > 1.1 * pr.q[0].p98_ns);
		assert_true(r.pred.q[last].p98_ns > 1.1 * r.pred.q[0].p98_ns);
		for (i = 0; i < p.n_queues; i++)
			assert_float_equal(r.pred.q[i].p98_ns, pr.q[i].p98_ns,
					    0.12 * pr.q[i].p98_ns);
		assert_float_equal(r.pred.p[0].cpu, pr.p[0].cpu, 0.01);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throughput_limits),
		cmocka_unit_test(test_cpu_limits),
		cmocka_unit_test(test_latency_direction),
		cmocka_unit_test(test_assign),
		cmocka_unit_test(test_needed_and_headroom),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_sim_agrees),
		cmocka_unit_test(test_wake_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
