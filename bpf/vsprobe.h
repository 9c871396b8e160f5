/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VS_BPF_VSPROBE_H
#define VS_BPF_VSPROBE_H

/*
 * Shared between bpf/vsprobe.bpf.c and lib/sources/probe.c: fixed-width types only,
 * no pointers. Everything is aggregated in kernel maps (per-CPU hashes);
 * userspace sums the per-CPU copies when it reads.
 */

#define MAX_SLOTS	36	/* log2 ns histogram: slot 35 holds >= 34 s */
#define VS_TASK_COMM_LEN 16
#define VS_UEXIT_SLOTS	32	/* KVM_EXIT_* 0..29, 30 = other, 31 = errno */
#define VS_UEXIT_OTHER	30
#define VS_UEXIT_ERRNO	31

enum vs_ctr {
	VS_KICK_PIO,		/* kvm_pio with rw = 1 (OUT) */
	VS_KICK_MMIO,		/* kvm_mmio type KVM_TRACE_MMIO_WRITE */
	VS_KICK_FAST_MMIO,	/* kvm_fast_mmio (ioeventfd on EPT misconfig) */
	VS_PIO_IN,		/* kvm_pio reads: not kicks, counted to explain exits */
	VS_IRQ_SET,		/* kvm_set_irq with level != 0 (edge raised) */
	VS_IRQ_MSI,		/* kvm_msi_set_irq */
	VS_IRQ_APIC_ACCEPT,	/* kvm_apic_accept_irq (LAPIC delivery) */
	VS_EXIT,		/* kvm_exit (absent where the vendor module is silent) */
	VS_UEXIT,		/* kvm_userspace_exit */
	VS_HALT_POLLED,		/* kvm_vcpu_wakeup waited = 0: poll succeeded */
	VS_HALT_WAITED,		/* kvm_vcpu_wakeup waited = 1: slept */
	VS_HALT_INVALID,	/* kvm_vcpu_wakeup valid = 0: spurious wake */
	VS_HALT_GROW,		/* kvm_halt_poll_ns grow */
	VS_HALT_SHRINK,		/* kvm_halt_poll_ns shrink */
	VS_WAKEUP,		/* sched_waking (or _wakeup_new) -> switched in */
	VS_SLEEP,		/* completed nanosleep / clock_nanosleep */
	VS_WAIT,		/* voluntary switch-out -> sched_waking */
	VS_NR_CTR,
};

enum vs_sum {
	VS_SUM_HALT_POLLED_NS,
	VS_SUM_HALT_WAITED_NS,
	VS_SUM_WAKEUP_NS,
	VS_SUM_SLEEP_ASKED_NS,	/* relative request (absolute: deadline - entry) */
	VS_SUM_SLEEP_SLEPT_NS,
	VS_SUM_WAIT_NS,
	VS_NR_SUM,
};

enum vs_hist_id {
	VS_HIST_HALT_POLLED,	/* kvm_vcpu_wakeup ns, polled */
	VS_HIST_HALT_WAITED,	/* kvm_vcpu_wakeup ns, waited */
	VS_HIST_WAKEUP,		/* wake-up to run latency, ns */
	VS_HIST_SLEEP_OVER,	/* slept - asked, ns (timer slack + wake-up) */
	VS_HIST_WAIT,		/* a wait's length: voluntary switch-out to the
				 * sched_waking that ends it, ns */
	VS_NR_HIST,
};

struct vs_thread_key {
	__u32 tgid;	/* process the event is charged to (the VM) */
	__u32 tid;	/* thread in whose context it happened */
};

struct vs_thread_val {
	__u64 ctr[VS_NR_CTR];
	__u64 sum[VS_NR_SUM];
	__u64 uexit[VS_UEXIT_SLOTS];
	__u32 hist[VS_NR_HIST][MAX_SLOTS];
	__u32 halt_poll_ns;	/* last kvm_halt_poll_ns "new" value */
	__u32 pad;
	char comm[VS_TASK_COMM_LEN];	/* at first event: threads may be gone
					 * by the time userspace reads */
};

struct vs_exit_key {
	__u32 tgid;
	__u32 tid;
	__u32 isa;	/* 1 VMX, 2 SVM (KVM_ISA_*) */
	__u32 reason;
};

struct vs_pair_key {
	__u32 waker_tgid, waker_tid;	/* 0/0: woken from interrupt or idle */
	__u32 wakee_tgid, wakee_tid;
};

struct vs_pair_val {
	char waker_comm[VS_TASK_COMM_LEN], wakee_comm[VS_TASK_COMM_LEN];
	__u64 count;
	__u64 sum_ns;
	__u32 hist[MAX_SLOTS];
};

/*
 * Kick writes per address (kvm_pio, kvm_mmio, kvm_fast_mmio), so that
 * userspace can map each to the virtqueue whose notify address it is
 * (lib/sources/notify.h). The value written is kept where it can name a
 * queue (a legacy virtio-pci kick writes the queue index to one port for
 * all queues); larger values and kvm_fast_mmio, which carries none, are
 * VS_KICK_VALUE_ANY, so that a guest writing data bytes to a port (a
 * serial console) takes at most VS_KICK_VALUE_MAX entries per port.
 */
#define VS_KICK_ADDRS_MAX	4096	/* map entries */
#define VS_KICK_VALUE_MAX	1024	/* QEMU's VIRTIO_QUEUE_MAX */
#define VS_KICK_VALUE_ANY	0xffffffffffffffffULL

enum vs_kick_space {
	VS_KICK_SPACE_PIO,
	VS_KICK_SPACE_MMIO,	/* kvm_mmio and kvm_fast_mmio */
};

struct vs_kick_key {
	__u32 tgid;	/* first, as in every per-process key (pruning) */
	__u32 space;	/* enum vs_kick_space */
	__u64 addr;	/* port or guest-physical address */
	__u64 value;	/* written value, or VS_KICK_VALUE_ANY */
};

#include "exitlat.h"

#endif
