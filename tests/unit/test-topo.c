// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/sources/topo and the analysis half of lib/sources/c2c on
 * tests/fixtures/placement-host: two packages of two cores with two SMT
 * threads each (CPUs p*2+c+4*t), L1/L2 per core, L3 per package, NUMA
 * node per package (distance 21), CPU 8 possible but offline.
 */
#include "test.h"
#include "diag-fixture.h"

#include <errno.h>
#include <math.h>

#include "sources/c2c.h"
#include "sources/topo.h"

static struct vs_topo *topo(void)
{
	struct vs_topo *t = calloc(1, sizeof(*t));

	__T("fixture root", diag_fixture_root("placement-host") == 0);
	__T("read", t && vs_topo_read(t) == 0);
	return t;
}

static void test_cpus_and_caches(void **state)
{
	struct vs_topo *t = topo();
	const struct vs_topo_cpu *c;
	unsigned int i, l3 = 0;

	(void)state;
	__T("eight online", t->n_cpus == 8 && t->cpus[7].id == 7);
	__T("one offline", t->n_offline == 1);
	__T("four cores, two packages", t->n_cores == 4 && t->n_packages == 2);
	__T("SMT", t->smt);
	c = vs_topo_cpu(t, 6);
	__T("cpu 6: package 1 core 0", c && c->package == 1 && c->core == 0);
	__T("cpu 6: sibling 2", vs_cpuset_has(&c->siblings, 2) &&
	    vs_cpuset_count(&c->siblings) == 2);
	__T("offline CPU 8 absent", vs_topo_cpu(t, 8) == NULL);
	__T("14 distinct caches (4 L1d, 4 L1i, 4 L2, 2 L3)", t->n_caches == 14);
	for (i = 0; i < t->n_caches; i++)
		if (t->caches[i].level == 3) {
			l3++;
			__T("L3 32M shared by 4", t->caches[i].size_kb == 32768 &&
			    vs_cpuset_count(&t->caches[i].cpus) == 4);
		}
	__T("two L3", l3 == 2);
	__T("four indices per CPU", c->n_caches == 4);
	free(t);
}

static void test_numa(void **state)
{
	struct vs_topo *t = topo();

	(void)state;
	__T("two nodes from the sysfs files", t->n_nodes == 2 &&
	    !strncmp(t->numa_from, "sysfs", 5));
	__T("node 1 CPUs", vs_cpuset_has(&t->nodes[1].cpus, 6) &&
	    vs_cpuset_count(&t->nodes[1].cpus) == 4);
	__T("16 GiB each", t->nodes[0].mem_kb == 16777216);
	__T("SLIT", t->nodes[0].distance[0] == 10 && t->nodes[0].distance[1] == 21);
	__T("cpu 6 on node 1", vs_topo_cpu(t, 6)->node == 1);
	__T("node index", vs_topo_node_index(t, 1) == 1 && vs_topo_node_index(t, 5) == -1);
	free(t);
}

static void test_relations(void **state)
{
	struct vs_topo *t = topo();
	struct vs_topo_rel r;
	char name[64];

	(void)state;
	__T("0,4", vs_topo_relate(t, 0, 4, &r) == 0 && r.smt && r.cache_level == 1);
	__T("SMT name", !strcmp(vs_topo_rel_name(&r, name, sizeof(name)), "SMT siblings"));
	__T("0,1", vs_topo_relate(t, 0, 1, &r) == 0 && !r.smt && r.cache_level == 3 &&
	    r.same_package && r.same_node);
	__T("share L3", !strcmp(vs_topo_rel_name(&r, name, sizeof(name)), "share L3"));
	__T("0,2", vs_topo_relate(t, 0, 2, &r) == 0 && !r.cache_level &&
	    !r.same_package && !r.same_node && r.distance == 21);
	__T("other node", !strcmp(vs_topo_rel_name(&r, name, sizeof(name)),
				  "other node (distance 21)"));
	__T("offline CPU", vs_topo_relate(t, 0, 8, &r) == -ENOENT);
	free(t);
}

static void test_closest_pair(void **state)
{
	struct vs_topo *t = topo();
	struct vs_cpuset among;
	int a, b, node;

	(void)state;
	__T("all: SMT siblings share L1", vs_topo_closest_pair(t, NULL, &a, &b, &node) == 1 &&
	    a == 0 && b == 4 && node == 0);
	vs_cpuset_parse("1-3", &among);
	__T("1-3: 2 and 3 share L3 on node 1",
	    vs_topo_closest_pair(t, &among, &a, &b, &node) == 3 && a == 2 && b == 3 &&
	    node == 1);
	vs_cpuset_parse("0,2", &among);
	__T("0,2: nothing shared, other nodes",
	    vs_topo_closest_pair(t, &among, &a, &b, &node) == 0 && a == 0 && b == 2);
	vs_cpuset_parse("5", &among);
	__T("one CPU", vs_topo_closest_pair(t, &among, &a, &b, &node) == -1);
	free(t);
}

/* Round trips the way the fixture's topology suggests: 20 ns between SMT
 * siblings, 40 ns inside a package, 120 ns across; every 7th sample 25 %
 * slower (noise). */
static double model_ns(const struct vs_topo *t, int a, int b)
{
	struct vs_topo_rel r;

	vs_topo_relate(t, a, b, &r);
	return r.smt ? 20 : r.same_package ? 40 : 120;
}

static void fill(struct vs_c2c *c, const struct vs_topo *t)
{
	unsigned int i, j, k;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < 8; i++)
		c->cpus[c->n_cpus++] = (int)i;
	c->pairs = calloc(28, sizeof(*c->pairs));
	for (i = 0; i < 8; i++)
		for (j = i + 1; j < 8; j++) {
			struct vs_c2c_pair *p = &c->pairs[c->n_pairs++];

			p->a = (int)i;
			p->b = (int)j;
			p->n = 40;
			for (k = 0; k < p->n; k++)
				p->series_ns[k] = (float)(model_ns(t, p->a, p->b) *
							  (k % 7 == 3 ? 1.25 : 1.0));
		}
}

static void test_clusters(void **state)
{
	struct vs_topo *t = topo();
	struct vs_c2c c;
	const struct vs_c2c_pair *p;
	unsigned int i, smt = 0, pkg = 0, all = 0;

	(void)state;
	fill(&c, t);
	vs_c2c_analyze(&c, t);
	p = vs_c2c_find(&c, 4, 0);
	__T("either order", p && p->a == 0 && p->b == 4);
	__T("median of a noisy series", p->median_ns == 20 && !p->unstable);
	__T("no pair unstable", !c.unstable);
	for (i = 0; i < c.n_clusters; i++) {
		const struct vs_c2c_cluster *cl = &c.clusters[i];

		if (cl->level == 0) {
			smt++;
			__T("level 0: SMT siblings", vs_cpuset_count(&cl->cpus) == 2 &&
			    !strncmp(cl->name, "SMT siblings", 12) && cl->explained);
		} else if (cl->level == 1) {
			pkg++;
			__T("level 1: a package sharing L3", vs_cpuset_count(&cl->cpus) == 4 &&
			    !strcmp(cl->name, "share an L3 cache") && cl->median_ns == 40);
		} else {
			all++;
			__T("all CPUs: nothing shared", vs_cpuset_count(&cl->cpus) == 8 &&
			    !cl->explained && cl->max_ns == 120);
		}
	}
	__T("4 + 2 + 1 clusters", smt == 4 && pkg == 2 && all == 1);
	vs_c2c_free(&c);
	free(t);
}

/* A host moving two vCPUs between a close and a far placement: the series
 * alternates runs of 22 ns and of 134 ns. */
static void test_unstable(void **state)
{
	struct vs_topo *t = topo();
	struct vs_c2c c;
	struct vs_c2c_pair *p;
	unsigned int k;

	(void)state;
	fill(&c, t);
	p = &c.pairs[0];	/* 0-1 */
	for (k = 0; k < p->n; k++)
		p->series_ns[k] = (k / 5) % 3 == 1 ? 134.0f + (float)(k % 3) : 22.0f;
	vs_c2c_analyze(&c, t);
	__T("bimodal pair", p->unstable && c.unstable);
	__T("fast mode", fabs(p->low_ns - 22) < 1 && fabs(p->high_ns - 134) < 3);
	__T("share of the slow mode", fabs(p->high_share - 15.0 / 40) < 1e-9);
	__T("switches", p->switches == 5);
	/* An unstable pair joins no cluster: 0 and 1 still meet through 4, 5. */
	__T("clusters without it", c.n_clusters == 7);
	vs_c2c_free(&c);
	free(t);
}

static void test_json_roundtrip(void **state)
{
	struct vs_topo *t = topo();
	struct vs_c2c c, back;
	json_t *doc = json_object();
	const struct vs_c2c_pair *p;

	(void)state;
	fill(&c, t);
	vs_c2c_analyze(&c, t);
	__T("topology", vs_topo_to_json(t, doc) == 0);
	__T("c2c", vs_c2c_to_json(&c, t, doc) == 0);
	__T("matrix 8x8", json_array_size(json_object_get(json_object_get(doc, "c2c"),
							  "matrix")) == 8);
	__T("back", vs_c2c_from_json(doc, &back) == 0 && back.n_pairs == 28);
	p = vs_c2c_find(&back, 2, 6);
	__T("same median", p && p->median_ns == 20);
	vs_c2c_free(&back);
	__T("no c2c member", vs_c2c_from_json(json_object_get(doc, "topology"), &back) == -EINVAL);
	json_decref(doc);
	vs_c2c_free(&c);
	free(t);
}

static void test_bad_cpus(void **state)
{
	struct vs_topo *t = topo();
	struct vs_c2c_opts o;
	struct vs_cpuset cpus;
	struct vs_c2c c;
	char err[200];

	(void)state;
	vs_c2c_opts_default(&o);
	vs_cpuset_parse("0,8", &cpus);
	o.cpus = &cpus;
	__T("offline CPU refused", vs_c2c_measure(&o, t, &c, err, sizeof(err)) == -EINVAL);
	__T("one line naming it", !strcmp(err, "CPU 8 is not online (online: 0-7)"));
	vs_cpuset_parse("3", &cpus);
	__T("one CPU refused", vs_c2c_measure(&o, t, &c, err, sizeof(err)) == -EINVAL &&
	    strstr(err, "needs two CPUs"));
	free(t);
}

/* Beyond max_pairs: every CPU against one CPU of each relation it has. */
static void test_sampled_pairs(void **state)
{
	struct vs_topo *t = topo();
	struct vs_c2c_opts o;
	struct vs_c2c c;
	char err[200];
	unsigned int i, cls[4] = { 0 };

	(void)state;
	vs_c2c_opts_default(&o);
	__T("all 28 pairs", vs_c2c_plan(&o, t, &c, err, sizeof(err)) == 0 && c.n_pairs == 28 &&
	    !c.sampled);
	vs_c2c_free(&c);
	o.max_pairs = 10;
	__T("a sample", vs_c2c_plan(&o, t, &c, err, sizeof(err)) == 0 && c.sampled);
	/* Each CPU: its SMT sibling, an L3 sharer, one on the other node:
	 * 8 x 3 = 24 choices, each pair counted once. */
	__T("fewer than all", c.n_pairs < 28 && c.n_pairs >= 12);
	for (i = 0; i < c.n_pairs; i++) {
		struct vs_topo_rel r;

		vs_topo_relate(t, c.pairs[i].a, c.pairs[i].b, &r);
		cls[r.smt ? 0 : r.same_package ? 1 : 2]++;
	}
	__T("every SMT pair", cls[0] == 4);
	__T("L3 sharers and other-node pairs", cls[1] >= 4 && cls[2] >= 4);
	vs_c2c_free(&c);
	free(t);
}

static void test_cpuset(void **state)
{
	struct vs_cpuset s;
	char buf[64];

	(void)state;
	__T("parse", vs_cpuset_parse("0-2,64,100-101", &s) == 0 && vs_cpuset_count(&s) == 6);
	__T("beyond 64", vs_cpuset_has(&s, 64) && vs_cpuset_has(&s, 101) &&
	    !vs_cpuset_has(&s, 63));
	__T("format", vs_cpuset_format(&s, buf, sizeof(buf)) == 0 &&
	    !strcmp(buf, "0-2,64,100-101"));
	__T("next", vs_cpuset_next(&s, 2) == 64 && vs_cpuset_next(&s, 101) == -1);
	__T("malformed", vs_cpuset_parse("1-", &s) == -EINVAL &&
	    vs_cpuset_parse("3-1", &s) == -EINVAL && vs_cpuset_parse("1,", &s) == -EINVAL);
	__T("too large", vs_cpuset_parse("0-1024", &s) == -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpus_and_caches),
		cmocka_unit_test(test_numa),
		cmocka_unit_test(test_relations),
		cmocka_unit_test(test_closest_pair),
		cmocka_unit_test(test_clusters),
		cmocka_unit_test(test_unstable),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_bad_cpus),
		cmocka_unit_test(test_sampled_pairs),
		cmocka_unit_test(test_cpuset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
