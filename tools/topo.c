// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync topo: the host's CPUs, cores, SMT siblings, caches and NUMA
 * nodes, and a measured core-to-core cache-line round-trip matrix with the
 * clusters it shows (lib/sources/topo.h, lib/sources/c2c.h).
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "core/cpuonline.h"
#include "core/units.h"
#include "sources/c2c.h"
#include "sources/topo.h"

static struct env {
	struct vs_c2c_opts o;
	struct vs_cpuset cpus;
	bool have_cpus;
	bool no_measure;
} env;

static const char argp_doc[] =
"CPU topology and a measured core-to-core cache-line round-trip matrix.\n"
"\n"
"Synopsis: virtsync topo [--cpus LIST] [--duration T] [--round-trips N]\n"
"                        [--max-pairs N] [--no-measure] [--json]\n"
"\n"
"Lists CPUs, cores, SMT siblings, caches (sysfs cache indices) and NUMA\n"
"nodes (libnuma), then bounces one cache line between two threads pinned\n"
"to each pair of CPUs: a sample is the median of --round-trips round trips,\n"
"and passes over all pairs repeat until --duration, so that every pair has a\n"
"series. A pair whose series has two modes (a host moving vCPUs between\n"
"close and far placements) is shown as unstable with both values. Clusters\n"
"are CPUs closer to each other than to the rest, named by what the reported\n"
"topology says they share. Hosts with more pairs than --max-pairs get a\n"
"sample: every CPU against one CPU of each relation it has.\n"
"\n"
"Examples:\n"
"    virtsync topo                        # all online CPUs, about 2 s\n"
"    virtsync topo --cpus 0-3 --duration 500ms\n"
"    virtsync topo --no-measure           # topology only, no threads\n"
"    virtsync topo --json > topo.json && virtsync report --from topo.json\n";

enum { OPT_CPUS = 256, OPT_DURATION, OPT_ROUND_TRIPS, OPT_MAX_PAIRS, OPT_NO_MEASURE };

static const struct argp_option options[] = {
	{ "cpus", OPT_CPUS, "LIST", 0, "CPUs to measure, such as 0-3,8 (default: "
	  "every online CPU)", 0 },
	{ "duration", 'd', "TIME", 0, "bound on the measurement, 100ms "
	  "to 1h (default 2s)", 0 },
	{ "round-trips", OPT_ROUND_TRIPS, "N", 0, "round trips per sample "
	  "(default 400)", 0 },
	{ "max-pairs", OPT_MAX_PAIRS, "N", 0, "measure a sample of pairs above "
	  "this many (default 1024)", 0 },
	{ "no-measure", OPT_NO_MEASURE, NULL, 0, "topology only", 0 },
	{ 0 },
};

static int parse_cpus(const char *arg)
{
	struct vs_cpuset online;
	char list[256];
	int err, cpu = -1;

	err = vs_cpus_online_set(&online);
	if (err) {
		vs_err("--cpus: cannot read the online CPU list: %s", strerror(-err));
		return EINVAL;
	}
	vs_cpuset_format(&online, list, sizeof(list));
	err = vs_cpuset_parse(arg, &env.cpus);
	if (err == -ERANGE) {
		vs_err("--cpus: '%s' names a CPU above %d (online: %s)", arg,
		       VS_CPUSET_MAX - 1, list);
		return EINVAL;
	}
	if (err) {
		vs_err("--cpus: '%s' is not a CPU list (such as 0-3,8)", arg);
		return EINVAL;
	}
	while ((cpu = vs_cpuset_next(&env.cpus, cpu)) >= 0) {
		if (!vs_cpuset_has(&online, cpu)) {
			vs_err("--cpus: CPU %d is not online (online: %s)", cpu, list);
			return EINVAL;
		}
	}
	if (vs_cpuset_count(&env.cpus) < 2) {
		vs_err("--cpus: '%s' names one CPU; a round trip needs two", arg);
		return EINVAL;
	}
	env.have_cpus = true;
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case OPT_CPUS:
		return parse_cpus(arg);
	case 'd':
		return opt_duration("--duration", arg, 100e6, 3600e9,
				    &env.o.duration_ns) ? EINVAL : 0;
	case OPT_ROUND_TRIPS:
		return opt_uint("--round-trips", arg, 10, 100000, &env.o.round_trips) ?
		       EINVAL : 0;
	case OPT_MAX_PAIRS:
		return opt_uint("--max-pairs", arg, 1, 1000000, &env.o.max_pairs) ?
		       EINVAL : 0;
	case OPT_NO_MEASURE:
		env.no_measure = true;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

/* ---- text ----------------------------------------------------------- */

static const char *size_text(uint64_t kb, char *buf, size_t len)
{
	if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(kb / 1024 / 1024));
	else if (kb >= 1024 && kb % 1024 == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(kb / 1024));
	else
		snprintf(buf, len, "%lluK", (unsigned long long)kb);
	return buf;
}

static void print_topology(const struct vs_topo *t)
{
	char list[256], sz[24];
	unsigned int i, j;
	bool done[VS_TOPO_MAX_CACHES] = { false };

	vs_cpuset_format(&t->online, list, sizeof(list));
	printf("CPUs %s online (%u", list, t->n_cpus);
	if (t->n_offline)
		printf(", %u offline", t->n_offline);
	printf("), %u cores, %u package%s, %s\n", t->n_cores, t->n_packages,
	       t->n_packages == 1 ? "" : "s", t->smt ? "SMT" : "no SMT");
	/* Caches by level and type: size, how many, how many CPUs each. */
	printf("caches:\n");
	for (i = 0; i < t->n_caches; i++) {
		const struct vs_topo_cache *c = &t->caches[i];
		unsigned int n = 0, cpus = vs_cpuset_count(&c->cpus);

		if (done[i])
			continue;
		for (j = i; j < t->n_caches; j++) {
			const struct vs_topo_cache *o = &t->caches[j];

			if (!done[j] && o->level == c->level && !strcmp(o->type, c->type) &&
			    o->size_kb == c->size_kb && vs_cpuset_count(&o->cpus) == cpus) {
				done[j] = true;
				n++;
			}
		}
		vs_cpuset_format(&c->cpus, list, sizeof(list));
		printf("  L%u %-11s %6s x %-3u %s %u CPU%s%s%s\n", c->level, c->type,
		       size_text(c->size_kb, sz, sizeof(sz)), n,
		       n > 1 ? "each shared by" : "shared by", cpus, cpus == 1 ? "" : "s",
		       n == 1 ? ": " : "", n == 1 ? list : "");
	}
	printf("NUMA (%s):\n", t->numa_from);
	for (i = 0; i < t->n_nodes; i++) {
		const struct vs_topo_node *n = &t->nodes[i];

		vs_cpuset_format(&n->cpus, list, sizeof(list));
		printf("  node %d: CPUs %s", n->id, list[0] ? list : "none");
		if (n->mem_kb)
			printf(", %.1f GiB", n->mem_kb / 1048576.0);
		if (t->n_nodes > 1) {
			printf(", distances");
			for (j = 0; j < t->n_nodes && j < 12; j++)
				printf(" %d", n->distance[j]);
		}
		printf("\n");
	}
}

/* "36", "210", "1.2k": a round trip in 4 characters at most. */
static const char *cell_ns(double ns, char *buf, size_t len)
{
	if (!isfinite(ns))
		snprintf(buf, len, ".");
	else if (ns < 9999.5)
		snprintf(buf, len, "%.0f", ns);
	else if (ns < 99.95e3)
		snprintf(buf, len, "%.1fk", ns / 1e3);
	else
		snprintf(buf, len, "%.0fk", ns / 1e3);
	return buf;
}

static const char glyphs[] = ".:-=+*#%@";

/* Glyph of a value on a log scale from lo to hi (9 steps). */
static char glyph(double v, double lo, double hi)
{
	int k;

	if (!isfinite(v))
		return ' ';
	if (hi <= lo * 1.01)
		return glyphs[0];
	k = (int)floor(log(v / lo) / log(hi / lo) * 8.999);
	return glyphs[k < 0 ? 0 : k > 8 ? 8 : k];
}

static void print_matrix(const struct vs_c2c *c)
{
	unsigned int i, j, n = c->n_cpus;
	double lo = INFINITY, hi = 0;
	char a[16], b[16];
	bool wide = n <= 10, numbers = n <= 18;

	for (i = 0; i < c->n_pairs; i++) {
		if (!c->pairs[i].n)
			continue;
		lo = fmin(lo, c->pairs[i].unstable ? c->pairs[i].low_ns : c->pairs[i].median_ns);
		hi = fmax(hi, c->pairs[i].unstable ? c->pairs[i].high_ns : c->pairs[i].median_ns);
	}
	if (n > 72) {
		printf("(%u CPUs: too many for a text matrix; --json or virtsync report "
		       "draw it)\n", n);
		return;
	}
	printf(numbers ? "    " : "     ");
	for (j = 0; j < n; j++) {
		if (wide)
			printf(" %6d", c->cpus[j]);
		else if (numbers)
			printf(" %3d", c->cpus[j]);
		else
			printf("%d", c->cpus[j] % 10);
	}
	printf("\n");
	for (i = 0; i < n; i++) {
		printf(numbers ? "%4d" : "%4d ", c->cpus[i]);
		for (j = 0; j < n; j++) {
			const struct vs_c2c_pair *p = i == j ? NULL :
				vs_c2c_find(c, c->cpus[i], c->cpus[j]);
			char cell[16];

			if (i == j) {
				printf(wide ? "      -" : numbers ? "   -" : " ");
				continue;
			}
			if (!numbers) {
				putchar(!p ? ' ' : p->unstable ? '~' :
					glyph(p->median_ns, lo, hi));
				continue;
			}
			if (p && p->unstable && wide)
				snprintf(cell, sizeof(cell), "%s/%s",
					 cell_ns(p->low_ns, a, sizeof(a)),
					 cell_ns(p->high_ns, b, sizeof(b)));
			else if (p && p->unstable)
				snprintf(cell, sizeof(cell), "%s~",
					 cell_ns(p->low_ns, a, sizeof(a)));
			else
				cell_ns(p ? p->median_ns : NAN, cell, sizeof(cell));
			printf(wide ? " %6s" : " %3s", cell);
		}
		printf("\n");
	}
	if (numbers)
		printf("legend: median ns per round trip; %s; . not measured\n",
		       wide ? "a/b: two modes, see below" : "n~: two modes, n the fast one");
	else
		printf("legend: '%c' %s ns ... '%c' %s ns (log), ~ two modes, blank "
		       "not measured\n", glyphs[0], cell_ns(lo, a, sizeof(a)),
		       glyphs[8], cell_ns(hi, b, sizeof(b)));
}

/* The median round trip of each topology relation, closest first. */
static void print_relations(const struct vs_c2c *c, const struct vs_topo *t)
{
	char names[16][64], rel[64];
	double *vals[16];
	unsigned int cnt[16] = { 0 }, unst[16] = { 0 }, n_rel = 0, i, k;

	for (i = 0; i < c->n_pairs; i++) {
		const struct vs_c2c_pair *p = &c->pairs[i];
		struct vs_topo_rel r;

		if (!p->n || vs_topo_relate(t, p->a, p->b, &r))
			continue;
		vs_topo_rel_name(&r, rel, sizeof(rel));
		for (k = 0; k < n_rel && strcmp(names[k], rel); k++)
			;
		if (k == n_rel) {
			if (n_rel == 16)
				continue;
			snprintf(names[n_rel], sizeof(names[0]), "%s", rel);
			vals[n_rel] = calloc(c->n_pairs, sizeof(double));
			if (!vals[n_rel])
				continue;
			n_rel++;
		}
		if (p->unstable) {
			unst[k]++;
			continue;
		}
		vals[k][cnt[k]++] = p->median_ns;
	}
	if (!n_rel)
		return;
	printf("by relation (the reported topology):\n");
	for (k = 0; k < n_rel; k++) {
		char line[96];
		int len;

		len = snprintf(line, sizeof(line), "  %-24s", names[k]);
		if (cnt[k])
			len += snprintf(line + len, sizeof(line) - len, " %8s median, %u pair%s",
					VS_TIME(vs_median(vals[k], cnt[k])), cnt[k],
					cnt[k] == 1 ? "" : "s");
		if (unst[k])
			snprintf(line + len, sizeof(line) - len, "%s%u unstable",
				 cnt[k] ? ", " : " ", unst[k]);
		printf("%s\n", line);
		free(vals[k]);
	}
}

static void print_c2c(const struct vs_c2c *c, const struct vs_topo *t)
{
	char dur[VS_FMT_LEN], el[VS_FMT_LEN], list[64];
	unsigned int i, measured = 0, min_n = ~0u;

	for (i = 0; i < c->n_pairs; i++) {
		if (c->pairs[i].n)
			measured++;
		if (c->pairs[i].n < min_n)
			min_n = c->pairs[i].n;
	}
	printf("\ncache-line round trips: %u of %u pair%s%s, %u round trips per "
	       "sample,\n%u pass%s in %s (bound %s)%s\n", measured, c->n_pairs,
	       c->n_pairs == 1 ? "" : "s", c->sampled ? " (a sample)" : "",
	       c->round_trips, c->passes, c->passes == 1 ? "" : "es",
	       vs_format_time(c->elapsed_ns, el, sizeof(el)),
	       vs_format_time(c->duration_ns, dur, sizeof(dur)),
	       measured < c->n_pairs ? ": the rest did not fit in the bound" : "");
	if (c->failed_samples)
		printf("%u samples dropped (the other side did not answer within "
		       "200ms: preempted)\n", c->failed_samples);
	print_matrix(c);
	print_relations(c, t);
	if (c->unstable) {
		printf("unstable pairs (two modes: the host moves these CPUs between "
		       "placements,\nso no single number describes them):\n");
		for (i = 0; i < c->n_pairs; i++) {
			const struct vs_c2c_pair *p = &c->pairs[i];

			if (!p->unstable)
				continue;
			printf("  %d-%d: %s (%.0f%% of samples) or %s (%.0f%%), "
			       "%u switch%s\n", p->a, p->b, VS_TIME(p->low_ns),
			       100 * (1 - p->high_share), VS_TIME(p->high_ns), 100 * p->high_share,
			       p->switches, p->switches == 1 ? "" : "es");
		}
	}
	printf("clusters:\n");
	if (!c->n_clusters)
		printf("  none: %s\n", c->unstable ? "no stable pair to group by" :
		       "nothing measured");
	for (i = 0; i < c->n_clusters; i++) {
		const struct vs_c2c_cluster *cl = &c->clusters[i];

		vs_cpuset_format(&cl->cpus, list, sizeof(list));
		printf("  CPUs %s: %s median, %s max: %s\n", list,
		       VS_TIME(cl->median_ns), VS_TIME(cl->max_ns), cl->name);
	}
}

/* ---- JSON ------------------------------------------------------------ */

static int print_json(const struct vs_topo *t, const struct vs_c2c *c,
		      int argc, char **argv)
{
	json_t *doc = json_object();

	if (!doc)
		return -ENOMEM;
	vs_json_add_meta(doc, argc, argv);
	if (vs_topo_to_json(t, doc) || (c && vs_c2c_to_json(c, t, doc))) {
		json_decref(doc);
		return -ENOMEM;
	}
	return vs_json_print(doc);
}

/* A whole-host matrix is what the placement audit of diagnose reads:
 * best effort (writing /run needs root). */
static void cache_write(const struct vs_topo *t, const struct vs_c2c *c)
{
	json_t *doc = json_object();
	int e = -ENOMEM;

	if (doc && !vs_topo_to_json(t, doc) && !vs_c2c_to_json(c, t, doc))
		e = vs_c2c_cache_write(doc);
	json_decref(doc);
	if (e)
		vs_dbg("not cached in /run/virtsync/c2c.json: %s", strerror(-e));
}

VS_COMMAND(topo, 0, "CPU topology, caches, NUMA and a core-to-core latency matrix")
{
	static const struct argp_child children[] = {
		{ &vs_common_argp, 0, "Common options:", 0 },
		{ 0 },
	};
	static const struct argp argp = {
		.options = options, .parser = parse_arg, .doc = argp_doc,
		.children = children,
	};
	struct vs_topo *t;
	struct vs_c2c c;
	char err[200];
	int e, ret = VS_EXIT_FAIL;

	memset(&env, 0, sizeof(env));
	vs_c2c_opts_default(&env.o);
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	t = calloc(1, sizeof(*t));
	if (!t) {
		vs_err("out of memory");
		return VS_EXIT_FAIL;
	}
	e = vs_topo_read(t);
	if (e) {
		vs_err("cannot read the CPU topology under /sys/devices/system/cpu: %s",
		       strerror(-e));
		goto out;
	}
	if (env.no_measure) {
		if (vs_global.json)
			ret = print_json(t, NULL, argc, argv) ? VS_EXIT_FAIL : VS_EXIT_OK;
		else {
			print_topology(t);
			ret = VS_EXIT_OK;
		}
		goto out;
	}
	if (t->n_cpus < 2) {
		vs_err("one online CPU: no pair to measure (--no-measure lists the topology)");
		goto out;
	}
	vs_stop_on_signals();
	env.o.stop = vs_stop_flag();
	env.o.cpus = env.have_cpus ? &env.cpus : NULL;
	e = vs_c2c_measure(&env.o, t, &c, err, sizeof(err));
	if (e == -EINVAL) {
		vs_err("%s", err);
		ret = VS_EXIT_USAGE;
		goto out;
	}
	if (e) {
		vs_err("%s", err[0] ? err : strerror(-e));
		goto out;
	}
	if (vs_stop_requested())
		vs_err("interrupted: the matrix covers what was measured");
	else if (!env.have_cpus)
		cache_write(t, &c);
	if (vs_global.json) {
		ret = print_json(t, &c, argc, argv) ? VS_EXIT_FAIL : VS_EXIT_OK;
	} else {
		print_topology(t);
		print_c2c(&c, t);
		ret = VS_EXIT_OK;
	}
	vs_c2c_free(&c);
out:
	free(t);
	return ret;
}
