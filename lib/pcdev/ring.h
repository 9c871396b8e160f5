/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_RING_H
#define VS_PCDEV_RING_H

/*
 * Virtio 1.x split virtqueue (virtio spec 2.7) with VIRTIO_F_EVENT_IDX, as
 * static inline functions over caller-provided memory. Freestanding: the
 * same header compiles into the host (thread backend, kvm backend consumer)
 * and into the guest payload (kvm backend producer), so only <stdint.h>-level
 * types and compiler builtins are used here.
 *
 * Descriptor i always points at buffer i (fixed 1:1 mapping set up once), so
 * the avail and used rings carry descriptor ids and nothing is allocated on
 * the data path.
 */

#include <stdint.h>

#define VS_VRING_MAX	32768u
#define VS_VRING_ALIGN	64u	/* keep avail and used on separate lines */

struct vs_vring_desc {
	uint64_t addr;		/* address as the device sees it */
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vs_vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* num entries, then uint16_t used_event */
};

struct vs_vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vs_vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vs_vring_used_elem ring[];	/* num, then uint16_t avail_event */
};

struct vs_vring {
	unsigned int num;	/* power of two, 2..32768 */
	struct vs_vring_desc *desc;
	struct vs_vring_avail *avail;
	struct vs_vring_used *used;
};

/* Each item's buffer: P stamps it, C reads it back (paper Sec. 4.2.1). */
struct vs_item {
	uint64_t seq;
	uint64_t tsc_produced;	/* TSC when P finished producing it */
	uint64_t pad[6];	/* one cache line per item */
};

#define vs_ring_barrier()	__asm__ __volatile__("" ::: "memory")
/* The event-idx double check needs store->load ordering: a full fence. */
#define vs_ring_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define VS_READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define VS_WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

static inline uint64_t vs_vring_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static inline uint64_t vs_vring_avail_off(unsigned int num)
{
	return (uint64_t)num * sizeof(struct vs_vring_desc);
}

static inline uint64_t vs_vring_used_off(unsigned int num)
{
	return vs_vring_align_up(vs_vring_avail_off(num) + 4 + 2ull * num + 2,
				 VS_VRING_ALIGN);
}

/* Bytes of ring memory (descriptors, avail, used; not the buffers). */
static inline uint64_t vs_vring_bytes(unsigned int num)
{
	return vs_vring_align_up(vs_vring_used_off(num) + 4 +
				 8ull * num + 2, VS_VRING_ALIGN);
}

static inline int vs_vring_num_ok(unsigned int num)
{
	return num >= 2 && num <= VS_VRING_MAX && !(num & (num - 1));
}

static inline uint16_t *vs_vring_used_event(struct vs_vring *vr)
{
	return &vr->avail->ring[vr->num];
}

static inline uint16_t *vs_vring_avail_event(struct vs_vring *vr)
{
	return (uint16_t *)&vr->used->ring[vr->num];
}

/* Lay a ring over `mem` (zeroed by the caller, vs_vring_bytes(num) long). */
static inline void vs_vring_init(struct vs_vring *vr, void *mem, unsigned int num)
{
	vr->num = num;
	vr->desc = (struct vs_vring_desc *)mem;
	vr->avail = (struct vs_vring_avail *)((char *)mem + vs_vring_avail_off(num));
	vr->used = (struct vs_vring_used *)((char *)mem + vs_vring_used_off(num));
}

/*
 * Spec 2.7.10: notify when the index moved past `event` in this batch, i.e.
 * event is in [old, new). All arithmetic is modulo 2^16.
 */
static inline int vs_vring_need_event(uint16_t event, uint16_t new_idx,
				      uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* ---- producer (driver) side ------------------------------------------- */

struct vs_vring_prod {
	uint16_t avail_idx;	/* next avail index to publish */
	uint16_t last_used;	/* used entries consumed so far */
	uint16_t kick_old;	/* avail idx at the last kick decision */
};

/* Items P has in flight (published, not yet returned through used). */
static inline unsigned int vs_vring_prod_inflight(const struct vs_vring_prod *p)
{
	return (uint16_t)(p->avail_idx - p->last_used);
}

/* Reclaim returned buffers: how many used entries appeared since last call. */
static inline unsigned int vs_vring_prod_reclaim(struct vs_vring *vr,
						 struct vs_vring_prod *p)
{
	uint16_t used = VS_READ_ONCE(vr->used->idx);
	unsigned int n = (uint16_t)(used - p->last_used);

	vs_ring_barrier();	/* read used->idx before the entries */
	p->last_used = used;
	return n;
}

/* Publish descriptor `id`; the kick decision is vs_vring_prod_kick_needed(). */
static inline void vs_vring_prod_publish(struct vs_vring *vr,
					 struct vs_vring_prod *p, uint16_t id)
{
	vr->avail->ring[p->avail_idx & (vr->num - 1)] = id;
	vs_ring_barrier();	/* x86 TSO: entry visible before idx */
	p->avail_idx++;
	VS_WRITE_ONCE(vr->avail->idx, p->avail_idx);
}

/*
 * Publishing in groups (as a driver does under xmit_more): add entries
 * without moving avail->idx, then make them all visible with one store.
 */
static inline void vs_vring_prod_add(struct vs_vring *vr,
				     struct vs_vring_prod *p, uint16_t id)
{
	vr->avail->ring[p->avail_idx & (vr->num - 1)] = id;
	p->avail_idx++;
}

/*
 * Add n descriptors whose ids follow the avail index (descriptor i maps
 * buffer i and C returns them in order), in one pass the compiler can
 * vectorize; indices stay in registers.
 */
static inline void vs_vring_prod_add_seq(struct vs_vring *vr,
					 struct vs_vring_prod *p,
					 unsigned int n)
{
	uint16_t *ring = vr->avail->ring, idx = p->avail_idx;
	const uint16_t mask = (uint16_t)(vr->num - 1), first = idx & mask;
	unsigned int i;

	if (first + n <= vr->num) {	/* one contiguous run */
		for (i = 0; i < n; i++)
			ring[first + i] = (uint16_t)(first + i);
	} else {
		for (i = 0; i < n; i++, idx++)
			ring[idx & mask] = idx & mask;
	}
	p->avail_idx = (uint16_t)(p->avail_idx + n);
}

static inline void vs_vring_prod_flush(struct vs_vring *vr,
				       struct vs_vring_prod *p)
{
	vs_ring_barrier();	/* x86 TSO: entries visible before idx */
	VS_WRITE_ONCE(vr->avail->idx, p->avail_idx);
}

/* After publishing one or more items: does C want a kick? */
static inline int vs_vring_prod_kick_needed(struct vs_vring *vr,
					    struct vs_vring_prod *p)
{
	uint16_t old = p->kick_old, now = p->avail_idx;

	vs_ring_mb();	/* publish idx before reading avail_event */
	p->kick_old = now;
	return vs_vring_need_event(VS_READ_ONCE(*vs_vring_avail_event(vr)), now, old);
}

/*
 * P found the ring full and wants an interrupt once kc slots are free: set
 * used_event, then re-check (the double check). Returns the number of slots
 * already free: if >= kc the caller proceeds without blocking and the
 * interrupt that may still arrive is spurious.
 */
static inline unsigned int vs_vring_prod_enable_intr(struct vs_vring *vr,
						     struct vs_vring_prod *p,
						     unsigned int kc)
{
	uint16_t used;

	VS_WRITE_ONCE(*vs_vring_used_event(vr), (uint16_t)(p->last_used + kc - 1));
	vs_ring_mb();
	used = VS_READ_ONCE(vr->used->idx);
	return vr->num - (uint16_t)(p->avail_idx - used);
}

/* P does not want interrupts while it has room: park used_event far away. */
static inline void vs_vring_prod_disable_intr(struct vs_vring *vr,
					      struct vs_vring_prod *p)
{
	VS_WRITE_ONCE(*vs_vring_used_event(vr),
		      (uint16_t)(p->last_used + 0x8000u));
}

/* ---- consumer (device) side ------------------------------------------- */

struct vs_vring_cons {
	uint16_t last_avail;	/* next avail entry to consume */
	uint16_t used_idx;	/* next used index to publish */
	uint16_t intr_old;	/* used idx at the last interrupt decision */
};

/* Items waiting in the avail ring. */
static inline unsigned int vs_vring_cons_pending(struct vs_vring *vr,
						 const struct vs_vring_cons *c)
{
	return (uint16_t)(VS_READ_ONCE(vr->avail->idx) - c->last_avail);
}

/* Take the next available descriptor id; caller checked pending > 0. */
static inline uint16_t vs_vring_cons_pop(struct vs_vring *vr,
					 struct vs_vring_cons *c)
{
	uint16_t id;

	vs_ring_barrier();	/* read avail->idx before the entry */
	id = vr->avail->ring[c->last_avail & (vr->num - 1)];
	c->last_avail++;
	return id;
}

/* Return descriptor `id` to P through the used ring. */
static inline void vs_vring_cons_push(struct vs_vring *vr,
				      struct vs_vring_cons *c, uint16_t id,
				      uint32_t len)
{
	struct vs_vring_used_elem *e = &vr->used->ring[c->used_idx & (vr->num - 1)];

	e->id = id;
	e->len = len;
	vs_ring_barrier();
	c->used_idx++;
	VS_WRITE_ONCE(vr->used->idx, c->used_idx);
}

/*
 * Batched return (vhost_add_used_n): write used entries without moving
 * used->idx, then publish them all with one index store.
 */
static inline void vs_vring_cons_fill(struct vs_vring *vr,
				      struct vs_vring_cons *c, uint16_t id,
				      uint32_t len, unsigned int offset)
{
	struct vs_vring_used_elem *e =
		&vr->used->ring[(uint16_t)(c->used_idx + offset) & (vr->num - 1)];

	e->id = id;
	e->len = len;
}

/*
 * Pop n available descriptors and fill a used entry (id, len) for each
 * without publishing (vs_vring_cons_flush does); the caller checked
 * pending >= n. The id of the first is returned for the caller's stamp.
 */
static inline uint16_t vs_vring_cons_pop_fill_n(struct vs_vring *vr,
						struct vs_vring_cons *c,
						unsigned int n, uint32_t len,
						unsigned int offset)
{
	const uint16_t *avail = vr->avail->ring;
	struct vs_vring_used_elem *used = vr->used->ring;
	const uint16_t mask = (uint16_t)(vr->num - 1);
	uint16_t la = c->last_avail, ui = (uint16_t)(c->used_idx + offset);
	uint16_t first;
	unsigned int i;

	vs_ring_barrier();	/* read avail->idx before the entries */
	first = avail[la & mask];
	if ((la & mask) == (ui & mask) && (la & mask) + n <= vr->num) {
		/* The common case: one contiguous run, same slots. */
		const uint16_t *a = &avail[la & mask];
		struct vs_vring_used_elem *u = &used[ui & mask];

		for (i = 0; i < n; i++)
			u[i] = (struct vs_vring_used_elem){ a[i], len };
		c->last_avail = (uint16_t)(la + n);
		return first;
	}
	for (i = 0; i < n; i++, la++, ui++) {
		used[ui & mask].id = avail[la & mask];
		used[ui & mask].len = len;
	}
	c->last_avail = la;
	return first;
}

static inline void vs_vring_cons_flush(struct vs_vring *vr,
				       struct vs_vring_cons *c, unsigned int n)
{
	vs_ring_barrier();	/* entries visible before the index */
	c->used_idx += (uint16_t)n;
	VS_WRITE_ONCE(vr->used->idx, c->used_idx);
}

/* After pushing used entries: does P want an interrupt? */
static inline int vs_vring_cons_intr_needed(struct vs_vring *vr,
					    struct vs_vring_cons *c)
{
	uint16_t old = c->intr_old, now = c->used_idx;

	vs_ring_mb();
	c->intr_old = now;
	return vs_vring_need_event(VS_READ_ONCE(*vs_vring_used_event(vr)), now, old);
}

/*
 * C found the ring empty and wants a kick when kp items are published: set
 * avail_event, then re-check. Returns items already pending: if non-zero the
 * caller goes on consuming, and a kick that may still come is spurious.
 */
static inline unsigned int vs_vring_cons_enable_kick(struct vs_vring *vr,
						     struct vs_vring_cons *c,
						     unsigned int kp)
{
	VS_WRITE_ONCE(*vs_vring_avail_event(vr), (uint16_t)(c->last_avail + kp - 1));
	vs_ring_mb();
	return vs_vring_cons_pending(vr, c);
}

/* C is draining the ring and wants no kicks. */
static inline void vs_vring_cons_disable_kick(struct vs_vring *vr,
					      struct vs_vring_cons *c)
{
	VS_WRITE_ONCE(*vs_vring_avail_event(vr),
		      (uint16_t)(c->last_avail + 0x8000u));
}

#endif
