/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_DEVSTATS_H
#define VS_DEVSTATS_H

/*
 * The reference device's public counters (lib/pcdev/pcdev.h,
 * PCDEV_STATS_FMT): one "name value" per line, rewritten atomically. This is
 * the outside observer's view, like a NIC's packet counters.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct vs_devstats {
	uint64_t items_produced, items_consumed, kicks, interrupts;
	unsigned int len;		/* 0 when not published */
	char backend[16];		/* "thread", "kvm" or "" */
	pid_t producer_tid, consumer_tid, vcpu_tid;	/* 0 when absent */
	uint64_t dmax_ns;		/* the device's latency bound, 0 when none */
	bool have_items, have_kicks, have_interrupts;
};

/* -errno from open/read; -EINVAL when no known counter was found. Unknown
 * names are ignored so that the device may publish more later. */
int vs_devstats_read(const char *path, struct vs_devstats *st);

/* Build the path of a device's stats file under vs_path(). */
int vs_devstats_path(pid_t pid, char *buf, size_t len);

#endif
