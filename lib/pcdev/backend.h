/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_BACKEND_H
#define VS_PCDEV_BACKEND_H

/*
 * Inside the reference device: what the front end (pcdev.c) and the two
 * backends (thread.c, kvm.c) share. The front end owns a run: it opens a
 * backend through its ops table, starts it, publishes the counters every
 * 100 ms, ends the run at its deadline or on *stop, and derives the results.
 * A backend never calls back into the front end; the end of a run is one
 * flag (struct pcdev_run) that every side watches.
 */

#include <pthread.h>
#include <semaphore.h>
#include <stdalign.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "pcdev/pcdev.h"
#include "pcdev/stats.h"
#include "pcdev/trace.h"

/* Eventfds written at the end of a run, so that no side stays blocked. */
#define PCDEV_RUN_WAKE_MAX	(2 * PCDEV_MAX_QUEUES + 4)

struct pcdev_run {
	/* Read by every side on its data path: a line of its own (the
	 * front end allocates the struct 64-byte aligned). */
	alignas(64) volatile int done;	/* the run is over: every side stops */
	uint64_t tsc_start;	/* set by the backend when the sides go */
	uint64_t tsc_end;	/* set once, by pcdev_run_finish() */
	uint64_t deadline;	/* the front end's, TSC; UINT64_MAX: none */
	/*
	 * What the sides watch themselves. With real-time sides spinning on
	 * every CPU the main thread may not get to run in time, so the thread
	 * backend's sides end the run at the deadline or on *stop; the kvm
	 * backend's guest is stopped from outside, and its consumer only
	 * watches done (side_deadline UINT64_MAX, side_stop NULL).
	 */
	uint64_t side_deadline;
	volatile sig_atomic_t *side_stop;
	sem_t finished;		/* posted once, when done is set */
	int wake_fd[PCDEV_RUN_WAKE_MAX];
	unsigned int n_wake;
} __attribute__((aligned(64)));

int pcdev_run_init(struct pcdev_run *r);
void pcdev_run_destroy(struct pcdev_run *r);
/* Eventfd to write when the run ends (a blocked side waits on it). */
void pcdev_run_wake_on_end(struct pcdev_run *r, int fd);
/* End the run, once: record when, wake blocked sides, post finished. */
void pcdev_run_finish(struct pcdev_run *r, uint64_t now_tsc);

static inline bool pcdev_run_over(struct pcdev_run *r, uint64_t now_tsc)
{
	if (r->done)
		return true;
	if (now_tsc >= r->side_deadline || (r->side_stop && *r->side_stop)) {
		pcdev_run_finish(r, now_tsc);
		return true;
	}
	return false;
}

/* One side's statistics: written by its own thread only (the counters the
 * front end publishes are stored with relaxed atomics). */
struct pcdev_side {
	uint64_t items;		/* produced (P) or consumed (C) */
	uint64_t notifies;	/* kicks sent (P) or interrupts sent (C) */
	uint64_t wakeups, spurious, sleeps, blocks;
	struct pcdev_avg w, n, y, s, yz;	/* ticks; yz in CPU ns */
	uint64_t cpu_ns;
	int tid, err;
	struct pcdev_trace_buf trace;
} __attribute__((aligned(64)));

/*
 * A backend. open() builds the device without running anything; start()
 * returns once the sides are set up and released, with run->tsc_start set;
 * counters() may be called while it runs; stop() ends the run (whatever
 * ended it already) and joins the sides; results() fills the raw counts,
 * the measured parameters, latency and notes (the front end derives rates
 * and per-item figures); write_trace() is called after results when a trace
 * was asked for; failure() says why a call failed (or NULL); close()
 * releases everything open() and start() took, on every path (open() may
 * fail with *priv set: close() is called on it).
 */
struct pcdev_backend_ops {
	const char *name;
	int (*open)(const struct pcdev_config *cfg, struct pcdev_run *run,
		    void **priv);
	int (*start)(void *priv);
	void (*counters)(void *priv, struct pcdev_counters *c);
	void (*stop)(void *priv);
	int (*results)(void *priv, struct pcdev_results *res);
	int (*write_trace)(void *priv, FILE *f);
	const char *(*failure)(void *priv);
	void (*close)(void *priv);
};

extern const struct pcdev_backend_ops pcdev_thread_ops;
extern const struct pcdev_backend_ops pcdev_kvm_ops;
/* The thread backend's sides on Fip-see's slot ring (slots.c). */
extern const struct pcdev_backend_ops pcdev_slots_ops;

/* ---- helpers both backends use (run.c) ---------------------------------- */

/* The start gate of host-thread sides: each side, once set up (named,
 * pinned), waits; the front thread waits for `parties` of them, sets the
 * clock, and opens it. Opening for fewer parties lets a side through
 * alone (to its exit, when the other could not be started). */
struct pcdev_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready;
	bool go;
};

void pcdev_gate_init(struct pcdev_gate *g);
void pcdev_gate_destroy(struct pcdev_gate *g);
void pcdev_gate_wait(struct pcdev_gate *g);
void pcdev_gate_wait_ready(struct pcdev_gate *g, int parties);
void pcdev_gate_open(struct pcdev_gate *g, int parties);

/* The producer and consumer threads of a backend whose sides both run in
 * this process (thread.c, slots.c). pcdev_pair_start() starts P, then C
 * (each calls pcdev_gate_wait() once set up), waits for both, starts the
 * run's clock and its deadline when duration_ns > 0, and opens the gate;
 * when a thread cannot be created the other goes through the gate
 * straight to its exit, and the pthread_create error is returned.
 * pcdev_pair_stop() ends the run and joins what was started, once. */
struct pcdev_pair {
	pthread_t pt, ct;
	bool p_started, c_started;
};

int pcdev_pair_start(struct pcdev_pair *pp, struct pcdev_run *run, struct pcdev_gate *gate,
		     double duration_ns, void *(*producer)(void *),
		     void *(*consumer)(void *), void *arg);
void pcdev_pair_stop(struct pcdev_pair *pp, struct pcdev_run *run);

/* The live counters of a run's two sides, read while they run (relaxed
 * loads: each is written by its own side's thread); hist is C's latency
 * histogram. */
void pcdev_pair_counters(const struct pcdev_side *p, const struct pcdev_side *c,
			 const struct pcdev_hist *hist, struct pcdev_counters *out);

/* What one side measured, into res: the consumer's (is_consumer) items,
 * CPU, interrupts sent, spurious kicks, sleeps, blocks, wake-ups, Wc, Nc,
 * Sc as sampled, Yc and its own Yz; or the producer's counterparts, Yz
 * aside. */
void pcdev_side_results(const struct pcdev_side *s, bool is_consumer,
			struct pcdev_results *res);
/* Then, with both sides in res: Sp and Sc as the model has them
 * (pcdev_startup_ns()), Yz over both sides' sleeps. */
void pcdev_pair_costs(const struct pcdev_side *p, const struct pcdev_side *c,
		      struct pcdev_results *res);

uint64_t pcdev_thread_cpu_ns(void);
struct timespec pcdev_ns_to_ts(double ns);
/* clock_nanosleep, timed on the TSC (Y) and on the thread CPU clock (Yz). */
void pcdev_side_sleep(struct pcdev_side *s, const struct timespec *ts);
void pcdev_efd_signal(int fd);
void pcdev_efd_wait(int fd);
/* Name the calling thread and set its timer slack (cfg: < 0 leaves it). */
int pcdev_thread_setup(const char *name, double timerslack_ns);
int pcdev_thread_pin(pthread_t t, int cpu);
/* Append "; "-separated text to res->note. */
void pcdev_note(struct pcdev_results *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
