// SPDX-License-Identifier: GPL-2.0-only
/* Host synchronization costs (see hostcost.h). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/units.h"
#include "sources/hostcost.h"
#include "sources/measure.h"
#include "sources/sleepcost.h"
#include "sources/wakeup.h"

#define MAX_SPINNERS 64
#define NOTIFY_WRITES 2000

static double mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * The cost of kicking a peer that is not waiting: the eventfd write alone.
 * It is CPU spent by the notifier, so it is timed on the thread's CPU
 * clock: on a loaded machine a wall-clock mean also counts the time this
 * thread sat preempted on the runqueue (one 4 ms timeslice lost in 2000
 * writes adds 2 us to each), which is not a cost of notifying.
 */
static int measure_notify(double *ns)
{
	uint64_t one = 1, drain;
	double t0, t1;
	int fd, i;

	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	t0 = thread_cpu_ns();
	for (i = 0; i < NOTIFY_WRITES; i++)
		if (write(fd, &one, sizeof(one)) != sizeof(one))
			break;
	t1 = thread_cpu_ns();
	if (read(fd, &drain, sizeof(drain)) < 0)
		drain = 0;
	close(fd);
	if (i < NOTIFY_WRITES)
		return -EIO;
	*ns = (t1 - t0) / NOTIFY_WRITES;
	return 0;
}

/*
 * The ping-pong in chunks of CHUNK_ROUNDS round trips until the rounds asked
 * for are done or the time budget is spent (at least one chunk). On a
 * loaded machine every wake-up also waits for a CPU, a round trip can take
 * tens of ms, and the full count would hold diagnose up for seconds past
 * its window. The estimate is the median of the chunks' medians.
 */
#define CHUNK_ROUNDS 10
#define PINGPONG_BUDGET_NS 250e6
#define MAX_CHUNKS 64

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The runqueue part: on a machine whose CPUs other work keeps busy, a woken
 * thread also waits for a CPU, which is contention, not the wake-up path
 * (syscall, wake-up, idle exit, switch) that the model's S stands for. The
 * measuring thread's schedstat gives its mean runqueue wait per time it was
 * scheduled; the peer thread, pinned alike, is taken to wait as long. Each
 * round trip is two wake-ups, so the chunk's median loses twice that, but
 * never goes below the chunk's fastest round trip.
 */
static int pingpong_budgeted(const struct vs_wakeup_opts *base,
			     unsigned int rounds, double *median_ns,
			     double *runq_ns, unsigned int *done)
{
	struct vs_wakeup_opts wo = *base;
	struct vs_wakeup_result wr;
	double med[MAX_CHUNKS], rq[MAX_CHUNKS], t0 = mono_ns();
	pid_t pid = getpid(), tid = gettid();
	unsigned int n = 0;
	int err = 0;

	wo.rounds = CHUNK_ROUNDS;
	wo.warmup = 1;
	*done = 0;
	while (n < MAX_CHUNKS && *done < rounds &&
	       (n == 0 || mono_ns() - t0 < PINGPONG_BUDGET_NS)) {
		struct vs_thread_counters a, b;
		bool have = !vs_thread_counters_read(pid, tid, &a);
		double wait = 0;

		err = vs_wakeup_measure(&wo, &wr);
		if (err)
			break;
		if (have && !vs_thread_counters_read(pid, tid, &b) &&
		    b.timeslices > a.timeslices && b.run_delay_ns >= a.run_delay_ns)
			wait = (double)(b.run_delay_ns - a.run_delay_ns) /
			       (double)(b.timeslices - a.timeslices);
		med[n] = fmax(wr.median_ns - 2 * wait, wr.min_ns);
		rq[n++] = wait;
		*done += wr.rounds;
	}
	if (!n)
		return err ? err : -EIO;
	*median_ns = median_of(med, n);
	*runq_ns = median_of(rq, n);
	return 0;
}

struct spinners {
	pthread_t th[MAX_SPINNERS];
	int n;
	atomic_int stop;
};

/* SCHED_IDLE runs only when nothing else wants the CPU: the CPU never
 * enters idle (no HLT, no VM exit in a guest), yet every real thread
 * preempts the spinner at once. */
static void *spin(void *arg)
{
	struct spinners *s = arg;
	struct sched_param sp = { 0 };

	sched_setscheduler(0, SCHED_IDLE, &sp);
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed))
		__builtin_ia32_pause();
	return NULL;
}

static void spinners_start(struct spinners *s)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int i;

	s->n = 0;
	atomic_store(&s->stop, 0);
	for (i = 0; i < ncpu && i < MAX_SPINNERS; i++) {
		pthread_attr_t attr;
		cpu_set_t set;

		pthread_attr_init(&attr);
		CPU_ZERO(&set);
		CPU_SET(i, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		if (!pthread_create(&s->th[s->n], &attr, spin, s))
			s->n++;
		pthread_attr_destroy(&attr);
	}
}

static void spinners_stop(struct spinners *s)
{
	int i;

	atomic_store(&s->stop, 1);
	/* Back to SCHED_OTHER first: on a CPU other threads keep busy, a
	 * SCHED_IDLE thread may not run for a second to see the stop. */
	for (i = 0; i < s->n; i++) {
		struct sched_param sp = { 0 };

		pthread_setschedparam(s->th[i], SCHED_OTHER, &sp);
	}
	for (i = 0; i < s->n; i++)
		pthread_join(s->th[i], NULL);
}

int vs_hostcosts_measure(const struct vs_hostcost_opts *o, struct vs_hostcosts *hc)
{
	struct vs_wakeup_opts wo;
	double median, runq;
	unsigned int rounds, done;
	struct vs_yz yz;
	int err;

	memset(hc, 0, sizeof(*hc));
	hc->notify_ns = hc->wake_ns = hc->wake_polled_ns = hc->yz_ns = NAN;

	err = measure_notify(&hc->notify_ns);
	if (err)
		snprintf(hc->notify_from, sizeof(hc->notify_from),
			 "eventfd write failed: %s", strerror(-err));
	else
		snprintf(hc->notify_from, sizeof(hc->notify_from),
			 "eventfd write with no waiter, mean CPU time of %d", NOTIFY_WRITES);

	vs_wakeup_opts_default(&wo);
	rounds = o->rounds ? o->rounds : 200;
	err = pingpong_budgeted(&wo, rounds, &median, &runq, &done);
	if (err) {
		snprintf(hc->wake_from, sizeof(hc->wake_from),
			 "eventfd ping-pong failed: %s", strerror(-err));
	} else {
		hc->wake_ns = median / 2;
		snprintf(hc->wake_from, sizeof(hc->wake_from),
			 "eventfd ping-pong, median of %u round trips / 2, less %s runqueue wait",
			 done, VS_TIME(runq));
	}
	if (o->polled && !err) {
		struct spinners s;

		spinners_start(&s);
		err = pingpong_budgeted(&wo, rounds, &median, &runq, &done);
		spinners_stop(&s);
		if (!err)
			hc->wake_polled_ns = median / 2;
	}

	if (!o->yz) {
		snprintf(hc->yz_from, sizeof(hc->yz_from), "not measured");
	} else if ((err = vs_sleepcost_yz_cached(7 * 86400.0, &yz)) == 0 &&
		   isfinite(yz.yz_ns)) {
		hc->yz_ns = yz.yz_ns;
		snprintf(hc->yz_from, sizeof(hc->yz_from),
			 "sleepcost%s: effective nanosleep(1ns) at 1 ns slack",
			 yz.from_cache ? " (cached in /run/virtsync/yz.json)" : " quick run");
	} else {
		snprintf(hc->yz_from, sizeof(hc->yz_from), "sleepcost failed: %s",
			 strerror(err ? -err : EINVAL));
	}
	return 0;
}
