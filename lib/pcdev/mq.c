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
 *
 * This file sets the device up, runs and ends it; the threads and the
 * results are in the parts mq-dev.h lists.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pcdev/mq-dev.h"
#include "pcdev/tsc.h"

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
bool mq_go_rt(struct mq_dev *d, int prio, int *err)
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

void mq_sleep_ticks(uint64_t ticks)
{
	struct timespec ts = pcdev_ns_to_ts(vs_tsc_to_ns(ticks));

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
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

		err = pthread_create(&p->t, NULL, mq_poller_main, p);
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

		err = pthread_create(&q->t, NULL, mq_producer_main, q);
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

		mq_sleep_ticks(left < step ? left : step);
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
			mq_sleep_ticks(vs_ns_to_tsc(10e6));
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
			err = mq_queue_vm_results(&d->q[i]);
	}
	if (!err)
		mq_dev_results(d, res);
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
