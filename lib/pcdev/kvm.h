/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_KVM_H
#define VS_PCDEV_KVM_H

/*
 * Inside the kvm backend (kvm.c runs it, kvm-vm.c builds the VM, kvm-stats.c
 * reads KVM's binary statistics): the state they share.
 */

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "pcdev/backend.h"
#include "pcdev/consumer.h"
#include "pcdev/kvm-mq.h"
#include "pcdev/ring.h"
#include "guest/abi.h"

#define ITEM_SIZE	((uint32_t)sizeof(struct vs_item))

enum vcpu_state {
	VCPU_BOOTING,
	VCPU_READY,	/* guest booted, held in its READY exit */
	VCPU_RUNNING,
	VCPU_DONE,	/* guest signalled DONE: counters are final */
	VCPU_FAILED,
};

/* One KVM_GET_STATS_FD source (the VM's or the vCPU's). */
struct kvm_stat_src {
	int fd;
	struct kvm_stats_header hdr;
	char *descs;			/* num_desc entries of desc_size */
	size_t desc_size;
	uint64_t *start;		/* values at go, one per descriptor */
};

struct kvmdev {
	const struct pcdev_config *cfg;
	struct pcdev_run *run;
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *kvm_run;
	size_t kvm_run_size;
	uint8_t *mem;
	size_t mem_size;
	struct pcdev_guest_ctl *ctl;
	struct vs_vring vr;
	struct vs_item *items;
	int kick_fd, used_fd, stop_fd;
	struct kvm_stat_src st_vm, st_vcpu;

	double tsc_per_ns;		/* host TSC */
	int64_t tsc_offset;		/* guest TSC = host TSC + offset */
	uint64_t trace_gpa;

	pthread_t vcpu_thread, cons_thread;
	bool vcpu_started, cons_started;
	_Atomic int vcpu_tid;
	int kick_signal;
	struct sigaction old_sa;
	bool sa_installed;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vcpu_state state;		/* under lock */
	bool go, abort;			/* under lock */
	int vcpu_err;
	pthread_mutex_t why_lock;	/* set_why() runs in any thread */
	char why[200];			/* first failure, for res->note */
	_Atomic bool force_exit;	/* vCPU kicked out on purpose */
	double cpu_p_ns;		/* vCPU thread CPU time from go */

	/* C, the vs-vhost thread; its control-file refusals. */
	struct pcdev_consumer c;
	unsigned int ctl_refused, ctl_hp_failed;

	/* A queue of the multi-queue device (kvm-mq.c), else NULL: P runs at
	 * a rate and kicks into the caller's eventfd, and there is no C here;
	 * d->cfg points at qbase, run at a run of the VM's own. */
	const struct pcdev_kvm_queue_cfg *qcfg;
	struct pcdev_config qbase;
	uint64_t gaps_gpa;
};

void pcdev_kvm_why(struct kvmdev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* ioctl that records which call failed; returns the result or -errno. */
int pcdev_kvm_ioctl(struct kvmdev *d, int fd, unsigned long req, void *arg,
		    const char *name);

/* Shared by the single-queue backend (kvm.c) and a queue of the
 * multi-queue device (kvm-mq.c): allocate with every fd at -1; boot (vCPU
 * and, without qcfg, C threads up, guest held in READY, statistics marked);
 * go; stop (the guest, then the threads; counters final); free. */
struct kvmdev *pcdev_kvm_new(const struct pcdev_config *cfg, struct pcdev_run *run);
int pcdev_kvm_boot(struct kvmdev *d);
void pcdev_kvm_go(struct kvmdev *d);
bool pcdev_kvm_ended(struct kvmdev *d);
void pcdev_kvm_stop_guest(struct kvmdev *d);
void pcdev_kvm_stop(struct kvmdev *d);
void pcdev_kvm_free(struct kvmdev *d);

/* Build the VM (memory, tables, ring, control block, vCPU, irqfd and
 * ioeventfd, statistics fds); the destroy undoes whatever was done. */
int pcdev_kvm_vm_create(struct kvmdev *d);
void pcdev_kvm_vm_destroy(struct kvmdev *d);

int pcdev_kvm_stats_open(struct kvm_stat_src *s, int owner_fd);
/* Record every value as the run's start. */
int pcdev_kvm_stats_mark(struct kvm_stat_src *s);
/* Cumulative counters as deltas since the mark, instant and peak values
 * as they are now; histograms left out. pass 0: the statistics that tell
 * the synchronization story, pass 1: the other non-zero ones. */
void pcdev_kvm_stats_collect(const struct kvm_stat_src *s, const char *prefix,
			     int pass, struct pcdev_results *res);
void pcdev_kvm_stats_close(struct kvm_stat_src *s);
/* A collected statistic by its name in res's table; 0 where it has none. */
uint64_t pcdev_kvm_stat_value(const struct pcdev_results *res, const char *name);

#endif
