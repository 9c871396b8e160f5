// SPDX-License-Identifier: GPL-2.0-only
/* CPU, cache and NUMA topology (see topo.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numa.h>

#include "core/safefile.h"
#include "core/sysfs.h"
#include "sources/topo.h"

#define CPU_DIR "/sys/devices/system/cpu"
#define NODE_DIR "/sys/devices/system/node"

static int rooted(char *path, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static int rooted(char *path, size_t len, const char *fmt, va_list ap)
{
	char rel[256];

	if (vsnprintf(rel, sizeof(rel), fmt, ap) >= (int)sizeof(rel))
		return -ENAMETOOLONG;
	return vs_path(path, len, "%s", rel);
}

static int read_int(int *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int read_int(int *out, const char *fmt, ...)
{
	char path[512];
	int64_t v;
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = rooted(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (!err)
		err = vs_read_s64(path, &v);
	*out = err ? -1 : (int)v;
	return err;
}

static int read_text(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int read_text(char *buf, size_t len, const char *fmt, ...)
{
	char path[512];
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = rooted(path, sizeof(path), fmt, ap);
	va_end(ap);
	return err ? err : vs_read_str(path, buf, len);
}

/* "48K", "2048K", "32M": sysfs cache sizes. */
static uint64_t parse_size_kb(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s)
		return 0;
	switch (*end) {
	case 'M': return v * 1024;
	case 'G': return v * 1024 * 1024;
	case 'K': return v;
	default: return v / 1024;	/* plain bytes */
	}
}

static int cache_add(struct vs_topo *t, const struct vs_topo_cache *c)
{
	unsigned int i;

	for (i = 0; i < t->n_caches; i++) {
		const struct vs_topo_cache *o = &t->caches[i];

		if (o->level == c->level && !strcmp(o->type, c->type) &&
		    !memcmp(&o->cpus, &c->cpus, sizeof(c->cpus)))
			return (int)i;
	}
	if (t->n_caches >= VS_TOPO_MAX_CACHES)
		return -ERANGE;
	t->caches[t->n_caches] = *c;
	return (int)t->n_caches++;
}

static void read_caches(struct vs_topo *t, struct vs_topo_cpu *cpu)
{
	int idx;

	for (idx = 0; idx < VS_TOPO_CPU_CACHES; idx++) {
		struct vs_topo_cache c;
		char text[4096];
		int level, k;

		memset(&c, 0, sizeof(c));
		if (read_int(&level, CPU_DIR "/cpu%d/cache/index%d/level", cpu->id, idx))
			break;	/* indices are dense: the first gap ends them */
		c.level = level > 0 ? (unsigned int)level : 0;
		if (read_text(c.type, sizeof(c.type), CPU_DIR "/cpu%d/cache/index%d/type",
			      cpu->id, idx))
			snprintf(c.type, sizeof(c.type), "Unified");
		if (!read_text(text, sizeof(text), CPU_DIR "/cpu%d/cache/index%d/size",
			       cpu->id, idx))
			c.size_kb = parse_size_kb(text);
		if (read_text(text, sizeof(text),
			      CPU_DIR "/cpu%d/cache/index%d/shared_cpu_list", cpu->id, idx) ||
		    vs_cpuset_parse(text, &c.cpus))
			vs_cpuset_add(&c.cpus, cpu->id);
		k = cache_add(t, &c);
		if (k >= 0)
			cpu->cache[cpu->n_caches++] = k;
	}
}

static int count_distinct(const struct vs_topo *t, bool package)
{
	int seen[VS_TOPO_MAX_CPUS][2];
	unsigned int i, j, n = 0;

	for (i = 0; i < t->n_cpus; i++) {
		int a = t->cpus[i].package, b = package ? 0 : t->cpus[i].core;
		bool dup = false;

		for (j = 0; j < n && !dup; j++)
			dup = seen[j][0] == a && seen[j][1] == b;
		if (!dup) {
			seen[n][0] = a;
			seen[n][1] = b;
			n++;
		}
	}
	return (int)n;
}

/* Under a fixture root: the files libnuma reads on a live host. */
static void nodes_from_sysfs(struct vs_topo *t)
{
	struct vs_cpuset online;
	char text[4096];
	int id = -1;
	unsigned int i, j;

	if (read_text(text, sizeof(text), NODE_DIR "/online") ||
	    vs_cpuset_parse(text, &online))
		return;
	while ((id = vs_cpuset_next(&online, id)) >= 0 && t->n_nodes < VS_TOPO_MAX_NODES) {
		struct vs_topo_node *n = &t->nodes[t->n_nodes++];
		FILE *f;
		char path[512], line[256];

		memset(n, 0, sizeof(*n));
		n->id = id;
		if (!read_text(text, sizeof(text), NODE_DIR "/node%d/cpulist", id))
			vs_cpuset_parse(text, &n->cpus);
		if (!vs_path(path, sizeof(path), NODE_DIR "/node%d/meminfo", id) &&
		    (f = vs_fopen_rooted(path))) {
			while (fgets(line, sizeof(line), f)) {
				unsigned long long kb;
				int nid;

				if (sscanf(line, "Node %d MemTotal: %llu kB", &nid, &kb) == 2)
					n->mem_kb = kb;
			}
			fclose(f);
		}
		for (j = 0; j < VS_TOPO_MAX_NODES; j++)
			n->distance[j] = -1;
		if (!read_text(text, sizeof(text), NODE_DIR "/node%d/distance", id)) {
			char *p = text, *end;

			/* One entry per online node, in node order. */
			for (j = 0; j < VS_TOPO_MAX_NODES; j++) {
				long d = strtol(p, &end, 10);

				if (end == p)
					break;
				n->distance[j] = (int)d;
				p = end;
			}
		}
	}
	snprintf(t->numa_from, sizeof(t->numa_from), "sysfs %s", NODE_DIR);
	for (i = 0; i < t->n_nodes; i++)
		for (j = 0; j < t->n_cpus; j++)
			if (vs_cpuset_has(&t->nodes[i].cpus, t->cpus[j].id))
				t->cpus[j].node = t->nodes[i].id;
}

static void nodes_from_libnuma(struct vs_topo *t)
{
	struct bitmask *cpus;
	int id, max, c;
	unsigned int i, j;

	if (numa_available() < 0) {
		snprintf(t->numa_from, sizeof(t->numa_from),
			 "libnuma: no NUMA support in this kernel, one node assumed");
		return;
	}
	cpus = numa_allocate_cpumask();
	if (!cpus)
		return;
	max = numa_max_node();
	for (id = 0; id <= max && t->n_nodes < VS_TOPO_MAX_NODES; id++) {
		struct vs_topo_node *n;
		long long free_b, size;

		if (!numa_bitmask_isbitset(numa_nodes_ptr, (unsigned int)id))
			continue;
		n = &t->nodes[t->n_nodes++];
		memset(n, 0, sizeof(*n));
		n->id = id;
		if (!numa_node_to_cpus(id, cpus))
			for (c = 0; c < (int)numa_bitmask_nbytes(cpus) * 8 && c < VS_CPUSET_MAX; c++)
				if (numa_bitmask_isbitset(cpus, (unsigned int)c))
					vs_cpuset_add(&n->cpus, c);
		size = numa_node_size64(id, &free_b);
		n->mem_kb = size > 0 ? (uint64_t)size / 1024 : 0;
	}
	numa_free_cpumask(cpus);
	for (i = 0; i < t->n_nodes; i++)
		for (j = 0; j < VS_TOPO_MAX_NODES; j++)
			t->nodes[i].distance[j] = j < t->n_nodes ?
				numa_distance(t->nodes[i].id, t->nodes[j].id) : -1;
	for (j = 0; j < t->n_cpus; j++)
		t->cpus[j].node = numa_node_of_cpu(t->cpus[j].id);
	snprintf(t->numa_from, sizeof(t->numa_from), "libnuma");
}

/* Without NUMA information every CPU is on one node: say so. */
static void one_node(struct vs_topo *t)
{
	struct vs_topo_node *n = &t->nodes[0];
	unsigned int i;

	memset(n, 0, sizeof(*n));
	t->n_nodes = 1;
	n->cpus = t->online;
	for (i = 0; i < VS_TOPO_MAX_NODES; i++)
		n->distance[i] = i ? -1 : 10;
	for (i = 0; i < t->n_cpus; i++)
		t->cpus[i].node = 0;
	if (!t->numa_from[0])
		snprintf(t->numa_from, sizeof(t->numa_from),
			 "no NUMA information, one node assumed");
}

int vs_topo_read(struct vs_topo *t)
{
	struct vs_cpuset possible;
	char text[4096];
	int cpu = -1, err;

	memset(t, 0, sizeof(*t));
	err = vs_cpus_online_set(&t->online);
	if (err)
		return err;
	if (!read_text(text, sizeof(text), CPU_DIR "/possible") &&
	    !vs_cpuset_parse(text, &possible))
		t->n_offline = vs_cpuset_count(&possible) - vs_cpuset_count(&t->online);
	while ((cpu = vs_cpuset_next(&t->online, cpu)) >= 0) {
		struct vs_topo_cpu *c;

		if (t->n_cpus >= VS_TOPO_MAX_CPUS)
			return -ERANGE;
		c = &t->cpus[t->n_cpus++];
		c->id = cpu;
		c->node = -1;
		read_int(&c->core, CPU_DIR "/cpu%d/topology/core_id", cpu);
		read_int(&c->package, CPU_DIR "/cpu%d/topology/physical_package_id", cpu);
		read_int(&c->die, CPU_DIR "/cpu%d/topology/die_id", cpu);
		if (read_text(text, sizeof(text), CPU_DIR "/cpu%d/topology/thread_siblings_list",
			      cpu) || vs_cpuset_parse(text, &c->siblings))
			vs_cpuset_add(&c->siblings, cpu);
		if (vs_cpuset_count(&c->siblings) > 1)
			t->smt = true;
		read_caches(t, c);
	}
	t->n_cores = (unsigned int)count_distinct(t, false);
	t->n_packages = (unsigned int)count_distinct(t, true);
	if (vs_root()[0])
		nodes_from_sysfs(t);
	else
		nodes_from_libnuma(t);
	if (!t->n_nodes)
		one_node(t);
	return 0;
}

const struct vs_topo_cpu *vs_topo_cpu(const struct vs_topo *t, int cpu)
{
	unsigned int i;

	for (i = 0; i < t->n_cpus; i++)
		if (t->cpus[i].id == cpu)
			return &t->cpus[i];
	return NULL;
}

int vs_topo_node_index(const struct vs_topo *t, int id)
{
	unsigned int i;

	for (i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].id == id)
			return (int)i;
	return -1;
}

int vs_topo_relate(const struct vs_topo *t, int a, int b, struct vs_topo_rel *r)
{
	const struct vs_topo_cpu *ca = vs_topo_cpu(t, a), *cb = vs_topo_cpu(t, b);
	unsigned int i;
	int na, nb;

	memset(r, 0, sizeof(*r));
	r->distance = -1;
	if (!ca || !cb)
		return -ENOENT;
	r->same_cpu = a == b;
	r->smt = !r->same_cpu && vs_cpuset_has(&ca->siblings, b);
	for (i = 0; i < ca->n_caches; i++) {
		const struct vs_topo_cache *c = &t->caches[ca->cache[i]];

		if (!strcmp(c->type, "Instruction") || !vs_cpuset_has(&c->cpus, b))
			continue;
		if (!r->cache_level || c->level < r->cache_level)
			r->cache_level = c->level;
	}
	r->same_package = ca->package >= 0 && ca->package == cb->package;
	r->same_node = ca->node == cb->node;
	na = vs_topo_node_index(t, ca->node);
	nb = vs_topo_node_index(t, cb->node);
	if (na >= 0 && nb >= 0)
		r->distance = t->nodes[na].distance[nb];
	return 0;
}

const char *vs_topo_rel_name(const struct vs_topo_rel *r, char *buf, size_t len)
{
	if (r->same_cpu)
		snprintf(buf, len, "same CPU");
	else if (r->smt)
		snprintf(buf, len, "SMT siblings");
	else if (r->cache_level)
		snprintf(buf, len, "share L%u", r->cache_level);
	else if (r->same_package)
		snprintf(buf, len, "same package");
	else if (r->same_node)
		snprintf(buf, len, "same node");
	else if (r->distance > 0)
		snprintf(buf, len, "other node (distance %d)", r->distance);
	else
		snprintf(buf, len, "other node");
	return buf;
}

int vs_topo_closest_pair(const struct vs_topo *t, const struct vs_cpuset *among,
			 int *a, int *b, int *node)
{
	unsigned int i, j, best = 0, n = 0;
	int first[2] = { -1, -1 };

	*a = *b = -1;
	*node = t->n_cpus ? t->cpus[0].node : -1;
	for (i = 0; i < t->n_cpus; i++) {
		const struct vs_topo_cpu *ci = &t->cpus[i];

		if (among && !vs_cpuset_has(among, ci->id))
			continue;
		if (n < 2)
			first[n] = (int)i;
		n++;
		for (j = i + 1; j < t->n_cpus; j++) {
			const struct vs_topo_cpu *cj = &t->cpus[j];
			struct vs_topo_rel r;

			if ((among && !vs_cpuset_has(among, cj->id)) ||
			    vs_topo_relate(t, ci->id, cj->id, &r) || !r.same_node)
				continue;
			if (r.cache_level && (!best || r.cache_level < best)) {
				best = r.cache_level;
				*a = ci->id;
				*b = cj->id;
				*node = ci->node;
			} else if (!best && *a < 0) {
				*a = ci->id;	/* no shared cache yet: one node */
				*b = cj->id;
				*node = ci->node;
			}
		}
	}
	if (n < 2)
		return -1;
	if (*a < 0) {	/* two CPUs, but on different nodes */
		*a = t->cpus[first[0]].id;
		*b = t->cpus[first[1]].id;
		*node = t->cpus[first[0]].node;
	}
	return (int)best;
}
