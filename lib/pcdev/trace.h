/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_TRACE_H
#define VS_PCDEV_TRACE_H

/*
 * The event trace of paper Sec. 4.2.1: P and C each append (type, TSC, seq)
 * records to their own circular array (no sharing, no syscalls), and the two
 * arrays are merged by TSC when the run ends. The array keeps the last
 * PCDEV_TRACE_ORDER-power-of-two events of each side.
 */

#include <stdint.h>
#include <stdio.h>

enum pcdev_trace_type {
	PCDEV_EV_PUBLISH,	/* (i) P published an item */
	PCDEV_EV_SEE,		/* (ii) C saw a new item */
	PCDEV_EV_KICK,		/* (iii) P completed a notification to C */
	PCDEV_EV_P_WAIT,	/* (iv) P blocks or sleeps: queue full */
	PCDEV_EV_INTR,		/* (v) C completed a notification to P */
	PCDEV_EV_C_WAIT,	/* (vi) C blocks or sleeps: queue empty */
	PCDEV_EV_COUNT,
};

#define PCDEV_TRACE_ORDER	20

struct pcdev_trace_rec {
	uint64_t tsc;
	uint32_t seq;	/* next item to be produced (P) or consumed (C) */
	uint32_t type;
};

struct pcdev_trace_buf {
	struct pcdev_trace_rec *rec;	/* NULL: tracing off */
	uint64_t n;			/* records ever added */
	uint64_t mask;
};

static inline void pcdev_trace_add(struct pcdev_trace_buf *b,
				   enum pcdev_trace_type type, uint64_t tsc,
				   uint64_t seq)
{
	struct pcdev_trace_rec *r;

	if (!b->rec)
		return;
	r = &b->rec[b->n++ & b->mask];
	r->tsc = tsc;
	r->seq = (uint32_t)seq;
	r->type = type;
}

const char *pcdev_trace_name(enum pcdev_trace_type type);
int pcdev_trace_alloc(struct pcdev_trace_buf *b, unsigned int order);
void pcdev_trace_free(struct pcdev_trace_buf *b);

/*
 * Merge P's and C's records by TSC and write them to `f`, one event per
 * line (format in virtsync-bench(8)). -EIO on a write error.
 */
int pcdev_trace_write(FILE *f, const struct pcdev_trace_buf *p,
		      const struct pcdev_trace_buf *c, uint64_t tsc_start,
		      double tsc_per_ns);

#endif
