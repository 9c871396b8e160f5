// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fip-see's slot ring (pcdev/slots.h), single-threaded: slots are lines,
 * a full ring refuses, the receiver's release frees, nothing is shared but
 * the flags; the wait word's double check and kick rule. Then the
 * hand-off measurement on two threads (lib/sources/handoff.h): its logic,
 * not its figures.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "pcdev/slots.h"
#include "sources/handoff.h"

static void test_layout(void **state)
{
	struct vs_slot *mem = aligned_alloc(64, 4 * sizeof(struct vs_slot));

	(void)state;
	__T("a slot is one line", sizeof(struct vs_slot) == 64 &&
	    __builtin_offsetof(struct vs_slot, flag) == 60);
	__T("sizes", vs_slots_num_ok(2) && vs_slots_num_ok(256) && !vs_slots_num_ok(3) &&
	    !vs_slots_num_ok(1) && !vs_slots_num_ok(65536));
	free(mem);
}

static void test_send_receive(void **state)
{
	struct vs_slot *mem = aligned_alloc(64, 4 * sizeof(struct vs_slot));
	struct vs_slot_ring r;
	struct vs_slot_pos tx = { 0 }, rx = { 0 };
	struct vs_slot *s;
	unsigned int i;

	(void)state;
	memset(mem, 0, 4 * sizeof(*mem));
	vs_slots_init(&r, mem, 4);
	__T("empty", vs_slots_peek(&r, &rx) == NULL);
	for (i = 0; i < 4; i++) {
		s = vs_slots_claim(&r, &tx);
		__T("a free slot", s == &mem[i]);
		s->seq = 100 + i;
		vs_slots_post(s, &tx);
	}
	__T("full: the fifth waits for a release", vs_slots_claim(&r, &tx) == NULL);
	s = vs_slots_peek(&r, &rx);
	__T("in order", s && s->seq == 100 && s->flag == VS_SLOT_READY);
	__T("peek does not consume", vs_slots_peek(&r, &rx) == s);
	vs_slots_release(s, &rx);
	__T("released: the sender reuses slot 0", vs_slots_claim(&r, &tx) == &mem[0]);
	__T("positions are private", tx.next == 4 && rx.next == 1);
	for (i = 1; i < 4; i++) {
		s = vs_slots_peek(&r, &rx);
		__T("next", s && s->seq == 100 + i);
		vs_slots_release(s, &rx);
	}
	__T("empty again", vs_slots_peek(&r, &rx) == NULL && rx.next == 4);
	free(mem);
}

static void test_wait_and_kick(void **state)
{
	struct vs_slot *mem = aligned_alloc(64, 4 * sizeof(struct vs_slot));
	struct vs_slot_wait *w = aligned_alloc(64, sizeof(*w));
	struct vs_slot_ring r;
	struct vs_slot_pos tx = { 0 }, rx = { 0 };
	struct vs_slot *s;

	(void)state;
	memset(mem, 0, 4 * sizeof(*mem));
	memset(w, 0, sizeof(*w));
	vs_slots_init(&r, mem, 4);
	__T("nobody waits: no kick", !vs_slots_kick_needed(w, 0, 1));
	/* The receiver wants a kick once 2 messages were sent in all. */
	__T("nothing yet: may block", vs_slots_wait_prepare(w, 2, &r, &rx) == 0);
	s = vs_slots_claim(&r, &tx);
	vs_slots_post(s, &tx);
	__T("1 of 2: no kick", !vs_slots_kick_needed(w, 0, 1));
	s = vs_slots_claim(&r, &tx);
	vs_slots_post(s, &tx);
	__T("the 2nd crosses the count: kick", vs_slots_kick_needed(w, 1, 2));
	__T("and only once", !vs_slots_kick_needed(w, 2, 3));
	__T("a batch over it kicks", vs_slots_kick_needed(w, 0, 3));
	vs_slots_wait_done(w);
	__T("done waiting: no kick", !vs_slots_kick_needed(w, 2, 3));
	__T("the double check sees a message", vs_slots_wait_prepare(w, 1, &r, &rx) == 1);
	free(w);
	free(mem);
}

static void test_handoff(void **state)
{
	struct vs_handoff_opts o;
	struct vs_handoff h;
	char err[160];

	(void)state;
	vs_handoff_opts_default(&o);
	o.batches = 200;
	o.batch = 0;
	__T("batch 0 refused", vs_handoff_measure(PCDEV_RING_SLOTS, &o, &h, err, sizeof(err)) ==
	    -EINVAL && strstr(err, "batch 1..128"));
	o.batch = 4;
	o.cpu_c = o.cpu_p;
	__T("one CPU refused", vs_handoff_measure(PCDEV_RING_VIRTIO, &o, &h, err, sizeof(err)) ==
	    -EINVAL);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		__SKIP("one CPU: no pair to hand off between");
	o.cpu_p = 0;
	o.cpu_c = 1;
	__T("virtio", vs_handoff_measure(PCDEV_RING_VIRTIO, &o, &h, err, sizeof(err)) == 0 &&
	    h.batches == 200 && isfinite(h.ns_per_msg) && h.ns_per_msg > 0 &&
	    h.p10_ns <= h.ns_per_msg && h.ns_per_msg <= h.p90_ns && h.cycles_per_msg > 0);
	__T("slots", vs_handoff_measure(PCDEV_RING_SLOTS, &o, &h, err, sizeof(err)) == 0 &&
	    isfinite(h.ns_per_msg) && h.ns_per_msg > 0);
	o.cpu_c = 4095;
	__T("a CPU not ours", vs_handoff_measure(PCDEV_RING_SLOTS, &o, &h, err, sizeof(err)) ==
	    -EINVAL && strstr(err, "4095"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_send_receive),
		cmocka_unit_test(test_wait_and_kick),
		cmocka_unit_test(test_handoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
