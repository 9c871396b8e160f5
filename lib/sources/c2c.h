/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_C2C_H
#define VS_C2C_H

/*
 * Core-to-core cache-line round trips: for pairs of CPUs, two threads pinned
 * one on each bounce one 64-byte line (the initiator writes an odd number,
 * the responder answers with the next even one), each round trip timed
 * with the TSC. A sample is the median of `round_trips` of them; passes
 * over every pair repeat until the run-time bound, so each pair gets a time
 * series and a host that moves vCPUs between close and far placements
 * shows up as two modes instead of one blurred number.
 *
 *	err = vs_c2c_measure(&opts, topo, &c, err, sizeof(err));
 *	vs_c2c_analyze(&c, topo);	// done by measure; pure, for tests
 *	vs_c2c_free(&c);
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/cpuonline.h"
#include "sources/topo.h"

/* Samples per pair: passes are spread over the run so that the last one
 * ends near its bound, and stop here. */
#define VS_C2C_MAX_SAMPLES	200
#define VS_C2C_MAX_CLUSTERS	64

struct vs_c2c_opts {
	const struct vs_cpuset *cpus;	/* NULL: every online CPU */
	double duration_ns;		/* bound on the run, default 2 s */
	unsigned int round_trips;	/* per sample, default 400 */
	unsigned int max_pairs;		/* beyond: a sample, default 1024 */
	/* Only these pairs (a[i], b[i]), for callers that need a few
	 * (diagnose's placement audit); NULL: all, or the sample. */
	const int *only_a, *only_b;
	unsigned int n_only;
	volatile sig_atomic_t *stop;	/* set: finish the current sample */
};

struct vs_c2c_pair {
	int a, b;			/* CPU ids, a < b */
	unsigned int n;			/* samples */
	float series_ns[VS_C2C_MAX_SAMPLES];	/* in time order */
	double median_ns, p10_ns, p90_ns, min_ns, max_ns;	/* over samples */
	/* Two modes (a bimodal series): each mode's median, the share of
	 * samples in the slow one and how often consecutive samples changed
	 * mode. Not unstable: low = high = median. */
	bool unstable;
	double low_ns, high_ns, high_share;
	unsigned int switches;
};

struct vs_c2c_cluster {
	struct vs_cpuset cpus;
	unsigned int level;		/* 0 closest; grows with the threshold */
	double median_ns;		/* of the round trips inside it */
	double max_ns;			/* of the slowest pair inside */
	char name[80];			/* what the topology says they share */
	bool explained;			/* the reported topology accounts for it */
};

struct vs_c2c {
	unsigned int n_cpus;
	int cpus[VS_TOPO_MAX_CPUS];	/* measured CPUs, ascending */
	unsigned int n_pairs;
	struct vs_c2c_pair *pairs;
	bool sampled;			/* a sample of the pairs, not all */
	unsigned int passes, round_trips, failed_samples;
	double duration_ns, elapsed_ns;
	bool unstable;			/* some pair is bimodal */
	unsigned int n_clusters;
	struct vs_c2c_cluster clusters[VS_C2C_MAX_CLUSTERS];
};

void vs_c2c_opts_default(struct vs_c2c_opts *o);

/*
 * Measure. -EINVAL (with a line in err) for a CPU list naming a CPU that
 * is not online, fewer than two CPUs, or bad options; -errno otherwise.
 * Two threads spin for the run, one per CPU of the pair being measured.
 */
int vs_c2c_measure(const struct vs_c2c_opts *o, const struct vs_topo *t,
		   struct vs_c2c *c, char *err, size_t errlen);
void vs_c2c_free(struct vs_c2c *c);
/* The CPUs and pairs vs_c2c_measure() would measure, without measuring
 * (errors as vs_c2c_measure's): exposed for tests. */
int vs_c2c_plan(const struct vs_c2c_opts *o, const struct vs_topo *t, struct vs_c2c *c,
		char *err, size_t errlen);

/* Summaries, modes and clusters from the series: pure, called by
 * vs_c2c_measure, exposed for tests. t may be NULL (clusters unnamed). */
void vs_c2c_analyze(struct vs_c2c *c, const struct vs_topo *t);

/* The pair of CPUs a and b (either order), NULL when not measured. */
const struct vs_c2c_pair *vs_c2c_find(const struct vs_c2c *c, int a, int b);

/*
 * The document `virtsync topo --json` prints, `virtsync report` draws and
 * /run/virtsync/c2c.json caches: {"topology": {...}, "c2c": {...}}
 * members are added to doc. -ENOMEM.
 */
int vs_topo_to_json(const struct vs_topo *t, json_t *doc);
int vs_c2c_to_json(const struct vs_c2c *c, const struct vs_topo *t, json_t *doc);
/* Read the "c2c" member back (pairs and their summaries; series too). */
int vs_c2c_from_json(const json_t *doc, struct vs_c2c *c);

/* The cache: written after every full `virtsync topo` run, read by the
 * placement audit. -ENOENT absent, -ESTALE older than max_age_s or from
 * another boot. */
int vs_c2c_cache_write(const json_t *doc);
int vs_c2c_cache_read(double max_age_s, struct vs_c2c *c);

#endif
