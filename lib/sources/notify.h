/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_NOTIFY_H
#define VS_NOTIFY_H

/*
 * Which virtqueue a KVM kick is for. On a KVM host a guest kicks a queue by
 * writing its notify address, and KVM signals the queue's ioeventfd without
 * leaving the kernel; the tracepoints that see it carry the address:
 * kvm:kvm_pio (port), kvm:kvm_mmio (gpa, value) and kvm:kvm_fast_mmio (gpa).
 * A map from address to (device, queue) turns those into per-queue kicks.
 *
 * Where the addresses are (the virtio 1.x spec, 4.1.4.4):
 *   modern virtio-pci: the notify capability's BAR base + cap offset +
 *     queue_notify_off * notify_off_multiplier. QEMU puts the notify region
 *     at offset 0x3000 of its modern memory BAR (4) with multiplier 4 and
 *     queue_notify_off = the queue's index (hw/virtio/virtio-pci.c), unless
 *     page-per-vq; the BAR's address comes from QMP query-pci.
 *   legacy virtio-pci: port BAR0 + 16 (VIRTIO_PCI_QUEUE_NOTIFY), the value
 *     written is the queue's index.
 *   anything else (the reference device: port 0x510): one address per queue.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

/* 8 devices x 16 queues x 2 transports (vqueue.h's caps) */
#define VS_NOTIFY_MAX 256

enum vs_notify_space {
	VS_NOTIFY_PIO,
	VS_NOTIFY_MMIO,
};

struct vs_notify_entry {
	enum vs_notify_space space;
	uint64_t addr;
	int64_t value;			/* the value written, -1: any */
	unsigned int dev, queue;
};

struct vs_notify_map {
	unsigned int n;
	struct vs_notify_entry e[VS_NOTIFY_MAX];
};

/* QEMU's modern virtio-pci notify region (hw/virtio/virtio-pci.c). */
#define VS_QEMU_NOTIFY_OFFSET 0x3000
#define VS_QEMU_NOTIFY_MULTIPLIER 4
#define VS_VIRTIO_PCI_LEGACY_NOTIFY 16

/* -ENOSPC when full, -EEXIST when (space, addr, value) is mapped already. */
int vs_notify_add(struct vs_notify_map *m, enum vs_notify_space space, uint64_t addr,
		  int64_t value, unsigned int dev, unsigned int queue);
/* A modern device: n_queues queues, queue q at bar + cap_offset +
 * notify_off[q] * multiplier (notify_off NULL: q itself, as QEMU does). */
int vs_notify_add_modern(struct vs_notify_map *m, unsigned int dev, uint64_t bar,
			 uint64_t cap_offset, uint32_t multiplier, unsigned int n_queues,
			 const uint16_t *notify_off);
/* A legacy device: its I/O BAR 0 at port, the queue index written. */
int vs_notify_add_legacy(struct vs_notify_map *m, unsigned int dev, uint64_t port,
			 unsigned int n_queues);
/* The queue a write of value at addr kicks: 0, or -ENOENT. value -1: not
 * known (kvm_fast_mmio carries none). */
int vs_notify_lookup(const struct vs_notify_map *m, enum vs_notify_space space,
		     uint64_t addr, int64_t value, unsigned int *dev, unsigned int *queue);

/*
 * One trace line (perf script or ftrace text) of kvm_pio, kvm_mmio or
 * kvm_fast_mmio: 1 and the write's space, address and value (-1 when the
 * event has none); 0 for any other line or a read.
 */
int vs_notify_parse_line(const char *line, enum vs_notify_space *space, uint64_t *addr,
			 int64_t *value);

/* Kicks per queue of a recorded trace: counts[dev * per_dev + queue]. */
struct vs_notify_counts {
	unsigned int per_dev;		/* queues per device in counts */
	uint64_t *counts;		/* caller's, zeroed */
	unsigned int n_counts;
	uint64_t matched, unmatched;	/* kick writes mapped and not */
};
int vs_notify_count_trace(const struct vs_notify_map *m, FILE *f,
			  struct vs_notify_counts *c);

/*
 * The map from QMP. query-pci gives each PCI function's BARs as the guest
 * programmed them (bar, type io/memory, address, size) and the -device id
 * as qdev_id; QMP does not give the virtio capabilities, so where the
 * notify region sits in the BAR is QEMU's layout (hw/virtio/virtio-pci.c):
 * modern memory BAR 4, the region at the offset that QOM's
 * virtio-pci-notify-* memory region child reports (0x3000), multiplier 4
 * (0x1000 with page-per-vq), queue_notify_off = the queue index; with
 * modern-pio-notify also I/O BAR 2 + 0, the queue index written; legacy
 * I/O BAR 0 + 16, the queue index written. What vqueue.c asks of QMP
 * besides query-pci goes in here.
 */
struct vs_notify_pci_dev {
	const char *qdev_id;		/* -device id=, "" or NULL: anonymous */
	int devfn;			/* the proxy's qom "addr" (slot << 3 | fn), -1 */
	unsigned int n_queues;
	int modern;			/* guest has VIRTIO_F_VERSION_1: 1, 0 legacy,
					 * -1 unknown: both transports mapped */
	uint64_t notify_offset;		/* VS_QEMU_NOTIFY_OFFSET unless QOM says */
	uint32_t multiplier;		/* VS_QEMU_NOTIFY_MULTIPLIER, 0x1000 page-per-vq */
	bool modern_pio;		/* modern-pio-notify=on */
};

#define VS_VIRTIO_PCI_VENDOR 0x1af4
#define VS_QEMU_MODERN_MEM_BAR 4
#define VS_QEMU_MODERN_IO_BAR 2
#define VS_QEMU_PAGE_PER_VQ_MULTIPLIER 0x1000

/*
 * Add device dev's queues to m from a query-pci reply (the "return"
 * array). desc gets what was used ("00:02.0 BAR4 0xfebf8000+0x3000+4*q").
 * -ENOENT: no PCI function is this device; -EINVAL: its notify BAR is not
 * programmed (the guest has not set it up yet); -ENOSPC/-EEXIST as above.
 */
int vs_notify_add_query_pci(struct vs_notify_map *m, json_t *query_pci, unsigned int dev,
			    const struct vs_notify_pci_dev *pd, char *desc, size_t desc_len);

/* The first address mapped to (dev, queue), NULL when none. */
const struct vs_notify_entry *vs_notify_of_queue(const struct vs_notify_map *m,
						 unsigned int dev, unsigned int queue);

/* "pio 0xc050 = 1", "mmio 0xfebfb004" */
void vs_notify_entry_str(const struct vs_notify_entry *e, char *buf, size_t len);

/*
 * Kicks per queue of process pid from the probes' per-address counts
 * (struct vs_probe_snapshot kick_addrs), as vs_notify_count_trace() does
 * for a recorded trace: matched counts kicks at mapped addresses,
 * unmatched the VM's other writes (a serial console, the PIC...).
 */
struct vs_probe_snapshot;
int vs_notify_count_probe(const struct vs_notify_map *m,
			  const struct vs_probe_snapshot *snap, pid_t pid,
			  struct vs_notify_counts *c);

#endif
