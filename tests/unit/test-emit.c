// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/output/emit.c: one walk, three outputs. The walk below has the shape of
 * `virtsync stat`'s per-VM figures (rates, poll success, wake-up latency, a
 * VM name); each mode's field set is read back from the real output (jansson
 * parses the JSON, the text and exposition lines are split) and the three
 * sets must be equal, so a field cannot reach one output and miss another.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "test.h"
#include "output/emit.h"

struct fix_vm {
	const char *name;
	double exits_per_s, kicks_per_s, poll_ratio, wake_p50_ns, wake_p99_ns;
	unsigned long long halts_total, halt_poll_ns;
};

static const struct fix_vm vms[] = {
	{ "web1", 12345.6, 950, 0.42, 1500, 2.001e3 * 1000, 77, 200000 },
	{ "db2", 3.5e6, 1.2e9, NAN, 300, 12.35e9, 5, 0 },
};

static void walk(struct vs_emitter *e)
{
	size_t i;

	vs_emit_open_array(e, "vms", "VMs");
	for (i = 0; i < 2; i++) {
		const struct fix_vm *v = &vms[i];

		vs_emit_open(e, NULL, NULL);
		vs_emit_str(e, "vm", "VM", v->name);
		vs_emit_rate(e, "exits_per_s", "exits", v->exits_per_s);
		vs_emit_rate(e, "kicks_per_s", "kicks", v->kicks_per_s);
		vs_emit_ratio(e, "halt_poll_success", "poll success", v->poll_ratio);
		vs_emit_counter(e, "halts_total", "halts", v->halts_total);
		vs_emit_u64(e, "halt_poll_ns", "halt_poll_ns", v->halt_poll_ns);
		vs_emit_open(e, "wakeup", "wake-up latency");
		vs_emit_ns(e, "p50", "p50", v->wake_p50_ns);
		vs_emit_ns(e, "p99", "p99", v->wake_p99_ns);
		vs_emit_close(e);
		vs_emit_close(e);
	}
	vs_emit_close(e);
}

static char *run(enum vs_emit_mode mode)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct vs_emitter *e;

	__T("memstream", f != NULL);
	e = vs_emit_new(mode, f, "virtsync_stat");
	__T("new", e != NULL);
	walk(e);
	__T("finish", vs_emit_finish(e) == 0);
	fclose(f);
	return buf;
}

/* Field names as "path.key", sorted and joined; strings left out (in
 * Prometheus they are labels, checked separately). */
static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct set {
	char *v[64];
	size_t n;
};

static void add(struct set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return;
	__T("set room", s->n < 64);
	s->v[s->n++] = strdup(name);
}

static void json_fields(struct set *s, json_t *j, const char *path)
{
	char p[256];
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			json_fields(s, v, path);
		return;
	}
	json_object_foreach(j, k, v) {
		snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", k);
		if (json_is_object(v) || json_is_array(v))
			json_fields(s, v, p);
		else if (!json_is_string(v))
			add(s, p);
	}
}

/* Text: "label: value" lines, indented two spaces per level; a line ending
 * in ':' opens a level. The labels of this walk are mapped back to keys by
 * the walk's own table, so the comparison is over the same names. */
static const char *const label_key[][2] = {
	{ "VMs", "vms" }, { "wake-up latency", "wakeup" }, { "exits", "exits_per_s" },
	{ "kicks", "kicks_per_s" }, { "poll success", "halt_poll_success" },
	{ "halts", "halts_total" }, { "halt_poll_ns", "halt_poll_ns" },
	{ "p50", "p50" }, { "p99", "p99" },
};

static const char *key_of(const char *label)
{
	size_t i;

	for (i = 0; i < sizeof(label_key) / sizeof(label_key[0]); i++)
		if (!strcmp(label_key[i][0], label))
			return label_key[i][1];
	return NULL;
}

static void text_fields(struct set *s, char *text)
{
	char *path[8] = { 0 };
	char *line, *save = NULL, p[256];
	size_t depth, d, n;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		for (n = 0; line[n] == ' '; n++)
			;
		depth = n / 2;
		line += n;
		n = strlen(line);
		if (n && line[n - 1] == ':') {
			line[n - 1] = 0;
			path[depth] = key_of(line) ? (char *)key_of(line) : NULL;
			continue;
		}
		*strchr(line, ':') = 0;
		if (!strcmp(line, "VM"))
			continue;	/* a string */
		__T(line, key_of(line) != NULL);
		p[0] = 0;
		for (d = 0; d < depth; d++)
			if (path[d])
				snprintf(p + strlen(p), sizeof(p) - strlen(p),
					 "%s%s", *p ? "." : "", path[d]);
		snprintf(p + strlen(p), sizeof(p) - strlen(p), "%s%s",
			 *p ? "." : "", key_of(line));
		add(s, p);
	}
}

static void set_eq(const char *what, struct set *a, struct set *b)
{
	size_t i;

	qsort(a->v, a->n, sizeof(a->v[0]), cmp);
	qsort(b->v, b->n, sizeof(b->v[0]), cmp);
	for (i = 0; i < a->n && i < b->n; i++)
		__T(a->v[i], !strcmp(a->v[i], b->v[i]));
	__T(what, a->n == b->n);
}

static void test_same_fields(void **state)
{
	struct set js = { 0 }, ts = { 0 }, ps = { 0 };
	char *jtext = run(VS_EMIT_JSON), *ttext = run(VS_EMIT_TEXT);
	char *ptext = run(VS_EMIT_PROM), *line, *save = NULL, name[256], *c;
	json_error_t jerr;
	json_t *doc = json_loads(jtext, 0, &jerr);
	size_t i;

	__T("json parses", doc != NULL);
	json_fields(&js, doc, "");
	text_fields(&ts, ttext);
	/* Prometheus: sample lines, name mapped back to the JSON path
	 * (prefix dropped, the base-unit suffix back to the JSON key's:
	 * _seconds dropped, _per_second as _per_s, _ratio dropped; '_'
	 * between levels as '.'). */
	for (line = strtok_r(ptext, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		__T("vm label on every sample", strstr(line, "vm=\"") != NULL);
		__T("prefix", !strncmp(line, "virtsync_stat_vms_", 18));
		snprintf(name, sizeof(name), "%s", line + 18);
		name[strcspn(name, "{ ")] = 0;
		if ((c = strstr(name, "_seconds")) && !c[8])
			*c = 0;
		if ((c = strstr(name, "_per_second")) && !c[11])
			strcpy(c, "_per_s");
		if ((c = strstr(name, "_ratio")) && !c[6])
			*c = 0;
		if (!strncmp(name, "wakeup_", 7))
			name[6] = '.';
		{
			char p[300];

			snprintf(p, sizeof(p), "vms.%s", name);
			add(&ps, p);
		}
	}
	__T("fields found", js.n == 7);
	set_eq("text == json", &ts, &js);
	set_eq("prom == json", &ps, &js);
	for (i = 0; i < js.n; i++)
		free(js.v[i]), free(ts.v[i]), free(ps.v[i]);
	json_decref(doc);
	free(jtext);
	free(ttext);
	free(ptext);
}

static void test_units(void **state)
{
	char *t = run(VS_EMIT_TEXT), *p = run(VS_EMIT_PROM), *j = run(VS_EMIT_JSON);

	/* text: the one formatter (four significant digits, unit by size) */
	__T("rate k", strstr(t, "exits: 12.35k/s\n") != NULL);
	__T("rate G", strstr(t, "kicks: 1.2G/s\n") != NULL);
	__T("ratio", strstr(t, "poll success: 42.0%\n") != NULL);
	__T("ratio NaN", strstr(t, "poll success: -\n") != NULL);
	__T("ns", strstr(t, "p50: 1.5us\n") != NULL);
	__T("ms", strstr(t, "p99: 2.001ms\n") != NULL);
	__T("s", strstr(t, "p99: 12.35s\n") != NULL);
	/* Prometheus: seconds, one family per name with both VMs' samples */
	{
		const char *h = strstr(p, "# HELP virtsync_stat_vms_wakeup_p50_seconds");

		__T("HELP once", h && !strstr(h + 1, "# HELP virtsync_stat_vms_wakeup_p50_seconds"));
	}
	__T("seconds", strstr(p, "virtsync_stat_vms_wakeup_p50_seconds{vm=\"web1\"} 1.5e-06") ||
		       strstr(p, "virtsync_stat_vms_wakeup_p50_seconds{vm=\"web1\"} 1.5000000000000002e-06"));
	__T("counter", strstr(p, "# TYPE virtsync_stat_vms_halts_total counter") != NULL);
	{
		const char *a = strstr(p, "# TYPE virtsync_stat_vms_exits_per_second gauge");
		const char *b = a ? strstr(a + 1, "# TYPE") : NULL;
		const char *w = a ? strstr(a, "{vm=\"web1\"}") : NULL;
		const char *d = a ? strstr(a, "{vm=\"db2\"}") : NULL;

		__T("family contiguous", a && w && d && (!b || (w < b && d < b)));
	}
	/* JSON: times in ns, NaN as null, integers as integers */
	__T("json ns", strstr(j, "\"p50\": 1500") != NULL);
	__T("json null", strstr(j, "\"halt_poll_success\": null") != NULL);
	__T("json int", strstr(j, "\"halt_poll_ns\": 200000") != NULL);
	free(t);
	free(p);
	free(j);
}

static void test_errors(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct vs_emitter *e = vs_emit_new(VS_EMIT_PROM, f, "virtsync_stat");

	/* an unclosed object is the walk's bug, refused at finish */
	vs_emit_open(e, "vm", "VM");
	__T("unclosed", vs_emit_finish(e) == -EINVAL);
	/* a key that makes no metric name is refused by the exposition writer */
	e = vs_emit_new(VS_EMIT_PROM, f, "virtsync_stat");
	vs_emit_counter(e, "halts-polled", "halts", 3);
	__T("metric name", vs_emit_finish(e) == -EINVAL);
	/* a map needs the name of its label */
	e = vs_emit_new(VS_EMIT_PROM, f, "virtsync_stat");
	vs_emit_open_map(e, "counts", "counts", NULL);
	__T("map without label", vs_emit_finish(e) == -EINVAL);
	/* a histogram of no slots is the walk's bug */
	e = vs_emit_new(VS_EMIT_JSON, f, NULL);
	vs_emit_hist(e, "h", "h", NULL, 0, 0);
	__T("empty hist", vs_emit_finish(e) == -EINVAL);
	e = vs_emit_new(VS_EMIT_TEXT, f, NULL);
	vs_emit_close(e);
	__T("close without open", vs_emit_error(e) == -EINVAL);
	vs_emit_finish(e);
	fclose(f);
	free(buf);
}

/* The calls stat's walk needs, each in the three outputs. */
static const uint64_t slots[5] = { 0, 3, 0, 5, 2 };	/* [1,2) [4,8) >= 8 ns */

static void walk2(struct vs_emitter *e)
{
	vs_emit_str(e, "backend", "backend", "bpf");
	vs_emit_open_series(e, "vms", "VMs");
	vs_emit_open(e, NULL, NULL);
	vs_emit_id(e, "pid", "pid", 4242);
	vs_emit_str(e, "comm", "name", "qemu");
	vs_emit_bool(e, "alive", "alive", 1);
	vs_emit_pct(e, "halt_poll_success_pct", "poll success", 25);
	vs_emit_ns_int(e, "halt_poll_ns", "halt_poll_ns", 200000);
	vs_emit_open_map(e, "counts", "Probe counts, by counter.", "counter");
	vs_emit_counter(e, "kicks_pio", "kicks_pio", 7);
	vs_emit_counter(e, "exits", "exits", 9);
	vs_emit_close(e);
	vs_emit_open_array(e, "threads", "threads");
	vs_emit_open(e, NULL, NULL);
	vs_emit_id(e, "tid", "tid", 4243);
	vs_emit_str(e, "comm", "comm", "vcpu0");
	vs_emit_counter(e, "wakeups_total", "wake-ups", 1);
	vs_emit_close(e);
	vs_emit_close(e);
	/* after the thread: the VM's comm label is back */
	vs_emit_open(e, "wakeup_latency_ns", "wake-up latency");
	vs_emit_hist(e, "hist", "wake-up latency", slots, 5, 44);
	vs_emit_close(e);
	vs_emit_close(e);
	vs_emit_close(e);
	vs_emit_seconds(e, "interval_s", "interval", 1.5);
}

static char *run2(enum vs_emit_mode mode)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct vs_emitter *e;

	__T("memstream", f != NULL);
	e = vs_emit_new(mode, f, "virtsync");
	walk2(e);
	__T("finish", vs_emit_finish(e) == 0);
	fclose(f);
	return buf;
}

static void test_stat_calls(void **state)
{
	char *p = run2(VS_EMIT_PROM), *t = run2(VS_EMIT_TEXT);
	json_t *doc = json_object(), *vm, *b;
	struct vs_emitter *e = vs_emit_new_json(doc);
	const char *l = "{backend=\"bpf\",pid=\"4242\",comm=\"qemu\"";
	char want[256];

	/* JSON into the caller's document, which it keeps */
	walk2(e);
	__T("json finish", vs_emit_finish(e) == 0);
	vm = json_array_get(json_object_get(doc, "vms"), 0);
	__T("id an integer", json_integer_value(json_object_get(vm, "pid")) == 4242);
	__T("bool", json_is_true(json_object_get(vm, "alive")));
	__T("pct as given", json_real_value(json_object_get(vm, "halt_poll_success_pct")) == 25);
	__T("ns_int an integer", json_is_integer(json_object_get(vm, "halt_poll_ns")));
	__T("map", json_integer_value(json_object_get(json_object_get(vm, "counts"),
						       "kicks_pio")) == 7);
	__T("seconds", json_real_value(json_object_get(doc, "interval_s")) == 1.5);
	b = json_object_get(json_object_get(json_object_get(vm, "wakeup_latency_ns"),
					    "hist"), "buckets");
	__T("hist unit", !strcmp(json_string_value(json_object_get(json_object_get(
		json_object_get(vm, "wakeup_latency_ns"), "hist"), "unit")), "nsecs"));
	__T("non-empty slots only", json_array_size(b) == 3);
	__T("slot bounds", json_integer_value(json_object_get(json_array_get(b, 1), "low")) == 4 &&
			   json_integer_value(json_object_get(json_array_get(b, 1), "high")) == 8 &&
			   json_integer_value(json_object_get(json_array_get(b, 1), "count")) == 5);
	json_decref(doc);

	/* Prometheus: the series array's key is not in the names, strings and
	 * ids are labels, the JSON unit tags become base units */
	snprintf(want, sizeof(want), "virtsync_alive%s} 1\n", l);
	__T("series unnamed, id label", strstr(p, want) != NULL);
	snprintf(want, sizeof(want), "virtsync_halt_poll_success_ratio%s} 0.25\n", l);
	__T("pct as ratio", strstr(p, want) != NULL);
	snprintf(want, sizeof(want), "virtsync_halt_poll_seconds%s} 0.0002\n", l);
	__T("ns_int in seconds", strstr(p, want) != NULL);
	snprintf(want, sizeof(want), "virtsync_counts_total%s,counter=\"kicks_pio\"} 7\n", l);
	__T("map member a label", strstr(p, want) != NULL);
	__T("map HELP", strstr(p, "# HELP virtsync_counts_total Probe counts, by counter.\n") != NULL);
	__T("map one family", strstr(p, "# TYPE virtsync_counts_total counter\n") &&
			      !strstr(p, "virtsync_counts_exits"));
	__T("inner label wins", strstr(p, "virtsync_threads_wakeups_total{backend=\"bpf\","
					  "pid=\"4242\",comm=\"vcpu0\",tid=\"4243\"} 1\n") != NULL);
	__T("histogram type", strstr(p, "# TYPE virtsync_wakeup_latency_hist_seconds histogram\n") != NULL);
	/* buckets cumulative, the last slot only in +Inf */
	snprintf(want, sizeof(want), "virtsync_wakeup_latency_hist_seconds_bucket%s,le=\"1e-09\"} 0\n", l);
	__T("bucket 1ns", strstr(p, want) != NULL);
	snprintf(want, sizeof(want), "virtsync_wakeup_latency_hist_seconds_bucket%s,le=\"2e-09\"} 3\n", l);
	__T("bucket 2ns", strstr(p, want) != NULL);
	snprintf(want, sizeof(want), "virtsync_wakeup_latency_hist_seconds_bucket%s,le=\"8e-09\"} 8\n", l);
	__T("bucket 8ns cumulative", strstr(p, want) != NULL);
	snprintf(want, sizeof(want), "virtsync_wakeup_latency_hist_seconds_bucket%s,le=\"+Inf\"} 10\n", l);
	__T("bucket +Inf", strstr(p, want) != NULL);
	__T("no bucket above the open slot", !strstr(p, "le=\"1.6e-08\""));
	snprintf(want, sizeof(want), "virtsync_wakeup_latency_hist_seconds_sum%s} 4.4e-08\n", l);
	__T("sum in seconds", strstr(p, want) != NULL);
	snprintf(want, sizeof(want), "virtsync_wakeup_latency_hist_seconds_count%s} 10\n", l);
	__T("count", strstr(p, want) != NULL);
	__T("seconds", strstr(p, "virtsync_interval_seconds{backend=\"bpf\"} 1.5\n") != NULL);
	/* text: times through the one formatter, which parses them back */
	__T("text hist", strstr(t, "4ns-8ns: 5\n") && strstr(t, "8ns-inf: 2\n"));
	__T("text ns_int", strstr(t, "halt_poll_ns: 200us\n") != NULL);
	__T("text pct", strstr(t, "poll success: 25.0%\n") != NULL);
	__T("text seconds", strstr(t, "interval: 1.5s\n") != NULL);
	free(p);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_fields),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_stat_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
