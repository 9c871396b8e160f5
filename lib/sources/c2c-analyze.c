// SPDX-License-Identifier: GPL-2.0-only
/*
 * From the round-trip series to what they say (see c2c.h): per pair its
 * summary and whether it has two modes, then clusters of CPUs that are
 * close to each other, named by what the reported topology says they
 * share. Pure computation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/latstats.h"
#include "sources/c2c.h"

/*
 * Two modes: sorted samples fall apart at one gap at least this wide (as a
 * ratio), the two halves' medians are this far apart, and each half holds
 * at least MODE_MIN_SHARE of the samples. Noise on a loaded machine moves
 * samples by tens of percent; a host that moves a vCPU to another socket
 * moves them by several times.
 */
#define MODE_GAP	1.4
#define MODE_RATIO	1.8
#define MODE_MIN_SHARE	0.1
#define MODE_MIN_SAMPLES 6
/* A gap in the sorted pair medians this wide separates cluster levels. */
#define LEVEL_GAP	1.5
#define MAX_LEVELS	4

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_of(const double *sorted, unsigned int n)
{
	return vs_percentile_sorted(sorted, n, 50);
}

static void summarize_pair(struct vs_c2c_pair *p)
{
	double v[VS_C2C_MAX_SAMPLES], best = 0, cut;
	unsigned int i, k = 0, lo_min;

	p->unstable = false;
	p->switches = 0;
	p->high_share = 0;
	if (!p->n) {
		p->median_ns = p->p10_ns = p->p90_ns = p->min_ns = p->max_ns = NAN;
		p->low_ns = p->high_ns = NAN;
		return;
	}
	for (i = 0; i < p->n; i++)
		v[i] = p->series_ns[i];
	qsort(v, p->n, sizeof(v[0]), cmp_double);
	p->median_ns = median_of(v, p->n);
	p->p10_ns = vs_percentile_sorted(v, p->n, 10);
	p->p90_ns = vs_percentile_sorted(v, p->n, 90);
	p->min_ns = v[0];
	p->max_ns = v[p->n - 1];
	p->low_ns = p->high_ns = p->median_ns;
	if (p->n < MODE_MIN_SAMPLES)
		return;
	lo_min = (unsigned int)ceil(MODE_MIN_SHARE * p->n);
	if (lo_min < 2)
		lo_min = 2;
	for (i = lo_min; i + lo_min <= p->n; i++) {
		double gap = v[i] / v[i - 1];

		if (v[i - 1] > 0 && gap > best) {
			best = gap;
			k = i;
		}
	}
	if (best < MODE_GAP)
		return;
	if (median_of(v + k, p->n - k) < MODE_RATIO * median_of(v, k))
		return;
	p->unstable = true;
	p->low_ns = median_of(v, k);
	p->high_ns = median_of(v + k, p->n - k);
	p->high_share = (double)(p->n - k) / p->n;
	cut = sqrt(v[k - 1] * v[k]);
	for (i = 1; i < p->n; i++)
		p->switches += (p->series_ns[i] > cut) != (p->series_ns[i - 1] > cut);
}

/* ---- clusters --------------------------------------------------------- */

static int find(int *parent, int i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

static int cpu_index(const struct vs_c2c *c, int cpu)
{
	unsigned int i;

	for (i = 0; i < c->n_cpus; i++)
		if (c->cpus[i] == cpu)
			return (int)i;
	return -1;
}

/* What every pair inside the cluster shares, from the topology. */
static void name_cluster(struct vs_c2c_cluster *cl, const struct vs_topo *t)
{
	bool smt = true, pkg = true, node = true, cache = true, any = false;
	unsigned int level = 0;
	int a = -1, b, first = vs_cpuset_next(&cl->cpus, -1);
	const struct vs_topo_cpu *tc;
	char list[64];

	vs_cpuset_format(&cl->cpus, list, sizeof(list));
	cl->explained = false;
	if (!t) {
		snprintf(cl->name, sizeof(cl->name), "CPUs %s", list);
		return;
	}
	while ((a = vs_cpuset_next(&cl->cpus, a)) >= 0) {
		for (b = vs_cpuset_next(&cl->cpus, a); b >= 0;
		     b = vs_cpuset_next(&cl->cpus, b)) {
			struct vs_topo_rel r;

			if (vs_topo_relate(t, a, b, &r))
				continue;
			any = true;
			smt &= r.smt;
			pkg &= r.same_package;
			node &= r.same_node;
			cache &= r.cache_level > 0;
			if (r.cache_level > level)
				level = r.cache_level;
		}
	}
	tc = vs_topo_cpu(t, first);
	cl->explained = any;
	if (any && smt)
		snprintf(cl->name, sizeof(cl->name), "SMT siblings, core %d", tc ? tc->core : -1);
	else if (any && cache)
		snprintf(cl->name, sizeof(cl->name), "share an L%u cache", level);
	else if (any && pkg)
		snprintf(cl->name, sizeof(cl->name), "package %d", tc ? tc->package : -1);
	else if (any && node)
		snprintf(cl->name, sizeof(cl->name), "NUMA node %d", tc ? tc->node : -1);
	else {
		cl->explained = false;
		snprintf(cl->name, sizeof(cl->name),
			 "close by measurement only (no shared cache, package or node reported)");
	}
}

/*
 * Levels are the gaps of at least LEVEL_GAP in the sorted medians of the
 * stable pairs; at each level, CPUs joined by pairs below the gap form a
 * cluster. Bimodal pairs join nothing: their distance is not one thing.
 */
static void find_clusters(struct vs_c2c *c, const struct vs_topo *t)
{
	double *v, *in, thr[MAX_LEVELS + 1];
	unsigned int i, j, n = 0, n_thr = 0, lvl;
	int *parent;

	c->n_clusters = 0;
	v = calloc(c->n_pairs + 1, sizeof(*v));
	in = calloc(c->n_pairs + 1, sizeof(*in));
	parent = calloc(c->n_cpus + 1, sizeof(*parent));
	if (!v || !in || !parent)
		goto out;
	for (i = 0; i < c->n_pairs; i++)
		if (c->pairs[i].n && !c->pairs[i].unstable)
			v[n++] = c->pairs[i].median_ns;
	if (!n)
		goto out;
	qsort(v, n, sizeof(v[0]), cmp_double);
	for (i = 1; i < n && n_thr < MAX_LEVELS; i++)
		if (v[i - 1] > 0 && v[i] / v[i - 1] >= LEVEL_GAP)
			thr[n_thr++] = sqrt(v[i - 1] * v[i]);
	thr[n_thr++] = v[n - 1] * 1.0001;	/* everything measured */
	for (lvl = 0; lvl < n_thr; lvl++) {
		for (i = 0; i < c->n_cpus; i++)
			parent[i] = (int)i;
		for (i = 0; i < c->n_pairs; i++) {
			const struct vs_c2c_pair *p = &c->pairs[i];
			int x, y;

			if (!p->n || p->unstable || p->median_ns > thr[lvl])
				continue;
			x = find(parent, cpu_index(c, p->a));
			y = find(parent, cpu_index(c, p->b));
			if (x != y)
				parent[x] = y;
		}
		for (i = 0; i < c->n_cpus && c->n_clusters < VS_C2C_MAX_CLUSTERS; i++) {
			struct vs_c2c_cluster *cl;
			unsigned int m = 0, k;
			bool dup = false;

			if (find(parent, (int)i) != (int)i)
				continue;
			cl = &c->clusters[c->n_clusters];
			memset(cl, 0, sizeof(*cl));
			for (j = 0; j < c->n_cpus; j++)
				if (find(parent, (int)j) == (int)i)
					vs_cpuset_add(&cl->cpus, c->cpus[j]);
			if (vs_cpuset_count(&cl->cpus) < 2)
				continue;
			/* The same set at a lower level says it already. */
			for (k = 0; k < c->n_clusters && !dup; k++)
				dup = !memcmp(&c->clusters[k].cpus, &cl->cpus, sizeof(cl->cpus));
			if (dup)
				continue;
			for (k = 0; k < c->n_pairs; k++) {
				const struct vs_c2c_pair *p = &c->pairs[k];

				if (p->n && !p->unstable && vs_cpuset_has(&cl->cpus, p->a) &&
				    vs_cpuset_has(&cl->cpus, p->b))
					in[m++] = p->median_ns;
			}
			qsort(in, m, sizeof(in[0]), cmp_double);
			cl->median_ns = median_of(in, m);
			cl->max_ns = m ? in[m - 1] : NAN;
			cl->level = lvl;
			name_cluster(cl, t);
			c->n_clusters++;
		}
	}
out:
	free(v);
	free(in);
	free(parent);
}

void vs_c2c_analyze(struct vs_c2c *c, const struct vs_topo *t)
{
	unsigned int i;

	c->unstable = false;
	for (i = 0; i < c->n_pairs; i++) {
		summarize_pair(&c->pairs[i]);
		c->unstable |= c->pairs[i].unstable;
	}
	find_clusters(c, t);
}
