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

#include "model.h"

enum pcdev_backend {
	PCDEV_BACKEND_THREAD,
	PCDEV_BACKEND_KVM,
};

enum pcdev_mode {
	PCDEV_NOTIFY,	/* block until notified */
	PCDEV_SLEEP,	/* clock_nanosleep (guest: TSC-deadline timer + HLT) */
	PCDEV_POLL,	/* busy wait with PAUSE */
	PCDEV_BUSYLOOP,	/* poll up to busyloop_ns, then notify (vhost poll-us) */
};

struct pcdev_config {
	enum pcdev_backend backend;
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
	/* Set by a signal handler to stop early; results cover the run so far. */
	volatile sig_atomic_t *stop;
};

struct pcdev_latency {
	double p50, p95, p98, p99, max;	/* ns, NaN when no items */
};

/* Sec. 4.2.1 estimates from running averages and timestamps. */
struct pcdev_measured {
	double wp, wc, np, nc, sp, sc, yp, yc;	/* ns, NaN when not observed */
};

struct pcdev_results {
	uint64_t items;
	double elapsed_ns;
	double throughput_ops;		/* items per second */
	double t_ns;			/* elapsed / items */
	double cpu_producer, cpu_consumer;	/* fractions of a CPU */
	double e_ns;			/* CPU ns per item, both sides */
	double batch;			/* items per consumer wake-up */
	uint64_t kicks, interrupts, spurious, sleeps_p, sleeps_c;
	struct pcdev_latency latency;
	struct pcdev_measured measured;
	struct vs_prediction model;	/* lib/model on the measured parameters */
	/* Backend notes, e.g. "achieved Wp 2.1us, asked 200ns (emulated guest)". */
	char note[256];
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
 *   backend thread|kvm, len L, producer_tid T, consumer_tid T, vcpu_tid T
 * The regime is deliberately not published.
 */
#define PCDEV_STATS_FMT "/run/virtsync/pcdev-%d.stats"

/* Validate a configuration without running it: -EINVAL with *why set. */
int pcdev_config_validate(const struct pcdev_config *cfg, const char **why);
void pcdev_config_default(struct pcdev_config *cfg);

/* Run to completion (duration, items or *stop). -errno on setup failure. */
int pcdev_run(const struct pcdev_config *cfg, struct pcdev_results *res);

/* Backends (called by pcdev_run). */
int pcdev_thread_run(const struct pcdev_config *cfg, struct pcdev_results *res);
int pcdev_kvm_run(const struct pcdev_config *cfg, struct pcdev_results *res);

#endif
