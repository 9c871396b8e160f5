/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_VQUEUE_H
#define VS_VQUEUE_H

/*
 * The virtio devices of a QEMU process and their queues, and one
 * measurement window over them: per queue and direction (virtio-blk
 * requests, virtio-net RX and TX) the items moved, the requests in flight,
 * the kicks and the interrupts, each figure with the source it came from.
 *
 * Devices and queues come from QMP when a socket is given (x-query-virtio,
 * x-query-virtio-status: every device, its queue count, vhost), else from
 * the process's command line (-device virtio-*-pci: the queue count is then
 * QEMU's default, and says so). The consumer side of a device is the
 * iothread it is bound to, QEMU's main loop without one, or the vhost
 * worker when vhost runs it; the producer side is the vCPU threads.
 *
 * Sources, best first, for each figure:
 *   items, in-flight: QMP x-query-virtio-queue-status, sampled every
 *     100 ms during the window (used-idx and last-avail-idx deltas, 16-bit
 *     wrap-safe; inuse averaged).
 *   kicks: KVM's kick tracepoints (kvm_fast_mmio, kvm_mmio, kvm_pio) of a
 *     KVM VM; else the vCPU threads' write() calls (/proc/PID/task/TID/io
 *     syscw: without KVM every kick is QEMU writing the queue's host
 *     notifier eventfd on the vCPU thread; a ceiling, other writes count
 *     too) when this is the only active queue, with the consumer's
 *     wake-ups by the vCPUs beside it; else those wake-ups alone
 *     (sched_waking pairs from the BPF probes: a floor, a polling consumer
 *     is not woken).
 *   interrupts: KVM's injection tracepoints (kvm_msi_set_irq, kvm_set_irq)
 *     of a KVM VM; else the vCPU threads' wake-ups by QEMU's other threads
 *     (a floor: a running vCPU is not woken); else QMP signalled-used
 *     advances (at most one per sample: a floor).
 * Figures that a source gives for the whole VM or thread are attributed to
 * a queue only when it is the only active queue there (without QMP, the
 * only queue: activity is unknown); otherwise they are marked shared.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "sources/discover.h"
#include "sources/notify.h"

#define VS_VQ_MAX_DEVICES 8
#define VS_VQ_MAX_QUEUES 16

struct vs_qmp;
struct vs_probe_snapshot;

/* One figure and where it came from. */
struct vs_vq_figure {
	double per_s;		/* NaN when no source gave it */
	char source[48];	/* "qmp used-idx", "vcpu write() syscalls", ... */
	char note[96];		/* floor, shared, ...; "" when exact */
};

struct vs_vq {
	unsigned int index;
	char role[8];		/* "req", "rx", "tx", "ctrl", "event", "vq" */
	unsigned int size;	/* vring-num, 0 unknown */
	bool active;		/* items moved in the window */
	struct vs_vq_figure items, kicks, irqs;
	double inflight;	/* mean inuse over the samples, NaN unknown */
	double avail_per_s;	/* last-avail-idx: items taken by the device */
	/* accumulation (QMP samples) */
	bool seen;
	uint16_t last_used, last_avail, last_signalled;
	uint64_t used, avail, signalled_advances;
	double inuse_sum;
	unsigned int n_samples;
};

enum vs_vq_consumer {
	VS_VQ_CONS_UNKNOWN,
	VS_VQ_CONS_IOTHREAD,
	VS_VQ_CONS_MAIN_LOOP,
	VS_VQ_CONS_VHOST,
};

struct vs_vdev {
	char type[24];		/* "virtio-blk", "virtio-net" */
	char id[48];		/* -device id= ("blk0"), else the QOM path tail */
	char qom_path[128];	/* x-query-virtio's path, "" without QMP */
	char iothread[48];	/* iothread id, "" without one */
	bool vhost;		/* vhost-started (QMP) or vhost=on (command line) */
	enum vs_vq_consumer cons_kind;
	pid_t cons_tid;		/* 0 unknown */
	char cons_comm[32];
	bool queues_assumed;	/* count from QEMU's defaults, not QMP */
	unsigned int n_vqs;
	struct vs_vq vqs[VS_VQ_MAX_QUEUES];
	/* where its queues' KVM kick addresses came from (query-pci), or
	 * why there are none */
	char notify_from[96];
};

struct vs_vqset {
	pid_t pid;
	char from[64];		/* where the devices and queues came from */
	unsigned int n_devs;
	struct vs_vdev devs[VS_VQ_MAX_DEVICES];
	double secs;		/* the window */
	unsigned int n_samples;	/* QMP samples taken */
	/* write() calls of the vCPU threads over the window, NaN unknown */
	double vcpu_writes_per_s;
	/*
	 * Guest-side costs, from the guest's own behaviour as the host sees
	 * it (NaN when not visible): the vCPU threads' mean wake-up latency
	 * when QEMU's threads woke them (what a halted guest pays per
	 * interrupt before it can run), and the vCPU CPU time per item moved
	 * (what the guest spends per request, kick included).
	 */
	double vcpu_wake_ns;
	double vcpu_cpu_per_item_ns;
	char costs_from[160];
	/* KVM kick address of each queue (dev = index in devs), from QMP
	 * query-pci and QEMU's notify layout; n == 0 without QMP */
	struct vs_notify_map notify;
	/* the window on CLOCK_MONOTONIC: first and last QMP samples */
	uint64_t t0_ns, tlast_ns;
	/* internal */
	uint64_t syscw0, vcpu_exec0_ns;
};

const char *vs_vq_consumer_name(enum vs_vq_consumer c); /* "iothread", ... */

/*
 * The kick addresses of set's devices (set->notify, each device's
 * notify_from) from QMP: query-pci for the BARs, then per device the
 * proxy's qom "addr", page-per-vq, modern-pio-notify, its notify memory
 * region's offset and the negotiated VIRTIO_F_VERSION_1 (notify.h).
 * vs_vq_discover() calls it with the live QMP; exec runs one command as
 * vs_qmp_execute() does (so a test can replay recorded replies). The
 * number of devices mapped, or -errno when query-pci failed.
 */
typedef int (*vs_vq_qmp_exec)(void *ctx, const char *cmd, json_t *args, json_t **ret);
int vs_vq_map_notify(vs_vq_qmp_exec exec, void *ctx, struct vs_vqset *set);

/*
 * Devices and queues of vm (a QEMU process). q may be NULL: the command
 * line is used then. -ENOENT when the process has no virtio device.
 */
int vs_vq_discover(struct vs_qmp *q, const struct vs_vm *vm, struct vs_vqset *set);

/*
 * The window: begin, sample (every 100 ms or so: the 16-bit indices wrap
 * after 65536 items), end. Without QMP only the thread counters are read.
 * vs_vq_measure() does all three for duration_ns (or until *stop).
 */
int vs_vq_window_begin(struct vs_qmp *q, const struct vs_vm *vm, struct vs_vqset *set);
int vs_vq_window_sample(struct vs_qmp *q, struct vs_vqset *set);
int vs_vq_window_end(struct vs_qmp *q, const struct vs_vm *vm, struct vs_vqset *set);
int vs_vq_measure(struct vs_qmp *q, const struct vs_vm *vm, double duration_ns,
		  volatile sig_atomic_t *stop, struct vs_vqset *set);

/*
 * Kicks, interrupts and the guest-side wake-up cost from a probe snapshot
 * taken over the same window (NULL: without probes), then each queue's
 * best figure. Call after vs_vq_window_end().
 */
void vs_vq_attribute(struct vs_vqset *set, const struct vs_vm *vm,
		     const struct vs_probe_snapshot *snap);

struct vs_sample;
/*
 * One window over every device of vm at once: the queue indices sampled
 * in the calling thread (vs_vq_measure()), and per device its first vCPU
 * and its consumer thread (vs_measure_pair()) in a thread of their own,
 * into dev_samples[0 .. set->n_devs - 1]. -errno when the window failed.
 */
int vs_vq_measure_all(struct vs_qmp *q, const struct vs_vm *vm, double duration_ns,
		      volatile sig_atomic_t *stop, struct vs_vqset *set,
		      struct vs_sample *dev_samples);

/*
 * The sample of one queue for classification: the device's thread sample
 * (its vCPU and its consumer thread over the window, from
 * vs_measure_pair()) with the queue's own items, kicks, interrupts and
 * ring size, and a source line for each. Call after vs_vq_attribute().
 */
void vs_vq_fill_sample(const struct vs_vqset *set, const struct vs_vdev *d,
		       const struct vs_vq *v, const struct vs_sample *dev_sample,
		       struct vs_sample *s);

/* Items between two readings of a 16-bit ring index. */
static inline uint16_t vs_vq_idx_delta(uint16_t from, uint16_t to)
{
	return (uint16_t)(to - from);
}

#endif
