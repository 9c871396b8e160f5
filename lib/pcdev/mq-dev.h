/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_MQ_DEV_H
#define VS_PCDEV_MQ_DEV_H

/*
 * The multi-queue reference device's insides (mq.h is its interface),
 * shared by its parts: mq.c sets it up, starts, stops and frees it;
 * mq-producer.c is a queue's producer thread, mq-poller.c the poller (or
 * consumer of its own) that serves the queues, mq-results.c turns the
 * counters into pcdev_mq_results.
 */

#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "pcdev/backend.h"
#include "pcdev/kvm-mq.h"
#include "pcdev/mq.h"
#include "pcdev/ring.h"
#include "pcdev/stats.h"

/* Without an explicit idle budget: shared pollers poll this long before
 * they block (a few producer periods at the rates this machine runs);
 * a consumer of its own blocks at once, as a vhost thread does. */
#define MQ_POLLER_IDLE_NS	200e3
/* A full ring: the producer looks again after this long at most. */
#define MQ_FULL_RETRY_NS	50e3

struct mq_dev;

struct mq_poller {
	struct mq_dev *d;
	unsigned int idx, n, qs[PCDEV_MAX_QUEUES];
	int efd;
	pthread_t t;
	bool started;
	alignas(64) volatile uint64_t kick_tsc;	/* a producer, before a kick */
	alignas(64) uint64_t items, visits, empty_visits, blocks, wakeups;
	uint64_t busy_t, block_t, empty_t, cpu_ns;
	struct pcdev_avg wake;
	struct pcdev_hist *wake_hist;	/* kick to running, ticks */
	int err;
};

struct mq_queue {
	struct mq_dev *d;
	unsigned int idx;
	struct vs_vring vr;
	void *ring_mem;
	struct vs_item *items;
	struct mq_poller *owner;
	pthread_t t;
	bool started;
	uint64_t wp_t, wc_t, period_t, phase_t;
	unsigned int burst, seed;
	/* The consumer's, written by the owning poller only. */
	alignas(64) struct vs_vring_cons cs;
	uint64_t consumed, starved, visits, wait_max;
	struct pcdev_hist *hist;
	/* The producer's. */
	alignas(64) struct vs_vring_prod pr;
	uint64_t offered, produced, full, publishes, kicks, cpu_ns;
	uint64_t dropped, stall_max;
	int err;
	/* kvm backend: the VM whose guest is the producer. */
	struct kvmdev *vm;
	struct pcdev_kvm_queue_cfg vm_cfg;
	int64_t tsc_off;		/* guest TSC - host TSC; 0: threads */
	const volatile uint64_t *guest_kick_tsc;
	struct pcdev_kvm_queue_res vm_res;
};

struct mq_dev {
	const struct pcdev_mq_config *cfg;
	struct pcdev_run *run;
	struct pcdev_gate gate;
	uint64_t batch, idle_t, starve_t;
	uint64_t tsc_end;	/* end of the measured run */
	bool kvm;
	unsigned int n_pollers;
	struct mq_queue q[PCDEV_MAX_QUEUES];
	struct mq_poller p[PCDEV_MAX_QUEUES];
};

/* mq.c: a side's real-time switch (false: failed, run ended, *err set)
 * and a sleep in TSC ticks. */
bool mq_go_rt(struct mq_dev *d, int prio, int *err);
void mq_sleep_ticks(uint64_t ticks);
/* Thread bodies, the argument a struct mq_queue / struct mq_poller. */
void *mq_producer_main(void *arg);
void *mq_poller_main(void *arg);
/* mq-results.c */
int mq_queue_vm_results(struct mq_queue *q);
void mq_dev_results(struct mq_dev *d, struct pcdev_mq_results *res);

#endif
