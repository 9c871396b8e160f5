/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_KVM_MQ_H
#define VS_PCDEV_KVM_MQ_H

/*
 * One queue of the multi-queue device (mq.c) on the kvm backend: a VM of
 * its own, built as the single-queue device's (kvm-vm.c), whose one vCPU
 * runs the guest payload in rate mode (guest/abi.h) over the queue's ring in
 * guest RAM. The guest kicks with an OUT that KVM turns into a write of
 * kick_fd (an ioeventfd): the eventfd of the poller that owns the queue, so
 * one poller's queues share one eventfd as vhost's shared work queue does.
 * Nothing here consumes: the caller serves the ring through the host
 * mapping. One VM per queue rather than one vCPU per queue: the payload keeps
 * its state at fixed guest addresses (stack, IDT, globals), and ELVIS polls
 * the queues of many VMs.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "pcdev/ring.h"

struct pcdev_kvm_queue_cfg {
	unsigned int idx;	/* names the vCPU thread */
	unsigned int len;	/* ring length, a power of two */
	double rate;		/* items per second (> 0) */
	unsigned int burst;	/* items per publish (>= 1) */
	double wp_ns;		/* producer work per item */
	bool periodic;		/* gaps of exactly burst/rate, else Poisson */
	unsigned int seed;	/* the gaps' */
	double phase_ns;	/* first burst this long after go */
	double retry_ns;	/* a full ring is looked at again after this */
	int pin;		/* vCPU thread's CPU, -1: not pinned */
	int rt_priority;	/* its SCHED_FIFO priority, 0: none */
	int kick_fd;		/* eventfd the guest's kicks write */
	/* KVM_CAP_HALT_POLL of this VM, < 0: the module's halt_poll_ns. A
	 * capability of the VM file, so each queue may have its own. */
	int64_t halt_poll_ns;
	volatile sig_atomic_t *stop;	/* caller's stop flag (boot wait) */
};

/* What the caller reads and writes while the guest runs. */
struct pcdev_kvm_queue_view {
	struct vs_vring vr;		/* in guest RAM, host mapping */
	struct vs_item *items;		/* stamps in guest TSC */
	int64_t tsc_offset;		/* guest TSC = host TSC + offset */
	/* Guest TSC just before its last kick (the guest writes it). */
	const volatile uint64_t *kick_tsc;
};

/* Final once the guest has stopped. */
struct pcdev_kvm_queue_res {
	uint64_t produced, offered, publishes, full, kicks, sleeps;
	double cpu_ns;		/* vCPU thread CPU time from go */
	double kick_ns;		/* mean round trip of a kick OUT (guest) */
	/* The vCPU's KVM statistics over the run (KVM_GET_STATS_FD). */
	uint64_t exits, io_exits, halt_exits, halt_wakeup, insn_emulation;
	uint64_t halt_attempted_poll, halt_successful_poll;
	double halt_poll_success_ns, halt_poll_fail_ns;	/* time polled */
};

struct kvmdev;

/* Build the VM (nothing runs yet); *out is set even on failure: close it. */
int pcdev_kvm_queue_open(const struct pcdev_kvm_queue_cfg *cfg, struct kvmdev **out);
void pcdev_kvm_queue_view(struct kvmdev *d, struct pcdev_kvm_queue_view *v);
/* Start the vCPU thread and wait for the guest to boot (held in READY). */
int pcdev_kvm_queue_boot(struct kvmdev *d);
/* Release the guest: it starts producing. */
void pcdev_kvm_queue_go(struct kvmdev *d);
/* The guest left its run loop (it failed, or it was stopped). */
bool pcdev_kvm_queue_ended(struct kvmdev *d);
/* Ask the guest to stop, without waiting (stop several at once). */
void pcdev_kvm_queue_stop_begin(struct kvmdev *d);
/* Stop it and join its vCPU thread: its counters are final. */
void pcdev_kvm_queue_stop(struct kvmdev *d);
int pcdev_kvm_queue_results(struct kvmdev *d, struct pcdev_kvm_queue_res *r);
/* Why a call failed, or NULL. */
const char *pcdev_kvm_queue_failure(struct kvmdev *d);
void pcdev_kvm_queue_close(struct kvmdev *d);

#endif
