/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PROBE_IMPL_H
#define VS_PROBE_IMPL_H

/*
 * Inside the probe layer (probe.h is its contract): the tracepoint table
 * both backends walk, the probe object, and the backends' entry points.
 *   probe.c        table, open/read/close, sources reported but not counted
 *   probe-bpf.c    BPF programs on tracepoints (the skeleton)
 *   probe-perf.c   perf_event_open counting, where BPF is refused
 *   counters.c     arithmetic on snapshots, histogram quantiles, names
 */

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "sources/probe.h"

/* One tracepoint: its tp_btf and raw_tp programs (or one classic
 * tracepoint program), and how perf counts it in the fallback. */
struct vs_tp {
	const char *sys, *name;
	unsigned int flag;		/* enum vs_probe_flags group */
	size_t btf_off, raw_off, tp_off;	/* program pointers in the skeleton */
	/* perf fallback: counter and ftrace filter, ctr < 0 = not counted */
	int perf_ctr;
	const char *perf_filter;
	int perf_ctr2;			/* second counter with perf_filter2 */
	const char *perf_filter2;
	const char *perf_none;		/* why perf cannot count it (NULL: default) */
};

#define VS_TP_NONE ((size_t)-1)
#define VS_TP_MAX 40

extern const struct vs_tp vs_tps[];
extern const unsigned int vs_n_tps;

struct perf_counter {
	int fd;
	int ctr;
};

struct vsprobe_bpf;
struct bpf_link;
struct bpf_program;

struct vs_probe {
	struct vs_probe_opts opts;
	enum vs_probe_backend backend;
	struct vsprobe_bpf *skel;
	struct bpf_link *links[VS_TP_MAX];
	struct bpf_program *progs[VS_TP_MAX];
	pid_t *pids;
	unsigned int n_pids;
	uint64_t t0;
	int ncpus;
	struct perf_counter *pc;
	unsigned int n_pc;
	struct vs_probe_source src[VS_PROBE_MAX_SOURCES];
	unsigned int n_src;
	/* vs_probe_read() and vs_probe_set_targets() may be called from two
	 * threads (watch serves fresh counters while a window measures). */
	pthread_mutex_t lock;
	/* Counters of target threads that exited, per target: their map
	 * entries are deleted (the maps would fill with the dead), their
	 * counts stay in their VM's sums so those never go down. */
	struct vs_probe_vm *retired;
	unsigned int n_retired;
	uint64_t pruned_ns;		/* last vs_probe_bpf_prune() */
};

/* Record what was (err 0) or could not be used, and why. */
struct vs_probe_source *vs_probe_add_source(struct vs_probe *p, const char *name,
					    const char *how, int err,
					    const char *why);
/* Mount tracefs where it is missing: 1 mounted (unmount after attaching),
 * 0 already there, -errno. */
int vs_probe_ensure_tracefs(void);

/* BPF backend (probe-bpf.c). */
int vs_probe_bpf_open(struct vs_probe *p);
int vs_probe_bpf_targets_fill(struct vs_probe *p);
int vs_probe_bpf_read(struct vs_probe *p, struct vs_probe_snapshot *s);
/* Delete what the maps hold of processes no longer targeted and of threads
 * that exited (their counts moved to p->retired first). Filtered probes
 * only; -errno. */
int vs_probe_bpf_prune(struct vs_probe *p);
void vs_probe_bpf_close(struct vs_probe *p);

/* perf fallback (probe-perf.c). */
int vs_probe_perf_open(struct vs_probe *p);
int vs_probe_perf_read(struct vs_probe *p, struct vs_probe_snapshot *s);
void vs_probe_perf_close(struct vs_probe *p);

#endif
