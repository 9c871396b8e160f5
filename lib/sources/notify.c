// SPDX-License-Identifier: GPL-2.0-only
/* KVM kick addresses to virtqueues (see notify.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/notify.h"

int vs_notify_add(struct vs_notify_map *m, enum vs_notify_space space, uint64_t addr,
		  int64_t value, unsigned int dev, unsigned int queue)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].space == space && m->e[i].addr == addr && m->e[i].value == value)
			return -EEXIST;
	if (m->n == VS_NOTIFY_MAX)
		return -ENOSPC;
	m->e[m->n++] = (struct vs_notify_entry){
		.space = space, .addr = addr, .value = value, .dev = dev, .queue = queue,
	};
	return 0;
}

int vs_notify_add_modern(struct vs_notify_map *m, unsigned int dev, uint64_t bar,
			 uint64_t cap_offset, uint32_t multiplier, unsigned int n_queues,
			 const uint16_t *notify_off)
{
	unsigned int q;
	int err;

	if (!bar)
		return -EINVAL;		/* not programmed by the guest yet */
	for (q = 0; q < n_queues; q++) {
		uint64_t off = notify_off ? notify_off[q] : q;

		/* multiplier 0: every queue shares one address (spec 4.1.4.4),
		 * then the value written (the queue index) tells them apart */
		err = vs_notify_add(m, VS_NOTIFY_MMIO, bar + cap_offset + off * multiplier,
				    multiplier ? -1 : (int64_t)q, dev, q);
		if (err)
			return err;
	}
	return 0;
}

int vs_notify_add_legacy(struct vs_notify_map *m, unsigned int dev, uint64_t port,
			 unsigned int n_queues)
{
	unsigned int q;
	int err;

	if (!port)
		return -EINVAL;
	for (q = 0; q < n_queues; q++) {
		err = vs_notify_add(m, VS_NOTIFY_PIO, port + VS_VIRTIO_PCI_LEGACY_NOTIFY,
				    q, dev, q);
		if (err)
			return err;
	}
	return 0;
}

int vs_notify_lookup(const struct vs_notify_map *m, enum vs_notify_space space,
		     uint64_t addr, int64_t value, unsigned int *dev, unsigned int *queue)
{
	const struct vs_notify_entry *any = NULL;
	unsigned int i, n_any = 0;

	for (i = 0; i < m->n; i++) {
		const struct vs_notify_entry *e = &m->e[i];

		if (e->space != space || e->addr != addr)
			continue;
		if (e->value == value || (value >= 0 && e->value < 0)) {
			*dev = e->dev;
			*queue = e->queue;
			return 0;
		}
		/* a write without its value at a shared address: only when
		 * one queue is behind it */
		if (value < 0) {
			any = e;
			n_any++;
		}
	}
	if (n_any == 1) {
		*dev = any->dev;
		*queue = any->queue;
		return 0;
	}
	return -ENOENT;
}

/* The text after the tracepoint's name: "kvm_pio: ..." in perf script
 * ("kvm:kvm_pio: ") and ftrace alike. */
static const char *after(const char *line, const char *name)
{
	const char *p = strstr(line, name);

	return p ? p + strlen(name) : NULL;
}

int vs_notify_parse_line(const char *line, enum vs_notify_space *space, uint64_t *addr,
			 int64_t *value)
{
	unsigned long long a, v;
	unsigned int size, count, len;
	char rw[16];
	const char *p;

	/* "pio_write at 0x510 size 2 count 1 val 0x0" */
	if ((p = after(line, "kvm_pio: "))) {
		if (sscanf(p, "pio_%15s at %llx size %u count %u val %llx", rw, &a, &size,
			   &count, &v) < 2 || strcmp(rw, "write"))
			return 0;
		*space = VS_NOTIFY_PIO;
		*addr = a;
		*value = sscanf(p, "pio_%*s at %*x size %*u count %*u val %llx", &v) == 1 ?
			 (int64_t)v : -1;
		return 1;
	}
	/* "mmio write len 2 gpa 0xfe003000 val 0x1" */
	if ((p = after(line, "kvm_mmio: "))) {
		if (sscanf(p, "mmio %15s len %u gpa %llx val %llx", rw, &len, &a, &v) != 4 ||
		    strcmp(rw, "write"))
			return 0;
		*space = VS_NOTIFY_MMIO;
		*addr = a;
		*value = (int64_t)v;
		return 1;
	}
	/* "fast mmio at gpa 0xfe003004" */
	if ((p = after(line, "kvm_fast_mmio: "))) {
		if (sscanf(p, "fast mmio at gpa %llx", &a) != 1)
			return 0;
		*space = VS_NOTIFY_MMIO;
		*addr = a;
		*value = -1;
		return 1;
	}
	return 0;
}

int vs_notify_count_trace(const struct vs_notify_map *m, FILE *f,
			  struct vs_notify_counts *c)
{
	char line[512];

	c->matched = c->unmatched = 0;
	while (fgets(line, sizeof(line), f)) {
		enum vs_notify_space space;
		unsigned int dev, queue, at;
		uint64_t addr;
		int64_t value;

		if (!vs_notify_parse_line(line, &space, &addr, &value))
			continue;
		if (vs_notify_lookup(m, space, addr, value, &dev, &queue)) {
			c->unmatched++;
			continue;
		}
		at = dev * c->per_dev + queue;
		if (queue >= c->per_dev || at >= c->n_counts)
			return -ERANGE;
		c->counts[at]++;
		c->matched++;
	}
	return ferror(f) ? -EIO : 0;
}
