/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_HANDOFF_H
#define VS_HANDOFF_H

/*
 * The hand-off cost of one message between two CPUs, for each ring layout
 * of the reference device: Fip-see's experiment (seed 001, Sec. 5.1.1). P,
 * pinned to one CPU, sends `batch` requests, then polls for their
 * responses; C, pinned to the other, polls for requests and answers each
 * as soon as it sees it. The cost of a message is the time of a batch's
 * round trip divided by the batch: with batch 1 it is one full exchange,
 * and larger batches show how much of it streaming hides.
 *   virtio  the split virtqueue (ring.h): requests through desc/avail, one
 *           avail->idx store per batch; responses through used, one
 *           used->idx store per message
 *   slots   Fip-see's rings (slots.h): one line per message each way, a
 *           flag in each, no index
 */

#include <stddef.h>

#include "pcdev/pcdev.h"

struct vs_handoff_opts {
	int cpu_p, cpu_c;
	unsigned int batch;		/* messages per round trip, 1..len/2 */
	unsigned int batches;		/* round trips measured (after warm-up) */
	unsigned int len;		/* ring slots, power of two, >= 2 * batch */
};

struct vs_handoff {
	double ns_per_msg;		/* median over the batches */
	double cycles_per_msg;		/* the same in TSC ticks */
	double p10_ns, p90_ns;		/* spread of the batches, per message */
	unsigned int batches;
};

void vs_handoff_opts_default(struct vs_handoff_opts *o);

/* -EINVAL (err filled) for bad options or a CPU this process may not use;
 * -ETIMEDOUT when the other side stopped answering (a second). */
int vs_handoff_measure(enum pcdev_ring layout, const struct vs_handoff_opts *o,
		       struct vs_handoff *r, char *err, size_t errlen);

#endif
