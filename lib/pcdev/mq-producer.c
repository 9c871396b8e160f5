// SPDX-License-Identifier: GPL-2.0-only
/*
 * A queue's producer thread (mq-dev.h): bursts at Poisson (or periodic)
 * times at the queue's rate, published into the ring and kicked when the
 * poller asked for it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pcdev/mq-dev.h"
#include "pcdev/tsc.h"

/* Publish up to `n` items, each after Wp, stamped when done. */
static unsigned int produce(struct mq_queue *q, unsigned int n)
{
	struct vs_vring *vr = &q->vr;
	const unsigned int mask = vr->num - 1;
	unsigned int free, i;
	uint64_t t = vs_rdtsc();

	vs_vring_prod_reclaim(vr, &q->pr);
	free = vr->num - vs_vring_prod_inflight(&q->pr);
	if (n > free)
		n = free;
	for (i = 0; i < n; i++) {
		if (q->wp_t)
			t = vs_tsc_spin_until(t + q->wp_t);
		vs_vring_prod_add(vr, &q->pr, q->pr.avail_idx & mask);
	}
	if (!n)
		return 0;
	/*
	 * An item's latency counts from when the poller can see it (the
	 * avail->idx store), as a guest request's does: a producer
	 * interrupted within its burst (timer interrupts of the other
	 * producers' sleeps land on this CPU) must not count as waiting.
	 */
	t = vs_rdtsc();
	for (i = n; i > 0; i--)
		q->items[(uint16_t)(q->pr.avail_idx - i) & mask].tsc_produced = t;
	vs_vring_prod_flush(vr, &q->pr);
	if (vs_vring_prod_kick_needed(vr, &q->pr)) {
		q->owner->kick_tsc = vs_rdtsc();
		pcdev_efd_signal(q->owner->efd);
		q->kicks++;
	}
	return n;
}

/*
 * Ticks to the next burst: exponential (Poisson bursts, as independent
 * VMs' requests are), or the period itself. With equal periods and fixed
 * phases two queues would collide at the same point of every cycle for the
 * whole run, and a run would measure its seed rather than its loads.
 */
static uint64_t next_gap(struct mq_queue *q)
{
	double u;

	if (q->d->cfg->periodic)
		return q->period_t;
	u = ((double)rand_r(&q->seed) + 1.0) / ((double)RAND_MAX + 2.0);
	return (uint64_t)(-log(u) * (double)q->period_t) + 1;
}

void *mq_producer_main(void *arg)
{
	struct mq_queue *q = arg;
	struct mq_dev *d = q->d;
	struct pcdev_run *run = d->run;
	const uint64_t retry_t = vs_ns_to_tsc(MQ_FULL_RETRY_NS);
	const uint64_t slice_t = vs_ns_to_tsc(10e6);
	uint64_t next, now, backlog = 0, c0, want, t;
	char name[16];
	unsigned int n;
	bool rt;

	snprintf(name, sizeof(name), "vs-mqprod%u", q->idx);
	pcdev_thread_setup(name, -1);
	rt = mq_go_rt(d, d->cfg->rt_priority + 1, &q->err);
	pcdev_gate_wait(&d->gate);
	if (!rt)
		return NULL;
	c0 = pcdev_thread_cpu_ns();
	next = run->tsc_start + q->phase_t;
	want = run->tsc_start;	/* a late start is a stall too */
	while (!pcdev_run_over(run, now = vs_rdtsc())) {
		/* How late this thread ran after the wake-up it asked for. */
		if (want && now > want && now - want > q->stall_max)
			q->stall_max = now - want;
		want = 0;
		if (!backlog && now < next) {
			/* In slices, so that the end of the run is seen. */
			t = next - now < slice_t ? next - now : slice_t;
			want = now + t;
			mq_sleep_ticks(t);
			continue;
		}
		while (next <= now) {
			backlog += q->burst;
			q->offered += q->burst;
			next += next_gap(q);
		}
		/* An arrival the ring cannot take within one ring's worth
		 * is lost, not queued without end in the producer. */
		if (backlog > q->vr.num) {
			q->dropped += backlog - q->vr.num;
			backlog = q->vr.num;
		}
		n = produce(q, backlog > UINT32_MAX ? UINT32_MAX : (unsigned int)backlog);
		if (n) {
			backlog -= n;
			q->produced += n;
			q->publishes++;
		} else {
			q->full++;
		}
		if (backlog) {
			now = vs_rdtsc();
			t = next > now && next - now < retry_t ? next - now : retry_t;
			want = now + t;
			mq_sleep_ticks(t);
		}
	}
	q->cpu_ns = pcdev_thread_cpu_ns() - c0;
	return NULL;
}

