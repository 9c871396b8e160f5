/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_SLOTS_H
#define VS_PCDEV_SLOTS_H

/*
 * Fip-see's ring layout (seed 001, Sec. 2): a ring of 64-byte slots, one
 * cache line each, the last 4 bytes of a slot a flag (free or ready), and
 * no shared index: each side keeps its own position privately. A channel
 * is two such rings, requests one way and responses the other, so the
 * lines of one direction are only ever written by one side at a time.
 *
 * x86 keeps stores in order and loads in order (TSO), so the sender writes
 * the message, then the flag, and the receiver that sees the flag sees the
 * message (Fip-see Sec. 4): compiler barriers only, no fences on the data
 * path. Waiting by notification (which Fip-see does not have: its threads
 * always poll) uses one word per direction, written only by the waiter,
 * holding how many messages it waits for; that store-then-load needs a full
 * fence, as virtio's event index does.
 *
 * Freestanding: <stdint.h> and compiler builtins only, like ring.h.
 */

#include <stdint.h>

#define VS_SLOT_BYTES		64u
#define VS_SLOTS_MAX		32768u
#define VS_SLOT_FREE		0u
#define VS_SLOT_READY		1u

/* 60 bytes of message, then the flag in the line's last 4 bytes. */
struct vs_slot {
	uint64_t seq;			/* the item's sequence number */
	uint64_t tsc;			/* when P finished producing it */
	uint64_t arg[5];
	uint32_t arg32;
	uint32_t flag;			/* VS_SLOT_FREE / VS_SLOT_READY */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct vs_slot) == VS_SLOT_BYTES, "a slot is one cache line");

struct vs_slot_ring {
	struct vs_slot *slot;
	unsigned int num;		/* power of two */
};

/* What one side knows of one ring: its own position, nothing shared. */
struct vs_slot_pos {
	uint32_t next;
};

/*
 * The waiter's word of one direction, on a line of its own: 0 when it does
 * not wait, else the count of messages (the sender's total sent, plus one)
 * at which it wants to be woken.
 */
struct vs_slot_wait {
	volatile uint32_t until;
	uint32_t pad[15];
} __attribute__((aligned(64)));

#define vs_slots_barrier()	__asm__ __volatile__("" ::: "memory")
#define vs_slots_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)

static inline int vs_slots_num_ok(unsigned int num)
{
	return num >= 2 && num <= VS_SLOTS_MAX && !(num & (num - 1));
}

/* Lay a ring over `mem` (num slots, 64-byte aligned, zeroed: all free). */
static inline void vs_slots_init(struct vs_slot_ring *r, void *mem, unsigned int num)
{
	r->slot = (struct vs_slot *)mem;
	r->num = num;
}

static inline struct vs_slot *vs_slots_at(const struct vs_slot_ring *r,
					  const struct vs_slot_pos *p)
{
	return &r->slot[p->next & (r->num - 1)];
}

/* The sender's next slot, or 0 (NULL) when it is still in use (ring full). */
static inline struct vs_slot *vs_slots_claim(const struct vs_slot_ring *r,
					     const struct vs_slot_pos *p)
{
	struct vs_slot *s = vs_slots_at(r, p);

	return *(volatile uint32_t *)&s->flag == VS_SLOT_FREE ? s : 0;
}

/* The message in the claimed slot is written: hand it over. */
static inline void vs_slots_post(struct vs_slot *s, struct vs_slot_pos *p)
{
	vs_slots_barrier();	/* the message before the flag */
	*(volatile uint32_t *)&s->flag = VS_SLOT_READY;
	p->next++;
}

/* The receiver's next message, or 0 (NULL) when there is none yet. */
static inline struct vs_slot *vs_slots_peek(const struct vs_slot_ring *r,
					    const struct vs_slot_pos *p)
{
	struct vs_slot *s = vs_slots_at(r, p);

	if (*(volatile uint32_t *)&s->flag != VS_SLOT_READY)
		return 0;
	vs_slots_barrier();	/* the flag before the message */
	return s;
}

/* The peeked message is read: give the slot back to the sender. */
static inline void vs_slots_release(struct vs_slot *s, struct vs_slot_pos *p)
{
	vs_slots_barrier();	/* the reads before the flag */
	*(volatile uint32_t *)&s->flag = VS_SLOT_FREE;
	p->next++;
}

/*
 * The receiver found nothing and will block until the sender has sent
 * `want` messages in total: publish that, then look again (the double
 * check). Returns 1 when a message arrived meanwhile (do not block; call
 * vs_slots_wait_done), 0 when it may block.
 */
static inline int vs_slots_wait_prepare(struct vs_slot_wait *w, uint32_t want,
					const struct vs_slot_ring *r,
					const struct vs_slot_pos *p)
{
	w->until = want ? want : 1;
	vs_slots_mb();	/* the word before the flag it then reads */
	return *(volatile uint32_t *)&vs_slots_at(r, p)->flag == VS_SLOT_READY;
}

static inline void vs_slots_wait_done(struct vs_slot_wait *w)
{
	w->until = 0;
}

/*
 * The sender went from `old` to `now` messages sent since it last asked:
 * does the receiver want a kick? Yes when the count it waits for was
 * reached in this step, so one wait gets one notification; the sender
 * never writes the word (virtio's event index rule, Sec. 2.7.10).
 */
static inline int vs_slots_kick_needed(const struct vs_slot_wait *w, uint32_t old,
				       uint32_t now)
{
	uint32_t until;

	vs_slots_mb();	/* the flags before the word */
	until = w->until;
	return until && (uint32_t)(now - until) < (uint32_t)(now - old);
}

#endif
