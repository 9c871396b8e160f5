// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/output/emit-probe.c: `virtsync stat`'s one walk of a probe snapshot.
 * A snapshot and the one before it are filled by hand (two VMs, one of them
 * exited, threads, exits, exit costs, a waker pair) and walked for JSON over
 * the window and for Prometheus since the start, as stat does: JSON keeps
 * the members its readers use (tests/integration/stat-*.sh, report), each
 * VM member reaches Prometheus, and the counters agree with the snapshot.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "test.h"
#include "output/emit.h"
#include "output/emit-probe.h"
#include "sources/probe.h"

static struct vs_probe_vm vms[2][2];
static struct vs_probe_thread threads[2][2];
static struct vs_probe_exit exits[1];
static struct vs_probe_exitlat lats[2][1];
static struct vs_probe_pair pairs[2][1];
static struct vs_probe_snapshot snap[2];	/* [0] before, [1] now */

static void fill(void)
{
	unsigned int k;

	for (k = 0; k < 2; k++) {
		struct vs_probe_snapshot *s = &snap[k];
		uint64_t m = k + 1;	/* now holds twice the counts */

		memset(s, 0, sizeof(*s));
		s->backend = VS_PROBE_BPF;
		s->elapsed_ns = m * 1000000000ULL;
		s->time_ns = s->elapsed_ns;
		s->n_sources = 2;
		snprintf(s->sources[0].name, sizeof(s->sources[0].name), "kvm:kvm_pio");
		snprintf(s->sources[0].how, sizeof(s->sources[0].how), "tp_btf");
		s->sources[0].used = true;
		snprintf(s->sources[1].name, sizeof(s->sources[1].name), "kvm:kvm_exit");
		snprintf(s->sources[1].how, sizeof(s->sources[1].how), "tracepoint");
		s->sources[1].err = -ENOENT;
		snprintf(s->sources[1].why, sizeof(s->sources[1].why), "not on this kernel");
		vms[k][0] = (struct vs_probe_vm){ .pid = 100, .comm = "qemu", .alive = true };
		vms[k][1] = (struct vs_probe_vm){ .pid = 200, .comm = "gone", .alive = !k };
		vms[k][0].c.ctr[VS_KICK_PIO] = 1000 * m;
		vms[k][0].c.ctr[VS_IRQ_MSI] = 300 * m;
		vms[k][0].c.ctr[VS_HALT_POLLED] = 30 * m;
		vms[k][0].c.ctr[VS_HALT_WAITED] = 10 * m;
		vms[k][0].c.ctr[VS_WAKEUP] = 40 * m;
		vms[k][0].c.ctr[VS_SLEEP] = 4 * m;
		vms[k][0].c.ctr[VS_EXIT] = 1500 * m;
		vms[k][0].c.sum[VS_SUM_WAKEUP_NS] = 40000 * m;
		vms[k][0].c.sum[VS_SUM_SLEEP_ASKED_NS] = 4000 * m;
		vms[k][0].c.sum[VS_SUM_SLEEP_SLEPT_NS] = 5000 * m;
		vms[k][0].c.hist[VS_HIST_WAKEUP].slot[10] = 40 * m;
		vms[k][0].c.hist[VS_HIST_HALT_POLLED].slot[12] = 30 * m;
		vms[k][0].c.hist[VS_HIST_HALT_WAITED].slot[20] = 10 * m;
		vms[k][0].c.hist[VS_HIST_SLEEP_OVER].slot[8] = 4 * m;
		vms[k][0].c.uexit[2] = 1000 * m;	/* KVM_EXIT_IO */
		vms[k][0].c.halt_poll_ns = 200000;
		vms[k][1].c.ctr[VS_KICK_PIO] = 5;
		threads[k][0] = (struct vs_probe_thread){ .tgid = 100, .tid = 101, .comm = "vcpu0" };
		threads[k][0].c = vms[k][0].c;
		threads[k][1] = (struct vs_probe_thread){ .tgid = 100, .tid = 102, .comm = "io" };
		exits[0] = (struct vs_probe_exit){ 100, 101, 1, 30, 1500 * 2 };
		lats[k][0] = (struct vs_probe_exitlat){ .tgid = 100, .isa = 1, .reason = 30,
			.count = 1500 * m, .sum_ns = 3000000 * m, .max_ns = 9000 };
		lats[k][0].hist.slot[11] = 1500 * m;
		pairs[k][0] = (struct vs_probe_pair){ .waker_tgid = 100, .waker_tid = 102,
			.wakee_tgid = 100, .wakee_tid = 101, .waker_comm = "io",
			.wakee_comm = "vcpu0", .count = 40 * m, .sum_ns = 40000 * m };
		pairs[k][0].lat.slot[10] = 40 * m;
		s->vms = vms[k];
		s->n_vms = 2;
		s->threads = threads[k];
		s->n_threads = 2;
		s->exits = exits;
		s->n_exits = k;		/* exits are cumulative: only in now */
		s->exitlats = lats[k];
		s->n_exitlats = 1;
		s->pairs = pairs[k];
		s->n_pairs = 1;
	}
}

static const struct vs_emit_probe_opts opts = { .threads = 1, .wakers = 1 };

static json_t *walk_json(void)
{
	json_t *doc = json_object();
	struct vs_emitter *e = vs_emit_new_json(doc);

	__T("emitter", e != NULL);
	__T("walk", vs_emit_probe(e, &snap[1], &snap[0], 1.0, &opts) == 0);
	__T("finish", vs_emit_finish(e) == 0);
	return doc;
}

static char *walk_prom(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct vs_emitter *e = vs_emit_new(VS_EMIT_PROM, f, "virtsync");

	__T("walk", vs_emit_probe(e, &snap[1], NULL, 2.0, &opts) == 0);
	__T("finish (the exposition writer's rules held)", vs_emit_finish(e) == 0);
	fclose(f);
	return buf;
}

static void test_json_shape(void **state)
{
	static const char *const vm_keys[] = {
		"pid", "comm", "alive", "rates", "counts", "halt_poll_success_pct",
		"halt_poll_ns", "wakeup_latency_ns", "userspace_exits", "halt_ns",
		"sleeps", "exit_reasons_total", "exit_cost", "threads",
	};
	json_t *doc, *vm, *c, *x;
	size_t i;

	fill();
	doc = walk_json();
	__T("two VMs, the exited one too", json_array_size(json_object_get(doc, "vms")) == 2);
	vm = json_array_get(json_object_get(doc, "vms"), 0);
	for (i = 0; i < sizeof(vm_keys) / sizeof(vm_keys[0]); i++)
		__T(vm_keys[i], json_object_get(vm, vm_keys[i]) != NULL);
	c = json_object_get(vm, "counts");
	/* the window: now - before */
	__T("counts over the window", json_integer_value(json_object_get(c, "kicks_pio")) == 1000);
	__T("rates over the window",
	    json_real_value(json_object_get(json_object_get(vm, "rates"), "kicks")) == 1000);
	__T("poll success pct", json_real_value(json_object_get(vm, "halt_poll_success_pct")) == 75);
	__T("uexit by name",
	    json_integer_value(json_object_get(json_object_get(vm, "userspace_exits"), "IO")) == 1000);
	x = json_object_get(vm, "exit_reasons_total");
	__T("exit reasons cumulative", json_object_size(x) == 1 &&
	    json_integer_value(json_object_iter_value(json_object_iter(x))) == 3000);
	x = json_array_get(json_object_get(vm, "exit_cost"), 0);
	__T("exit cost", x && json_integer_value(json_object_get(x, "count")) == 1500 &&
	    json_real_value(json_object_get(x, "mean_ns")) == 2000);
	__T("wake-up hist shape", json_integer_value(json_object_get(json_array_get(
		json_object_get(json_object_get(json_object_get(vm, "wakeup_latency_ns"),
						"hist"), "buckets"), 0), "low")) == 512);
	__T("sources", json_is_false(json_object_get(json_array_get(
		json_object_get(doc, "sources"), 1), "used")) &&
	    json_integer_value(json_object_get(json_array_get(
		json_object_get(doc, "sources"), 1), "errno")) == ENOENT);
	x = json_array_get(json_object_get(doc, "wakers"), 0);
	__T("waker pair", x && json_integer_value(json_object_get(x, "count")) == 40 &&
	    json_integer_value(json_object_get(x, "wakee_tid")) == 101);
	__T("threads", json_array_size(json_object_get(vm, "threads")) == 2);
	json_decref(doc);
}

/* Each VM member of the JSON names a Prometheus family: JSON and
 * Prometheus come from one walk, so none is in one and not the other. */
static void test_prom_has_every_field(void **state)
{
	json_t *doc, *vm, *c, *v;
	const char *k;
	char *p, want[160];

	fill();
	doc = walk_json();
	p = walk_prom();
	vm = json_array_get(json_object_get(doc, "vms"), 0);
	json_object_foreach(vm, k, v) {
		size_t n = strlen(k);

		if (json_is_string(v) || !strcmp(k, "pid"))
			continue;	/* labels */
		if (n > 3 && !strcmp(k + n - 3, "_ns"))
			n -= 3;
		else if (n > 4 && !strcmp(k + n - 4, "_pct"))
			n -= 4;
		snprintf(want, sizeof(want), "\n# TYPE virtsync_%.*s", (int)n, k);
		__T(k, strstr(p, want) != NULL);
	}
	/* every counter of the JSON is a sample, since the start */
	c = json_object_get(vm, "counts");
	json_object_foreach(c, k, v) {
		snprintf(want, sizeof(want), "virtsync_counts_total{pid=\"100\",comm=\"qemu\","
			 "counter=\"%s\"} ", k);
		__T(k, strstr(p, want) != NULL);
	}
	__T("kicks total", strstr(p, "counter=\"kicks_pio\"} 2000\n") != NULL);
	__T("sleeps total", strstr(p, "counter=\"sleeps\"} 8\n") != NULL);
	__T("exited VM has no series", !strstr(p, "pid=\"200\""));
	__T("histogram since the start", strstr(p,
		"virtsync_wakeup_latency_hist_seconds_count{pid=\"100\",comm=\"qemu\"} 80\n") != NULL);
	__T("exit reasons", strstr(p, "virtsync_exit_reasons_total{pid=\"100\",comm=\"qemu\",reason=\"") != NULL);
	__T("exit cost since the start", strstr(p, "virtsync_exit_cost_count_total{pid=\"100\","
					    "comm=\"qemu\",reason=\"") && strstr(p, "} 3000\n"));
	__T("source up", strstr(p, "virtsync_sources_used{name=\"kvm:kvm_pio\",how=\"tp_btf\"} 1\n") != NULL);
	__T("poll ratio", strstr(p, "virtsync_halt_poll_success_ratio{pid=\"100\",comm=\"qemu\"} 0.75\n") != NULL);
	__T("thread series", strstr(p, "virtsync_threads_counts_total{pid=\"100\",comm=\"vcpu0\","
					"tid=\"101\",counter=\"kicks_pio\"} 2000\n") != NULL);
	__T("waker series", strstr(p, "virtsync_wakers_count_total{waker_pid=\"100\",waker_tid=\"102\","
				      "waker_comm=\"io\",wakee_pid=\"100\",wakee_tid=\"101\","
				      "wakee_comm=\"vcpu0\"} 80\n") != NULL);
	json_decref(doc);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_prom_has_every_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
