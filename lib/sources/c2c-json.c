// SPDX-License-Identifier: GPL-2.0-only
/*
 * The topology and round-trip document (see c2c.h), and its cache in
 * /run/virtsync/c2c.json that the placement audit reads.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"
#include "core/sysfs.h"
#include "sources/c2c.h"

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *cpulist(const struct vs_cpuset *s)
{
	char buf[4096];

	if (vs_cpuset_format(s, buf, sizeof(buf)))
		return json_null();
	return json_string(buf);
}

static int set_new(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) ? -ENOMEM : 0;
}

int vs_topo_to_json(const struct vs_topo *t, json_t *doc)
{
	json_t *top = json_object(), *cpus = json_array(), *caches = json_array(),
	       *nodes = json_array();
	unsigned int i, j;

	if (!top || !cpus || !caches || !nodes) {
		json_decref(top);
		json_decref(cpus);
		json_decref(caches);
		json_decref(nodes);
		return -ENOMEM;
	}
	for (i = 0; i < t->n_cpus; i++) {
		const struct vs_topo_cpu *c = &t->cpus[i];
		json_t *o = json_object(), *idx = json_array();

		for (j = 0; j < c->n_caches; j++)
			json_array_append_new(idx, json_integer(c->cache[j]));
		json_object_set_new(o, "cpu", json_integer(c->id));
		json_object_set_new(o, "core", json_integer(c->core));
		json_object_set_new(o, "package", json_integer(c->package));
		json_object_set_new(o, "die", json_integer(c->die));
		json_object_set_new(o, "node", json_integer(c->node));
		json_object_set_new(o, "siblings", cpulist(&c->siblings));
		json_object_set_new(o, "caches", idx);
		json_array_append_new(cpus, o);
	}
	for (i = 0; i < t->n_caches; i++) {
		const struct vs_topo_cache *c = &t->caches[i];
		json_t *o = json_object();

		json_object_set_new(o, "level", json_integer(c->level));
		json_object_set_new(o, "type", json_string(c->type));
		json_object_set_new(o, "size_kb", json_integer((json_int_t)c->size_kb));
		json_object_set_new(o, "cpus", cpulist(&c->cpus));
		json_array_append_new(caches, o);
	}
	for (i = 0; i < t->n_nodes; i++) {
		const struct vs_topo_node *n = &t->nodes[i];
		json_t *o = json_object(), *d = json_array();

		for (j = 0; j < t->n_nodes; j++)
			json_array_append_new(d, n->distance[j] >= 0 ?
					      json_integer(n->distance[j]) : json_null());
		json_object_set_new(o, "node", json_integer(n->id));
		json_object_set_new(o, "cpus", cpulist(&n->cpus));
		json_object_set_new(o, "mem_kb", json_integer((json_int_t)n->mem_kb));
		json_object_set_new(o, "distances", d);
		json_array_append_new(nodes, o);
	}
	json_object_set_new(top, "online", cpulist(&t->online));
	json_object_set_new(top, "offline", json_integer(t->n_offline));
	json_object_set_new(top, "cores", json_integer(t->n_cores));
	json_object_set_new(top, "packages", json_integer(t->n_packages));
	json_object_set_new(top, "smt", json_boolean(t->smt));
	json_object_set_new(top, "numa_from", json_string(t->numa_from));
	json_object_set_new(top, "cpus", cpus);
	json_object_set_new(top, "caches", caches);
	json_object_set_new(top, "nodes", nodes);
	return set_new(doc, "topology", top);
}

static json_t *pair_json(const struct vs_c2c_pair *p, const struct vs_topo *t)
{
	json_t *o = json_object(), *series = json_array();
	struct vs_topo_rel r;
	char rel[64];
	unsigned int i;

	for (i = 0; i < p->n; i++)
		json_array_append_new(series, json_real(p->series_ns[i]));
	json_object_set_new(o, "a", json_integer(p->a));
	json_object_set_new(o, "b", json_integer(p->b));
	if (t && !vs_topo_relate(t, p->a, p->b, &r))
		json_object_set_new(o, "relation", json_string(vs_topo_rel_name(&r, rel, sizeof(rel))));
	json_object_set_new(o, "samples", json_integer(p->n));
	json_object_set_new(o, "median_ns", num(p->median_ns));
	json_object_set_new(o, "p10_ns", num(p->p10_ns));
	json_object_set_new(o, "p90_ns", num(p->p90_ns));
	json_object_set_new(o, "min_ns", num(p->min_ns));
	json_object_set_new(o, "max_ns", num(p->max_ns));
	json_object_set_new(o, "unstable", json_boolean(p->unstable));
	json_object_set_new(o, "low_ns", num(p->low_ns));
	json_object_set_new(o, "high_ns", num(p->high_ns));
	json_object_set_new(o, "high_share", num(p->unstable ? p->high_share : NAN));
	json_object_set_new(o, "switches", json_integer(p->switches));
	json_object_set_new(o, "series_ns", series);
	return o;
}

int vs_c2c_to_json(const struct vs_c2c *c, const struct vs_topo *t, json_t *doc)
{
	json_t *o = json_object(), *cpus = json_array(), *matrix = json_array(),
	       *pairs = json_array(), *clusters = json_array();
	unsigned int i, j;

	if (!o || !cpus || !matrix || !pairs || !clusters) {
		json_decref(o);
		json_decref(cpus);
		json_decref(matrix);
		json_decref(pairs);
		json_decref(clusters);
		return -ENOMEM;
	}
	for (i = 0; i < c->n_cpus; i++) {
		json_t *row = json_array();

		json_array_append_new(cpus, json_integer(c->cpus[i]));
		for (j = 0; j < c->n_cpus; j++) {
			const struct vs_c2c_pair *p = i == j ? NULL :
				vs_c2c_find(c, c->cpus[i], c->cpus[j]);

			json_array_append_new(row, p ? num(p->median_ns) : json_null());
		}
		json_array_append_new(matrix, row);
	}
	for (i = 0; i < c->n_pairs; i++)
		json_array_append_new(pairs, pair_json(&c->pairs[i], t));
	for (i = 0; i < c->n_clusters; i++) {
		const struct vs_c2c_cluster *cl = &c->clusters[i];
		json_t *k = json_object();

		json_object_set_new(k, "cpus", cpulist(&cl->cpus));
		json_object_set_new(k, "level", json_integer(cl->level));
		json_object_set_new(k, "median_ns", num(cl->median_ns));
		json_object_set_new(k, "max_ns", num(cl->max_ns));
		json_object_set_new(k, "name", json_string(cl->name));
		json_object_set_new(k, "explained", json_boolean(cl->explained));
		json_array_append_new(clusters, k);
	}
	json_object_set_new(o, "metric", json_string("cache-line round trip"));
	json_object_set_new(o, "unit", json_string("ns"));
	json_object_set_new(o, "round_trips_per_sample", json_integer(c->round_trips));
	json_object_set_new(o, "duration_ns", num(c->duration_ns));
	json_object_set_new(o, "elapsed_ns", num(c->elapsed_ns));
	json_object_set_new(o, "passes", json_integer(c->passes));
	json_object_set_new(o, "failed_samples", json_integer(c->failed_samples));
	json_object_set_new(o, "sampled", json_boolean(c->sampled));
	json_object_set_new(o, "unstable", json_boolean(c->unstable));
	json_object_set_new(o, "cpus", cpus);
	json_object_set_new(o, "matrix", matrix);
	json_object_set_new(o, "pairs", pairs);
	json_object_set_new(o, "clusters", clusters);
	return set_new(doc, "c2c", o);
}

static double get_num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

int vs_c2c_from_json(const json_t *doc, struct vs_c2c *c)
{
	const json_t *o = json_object_get(doc, "c2c"), *pairs, *cpus, *v;
	size_t i, j;

	memset(c, 0, sizeof(*c));
	pairs = json_object_get(o, "pairs");
	cpus = json_object_get(o, "cpus");
	if (!json_is_array(pairs) || !json_is_array(cpus))
		return -EINVAL;
	json_array_foreach(cpus, i, v) {
		if (!json_is_integer(v) || c->n_cpus >= VS_TOPO_MAX_CPUS)
			return -EINVAL;
		c->cpus[c->n_cpus++] = (int)json_integer_value(v);
	}
	c->pairs = calloc(json_array_size(pairs) + 1, sizeof(*c->pairs));
	if (!c->pairs)
		return -ENOMEM;
	json_array_foreach(pairs, i, v) {
		struct vs_c2c_pair *p = &c->pairs[c->n_pairs];
		const json_t *series = json_object_get(v, "series_ns"), *s;

		if (!json_is_integer(json_object_get(v, "a")) ||
		    !json_is_integer(json_object_get(v, "b"))) {
			vs_c2c_free(c);
			return -EINVAL;
		}
		p->a = (int)json_integer_value(json_object_get(v, "a"));
		p->b = (int)json_integer_value(json_object_get(v, "b"));
		json_array_foreach(series, j, s)
			if (json_is_number(s) && p->n < VS_C2C_MAX_SAMPLES)
				p->series_ns[p->n++] = (float)json_number_value(s);
		c->n_pairs++;
	}
	c->round_trips = (unsigned int)get_num(o, "round_trips_per_sample");
	c->duration_ns = get_num(o, "duration_ns");
	c->elapsed_ns = get_num(o, "elapsed_ns");
	c->sampled = json_is_true(json_object_get(o, "sampled"));
	c->passes = (unsigned int)json_integer_value(json_object_get(o, "passes"));
	/* Summaries and modes come back from the series themselves. */
	vs_c2c_analyze(c, NULL);
	return 0;
}

/* ---- the cache ---------------------------------------------------------- */

static int boot_id(char *buf, size_t len)
{
	char path[512];
	int err = vs_path(path, sizeof(path), "/proc/sys/kernel/random/boot_id");

	return err ? err : vs_read_str(path, buf, len);
}

static int cache_path(char *path, size_t len)
{
	return vs_path(path, len, "/run/virtsync/c2c.json");
}

int vs_c2c_cache_write(const json_t *doc)
{
	char path[4096], dir[4096], boot[64] = "";
	json_t *copy;
	char *text;
	int err;

	err = cache_path(path, sizeof(path));
	if (!err)
		err = vs_path(dir, sizeof(dir), "/run/virtsync");
	if (!err)
		err = vs_mkdir_p(dir, 0755);
	if (err)
		return err;
	copy = json_deep_copy(doc);
	if (!copy)
		return -ENOMEM;
	boot_id(boot, sizeof(boot));
	json_object_set_new(copy, "cache_time", json_integer((json_int_t)time(NULL)));
	json_object_set_new(copy, "boot_id", json_string(boot));
	text = json_dumps(copy, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(copy);
	if (!text)
		return -ENOMEM;
	err = vs_file_replace_text(path, text, 0644, VS_REPLACE_SHARED);
	free(text);
	return err;
}

int vs_c2c_cache_read(double max_age_s, struct vs_c2c *c)
{
	char path[4096], boot[64] = "";
	const char *cached;
	json_t *doc;
	double age;
	int err;

	memset(c, 0, sizeof(*c));
	err = cache_path(path, sizeof(path));
	if (err)
		return err;
	doc = vs_json_load(path, &err);
	if (!doc)
		return err == -ENOENT ? -ENOENT : -EINVAL;
	boot_id(boot, sizeof(boot));
	cached = json_string_value(json_object_get(doc, "boot_id"));
	age = difftime(time(NULL), (time_t)json_integer_value(json_object_get(doc, "cache_time")));
	if (!cached || strcmp(cached, boot) || age < 0 || age > max_age_s) {
		json_decref(doc);
		return -ESTALE;
	}
	err = vs_c2c_from_json(doc, c);
	json_decref(doc);
	return err;
}
