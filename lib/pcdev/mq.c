// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reference device with many queues (mq.h): one producer thread per
 * queue publishing rate-driven bursts, served by a consumer per queue or by
 * S shared pollers. Every queue is a split virtqueue (ring.h) with
 * VIRTIO_F_EVENT_IDX: a polling poller parks avail_event out of reach so
 * producers never kick it; a poller that falls back to notifications arms
 * avail_event on all its queues, checks them again and blocks on its one
 * eventfd, which any of its producers writes (vhost's shared work queue).
 *
 * Data path rules as in thread.c: no syscall on the poller's path but the
 * eventfd when it blocks, the TSC as the only clock, statistics in the
 * thread's own memory.
 *
 * On the kvm backend a queue's producer is a guest (kvm-mq.h): its ring and
 * buffers are in the VM's RAM, its stamps in guest TSC (rebased here), its
 * kick an ioeventfd on the poller's eventfd. The guests cannot see the
 * run's deadline, so the main thread ends the run: it stops every guest,
 * then the pollers serve what the guests published before they stopped.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pcdev/backend.h"
#include "pcdev/kvm-mq.h"
#include "pcdev/mq.h"
#include "pcdev/ring.h"
#include "pcdev/stats.h"
#include "pcdev/tsc.h"

/* Without an explicit idle budget: shared pollers poll this long before
 * they block (a few producer periods at the rates this machine runs);
 * a consumer of its own blocks at once, as a vhost thread does. */
#define MQ_POLLER_IDLE_NS	200e3
/* A full ring: the producer looks again after this long at most. */
#define MQ_FULL_RETRY_NS	50e3

struct mq_dev;

struct mq_poller {
	struct mq_dev *d;
	unsigned int idx, n, qs[PCDEV_MAX_QUEUES];
	int efd;
	pthread_t t;
	bool started;
	alignas(64) volatile uint64_t kick_tsc;	/* a producer, before a kick */
	alignas(64) uint64_t items, visits, empty_visits, blocks, wakeups;
	uint64_t busy_t, block_t, empty_t, cpu_ns;
	struct pcdev_avg wake;
	struct pcdev_hist *wake_hist;	/* kick to running, ticks */
	int err;
};

struct mq_queue {
	struct mq_dev *d;
	unsigned int idx;
	struct vs_vring vr;
	void *ring_mem;
	struct vs_item *items;
	struct mq_poller *owner;
	pthread_t t;
	bool started;
	uint64_t wp_t, wc_t, period_t, phase_t;
	unsigned int burst, seed;
	/* The consumer's, written by the owning poller only. */
	alignas(64) struct vs_vring_cons cs;
	uint64_t consumed, starved, visits, wait_max;
	struct pcdev_hist *hist;
	/* The producer's. */
	alignas(64) struct vs_vring_prod pr;
	uint64_t offered, produced, full, publishes, kicks, cpu_ns;
	uint64_t dropped, stall_max;
	int err;
	/* kvm backend: the VM whose guest is the producer. */
	struct kvmdev *vm;
	struct pcdev_kvm_queue_cfg vm_cfg;
	int64_t tsc_off;		/* guest TSC - host TSC; 0: threads */
	const volatile uint64_t *guest_kick_tsc;
	struct pcdev_kvm_queue_res vm_res;
};

struct mq_dev {
	const struct pcdev_mq_config *cfg;
	struct pcdev_run *run;
	struct pcdev_gate gate;
	uint64_t batch, idle_t, starve_t;
	uint64_t tsc_end;	/* end of the measured run */
	bool kvm;
	unsigned int n_pollers;
	struct mq_queue q[PCDEV_MAX_QUEUES];
	struct mq_poller p[PCDEV_MAX_QUEUES];
};

void pcdev_mq_config_default(struct pcdev_mq_config *cfg)
{
	unsigned int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->n_queues = 1;
	cfg->len = 256;
	cfg->batch_limit = 64;
	cfg->idle_ns = -1;
	cfg->starve_ns = 1e6;
	cfg->duration_ns = 1e9;
	cfg->pin_producers = -1;
	cfg->seed = 1;
	for (i = 0; i < PCDEV_MAX_QUEUES; i++)
		cfg->q[i] = (struct pcdev_mq_queue_cfg){ .rate = 10e3, .burst = 8,
							 .wc_ns = 2e3,
							 .halt_poll_ns = -1 };
}

int pcdev_mq_config_validate(const struct pcdev_mq_config *cfg, const char **why)
{
	const char *w = NULL;
	unsigned int i;

	if (cfg->backend != PCDEV_BACKEND_THREAD && cfg->backend != PCDEV_BACKEND_KVM)
		w = "backend: unknown";
	else if (!cfg->n_queues || cfg->n_queues > PCDEV_MAX_QUEUES)
		w = "queues: 1 to 64";
	else if (cfg->n_pollers > cfg->n_queues)
		w = "pollers: more pollers than queues";
	else if (!vs_vring_num_ok(cfg->len) || cfg->len > 4096)
		w = "len: a power of two 2..4096 with several queues";
	else if (!cfg->batch_limit || cfg->batch_limit > cfg->len)
		w = "batch limit: 1 to the queue length";
	else if (cfg->duration_ns < 1e6)
		w = "duration: at least 1 ms";
	else if (!(cfg->starve_ns > 0))
		w = "starvation bound: above 0";
	for (i = 0; !w && i < cfg->n_queues; i++) {
		const struct pcdev_mq_queue_cfg *q = &cfg->q[i];

		if (!(q->rate > 0) || q->rate > 1e8)
			w = "rate: above 0 and at most 100M items/s";
		else if (!q->burst || q->burst > cfg->len)
			w = "burst: 1 to the queue length";
		else if (q->wp_ns < 0 || q->wc_ns < 0 || q->wp_ns > 1e6 || q->wc_ns > 1e6)
			w = "work per item: 0 to 1 ms";
	}
	if (why)
		*why = w;
	return w ? -EINVAL : 0;
}

void pcdev_mq_assign(const struct pcdev_mq_config *cfg, unsigned int *out)
{
	unsigned int order[PCDEV_MAX_QUEUES], i, j, k, best;
	double load[PCDEV_MAX_QUEUES] = { 0 }, li, lj;

	for (i = 0; i < cfg->n_queues; i++) {
		order[i] = i;
		out[i] = i;
	}
	if (!cfg->n_pollers)
		return;
	/* Heaviest first (stable on ties), each to the least loaded poller. */
	for (i = 1; i < cfg->n_queues; i++) {
		k = order[i];
		li = cfg->q[k].rate * (cfg->q[k].wc_ns + 1);
		for (j = i; j > 0; j--) {
			lj = cfg->q[order[j - 1]].rate * (cfg->q[order[j - 1]].wc_ns + 1);
			if (lj >= li)
				break;
			order[j] = order[j - 1];
		}
		order[j] = k;
	}
	for (i = 0; i < cfg->n_queues; i++) {
		k = order[i];
		best = 0;
		for (j = 1; j < cfg->n_pollers; j++)
			if (load[j] < load[best])
				best = j;
		out[k] = best;
		load[best] += cfg->q[k].rate * (cfg->q[k].wc_ns + 1);
	}
}

/*
 * Real-time before the start gate, not once through it: a side that is
 * still an ordinary thread when the gate opens may be queued on the CPU a
 * real-time poller starts spinning on, and with both CPUs busy (CPU hogs
 * beside the run) only the periodic load balancer moves it, 30-230 ms
 * later (measured with two nice-19 hogs: producers started that late and
 * lost the arrivals of their first ring's worth). A woken real-time
 * thread is placed on a CPU it can run on at once. The gate's lock holder
 * cannot be starved for it: no side spins before it has passed the lock.
 * On failure the run ends and the side still checks in at the gate.
 */
static bool go_rt(struct mq_dev *d, int prio, int *err)
{
	struct sched_param sp = { .sched_priority = prio };
	int e;

	if (d->cfg->rt_priority <= 0)
		return true;
	e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (!e)
		return true;
	*err = -e;
	pcdev_run_finish(d->run, vs_rdtsc());
	return false;
}

static void sleep_ticks(uint64_t ticks)
{
	struct timespec ts = pcdev_ns_to_ts(vs_tsc_to_ns(ticks));

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

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

static void *producer_main(void *arg)
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
	rt = go_rt(d, d->cfg->rt_priority + 1, &q->err);
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
			sleep_ticks(t);
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
			sleep_ticks(t);
		}
	}
	q->cpu_ns = pcdev_thread_cpu_ns() - c0;
	return NULL;
}

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

static void *poller_main(void *arg)
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
	rt = go_rt(d, d->cfg->rt_priority, &p->err);
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

/* The queue's ring in its guest's RAM, the guest producing at its rate. */
static int queue_init_vm(struct mq_dev *d, struct mq_queue *q)
{
	const struct pcdev_mq_config *cfg = d->cfg;
	const struct pcdev_mq_queue_cfg *c = &cfg->q[q->idx];
	struct pcdev_kvm_queue_view v;
	int err;

	q->vm_cfg = (struct pcdev_kvm_queue_cfg){
		.idx = q->idx, .len = cfg->len, .rate = c->rate, .burst = c->burst,
		.wp_ns = c->wp_ns, .periodic = cfg->periodic, .seed = q->seed,
		.phase_ns = vs_tsc_to_ns(q->phase_t), .retry_ns = MQ_FULL_RETRY_NS,
		.pin = cfg->pin_producers,
		.rt_priority = cfg->rt_priority > 0 ? cfg->rt_priority + 1 : 0,
		.kick_fd = q->owner->efd, .halt_poll_ns = c->halt_poll_ns,
		.stop = cfg->stop,
	};
	err = pcdev_kvm_queue_open(&q->vm_cfg, &q->vm);
	if (err)
		return err;
	pcdev_kvm_queue_view(q->vm, &v);
	q->vr = v.vr;
	q->items = v.items;
	q->tsc_off = v.tsc_offset;
	q->guest_kick_tsc = v.kick_tsc;
	/* The guest parks used_event itself; C parks avail_event here. */
	vs_vring_cons_disable_kick(&q->vr, &q->cs);
	return 0;
}

static int queue_init(struct mq_dev *d, struct mq_queue *q, unsigned int idx,
		      unsigned int *seed)
{
	const struct pcdev_mq_queue_cfg *c = &d->cfg->q[idx];
	unsigned int len = d->cfg->len;
	size_t bytes = vs_vring_bytes(len);

	q->d = d;
	q->idx = idx;
	q->hist = calloc(1, sizeof(*q->hist));
	if (!q->hist)
		return -ENOMEM;
	q->wp_t = vs_ns_to_tsc(c->wp_ns);
	q->wc_t = vs_ns_to_tsc(c->wc_ns);
	q->burst = c->burst;
	q->period_t = vs_ns_to_tsc(1e9 * c->burst / c->rate);
	if (!q->period_t)
		q->period_t = 1;
	/* Producers start out of phase, as independent VMs do. */
	q->seed = (unsigned int)rand_r(seed);
	q->phase_t = (uint64_t)((double)rand_r(seed) / RAND_MAX * (double)q->period_t);
	if (d->kvm)
		return queue_init_vm(d, q);
	if (posix_memalign(&q->ring_mem, 4096, bytes))
		return -ENOMEM;
	memset(q->ring_mem, 0, bytes);
	vs_vring_init(&q->vr, q->ring_mem, len);
	if (posix_memalign((void **)&q->items, 64, (size_t)len * sizeof(*q->items)))
		return -ENOMEM;
	memset(q->items, 0, (size_t)len * sizeof(*q->items));
	vs_vring_cons_disable_kick(&q->vr, &q->cs);
	return 0;
}

static void dev_free(struct mq_dev *d)
{
	unsigned int i;

	for (i = 0; i < PCDEV_MAX_QUEUES; i++) {
		pcdev_kvm_queue_close(d->q[i].vm);	/* the ring was its RAM */
		if (!d->q[i].vm)
			free(d->q[i].items);
		free(d->q[i].ring_mem);
		free(d->q[i].hist);
		if (d->p[i].efd >= 0)
			close(d->p[i].efd);
		free(d->p[i].wake_hist);
	}
}

static int cpu_of_poller(const struct pcdev_mq_config *cfg, unsigned int i)
{
	return cfg->n_pin_pollers ? cfg->pin_pollers[i % cfg->n_pin_pollers] : -1;
}

static int dev_start(struct mq_dev *d)
{
	const struct pcdev_mq_config *cfg = d->cfg;
	unsigned int i, parties = 0;
	int err;

	for (i = 0; i < d->n_pollers; i++) {
		struct mq_poller *p = &d->p[i];

		err = pthread_create(&p->t, NULL, poller_main, p);
		if (err)
			return -err;
		p->started = true;
		parties++;
		err = pcdev_thread_pin(p->t, cpu_of_poller(cfg, i));
		if (err)
			return err;
	}
	for (i = 0; d->kvm && i < cfg->n_queues; i++) {
		/* Each guest boots and is held in its READY exit. */
		err = pcdev_kvm_queue_boot(d->q[i].vm);
		if (err)
			return err;
	}
	for (i = 0; !d->kvm && i < cfg->n_queues; i++) {
		struct mq_queue *q = &d->q[i];

		err = pthread_create(&q->t, NULL, producer_main, q);
		if (err)
			return -err;
		q->started = true;
		parties++;
		err = pcdev_thread_pin(q->t, cfg->pin_producers);
		if (err)
			return err;
	}
	pcdev_gate_wait_ready(&d->gate, (int)parties);
	d->run->tsc_start = vs_rdtsc();
	/* The pollers of guests watch only the end the main thread sets. */
	d->run->deadline = d->run->tsc_start + vs_ns_to_tsc(cfg->duration_ns);
	if (!d->kvm)
		d->run->side_deadline = d->run->deadline;
	pcdev_gate_open(&d->gate, (int)parties);
	for (i = 0; d->kvm && i < cfg->n_queues; i++)
		pcdev_kvm_queue_go(d->q[i].vm);
	return 0;
}

/* kvm: until the deadline, *stop or a guest that ended by itself (it
 * failed); then stop every guest, and only then end the run. */
static void dev_run_vms(struct mq_dev *d)
{
	const struct pcdev_mq_config *cfg = d->cfg;
	struct sched_param sp = { .sched_priority = cfg->rt_priority + 2 }, old;
	uint64_t now;
	unsigned int i;
	int policy = SCHED_OTHER;
	bool ended = false, raised;

	/* Above the real-time pollers and vCPUs, or a spinning poller could
	 * keep the deadline from being seen (it sleeps but for the checks). */
	raised = cfg->rt_priority > 0 &&
		 !pthread_getschedparam(pthread_self(), &policy, &old) &&
		 !pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	while (!ended && (now = vs_rdtsc()) < d->run->deadline &&
	       !(cfg->stop && *cfg->stop)) {
		uint64_t left = d->run->deadline - now, step = vs_ns_to_tsc(10e6);

		sleep_ticks(left < step ? left : step);
		for (i = 0; !ended && i < cfg->n_queues; i++)
			ended = pcdev_kvm_queue_ended(d->q[i].vm);
	}
	d->tsc_end = vs_rdtsc();
	for (i = 0; i < cfg->n_queues; i++)
		pcdev_kvm_queue_stop_begin(d->q[i].vm);
	/* In reverse: each VM saved the kick signal's previous handler. */
	for (i = cfg->n_queues; i-- > 0;)
		pcdev_kvm_queue_stop(d->q[i].vm);
	if (raised)
		pthread_setschedparam(pthread_self(), policy, &old);
}

static void dev_stop(struct mq_dev *d)
{
	unsigned int i;

	for (i = PCDEV_MAX_QUEUES; i-- > 0;)
		if (d->q[i].vm)
			pcdev_kvm_queue_stop(d->q[i].vm);
	pcdev_run_finish(d->run, vs_rdtsc());
	/* Open the gate for whoever started, should start-up have failed. */
	pthread_mutex_lock(&d->gate.lock);
	d->gate.go = true;
	pthread_cond_broadcast(&d->gate.cond);
	pthread_mutex_unlock(&d->gate.lock);
	for (i = 0; i < PCDEV_MAX_QUEUES; i++) {
		if (d->p[i].started)
			pthread_join(d->p[i].t, NULL);
		if (d->q[i].started)
			pthread_join(d->q[i].t, NULL);
		d->p[i].started = d->q[i].started = false;
	}
}

/* A guest's counters, final once it stopped, as a thread producer's. */
static int queue_vm_results(struct mq_queue *q)
{
	struct pcdev_kvm_queue_res *r = &q->vm_res;
	int err = pcdev_kvm_queue_results(q->vm, r);

	if (err)
		return err;
	q->offered = r->offered;
	q->produced = r->produced;
	q->publishes = r->publishes;
	q->full = r->full;
	q->kicks = r->kicks;
	q->cpu_ns = (uint64_t)r->cpu_ns;
	return 0;
}

static void dev_results(struct mq_dev *d, struct pcdev_mq_results *res)
{
	const struct pcdev_mq_config *cfg = d->cfg;
	const double tpn = vs_tsc_per_ns();
	struct pcdev_hist *all = calloc(1, sizeof(*all));
	uint64_t offered = 0;
	unsigned int i, b;
	double secs;

	res->elapsed_ns = (double)(d->tsc_end - d->run->tsc_start) / tpn;
	secs = res->elapsed_ns / 1e9;
	res->backend = cfg->backend;
	res->n_pollers = d->n_pollers;
	for (i = 0; i < cfg->n_queues; i++) {
		struct mq_queue *q = &d->q[i];
		struct pcdev_mq_queue_res *r = &res->q[i];

		r->poller = q->owner->idx;
		r->items = q->consumed;
		r->produced = q->produced;
		r->offered = q->offered;
		r->full = q->full;
		r->dropped = q->dropped;
		r->stall_max_ns = d->kvm ? NAN : (double)q->stall_max / tpn;
		r->publishes = q->publishes;
		r->kicks = q->kicks;
		r->starved = q->starved;
		r->visits = q->visits;
		r->throughput_ops = secs > 0 ? (double)q->consumed / secs : NAN;
		r->offered_ops = secs > 0 ? (double)q->offered / secs : NAN;
		r->burst = q->publishes ? (double)q->produced / (double)q->publishes : NAN;
		r->cpu_producer = res->elapsed_ns > 0 ? (double)q->cpu_ns / res->elapsed_ns : NAN;
		r->wait_max_ns = (double)q->wait_max / tpn;
		r->kick_ns = d->kvm && q->kicks ? q->vm_res.kick_ns : NAN;
		r->exits = q->vm_res.exits;
		r->io_exits = q->vm_res.io_exits;
		r->halt_exits = q->vm_res.halt_exits;
		r->halt_wakeup = q->vm_res.halt_wakeup;
		r->insn_emulation = q->vm_res.insn_emulation;
		r->halt_attempted_poll = q->vm_res.halt_attempted_poll;
		r->halt_successful_poll = q->vm_res.halt_successful_poll;
		r->halt_poll_ns = q->vm_res.halt_poll_success_ns +
				  q->vm_res.halt_poll_fail_ns;
		pcdev_hist_latency(q->hist, tpn, &r->latency);
		res->items += q->consumed;
		offered += q->offered;
		res->cpu_producers += r->cpu_producer;
		if (all) {
			for (b = 0; b < PCDEV_HIST_BUCKETS; b++)
				all->bucket[b] += q->hist->bucket[b];
			all->count += q->hist->count;
			if (q->hist->max > all->max)
				all->max = q->hist->max;
		}
	}
	for (i = 0; i < d->n_pollers; i++) {
		struct mq_poller *p = &d->p[i];
		struct pcdev_mq_poller_res *r = &res->p[i];

		r->n_queues = p->n;
		r->items = p->items;
		r->visits = p->visits;
		r->empty_visits = p->empty_visits;
		r->blocks = p->blocks;
		r->wakeups = p->wakeups;
		r->busy_ns = (double)p->busy_t / tpn;
		r->block_ns = (double)p->block_t / tpn;
		r->util = res->elapsed_ns > 0 ? r->busy_ns / res->elapsed_ns : NAN;
		r->cpu = res->elapsed_ns > 0 ? (double)p->cpu_ns / res->elapsed_ns : NAN;
		r->visit_ns = p->empty_visits ? (double)p->empty_t / tpn / (double)p->empty_visits : NAN;
		r->wake_ns = pcdev_avg_ns(&p->wake, tpn);
		r->wake_p10_ns = p->wake_hist->count ?
			pcdev_hist_quantile(p->wake_hist, 0.10) / tpn : NAN;
		r->wake_p98_ns = p->wake_hist->count ?
			pcdev_hist_quantile(p->wake_hist, 0.98) / tpn : NAN;
		res->cpu_pollers += r->cpu;
	}
	res->throughput_ops = secs > 0 ? (double)res->items / secs : NAN;
	res->offered_ops = secs > 0 ? (double)offered / secs : NAN;
	if (all)
		pcdev_hist_latency(all, tpn, &res->latency);
	else
		res->latency = (struct pcdev_latency){ NAN, NAN, NAN, NAN, NAN };
	free(all);
}

int pcdev_mq_run(const struct pcdev_mq_config *cfg, struct pcdev_mq_results *res)
{
	unsigned int owner[PCDEV_MAX_QUEUES], i, seed = cfg->seed;
	struct pcdev_run *run = NULL;
	struct mq_dev *d;
	int err;

	memset(res, 0, sizeof(*res));
	err = pcdev_mq_config_validate(cfg, NULL);
	if (err)
		return err;
	d = calloc(1, sizeof(*d));
	if (!d || posix_memalign((void **)&run, 64, sizeof(*run))) {
		free(d);
		return -ENOMEM;
	}
	err = pcdev_run_init(run);
	if (err) {
		free(run);
		free(d);
		return err;
	}
	d->kvm = cfg->backend == PCDEV_BACKEND_KVM;
	/* Guests are stopped from the main thread (dev_run_vms). */
	run->side_stop = d->kvm ? NULL : cfg->stop;
	d->cfg = cfg;
	d->run = run;
	d->batch = cfg->batch_limit;
	d->n_pollers = cfg->n_pollers ? cfg->n_pollers : cfg->n_queues;
	d->idle_t = vs_ns_to_tsc(cfg->idle_ns >= 0 ? cfg->idle_ns :
				 cfg->n_pollers ? MQ_POLLER_IDLE_NS : 0);
	d->starve_t = vs_ns_to_tsc(cfg->starve_ns);
	pcdev_gate_init(&d->gate);
	for (i = 0; i < PCDEV_MAX_QUEUES; i++)
		d->p[i].efd = -1;
	for (i = 0; i < d->n_pollers; i++) {
		d->p[i].d = d;
		d->p[i].idx = i;
		d->p[i].efd = eventfd(0, EFD_CLOEXEC);
		d->p[i].wake_hist = calloc(1, sizeof(*d->p[i].wake_hist));
		if (!d->p[i].wake_hist) {
			err = -ENOMEM;
			goto out;
		}
		if (d->p[i].efd < 0) {
			err = -errno;
			goto out;
		}
		pcdev_run_wake_on_end(run, d->p[i].efd);
	}
	pcdev_mq_assign(cfg, owner);
	for (i = 0; !err && i < cfg->n_queues; i++) {
		struct mq_poller *p = &d->p[owner[i]];

		/* Owner first: a guest's kicks go to its poller's eventfd. */
		d->q[i].owner = p;
		err = queue_init(d, &d->q[i], i, &seed);
		if (!err)
			p->qs[p->n++] = i;
	}
	if (!err)
		err = dev_start(d);
	if (!err && d->kvm) {
		dev_run_vms(d);
	} else if (!err) {
		/* The sides end the run themselves at the deadline; this
		 * thread only waits for it (and for a signal). */
		while (!pcdev_run_over(run, vs_rdtsc()))
			sleep_ticks(vs_ns_to_tsc(10e6));
	}
	dev_stop(d);
	if (!d->kvm)
		d->tsc_end = run->tsc_end;
	for (i = 0; !err && i < PCDEV_MAX_QUEUES; i++) {
		if (d->q[i].err)
			err = d->q[i].err;
		else if (d->p[i].err)
			err = d->p[i].err;
		else if (d->q[i].vm)
			err = queue_vm_results(&d->q[i]);
	}
	if (!err)
		dev_results(d, res);
	if (!err && cfg->n_pollers)
		snprintf(res->note, sizeof(res->note),
			 "%u pollers over %u queues, queues dealt by load", cfg->n_pollers,
			 cfg->n_queues);
out:
	if (err)
		dev_stop(d);
	for (i = 0; err && i < PCDEV_MAX_QUEUES; i++) {
		const char *why = pcdev_kvm_queue_failure(d->q[i].vm);

		if (why) {
			snprintf(res->note, sizeof(res->note), "queue %u's VM: %s", i, why);
			break;
		}
	}
	pcdev_gate_destroy(&d->gate);
	dev_free(d);
	pcdev_run_destroy(run);
	free(run);
	free(d);
	return err;
}
