/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PLACEMENT_SRC_H
#define VS_PLACEMENT_SRC_H

/*
 * What the placement audit reads from the live system (all through
 * vs_path(), so tests run on fixture trees):
 *  - where a VM's guest memory is: /proc/PID/numa_maps, summed per node;
 *  - the interrupts of the VM's devices and NICs with their affinity: the
 *    NICs bridged to its taps (/sys/class/net/TAP/master, the bridge's
 *    brif/, each NIC's device/msi_irqs/), the devices of the VFIO groups it
 *    holds (/proc/PID/fd -> /dev/vfio/N, /sys/kernel/iommu_groups/N/devices),
 *    and inside a guest its virtio queues; /proc/interrupts for names and
 *    counts, /proc/irq/N/{smp,effective}_affinity_list;
 *  - whether interrupts reach a running vCPU without an exit: APICv and IPI
 *    virtualization (kvm_intel), AVIC (kvm_amd), from the module parameters.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cpuonline.h"
#include "sources/discover.h"

#define VS_MEM_MAX_NODES	16
#define VS_IRQ_MAX		32

struct vs_mem_node {
	int node;
	uint64_t kb;
};

struct vs_mem_nodes {
	bool known;
	char why[96];			/* when not known */
	uint64_t total_kb;
	unsigned int n;
	struct vs_mem_node nodes[VS_MEM_MAX_NODES];	/* most memory first */
};

struct vs_irq_info {
	unsigned int irq;
	char name[48];			/* as /proc/interrupts names it */
	char owner[64];			/* "eth0 (on br0 with tap0)", "vfio 0000:01:00.0" */
	struct vs_cpuset affinity;	/* smp_affinity_list */
	struct vs_cpuset effective;	/* effective_affinity_list (or affinity) */
	uint64_t count;			/* since boot, all CPUs */
	int busiest_cpu;		/* -1 when it never fired */
};

struct vs_virt_irq {
	bool known;
	char module[16];		/* "kvm_intel", "kvm_amd", "" */
	int apicv, ipiv, avic;		/* 1 on, 0 off, -1 not reported */
	char why[120];			/* when not known: what the host has */
};

/* Guest memory per NUMA node of process pid. -ESRCH gone; m->known false
 * with the reason when numa_maps is missing or unreadable. */
int vs_mem_nodes_read(pid_t pid, struct vs_mem_nodes *m);

/* The interrupts that serve vm (see above); inside a guest (vm NULL) its
 * virtio interrupts. Returns how many were found, at most max. */
unsigned int vs_vm_irqs_read(const struct vs_vm *vm, struct vs_irq_info *out,
			     unsigned int max);

int vs_virt_irq_read(struct vs_virt_irq *v);

#endif
