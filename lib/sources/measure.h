/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_MEASURE_H
#define VS_MEASURE_H

/*
 * One measurement window over a discovered VM or reference device, from
 * public counters only: the device's published counters (items, kicks,
 * interrupts), per-thread scheduler statistics (/proc/PID/task/TID/schedstat
 * and status: CPU time, voluntary context switches = waits), and a sampled
 * view of what each thread is blocked in (/proc/PID/task/TID/syscall: a
 * sleep, another wait, or running). Never the workload's private state.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cpuonline.h"
#include "sources/discover.h"
#include "sources/guest.h"

#define VS_MAX_SOURCES 16
#define VS_WAIT_SLOTS 36	/* = VS_HIST_SLOTS (sources/probe.h) */

struct vs_source {
	char name[32];
	bool used;
	char detail[112];	/* what it gave, or why it could not be used */
};

struct vs_thread_sample {
	bool present;
	pid_t tid;
	char comm[32];
	enum vs_thread_role role;
	double cpu;		/* fraction of one CPU over the window */
	double waits_per_s;	/* voluntary context switches */
	double preempts_per_s;	/* involuntary context switches */
	double run_delay_ns;	/* runqueue wait per timeslice (schedstat) */
	double runq;		/* fraction of the window runnable but waiting */
	/* Syscall sampling: fractions of samples. */
	unsigned int n_samples;
	double frac_running, frac_sleep, frac_wait;
	double last_cpu;	/* CPU the thread last ran on */
	/* Where it ran over the window, busiest CPU first: the probes'
	 * per-CPU events, else the CPU of /proc/PID/task/TID/stat sampled
	 * every 50 ms (ran_on_from says which). */
	unsigned int n_ran_on;
	struct vs_cpu_count ran_on[8];
	uint64_t ran_on_total;
	char ran_on_from[32];
	/* From the BPF probes (NaN without them): sched_wakeup -> running. */
	double wakeups_per_s, wake_lat_ns, sleeps_per_s;
	/* The lengths of its waits (voluntary switch-out -> the sched_waking
	 * that ends it) over the window, log2 ns slots as struct vs_hist's
	 * (slot s >= 1 holds [2^(s-1), 2^s) ns); n_waits 0 without probes. */
	uint64_t n_waits;
	uint64_t wait_slot[VS_WAIT_SLOTS];
};

struct vs_sample {
	double duration_ns;	/* window actually measured */
	bool have_items, have_kicks, have_irqs;
	double items_per_s;	/* consumed items */
	double kicks_per_s;	/* P->C notifications */
	double irqs_per_s;	/* C->P notifications */
	unsigned int len;	/* queue length if published, else 0 */
	char backend[16];
	/* where items and len came from, "" for the device's own counters */
	char items_from[40], len_from[40];
	/* The producer's start-up after a notification as the guest shows it
	 * (a real guest's vCPU woken by QEMU's threads), when have_guest_sp:
	 * Sp from the guest's own behaviour instead of a host ping-pong. */
	bool have_guest_sp;
	double guest_sp_ns;
	char guest_sp_from[112];
	struct vs_thread_sample prod, cons;
	/* Whole machine, for the safety gates: busy CPUs other than the two
	 * threads measured, averaged over the window. */
	unsigned int ncpus;
	double other_busy_cpus;
	/* KVM events of the VM from the probes (NaN without them). */
	double halts_per_s, halts_polled_per_s;
	/* A vCPU producer's kick is a VM exit: its measured cost (kvm_exit
	 * -> kvm_entry of the kick reasons) when those tracepoints fire, and
	 * what it is made of, or why it is missing. */
	bool vm_kvm, have_kick_exit;
	double kick_exit_ns;
	char kick_exit_from[112];
	bool kicks_from_probes, irqs_from_probes;
	unsigned int n_sources;
	struct vs_source sources[VS_MAX_SOURCES];
};

struct vs_probe_snapshot;
/*
 * Fold a probe snapshot (counters since the probes were opened, just before
 * the window) into a sample: kicks, interrupts and halts of the VM where no
 * published counters exist, and each thread's wake-up latency and sleeps.
 */
void vs_sample_apply_probe(struct vs_sample *s, const struct vs_vm *vm,
			   const struct vs_probe_snapshot *snap);

/* Add a source line (used or not) to a sample. */
void vs_sample_source(struct vs_sample *s, const char *name, bool used,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Measure vm for duration_ns (stops early when *stop becomes non-zero or the
 * device's counters disappear, then the window is what was seen). The
 * producer is the reference device's producer or vCPU thread, the consumer
 * its consumer thread; for QEMU the first vCPU and vhost worker.
 * -ENODATA when neither thread nor counters could be read at all.
 */
int vs_measure(const struct vs_vm *vm, double duration_ns,
	       volatile sig_atomic_t *stop, struct vs_sample *s);

/* vs_measure() with the two threads given (either may be NULL): a QEMU
 * device's vCPU and the consumer that serves that device. */
int vs_measure_pair(const struct vs_vm *vm, const struct vs_thread *prod,
		    const struct vs_thread *cons, double duration_ns,
		    volatile sig_atomic_t *stop, struct vs_sample *s);

/* Pick the producer and consumer threads of a VM (NULL if none). */
void vs_measure_pick_threads(const struct vs_vm *vm,
			     const struct vs_thread **prod,
			     const struct vs_thread **cons);

/* Per-thread counters, exposed for tests on fixture trees. */
struct vs_thread_counters {
	uint64_t exec_ns, run_delay_ns, timeslices;
	uint64_t vol_cs, invol_cs;
	int cpu;
};
int vs_thread_counters_read(pid_t pid, pid_t tid, struct vs_thread_counters *c);

/* What a blocked thread is in: 0 running, 1 sleeping (nanosleep family),
 * 2 another wait; -errno when the file cannot be read. */
int vs_thread_syscall_state(pid_t pid, pid_t tid);

/* Guest-side rates over a window (inside a guest). */
struct vs_guest_rates {
	unsigned int n_vqs;
	struct { char name[48]; double per_s; } vqs[VS_MAX_VQS];
	double disk_ios_per_s, net_packets_per_s;
	bool have_disk, have_net;
};
void vs_guest_rates(const struct vs_guest_counters *a,
		    const struct vs_guest_counters *b, double seconds,
		    struct vs_guest_rates *r);

#endif
