/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_STATS_H
#define VS_PCDEV_STATS_H

/*
 * Per-thread statistics of the reference device: running averages of the
 * Sec. 4.2.1 parameters and a log-linear latency histogram. Both are updated
 * on the data path by one thread each, so they are plain (non-atomic) and
 * cheap: a histogram add is a count-leading-zeros and an increment.
 */

#include <stdint.h>

struct pcdev_avg {
	uint64_t sum;	/* TSC ticks (or ns, as the user decides) */
	uint64_t n;
};

static inline void pcdev_avg_add(struct pcdev_avg *a, uint64_t v)
{
	a->sum += v;
	a->n++;
}

/* Average in ns given ticks-per-ns, or NaN when nothing was observed. */
double pcdev_avg_ns(const struct pcdev_avg *a, double ticks_per_ns);

/* A start-up time as the model has it: the wake-up delay measured from the
 * notifier's TSC before its write, less the notification's own cost
 * (lib/model starts S after N); NaN stays NaN, never below 0. */
double pcdev_startup_ns(double wake_ns, double notify_ns);

/*
 * Values below 2^SUB_BITS go to their own bucket; above, each power of two
 * is split into 2^SUB_BITS buckets, so a bucket is at most 1/32 (3 %) of its
 * value wide. 64 powers cover any uint64_t.
 */
#define PCDEV_HIST_SUB_BITS	5
#define PCDEV_HIST_SUB		(1u << PCDEV_HIST_SUB_BITS)
#define PCDEV_HIST_BUCKETS	(64u * PCDEV_HIST_SUB)

struct pcdev_hist {
	uint64_t count;
	uint64_t max;
	uint64_t bucket[PCDEV_HIST_BUCKETS];
};

static inline unsigned int pcdev_hist_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v < PCDEV_HIST_SUB)
		return (unsigned int)v;
	msb = 63 - (unsigned int)__builtin_clzll(v);
	shift = msb - PCDEV_HIST_SUB_BITS;
	return (shift + 1) * PCDEV_HIST_SUB +
	       (unsigned int)((v >> shift) & (PCDEV_HIST_SUB - 1));
}

static inline void pcdev_hist_add(struct pcdev_hist *h, uint64_t v)
{
	h->bucket[pcdev_hist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

/* Lowest value of bucket `idx` and its width. */
void pcdev_hist_bucket_range(unsigned int idx, uint64_t *low, uint64_t *width);

/*
 * Value at quantile q (0..1): the midpoint of the bucket holding the
 * ceil(q * count)-th smallest sample, capped at the exact maximum. Returns
 * -1 (as double) for an empty histogram.
 */
double pcdev_hist_quantile(const struct pcdev_hist *h, double q);

/* p50, p95, p98, p99 and max in ns (NaN for an empty histogram). */
struct pcdev_latency;
void pcdev_hist_latency(const struct pcdev_hist *h, double ticks_per_ns,
			struct pcdev_latency *l);

#endif
