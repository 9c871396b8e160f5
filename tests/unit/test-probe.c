// SPDX-License-Identifier: GPL-2.0-only
/* lib/probe helpers that need no privileges: histogram quantiles, exit
 * reason tables, counter arithmetic and VM discovery on a fixture /proc. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "sources/probe.h"

static void test_quantile(void **state)
{
	struct vs_hist h;

	memset(&h, 0, sizeof(h));
	__T("empty is NaN", isnan(vs_hist_quantile(&h, 0.5)));
	h.slot[0] = 10;
	__T("all zero", vs_hist_quantile(&h, 0.99) == 0.0);
	memset(&h, 0, sizeof(h));
	h.slot[11] = 100;	/* [1024, 2048) ns */
	__T_REL("p50 mid-slot", vs_hist_quantile(&h, 0.5), 1536.0, 1e-12);
	__T_REL("p100 top", vs_hist_quantile(&h, 1.0), 2048.0, 1e-12);
	h.slot[21] = 1;		/* one outlier in [1 ms, 2 ms) */
	__T("p50 stays low", vs_hist_quantile(&h, 0.5) < 2048.0);
	__T("p999 in the outlier", vs_hist_quantile(&h, 0.999) >= 1048576.0);
	__T("total", vs_hist_total(&h) == 101);
}

static void test_reason_names(void **state)
{
	__T("VMX HLT", !strcmp(vs_exit_reason_name(1, 12), "HLT"));
	__T("VMX IO with flag bits",
	    !strcmp(vs_exit_reason_name(1, 30 | 0x80000000u), "IO_INSTRUCTION"));
	__T("VMX EPT", !strcmp(vs_exit_reason_name(1, 49), "EPT_MISCONFIG"));
	__T("SVM hlt", !strcmp(vs_exit_reason_name(2, 0x78), "hlt"));
	__T("SVM npf", !strcmp(vs_exit_reason_name(2, 0x400), "npf"));
	__T("SVM io", !strcmp(vs_exit_reason_name(2, 0x7b), "io"));
	__T("unknown VMX", vs_exit_reason_name(1, 1000) == NULL);
	__T("unknown ISA", vs_exit_reason_name(3, 12) == NULL);
	__T("KVM_EXIT_IO", !strcmp(vs_uexit_name(2), "IO"));
	__T("KVM_EXIT_MMIO", !strcmp(vs_uexit_name(6), "MMIO"));
	__T("errno slot", !strcmp(vs_uexit_name(VS_UEXIT_ERRNO), "ERRNO"));
	__T("other slot", !strcmp(vs_uexit_name(VS_UEXIT_OTHER), "OTHER"));
	__T("ctr name", !strcmp(vs_ctr_name(VS_KICK_FAST_MMIO), "kicks_fast_mmio"));
	/* stat's JSON keys its counts by these: a counter added to enum
	 * vs_ctr without a name would be a NULL key */
	{
		int i;

		for (i = 0; i < VS_NR_CTR; i++)
			__T("every counter named", vs_ctr_name(i) != NULL);
	}
	__T("the waits", !strcmp(vs_ctr_name(VS_WAIT), "waits"));
}

static void test_counters(void **state)
{
	struct vs_counters a, b, d;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.ctr[VS_KICK_PIO] = 10;
	a.ctr[VS_KICK_MMIO] = 5;
	a.ctr[VS_KICK_FAST_MMIO] = 1;
	a.ctr[VS_PIO_IN] = 100;		/* reads are not kicks */
	a.ctr[VS_IRQ_SET] = 7;
	a.ctr[VS_IRQ_MSI] = 3;
	a.ctr[VS_IRQ_APIC_ACCEPT] = 50;	/* deliveries, not injections */
	a.hist[VS_HIST_WAKEUP].slot[3] = 4;
	__T("kicks", vs_counters_kicks(&a) == 16);
	__T("irqs", vs_counters_irqs(&a) == 10);
	vs_counters_add(&b, &a);
	vs_counters_add(&b, &a);
	vs_counters_sub(&d, &b, &a);
	__T("sub after add", !memcmp(d.ctr, a.ctr, sizeof(a.ctr)));
	__T("hist sub", d.hist[VS_HIST_WAKEUP].slot[3] == 4);
}

static void make_fd(const char *root, int pid, int fd, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/proc/%d/fd", root, pid);
	__T("mkdir", !mkdir(path, 0755) || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/proc/%d/fd/%d", root, pid, fd);
	__T("symlink", !symlink(target, path));
}

static void test_find_vms(void **state)
{
	char root[] = "/tmp/vs-probe-test.XXXXXX", path[512];
	pid_t *pids = NULL;
	unsigned int n = 0;

	__T("mkdtemp", mkdtemp(root));
	snprintf(path, sizeof(path), "%s/proc", root);
	__T("mkdir proc", !mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/proc/123", root);
	__T("mkdir 123", !mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/proc/124", root);
	__T("mkdir 124", !mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/proc/self", root);
	__T("mkdir self", !mkdir(path, 0755));
	make_fd(root, 123, 0, "/dev/null");
	make_fd(root, 123, 9, "anon_inode:kvm-vm");
	make_fd(root, 124, 3, "anon_inode:kvm-vcpu:0");	/* not a VM fd */
	setenv("VIRTSYNC_ROOT", root, 1);

	__T("123 is a VM", vs_pid_is_vm(123) == 1);
	__T("124 is not", vs_pid_is_vm(124) == 0);
	__T("124 alive", vs_pid_alive(124) == 0);
	__T("999 dead", vs_pid_alive(999) == -ESRCH);
	__T("find", vs_find_vms(&pids, &n) == 0);
	__T("one VM", n == 1 && pids[0] == 123);
	free(pids);
	unsetenv("VIRTSYNC_ROOT");
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	__T("cleanup", !system(path));
}

/* A window between two reads: counters, where a thread ran, exit costs. */
static void test_snapshot_sub(void **state)
{
	struct vs_probe_thread ta = { .tgid = 7, .tid = 8 }, tb = ta;
	struct vs_probe_exitlat ea = { .tgid = 7, .isa = 1, .reason = 30 }, eb = ea;
	struct vs_probe_snapshot a = { 0 }, b = { 0 };

	(void)state;
	ta.c.ctr[VS_WAKEUP] = 10;
	tb.c.ctr[VS_WAKEUP] = 25;
	ta.n_on_cpu = 1;
	ta.on_cpu[0] = (struct vs_cpu_count){ 0, 10 };
	tb.n_on_cpu = 2;
	tb.on_cpu[0] = (struct vs_cpu_count){ 0, 10 };	/* all before the window */
	tb.on_cpu[1] = (struct vs_cpu_count){ 1, 15 };
	ea.count = 2;
	ea.sum_ns = 2000;
	ea.hist.slot[10] = 2;
	eb.count = 5;
	eb.sum_ns = 5000;
	eb.hist.slot[10] = 5;
	a.threads = &ta;
	a.n_threads = 1;
	a.exitlats = &ea;
	a.n_exitlats = 1;
	a.elapsed_ns = 1000;
	b.threads = &tb;
	b.n_threads = 1;
	b.exitlats = &eb;
	b.n_exitlats = 1;
	b.elapsed_ns = 3000;
	vs_probe_snapshot_sub(&b, &a);
	__T("counters", tb.c.ctr[VS_WAKEUP] == 15);
	__T("it ran on CPU 1 only in the window", tb.n_on_cpu == 1 &&
	    tb.on_cpu[0].cpu == 1 && tb.on_cpu[0].n == 15);
	__T("exits", eb.count == 3 && eb.sum_ns == 3000 && eb.hist.slot[10] == 3);
	__T("elapsed", b.elapsed_ns == 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantile),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_find_vms),
		cmocka_unit_test(test_snapshot_sub),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
