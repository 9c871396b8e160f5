// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit cost on recorded tracepoint data: kvm_exit/kvm_entry do not fire on
 * the project's machines, so the pairing (bpf/exitlat.h, shared with the
 * BPF program) and the summaries are checked on traces in the kernel's
 * print format: tests/fixtures/traces/kvm-exit-vmx.trace (ftrace with
 * record-tgid, VMX) and kvm-exit-svm.perf (perf script --ns, SVM).
 */
#include "test.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/exitlat.h"

static FILE *fixture(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "tests/fixtures/traces/%s", name);
	return fopen(path, "re");
}

static const struct vs_exitcost *by_name(const struct vs_exitcost *c, unsigned int n,
					 const char *name)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return &c[i];
	return NULL;
}

static void test_vmx_trace(void **state)
{
	struct vs_probe_snapshot s;
	struct vs_exitcost c[VS_EXITCOST_MAX];
	const struct vs_exitcost *e;
	char err[128], from[160];
	FILE *f = fixture("kvm-exit-vmx.trace");
	unsigned int n;
	double np;

	(void)state;
	__T("fixture (run from the top of the tree)", f != NULL);
	__T("replay", vs_exitlat_replay(f, &s, err, sizeof(err)) == 0);
	fclose(f);
	n = vs_exitcost_of(&s, 2340, c, VS_EXITCOST_MAX);
	__T("three reasons for VM 2340", n == 3);
	__T("most frequent first", !strcmp(c[0].name, "EPT_MISCONFIG") && c[0].count == 10);
	__T("an exit without its entry is not timed", c[0].count == 10);
	__T("EPT_MISCONFIG 2 us each", c[0].mean_ns == 2000 && c[0].max_ns == 2000 && c[0].kick);
	__T("its median in the [1024, 2048) ns slot", c[0].p50_ns >= 1024 && c[0].p50_ns < 2048);
	e = by_name(c, n, "IO_INSTRUCTION");
	__T("IO_INSTRUCTION 12 us", e && e->count == 4 && e->mean_ns == 12000 && e->kick);
	e = by_name(c, n, "HLT");
	__T("HLT across a migration", e && e->count == 2 && e->mean_ns == 500000 && !e->kick);
	__T("a rate over the trace's span", isfinite(c[0].per_s) && c[0].per_s > 0);
	n = vs_exitcost_of(&s, 3000, c, VS_EXITCOST_MAX);
	__T("the other VM apart", n == 1 && !strcmp(c[0].name, "EXTERNAL_INTERRUPT") &&
	    c[0].mean_ns == 1000);
	__T("all VMs", vs_exitcost_of(&s, -1, c, VS_EXITCOST_MAX) == 4);
	__T("kick cost", vs_exitcost_kick(&s, 2340, &np, from, sizeof(from)) == 0);
	__T_REL("Np: the mean over kick exits", np, (10 * 2000.0 + 4 * 12000.0) / 14, 1e-9);
	__T("says what it is", strstr(from, "14 EPT_MISCONFIG+IO_INSTRUCTION exits") != NULL);
	__T("no kick exit in VM 3000", vs_exitcost_kick(&s, 3000, &np, from, sizeof(from)) == -ENOENT &&
	    isnan(np));
	vs_probe_snapshot_free(&s);
}

/* stat shows each interval: the later snapshot less the earlier one. */
static void test_interval(void **state)
{
	struct vs_probe_snapshot s, prev;
	struct vs_exitcost c[VS_EXITCOST_MAX];
	char err[128];
	FILE *f = fixture("kvm-exit-vmx.trace");

	(void)state;
	__T("replay", f && vs_exitlat_replay(f, &s, err, sizeof(err)) == 0);
	fclose(f);
	memset(&prev, 0, sizeof(prev));
	prev.exitlats = calloc(1, sizeof(*prev.exitlats));
	prev.n_exitlats = 1;
	prev.exitlats[0] = s.exitlats[0];	/* EPT_MISCONFIG of 2340 so far */
	prev.exitlats[0].count = 4;
	prev.exitlats[0].sum_ns = 8000;
	prev.exitlats[0].hist.slot[11] = 4;
	__T("interval", vs_exitcost_between(&s, &prev, 2340, 2.0, c, VS_EXITCOST_MAX) == 3);
	__T("6 new EPT_MISCONFIG exits", !strcmp(c[0].name, "EPT_MISCONFIG") && c[0].count == 6 &&
	    c[0].per_s == 3 && c[0].mean_ns == 2000 && c[0].hist.slot[11] == 6);
	__T("no previous snapshot: everything", vs_exitcost_between(&s, NULL, 2340, 1.0, c,
								   VS_EXITCOST_MAX) == 3 &&
	    c[0].count == 10);
	free(prev.exitlats);
	vs_probe_snapshot_free(&s);
}

static void test_svm_perf_script(void **state)
{
	struct vs_probe_snapshot s;
	struct vs_exitcost c[VS_EXITCOST_MAX];
	char err[128], from[160];
	FILE *f = fixture("kvm-exit-svm.perf");
	double np;

	(void)state;
	__T("fixture", f != NULL);
	__T("replay", vs_exitlat_replay(f, &s, err, sizeof(err)) == 0);
	fclose(f);
	__T("one reason", vs_exitcost_of(&s, 4000, c, VS_EXITCOST_MAX) == 1);
	__T("npf, ns timestamps", !strcmp(c[0].name, "npf") && c[0].count == 6 &&
	    fabs(c[0].mean_ns - 1500) < 1e-6);
	__T("npf is a kick on SVM", vs_exitcost_kick(&s, 4000, &np, from, sizeof(from)) == 0 &&
	    fabs(np - 1500) < 1e-6);
	vs_probe_snapshot_free(&s);
}

static void test_bad_traces(void **state)
{
	const char *no_tgid =
		"  CPU 0/KVM-77 [000] ..... 10.000000: kvm_exit: vcpu 0 reason HLT rip 0x0\n"
		"  CPU 0/KVM-77 [001] ..... 10.000100: kvm_entry: vcpu 0, rip 0x0\n"
		"garbage line: kvm_exit: no task\n";
	struct vs_probe_snapshot s;
	struct vs_exitcost c[VS_EXITCOST_MAX];
	char err[128];
	FILE *f;

	(void)state;
	f = fmemopen((void *)no_tgid, strlen(no_tgid), "r");
	__T("without tgids", vs_exitlat_replay(f, &s, err, sizeof(err)) == 0);
	fclose(f);
	__T("charged to process 0 (unknown)", vs_exitcost_of(&s, 0, c, VS_EXITCOST_MAX) == 1 &&
	    c[0].count == 1 && c[0].mean_ns == 100000);
	vs_probe_snapshot_free(&s);
	f = fmemopen((void *)"nothing here\n", 13, "r");
	__T("no event", vs_exitlat_replay(f, &s, err, sizeof(err)) == -EINVAL &&
	    !strcmp(err, "no kvm_exit or kvm_entry event in the trace"));
	fclose(f);
}

/* The slot function the BPF program and the replay share. */
static void test_slots(void **state)
{
	struct vs_exit_pending p = { 0 };
	struct vs_exitlat_val v;

	(void)state;
	memset(&v, 0, sizeof(v));
	__T("0 ns", vs_exitlat_slot(0) == 0);
	__T("1 ns", vs_exitlat_slot(1) == 1);
	__T("1024 ns", vs_exitlat_slot(1024) == 11 && vs_exitlat_slot(2047) == 11);
	__T("clamped", vs_exitlat_slot(~0ULL) == MAX_SLOTS - 1);
	__T("entry without exit", vs_exitlat_on_entry(&p, 100, &v) == 0 && v.count == 0);
	vs_exitlat_on_exit(&p, 100, 1, 12);
	__T("clock going back", vs_exitlat_on_entry(&p, 50, &v) == 0);
	__T("counted", vs_exitlat_on_entry(&p, 1124, &v) == 1 && v.count == 1 &&
	    v.hist[11] == 1 && v.max_ns == 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmx_trace),
		cmocka_unit_test(test_interval),
		cmocka_unit_test(test_svm_perf_script),
		cmocka_unit_test(test_bad_traces),
		cmocka_unit_test(test_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
