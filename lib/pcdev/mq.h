/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_MQ_H
#define VS_PCDEV_MQ_H

/*
 * The reference device with many queues (bench --queues N): each queue has
 * its own producer thread, which publishes a burst of items at a given rate
 * (sleeping between bursts: a low-duty producer fits a two-CPU machine
 * where spinning ones would not; bursts at Poisson times of mean gap
 * burst/rate unless periodic), and is served either by a consumer of its
 * own (n_pollers 0, today's shape: one vhost thread per queue) or by one of
 * S shared pollers (ELVIS, seed 004). A poller owns a share of the queues
 * (dealt heaviest first to the least loaded poller, as ELVIS gives each I/O
 * core its socket's queues), visits them round-robin taking at most
 * batch_limit items per visit, falls back to notifications after idle_ns
 * without work and counts a visit as a starvation event when the oldest
 * item it finds has waited longer than starve_ns.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "pcdev/pcdev.h"

struct pcdev_mq_queue_cfg {
	double rate;		/* items per second offered (> 0) */
	unsigned int burst;	/* items per producer wake-up (>= 1) */
	double wp_ns, wc_ns;	/* work per item: producer, consumer */
	/* kvm: its VM's KVM_CAP_HALT_POLL (the guest halts between bursts),
	 * < 0: the kvm module's halt_poll_ns. */
	int64_t halt_poll_ns;
};

struct pcdev_mq_config {
	/*
	 * thread: a producer thread per queue. kvm: a VM per queue whose vCPU
	 * runs the guest producer in rate mode over the queue's ring in guest
	 * RAM (kvm-mq.h), kicking through an ioeventfd; the run ends by
	 * stopping every guest and draining what they published.
	 */
	enum pcdev_backend backend;
	unsigned int n_queues;	/* 1..PCDEV_MAX_QUEUES */
	unsigned int n_pollers;	/* 0: one consumer per queue */
	struct pcdev_mq_queue_cfg q[PCDEV_MAX_QUEUES];
	unsigned int len;		/* ring length, a power of two */
	unsigned int batch_limit;	/* items per visit (>= 1) */
	double idle_ns;		/* poll this long without work, then block */
	double starve_ns;	/* a wait above this is a starvation event */
	double duration_ns;
	/* CPUs of the pollers (consumers), cycled; -1 entries or n_pin 0:
	 * not pinned. The producers all go to pin_producers (-1: not). */
	int pin_pollers[PCDEV_MAX_QUEUES];
	unsigned int n_pin_pollers;
	int pin_producers;
	/* SCHED_FIFO priority of the pollers; producers run one above, so a
	 * polling core never delays the arrivals it is measured against
	 * (0: ordinary threads). */
	int rt_priority;
	unsigned int seed;	/* producers' phases and gaps */
	/* Bursts every burst/rate exactly, not at Poisson times. */
	bool periodic;
	volatile sig_atomic_t *stop;
};

struct pcdev_mq_queue_res {
	unsigned int poller;	/* index of the poller that served it */
	uint64_t items;		/* consumed */
	uint64_t produced;	/* published by the producer */
	uint64_t offered;	/* scheduled by the producer's rate */
	uint64_t full;		/* producer wake-ups that found the ring full */
	/* Thread backend: arrivals lost because more than a ring's worth
	 * was due at once (a full ring, or a producer that ran late), and the
	 * longest the producer ran after it was due (the run's start or the
	 * end of a sleep; NaN on the kvm backend). offered = produced +
	 * dropped + at most a ring's worth due at the end. */
	uint64_t dropped;
	double stall_max_ns;
	uint64_t publishes;	/* producer wake-ups that published */
	uint64_t kicks, starved, visits;
	double throughput_ops, offered_ops;
	double burst;		/* measured items per publish */
	double cpu_producer;	/* fraction of a CPU */
	struct pcdev_latency latency;
	double wait_max_ns;	/* longest wait of a visit's oldest item */
	/* kvm backend: the guest's kick OUT round trip (mean, NaN: none)
	 * and its vCPU's KVM statistics over the run. */
	double kick_ns;
	uint64_t exits, io_exits, halt_exits, halt_wakeup, insn_emulation;
	uint64_t halt_attempted_poll, halt_successful_poll;
	double halt_poll_ns;	/* time the vCPU polled in halts (both kinds) */
};

struct pcdev_mq_poller_res {
	unsigned int n_queues;
	uint64_t items, visits, empty_visits, blocks, wakeups;
	double util;		/* fraction of the run spent serving items */
	double cpu;		/* thread CPU time / run */
	double visit_ns;	/* measured cost of a visit that found nothing */
	double wake_ns;		/* kick to running, mean (NaN: never blocked) */
	double wake_p10_ns, wake_p98_ns;	/* and its spread */
	double busy_ns, block_ns;	/* time serving, time blocked */
};

struct pcdev_mq_results {
	double elapsed_ns;
	uint64_t items;
	double throughput_ops, offered_ops;
	double cpu_pollers, cpu_producers;	/* CPUs, summed */
	enum pcdev_backend backend;
	unsigned int n_pollers;			/* threads that served */
	struct pcdev_mq_queue_res q[PCDEV_MAX_QUEUES];
	struct pcdev_mq_poller_res p[PCDEV_MAX_QUEUES];
	struct pcdev_latency latency;		/* all queues together */
	char note[256];
};

void pcdev_mq_config_default(struct pcdev_mq_config *cfg);
/* -EINVAL with *why naming what is wrong. */
int pcdev_mq_config_validate(const struct pcdev_mq_config *cfg, const char **why);
/*
 * Which poller serves each queue (out[i]), the shares balanced by offered
 * load rate * Wc, heaviest first. With n_pollers 0, queue i is its own.
 */
void pcdev_mq_assign(const struct pcdev_mq_config *cfg, unsigned int *out);
/* Run to the end of duration_ns or *stop. -errno on set-up failure. */
int pcdev_mq_run(const struct pcdev_mq_config *cfg, struct pcdev_mq_results *res);

#endif
