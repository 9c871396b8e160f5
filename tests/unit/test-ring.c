// SPDX-License-Identifier: GPL-2.0-only
/* The event-idx arithmetic of ring.h, single-threaded. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "pcdev/ring.h"

static void test_need_event(void **state)
{
	/* Spec example: event 5, batch 3..6 crosses it; 6..8 does not. */
	__T("crosses", vs_vring_need_event(5, 6, 3));
	__T("past", !vs_vring_need_event(5, 8, 6));
	__T("exact old", vs_vring_need_event(5, 6, 5));
	__T("wraps", vs_vring_need_event(0xffff, 2, 0xfffe));
}

static void test_kick_and_intr(void **state)
{
	unsigned int num = 8, i, kicks = 0;
	void *mem = calloc(1, vs_vring_bytes(num));
	struct vs_vring vr;
	struct vs_vring_prod p = { 0 };
	struct vs_vring_cons c = { 0 };

	__T("alloc", mem != NULL);
	__T("power of two", vs_vring_num_ok(num) && !vs_vring_num_ok(6) &&
				    !vs_vring_num_ok(65536) && !vs_vring_num_ok(1));
	vs_vring_init(&vr, mem, num);
	/* C idle with kp = 1: the first publish kicks, the next ones do not. */
	__T("empty", vs_vring_cons_enable_kick(&vr, &c, 1) == 0);
	for (i = 0; i < 4; i++) {
		vs_vring_prod_publish(&vr, &p, i);
		kicks += vs_vring_prod_kick_needed(&vr, &p);
	}
	__T("one kick", kicks == 1);
	__T("pending", vs_vring_cons_pending(&vr, &c) == 4);
	/* Fill up, then P asks for an interrupt when kc = 6 slots are free. */
	for (; i < num; i++)
		vs_vring_prod_publish(&vr, &p, i);
	__T("full", vs_vring_prod_inflight(&p) == num);
	__T("no room yet", vs_vring_prod_enable_intr(&vr, &p, 6) == 0);
	for (i = 0; i < 5; i++) {
		vs_vring_cons_push(&vr, &c, vs_vring_cons_pop(&vr, &c), 64);
		__T("no interrupt before kc", !vs_vring_cons_intr_needed(&vr, &c));
	}
	vs_vring_cons_push(&vr, &c, vs_vring_cons_pop(&vr, &c), 64);
	__T("interrupt at kc", vs_vring_cons_intr_needed(&vr, &c));
	__T("reclaim", vs_vring_prod_reclaim(&vr, &p) == 6);
	free(mem);
}

/*
 * The double check's race (paper Sec. 5.2): P publishes between C's first
 * look and its re-enabling kicks; C's second look finds the item and goes
 * on without blocking, but P still sees avail_event crossed and kicks: that
 * kick will find C running, a spurious notification.
 */
static void test_spurious_race(void **state)
{
	unsigned int num = 8;
	void *mem = calloc(1, vs_vring_bytes(num));
	struct vs_vring vr;
	struct vs_vring_prod p = { 0 };
	struct vs_vring_cons c = { 0 };

	__T("alloc", mem != NULL);
	vs_vring_init(&vr, mem, num);
	vs_vring_cons_disable_kick(&vr, &c);
	__T("first look: empty", vs_vring_cons_pending(&vr, &c) == 0);
	vs_vring_prod_publish(&vr, &p, 0);
	__T("second look finds it", vs_vring_cons_enable_kick(&vr, &c, 1) == 1);
	__T("P kicks anyway", vs_vring_prod_kick_needed(&vr, &p));
	vs_vring_cons_disable_kick(&vr, &c);
	vs_vring_cons_push(&vr, &c, vs_vring_cons_pop(&vr, &c), 64);
	/* parked: the next items do not kick */
	vs_vring_prod_publish(&vr, &p, 1);
	__T("parked", !vs_vring_prod_kick_needed(&vr, &p));
	free(mem);
}

/* Batched return: entries first, one index store; the interrupt decision
 * sees the whole batch (event idx compares ranges). */
/*
 * Grouped publishing and whole-group returns (thread backend, Wp = Wc = 0):
 * nothing visible before the flush, ids and used entries right across the
 * ring's end and across the 16-bit index wrap.
 */
static void test_grouped(void **state)
{
	unsigned int num = 16, i, pos;
	void *mem = calloc(1, vs_vring_bytes(num));
	struct vs_vring vr;
	struct vs_vring_prod p = { 0 };
	struct vs_vring_cons c = { 0 };
	uint16_t start = 65530;

	__T("alloc", mem != NULL);
	vs_vring_init(&vr, mem, num);
	/* Both sides have moved 65530 items already. */
	p.avail_idx = p.last_used = c.last_avail = c.used_idx = start;
	vr.avail->idx = vr.used->idx = start;
	vs_vring_prod_add_seq(&vr, &p, 12);	/* slots 10..15, 0..5 */
	__T("not visible before the flush", vs_vring_cons_pending(&vr, &c) == 0);
	vs_vring_prod_flush(&vr, &p);
	__T("12 pending", vs_vring_cons_pending(&vr, &c) == 12);
	for (i = 0; i < 12; i++) {
		pos = (uint16_t)(start + i) & (num - 1);
		__T("id = slot", vr.avail->ring[pos] == pos);
	}
	__T("first id", vs_vring_cons_pop_fill_n(&vr, &c, 5, 64, 0) == 10);
	__T("first id across the end",
	    vs_vring_cons_pop_fill_n(&vr, &c, 7, 64, 5) == 15);
	__T("returned only by the flush", vs_vring_prod_reclaim(&vr, &p) == 0);
	vs_vring_cons_flush(&vr, &c, 12);
	for (i = 0; i < 12; i++) {
		pos = (uint16_t)(start + i) & (num - 1);
		__T("used entry", vr.used->ring[pos].id == pos &&
				  vr.used->ring[pos].len == 64);
	}
	__T("reclaim 12 across the wrap", vs_vring_prod_reclaim(&vr, &p) == 12 &&
	    vs_vring_prod_inflight(&p) == 0 && p.avail_idx == 6);
	/* A contiguous group after the wrap. */
	vs_vring_prod_add_seq(&vr, &p, 8);
	vs_vring_prod_flush(&vr, &p);
	__T("contiguous group", vs_vring_cons_pending(&vr, &c) == 8 &&
	    vs_vring_cons_pop_fill_n(&vr, &c, 8, 64, 0) == 6 &&
	    vr.used->ring[13].id == 13);
	free(mem);
}

static void test_batched_used(void **state)
{
	unsigned int num = 16, i;
	void *mem = calloc(1, vs_vring_bytes(num));
	struct vs_vring vr;
	struct vs_vring_prod p = { 0 };
	struct vs_vring_cons c = { 0 };
	uint16_t id;

	__T("alloc", mem != NULL);
	vs_vring_init(&vr, mem, num);
	for (i = 0; i < num; i++)
		vs_vring_prod_publish(&vr, &p, (uint16_t)i);
	__T("interrupt at 12 free", vs_vring_prod_enable_intr(&vr, &p, 12) == 0);
	for (i = 0; i < 8; i++) {
		id = vs_vring_cons_pop(&vr, &c);
		__T("fifo ids", id == i);
		vs_vring_cons_fill(&vr, &c, id, 64, i);
	}
	__T("not visible before the flush", vs_vring_prod_reclaim(&vr, &p) == 0);
	vs_vring_cons_flush(&vr, &c, 8);
	__T("8 < kc: no interrupt", !vs_vring_cons_intr_needed(&vr, &c));
	for (i = 0; i < 6; i++)
		vs_vring_cons_fill(&vr, &c, vs_vring_cons_pop(&vr, &c), 64, i);
	vs_vring_cons_flush(&vr, &c, 6);
	__T("batch crossing kc interrupts", vs_vring_cons_intr_needed(&vr, &c));
	__T("entries in order", vr.used->ring[13].id == 13 && vr.used->ring[0].len == 64);
	__T("reclaim all 14", vs_vring_prod_reclaim(&vr, &p) == 14);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_need_event),
		cmocka_unit_test(test_kick_and_intr),
		cmocka_unit_test(test_spurious_race),
		cmocka_unit_test(test_batched_used),
		cmocka_unit_test(test_grouped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
