/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_RECOMMEND_H
#define VS_RECOMMEND_H

/*
 * The paper's Sec. 7 design strategies mapped to this host's knobs, with
 * lib/model's T, E and D for the current and the recommended settings:
 *  - fast consumer: the consumer sleeps (or busy-polls) for
 *    Y = Dmax/2 - W, kept inside sFC with a 500 ns margin and not below Yz;
 *    timer slack 1 ns for the sleeping thread;
 *  - fast producer: notifications with a large kc, or a shorter queue when
 *    the queueing delay L*Wc exceeds Dmax;
 *  - Y < Yz: busy polling on pinned, otherwise idle cores (safety gate:
 *    never where the CPUs are shared with other busy threads);
 *  - short queues: longer queue, smaller thresholds, cores sharing a cache
 *    on one NUMA node.
 * Knob names are those of lib/knobs (virtsync apply); knobs a running VM
 * cannot change come with the exact QEMU command-line and libvirt change.
 */

#include <stdbool.h>
#include <stdint.h>

#include "analyze/classify.h"
#include "sources/discover.h"
#include "sources/guest.h"
#include "model/model.h"
#include "sources/qmp.h"
#include "sources/measure.h"
#include "sources/topo.h"

#define VS_MAX_ACTIONS 12
#define VS_MAX_WARNINGS 8

enum vs_applies {
	VS_APPLY_NOW,		/* virtsync apply can set it on the running system */
	VS_APPLY_RESTART,	/* only when the VM / device starts: see qemu/libvirt */
	VS_APPLY_READONLY,	/* read-only on this host: named, not applied */
};

struct vs_advice {
	char knob[40];		/* "thread.timerslack_ns", "guest.halt_poll_ns" */
	pid_t pid;		/* target process, 0 for global knobs */
	char role[16];		/* target thread role, "" for the whole VM */
	pid_t tid;		/* one thread of pid (placement), 0: by role */
	unsigned int irq;	/* irq.affinity's interrupt, 0: none */
	char cpus[32];		/* target CPUs for per-CPU knobs */
	char value[48];
	char current[48];	/* "" when unknown */
	enum vs_applies applies;
	char why[200];
	char qmp[108];		/* iothread knobs: QEMU's QMP socket */
	char iothread[64];	/* ... and the iothread's object id */
	char qemu[160];		/* command-line change, "" when not QEMU */
	char libvirt[160];	/* domain XML change */
};

struct vs_reco_env {
	double dmax_ns;
	const struct vs_vm *vm;			/* NULL: guest-only advice */
	const struct vs_guest_info *guest;	/* when inside a guest */
	const struct vs_hostcosts *hc;
	unsigned int ncpus;
	double other_busy_cpus;		/* NaN when unknown */
	int64_t kvm_halt_poll_ns;	/* host module parameter, -1 unknown */
	bool kvm_halt_poll_writable;
	double guest_wait_ns;		/* typical wait of threads in this guest, NaN */
	/* The verdict of the queue whose threads wait in this guest (NULL:
	 * none): guest halt polling is picked from its parameters with the
	 * hybrid model, on the side that waits. */
	const struct vs_verdict *guest_verdict;
	/* The queue's consumer thread (0: not seen) and, with diagnose
	 * --qmp, QEMU's iothreads: a consumer that is one of them gets its
	 * poll-max-ns set live instead of a restart-time vhost change. */
	pid_t consumer_tid;
	const char *qmp_socket;
	const struct vs_qmp_iothread *iothreads;
	int n_iothreads;
	/* The host's topology (NULL: no pinning advice), read by the caller:
	 * recommendation does no I/O. */
	const struct vs_topo *topo;
	/* The queue's window (NULL: unknown) and its mean in-flight requests
	 * (NaN unknown): a QEMU consumer's poll budget is picked from them. */
	const struct vs_sample *sample;
	double inflight;
	/* The queue's virtio device type ("virtio-blk", "virtio-net"; NULL
	 * unknown): a queue length is a property of the device. */
	const char *device_type;
};

struct vs_plan {
	bool valid;			/* false: no verdict, nothing recommended */
	double dmax_ns;
	enum vs_mech cur_mech, rec_mech;
	struct vs_params cur_params, rec_params;
	bool have_cur, have_rec;
	/* The predicted gain is a lower bound: Np was calibrated on a host
	 * eventfd write while the producer's kick is a VM exit. */
	bool gain_is_floor;
	struct vs_prediction cur, rec;
	double y_ns;			/* chosen sleep/poll length, NaN if none */
	unsigned int n_actions;
	struct vs_advice actions[VS_MAX_ACTIONS];
	unsigned int n_warnings;
	char warnings[VS_MAX_WARNINGS][200];
	char summary[320];
};

/* Advice for one queue. -EINVAL on a NULL argument. */
int vs_recommend(const struct vs_verdict *v, const struct vs_reco_env *env,
		 struct vs_plan *plan);

/*
 * Advice for the guest virtsync runs in: guest_halt_poll_ns sized to the
 * waits, C-states, and the haltpoll/host-halt-polling interaction. Appends
 * to plan (which may already hold a queue's advice). 0 when not a guest.
 */
int vs_recommend_guest(const struct vs_reco_env *env, struct vs_plan *plan);

const char *vs_applies_name(enum vs_applies a);	/* "now", "restart", ... */

#endif
