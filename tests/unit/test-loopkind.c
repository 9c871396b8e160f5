// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/analyze/loopkind: a request/response loop told from a deep queue by
 * the producer's waits, on fixture windows shaped like the test guest's
 * (TCG, QEMU iothread consumer): the consumer waits once per item in both,
 * and QMP's inuse reads 0 in both.
 */
#include <math.h>
#include <string.h>

#include "test.h"
#include "analyze/loopkind.h"

/* items/s, the vCPU's voluntary waits/s, the iothread's waits/s */
static struct vs_sample window(double items, double vcpu_waits, double cons_waits)
{
	struct vs_sample s;

	memset(&s, 0, sizeof(s));
	s.duration_ns = 3e9;
	s.have_items = true;
	s.items_per_s = items;
	s.halts_per_s = NAN;
	s.prod.present = s.cons.present = true;
	s.prod.role = VS_ROLE_VCPU;
	s.cons.role = VS_ROLE_IOTHREAD;
	s.prod.cpu = 0.95;
	s.prod.waits_per_s = vcpu_waits;
	s.cons.cpu = 0.1;
	s.cons.waits_per_s = cons_waits;
	return s;
}

static void test_qd1(void **state)
{
	/* QD1: the vCPU halts for most responses (1.6 items per wait
	 * measured under load; ~1 where the guest is fast enough to idle) */
	struct vs_sample s = window(5700, 5500, 5700);
	char why[64];

	(void)state;
	__T("QD1 is request/response", vs_loop_is_rr(&s, 0.0, why, sizeof(why)));
	__T("its evidence", strstr(why, "1.0 items per producer wait"));
	s.prod.waits_per_s = 5700 / 1.6;
	__T("1.6 items per wait: still request/response", vs_loop_is_rr(&s, 0.0, NULL, 0));
}

static void test_deep_at_one_wait_per_item(void **state)
{
	/* QD16: the iothread serves each request before the next arrives
	 * (1.0 waits per item, inuse 0), but the vCPU moves 3.8 items per
	 * wait: it kept other requests going */
	struct vs_sample s = window(10000, 10000 / 3.8, 10000);
	char why[64];

	(void)state;
	__T("consumer waits once per item", s.cons.waits_per_s / s.items_per_s == 1.0);
	__T("deep queue: not request/response", !vs_loop_is_rr(&s, 0.0, why, sizeof(why)));
	__T("its evidence", strstr(why, "3.8 items per producer wait"));
	__T_REL("items per wait", vs_loop_items_per_wait(&s), 3.8, 1e-9);
	/* just either side of the threshold */
	s.prod.waits_per_s = s.items_per_s / (VS_LOOP_DEPTH_PER_WAIT * 1.05);
	__T("above the threshold: deep", !vs_loop_is_rr(&s, NAN, NULL, 0));
	s.prod.waits_per_s = s.items_per_s / (VS_LOOP_DEPTH_PER_WAIT * 0.95);
	__T("below it: request/response", vs_loop_is_rr(&s, NAN, NULL, 0));
	s.prod.waits_per_s = 0;
	__T("a producer that never waits: deep", !vs_loop_is_rr(&s, NAN, why, sizeof(why)) &&
	    strstr(why, "never waited"));
}

static void test_inflight(void **state)
{
	struct vs_sample s = window(5700, 5500, 5700);
	char why[64];

	(void)state;
	__T("in flight from QMP: deep", !vs_loop_is_rr(&s, 4.0, why, sizeof(why)) &&
	    strstr(why, "4.0 in flight"));
	__T("one in flight: the loop", vs_loop_is_rr(&s, 1.0, NULL, 0));
}

static void test_kvm_halts(void **state)
{
	/* Under KVM, halt polling ends most halts inside KVM_RUN: the vCPU
	 * thread switches out for few of them; the halts are its waits. */
	struct vs_sample s = window(8000, 800, 8000);

	(void)state;
	__T("without the halts it looks deep", !vs_loop_is_rr(&s, NAN, NULL, 0));
	s.halts_per_s = 7900;
	__T("with them: request/response", vs_loop_is_rr(&s, NAN, NULL, 0));
	__T_REL("items per halt", vs_loop_items_per_wait(&s), 8000.0 / 7900, 1e-9);
}

static void test_unknown(void **state)
{
	struct vs_sample s = window(5700, NAN, 5700);
	char why[64];

	(void)state;
	__T("no producer waits: the loop is assumed", vs_loop_is_rr(&s, NAN, why, sizeof(why)) &&
	    strstr(why, "unknown"));
	__T("no window", vs_loop_is_rr(NULL, NAN, NULL, 0) && isnan(vs_loop_items_per_wait(NULL)));
	s.prod.present = false;
	s.prod.waits_per_s = 100;
	__T("no producer", isnan(vs_loop_items_per_wait(&s)));
	s.prod.present = true;
	s.items_per_s = 0;
	__T("no items", isnan(vs_loop_items_per_wait(&s)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qd1),
		cmocka_unit_test(test_deep_at_one_wait_per_item),
		cmocka_unit_test(test_inflight),
		cmocka_unit_test(test_kvm_halts),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
