// SPDX-License-Identifier: GPL-2.0-only
/* Parser for the reference device's published counters. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/devstats.h"
#include "pcdev/pcdev.h"
#include "core/safefile.h"
#include "core/sysfs.h"

int vs_devstats_path(pid_t pid, char *buf, size_t len)
{
	return vs_path(buf, len, PCDEV_STATS_FMT, (int)pid);
}

int vs_devstats_read(const char *path, struct vs_devstats *st)
{
	char line[256], name[64], value[64];
	bool any = false;
	FILE *f;

	memset(st, 0, sizeof(*st));
	f = vs_fopen_rooted(path);
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		char *end;

		if (sscanf(line, "%63s %63s", name, value) != 2)
			continue;
		if (!strcmp(name, "backend")) {
			snprintf(st->backend, sizeof(st->backend), "%.15s", value);
			any = true;
			continue;
		}
		errno = 0;
		v = strtoull(value, &end, 10);
		if (errno || *end)
			continue;
		any = true;
		if (!strcmp(name, "items_produced")) {
			st->items_produced = v;
		} else if (!strcmp(name, "items_consumed")) {
			st->items_consumed = v;
			st->have_items = true;
		} else if (!strcmp(name, "kicks")) {
			st->kicks = v;
			st->have_kicks = true;
		} else if (!strcmp(name, "interrupts")) {
			st->interrupts = v;
			st->have_interrupts = true;
		} else if (!strcmp(name, "len")) {
			st->len = (unsigned int)v;
		} else if (!strcmp(name, "producer_tid")) {
			st->producer_tid = (pid_t)v;
		} else if (!strcmp(name, "consumer_tid")) {
			st->consumer_tid = (pid_t)v;
		} else if (!strcmp(name, "vcpu_tid")) {
			st->vcpu_tid = (pid_t)v;
		} else if (!strcmp(name, "dmax_ns")) {
			st->dmax_ns = v;
		}
	}
	fclose(f);
	return any ? 0 : -EINVAL;
}
