// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus exposition writer: exact text, and what it refuses. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "output/prom.h"
#include "sources/probe.h"

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

/* The probe families: the counters as given, the labels as asked for, a
 * window ratio from two snapshots. */
static void test_probe_families(void **state)
{
	struct vs_probe_vm vm[3], old[1];
	struct vs_probe_thread th[3];
	struct vs_probe_snapshot s, prev;
	struct vs_prom_probe_opts o = { .name_label = "vm", .vm_name = name_of,
					.ctx = "guest-1" };
	struct vs_prom *p = vs_prom_new();
	const char *t;

	memset(&s, 0, sizeof(s));
	memset(&prev, 0, sizeof(prev));
	memset(vm, 0, sizeof(vm));
	memset(old, 0, sizeof(old));
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
	old[0] = vm[0];
	old[0].c.ctr[VS_HALT_POLLED] = 29;	/* window: 1 polled, 10 waited */
	old[0].c.ctr[VS_HALT_WAITED] = 0;
	s.vms = vm;
	s.n_vms = 3;
	prev.vms = old;
	prev.n_vms = 1;
	s.n_sources = 1;
	strcpy(s.sources[0].name, "kvm:kvm_pio");
	strcpy(s.sources[0].how, "tp_btf");
	s.sources[0].used = true;
	__T("render", !vs_prom_probe(p, &s, &prev, 1.0, &o));
	t = vs_prom_text(p, NULL);
	__T("kicks with the vm name",
	    strstr(t, "virtsync_kicks_total{pid=\"7\",vm=\"guest-1\",kind=\"pio\"} 1000\n"));
	__T("comm when no name, escaped",
	    strstr(t, "virtsync_kicks_total{pid=\"8\",vm=\"vs-\\\"x\",kind=\"pio\"} 0\n"));
	__T("window ratio",
	    strstr(t, "virtsync_halt_poll_success_ratio{pid=\"7\",vm=\"guest-1\"} 0.0909090909090909"));
	__T("no halts: NaN",
	    strstr(t, "virtsync_halt_poll_success_ratio{pid=\"8\",vm=\"vs-\\\"x\"} NaN\n"));
	__T("an exited VM has no series", !strstr(t, "pid=\"9\""));
	__T("threads held per VM",
	    strstr(t, "virtsync_probe_threads{pid=\"7\",vm=\"guest-1\"} 2\n"));
	__T("source",
	    strstr(t, "virtsync_source_up{source=\"kvm:kvm_pio\",how=\"tp_btf\"} 1\n"));
	vs_prom_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_probe_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
