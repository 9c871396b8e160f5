// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-thread backend of the reference device: P (`vs-producer`) and C
 * (`vs-consumer`) share a split virtqueue in process memory and notify each
 * other through two eventfds, as a guest driver and a vhost thread do
 * through ioeventfd and irqfd. The main thread only starts, publishes the
 * counters every 100 ms and stops them.
 *
 * Data path rules (bench/ring-ceiling holds us to them): no syscall and no
 * clock read other than the TSC per item; P reclaims used slots only when
 * it believes the ring full; statistics live in per-thread memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "pcdev.h"
#include "ring.h"
#include "stats.h"
#include "trace.h"
#include "tsc.h"

/* One side's state: written by its own thread only (counters that the
 * main thread publishes are stored with relaxed atomics). */
struct side {
	uint64_t items;		/* produced (P) or consumed (C) */
	uint64_t notifies;	/* kicks sent (P) or interrupts sent (C) */
	uint64_t wakeups, spurious, sleeps, blocks;
	struct pcdev_avg w, n, y, s, yz;	/* ticks; yz in CPU ns */
	uint64_t cpu_ns, tsc_end;
	int tid, err;
	struct pcdev_trace_buf trace;
} __attribute__((aligned(64)));

struct dev {
	const struct pcdev_config *cfg;
	struct vs_vring vr;
	void *ring_mem;
	size_t ring_len;
	struct vs_item *items;
	int kick_fd, intr_fd;
	/* Start gate: both sides set up (named, pinned), then go together. */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	int ready;
	bool go;
	sem_t c_finished;
	uint64_t wp_t, wc_t, busy_t, cap;
	struct timespec yp_ts, yc_ts;
	bool kick_on, intr_on;	/* does C (P) wait for notifications? */
	struct pcdev_hist *hist;	/* C's item latencies, in ticks */
	/* Cross-thread words, each on its own line. */
	alignas(64) volatile int done;
	alignas(64) volatile uint64_t kick_tsc;	/* P: TSC before a kick */
	alignas(64) volatile uint64_t intr_tsc;	/* C: TSC before an interrupt */
	struct side p, c;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct timespec ns_to_ts(double ns)
{
	struct timespec ts;
	uint64_t v = (uint64_t)ns;

	ts.tv_sec = (time_t)(v / 1000000000ull);
	ts.tv_nsec = (long)(v % 1000000000ull);
	return ts;
}

static void store_relaxed(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static uint64_t load_relaxed(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void efd_signal(int fd)
{
	uint64_t one = 1;

	/* Cannot fail short of a counter overflow (2^64 - 2 pending). */
	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

static void efd_wait(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
}

/* clock_nanosleep, timed on the TSC (Y) and on the thread CPU clock (Yz). */
static void side_sleep(struct side *s, const struct timespec *ts)
{
	uint64_t t0 = vs_rdtsc(), c0 = thread_cpu_ns();

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, ts, NULL) == EINTR)
		;
	pcdev_avg_add(&s->yz, thread_cpu_ns() - c0);
	pcdev_avg_add(&s->y, vs_rdtsc() - t0);
	s->sleeps++;
}

static void gate_wait(struct dev *d)
{
	pthread_mutex_lock(&d->gate_lock);
	d->ready++;
	pthread_cond_broadcast(&d->gate_cond);
	while (!d->go)
		pthread_cond_wait(&d->gate_cond, &d->gate_lock);
	pthread_mutex_unlock(&d->gate_lock);
}

static void gate_open(struct dev *d, int parties)
{
	pthread_mutex_lock(&d->gate_lock);
	while (d->ready < parties)
		pthread_cond_wait(&d->gate_cond, &d->gate_lock);
	d->go = true;
	pthread_cond_broadcast(&d->gate_cond);
	pthread_mutex_unlock(&d->gate_lock);
}

static int thread_setup(struct dev *d, struct side *s, const char *name,
			int cpu)
{
	const struct pcdev_config *cfg = d->cfg;
	unsigned long slack;
	cpu_set_t set;
	int err;

	s->tid = gettid();
	pthread_setname_np(pthread_self(), name);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		if (err)
			return -err;
	}
	if (cfg->timerslack_ns >= 0) {
		/* 0 would restore the default slack: 1 ns is the minimum. */
		slack = cfg->timerslack_ns < 1 ? 1 : (unsigned long)cfg->timerslack_ns;
		if (prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0))
			return -errno;
	}
	return 0;
}

/*
 * P found no free slot: wait as its mode says. Returns the number of free
 * slots after the wait (0 when stopping), and updates *now.
 */
static unsigned int producer_wait(struct dev *d, struct side *s,
				  struct vs_vring_prod *pr, uint64_t *now)
{
	const struct pcdev_config *cfg = d->cfg;
	struct vs_vring *vr = &d->vr;
	unsigned int len = vr->num, free = 0;
	uint64_t t_en, t_w, deadline;

	pcdev_trace_add(&s->trace, PCDEV_EV_P_WAIT, vs_rdtsc(), pr->avail_idx);
	switch (cfg->p_mode) {
	case PCDEV_POLL:
		while (!d->done) {
			vs_vring_prod_reclaim(vr, pr);
			free = len - vs_vring_prod_inflight(pr);
			if (free)
				break;
			vs_cpu_relax();
		}
		break;
	case PCDEV_SLEEP:
		while (!d->done) {
			side_sleep(s, &d->yp_ts);
			vs_vring_prod_reclaim(vr, pr);
			free = len - vs_vring_prod_inflight(pr);
			if (free)
				break;
		}
		break;
	case PCDEV_BUSYLOOP:
		deadline = vs_rdtsc() + d->busy_t;
		do {
			vs_vring_prod_reclaim(vr, pr);
			free = len - vs_vring_prod_inflight(pr);
			if (free)
				goto out;
			vs_cpu_relax();
		} while (!d->done && vs_rdtsc() < deadline);
		/* fall through: block */
	case PCDEV_NOTIFY:
		while (!d->done) {
			/* Double check: ask for an interrupt at kc free slots,
			 * then look again before blocking. */
			if (vs_vring_prod_enable_intr(vr, pr, cfg->kc) >= cfg->kc) {
				vs_vring_prod_disable_intr(vr, pr);
				vs_vring_prod_reclaim(vr, pr);
				free = len - vs_vring_prod_inflight(pr);
				break;
			}
			t_en = vs_rdtsc();
			efd_wait(d->intr_fd);
			t_w = vs_rdtsc();
			s->blocks++;
			vs_vring_prod_disable_intr(vr, pr);
			if (d->done)
				break;
			vs_vring_prod_reclaim(vr, pr);
			free = len - vs_vring_prod_inflight(pr);
			if (!free) {
				s->spurious++;	/* a stale interrupt: nothing freed */
				continue;
			}
			if (d->intr_tsc >= t_en && d->intr_tsc <= t_w)
				pcdev_avg_add(&s->s, t_w - d->intr_tsc);
			break;
		}
		break;
	}
out:
	if (free)
		s->wakeups++;
	*now = vs_rdtsc();
	return d->done ? 0 : free;
}

static void *producer(void *arg)
{
	struct dev *d = arg;
	const struct pcdev_config *cfg = d->cfg;
	struct side *s = &d->p;
	struct vs_vring *vr = &d->vr;
	struct vs_vring_prod pr = { 0 };
	unsigned int len = vr->num, free = len, i, n;
	uint64_t seq = 0, prev = 0, t, t1, cpu0;
	bool prev_ok = false;
	uint16_t id;

	s->err = thread_setup(d, s, "vs-producer", cfg->pin_p);
	gate_wait(d);
	if (s->err || d->done)
		return NULL;
	cpu0 = thread_cpu_ns();
	while (!d->done && (!d->cap || seq < d->cap)) {
		if (!free) {
			vs_vring_prod_reclaim(vr, &pr);
			free = len - vs_vring_prod_inflight(&pr);
			if (!free) {
				free = producer_wait(d, s, &pr, &prev);
				prev_ok = true;
				if (!free)
					continue;
			}
		}
		n = free;
		if (d->cap && n > d->cap - seq)
			n = (unsigned int)(d->cap - seq);
		for (i = 0; i < n; i++) {
			t = d->wp_t ? vs_tsc_spin_until(vs_rdtsc() + d->wp_t) : vs_rdtsc();
			/* Descriptor i always maps buffer i, and C returns
			 * buffers in order: the next free id is avail_idx. */
			id = pr.avail_idx & (len - 1);
			d->items[id].seq = seq;
			d->items[id].tsc_produced = t;
			vs_vring_prod_publish(vr, &pr, id);
			pcdev_trace_add(&s->trace, PCDEV_EV_PUBLISH, t, seq);
			seq++;
			if (prev_ok)
				pcdev_avg_add(&s->w, t - prev);
			prev = t;
			prev_ok = true;
			if (d->kick_on && vs_vring_prod_kick_needed(vr, &pr)) {
				d->kick_tsc = t = vs_rdtsc();
				efd_signal(d->kick_fd);
				t1 = vs_rdtsc();
				pcdev_avg_add(&s->n, t1 - t);
				store_relaxed(&s->notifies, s->notifies + 1);
				pcdev_trace_add(&s->trace, PCDEV_EV_KICK, t1, seq);
				/* Np is not part of the next item's Wp. */
				prev = t1;
			}
		}
		free -= n;
		store_relaxed(&s->items, seq);
		/* Keep used_event parked behind us (it is relative). */
		if (d->intr_on)
			vs_vring_prod_disable_intr(vr, &pr);
	}
	/* A consumer waiting for kp > 1 items must see the last few. */
	if (d->kick_on)
		efd_signal(d->kick_fd);
	s->cpu_ns = thread_cpu_ns() - cpu0;
	s->tsc_end = vs_rdtsc();
	return NULL;
}

/*
 * C found the ring empty: wait as its mode says. Returns the number of
 * pending items (0 when stopping) and updates *now.
 */
static unsigned int consumer_wait(struct dev *d, struct side *s,
				  struct vs_vring_cons *cs, uint64_t *now)
{
	const struct pcdev_config *cfg = d->cfg;
	struct vs_vring *vr = &d->vr;
	unsigned int pending = 0;
	uint64_t t_en, t_w, deadline;

	pcdev_trace_add(&s->trace, PCDEV_EV_C_WAIT, vs_rdtsc(), cs->last_avail);
	switch (cfg->c_mode) {
	case PCDEV_POLL:
		while (!d->done && !(pending = vs_vring_cons_pending(vr, cs)))
			vs_cpu_relax();
		break;
	case PCDEV_SLEEP:
		while (!d->done) {
			side_sleep(s, &d->yc_ts);
			if ((pending = vs_vring_cons_pending(vr, cs)))
				break;
		}
		break;
	case PCDEV_BUSYLOOP:
		deadline = vs_rdtsc() + d->busy_t;
		do {
			if ((pending = vs_vring_cons_pending(vr, cs)))
				goto out;
			vs_cpu_relax();
		} while (!d->done && vs_rdtsc() < deadline);
		/* fall through: block */
	case PCDEV_NOTIFY:
		while (!d->done) {
			pending = vs_vring_cons_enable_kick(vr, cs, cfg->kp);
			if (pending) {	/* the double check found items */
				vs_vring_cons_disable_kick(vr, cs);
				break;
			}
			t_en = vs_rdtsc();
			efd_wait(d->kick_fd);
			t_w = vs_rdtsc();
			s->blocks++;
			vs_vring_cons_disable_kick(vr, cs);
			if (d->done)
				break;
			pending = vs_vring_cons_pending(vr, cs);
			if (!pending) {
				s->spurious++;	/* a stale kick: queue empty */
				continue;
			}
			if (d->kick_tsc >= t_en && d->kick_tsc <= t_w)
				pcdev_avg_add(&s->s, t_w - d->kick_tsc);
			break;
		}
		break;
	}
out:
	if (pending)
		s->wakeups++;
	*now = vs_rdtsc();
	return d->done ? 0 : pending;
}

static void *consumer(void *arg)
{
	struct dev *d = arg;
	const struct pcdev_config *cfg = d->cfg;
	struct side *s = &d->c;
	struct vs_vring *vr = &d->vr;
	struct vs_vring_cons cs = { 0 };
	struct pcdev_hist *hist = d->hist;
	uint64_t seq = 0, prev = 0, t, t1, stamp, cpu0;
	unsigned int pending, i;
	bool prev_ok = false;
	uint16_t id;

	s->err = thread_setup(d, s, "vs-consumer", cfg->pin_c);
	gate_wait(d);
	if (s->err || d->done)
		return NULL;
	cpu0 = thread_cpu_ns();
	while (!d->done) {
		pending = vs_vring_cons_pending(vr, &cs);
		if (!pending) {
			pending = consumer_wait(d, s, &cs, &prev);
			prev_ok = true;
			if (!pending)
				continue;
		}
		for (i = 0; i < pending && !d->done; i++) {
			id = vs_vring_cons_pop(vr, &cs);
			stamp = d->items[id].tsc_produced;
			if (s->trace.rec)
				pcdev_trace_add(&s->trace, PCDEV_EV_SEE, vs_rdtsc(), seq);
			t = d->wc_t ? vs_tsc_spin_until(vs_rdtsc() + d->wc_t) : vs_rdtsc();
			/* Item latency: P's stamp to the end of C's work. */
			pcdev_hist_add(hist, t > stamp ? t - stamp : 0);
			if (prev_ok)
				pcdev_avg_add(&s->w, t - prev);
			prev = t;
			prev_ok = true;
			vs_vring_cons_push(vr, &cs, id, sizeof(struct vs_item));
			seq++;
			if (d->intr_on && vs_vring_cons_intr_needed(vr, &cs)) {
				d->intr_tsc = t = vs_rdtsc();
				efd_signal(d->intr_fd);
				t1 = vs_rdtsc();
				pcdev_avg_add(&s->n, t1 - t);
				store_relaxed(&s->notifies, s->notifies + 1);
				pcdev_trace_add(&s->trace, PCDEV_EV_INTR, t1, seq);
				prev = t1;
			}
		}
		store_relaxed(&s->items, seq);
		if (d->cap && seq >= d->cap) {
			s->tsc_end = vs_rdtsc();
			sem_post(&d->c_finished);
			break;
		}
		if (d->kick_on)
			vs_vring_cons_disable_kick(vr, &cs);
	}
	s->cpu_ns = thread_cpu_ns() - cpu0;
	if (!s->tsc_end)
		s->tsc_end = vs_rdtsc();
	return NULL;
}

static int dev_init(struct dev *d, const struct pcdev_config *cfg)
{
	unsigned int len = cfg->len, i;
	struct vs_vring_prod pr = { 0 };
	struct vs_vring_cons cs = { 0 };
	size_t items_len = (size_t)len * sizeof(struct vs_item);
	int err;

	d->cfg = cfg;
	d->kick_fd = d->intr_fd = -1;
	d->ring_len = vs_vring_bytes(len) + items_len;
	d->ring_len = (d->ring_len + 4095) & ~(size_t)4095;
	d->ring_mem = mmap(NULL, d->ring_len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (d->ring_mem == MAP_FAILED) {
		d->ring_mem = NULL;
		return -errno;
	}
	vs_vring_init(&d->vr, d->ring_mem, len);
	d->items = (struct vs_item *)((char *)d->ring_mem +
		    vs_vring_align_up(vs_vring_bytes(len), 64));
	for (i = 0; i < len; i++) {
		d->vr.desc[i].addr = (uint64_t)(uintptr_t)&d->items[i];
		d->vr.desc[i].len = sizeof(struct vs_item);
	}
	/* Neither side wants notifications until it decides to wait. */
	vs_vring_cons_disable_kick(&d->vr, &cs);
	vs_vring_prod_disable_intr(&d->vr, &pr);
	d->hist = calloc(1, sizeof(*d->hist));
	if (!d->hist)
		return -ENOMEM;
	d->kick_fd = eventfd(0, EFD_CLOEXEC);
	d->intr_fd = eventfd(0, EFD_CLOEXEC);
	if (d->kick_fd < 0 || d->intr_fd < 0)
		return -errno;
	if (cfg->trace_path) {
		err = pcdev_trace_alloc(&d->p.trace, PCDEV_TRACE_ORDER);
		if (!err)
			err = pcdev_trace_alloc(&d->c.trace, PCDEV_TRACE_ORDER);
		if (err)
			return err;
	}
	d->wp_t = vs_ns_to_tsc(cfg->wp_ns);
	d->wc_t = vs_ns_to_tsc(cfg->wc_ns);
	d->busy_t = vs_ns_to_tsc(cfg->busyloop_ns);
	d->yp_ts = ns_to_ts(cfg->yp_ns);
	d->yc_ts = ns_to_ts(cfg->yc_ns);
	d->cap = cfg->items;
	d->kick_on = cfg->c_mode == PCDEV_NOTIFY || cfg->c_mode == PCDEV_BUSYLOOP;
	d->intr_on = cfg->p_mode == PCDEV_NOTIFY || cfg->p_mode == PCDEV_BUSYLOOP;
	if (sem_init(&d->c_finished, 0, 0))
		return -errno;
	pthread_mutex_init(&d->gate_lock, NULL);
	pthread_cond_init(&d->gate_cond, NULL);
	return 0;
}

static void dev_fini(struct dev *d)
{
	pcdev_trace_free(&d->p.trace);
	pcdev_trace_free(&d->c.trace);
	if (d->kick_fd >= 0)
		close(d->kick_fd);
	if (d->intr_fd >= 0)
		close(d->intr_fd);
	free(d->hist);
	if (d->ring_mem)
		munmap(d->ring_mem, d->ring_len);
}

static void publish(struct dev *d)
{
	struct pcdev_counters c = {
		.items_produced = load_relaxed(&d->p.items),
		.items_consumed = load_relaxed(&d->c.items),
		.kicks = load_relaxed(&d->p.notifies),
		.interrupts = load_relaxed(&d->c.notifies),
		.producer_tid = d->p.tid,
		.consumer_tid = d->c.tid,
	};

	/* Observers are optional: a failed write must not end the run. */
	pcdev_stats_publish(d->cfg, &c);
}

/* Wait up to the next 100 ms tick, the deadline, C finishing or *stop. */
static uint64_t run_main_loop(struct dev *d, uint64_t tsc_start)
{
	const struct pcdev_config *cfg = d->cfg;
	uint64_t deadline = cfg->duration_ns > 0 ?
		tsc_start + vs_ns_to_tsc(cfg->duration_ns) : UINT64_MAX;
	uint64_t tick = vs_ns_to_tsc(100e6), now, wait;
	struct timespec ts;
	double wait_ns;

	for (;;) {
		if (cfg->publish)
			publish(d);
		now = vs_rdtsc();
		if (now >= deadline || (cfg->stop && *cfg->stop))
			return now;
		wait = deadline - now < tick ? deadline - now : tick;
		wait_ns = vs_tsc_to_ns(wait);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(wait_ns / 1e9);
		ts.tv_nsec += (long)fmod(wait_ns, 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!sem_clockwait(&d->c_finished, CLOCK_MONOTONIC, &ts))
			return d->c.tsc_end;
	}
}

static void fill_results(struct dev *d, struct pcdev_results *res,
			 uint64_t tsc_start, uint64_t tsc_end)
{
	double tpn = vs_tsc_per_ns();
	struct pcdev_measured *m = &res->measured;
	struct pcdev_latency *l = &res->latency;
	struct pcdev_avg yz = {
		.sum = d->p.yz.sum + d->c.yz.sum,
		.n = d->p.yz.n + d->c.yz.n,
	};

	res->items = d->c.items;
	res->elapsed_ns = vs_tsc_to_ns(tsc_end - tsc_start);
	res->cpu_producer_ns = (double)d->p.cpu_ns;
	res->cpu_consumer_ns = (double)d->c.cpu_ns;
	res->kicks = d->p.notifies;
	res->interrupts = d->c.notifies;
	res->spurious_kicks = d->c.spurious;
	res->spurious_interrupts = d->p.spurious;
	res->sleeps_p = d->p.sleeps;
	res->sleeps_c = d->c.sleeps;
	res->blocks_p = d->p.blocks;
	res->blocks_c = d->c.blocks;
	res->c_wakeups = d->c.wakeups;
	m->wp = pcdev_avg_ns(&d->p.w, tpn);
	m->wc = pcdev_avg_ns(&d->c.w, tpn);
	m->np = pcdev_avg_ns(&d->p.n, tpn);
	m->nc = pcdev_avg_ns(&d->c.n, tpn);
	m->sp = pcdev_avg_ns(&d->p.s, tpn);
	m->sc = pcdev_avg_ns(&d->c.s, tpn);
	m->yp = pcdev_avg_ns(&d->p.y, tpn);
	m->yc = pcdev_avg_ns(&d->c.y, tpn);
	m->yz = pcdev_avg_ns(&yz, 1.0);
	if (d->hist->count) {
		l->p50 = pcdev_hist_quantile(d->hist, 0.50) / tpn;
		l->p95 = pcdev_hist_quantile(d->hist, 0.95) / tpn;
		l->p98 = pcdev_hist_quantile(d->hist, 0.98) / tpn;
		l->p99 = pcdev_hist_quantile(d->hist, 0.99) / tpn;
		l->max = (double)d->hist->max / tpn;
	} else {
		l->p50 = l->p95 = l->p98 = l->p99 = l->max = NAN;
	}
	if (d->cfg->timerslack_ns >= 0 && d->cfg->timerslack_ns < 1)
		snprintf(res->note, sizeof(res->note),
			 "timer slack 1ns used for 0 (0 restores the default)");
}

int pcdev_thread_run(const struct pcdev_config *cfg, struct pcdev_results *res)
{
	struct dev *d;
	pthread_t pt, ct;
	sigset_t block, old;
	uint64_t tsc_start, tsc_end;
	FILE *trace = NULL;
	int err;

	vs_tsc_per_ns();	/* calibrate before anything is timed */
	d = aligned_alloc(64, sizeof(*d));
	if (!d)
		return -ENOMEM;
	memset(d, 0, sizeof(*d));
	err = dev_init(d, cfg);
	if (err)
		goto out_fini;
	if (cfg->trace_path) {
		trace = fopen(cfg->trace_path, "we");
		if (!trace) {
			err = -errno;
			goto out_fini;
		}
	}
	/* Signals go to the main thread, which turns *stop into a clean end. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	err = -pthread_create(&pt, NULL, producer, d);
	if (!err) {
		err = -pthread_create(&ct, NULL, consumer, d);
		if (err) {
			/* Let P through the gate straight to its exit. */
			d->done = 1;
			gate_open(d, 1);
			pthread_join(pt, NULL);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto out_trace;
	gate_open(d, 2);
	tsc_start = vs_rdtsc();
	err = d->p.err ? d->p.err : d->c.err;
	tsc_end = err ? tsc_start : run_main_loop(d, tsc_start);
	d->done = 1;
	efd_signal(d->kick_fd);
	efd_signal(d->intr_fd);
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
	if (cfg->publish)
		pcdev_stats_unpublish();
	if (err)
		goto out_trace;
	fill_results(d, res, tsc_start, tsc_end);
	if (trace) {
		err = pcdev_trace_write(trace, &d->p.trace, &d->c.trace, tsc_start,
					vs_tsc_per_ns());
		if (fclose(trace) && !err)
			err = -EIO;
		trace = NULL;
	}
out_trace:
	if (trace)
		fclose(trace);
	if (err && cfg->trace_path)
		unlink(cfg->trace_path);
out_fini:
	dev_fini(d);
	free(d);
	return err;
}
