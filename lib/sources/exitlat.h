/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_EXITLAT_H
#define VS_EXITLAT_H

/*
 * Exit cost per VM and reason: rate and the exit-to-entry time, from a
 * probe snapshot (kvm:kvm_exit and kvm:kvm_entry, bpf/exitlat.h) or from a
 * recorded trace of the same two tracepoints, replayed through the same
 * pairing code. The replay reads ftrace's text format (the trace file or
 * trace_pipe, with or without options/record-tgid) and `perf script`'s:
 *
 *   CPU 0/KVM-2345 (   2340) [003] d..1. 5123.456789: kvm_exit: vcpu 0 reason IO_INSTRUCTION ...
 *   CPU 0/KVM  2340/2345 [003]  5123.456801: kvm:kvm_entry: vcpu 0, rip ...
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "sources/probe.h"

#define VS_EXITCOST_MAX 32

struct vs_exitcost {
	uint32_t isa, reason;
	char name[32];			/* reason name, "vmx_77" when unknown */
	bool kick;			/* vs_exit_reason_is_kick() */
	uint64_t count;
	double per_s;			/* NaN without a window */
	double mean_ns, p50_ns, p99_ns, max_ns;
	struct vs_hist hist;
};

/* Add one BPF per-CPU value to a snapshot row. */
void vs_exitlat_add(struct vs_probe_exitlat *e, const struct vs_exitlat_val *v);

/*
 * Replay a recorded trace into snap (exitlats and exits; elapsed_ns from
 * the first to the last event). Lines that are neither event are skipped;
 * -EINVAL with err filled when no kvm_exit or kvm_entry line was found.
 */
int vs_exitlat_replay(FILE *trace, struct vs_probe_snapshot *snap, char *err,
		      size_t errlen);

/*
 * The exit costs of process tgid between two snapshots of one probe (prev
 * may be NULL: since the probes opened), most frequent first; secs is the
 * interval for the rates. Returns how many (at most max).
 */
unsigned int vs_exitcost_between(const struct vs_probe_snapshot *now,
				 const struct vs_probe_snapshot *prev, pid_t tgid,
				 double secs, struct vs_exitcost *out, unsigned int max);

/* The exit costs of process tgid (all processes: tgid < 0), one per reason,
 * most frequent first; returns how many (at most max). */
unsigned int vs_exitcost_of(const struct vs_probe_snapshot *s, pid_t tgid,
			    struct vs_exitcost *out, unsigned int max);

/*
 * The per-kick exit cost of tgid: the mean exit-to-entry time over the
 * kick reasons (the model's Np for a vCPU producer). -ENOENT when no kick
 * exit was timed; `from` says what it is made of.
 */
int vs_exitcost_kick(const struct vs_probe_snapshot *s, pid_t tgid, double *ns,
		     char *from, size_t len);

#endif
