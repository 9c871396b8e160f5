/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_GUEST_H
#define VS_GUEST_H

/*
 * When virtsync itself runs inside a KVM guest, the guest side of every
 * virtqueue is visible: interrupts per virtqueue (MSI-X vector names such as
 * virtio1-req.0 in /proc/interrupts), block requests (/proc/diskstats) and
 * packets (/proc/net/dev), and the guest's own idle knobs (cpuidle-haltpoll,
 * C-states). All paths go through vs_path().
 */

#include <stdbool.h>
#include <stdint.h>

#define VS_MAX_VQS	64
#define VS_MAX_CSTATES	10

struct vs_cstate {
	char name[16];
	unsigned int latency_us;	/* exit latency cpuidle declares */
	bool disabled;			/* on cpu0 */
};

struct vs_guest_info {
	bool is_guest;
	bool cpuid_hv;			/* CPUID.1:ECX bit 31 */
	bool cpuinfo_hv;		/* "hypervisor" flag in /proc/cpuinfo */
	char cpuidle_driver[32];	/* "" when unknown */
	bool haltpoll_loaded;		/* /sys/module/haltpoll exists */
	int64_t guest_halt_poll_ns;	/* -1 when absent */
	bool guest_halt_poll_writable;
	unsigned int n_cstates;
	struct vs_cstate cstates[VS_MAX_CSTATES];
};

/* Never fails on a host: is_guest is then false. */
int vs_guest_detect(struct vs_guest_info *g);

/* One virtio interrupt vector: name and count summed over CPUs. */
struct vs_vq_irq {
	char name[48];		/* "virtio1-req.0" */
	unsigned int irq;
	uint64_t count;
};

struct vs_guest_counters {
	unsigned int n_vqs;
	struct vs_vq_irq vqs[VS_MAX_VQS];
	uint64_t disk_ios;	/* reads + writes completed, whole disks */
	uint64_t net_packets;	/* rx + tx packets, non-loopback */
	bool have_irqs, have_disk, have_net;
};

/* Snapshot the counters; parts that cannot be read are left unset. */
int vs_guest_counters_read(struct vs_guest_counters *c);

/* Parse /proc/interrupts text already in memory (for tests). */
int vs_guest_parse_interrupts(const char *text, struct vs_guest_counters *c);

#endif
