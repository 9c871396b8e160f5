/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_INTERRUPTS_H
#define VS_INTERRUPTS_H

/*
 * The one reader of /proc/interrupts: a header of CPU columns, then one line
 * per numbered IRQ with its count on each CPU and, last, the name of the
 * action ("virtio1-req.0", "eth0-TxRx-3"). Lines without a number (NMI:,
 * LOC:, ...) are skipped. The guest counters and the placement audit both
 * walk it through here.
 */

#include <stddef.h>

#define VS_IRQ_NAME_LEN 48

struct vs_irq_line {
	unsigned int irq;
	const char *name;
	unsigned int ncpu;
	const unsigned long long *per_cpu;	/* ncpu counts */
};

/* fn returns 0 to go on, non-zero to stop (returned). */
typedef int (*vs_irq_line_fn)(const struct vs_irq_line *l, void *arg);

/* Walk text in memory; -EINVAL when it has no CPU header. */
int vs_interrupts_parse(const char *text, vs_irq_line_fn fn, void *arg);
/* The same over /proc/interrupts (under VIRTSYNC_ROOT); -errno. */
int vs_interrupts_read(vs_irq_line_fn fn, void *arg);

#endif
