/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_CTL_STATE_H
#define VS_PCDEV_CTL_STATE_H

/*
 * The device's side of its control file (lib/pcdev/ctlfile.h): create it with
 * the values the device runs with, look at it at most every
 * PCDEV_CTL_PERIOD_NS from the consumer's wait path (a TSC compare the
 * rest of the time, never a syscall per item), remove it at exit.
 *
 * The consumer's mode follows from the two consumer keys:
 *   consumer_sleep_ns > 0                 sleep, Yc = that
 *   else consumer_busyloop_ns >= 10 s     poll (busy wait, never block)
 *   else consumer_busyloop_ns > 0         busyloop B = that, then notify
 *   else                                  notify
 * so the file a device writes at start maps back to the mode it runs.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pcdev/pcdev.h"
#include "pcdev/ctlfile.h"

#define PCDEV_CTL_PERIOD_NS	5e6
#define PCDEV_CTL_POLL_NS	10000000000ull

struct pcdev_ctl_state {
	bool on;
	pid_t pid;
	struct vs_pcdev_ctl_watch watch;
	struct vs_pcdev_ctl cur;
	uint64_t next_tsc, period_tsc;
	unsigned int changes;	/* values taken from the file */
};

/* The file's consumer keys for a mode (and the reverse). */
void pcdev_ctl_from_mode(enum pcdev_mode m, double yc_ns, double busyloop_ns,
			 struct vs_pcdev_ctl *ctl);
enum pcdev_mode pcdev_ctl_consumer_mode(const struct vs_pcdev_ctl *ctl);

/* Write the file (creating /run/virtsync) with `init`; a failure leaves
 * the device running without a control file (st->on false). */
int pcdev_ctl_open(struct pcdev_ctl_state *st, const struct vs_pcdev_ctl *init);
/* Due (by the TSC) and changed? 1 with st->cur updated, else 0. */
int pcdev_ctl_poll(struct pcdev_ctl_state *st, uint64_t now_tsc);
void pcdev_ctl_close(struct pcdev_ctl_state *st);

#endif
