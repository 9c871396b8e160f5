// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/ring-ceiling: how close the reference device's data path gets to
 * a good single-producer single-consumer queue on this machine. Each round
 * measures, in an order that rotates from round to round,
 *   ring     the reference: a power-of-two array of 32-bit indices, head
 *            and tail words each on its own cache line and away from the
 *            slots, each side caching the other's index and reading it
 *            again only when the ring looks full (P) or empty (C), as
 *            good SPSC queues do (Lamport's queue with cached indices;
 *            folly's ProducerConsumerQueue, rigtorp's SPSCQueue),
 *   lamport  the same ring reading the other side's index before every
 *            item (textbook Lamport; for information only),
 *   pcdev    the thread backend of lib/pcdev with poll on both sides and
 *            Wp = Wc = 0, called in-process (pcdev_run),
 * and, before them, the round trip of one cache line between the two
 * CPUs (ping-pong), so that a round can be told apart from one in which
 * the host placed the two vCPUs differently.
 *
 * All three use the same CPUs and the same policy: SCHED_FIFO 10 (main
 * thread 11) unless VS_RT=0. Every run starts its clock only once both
 * threads are pinned and real-time, and runs are 0.1 s apart so that the
 * kernel's real-time throttling (0.95 s per 1 s) never cuts into one.
 * The ring is bimodal on this machine: when C keeps up with P it finds
 * the ring empty at almost every item and the head line bounces per item;
 * when P gets ahead, C drains long runs and the ring streams. The rounds
 * report C's empty refills per item (1.0: item by item, near 0: streaming)
 * so each round says which mode it ran in; the verdict is the median of
 * the per-round ratios pcdev/ring, with their min and max.
 *
 * usage: ring-ceiling [SECONDS_PER_ROUND [ROUNDS [P_CPU C_CPU [LEN]]]]
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcdev/pcdev.h"
#include "pcdev/tsc.h"

#define MAX_ROUNDS	64
#define PINGPONGS	20000
/* The batched ring publishes its indices per group of this many items,
 * as the device publishes avail->idx (PUBLISH_GROUP, lib/pcdev/thread.c). */
#define RING_BATCH	16

struct spsc {
	alignas(64) uint32_t head;	/* written by P */
	alignas(64) uint32_t tail;	/* written by C */
	alignas(64) volatile int stop;
	volatile int ready, go;
	alignas(64) uint32_t mask;
	uint32_t *slot;
	uint64_t consumed, checksum, refills;	/* refills: C's empty rechecks */
	int cpu_p, cpu_c;
	bool cached;
	uint32_t batch;	/* publish head/tail every `batch` items (1: each) */
};

static int rt_prio;	/* SCHED_FIFO priority of the measured threads, 0 off */

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

/* Pinned and real-time first, then wait for the common start. */
static void start_gate(struct spsc *r, int cpu)
{
	pin(cpu);
	__atomic_fetch_add(&r->ready, 1, __ATOMIC_SEQ_CST);
	while (!r->go)
		vs_cpu_relax();
}

static void *spsc_producer(void *arg)
{
	struct spsc *r = arg;
	uint32_t head = 0, tail_seen = 0, size = r->mask + 1;
	uint32_t *slot = r->slot, mask = r->mask, bmask = r->batch - 1;
	const bool cached = r->cached;

	start_gate(r, r->cpu_p);
	while (!r->stop) {
		if (!cached)
			tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (head - tail_seen == size) {
			tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
			if (head - tail_seen == size) {
				/* Full: whatever is unpublished goes out now. */
				__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
				vs_cpu_relax();
				continue;
			}
		}
		slot[head & mask] = head;
		if (!(++head & bmask))
			__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *spsc_consumer(void *arg)
{
	struct spsc *r = arg;
	uint32_t tail = 0, head_seen = 0, *slot = r->slot, mask = r->mask;
	uint32_t bmask = r->batch - 1;
	uint64_t sum = 0, refills = 0;
	const bool cached = r->cached;

	start_gate(r, r->cpu_c);
	while (!r->stop) {
		if (!cached)
			head_seen = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (tail == head_seen) {
			head_seen = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
			refills++;
			if (tail == head_seen) {
				/* Empty: hand back what was consumed. */
				__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
				vs_cpu_relax();
				continue;
			}
		}
		sum += slot[tail & mask];
		if (!(++tail & bmask))
			__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	}
	r->consumed = tail;
	r->checksum = sum;
	r->refills = refills;
	return NULL;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double secs)
{
	struct timespec ts = { (time_t)secs,
			       (long)((secs - (time_t)secs) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

struct ring_result {
	double rate;		/* items per second */
	double refills;		/* C's empty rechecks per item */
};

static struct ring_result spsc_run(double secs, unsigned int len, int cpu_p,
				   int cpu_c, bool cached, uint32_t batch)
{
	struct spsc *r = aligned_alloc(64, sizeof(*r));
	struct ring_result out = { 0, 0 };
	uint64_t expect;
	pthread_t p, c;
	double t0, t1;

	if (!r)
		exit(1);
	memset(r, 0, sizeof(*r));
	r->mask = len - 1;
	/* The slots start a line of their own, away from the indices. */
	r->slot = aligned_alloc(64, len * sizeof(uint32_t) < 64 ? 64 :
				len * sizeof(uint32_t));
	if (!r->slot)
		exit(1);
	memset(r->slot, 0, len * sizeof(uint32_t));
	r->cpu_p = cpu_p;
	r->cpu_c = cpu_c;
	r->cached = cached;
	r->batch = batch;
	pthread_create(&p, NULL, spsc_producer, r);
	pthread_create(&c, NULL, spsc_consumer, r);
	while (__atomic_load_n(&r->ready, __ATOMIC_SEQ_CST) < 2)
		sleep_s(0.0002);
	t0 = mono_s();
	r->go = 1;
	sleep_s(secs);
	r->stop = 1;
	t1 = mono_s();
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	/* C saw slot values 0, 1, ..., consumed - 1: nothing lost. */
	expect = r->consumed ? (r->consumed - 1) * r->consumed / 2 : 0;
	if ((uint32_t)r->checksum != (uint32_t)expect) {
		fprintf(stderr, "ring-ceiling: ring lost items\n");
		exit(1);
	}
	out.rate = r->consumed / (t1 - t0);
	out.refills = r->consumed ? (double)r->refills / r->consumed : 0;
	free(r->slot);
	free(r);
	return out;
}

/* Cache-line round trip between the two CPUs: P writes n, C answers n. */
struct pingpong {
	alignas(64) volatile uint32_t ping;
	alignas(64) volatile uint32_t pong;
	alignas(64) volatile int ready, go;
	int cpu_p, cpu_c;
};

static void *pong_thread(void *arg)
{
	struct pingpong *pp = arg;
	uint32_t n;

	pin(pp->cpu_c);
	__atomic_fetch_add(&pp->ready, 1, __ATOMIC_SEQ_CST);
	for (n = 1; n <= PINGPONGS; n++) {
		while (pp->ping != n)
			vs_cpu_relax();
		pp->pong = n;
	}
	return NULL;
}

/* Median round trip in ns over PINGPONGS exchanges, in blocks of 100. */
static double pingpong_ns(int cpu_p, int cpu_c)
{
	struct pingpong *pp = aligned_alloc(64, sizeof(*pp));
	cpu_set_t main_cpus;
	double block[PINGPONGS / 100], tmp;
	uint64_t t0;
	pthread_t t;
	uint32_t n;
	int i, j, nb = PINGPONGS / 100;

	if (!pp)
		exit(1);
	pthread_getaffinity_np(pthread_self(), sizeof(main_cpus), &main_cpus);
	memset(pp, 0, sizeof(*pp));
	pp->cpu_p = cpu_p;
	pp->cpu_c = cpu_c;
	pthread_create(&t, NULL, pong_thread, pp);
	pin(cpu_p);
	while (__atomic_load_n(&pp->ready, __ATOMIC_SEQ_CST) < 1)
		vs_cpu_relax();
	t0 = vs_rdtsc();
	for (n = 1; n <= PINGPONGS; n++) {
		pp->ping = n;
		while (pp->pong != n)
			vs_cpu_relax();
		if (n % 100 == 0) {
			block[n / 100 - 1] = vs_tsc_to_ns(vs_rdtsc() - t0) / 100;
			t0 = vs_rdtsc();
		}
	}
	pthread_join(t, NULL);
	/* Back to the main thread's own priority and CPUs. */
	pthread_setaffinity_np(pthread_self(), sizeof(main_cpus), &main_cpus);
	{
		struct sched_param sp = { .sched_priority = rt_prio ? rt_prio + 1 : 0 };

		pthread_setschedparam(pthread_self(),
				      rt_prio ? SCHED_FIFO : SCHED_OTHER, &sp);
	}
	for (i = 0; i < nb; i++)
		for (j = i + 1; j < nb; j++)
			if (block[j] < block[i]) {
				tmp = block[i];
				block[i] = block[j];
				block[j] = tmp;
			}
	free(pp);
	return block[nb / 2];
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
	memset(res, 0, sizeof(*res));
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

/* Sorts v in place. */
static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void summary(const char *what, double *v, int n, double scale)
{
	double med = median(v, n);

	printf("  %-22s median %7.3f  min %7.3f  max %7.3f\n", what,
	       med / scale, v[0] / scale, v[n - 1] / scale);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	int cpu_p = argc > 4 ? atoi(argv[3]) : 0;
	int cpu_c = argc > 4 ? atoi(argv[4]) : 1;
	unsigned int len = argc > 5 ? (unsigned int)atoi(argv[5]) : 256;
	static double ring[MAX_ROUNDS], batched[MAX_ROUNDS], lamport[MAX_ROUNDS];
	static double dev[MAX_ROUNDS], ref[MAX_ROUNDS], pp[MAX_ROUNDS];
	static double ratio[MAX_ROUNDS], ratio_r[MAX_ROUNDS], ratio_b[MAX_ROUNDS];
	struct pcdev_results *res = calloc(1, sizeof(*res));
	struct ring_result rr = { 0, 0 }, br = { 0, 0 }, lr = { 0, 0 };
	unsigned int sample = 0;
	int i, k;

	if (secs <= 0 || rounds < 1 || rounds > MAX_ROUNDS || !res || len < 2 ||
	    len > 32768 || (len & (len - 1)) || cpu_p == cpu_c ||
	    !pcdev_cpu_available(cpu_p) || !pcdev_cpu_available(cpu_c)) {
		fprintf(stderr, "usage: ring-ceiling [SECONDS [ROUNDS [P_CPU C_CPU [LEN]]]]"
			" (two different CPUs, LEN a power of two)\n");
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
	printf("L %u, CPUs %d,%d, rt %d, %d rounds of %.2f s; M items/s,\n"
	       "(C's empty rechecks per item), ping-pong: line round trip\n",
	       len, cpu_p, cpu_c, rt_prio, rounds, secs);
	printf("round ping-pong  ring          batched%-2u       lamport"
	       "    pcdev  pcdev/ref\n", RING_BATCH);
	for (i = 0; i < rounds; i++) {
		pp[i] = pingpong_ns(cpu_p, cpu_c);
		for (k = 0; k < 4; k++) {
			sleep_s(0.1);	/* stay clear of RT throttling */
			switch ((i + k) % 4) {
			case 0:
				rr = spsc_run(secs, len, cpu_p, cpu_c, true, 1);
				break;
			case 1:
				br = spsc_run(secs, len, cpu_p, cpu_c, true,
					      RING_BATCH);
				break;
			case 2:
				lr = spsc_run(secs, len, cpu_p, cpu_c, false, 1);
				break;
			case 3:
				dev[i] = pcdev_poll_run(secs, len, cpu_p, cpu_c, res);
				sample = res->latency_sample;
				break;
			}
		}
		ring[i] = rr.rate;
		batched[i] = br.rate;
		lamport[i] = lr.rate;
		ref[i] = ring[i] > batched[i] ? ring[i] : batched[i];
		ratio[i] = dev[i] / ref[i];
		ratio_r[i] = dev[i] / ring[i];
		ratio_b[i] = dev[i] / batched[i];
		printf("%5d %6.0f ns %6.1f (%5.3f) %6.1f (%5.3f) %7.1f %8.1f %6.3f\n",
		       i + 1, pp[i], ring[i] / 1e6, rr.refills, batched[i] / 1e6,
		       br.refills, lamport[i] / 1e6, dev[i] / 1e6, ratio[i]);
	}
	printf("ref: the faster of ring and batched%u in each round; pcdev\n"
	       "publishes per group of %u and samples latency on 1 item in %u\n",
	       RING_BATCH, RING_BATCH, sample);
	summary("ring M items/s", ring, rounds, 1e6);
	summary("batched M items/s", batched, rounds, 1e6);
	summary("lamport M items/s", lamport, rounds, 1e6);
	summary("pcdev M items/s", dev, rounds, 1e6);
	summary("ping-pong ns", pp, rounds, 1);
	summary("ratio pcdev/ring", ratio_r, rounds, 1);
	summary("ratio pcdev/batched", ratio_b, rounds, 1);
	summary("ratio pcdev/ref", ratio, rounds, 1);
	free(res);
	return 0;
}
