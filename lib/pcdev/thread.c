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
#include <sched.h>
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

#include "pcdev/ctl.h"
#include "pcdev/pcdev.h"
#include "pcdev/ring.h"
#include "pcdev/stats.h"
#include "pcdev/trace.h"
#include "pcdev/tsc.h"

/* One side's state: written by its own thread only (counters that the
 * main thread publishes are stored with relaxed atomics). */
struct side {
	uint64_t items;		/* produced (P) or consumed (C) */
	uint64_t notifies;	/* kicks sent (P) or interrupts sent (C) */
	uint64_t wakeups, spurious, sleeps, blocks;
	struct pcdev_avg w, n, y, s, yz;	/* ticks; yz in CPU ns */
	uint64_t cpu_ns;
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
	uint64_t tsc_start, deadline, tsc_end;	/* deadline: UINT64_MAX if none */
	volatile sig_atomic_t *stop;
	struct timespec yp_ts, yc_ts;
	/* Does C (P) wait for notifications? kick_on changes when the control
	 * file switches C's mode: C writes it, P reads it once per batch. */
	bool kick_on, intr_on;
	/* C's mode, sleep and busy-loop budget: the configuration's at start,
	 * then the control file's; read and written by C only. */
	enum pcdev_mode c_mode;
	uint64_t c_busy_t;
	struct pcdev_ctl_state ctl;
	struct pcdev_hist *hist;	/* C's item latencies, in ticks */
	unsigned int sample;	/* 1 item in `sample` is stamped (power of 2) */
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

static void gate_wait_ready(struct dev *d, int parties)
{
	pthread_mutex_lock(&d->gate_lock);
	while (d->ready < parties)
		pthread_cond_wait(&d->gate_cond, &d->gate_lock);
	pthread_mutex_unlock(&d->gate_lock);
}

static void gate_open(struct dev *d, int parties)
{
	gate_wait_ready(d, parties);
	pthread_mutex_lock(&d->gate_lock);
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
 * End the run (once): record when, wake whichever side is blocked, and
 * tell the main thread. Called by either side at the deadline, the item
 * cap or a stop request, or by the main thread.
 */
static void dev_finish(struct dev *d, uint64_t now)
{
	if (__atomic_exchange_n(&d->done, 1, __ATOMIC_SEQ_CST))
		return;
	d->tsc_end = now < d->deadline ? now : d->deadline;
	efd_signal(d->kick_fd);
	efd_signal(d->intr_fd);
	sem_post(&d->c_finished);
}

/* The sides watch the clock themselves: with real-time sides spinning on
 * every CPU the main thread may not get to run in time. */
static inline bool dev_over(struct dev *d, uint64_t now)
{
	if (d->done)
		return true;
	if (now >= d->deadline || (d->stop && *d->stop)) {
		dev_finish(d, now);
		return true;
	}
	return false;
}

/*
 * Become real-time only once through the start gate: a real-time side
 * waiting on the gate's mutex behind a preempted ordinary main thread
 * could otherwise wait a whole RT throttling period.
 */
static bool thread_go_rt(struct dev *d, struct side *s)
{
	struct sched_param sp = { .sched_priority = d->cfg->rt_priority };
	int err;

	if (d->cfg->rt_priority <= 0)
		return true;
	err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (!err)
		return true;
	s->err = -err;
	dev_finish(d, vs_rdtsc());
	return false;
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
		while (!dev_over(d, vs_rdtsc())) {
			vs_vring_prod_reclaim(vr, pr);
			free = len - vs_vring_prod_inflight(pr);
			if (free)
				break;
			vs_cpu_relax();
		}
		break;
	case PCDEV_SLEEP:
		while (!dev_over(d, vs_rdtsc())) {
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
			t_w = vs_rdtsc();
		} while (!dev_over(d, t_w) && t_w < deadline);
		/* fall through: block */
	case PCDEV_NOTIFY:
		while (!dev_over(d, vs_rdtsc())) {
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

/* How far ahead P warms the buffers it is about to fill. */
#define PREFETCH_AHEAD	8

/*
 * With no emulated work (Wp = Wc = 0) the TSC read is most of an item's
 * cost on each side (about 10 ns here, against a few ns for the ring
 * itself), so P stamps only the items whose sequence number is a multiple
 * of LATENCY_SAMPLE and C measures the latency (and W) of those; and P
 * publishes avail->idx once per PUBLISH_GROUP items, as a driver does under
 * xmit_more, so that C does not pull the index line over item by item. The
 * other buffers carry nothing and are not touched. Any Wp or Wc, or an
 * event trace, stamps and publishes every item.
 */
#define LATENCY_SAMPLE	64
#define PUBLISH_GROUP	16	/* divides LATENCY_SAMPLE */

/* Kick C after a group; Np is not part of the next items' Wp. */
static void producer_kick(struct dev *d, struct side *s, uint64_t *prev,
			  uint64_t *prev_seq, uint64_t seq)
{
	uint64_t t, t1;

	d->kick_tsc = t = vs_rdtsc();
	efd_signal(d->kick_fd);
	t1 = vs_rdtsc();
	pcdev_avg_add(&s->n, t1 - t);
	store_relaxed(&s->notifies, s->notifies + 1);
	*prev = t1;
	*prev_seq = seq - 1;
}

/*
 * P's data path when sampling: fill up to n slots. *seq moves on, *prev is
 * the TSC read last and *prev_seq the item it ends (seq - 1 after a wait),
 * W sums go to *w_sum / *w_n. Returns how many items were published.
 */
static unsigned int producer_fill_sampled(struct dev *d, struct side *s,
					  struct vs_vring *vr,
					  struct vs_vring_prod *pr,
					  unsigned int n, uint64_t *seq_io,
					  uint64_t *prev, uint64_t *prev_seq,
					  bool *prev_ok, uint64_t *w_sum,
					  uint64_t *w_n)
{
	struct vs_item *items = d->items, *it;
	const unsigned int mask = vr->num - 1, sample = d->sample;
	const uint64_t deadline = d->deadline;
	const bool kick_on = d->kick_on;
	uint64_t seq = *seq_io, t;
	unsigned int i = 0, g;
	bool stop = false;

	while (i < n) {
		/* Up to the end of seq's group. */
		g = PUBLISH_GROUP - (unsigned int)(seq & (PUBLISH_GROUP - 1));
		if (g > n - i)
			g = n - i;
		if (!(seq & (sample - 1))) {
			it = &items[pr->avail_idx & mask];
			__builtin_prefetch(&items[(pr->avail_idx + sample) & mask], 1);
			t = vs_rdtsc();
			it->seq = seq;
			it->tsc_produced = t;
			if (*prev_ok) {
				*w_sum += t - *prev;
				*w_n += seq - *prev_seq;
			}
			*prev = t;
			*prev_seq = seq;
			*prev_ok = true;
			stop = t >= deadline || d->done;
		}
		if (g == PUBLISH_GROUP)	/* constant: vectorized */
			vs_vring_prod_add_seq(vr, pr, PUBLISH_GROUP);
		else
			vs_vring_prod_add_seq(vr, pr, g);
		seq += g;
		i += g;
		if (stop)
			break;
		if (!(seq & (PUBLISH_GROUP - 1)) && i < n) {
			vs_vring_prod_flush(vr, pr);
			if (kick_on && vs_vring_prod_kick_needed(vr, pr))
				producer_kick(d, s, prev, prev_seq, seq);
		}
	}
	vs_vring_prod_flush(vr, pr);
	if (kick_on && vs_vring_prod_kick_needed(vr, pr))
		producer_kick(d, s, prev, prev_seq, seq);
	*seq_io = seq;
	return i;
}

static void *producer(void *arg)
{
	struct dev *d = arg;
	const struct pcdev_config *cfg = d->cfg;
	struct side *s = &d->p;
	/* A private copy of the ring pointers stays in registers. */
	struct vs_vring ring = d->vr, *vr = &ring;
	struct vs_vring_prod pr = { 0 };
	unsigned int len = vr->num, mask = len - 1, free = len, i, n;
	uint64_t seq = 0, prev = 0, t, t1, cpu0, w_sum = 0, w_n = 0;
	uint64_t prev_seq = 0;
	/* Loop invariants in locals: every buffer store could alias d. */
	struct vs_item *items = d->items;
	const uint64_t wp_t = d->wp_t, deadline = d->deadline;
	bool kick_on = d->kick_on, k;
	const unsigned int sample = d->sample;
	bool prev_ok = false;
	uint16_t id;

	s->err = thread_setup(d, s, "vs-producer", cfg->pin_p);
	gate_wait(d);
	if (s->err || d->done || !thread_go_rt(d, s))
		return NULL;
	cpu0 = thread_cpu_ns();
	while (!d->done && (!d->cap || seq < d->cap)) {
		/* C switched to waiting for kicks (control file): one kick
		 * now, since items published meanwhile were never kicked. */
		k = __atomic_load_n(&d->kick_on, __ATOMIC_ACQUIRE);
		if (k && !kick_on)
			efd_signal(d->kick_fd);
		kick_on = k;
		if (!free) {
			vs_vring_prod_reclaim(vr, &pr);
			free = len - vs_vring_prod_inflight(&pr);
			if (!free) {
				free = producer_wait(d, s, &pr, &prev);
				prev_ok = true;
				prev_seq = seq - 1;	/* W from here */
				if (!free)
					continue;
			}
		}
		n = free;
		if (d->cap && n > d->cap - seq)
			n = (unsigned int)(d->cap - seq);
		i = 0;
		if (sample > 1)
			i = producer_fill_sampled(d, s, vr, &pr, n, &seq, &prev,
						  &prev_seq, &prev_ok, &w_sum,
						  &w_n);
		for (; sample == 1 && i < n; i++) {
			/* Descriptor i always maps buffer i, and C returns
			 * buffers in order: the next free id is avail_idx. */
			id = pr.avail_idx & mask;
			__builtin_prefetch(&items[(id + PREFETCH_AHEAD) & mask], 1);
			t = wp_t ? vs_tsc_spin_until(vs_rdtsc() + wp_t) : vs_rdtsc();
			items[id].seq = seq;
			items[id].tsc_produced = t;
			vs_vring_prod_publish(vr, &pr, id);
			if (s->trace.rec)
				pcdev_trace_add(&s->trace, PCDEV_EV_PUBLISH, t, seq);
			seq++;
			/* Locals: the buffer stores could alias s->w. */
			if (prev_ok) {
				w_sum += t - prev;
				w_n++;
			}
			prev = t;
			prev_ok = true;
			if (kick_on && vs_vring_prod_kick_needed(vr, &pr)) {
				d->kick_tsc = t = vs_rdtsc();
				efd_signal(d->kick_fd);
				t1 = vs_rdtsc();
				pcdev_avg_add(&s->n, t1 - t);
				store_relaxed(&s->notifies, s->notifies + 1);
				pcdev_trace_add(&s->trace, PCDEV_EV_KICK, t1, seq);
				/* Np is not part of the next item's Wp. */
				prev = t1;
			}
			if (t >= deadline || d->done) {
				i++;
				break;
			}
		}
		free -= i;
		store_relaxed(&s->items, seq);
		if (dev_over(d, prev))
			break;
		/* Keep used_event parked behind us (it is relative). */
		if (d->intr_on)
			vs_vring_prod_disable_intr(vr, &pr);
	}
	/* A consumer waiting for kp > 1 items must see the last few. */
	if (__atomic_load_n(&d->kick_on, __ATOMIC_ACQUIRE))
		efd_signal(d->kick_fd);
	s->w.sum += w_sum;
	s->w.n += w_n;
	s->cpu_ns = thread_cpu_ns() - cpu0;
	return NULL;
}

/*
 * The control file changed: take C's new mode, sleep and busy-loop budget.
 * Called by C between items, so nothing else reads them meanwhile.
 */
static void consumer_apply_ctl(struct dev *d, struct vs_vring *vr,
			       struct vs_vring_cons *cs)
{
	const struct vs_pcdev_ctl *c = &d->ctl.cur;
	bool kick_on;

	d->c_mode = pcdev_ctl_consumer_mode(c);
	if (c->consumer_sleep_ns)
		d->yc_ts = ns_to_ts((double)c->consumer_sleep_ns);
	if (c->consumer_busyloop_ns && c->consumer_busyloop_ns < PCDEV_CTL_POLL_NS)
		d->c_busy_t = vs_ns_to_tsc((double)c->consumer_busyloop_ns);
	kick_on = d->c_mode == PCDEV_NOTIFY || d->c_mode == PCDEV_BUSYLOOP;
	if (!kick_on)
		vs_vring_cons_disable_kick(vr, cs);
	__atomic_store_n(&d->kick_on, kick_on, __ATOMIC_RELEASE);
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
	if (d->ctl.on && pcdev_ctl_poll(&d->ctl, vs_rdtsc()))
		consumer_apply_ctl(d, vr, cs);
	switch (d->c_mode) {
	case PCDEV_POLL:
		while (!(pending = vs_vring_cons_pending(vr, cs)) &&
		       !dev_over(d, vs_rdtsc()))
			vs_cpu_relax();
		break;
	case PCDEV_SLEEP:
		while (!dev_over(d, vs_rdtsc())) {
			side_sleep(s, &d->yc_ts);
			if ((pending = vs_vring_cons_pending(vr, cs)))
				break;
		}
		break;
	case PCDEV_BUSYLOOP:
		deadline = vs_rdtsc() + d->c_busy_t;
		do {
			if ((pending = vs_vring_cons_pending(vr, cs)))
				goto out;
			vs_cpu_relax();
			t_w = vs_rdtsc();
		} while (!dev_over(d, t_w) && t_w < deadline);
		/* fall through: block */
	case PCDEV_NOTIFY:
		while (!dev_over(d, vs_rdtsc())) {
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

/* C notifies P (Nc); returns the TSC after, where C's next Wc starts. */
static uint64_t consumer_interrupt(struct dev *d, struct side *s, uint64_t seq)
{
	uint64_t t, t1;

	d->intr_tsc = t = vs_rdtsc();
	efd_signal(d->intr_fd);
	t1 = vs_rdtsc();
	pcdev_avg_add(&s->n, t1 - t);
	store_relaxed(&s->notifies, s->notifies + 1);
	pcdev_trace_add(&s->trace, PCDEV_EV_INTR, t1, seq);
	return t1;
}

/*
 * C pops up to this many ids at once and prefetches their buffers, as
 * vhost fetches descriptors in batches. With no emulated work (Wc = 0) it
 * also returns them with one used->idx store per batch (vhost_add_used_n);
 * with Wc > 0 each buffer goes back when its Wc ends, as the model has it.
 */
#define POP_BATCH	32
/* Wp = Wc = 0: used->idx once per this many items, as vhost-net returns
 * up to VHOST_NET_BATCH (64) buffers at once. */
#define USED_BATCH	64

static void *consumer(void *arg)
{
	struct dev *d = arg;
	const struct pcdev_config *cfg = d->cfg;
	struct side *s = &d->c;
	struct vs_vring ring = d->vr, *vr = &ring;
	struct vs_vring_cons cs = { 0 };
	struct pcdev_hist *hist = d->hist;
	uint64_t seq = 0, prev = 0, t, stamp, cpu0, lat;
	uint64_t w_sum = 0, w_n = 0, lat_max = 0, lat_n = 0, prev_seq = 0;
	unsigned int pending, i, n, filled;
	const unsigned int smask = d->sample - 1;
	bool sampled;
	uint16_t id;
	uint16_t ids[POP_BATCH];
	bool stopping;
	/* Loop invariants in locals: every ring store could alias d. */
	const struct vs_item *items = d->items;
	const uint64_t wc_t = d->wc_t, deadline = d->deadline;
	const bool intr_on = d->intr_on, tracing = s->trace.rec != NULL;
	bool prev_ok = false;

	s->err = thread_setup(d, s, "vs-consumer", cfg->pin_c);
	gate_wait(d);
	if (s->err || d->done || !thread_go_rt(d, s))
		return NULL;
	cpu0 = thread_cpu_ns();
	while (!d->done) {
		pending = vs_vring_cons_pending(vr, &cs);
		if (!pending) {
			pending = consumer_wait(d, s, &cs, &prev);
			prev_ok = true;
			prev_seq = seq - 1;	/* W from here */
			if (!pending)
				continue;
		}
		if (d->cap && pending > d->cap - seq)
			pending = (unsigned int)(d->cap - seq);
		filled = 0;
		stopping = false;
		/* Sampling (Wp = Wc = 0): whole groups at a time, a stamp
		 * every LATENCY_SAMPLE items, used->idx once per USED_BATCH
		 * or when the ring ran empty. */
		while (smask && pending) {
			n = PUBLISH_GROUP - (unsigned int)(seq & (PUBLISH_GROUP - 1));
			if (n > pending)
				n = pending;
			sampled = !(seq & smask);
			/* A whole group: a constant count the compiler
			 * unrolls and vectorizes. */
			if (n == PUBLISH_GROUP)
				id = vs_vring_cons_pop_fill_n(vr, &cs, PUBLISH_GROUP,
							      sizeof(struct vs_item),
							      filled);
			else
				id = vs_vring_cons_pop_fill_n(vr, &cs, n,
							      sizeof(struct vs_item),
							      filled);
			/* The next sample's stamp, usually written by then. */
			if (sampled)
				__builtin_prefetch(&items[(id + smask + 1) &
							  (vr->num - 1)]);
			filled += n;
			if (sampled) {
				stamp = items[id].tsc_produced;
				t = vs_rdtsc();
				lat = t > stamp ? t - stamp : 0;
				hist->bucket[pcdev_hist_index(lat)]++;
				lat_n++;
				lat_max = lat > lat_max ? lat : lat_max;
				if (prev_ok) {
					w_sum += t - prev;
					w_n += seq - prev_seq;
				}
				prev = t;
				prev_seq = seq;
				prev_ok = true;
				stopping = t >= deadline || d->done;
			}
			seq += n;
			pending -= n;
			if (filled >= USED_BATCH || !pending || stopping) {
				vs_vring_cons_flush(vr, &cs, filled);
				filled = 0;
				if (intr_on && vs_vring_cons_intr_needed(vr, &cs)) {
					prev = consumer_interrupt(d, s, seq);
					prev_seq = seq - 1;
				}
			}
			if (stopping)
				goto stop;
		}
		while (pending) {
			n = pending < POP_BATCH ? pending : POP_BATCH;
			for (i = 0; i < n; i++) {
				ids[i] = vs_vring_cons_pop(vr, &cs);
				if (!((seq + i) & smask))
					__builtin_prefetch(&items[ids[i]]);
				if (tracing)
					pcdev_trace_add(&s->trace, PCDEV_EV_SEE,
							vs_rdtsc(), seq + i);
			}
			pending -= n;
			filled = 0;
			stopping = false;
			for (i = 0; i < n; i++) {
				if (!(seq & smask)) {
					stamp = items[ids[i]].tsc_produced;
					t = wc_t ? vs_tsc_spin_until(vs_rdtsc() + wc_t) :
						   vs_rdtsc();
					/* Item latency: P's stamp to the end of C's
					 * work; count and max stay in registers. */
					lat = t > stamp ? t - stamp : 0;
					hist->bucket[pcdev_hist_index(lat)]++;
					lat_n++;
					lat_max = lat > lat_max ? lat : lat_max;
					if (prev_ok) {
						w_sum += t - prev;
						w_n += seq - prev_seq;
					}
					prev = t;
					prev_seq = seq;
					prev_ok = true;
					stopping = t >= deadline || d->done;
				}
				seq++;
				if (!wc_t) {
					vs_vring_cons_fill(vr, &cs, ids[i],
							   sizeof(struct vs_item), filled++);
				} else {
					vs_vring_cons_push(vr, &cs, ids[i],
							   sizeof(struct vs_item));
					if (intr_on && vs_vring_cons_intr_needed(vr, &cs)) {
						prev = consumer_interrupt(d, s, seq);
						prev_seq = seq - 1;
					}
				}
				if (stopping)
					break;
			}
			if (filled) {
				vs_vring_cons_flush(vr, &cs, filled);
				if (intr_on && vs_vring_cons_intr_needed(vr, &cs)) {
					prev = consumer_interrupt(d, s, seq);
					prev_seq = seq - 1;
				}
			}
			if (stopping)
				goto stop;
		}
		store_relaxed(&s->items, seq);
		if (d->cap && seq >= d->cap) {
			dev_finish(d, prev);
			break;
		}
		if (dev_over(d, prev))
			break;
		if (d->c_mode == PCDEV_NOTIFY || d->c_mode == PCDEV_BUSYLOOP)
			vs_vring_cons_disable_kick(vr, &cs);
	}
	goto out;
stop:
	store_relaxed(&s->items, seq);
	dev_over(d, prev);
out:
	hist->count += lat_n;
	hist->max = lat_max > hist->max ? lat_max : hist->max;
	s->w.sum += w_sum;
	s->w.n += w_n;
	s->cpu_ns = thread_cpu_ns() - cpu0;
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
	d->sample = cfg->wp_ns <= 0 && cfg->wc_ns <= 0 && !cfg->trace_path ?
		    LATENCY_SAMPLE : 1;
	d->wp_t = vs_ns_to_tsc(cfg->wp_ns);
	d->wc_t = vs_ns_to_tsc(cfg->wc_ns);
	d->busy_t = vs_ns_to_tsc(cfg->busyloop_ns);
	d->yp_ts = ns_to_ts(cfg->yp_ns);
	d->yc_ts = ns_to_ts(cfg->yc_ns);
	d->cap = cfg->items;
	d->stop = cfg->stop;
	d->deadline = UINT64_MAX;
	d->kick_on = cfg->c_mode == PCDEV_NOTIFY || cfg->c_mode == PCDEV_BUSYLOOP;
	d->c_mode = cfg->c_mode;
	d->c_busy_t = d->busy_t;
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
	/* Consumed first: read later, produced is never the smaller. */
	uint64_t consumed = load_relaxed(&d->c.items);
	struct pcdev_counters c = {
		.items_produced = load_relaxed(&d->p.items),
		.items_consumed = consumed,
		.kicks = load_relaxed(&d->p.notifies),
		.interrupts = load_relaxed(&d->c.notifies),
		.producer_tid = d->p.tid,
		.consumer_tid = d->c.tid,
		.hist = d->hist,
		.tsc_per_ns = vs_tsc_per_ns(),
	};

	/* Observers are optional: a failed write must not end the run. */
	pcdev_stats_publish(d->cfg, &c);
}

/* Publish every 100 ms until a side ends the run; end it ourselves at
 * the deadline or on *stop should the sides be blocked. */
static void run_main_loop(struct dev *d)
{
	const struct pcdev_config *cfg = d->cfg;
	struct timespec ts;

	for (;;) {
		if (cfg->publish)
			publish(d);
		if (dev_over(d, vs_rdtsc()))
			return;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 100000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!sem_clockwait(&d->c_finished, CLOCK_MONOTONIC, &ts))
			return;
	}
}

/* Wake-up delay minus the notifier's own cost; NaN stays NaN. */
static double startup_ns(double wake_ns, double notify_ns)
{
	double v;

	if (isnan(wake_ns))
		return NAN;
	v = wake_ns - (isnan(notify_ns) ? 0 : notify_ns);
	return v > 0 ? v : 0;
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
	res->latency_sample = d->sample;
	if (d->sample > 1)
		snprintf(res->note, sizeof(res->note),
			 "Wp = Wc = 0: latency and W sampled on 1 item in %u",
			 d->sample);
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
	res->p_wakeups = d->p.wakeups;
	m->wp = pcdev_avg_ns(&d->p.w, tpn);
	m->wc = pcdev_avg_ns(&d->c.w, tpn);
	m->np = pcdev_avg_ns(&d->p.n, tpn);
	m->nc = pcdev_avg_ns(&d->c.n, tpn);
	/*
	 * lib/model starts Sc (Sp) at the end of the notifier's Np (Nc); the
	 * samples run from the notifier's TSC before its eventfd write to the
	 * waiter running again, so take the notification cost back out.
	 */
	m->sp = startup_ns(pcdev_avg_ns(&d->p.s, tpn), m->nc);
	m->sc = startup_ns(pcdev_avg_ns(&d->c.s, tpn), m->np);
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
	if (d->cfg->timerslack_ns >= 0 && d->cfg->timerslack_ns < 1) {
		size_t used = strlen(res->note);

		snprintf(res->note + used, sizeof(res->note) - used, "%s%s",
			 used ? "; " : "",
			 "timer slack 1ns used for 0 (0 restores the default)");
	}
	if (d->ctl.changes) {
		size_t used = strlen(res->note);

		snprintf(res->note + used, sizeof(res->note) - used,
			 "%scontrol file changed %u time(s): consumer ended in %s mode",
			 used ? "; " : "", d->ctl.changes, pcdev_mode_name(d->c_mode));
	}
}

int pcdev_thread_run(const struct pcdev_config *cfg, struct pcdev_results *res)
{
	struct dev *d;
	pthread_t pt, ct;
	struct sched_param main_param;
	int main_policy, err;
	bool main_rt = false;
	FILE *trace = NULL;

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
	if (cfg->publish) {
		struct vs_pcdev_ctl init = { 0 };

		/* No control file, no live tuning: the run itself goes on. */
		pcdev_ctl_from_mode(cfg->c_mode, cfg->yc_ns, cfg->busyloop_ns, &init);
		pcdev_ctl_open(&d->ctl, &init);
	}
	/*
	 * SIGINT/SIGTERM may land on any thread: the handler only sets *stop,
	 * which every thread watches.
	 */
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
	if (err)
		goto out_trace;
	/* The clock starts when both sides are set up (named, pinned). */
	gate_wait_ready(d, 2);
	d->tsc_start = vs_rdtsc();
	if (cfg->duration_ns > 0)
		d->deadline = d->tsc_start + vs_ns_to_tsc(cfg->duration_ns);
	gate_open(d, 2);
	err = d->p.err ? d->p.err : d->c.err;
	/*
	 * Real-time sides spinning on every CPU would starve an ordinary
	 * main thread and with it the published counters: it outranks them
	 * (it sleeps but for a file write every 100 ms).
	 */
	if (!err && cfg->rt_priority > 0 &&
	    !pthread_getschedparam(pthread_self(), &main_policy, &main_param)) {
		struct sched_param sp = { .sched_priority = cfg->rt_priority + 1 };

		main_rt = !pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
	if (err)
		dev_finish(d, d->tsc_start);
	else
		run_main_loop(d);
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
	if (main_rt)
		pthread_setschedparam(pthread_self(), main_policy, &main_param);
	/* A side may have failed to go real-time after the gate. */
	if (!err)
		err = d->p.err ? d->p.err : d->c.err;
	if (cfg->publish)
		pcdev_stats_unpublish();
	pcdev_ctl_close(&d->ctl);
	if (err)
		goto out_trace;
	fill_results(d, res, d->tsc_start, d->tsc_end);
	if (trace) {
		err = pcdev_trace_write(trace, &d->p.trace, &d->c.trace,
					d->tsc_start, vs_tsc_per_ns());
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
	pcdev_ctl_close(&d->ctl);
	dev_fini(d);
	free(d);
	return err;
}
