// SPDX-License-Identifier: GPL-2.0-only
/* KVM kick addresses to virtqueues (see notify.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/notify.h"
#include "sources/probe.h"

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

/* ---- from QMP query-pci ------------------------------------------------- */

/* A BAR address as query-pci gives it; 0 when the guest has not
 * programmed it (QEMU reports PCI_BAR_UNMAPPED, -1). */
static uint64_t bar_addr(json_t *fn, int bar, const char *type, uint64_t *size)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(fn, "regions"), i, r) {
		json_int_t a = json_integer_value(json_object_get(r, "address"));
		const char *t = json_string_value(json_object_get(r, "type"));

		if (json_integer_value(json_object_get(r, "bar")) != bar || !t || strcmp(t, type))
			continue;
		if (size)
			*size = (uint64_t)json_integer_value(json_object_get(r, "size"));
		return a > 0 && a != -1 ? (uint64_t)a : 0;
	}
	return 0;
}

/* The PCI function of pd: its qdev_id, else its devfn when exactly one
 * anonymous virtio function has it (buses behind bridges included). */
static void find_fn(json_t *devices, const struct vs_notify_pci_dev *pd, json_t **by_id,
		    json_t **by_devfn, unsigned int *n_devfn)
{
	json_t *fn;
	size_t i;

	json_array_foreach(devices, i, fn) {
		const char *id = json_string_value(json_object_get(fn, "qdev_id"));
		json_t *vid = json_object_get(json_object_get(fn, "id"), "vendor");
		int devfn = (int)(json_integer_value(json_object_get(fn, "slot")) << 3 |
				  json_integer_value(json_object_get(fn, "function")));
		json_t *bridge = json_object_get(fn, "pci_bridge");

		if (pd->qdev_id && pd->qdev_id[0] && id && !strcmp(id, pd->qdev_id))
			*by_id = fn;
		else if ((!id || !id[0]) && pd->devfn >= 0 && devfn == pd->devfn &&
			 json_integer_value(vid) == VS_VIRTIO_PCI_VENDOR) {
			*by_devfn = fn;
			(*n_devfn)++;
		}
		if (bridge)
			find_fn(json_object_get(bridge, "devices"), pd, by_id, by_devfn, n_devfn);
	}
}

int vs_notify_add_query_pci(struct vs_notify_map *m, json_t *query_pci, unsigned int dev,
			    const struct vs_notify_pci_dev *pd, char *desc, size_t desc_len)
{
	json_t *bus, *fn = NULL, *by_devfn = NULL;
	uint64_t mem, io_modern, legacy, mem_size = 0;
	unsigned int n_devfn = 0;
	size_t i;
	int n = 0, err = 0, nb;

	if (desc_len)
		desc[0] = '\0';
	json_array_foreach(query_pci, i, bus)
		find_fn(json_object_get(bus, "devices"), pd, &fn, &by_devfn, &n_devfn);
	if (!fn && n_devfn == 1)
		fn = by_devfn;
	if (!fn)
		return -ENOENT;
	nb = (int)json_integer_value(json_object_get(fn, "bus"));
	mem = bar_addr(fn, VS_QEMU_MODERN_MEM_BAR, "memory", &mem_size);
	io_modern = pd->modern_pio ? bar_addr(fn, VS_QEMU_MODERN_IO_BAR, "io", NULL) : 0;
	legacy = bar_addr(fn, 0, "io", NULL);
	/* a BAR smaller than where the notify region would be is not QEMU's
	 * modern layout: leave it out rather than map a wrong address */
	if (mem && mem_size < pd->notify_offset + (uint64_t)pd->multiplier * pd->n_queues)
		mem = 0;
	n = snprintf(desc, desc_len, "%02x:%02x.%x", nb,
		     (unsigned int)json_integer_value(json_object_get(fn, "slot")),
		     (unsigned int)json_integer_value(json_object_get(fn, "function")));
	if (pd->modern != 0 && mem) {
		err = vs_notify_add_modern(m, dev, mem, pd->notify_offset, pd->multiplier,
					   pd->n_queues, NULL);
		if (n >= 0 && (size_t)n < desc_len)
			n += snprintf(desc + n, desc_len - (size_t)n,
				      " BAR%d 0x%" PRIx64 "+0x%" PRIx64 "+%u*q",
				      VS_QEMU_MODERN_MEM_BAR, mem, pd->notify_offset,
				      pd->multiplier);
		if (!err && io_modern) {
			unsigned int q;

			for (q = 0; !err && q < pd->n_queues; q++)
				err = vs_notify_add(m, VS_NOTIFY_PIO, io_modern, q, dev, q);
			if (n >= 0 && (size_t)n < desc_len)
				n += snprintf(desc + n, desc_len - (size_t)n,
					      " BAR%d 0x%" PRIx64 "=q", VS_QEMU_MODERN_IO_BAR,
					      io_modern);
		}
	}
	if (!err && pd->modern != 1 && legacy) {
		err = vs_notify_add_legacy(m, dev, legacy, pd->n_queues);
		if (n >= 0 && (size_t)n < desc_len)
			snprintf(desc + n, desc_len - (size_t)n, " BAR0 0x%" PRIx64 "+%d=q",
				 legacy, VS_VIRTIO_PCI_LEGACY_NOTIFY);
	}
	if (err)
		return err;
	/* nothing the guest uses is programmed yet */
	if (!(pd->modern != 0 && mem) && !(pd->modern != 1 && legacy))
		return -EINVAL;
	return 0;
}

const struct vs_notify_entry *vs_notify_of_queue(const struct vs_notify_map *m,
						 unsigned int dev, unsigned int queue)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].dev == dev && m->e[i].queue == queue)
			return &m->e[i];
	return NULL;
}

void vs_notify_entry_str(const struct vs_notify_entry *e, char *buf, size_t len)
{
	const char *sp = e->space == VS_NOTIFY_PIO ? "pio" : "mmio";

	if (e->value >= 0)
		snprintf(buf, len, "%s 0x%" PRIx64 " = %" PRId64, sp, e->addr, e->value);
	else
		snprintf(buf, len, "%s 0x%" PRIx64, sp, e->addr);
}

int vs_notify_count_probe(const struct vs_notify_map *m,
			  const struct vs_probe_snapshot *snap, pid_t pid,
			  struct vs_notify_counts *c)
{
	unsigned int i, dev, queue, at;

	c->matched = c->unmatched = 0;
	for (i = 0; i < snap->n_kick_addrs; i++) {
		const struct vs_probe_kick_addr *k = &snap->kick_addrs[i];
		enum vs_notify_space space = k->space == VS_KICK_SPACE_PIO ? VS_NOTIFY_PIO :
					     VS_NOTIFY_MMIO;

		if (k->tgid != pid || !k->count)
			continue;
		if (vs_notify_lookup(m, space, k->addr, k->value, &dev, &queue)) {
			c->unmatched += k->count;
			continue;
		}
		at = dev * c->per_dev + queue;
		if (queue >= c->per_dev || at >= c->n_counts)
			return -ERANGE;
		c->counts[at] += k->count;
		c->matched += k->count;
	}
	return 0;
}
