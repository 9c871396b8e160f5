// SPDX-License-Identifier: GPL-2.0-only
/* Running averages and latency percentiles of the reference device. */
#include <math.h>

#include "pcdev/pcdev.h"
#include "pcdev/stats.h"

double pcdev_avg_ns(const struct pcdev_avg *a, double ticks_per_ns)
{
	if (!a->n || ticks_per_ns <= 0)
		return NAN;
	return (double)a->sum / (double)a->n / ticks_per_ns;
}

double pcdev_startup_ns(double wake_ns, double notify_ns)
{
	double v;

	if (isnan(wake_ns))
		return NAN;
	v = wake_ns - (isnan(notify_ns) ? 0 : notify_ns);
	return v > 0 ? v : 0;
}

void pcdev_hist_bucket_range(unsigned int idx, uint64_t *low, uint64_t *width)
{
	unsigned int shift, sub;

	if (idx < PCDEV_HIST_SUB) {
		*low = idx;
		*width = 1;
		return;
	}
	shift = idx / PCDEV_HIST_SUB - 1;
	sub = idx % PCDEV_HIST_SUB;
	*low = (uint64_t)(PCDEV_HIST_SUB + sub) << shift;
	*width = 1ull << shift;
}

double pcdev_hist_quantile(const struct pcdev_hist *h, double q)
{
	uint64_t rank, seen = 0, low, width;
	double mid;
	unsigned int i;

	if (!h->count)
		return -1;
	if (q <= 0)
		q = 0;
	if (q >= 1)
		return (double)h->max;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < PCDEV_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	pcdev_hist_bucket_range(i, &low, &width);
	mid = width == 1 ? (double)low : (double)low + (double)(width - 1) / 2;
	return mid > (double)h->max ? (double)h->max : mid;
}

void pcdev_hist_latency(const struct pcdev_hist *h, double tpn,
			struct pcdev_latency *l)
{
	if (!h->count) {
		l->p50 = l->p95 = l->p98 = l->p99 = l->max = NAN;
		return;
	}
	l->p50 = pcdev_hist_quantile(h, 0.50) / tpn;
	l->p95 = pcdev_hist_quantile(h, 0.95) / tpn;
	l->p98 = pcdev_hist_quantile(h, 0.98) / tpn;
	l->p99 = pcdev_hist_quantile(h, 0.99) / tpn;
	l->max = (double)h->max / tpn;
}
