// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/ring-ceiling: how close the reference device's data path gets to
 * the fastest possible single-producer single-consumer queue on this
 * machine. In one run it measures
 *   1. a minimal SPSC index ring: two pinned threads, a power-of-two array
 *      of 32-bit indices, one head and one tail word on separate cache
 *      lines, each side caching the other's index (the ceiling), and
 *   2. the thread backend of lib/pcdev with poll on both sides and
 *      Wp = Wc = 0, called in-process (pcdev_run),
 * alternating them ROUNDS times and keeping each one's best round, since
 * on a shared machine preemption only ever makes a round slower.
 *
 * Both run SCHED_FIFO (priority 10, the main thread 11) unless VS_RT=0 is
 * in the environment, so other load on a shared machine does not decide
 * the ratio.
 *
 * usage: ring-ceiling [SECONDS_PER_ROUND [ROUNDS [P_CPU C_CPU [LEN]]]]
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcdev/pcdev.h"
#include "pcdev/tsc.h"

struct spsc {
	alignas(64) volatile uint32_t head;	/* written by P */
	alignas(64) volatile uint32_t tail;	/* written by C */
	alignas(64) volatile int stop;
	alignas(64) uint32_t mask;
	uint32_t *slot;
	uint64_t consumed, checksum;
	int cpu_p, cpu_c;
	bool cached;	/* variant 2 */
};

static int rt_prio;	/* SCHED_FIFO priority of the ring's threads, 0 off */

static void pin(int cpu)
{
	struct sched_param sp = { .sched_priority = rt_prio };
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (rt_prio)
		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}

static void *spsc_producer(void *arg)
{
	struct spsc *r = arg;
	uint32_t head = 0, tail_seen = 0, size = r->mask + 1;

	pin(r->cpu_p);
	while (!r->stop) {
		if (!r->cached)
			tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (head - tail_seen == size) {
			tail_seen = r->tail;
			if (head - tail_seen == size) {
				vs_cpu_relax();
				continue;
			}
		}
		r->slot[head & r->mask] = head;
		__atomic_store_n(&r->head, ++head, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *spsc_consumer(void *arg)
{
	struct spsc *r = arg;
	uint32_t tail = 0, head_seen = 0;
	uint64_t sum = 0;

	pin(r->cpu_c);
	while (!r->stop) {
		if (!r->cached)
			head_seen = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (tail == head_seen) {
			head_seen = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
			if (tail == head_seen) {
				vs_cpu_relax();
				continue;
			}
		}
		sum += r->slot[tail & r->mask];
		__atomic_store_n(&r->tail, ++tail, __ATOMIC_RELEASE);
	}
	r->consumed = tail;
	r->checksum = sum;
	return NULL;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double spsc_run(double secs, unsigned int len, int cpu_p, int cpu_c,
		       bool cached)
{
	struct spsc *r = aligned_alloc(64, sizeof(*r));
	pthread_t p, c;
	struct timespec ts = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };
	double t0, t1, rate;

	memset(r, 0, sizeof(*r));
	r->mask = len - 1;
	r->slot = aligned_alloc(64, len * sizeof(uint32_t));
	memset(r->slot, 0, len * sizeof(uint32_t));
	r->cpu_p = cpu_p;
	r->cpu_c = cpu_c;
	r->cached = cached;
	t0 = mono_s();
	pthread_create(&p, NULL, spsc_producer, r);
	pthread_create(&c, NULL, spsc_consumer, r);
	nanosleep(&ts, NULL);
	r->stop = 1;
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	t1 = mono_s();
	rate = r->consumed / (t1 - t0);
	free(r->slot);
	free(r);
	return rate;
}

static double pcdev_poll_run(double secs, unsigned int len, int cpu_p,
			     int cpu_c, struct pcdev_results *res)
{
	struct pcdev_config cfg;
	int err;

	pcdev_config_default(&cfg);
	cfg.p_mode = cfg.c_mode = PCDEV_POLL;
	cfg.wp_ns = cfg.wc_ns = 0;
	cfg.len = len;
	cfg.kc = len * 3 / 4;
	cfg.duration_ns = secs * 1e9;
	cfg.pin_p = cpu_p;
	cfg.pin_c = cpu_c;
	cfg.publish = false;
	cfg.rt_priority = rt_prio;
	err = pcdev_run(&cfg, res);
	if (err) {
		fprintf(stderr, "ring-ceiling: pcdev_run: %s\n", strerror(-err));
		exit(1);
	}
	return res->throughput_ops;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	int cpu_p = argc > 4 ? atoi(argv[3]) : 0;
	int cpu_c = argc > 4 ? atoi(argv[4]) : 1;
	unsigned int len = argc > 5 ? (unsigned int)atoi(argv[5]) : 256;
	double best_ring = 0, best_cached = 0, best_dev = 0, v, ring_v;
	double ratio[64];
	struct pcdev_results *res = calloc(1, sizeof(*res));
	int i;

	if (secs <= 0 || rounds < 1 || rounds > 64 || !res || len < 2 || (len & (len - 1)) ||
	    !pcdev_cpu_available(cpu_p) || !pcdev_cpu_available(cpu_c)) {
		fprintf(stderr, "usage: ring-ceiling [SECONDS [ROUNDS [P_CPU C_CPU [LEN]]]]\n");
		return 2;
	}
	rt_prio = getenv("VS_RT") && !strcmp(getenv("VS_RT"), "0") ? 0 : 10;
	if (rt_prio) {
		struct sched_param sp = { .sched_priority = rt_prio + 1 };

		if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp)) {
			fprintf(stderr, "ring-ceiling: SCHED_FIFO refused (not root?); "
				"run with VS_RT=0\n");
			return 1;
		}
	}
	vs_tsc_per_ns();
	for (i = 0; i < rounds; i++) {
		ring_v = v = spsc_run(secs, len, cpu_p, cpu_c, false);
		printf("round %d  spsc ring  %10.0f items/s\n", i + 1, v);
		if (v > best_ring)
			best_ring = v;
		v = spsc_run(secs, len, cpu_p, cpu_c, true);
		printf("round %d  spsc cached%10.0f items/s\n", i + 1, v);
		if (v > best_cached)
			best_cached = v;
		v = pcdev_poll_run(secs, len, cpu_p, cpu_c, res);
		printf("round %d  pcdev poll %10.0f items/s  (cpu P %.2f C %.2f)\n",
		       i + 1, v, res->cpu_producer, res->cpu_consumer);
		if (v > best_dev)
			best_dev = v;
		ratio[i] = v / ring_v;
	}
	qsort(ratio, (size_t)rounds, sizeof(double), cmp_double);
	printf("best of %d x %.2fs (L %u, CPUs %d,%d, rt %d):\n", rounds, secs,
	       len, cpu_p, cpu_c, rt_prio);
	printf("  minimal spsc ring     %7.2f M items/s\n", best_ring / 1e6);
	printf("  cached-index ring     %7.2f M items/s\n", best_cached / 1e6);
	printf("  pcdev thread, poll    %7.2f M items/s\n", best_dev / 1e6);
	printf("  ratio pcdev/minimal   %7.3f\n", best_dev / best_ring);
	printf("  ratio pcdev/cached    %7.3f\n", best_dev / best_cached);
	printf("  per-round pcdev/minimal: median %.3f (min %.3f, max %.3f)\n",
	       rounds % 2 ? ratio[rounds / 2] :
	       (ratio[rounds / 2 - 1] + ratio[rounds / 2]) / 2, ratio[0],
	       ratio[rounds - 1]);
	free(res);
	return 0;
}
