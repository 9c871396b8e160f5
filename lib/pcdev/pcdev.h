/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_H
#define VS_PCDEV_H

/*
 * The reference virtio producer/consumer device (paper Sec. 4.2): P fills a
 * split virtqueue (ring.h), C drains it, each side waits by notification,
 * sleep, busy poll or busy-loop-then-notify. Two backends run it: host
 * threads (thread.c) and a tiny KVM VM whose vCPU is P (kvm.c).
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>


/* Most queues one device runs (bench --queues). */
#define PCDEV_MAX_QUEUES	64

enum pcdev_backend {
	PCDEV_BACKEND_THREAD,
	PCDEV_BACKEND_KVM,
};

/* The queue's layout: the virtio split ring (ring.h) or Fip-see's slots
 * with a flag each and no shared index (slots.h). */
enum pcdev_ring {
	PCDEV_RING_VIRTIO,
	PCDEV_RING_SLOTS,
};

enum pcdev_mode {
	PCDEV_NOTIFY,	/* block until notified */
	PCDEV_SLEEP,	/* clock_nanosleep (guest: TSC-deadline timer + HLT) */
	PCDEV_POLL,	/* busy wait with PAUSE */
	PCDEV_BUSYLOOP,	/* poll up to busyloop_ns, then notify (vhost poll-us) */
};

struct pcdev_config {
	enum pcdev_backend backend;
	enum pcdev_ring ring;
	enum pcdev_mode p_mode, c_mode;
	unsigned int len, kp, kc;
	double wp_ns, wc_ns;		/* emulated per-item work */
	double yp_ns, yc_ns;		/* sleep lengths */
	double busyloop_ns;		/* PCDEV_BUSYLOOP poll budget */
	double timerslack_ns;		/* < 0: leave the threads' slack alone */
	double duration_ns;		/* stop after this long ... */
	uint64_t items;			/* ... or after this many items (0: no cap) */
	int pin_p, pin_c;		/* CPU or -1 */
	int64_t halt_poll_ns;		/* kvm: KVM_CAP_HALT_POLL, < 0 default */
	const char *trace_path;		/* Sec. 4.2.1 event trace, or NULL */
	bool publish;			/* publish counters under /run/virtsync */
	/* The latency bound of the case (preset or bench --dmax), 0 none:
	 * published, so that `tune --pid` checks the device against it. */
	double dmax_ns;
	/*
	 * SCHED_FIFO priority of P and C (0: leave the scheduling policy
	 * alone). On a loaded machine an ordinary thread's nanosleep or wake-
	 * up now and then waits milliseconds for a CPU; a real-time one does
	 * not, which is how the paper's unloaded machine is approximated.
	 */
	int rt_priority;
	/* Set by a signal handler to stop early; results cover the run so far. */
	volatile sig_atomic_t *stop;
};

struct pcdev_latency {
	double p50, p95, p98, p99, max;	/* ns, NaN when no items */
};

/* Sec. 4.2.1 estimates from running averages and timestamps. */
struct pcdev_measured {
	double wp, wc, np, nc, sp, sc, yp, yc;	/* ns, NaN when not observed */
	double yz;	/* CPU time of one sleep call (thread CPU clock), ns */
};

struct pcdev_results {
	uint64_t items;
	double elapsed_ns;
	double throughput_ops;		/* items per second */
	double t_ns;			/* elapsed / items */
	double cpu_producer, cpu_consumer;	/* fractions of a CPU */
	double e_ns;			/* CPU ns per item, both sides */
	double batch;			/* items per wake-up of the side that
					 * waits more (C or P) */
	uint64_t kicks, interrupts, spurious, sleeps_p, sleeps_c;
	/* spurious = spurious_kicks (C woke, queue empty) +
	 * spurious_interrupts (P woke, queue still full) */
	uint64_t spurious_kicks, spurious_interrupts;
	uint64_t blocks_p, blocks_c;	/* waits on a notification */
	uint64_t c_wakeups;		/* C went from waiting to working */
	uint64_t p_wakeups;		/* P went from waiting to working */
	double cpu_producer_ns, cpu_consumer_ns;	/* thread CPU time */
	double sleep_batch;		/* items per sleep of P and C (Fig. 7) */
	/* Latency (and W) sampled on 1 item in latency_sample (1: all). */
	unsigned int latency_sample;
	struct pcdev_latency latency;
	struct pcdev_measured measured;
	/* Backend notes, e.g. "achieved Wp 2.1us, asked 200ns (emulated guest)". */
	char note[256];
	/* cfg->publish: counter files written (every 100 ms), how many of
	 * them failed and the first failure (-errno); the run goes on. */
	unsigned int publishes, publish_failures;
	int publish_err;
	/* kvm backend: KVM binary statistics (KVM_GET_STATS_FD), name/value. */
	unsigned int n_kvm_stats;
	struct {
		char name[48];
		uint64_t value;
	} kvm_stats[64];
};

/*
 * Counters a running device publishes for outside observers (virtsync
 * diagnose), like a NIC's packet counters: /run/virtsync/pcdev-<pid>.stats,
 * rewritten atomically (rename) every 100 ms, one "name value" per line:
 *   items_produced N, items_consumed N, kicks N, interrupts N,
 *   backend thread|kvm, len L, producer_tid T, consumer_tid T, vcpu_tid T,
 *   dmax_ns D (when the case has a latency bound),
 *   and the latency histogram, see struct pcdev_counters
 * The regime is deliberately not published.
 */
#define PCDEV_STATS_FMT "/run/virtsync/pcdev-%d.stats"

struct pcdev_hist;

struct pcdev_counters {
	uint64_t items_produced, items_consumed, kicks, interrupts;
	int producer_tid, consumer_tid, vcpu_tid;	/* 0: none */
	/*
	 * Optional: C's item latency histogram so far, read
	 * racily (each bucket one aligned load); published as
	 * "tsc_per_ns X" and one "lat_bucket_<i> <count>" line per non-empty
	 * bucket (lib/pcdev/stats.h buckets, in TSC ticks), so an observer can
	 * take percentiles of any window from two snapshots.
	 */
	const struct pcdev_hist *hist;
	double tsc_per_ns;
};

/*
 * Write the published counters file (atomically: temporary file, rename),
 * creating /run/virtsync if needed; the backend calls it every 100 ms while
 * cfg->publish is set. unpublish removes it (ignores ENOENT).
 */
int pcdev_stats_publish(const struct pcdev_config *cfg,
			const struct pcdev_counters *c);
int pcdev_stats_unpublish(void);

const char *pcdev_mode_name(enum pcdev_mode m);
int pcdev_mode_from_name(const char *name, enum pcdev_mode *m);
const char *pcdev_backend_name(enum pcdev_backend b);
const char *pcdev_ring_name(enum pcdev_ring r);		/* "virtio", "slots" */
int pcdev_ring_from_name(const char *name, enum pcdev_ring *r);	/* -EINVAL */

/* Is `cpu` (>= 0) one this process may run on? -1 (no pinning) is. */
bool pcdev_cpu_available(int cpu);

/*
 * The Sec. 8 case studies scaled to the measured costs of the machine
 * (see virtsync-bench(8)): "fc-example" (fast consumer) and "fp-example"
 * (fast producer). Sets L, kp, kc, Wp, Wc, Yp, Yc and timer slack over
 * `cfg`, and the latency bound of the case in *dmax_ns. -ENOENT if unknown.
 */
int pcdev_config_preset(const char *name, struct pcdev_config *cfg,
			double *dmax_ns);

/* Validate a configuration without running it: -EINVAL with *why set. */
int pcdev_config_validate(const struct pcdev_config *cfg, const char **why);
void pcdev_config_default(struct pcdev_config *cfg);

/*
 * Run to completion (duration, items or *stop). -errno on setup failure;
 * -ENOTSUP for a backend this build lacks. The model's prediction from
 * the measured parameters is lib/analyze/validate.h's: the ground truth
 * does not know the model it validates.
 */
int pcdev_run(const struct pcdev_config *cfg, struct pcdev_results *res);

#endif
