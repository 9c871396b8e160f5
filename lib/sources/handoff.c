// SPDX-License-Identifier: GPL-2.0-only
/* Hand-off cost per message for each ring layout (see handoff.h). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/latstats.h"
#include "pcdev/ring.h"
#include "pcdev/slots.h"
#include "pcdev/tsc.h"
#include "sources/handoff.h"

/* Round trips before the measured ones: lines and branch predictors warm. */
#define WARMUP_BATCHES	64
#define TIMEOUT_NS	1e9

struct hrun {
	enum pcdev_ring layout;
	const struct vs_handoff_opts *o;
	/* virtio */
	struct vs_vring vr;
	struct vs_item *items;
	/* slots */
	struct vs_slot_ring req, resp;
	void *mem;
	alignas(64) volatile int ready;
	alignas(64) volatile int stop;
	uint64_t *dt;
	uint64_t timeout;
	int err_p, err_c;
	uint64_t sum_p, sum_c;	/* what each side read, so nothing is elided */
};

static int pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static void go(struct hrun *r)
{
	__atomic_add_fetch(&r->ready, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&r->ready, __ATOMIC_SEQ_CST) < 2)
		vs_cpu_relax();
}

/* ---- virtio split ring ---------------------------------------------------- */

static void *virtio_consumer(void *arg)
{
	struct hrun *r = arg;
	struct vs_vring *vr = &r->vr;
	struct vs_vring_cons cs = { 0 };
	uint64_t sum = 0;

	r->err_c = pin_self(r->o->cpu_c);
	go(r);
	while (!r->stop) {
		unsigned int n = vs_vring_cons_pending(vr, &cs);

		if (!n) {
			vs_cpu_relax();
			continue;
		}
		while (n--) {
			uint16_t id = vs_vring_cons_pop(vr, &cs);

			sum += VS_READ_ONCE(r->items[id].seq);
			/* answered at once, one used->idx store per message */
			vs_vring_cons_push(vr, &cs, id, sizeof(struct vs_item));
		}
	}
	r->sum_c = sum;
	return NULL;
}

static int virtio_batch(struct hrun *r, struct vs_vring_prod *ps, uint64_t *seq)
{
	struct vs_vring *vr = &r->vr;
	const uint16_t mask = (uint16_t)(vr->num - 1);
	unsigned int i, got = 0, b = r->o->batch, spins = 0;
	uint64_t deadline = vs_rdtsc() + r->timeout;

	for (i = 0; i < b; i++) {
		uint16_t id = ps->avail_idx & mask;

		r->items[id].seq = (*seq)++;
		vs_vring_prod_add(vr, ps, id);
	}
	vs_vring_prod_flush(vr, ps);
	while (got < b) {
		uint16_t old = ps->last_used;
		unsigned int n = vs_vring_prod_reclaim(vr, ps), j;

		for (j = 0; j < n; j++)
			r->sum_p += VS_READ_ONCE(vr->used->ring[(uint16_t)(old + j) & mask].id);
		got += n;
		if (!n) {
			if (++spins % 4096 == 0 && vs_rdtsc() > deadline)
				return -ETIMEDOUT;
			vs_cpu_relax();
		}
	}
	return 0;
}

/* ---- Fip-see slots ----------------------------------------------------------- */

static void *slots_consumer(void *arg)
{
	struct hrun *r = arg;
	struct vs_slot_pos in = { 0 }, out = { 0 };
	uint64_t sum = 0;

	r->err_c = pin_self(r->o->cpu_c);
	go(r);
	while (!r->stop) {
		struct vs_slot *s = vs_slots_peek(&r->req, &in), *a;
		uint64_t seq;

		if (!s) {
			vs_cpu_relax();
			continue;
		}
		seq = s->seq;
		vs_slots_release(s, &in);
		/* Never full: at most a batch, half the ring, is in flight. */
		while (!(a = vs_slots_claim(&r->resp, &out)))
			vs_cpu_relax();
		a->seq = seq;
		vs_slots_post(a, &out);
		sum += seq;
	}
	r->sum_c = sum;
	return NULL;
}

static int slots_batch(struct hrun *r, struct vs_slot_pos *out, struct vs_slot_pos *in,
		       uint64_t *seq)
{
	unsigned int i, got = 0, b = r->o->batch, spins = 0;
	uint64_t deadline = vs_rdtsc() + r->timeout;

	for (i = 0; i < b; i++) {
		struct vs_slot *s = vs_slots_claim(&r->req, out);

		if (!s)
			return -EIO;	/* cannot happen: the batch fits */
		s->seq = (*seq)++;
		vs_slots_post(s, out);
	}
	while (got < b) {
		struct vs_slot *s = vs_slots_peek(&r->resp, in);

		if (!s) {
			if (++spins % 4096 == 0 && vs_rdtsc() > deadline)
				return -ETIMEDOUT;
			vs_cpu_relax();
			continue;
		}
		r->sum_p += s->seq;
		vs_slots_release(s, in);
		got++;
	}
	return 0;
}

/* ---- the producer: batches, timed ------------------------------------------ */

static void *producer(void *arg)
{
	struct hrun *r = arg;
	struct vs_vring_prod ps = { 0 };
	struct vs_slot_pos out = { 0 }, in = { 0 };
	unsigned int k, n = WARMUP_BATCHES + r->o->batches;
	uint64_t seq = 0;

	r->err_p = pin_self(r->o->cpu_p);
	go(r);
	if (r->err_p || r->err_c)
		goto out;
	for (k = 0; k < n; k++) {
		uint64_t t0 = vs_rdtsc();

		r->err_p = r->layout == PCDEV_RING_SLOTS ? slots_batch(r, &out, &in, &seq) :
			   virtio_batch(r, &ps, &seq);
		if (r->err_p)
			break;
		if (k >= WARMUP_BATCHES)
			r->dt[k - WARMUP_BATCHES] = vs_rdtsc() - t0;
	}
out:
	r->stop = 1;
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void vs_handoff_opts_default(struct vs_handoff_opts *o)
{
	o->cpu_p = 0;
	o->cpu_c = 1;
	o->batch = 1;
	o->batches = 2000;
	o->len = 256;
}

static int setup(struct hrun *r, enum pcdev_ring layout)
{
	unsigned int len = r->o->len;
	size_t ring, bytes;

	if (layout == PCDEV_RING_SLOTS) {
		bytes = 2 * (size_t)len * sizeof(struct vs_slot);
		r->mem = aligned_alloc(4096, (bytes + 4095) & ~(size_t)4095);
		if (!r->mem)
			return -ENOMEM;
		memset(r->mem, 0, bytes);
		vs_slots_init(&r->req, r->mem, len);
		vs_slots_init(&r->resp, (struct vs_slot *)r->mem + len, len);
		return 0;
	}
	ring = (size_t)vs_vring_align_up(vs_vring_bytes(len), 4096);
	bytes = ring + (size_t)len * sizeof(struct vs_item);
	r->mem = aligned_alloc(4096, (bytes + 4095) & ~(size_t)4095);
	if (!r->mem)
		return -ENOMEM;
	memset(r->mem, 0, bytes);
	vs_vring_init(&r->vr, r->mem, len);
	r->items = (struct vs_item *)((char *)r->mem + ring);
	return 0;
}

int vs_handoff_measure(enum pcdev_ring layout, const struct vs_handoff_opts *o,
		       struct vs_handoff *res, char *err, size_t errlen)
{
	struct hrun *r;
	pthread_t tp, tc;
	double *v;
	unsigned int i;
	int e;

	memset(res, 0, sizeof(*res));
	if (!vs_vring_num_ok(o->len) || o->batch < 1 || o->batch > o->len / 2 ||
	    o->batches < 1 || o->cpu_p == o->cpu_c) {
		snprintf(err, errlen, "hand-off: batch 1..%u of a ring of %u, two CPUs",
			 o->len / 2, o->len);
		return -EINVAL;
	}
	r = aligned_alloc(64, (sizeof(*r) + 63) & ~(size_t)63);
	if (!r)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	r->layout = layout;
	r->o = o;
	r->timeout = vs_ns_to_tsc(TIMEOUT_NS);
	r->dt = calloc(o->batches, sizeof(*r->dt));
	v = calloc(o->batches, sizeof(*v));
	e = r->dt && v ? setup(r, layout) : -ENOMEM;
	if (!e)
		e = -pthread_create(&tc, NULL, layout == PCDEV_RING_SLOTS ? slots_consumer :
				    virtio_consumer, r);
	if (!e) {
		e = -pthread_create(&tp, NULL, producer, r);
		if (e) {
			r->stop = 1;
			__atomic_add_fetch(&r->ready, 1, __ATOMIC_SEQ_CST);
		} else {
			pthread_join(tp, NULL);
		}
		pthread_join(tc, NULL);
	}
	if (!e && (r->err_p || r->err_c)) {
		e = r->err_p ? r->err_p : r->err_c;
		if (e == -EINVAL)
			snprintf(err, errlen, "CPU %d or %d: not a CPU this process may run on",
				 o->cpu_p, o->cpu_c);
		else if (e == -ETIMEDOUT)
			snprintf(err, errlen, "the consumer on CPU %d stopped answering",
				 o->cpu_c);
		else
			snprintf(err, errlen, "hand-off: %s", strerror(-e));
	}
	if (!e) {
		for (i = 0; i < o->batches; i++)
			v[i] = (double)r->dt[i] / o->batch;
		double ns_per_tick = 1.0 / vs_tsc_per_ns();

		qsort(v, o->batches, sizeof(*v), cmp_double);
		res->cycles_per_msg = vs_percentile_sorted(v, o->batches, 50);
		res->ns_per_msg = ns_per_tick * res->cycles_per_msg;
		res->p10_ns = ns_per_tick * vs_percentile_sorted(v, o->batches, 10);
		res->p90_ns = ns_per_tick * vs_percentile_sorted(v, o->batches, 90);
		res->batches = o->batches;
	}
	free(v);
	free(r->dt);
	free(r->mem);
	free(r);
	return e;
}
