// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus exposition writer: exact text, and what it refuses. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "output/emit.h"
#include "output/emit-probe.h"
#include "output/prom.h"
#include "output/httpd.h"
#include "sources/probe.h"
#include "tune/watch.h"

static void test_text(void **state)
{
	struct vs_prom *p = vs_prom_new();
	const struct vs_prom_label l[] = {
		{ "vm", "a\"b\\c\nd" }, { "queue", "0" },
	};
	const char *want =
		"# HELP virtsync_kicks_total Kicks; a \\\\ and a\\nnewline \"kept\".\n"
		"# TYPE virtsync_kicks_total counter\n"
		"virtsync_kicks_total{vm=\"a\\\"b\\\\c\\nd\",queue=\"0\"} 4242\n"
		"virtsync_kicks_total 0.1\n"
		"# HELP virtsync_x_seconds X.\n"
		"# TYPE virtsync_x_seconds gauge\n"
		"virtsync_x_seconds NaN\n"
		"virtsync_x_seconds +Inf\n"
		"virtsync_x_seconds -Inf\n"
		"virtsync_x_seconds 1e-09\n"
		"virtsync_x_seconds 0.30000000000000004\n"
		"virtsync_x_seconds 1.8446744073709552e+19\n";
	size_t len;

	__T("new", p);
	__T("family", !vs_prom_family(p, "virtsync_kicks_total", VS_PROM_COUNTER,
				      "Kicks; a \\ and a\nnewline \"kept\"."));
	__T("sample", !vs_prom_sample(p, l, 2, 4242));
	__T("no labels", !vs_prom_sample(p, NULL, 0, 0.1));
	__T("gauge", !vs_prom_family(p, "virtsync_x_seconds", VS_PROM_GAUGE, "X."));
	vs_prom_sample(p, NULL, 0, NAN);
	vs_prom_sample(p, NULL, 0, INFINITY);
	vs_prom_sample(p, NULL, 0, -INFINITY);
	vs_prom_sample(p, NULL, 0, 1e-9);
	vs_prom_sample(p, NULL, 0, 0.1 + 0.2);
	vs_prom_sample(p, NULL, 0, 18446744073709551616.0);
	__T("no error", !vs_prom_error(p));
	if (strcmp(vs_prom_text(p, &len), want))
		fail_msg("got:\n%s\nwant:\n%s", vs_prom_text(p, NULL), want);
	__T("length", len == strlen(want));
	vs_prom_reset(p);
	__T("reset empties", !strcmp(vs_prom_text(p, &len), "") && !len);
	__T("reset forgets families",
	    !vs_prom_family(p, "virtsync_kicks_total", VS_PROM_COUNTER, "K."));
	vs_prom_reset(p);
	{
		const struct vs_prom_label q = { "quantile", "0.5" };

		__T("summary", !vs_prom_family(p, "virtsync_lat_seconds", VS_PROM_SUMMARY, "L."));
		__T("quantile", !vs_prom_sample(p, &q, 1, 2e-6));
		__T("sum", !vs_prom_sample_suffix(p, "_sum", NULL, 0, 1.5));
		__T("count", !vs_prom_sample_suffix(p, "_count", NULL, 0, 3));
		__T("summary text", !strcmp(vs_prom_text(p, NULL),
			"# HELP virtsync_lat_seconds L.\n# TYPE virtsync_lat_seconds summary\n"
			"virtsync_lat_seconds{quantile=\"0.5\"} 2e-06\n"
			"virtsync_lat_seconds_sum 1.5\nvirtsync_lat_seconds_count 3\n"));
		__T("other suffix", vs_prom_sample_suffix(p, "_bucket", NULL, 0, 1) == -EINVAL);
		vs_prom_reset(p);
		vs_prom_family(p, "virtsync_g", VS_PROM_GAUGE, "G.");
		__T("suffix on a gauge", vs_prom_sample_suffix(p, "_sum", NULL, 0, 1) == -EINVAL);
	}
	vs_prom_free(p);
	vs_prom_free(NULL);
}

static void test_refuses(void **state)
{
	static const char *const bad_metric[] = {
		"", "1abc", "a-b", "a b", "a.b", "é",
	};
	static const char *const bad_label[] = {
		"", "1a", "a:b", "__name", "a-b",
	};
	struct vs_prom *p;
	size_t i;

	for (i = 0; i < sizeof(bad_metric) / sizeof(bad_metric[0]); i++)
		__T(bad_metric[i], !vs_prom_metric_name_ok(bad_metric[i]));
	__T("colon ok", vs_prom_metric_name_ok("virtsync:rule_total"));
	for (i = 0; i < sizeof(bad_label) / sizeof(bad_label[0]); i++)
		__T(bad_label[i], !vs_prom_label_name_ok(bad_label[i]));
	__T("label ok", vs_prom_label_name_ok("_queue2"));

	p = vs_prom_new();
	__T("counter needs _total",
	    vs_prom_family(p, "virtsync_kicks", VS_PROM_COUNTER, "K.") == -EINVAL);
	__T("error sticks", vs_prom_family(p, "virtsync_ok", VS_PROM_GAUGE, "G.") == -EINVAL);
	vs_prom_reset(p);
	__T("sample before a family", vs_prom_sample(p, NULL, 0, 1) == -EINVAL);
	vs_prom_reset(p);
	__T("empty help", vs_prom_family(p, "virtsync_g", VS_PROM_GAUGE, "") == -EINVAL);
	vs_prom_reset(p);
	vs_prom_family(p, "virtsync_g", VS_PROM_GAUGE, "G.");
	vs_prom_family(p, "virtsync_h", VS_PROM_GAUGE, "H.");
	__T("families contiguous",
	    vs_prom_family(p, "virtsync_g", VS_PROM_GAUGE, "G.") == -EEXIST);
	vs_prom_reset(p);
	vs_prom_family(p, "virtsync_g", VS_PROM_GAUGE, "G.");
	{
		const struct vs_prom_label dup[] = { { "vm", "a" }, { "vm", "b" } };
		const struct vs_prom_label bad[] = { { "__x", "a" } };
		const struct vs_prom_label null[] = { { "vm", NULL } };

		__T("duplicate label", vs_prom_sample(p, dup, 2, 1) == -EINVAL);
		vs_prom_reset(p);
		vs_prom_family(p, "virtsync_g", VS_PROM_GAUGE, "G.");
		__T("reserved label", vs_prom_sample(p, bad, 1, 1) == -EINVAL);
		vs_prom_reset(p);
		vs_prom_family(p, "virtsync_g", VS_PROM_GAUGE, "G.");
		__T("NULL value", vs_prom_sample(p, null, 1, 1) == -EINVAL);
	}
	vs_prom_free(p);
}

static const char *name_of(int pid, const char *comm, void *ctx)
{
	(void)comm;
	return pid == 7 ? ctx : NULL;
}

/* The probe families through the emitter into a document of the caller's
 * as watch serves them, since the probes opened: the counters as given,
 * the labels as asked for, the ratio over the whole run (Prometheus takes
 * its windows with rate()). */
static void test_probe_families(void **state)
{
	struct vs_probe_vm vm[3];
	struct vs_probe_thread th[3];
	struct vs_probe_snapshot s;
	struct vs_emit_probe_opts o = { .name_label = "vm", .vm_name = name_of,
					.ctx = "guest-1" };
	struct vs_prom *p = vs_prom_new();
	struct vs_emitter *e;
	const char *t;

	memset(&s, 0, sizeof(s));
	memset(vm, 0, sizeof(vm));
	memset(th, 0, sizeof(th));
	vm[0].pid = 7;
	vm[0].alive = vm[1].alive = true;
	strcpy(vm[0].comm, "qemu");
	vm[0].c.ctr[VS_KICK_PIO] = 1000;
	vm[0].c.ctr[VS_HALT_POLLED] = 30;
	vm[0].c.ctr[VS_HALT_WAITED] = 10;
	vm[1].pid = 8;
	strcpy(vm[1].comm, "vs-\"x");
	vm[2].pid = 9;			/* exited: no series at all */
	strcpy(vm[2].comm, "gone");
	vm[2].c.ctr[VS_KICK_PIO] = 5;
	th[0].tgid = th[1].tgid = 7;
	th[2].tgid = 9;
	s.threads = th;
	s.n_threads = 3;
	s.vms = vm;
	s.n_vms = 3;
	s.n_sources = 1;
	strcpy(s.sources[0].name, "kvm:kvm_pio");
	strcpy(s.sources[0].how, "tp_btf");
	s.sources[0].used = true;
	/* what the document held stays, the walk's families follow */
	__T("before", !vs_prom_family(p, "virtsync_build_info", VS_PROM_GAUGE, "B."));
	__T("before sample", !vs_prom_sample(p, NULL, 0, 1));
	e = vs_emit_new_prom(p, "virtsync");
	__T("emitter", e != NULL);
	__T("walk", !vs_emit_probe(e, &s, NULL, 1.0, &o));
	__T("render", !vs_emit_finish(e));
	t = vs_prom_text(p, NULL);
	__T("kept", !strncmp(t, "# HELP virtsync_build_info B.\n", 30));
	__T("kicks with the vm name",
	    strstr(t, "virtsync_counts_total{pid=\"7\",vm=\"guest-1\",counter=\"kicks_pio\"} 1000\n"));
	__T("comm when no name, escaped",
	    strstr(t, "virtsync_counts_total{pid=\"8\",vm=\"vs-\\\"x\",counter=\"kicks_pio\"} 0\n"));
	__T("ratio since the start",
	    strstr(t, "virtsync_halt_poll_success_ratio{pid=\"7\",vm=\"guest-1\"} 0.75\n"));
	__T("no halts: NaN",
	    strstr(t, "virtsync_halt_poll_success_ratio{pid=\"8\",vm=\"vs-\\\"x\"} NaN\n"));
	__T("an exited VM has no series", !strstr(t, "pid=\"9\""));
	__T("threads held per VM",
	    strstr(t, "virtsync_probe_threads{pid=\"7\",vm=\"guest-1\"} 2\n"));
	__T("source",
	    strstr(t, "virtsync_sources_used{name=\"kvm:kvm_pio\",how=\"tp_btf\"} 1\n"));
	vs_prom_free(p);
}

/* watch's families, one queue and one tuned knob: the names virtsync-watch(8)
 * documents, with the queue's labels, from the emitter's walk. */
static void test_watch_families(void **state)
{
	static const char *const names[] = {
		"virtsync_build_info{version=\"9.9\"} 1\n",
		"virtsync_watch_window_seconds 2\n",
		"virtsync_watch_windows_total 5\n",
		"virtsync_watch_events_total{event=\"regime\"} 3\n",
		"virtsync_tune_knob_value{knob=\"guest.halt_poll_ns\",instance=\"\",owner=\"virtsync\"} 200000\n",
		"virtsync_queue_windows_total{Q} 4\n",
		"virtsync_queue_regime_confidence_ratio{Q} 0.8\n",
		"virtsync_queue_regime_changes_total{Q} 1\n",
		"virtsync_queue_regime_info{Q,regime=\"nFC\",mechanism=\"notify\",fast=\"consumer\"} 1\n",
		"virtsync_queue_items_per_second{Q} 1000\n",
		"virtsync_queue_items_total{Q} 777\n",
		"virtsync_queue_window_end_timestamp_seconds{Q} 1700000000.5\n",
		"virtsync_queue_figure_source_info{Q,figure=\"items\",source=\"qmp\"} 1\n",
		"virtsync_queue_kicks_per_second{Q} 200\n",
		"virtsync_queue_interrupts_per_second{Q} NaN\n",
		"virtsync_queue_thread_cpu_ratio{Q,side=\"producer\"} 0.5\n",
		"virtsync_queue_thread_waits_per_second{Q,side=\"consumer\"} 300\n",
		"virtsync_queue_item_interval_seconds{Q,source=\"measured\"} 0.001\n",
		"virtsync_queue_item_interval_seconds{Q,source=\"predicted\"} 0.002\n",
		"virtsync_queue_item_cpu_seconds{Q,source=\"recommended\"} 3e-06\n",
		"virtsync_queue_latency_bound_seconds{Q,source=\"predicted\"} 4e-06\n",
		"virtsync_queue_knob_value{Q,knob=\"thread.timerslack_ns\",role=\"consumer\"} 50000\n",
		"virtsync_queue_knob_recommended_value{Q,knob=\"thread.timerslack_ns\",role=\"consumer\"} 1\n",
		"virtsync_queue_bad_windows{Q} 2\n",
		"virtsync_queue_tune_state_info{Q,state=\"confirming\"} 1\n",
		"virtsync_http_requests_total{code=\"200\"} 6\n",
		"virtsync_http_connections_closed_total{reason=\"evicted\"} 1\n",
		"virtsync_http_connections 2\n",
	};
	struct vs_watch *w = calloc(1, sizeof(*w));
	struct vs_watch_queue *q = &w->q[0];
	struct vs_httpd_stats st = { .ok = 6, .evicted = 1, .open = 2 };
	struct vs_prom *p = vs_prom_new();
	const char *t, *ql = "vm=\"web1\",pid=\"42\",device=\"net0\",queue=\"rx0\"";
	char want[400], *at;
	size_t i;

	__T("alloc", w && p);
	w->windows = 5;
	w->ev_count[VS_WEV_REGIME] = 3;
	w->knobs[0].used = true;
	strcpy(w->knobs[0].knob, "guest.halt_poll_ns");
	strcpy(w->knobs[0].written, "200000");
	q->used = q->have_window = q->have_ring = true;
	q->id.pid = 42;
	strcpy(q->id.vm, "web1");
	strcpy(q->id.device, "net0");
	strcpy(q->id.queue, "rx0");
	q->windows = 4;
	q->regime_changes = 1;
	q->verdict.known = true;
	q->verdict.regime = VS_REGIME_NFC;
	q->verdict.mech = VS_MECH_NOTIFY;
	q->verdict.fast = VS_FAST_CONSUMER;
	q->verdict.confidence = 0.8;
	q->sample.have_items = q->sample.have_kicks = true;
	q->sample.items_per_s = 1000;
	q->sample.kicks_per_s = 200;
	q->sample.prod.present = q->sample.cons.present = true;
	q->sample.prod.cpu = 0.5;
	q->sample.cons.waits_per_s = 300;
	q->items_total = 777;
	q->ring_end_s = 1700000000.5;
	strcpy(q->src_items, "qmp");
	q->plan.valid = q->plan.have_cur = q->plan.have_rec = true;
	q->plan.cur.t_ns = 2e6;
	q->plan.cur.d_ns = 4e3;
	q->plan.rec.e_ns = 3e3;
	q->plan.n_actions = 1;
	strcpy(q->plan.actions[0].knob, "thread.timerslack_ns");
	strcpy(q->plan.actions[0].role, "consumer");
	strcpy(q->plan.actions[0].current, "50000");
	strcpy(q->plan.actions[0].value, "1");
	q->bad_run = 2;
	q->tstate = VS_WT_CONFIRMING;
	__T("watch", !vs_prom_watch(p, w, 2, "9.9"));
	__T("httpd", !vs_prom_httpd(p, &st));
	t = vs_prom_text(p, NULL);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(want, sizeof(want), "%s", names[i]);
		if ((at = strstr(want, "{Q"))) {
			char rest[300];

			snprintf(rest, sizeof(rest), "%s", at + 2);
			snprintf(at, sizeof(want) - (size_t)(at - want), "{%s%s", ql, rest);
		}
		__T(want, strstr(t, want) != NULL);
	}
	/* the regime's strings label its info series only */
	__T("confidence without the regime labels",
	    !strstr(t, "virtsync_queue_regime_confidence_ratio{vm=\"web1\",pid=\"42\","
		    "device=\"net0\",queue=\"rx0\",regime"));
	__T("HELP kept", strstr(t, "# HELP virtsync_queue_regime_info The queue's regime in "
				   "the last window") != NULL);
	vs_prom_free(p);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_probe_families),
		cmocka_unit_test(test_watch_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
