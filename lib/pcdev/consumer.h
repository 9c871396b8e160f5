/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_CONSUMER_H
#define VS_PCDEV_CONSUMER_H

/*
 * C, the consumer side of the reference device, written once for both
 * backends: it drains a virtqueue whose producer is a host thread (thread
 * backend) or a KVM guest (kvm backend; the ring lives in guest RAM, the
 * kick eventfd is an ioeventfd and the interrupt eventfd an irqfd). It waits
 * as its mode says (notify, sleep, poll, busyloop), follows the control file
 * (ctl.h), stamps item latencies into a histogram and measures Wc, Nc, Sc,
 * Yc and Yz (paper Sec. 4.2.1).
 */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "pcdev/backend.h"
#include "pcdev/ctl.h"
#include "pcdev/ring.h"

struct pcdev_consumer;

/* What the consumer asks of its backend. */
struct pcdev_consumer_ops {
	/*
	 * The control file asks for consumer mode `m` with the values in `f`:
	 * apply what belongs to the backend (e.g. KVM_CAP_HALT_POLL), tell P
	 * whether C now waits for kicks; false refuses the mode (C keeps its
	 * own, the values in f are still taken).
	 */
	bool (*ctl_apply)(struct pcdev_consumer *c, const struct vs_pcdev_ctl *f,
			  enum pcdev_mode m);
};

struct pcdev_consumer {
	/* Set by the backend before C runs. */
	struct pcdev_run *run;
	struct vs_vring vr;
	const struct vs_item *items;	/* buffer of descriptor i, host view */
	int kick_fd;			/* C blocks on it (ioeventfd for kvm) */
	int intr_fd;			/* C writes it to interrupt P (irqfd) */
	unsigned int kp;
	bool intr_on;			/* P waits for interrupts */
	/*
	 * At the end of the run consume what P published before it stopped
	 * (kvm: the guest's last items), instead of stopping at once.
	 */
	bool drain;
	int64_t p_tsc_offset;		/* P's TSC - host TSC (a guest's) */
	const volatile uint64_t *kick_tsc;	/* P's TSC before its last kick */
	volatile uint64_t *intr_tsc;	/* P's TSC before C's last interrupt */
	unsigned int sample;		/* 1 item in `sample` stamped (2^n) */
	uint64_t cap;			/* end the run after this many, 0: no */
	uint64_t wc_t;			/* emulated work per item, ticks */
	const struct pcdev_consumer_ops *ops;
	void *backend;

	/* C's mode and its values: the configuration's, then the file's. */
	enum pcdev_mode mode;
	uint64_t busy_t;
	struct timespec yc;
	struct pcdev_ctl_state ctl;

	struct pcdev_hist *hist;	/* item latencies, host TSC ticks */
	uint64_t seq_errors;		/* stamped items out of order */
	struct pcdev_side s;
};

/*
 * Fill the consumer from the configuration (mode, Yc, busy-loop budget, Wc,
 * kp, sample rate) and allocate its histogram (and trace with a trace
 * path); the backend sets the ring, fds and time stamps. -ENOMEM.
 */
int pcdev_consumer_init(struct pcdev_consumer *c, const struct pcdev_config *cfg,
			struct pcdev_run *run);
void pcdev_consumer_destroy(struct pcdev_consumer *c);
/* The control file, with C's starting values and `halt_poll_ns`. */
void pcdev_consumer_ctl_open(struct pcdev_consumer *c,
			     const struct pcdev_config *cfg,
			     uint64_t halt_poll_ns);
/* C's loop until the run ends, in the calling (set-up) thread. */
void pcdev_consumer_run(struct pcdev_consumer *c);
/*
 * C's share of the results: items consumed, interrupts, spurious kicks,
 * sleeps, blocks, wake-ups, CPU time, latency, Wc, Nc, Yc and Yz (C's own),
 * Sc as the raw delay from P's kick to C running (the backend knows whether
 * the notifier's cost is inside it), and notes.
 */
void pcdev_consumer_results(const struct pcdev_consumer *c,
			    struct pcdev_results *res);

/*
 * With no emulated work (Wp = Wc = 0) the TSC read is most of an item's
 * cost on each side (about 10 ns here, against a few ns for the ring
 * itself), so P stamps only the items whose sequence number is a multiple
 * of PCDEV_LATENCY_SAMPLE and C measures the latency (and W) of those; and P
 * publishes avail->idx once per PCDEV_PUBLISH_GROUP items, as a driver does
 * under xmit_more, so that C does not pull the index line over item by item.
 * The other buffers carry nothing and are not touched. Any Wp or Wc, an
 * event trace or a guest producer stamps and publishes every item.
 */
#define PCDEV_LATENCY_SAMPLE	64
#define PCDEV_PUBLISH_GROUP	16	/* divides PCDEV_LATENCY_SAMPLE */

#endif
