/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TOOLS_BENCH_MQ_H
#define VS_TOOLS_BENCH_MQ_H

#include <stdbool.h>

/*
 * bench --queues N: the raw text of the options that apply (NULL: not
 * given); single_only names an option given that only applies to one
 * queue (or NULL). Returns the exit status.
 */
struct bench_mq_args {
	const char *queues, *pollers, *rate, *burst, *wp, *wc, *len, *batch;
	const char *idle, *starve, *duration, *pin_pollers, *pin_producers;
	const char *rt, *dmax, *backend, *ring, *seed, *halt_poll;
	const char *single_only;
};

int bench_mq(const struct bench_mq_args *a, int argc, char **argv);

/* What both shapes of bench say before and after a run: whether /dev/kvm
 * opens for --backend kvm (0, or VS_EXIT_FAIL after one line), and why
 * --rt failed (err -EPERM). */
int bench_kvm_usable(void);
void bench_rt_error(int err);

/* "20k,5k" onto per-queue values, the last repeated; 0 or -EINVAL after
 * one line naming the option. */
int bench_mq_parse_rates(const char *opt, const char *text, double *out,
			 unsigned int n);

/* Numbers from 1 to 4096 (a mean burst), times (0 to 1 ms) and counts
 * (1 to 4096). */
int bench_mq_parse_numbers(const char *opt, const char *text, double *out,
			   unsigned int n);
/* The same for times (0 to 1 ms) and counts (1 to 4096). */
int bench_mq_parse_times(const char *opt, const char *text, double *out,
			 unsigned int n);
int bench_mq_parse_counts(const char *opt, const char *text, unsigned int *out,
			  unsigned int n);

#endif
