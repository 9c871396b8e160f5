/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PROBE_H
#define VS_PROBE_H

/*
 * Host measurement layer: kicks, injected interrupts, exits, halts, wake-up
 * latency (with the waker) and sleeps of KVM processes, from BPF programs on
 * tracepoints (bpf/vsprobe.bpf.c), or, where BPF is refused, from
 * perf_event_open counts of the same tracepoints (host-wide, counts only).
 *
 *	struct vs_probe *p;
 *	err = vs_probe_open(&opts, &p);		// -errno
 *	sleep(n);
 *	err = vs_probe_read(p, &snap);		// cumulative since open
 *	vs_probe_snapshot_free(&snap);
 *	vs_probe_close(p);
 *
 * Nothing here prints or exits (libbpf's own messages go where the
 * tool's libbpf_set_print() sends them: a tp_btf load that falls back to
 * raw_tp logs there). Snapshots are plain C: counters are cumulative since
 * vs_probe_open(); subtract two for a rate. Needs root, or CAP_BPF and
 * CAP_PERFMON (then classic tracepoints, behind root-only tracefs, fail and
 * are listed in snap->sources).
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

#include "bpf/vsprobe.h"
#include "core/cpuonline.h"
#include "sources/discover.h"	/* vs_find_vms(), vs_pid_is_vm() */

#define VS_HIST_SLOTS MAX_SLOTS
#define VS_COMM_LEN 16
#define VS_PROBE_MAX_SOURCES 48

/* log2 histogram of nanoseconds: slot 0 is 0 ns, slot s >= 1 holds
 * [2^(s-1), 2^s) ns, the last slot everything above. */
struct vs_hist {
	uint64_t slot[VS_HIST_SLOTS];
};

struct vs_counters {
	uint64_t ctr[VS_NR_CTR];	/* enum vs_ctr (bpf/vsprobe.h) */
	uint64_t sum[VS_NR_SUM];	/* enum vs_sum, nanoseconds */
	uint64_t uexit[VS_UEXIT_SLOTS];	/* by KVM_EXIT_* reason */
	struct vs_hist hist[VS_NR_HIST];	/* enum vs_hist_id */
	uint32_t halt_poll_ns;		/* last kvm_halt_poll_ns value */
};

#define VS_PROBE_ON_CPU 8

struct vs_probe_thread {
	pid_t tgid, tid;
	char comm[VS_COMM_LEN];
	struct vs_counters c;
	/* Where its events (wake-ups, kicks, halts, sleeps) happened: the
	 * per-CPU copies of its map entry, busiest CPU first. */
	unsigned int n_on_cpu;
	struct vs_cpu_count on_cpu[VS_PROBE_ON_CPU];
};

struct vs_probe_vm {
	pid_t pid;			/* 0: host-wide (perf fallback) */
	char comm[VS_COMM_LEN];
	bool alive;
	struct vs_counters c;		/* sum over its threads */
};

struct vs_probe_exit {
	pid_t tgid, tid;
	uint32_t isa;			/* 1 VMX, 2 SVM */
	uint32_t reason;
	uint64_t count;
};

/* Exit cost: kvm_exit to the next kvm_entry of the same vCPU thread
 * (bpf/exitlat.h), per VM and reason. */
struct vs_probe_exitlat {
	pid_t tgid;			/* 0: not known (a trace without tgids) */
	uint32_t isa;			/* 1 VMX, 2 SVM */
	uint32_t reason;
	uint64_t count, sum_ns, max_ns;
	struct vs_hist hist;
};

struct vs_probe_pair {
	pid_t waker_tgid, waker_tid;	/* 0: woken from irq/idle context */
	pid_t wakee_tgid, wakee_tid;
	char waker_comm[VS_COMM_LEN], wakee_comm[VS_COMM_LEN];
	uint64_t count, sum_ns;
	struct vs_hist lat;
};

/* Kick writes at one address of one VM (bpf/vsprobe.h struct
 * vs_kick_key): what lib/sources/notify.c maps to virtqueues. */
struct vs_probe_kick_addr {
	pid_t tgid;
	uint32_t space;			/* enum vs_kick_space */
	uint64_t addr;
	int64_t value;			/* -1: not known or not a queue index */
	uint64_t count;
};

/* What was measured and how, and what could not be, with why. */
struct vs_probe_source {
	char name[40];			/* "kvm:kvm_pio", "debugfs kvm statistics" */
	char how[16];			/* "tp_btf", "raw_tp", "tracepoint", "perf" */
	bool used;
	int err;			/* -errno when not used */
	char why[96];
};

enum vs_probe_backend {
	VS_PROBE_BPF,
	VS_PROBE_PERF,
};

struct vs_probe_snapshot {
	enum vs_probe_backend backend;
	uint64_t time_ns;		/* CLOCK_MONOTONIC at read */
	uint64_t elapsed_ns;		/* since vs_probe_open() */
	unsigned int n_vms, n_threads, n_exits, n_pairs, n_sources;
	unsigned int n_exitlats;
	struct vs_probe_vm *vms;	/* one per target, in target order */
	struct vs_probe_thread *threads;
	struct vs_probe_exit *exits;
	struct vs_probe_exitlat *exitlats;
	struct vs_probe_pair *pairs;
	/* BPF only (the perf fallback counts no addresses): n_kick_addrs 0 */
	unsigned int n_kick_addrs;
	struct vs_probe_kick_addr *kick_addrs;
	struct vs_probe_source sources[VS_PROBE_MAX_SOURCES];
	/* perf fallback: worst enabled/running ratio over all counters
	 * (1.0 = never multiplexed) */
	double perf_running_ratio;
};

enum vs_probe_flags {
	VS_PROBE_KVM	= 1 << 0,	/* kicks, irqs, exits, halts */
	VS_PROBE_SCHED	= 1 << 1,	/* wake-up latency and waker graph */
	VS_PROBE_SLEEP	= 1 << 2,	/* nanosleep / clock_nanosleep */
	VS_PROBE_ALL	= 7,
};

enum vs_probe_attach {
	VS_ATTACH_AUTO,			/* tp_btf, else raw_tp, else perf */
	VS_ATTACH_TP_BTF,
	VS_ATTACH_RAW_TP,
	VS_ATTACH_PERF,			/* skip BPF: perf_event_open counts */
};

struct vs_probe_opts {
	const pid_t *pids;		/* processes to charge (VMs) */
	unsigned int n_pids;		/* 0: every process (no filter) */
	unsigned int flags;		/* enum vs_probe_flags, 0 = all */
	enum vs_probe_attach attach;
	unsigned int max_threads;	/* per-thread map cap, 0 = 4096 */
	/* vs_probe_measure(): stop early when *stop becomes non-zero */
	volatile sig_atomic_t *stop;
};

struct vs_probe;

/* Check the capabilities BPF and perf tracepoints need: 0, or -EPERM. */
int vs_probe_check_caps(void);

int vs_probe_open(const struct vs_probe_opts *opts, struct vs_probe **out);
/* Replace the target set (processes appear and go); BPF: in-kernel filter,
 * so nothing is lost for targets kept. -errno. */
int vs_probe_set_targets(struct vs_probe *p, const pid_t *pids,
			 unsigned int n);
int vs_probe_read(struct vs_probe *p, struct vs_probe_snapshot *snap);
void vs_probe_snapshot_free(struct vs_probe_snapshot *snap);
/* Detach and free; NULL does nothing. */
void vs_probe_close(struct vs_probe *p);

/*
 * Open, measure for `ns` nanoseconds (or until *opts->stop), read, close:
 * the snapshot covers exactly that window (snap->elapsed_ns). For callers
 * that want one number per VM, such as virtsync diagnose. -errno.
 */
int vs_probe_measure(const struct vs_probe_opts *opts, uint64_t ns,
		     struct vs_probe_snapshot *snap);

/* Program statistics (kernel.bpf_stats_enabled): per-event cost. */
struct vs_probe_prog_stats {
	char name[24];
	char tp[40];
	uint64_t run_cnt, run_time_ns;
};
int vs_probe_prog_stats(struct vs_probe *p, struct vs_probe_prog_stats *out,
			unsigned int max, unsigned int *n);

/* b -= a for two reads of one probe: each VM's and thread's counters,
 * where each thread ran, the exit costs and the elapsed time, so that b
 * covers what happened between the reads. */
void vs_probe_snapshot_sub(struct vs_probe_snapshot *b,
			   const struct vs_probe_snapshot *a);

/* The row of process pid, or of thread tid of process tgid, in a
 * snapshot (s may be NULL); NULL where it has none. */
const struct vs_probe_vm *vs_probe_snapshot_vm(const struct vs_probe_snapshot *s,
					       pid_t pid);
const struct vs_probe_thread *vs_probe_snapshot_thread(const struct vs_probe_snapshot *s,
						       pid_t tgid, pid_t tid);
/* The waker -> wakee row of s with the same four ids as k. */
const struct vs_probe_pair *vs_probe_snapshot_pair(const struct vs_probe_snapshot *s,
						   const struct vs_probe_pair *k);

/* Helpers on snapshots. */
void vs_counters_sub(struct vs_counters *out, const struct vs_counters *a,
		     const struct vs_counters *b);	/* a - b */
void vs_counters_add(struct vs_counters *acc, const struct vs_counters *c);
uint64_t vs_hist_total(const struct vs_hist *h);
/* Quantile q in [0,1] in ns, interpolated inside the log2 slot; NaN when
 * the histogram is empty. */
double vs_hist_quantile(const struct vs_hist *h, double q);
uint64_t vs_counters_kicks(const struct vs_counters *c);
uint64_t vs_counters_irqs(const struct vs_counters *c);
/* Exit reason name (VMX when isa == 1, SVM when 2), NULL when unknown. */
const char *vs_exit_reason_name(uint32_t isa, uint32_t reason);
/* The other way: a name as kvm_exit prints it; -ENOENT when unknown. */
int vs_exit_reason_code(const char *name, uint32_t *isa, uint32_t *code);
/* An exit a virtqueue kick takes: VMX IO_INSTRUCTION and EPT_MISCONFIG
 * (ioeventfd on MMIO), SVM io and npf. */
bool vs_exit_reason_is_kick(uint32_t isa, uint32_t reason);
/* KVM_EXIT_* name for a userspace exit slot. */
const char *vs_uexit_name(unsigned int slot);
const char *vs_ctr_name(enum vs_ctr c);

#endif
