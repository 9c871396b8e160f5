// SPDX-License-Identifier: GPL-2.0-only
/*
 * A poller of the multi-queue device (mq-dev.h): visits its queues
 * round-robin, at most batch_limit items a visit, and after idle_ns
 * without work arms every queue's kick and blocks on its eventfd. A
 * consumer of its own is a poller of one queue with no idle budget.
 */
#include <stdio.h>

#include "pcdev/mq-dev.h"
#include "pcdev/tsc.h"

/* Serve up to `limit` items of q, each taking Wc. */
static unsigned int serve(struct mq_dev *d, struct mq_queue *q,
			  unsigned int pending, uint64_t *now)
{
	struct vs_vring *vr = &q->vr;
	const uint16_t mask = (uint16_t)(vr->num - 1);
	const uint16_t *avail = vr->avail->ring;
	struct vs_vring_used_elem *used = vr->used->ring;
	unsigned int n = pending < d->batch ? pending : (unsigned int)d->batch, i;
	uint16_t la = q->cs.last_avail, ui = q->cs.used_idx, id;
	uint64_t t0 = *now, t = t0, wait, born;

	vs_ring_barrier();	/* avail->idx before the entries */
	id = avail[la & mask];
	born = q->items[id].tsc_produced - (uint64_t)q->tsc_off;
	wait = t0 > born ? t0 - born : 0;
	if (wait > d->starve_t)
		q->starved++;
	if (wait > q->wait_max)
		q->wait_max = wait;
	for (i = 0; i < n; i++, la++, ui++) {
		id = avail[la & mask];
		t = q->wc_t ? vs_tsc_spin_until(t + q->wc_t) : vs_rdtsc();
		born = q->items[id].tsc_produced - (uint64_t)q->tsc_off;
		pcdev_hist_add(q->hist, t > born ? t - born : 0);
		used[ui & mask].id = id;
		used[ui & mask].len = 0;
	}
	q->cs.last_avail = la;
	vs_vring_cons_flush(vr, &q->cs, n);
	/* Park avail_event again: it must stay out of the producer's reach
	 * as last_avail moves on. */
	vs_vring_cons_disable_kick(vr, &q->cs);
	q->consumed += n;
	*now = vs_rdtsc();
	return n;
}

/* Host TSC of the latest kick to p: a guest's is in guest TSC. */
static uint64_t last_kick(struct mq_dev *d, struct mq_poller *p)
{
	uint64_t k, best = 0;
	unsigned int i;

	if (!d->kvm)
		return p->kick_tsc;
	for (i = 0; i < p->n; i++) {
		struct mq_queue *q = &d->q[p->qs[i]];

		k = *q->guest_kick_tsc;
		if (!k)
			continue;
		k -= (uint64_t)q->tsc_off;
		if (k > best)
			best = k;
	}
	return best;
}

/* Nothing for idle_ns: arm every queue's kick, look again, block. */
static void poller_block(struct mq_dev *d, struct mq_poller *p)
{
	unsigned int i, pending = 0;
	uint64_t t_en, t_w, kick;

	for (i = 0; i < p->n; i++) {
		struct mq_queue *q = &d->q[p->qs[i]];

		pending += vs_vring_cons_enable_kick(&q->vr, &q->cs, 1);
	}
	if (!pending && !d->run->done) {
		t_en = vs_rdtsc();
		pcdev_efd_wait(p->efd);
		t_w = vs_rdtsc();
		p->blocks++;
		p->block_t += t_w - t_en;
		kick = last_kick(d, p);
		if (kick >= t_en && kick <= t_w)
		{
			pcdev_avg_add(&p->wake, t_w - kick);
			pcdev_hist_add(p->wake_hist, t_w - kick);
		}
	}
	for (i = 0; i < p->n; i++) {
		struct mq_queue *q = &d->q[p->qs[i]];

		vs_vring_cons_disable_kick(&q->vr, &q->cs);
	}
}

void *mq_poller_main(void *arg)
{
	struct mq_poller *p = arg;
	struct mq_dev *d = p->d;
	struct pcdev_run *run = d->run;
	uint64_t now, last_work, round, c0;
	unsigned int i, worked, pending;
	char name[16];
	bool rt;

	snprintf(name, sizeof(name), d->cfg->n_pollers ? "vs-poller%u" : "vs-mqcons%u",
		 p->idx);
	pcdev_thread_setup(name, -1);
	rt = mq_go_rt(d, d->cfg->rt_priority, &p->err);
	pcdev_gate_wait(&d->gate);
	if (!rt)
		return NULL;
	c0 = pcdev_thread_cpu_ns();
	last_work = now = vs_rdtsc();
	while (!pcdev_run_over(run, now)) {
		worked = 0;
		round = now;
		for (i = 0; i < p->n; i++) {
			struct mq_queue *q = &d->q[p->qs[i]];
			uint64_t t0;

			pending = vs_vring_cons_pending(&q->vr, &q->cs);
			if (!pending)
				continue;
			q->visits++;
			t0 = now = vs_rdtsc();
			worked += serve(d, q, pending, &now);
			p->busy_t += now - t0;
		}
		now = vs_rdtsc();
		p->visits += p->n;
		if (worked) {
			p->items += worked;
			last_work = now;
			continue;
		}
		p->empty_visits += p->n;
		p->empty_t += now - round;
		if (now - last_work >= d->idle_t) {
			poller_block(d, p);
			p->wakeups++;
			last_work = now = vs_rdtsc();
		}
	}
	/* kvm: the guests have stopped before the run ended; what they
	 * published is served, so that every queue's count is its guest's. */
	for (i = 0; d->kvm && i < p->n; i++) {
		struct mq_queue *q = &d->q[p->qs[i]];

		while ((pending = vs_vring_cons_pending(&q->vr, &q->cs))) {
			q->visits++;
			p->items += serve(d, q, pending, &now);
		}
	}
	p->cpu_ns = pcdev_thread_cpu_ns() - c0;
	return NULL;
}

