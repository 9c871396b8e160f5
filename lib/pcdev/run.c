// SPDX-License-Identifier: GPL-2.0-only
/*
 * The end of a run, which every side of the reference device watches, and
 * the small thread and eventfd helpers both backends use.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "pcdev/backend.h"
#include "pcdev/tsc.h"

int pcdev_run_init(struct pcdev_run *r)
{
	memset(r, 0, sizeof(*r));
	r->deadline = UINT64_MAX;
	r->side_deadline = UINT64_MAX;
	return sem_init(&r->finished, 0, 0) ? -errno : 0;
}

void pcdev_run_destroy(struct pcdev_run *r)
{
	sem_destroy(&r->finished);
}

void pcdev_run_wake_on_end(struct pcdev_run *r, int fd)
{
	if (fd >= 0 && r->n_wake < PCDEV_RUN_WAKE_MAX)
		r->wake_fd[r->n_wake++] = fd;
}

void pcdev_run_finish(struct pcdev_run *r, uint64_t now_tsc)
{
	unsigned int i;

	if (__atomic_exchange_n(&r->done, 1, __ATOMIC_SEQ_CST))
		return;
	r->tsc_end = now_tsc < r->side_deadline ? now_tsc : r->side_deadline;
	for (i = 0; i < r->n_wake; i++)
		pcdev_efd_signal(r->wake_fd[i]);
	sem_post(&r->finished);
}

void pcdev_pair_counters(const struct pcdev_side *p, const struct pcdev_side *c,
			 const struct pcdev_hist *hist, struct pcdev_counters *out)
{
	/* consumed first: read later, produced is never the smaller */
	uint64_t consumed = __atomic_load_n(&c->items, __ATOMIC_RELAXED);

	out->items_produced = __atomic_load_n(&p->items, __ATOMIC_RELAXED);
	out->items_consumed = consumed;
	out->kicks = __atomic_load_n(&p->notifies, __ATOMIC_RELAXED);
	out->interrupts = __atomic_load_n(&c->notifies, __ATOMIC_RELAXED);
	out->producer_tid = p->tid;
	out->consumer_tid = c->tid;
	out->hist = hist;
	out->tsc_per_ns = vs_tsc_per_ns();
}

void pcdev_side_results(const struct pcdev_side *s, bool is_consumer,
			struct pcdev_results *res)
{
	struct pcdev_measured *m = &res->measured;
	double tpn = vs_tsc_per_ns();

	if (is_consumer) {
		res->items = s->items;
		res->cpu_consumer_ns = (double)s->cpu_ns;
		res->interrupts = s->notifies;
		res->spurious_kicks = s->spurious;
		res->sleeps_c = s->sleeps;
		res->blocks_c = s->blocks;
		res->c_wakeups = s->wakeups;
		m->wc = pcdev_avg_ns(&s->w, tpn);
		m->nc = pcdev_avg_ns(&s->n, tpn);
		m->sc = pcdev_avg_ns(&s->s, tpn);
		m->yc = pcdev_avg_ns(&s->y, tpn);
		m->yz = pcdev_avg_ns(&s->yz, 1.0);
	} else {
		res->cpu_producer_ns = (double)s->cpu_ns;
		res->kicks = s->notifies;
		res->spurious_interrupts = s->spurious;
		res->sleeps_p = s->sleeps;
		res->blocks_p = s->blocks;
		res->p_wakeups = s->wakeups;
		m->wp = pcdev_avg_ns(&s->w, tpn);
		m->np = pcdev_avg_ns(&s->n, tpn);
		m->sp = pcdev_avg_ns(&s->s, tpn);
		m->yp = pcdev_avg_ns(&s->y, tpn);
	}
}

void pcdev_pair_costs(const struct pcdev_side *p, const struct pcdev_side *c,
		      struct pcdev_results *res)
{
	struct pcdev_measured *m = &res->measured;
	struct pcdev_avg yz = { .sum = p->yz.sum + c->yz.sum, .n = p->yz.n + c->yz.n };

	/*
	 * lib/model starts Sc (Sp) at the end of the notifier's Np (Nc); the
	 * samples run from the notifier's TSC before its eventfd write to the
	 * waiter running again, so take the notification cost back out.
	 */
	m->sp = pcdev_startup_ns(m->sp, m->nc);
	m->sc = pcdev_startup_ns(m->sc, m->np);
	m->yz = pcdev_avg_ns(&yz, 1.0);
}

uint64_t pcdev_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct timespec pcdev_ns_to_ts(double ns)
{
	struct timespec ts;
	uint64_t v = ns > 0 ? (uint64_t)ns : 0;

	ts.tv_sec = (time_t)(v / 1000000000ull);
	ts.tv_nsec = (long)(v % 1000000000ull);
	return ts;
}

void pcdev_side_sleep(struct pcdev_side *s, const struct timespec *ts)
{
	uint64_t t0 = vs_rdtsc(), c0 = pcdev_thread_cpu_ns();

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, ts, NULL) == EINTR)
		;
	pcdev_avg_add(&s->yz, pcdev_thread_cpu_ns() - c0);
	pcdev_avg_add(&s->y, vs_rdtsc() - t0);
	s->sleeps++;
}

void pcdev_efd_signal(int fd)
{
	uint64_t one = 1;

	/* Cannot fail short of a counter overflow (2^64 - 2 pending). */
	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

void pcdev_efd_wait(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
}

int pcdev_thread_setup(const char *name, double timerslack_ns)
{
	unsigned long slack;

	pthread_setname_np(pthread_self(), name);
	if (timerslack_ns >= 0) {
		/* 0 would restore the default slack: 1 ns is the minimum. */
		slack = timerslack_ns < 1 ? 1 : (unsigned long)timerslack_ns;
		if (prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0))
			return -errno;
	}
	return 0;
}

int pcdev_thread_pin(pthread_t t, int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(t, sizeof(set), &set);
}

void pcdev_note(struct pcdev_results *res, const char *fmt, ...)
{
	size_t used = strlen(res->note);
	va_list ap;

	if (used && used + 2 < sizeof(res->note)) {
		strcpy(res->note + used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(res->note + used, sizeof(res->note) - used, fmt, ap);
	va_end(ap);
}

void pcdev_gate_init(struct pcdev_gate *g)
{
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->ready = 0;
	g->go = false;
}

void pcdev_gate_destroy(struct pcdev_gate *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

void pcdev_gate_wait(struct pcdev_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->ready++;
	pthread_cond_broadcast(&g->cond);
	while (!g->go)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

void pcdev_gate_wait_ready(struct pcdev_gate *g, int parties)
{
	pthread_mutex_lock(&g->lock);
	while (g->ready < parties)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

void pcdev_gate_open(struct pcdev_gate *g, int parties)
{
	pcdev_gate_wait_ready(g, parties);
	pthread_mutex_lock(&g->lock);
	g->go = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

int pcdev_pair_start(struct pcdev_pair *pp, struct pcdev_run *run, struct pcdev_gate *gate,
		     double duration_ns, void *(*producer)(void *),
		     void *(*consumer)(void *), void *arg)
{
	int err;

	/* SIGINT/SIGTERM may land on any thread: the handler only sets
	 * *stop, which every thread watches. */
	err = -pthread_create(&pp->pt, NULL, producer, arg);
	if (err)
		return err;
	pp->p_started = true;
	err = -pthread_create(&pp->ct, NULL, consumer, arg);
	if (err) {
		/* let P through the gate straight to its exit */
		run->done = 1;
		pcdev_gate_open(gate, 1);
		return err;
	}
	pp->c_started = true;
	/* the clock starts when both sides are set up (named, pinned) */
	pcdev_gate_wait_ready(gate, 2);
	run->tsc_start = vs_rdtsc();
	if (duration_ns > 0)
		run->deadline = run->side_deadline = run->tsc_start + vs_ns_to_tsc(duration_ns);
	pcdev_gate_open(gate, 2);
	return 0;
}

void pcdev_pair_stop(struct pcdev_pair *pp, struct pcdev_run *run)
{
	pcdev_run_finish(run, vs_rdtsc());
	if (pp->p_started)
		pthread_join(pp->pt, NULL);
	if (pp->c_started)
		pthread_join(pp->ct, NULL);
	pp->p_started = pp->c_started = false;
}
