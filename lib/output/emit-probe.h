/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_OUTPUT_EMIT_PROBE_H
#define VS_OUTPUT_EMIT_PROBE_H

/*
 * A probe snapshot (lib/sources/probe.h) through the emitter, the one walk
 * behind `virtsync stat --json` and `--prometheus`: "sources", then "vms"
 * (a series: pid and name label every sample) with each VM's rates and
 * counts over the window since `prev`, wake-up, halt and sleep latency
 * histograms, exits by reason and their cost, and with opts->threads its
 * threads; with opts->wakers the waker -> wakee pairs.
 *
 * The window is the caller's: prev NULL means since the probes opened,
 * which is what a Prometheus series wants (counters that only grow,
 * histograms whose buckets do; Prometheus takes its own windows with
 * rate()). A VM that exited has no Prometheus series (they go stale at the
 * next scrape instead of holding the last counts as if it still ran).
 * Returns vs_emit_error().
 */

struct vs_emitter;
struct vs_probe_snapshot;

struct vs_emit_probe_opts {
	int threads;			/* one element per thread under each VM */
	int wakers;			/* "wakers": waker -> wakee pairs */
	const char *name_label;		/* the VM name's key: "comm" (NULL) */
	/* The VM's name (NULL or a NULL return: its comm). */
	const char *(*vm_name)(int pid, const char *comm, void *ctx);
	void *ctx;
};

int vs_emit_probe(struct vs_emitter *e, const struct vs_probe_snapshot *s,
		  const struct vs_probe_snapshot *prev, double secs,
		  const struct vs_emit_probe_opts *o);

#endif
