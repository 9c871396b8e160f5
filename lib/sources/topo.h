/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TOPO_H
#define VS_TOPO_H

/*
 * The host's CPU topology as the kernel reports it: online CPUs, their
 * cores, packages and SMT siblings (/sys/devices/system/cpu/cpuN/topology),
 * caches (cpuN/cache/indexK: level, type, size, shared_cpu_list) and NUMA
 * nodes with their CPUs, memory and distances (libnuma on the live host;
 * under a VIRTSYNC_ROOT fixture the node files libnuma itself reads,
 * /sys/devices/system/node). Read once, then queried without I/O, so that
 * analysis (recommend, placement) takes a struct vs_topo as a parameter.
 *
 *	struct vs_topo *t = calloc(1, sizeof(*t));
 *	err = vs_topo_read(t);			// -errno
 *	level = vs_topo_closest_pair(t, NULL, &a, &b, &node);
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cpuonline.h"

#define VS_TOPO_MAX_CPUS	512
#define VS_TOPO_MAX_CACHES	1024	/* distinct caches of the machine */
#define VS_TOPO_CPU_CACHES	8	/* cache indices per CPU */
#define VS_TOPO_MAX_NODES	64

struct vs_topo_cache {
	unsigned int level;		/* 1, 2, 3, ... */
	char type[12];			/* "Data", "Instruction", "Unified" */
	uint64_t size_kb;		/* 0 when not reported */
	struct vs_cpuset cpus;		/* shared_cpu_list */
};

struct vs_topo_cpu {
	int id;
	int core, package, die;		/* -1 when not reported */
	int node;			/* NUMA node, -1 unknown */
	struct vs_cpuset siblings;	/* SMT siblings, itself included */
	unsigned int n_caches;
	int cache[VS_TOPO_CPU_CACHES];	/* indices into vs_topo.caches */
};

struct vs_topo_node {
	int id;
	struct vs_cpuset cpus;
	uint64_t mem_kb;		/* MemTotal, 0 when unknown */
	/* distance[i]: to nodes[i] (SLIT: 10 local), -1 unknown */
	int distance[VS_TOPO_MAX_NODES];
};

struct vs_topo {
	unsigned int n_cpus;		/* online CPUs, ascending */
	struct vs_topo_cpu cpus[VS_TOPO_MAX_CPUS];
	struct vs_cpuset online;
	unsigned int n_offline;		/* possible but offline */
	unsigned int n_cores, n_packages;
	bool smt;			/* some core runs two threads */
	unsigned int n_caches;
	struct vs_topo_cache caches[VS_TOPO_MAX_CACHES];
	unsigned int n_nodes;
	struct vs_topo_node nodes[VS_TOPO_MAX_NODES];
	char numa_from[96];		/* "libnuma", or why one node is assumed */
};

/* How two CPUs relate, closest first. */
struct vs_topo_rel {
	bool same_cpu, smt;
	unsigned int cache_level;	/* smallest shared cache, 0 none */
	bool same_package, same_node;
	int distance;			/* NUMA distance, -1 unknown */
};

/* Fill t (every field; -errno, -ERANGE beyond VS_TOPO_MAX_CPUS). */
int vs_topo_read(struct vs_topo *t);

/* The online CPU `cpu`, or NULL. */
const struct vs_topo_cpu *vs_topo_cpu(const struct vs_topo *t, int cpu);
/* Index of node `id` in t->nodes, -1 when absent. */
int vs_topo_node_index(const struct vs_topo *t, int id);

/* -ENOENT when either CPU is not online. */
int vs_topo_relate(const struct vs_topo *t, int a, int b, struct vs_topo_rel *r);
/* "SMT siblings", "share L2", "same package", "other node (distance 21)" */
const char *vs_topo_rel_name(const struct vs_topo_rel *r, char *buf, size_t len);

/*
 * Two CPUs for a producer/consumer pair, among `among` (NULL: every online
 * CPU): the pair sharing the smallest cache level, on one NUMA node.
 * Returns that level, 0 when no two CPUs share a cache (then the first two
 * CPUs of one node, or of the machine), -1 with fewer than two CPUs.
 */
int vs_topo_closest_pair(const struct vs_topo *t, const struct vs_cpuset *among,
			 int *a, int *b, int *node);

#endif
