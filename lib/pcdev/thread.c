// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-thread backend of the reference device: P (`vs-producer`, here) and
 * C (`vs-consumer`, consumer.c) share a split virtqueue in process memory
 * and notify each other through two eventfds, as a guest driver and a vhost
 * thread do through ioeventfd and irqfd.
 *
 * Data path rules (bench/ring-ceiling holds us to them): no syscall and no
 * clock read other than the TSC per item; P reclaims used slots only when
 * it believes the ring full; statistics live in per-thread memory.
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
#include <sys/mman.h>
#include <unistd.h>

#include "pcdev/backend.h"
#include "pcdev/consumer.h"
#include "pcdev/ring.h"
#include "pcdev/tsc.h"

struct dev {
	const struct pcdev_config *cfg;
	struct pcdev_run *run;
	struct vs_vring vr;
	void *ring_mem;
	size_t ring_len;
	struct vs_item *items;
	int kick_fd, intr_fd;
	/* Start gate: both sides set up (named, pinned), then go together. */
	struct pcdev_gate gate;
	struct pcdev_pair threads;
	uint64_t wp_t, busy_t, cap;
	struct timespec yp_ts;
	/* Does C (P) wait for notifications? kick_on changes when the control
	 * file switches C's mode: C writes it, P reads it once per batch. */
	bool kick_on, intr_on;
	unsigned int sample;	/* 1 item in `sample` is stamped (power of 2) */
	/* Cross-thread words, each on its own line. */
	alignas(64) volatile uint64_t kick_tsc;	/* P: TSC before a kick */
	alignas(64) volatile uint64_t intr_tsc;	/* C: TSC before an interrupt */
	struct pcdev_side p;
	struct pcdev_consumer c;
};

static void store_relaxed(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/*
 * Become real-time only once through the start gate: a real-time side
 * waiting on the gate's mutex behind a preempted ordinary main thread
 * could otherwise wait a whole RT throttling period.
 */
static bool thread_go_rt(struct dev *d, struct pcdev_side *s)
{
	struct sched_param sp = { .sched_priority = d->cfg->rt_priority };
	int err;

	if (d->cfg->rt_priority <= 0)
		return true;
	err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (!err)
		return true;
	s->err = -err;
	pcdev_run_finish(d->run, vs_rdtsc());
	return false;
}

/*
 * P found no free slot: wait as its mode says. Returns the number of free
 * slots after the wait (0 when stopping), and updates *now.
 */
static unsigned int producer_wait(struct dev *d, struct pcdev_side *s,
				  struct vs_vring_prod *pr, uint64_t *now)
{
	const struct pcdev_config *cfg = d->cfg;
	struct vs_vring *vr = &d->vr;
	unsigned int len = vr->num, free = 0;
	uint64_t t_en, t_w, deadline;

	pcdev_trace_add(&s->trace, PCDEV_EV_P_WAIT, vs_rdtsc(), pr->avail_idx);
	switch (cfg->p_mode) {
	case PCDEV_POLL:
		while (!pcdev_run_over(d->run, vs_rdtsc())) {
			vs_vring_prod_reclaim(vr, pr);
			free = len - vs_vring_prod_inflight(pr);
			if (free)
				break;
			vs_cpu_relax();
		}
		break;
	case PCDEV_SLEEP:
		while (!pcdev_run_over(d->run, vs_rdtsc())) {
			pcdev_side_sleep(s, &d->yp_ts);
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
		} while (!pcdev_run_over(d->run, t_w) && t_w < deadline);
		/* fall through: block */
	case PCDEV_NOTIFY:
		while (!pcdev_run_over(d->run, vs_rdtsc())) {
			/* Double check: ask for an interrupt at kc free slots,
			 * then look again before blocking. */
			if (vs_vring_prod_enable_intr(vr, pr, cfg->kc) >= cfg->kc) {
				vs_vring_prod_disable_intr(vr, pr);
				vs_vring_prod_reclaim(vr, pr);
				free = len - vs_vring_prod_inflight(pr);
				break;
			}
			t_en = vs_rdtsc();
			pcdev_efd_wait(d->intr_fd);
			t_w = vs_rdtsc();
			s->blocks++;
			vs_vring_prod_disable_intr(vr, pr);
			if (d->run->done)
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
	return d->run->done ? 0 : free;
}

/* How far ahead P warms the buffers it is about to fill. */
#define PREFETCH_AHEAD	8

/* Kick C after a group; Np is not part of the next items' Wp. */
static void producer_kick(struct dev *d, struct pcdev_side *s, uint64_t *prev,
			  uint64_t *prev_seq, uint64_t seq)
{
	uint64_t t, t1;

	d->kick_tsc = t = vs_rdtsc();
	pcdev_efd_signal(d->kick_fd);
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
static unsigned int producer_fill_sampled(struct dev *d, struct pcdev_side *s,
					  struct vs_vring *vr,
					  struct vs_vring_prod *pr,
					  unsigned int n, uint64_t *seq_io,
					  uint64_t *prev, uint64_t *prev_seq,
					  bool *prev_ok, uint64_t *w_sum,
					  uint64_t *w_n)
{
	struct vs_item *items = d->items, *it;
	const unsigned int mask = vr->num - 1, sample = d->sample;
	struct pcdev_run *const run = d->run;
	const uint64_t deadline = run->side_deadline;
	const bool kick_on = d->kick_on;
	uint64_t seq = *seq_io, t;
	unsigned int i = 0, g;
	bool stop = false;

	while (i < n) {
		/* Up to the end of seq's group. */
		g = PCDEV_PUBLISH_GROUP - (unsigned int)(seq & (PCDEV_PUBLISH_GROUP - 1));
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
			stop = t >= deadline || run->done;
		}
		if (g == PCDEV_PUBLISH_GROUP)	/* constant: vectorized */
			vs_vring_prod_add_seq(vr, pr, PCDEV_PUBLISH_GROUP);
		else
			vs_vring_prod_add_seq(vr, pr, g);
		seq += g;
		i += g;
		if (stop)
			break;
		if (!(seq & (PCDEV_PUBLISH_GROUP - 1)) && i < n) {
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
	struct pcdev_side *s = &d->p;
	/* A private copy of the ring pointers stays in registers. */
	struct vs_vring ring = d->vr, *vr = &ring;
	struct vs_vring_prod pr = { 0 };
	unsigned int len = vr->num, mask = len - 1, free = len, i, n;
	uint64_t seq = 0, prev = 0, t, t1, cpu0, w_sum = 0, w_n = 0;
	uint64_t prev_seq = 0;
	/* Loop invariants in locals: every buffer store could alias d. */
	struct vs_item *items = d->items;
	struct pcdev_run *const run = d->run;
	const uint64_t wp_t = d->wp_t;
	uint64_t deadline;
	bool kick_on = d->kick_on, k;
	const unsigned int sample = d->sample;
	bool prev_ok = false;
	uint16_t id;

	s->tid = gettid();
	s->err = pcdev_thread_setup("vs-producer", cfg->timerslack_ns);
	if (!s->err)
		s->err = pcdev_thread_pin(pthread_self(), cfg->pin_p);
	pcdev_gate_wait(&d->gate);
	if (s->err || run->done || !thread_go_rt(d, s))
		return NULL;
	deadline = run->side_deadline;	/* set before the gate opened */
	cpu0 = pcdev_thread_cpu_ns();
	while (!run->done && (!d->cap || seq < d->cap)) {
		/* C switched to waiting for kicks (control file): one kick
		 * now, since items published meanwhile were never kicked. */
		k = __atomic_load_n(&d->kick_on, __ATOMIC_ACQUIRE);
		if (k && !kick_on)
			pcdev_efd_signal(d->kick_fd);
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
				pcdev_efd_signal(d->kick_fd);
				t1 = vs_rdtsc();
				pcdev_avg_add(&s->n, t1 - t);
				store_relaxed(&s->notifies, s->notifies + 1);
				pcdev_trace_add(&s->trace, PCDEV_EV_KICK, t1, seq);
				/* Np is not part of the next item's Wp. */
				prev = t1;
			}
			if (t >= deadline || run->done) {
				i++;
				break;
			}
		}
		free -= i;
		store_relaxed(&s->items, seq);
		if (pcdev_run_over(run, prev))
			break;
		/* Keep used_event parked behind us (it is relative). */
		if (d->intr_on)
			vs_vring_prod_disable_intr(vr, &pr);
	}
	/* A consumer waiting for kp > 1 items must see the last few. */
	if (__atomic_load_n(&d->kick_on, __ATOMIC_ACQUIRE))
		pcdev_efd_signal(d->kick_fd);
	s->w.sum += w_sum;
	s->w.n += w_n;
	s->cpu_ns = pcdev_thread_cpu_ns() - cpu0;
	return NULL;
}


static void *consumer_main(void *arg)
{
	struct dev *d = arg;
	struct pcdev_side *s = &d->c.s;

	s->tid = gettid();
	s->err = pcdev_thread_setup("vs-consumer", d->cfg->timerslack_ns);
	if (!s->err)
		s->err = pcdev_thread_pin(pthread_self(), d->cfg->pin_c);
	pcdev_gate_wait(&d->gate);
	if (s->err || d->run->done || !thread_go_rt(d, s))
		return NULL;
	pcdev_consumer_run(&d->c);
	return NULL;
}

/* C switched mode through the control file: P kicks only a C that waits. */
static bool thread_ctl_apply(struct pcdev_consumer *c, const struct vs_pcdev_ctl *f,
			     enum pcdev_mode m)
{
	struct dev *d = c->backend;

	__atomic_store_n(&d->kick_on, m == PCDEV_NOTIFY || m == PCDEV_BUSYLOOP,
			 __ATOMIC_RELEASE);
	return true;
}

static const struct pcdev_consumer_ops thread_consumer_ops = {
	.ctl_apply = thread_ctl_apply,
};

static int dev_init(struct dev *d, const struct pcdev_config *cfg,
		    struct pcdev_run *run)
{
	unsigned int len = cfg->len, i;
	struct vs_vring_prod pr = { 0 };
	struct vs_vring_cons cs = { 0 };
	size_t items_len = (size_t)len * sizeof(struct vs_item);
	struct pcdev_consumer *c = &d->c;
	int err;

	d->cfg = cfg;
	d->run = run;
	d->kick_fd = d->intr_fd = -1;
	pcdev_gate_init(&d->gate);
	err = pcdev_consumer_init(c, cfg, run);
	if (err)
		return err;
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
	d->kick_fd = eventfd(0, EFD_CLOEXEC);
	d->intr_fd = eventfd(0, EFD_CLOEXEC);
	if (d->kick_fd < 0 || d->intr_fd < 0)
		return -errno;
	/* Whichever side is blocked when the run ends must wake. */
	pcdev_run_wake_on_end(run, d->kick_fd);
	pcdev_run_wake_on_end(run, d->intr_fd);
	run->side_stop = cfg->stop;
	if (cfg->trace_path) {
		err = pcdev_trace_alloc(&d->p.trace, PCDEV_TRACE_ORDER);
		if (err)
			return err;
	}
	d->sample = cfg->wp_ns <= 0 && cfg->wc_ns <= 0 && !cfg->trace_path ?
		    PCDEV_LATENCY_SAMPLE : 1;
	d->wp_t = vs_ns_to_tsc(cfg->wp_ns);
	d->busy_t = vs_ns_to_tsc(cfg->busyloop_ns);
	d->yp_ts = pcdev_ns_to_ts(cfg->yp_ns);
	d->cap = cfg->items;
	d->kick_on = cfg->c_mode == PCDEV_NOTIFY || cfg->c_mode == PCDEV_BUSYLOOP;
	d->intr_on = cfg->p_mode == PCDEV_NOTIFY || cfg->p_mode == PCDEV_BUSYLOOP;

	c->vr = d->vr;
	c->items = d->items;
	c->kick_fd = d->kick_fd;
	c->intr_fd = d->intr_fd;
	c->kick_tsc = &d->kick_tsc;
	c->intr_tsc = &d->intr_tsc;
	c->sample = d->sample;
	c->ops = &thread_consumer_ops;
	c->backend = d;
	if (cfg->publish)
		pcdev_consumer_ctl_open(c, cfg, 0);
	return 0;
}

static int thread_open(const struct pcdev_config *cfg, struct pcdev_run *run,
		       void **priv)
{
	struct dev *d = aligned_alloc(64, sizeof(*d));

	if (!d)
		return -ENOMEM;
	memset(d, 0, sizeof(*d));
	*priv = d;
	return dev_init(d, cfg, run);
}

static int thread_start(void *priv)
{
	struct dev *d = priv;
	int err;

	err = pcdev_pair_start(&d->threads, d->run, &d->gate, d->cfg->duration_ns, producer,
			       consumer_main, d);
	if (err)
		return err;
	err = d->p.err ? d->p.err : d->c.s.err;
	if (err)
		pcdev_run_finish(d->run, d->run->tsc_start);
	return err;
}

static void thread_counters(void *priv, struct pcdev_counters *c)
{
	struct dev *d = priv;

	pcdev_pair_counters(&d->p, &d->c.s, d->c.hist, c);
}

static void thread_stop(void *priv)
{
	struct dev *d = priv;

	pcdev_pair_stop(&d->threads, d->run);
}

static int thread_results(void *priv, struct pcdev_results *res)
{
	struct dev *d = priv;
	const struct pcdev_config *cfg = d->cfg;
	int err = d->p.err ? d->p.err : d->c.s.err;

	/* A side may have failed to go real-time after the gate. */
	if (err)
		return err;
	if (d->sample > 1)
		pcdev_note(res, "Wp = Wc = 0: latency and W sampled on 1 item in %u",
			   d->sample);
	if (cfg->timerslack_ns >= 0 && cfg->timerslack_ns < 1)
		pcdev_note(res, "timer slack 1ns used for 0 (0 restores the default)");
	pcdev_consumer_results(&d->c, res);
	pcdev_side_results(&d->p, false, res);
	pcdev_pair_costs(&d->p, &d->c.s, res);
	res->elapsed_ns = vs_tsc_to_ns(d->run->tsc_end - d->run->tsc_start);
	return 0;
}

static int thread_write_trace(void *priv, FILE *f)
{
	struct dev *d = priv;

	return pcdev_trace_write(f, &d->p.trace, &d->c.s.trace,
				 d->run->tsc_start, vs_tsc_per_ns());
}

static void thread_close(void *priv)
{
	struct dev *d = priv;

	pcdev_consumer_destroy(&d->c);
	pcdev_trace_free(&d->p.trace);
	if (d->kick_fd >= 0)
		close(d->kick_fd);
	if (d->intr_fd >= 0)
		close(d->intr_fd);
	if (d->ring_mem)
		munmap(d->ring_mem, d->ring_len);
	pcdev_gate_destroy(&d->gate);
	free(d);
}

const struct pcdev_backend_ops pcdev_thread_ops = {
	.name = "thread",
	.open = thread_open,
	.start = thread_start,
	.counters = thread_counters,
	.stop = thread_stop,
	.results = thread_results,
	.write_trace = thread_write_trace,
	.close = thread_close,
};
