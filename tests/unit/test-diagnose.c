// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/diagnose: the pipeline's rules (device or VM, the confidence of a short
 * window, the guest's halt-poll sizing), the whole call on the fixture tree
 * tests/fixtures/diagnose-host, and the sweep of a killed run's files.
 */
#include "test.h"
#include "diag-fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diagnose/device.h"
#include "diagnose/diagnose.h"

static struct vs_discovery *only(const struct vs_discovery *d, pid_t pid)
{
	struct vs_discovery *o = calloc(1, sizeof(*o));
	unsigned int i;

	for (i = 0; i < d->n_vms; i++)
		if (d->vms[i].pid == pid)
			o->vms[o->n_vms++] = d->vms[i];
	return o;
}

static void test_device_or_vm(void **state)
{
	struct vs_discovery *host = calloc(1, sizeof(*host)), *none = calloc(1, sizeof(*none));
	struct vs_discovery *blind, *qemu;

	(void)state;
	__T("fixture root", diag_fixture_root("diagnose-host") == 0);
	__T("discover", vs_discover(0, host) == 0 && host->n_vms == 5);
	/* the QEMUs (named threads; a tap), the device (counters) and the VMM
	 * caught in KVM_RUN can be measured; the VMM never caught cannot */
	__T("four of five measurable", vs_diag_measurable(host) == 4);
	blind = only(host, 600);
	qemu = only(host, 100);
	__T("the blind VMM alone", blind->n_vms == 1 && vs_diag_measurable(blind) == 0);

	__T("auto: VMs to measure, no device", !vs_diag_wants_device(VS_DIAG_AUTO, host));
	__T("auto: only a VM that cannot be measured: the device",
	    vs_diag_wants_device(VS_DIAG_AUTO, blind));
	__T("auto: nothing on the host: the device", vs_diag_wants_device(VS_DIAG_AUTO, none));
	__T("auto: a QEMU", !vs_diag_wants_device(VS_DIAG_AUTO, qemu));
	__T("host only never starts it", !vs_diag_wants_device(VS_DIAG_HOST, none));
	__T("a pid never starts it", !vs_diag_wants_device(VS_DIAG_PID, none));
	__T("a QMP socket never starts it", !vs_diag_wants_device(VS_DIAG_QMP, none));
	__T("the device preset always", vs_diag_wants_device(VS_DIAG_DEVICE, host));
	free(host);
	free(none);
	free(blind);
	free(qemu);
}

static void test_short_window(void **state)
{
	struct vs_verdict v;

	(void)state;
	memset(&v, 0, sizeof(v));
	v.known = true;
	v.confidence = 0.9;
	snprintf(v.summary, sizeof(v.summary), "fast consumer");
	vs_diag_short_window(&v, 3e9, 5e9);
	__T("over half the window: trusted as it is", v.confidence == 0.9 &&
	    !strcmp(v.summary, "fast consumer"));
	vs_diag_short_window(&v, 1e9, 5e9);
	__T_REL("a fifth of the window: a fifth of the confidence", v.confidence, 0.18, 1e-9);
	__T("said so", strstr(v.summary, "stopped after 1s of the 5s window") != NULL &&
	    !strncmp(v.summary, "fast consumer (", 15));
	v.confidence = 0.9;
	vs_diag_short_window(&v, 0, 5e9);
	__T("nothing measured: no confidence", v.confidence == 0);

	memset(&v, 0, sizeof(v));
	v.confidence = 0.5;
	vs_diag_short_window(&v, 1e9, 5e9);
	__T("no verdict: untouched", v.confidence == 0.5 && !v.summary[0]);
}

static void test_guest_wait(void **state)
{
	struct vs_verdict v;
	struct vs_sample s;

	(void)state;
	memset(&v, 0, sizeof(v));
	memset(&s, 0, sizeof(s));
	v.known = true;
	v.c_wait = VS_WAIT_NOTIFY;
	s.cons.cpu = 0.6;
	s.cons.waits_per_s = 20000;
	s.prod.cpu = 1;
	s.prod.waits_per_s = 1;
	/* 40 % of a second idle over 20000 waits: 20 us per wait */
	__T_REL("the consumer waits: its idle time per wait",
		vs_diag_guest_wait_ns(&v, &s), 20000, 1e-9);
	v.c_wait = VS_WAIT_NONE;
	s.prod.cpu = 0.5;
	s.prod.waits_per_s = 1000;
	__T_REL("a consumer that never waits: the producer's",
		vs_diag_guest_wait_ns(&v, &s), 500000, 1e-9);
	s.prod.waits_per_s = 0;
	__T("no waits: cannot tell", isnan(vs_diag_guest_wait_ns(&v, &s)));
	s.prod.waits_per_s = 1000;
	s.prod.cpu = 1;
	__T("never idle: nothing to poll for", isnan(vs_diag_guest_wait_ns(&v, &s)));
	v.known = false;
	s.prod.cpu = 0.5;
	__T("no verdict: cannot tell", isnan(vs_diag_guest_wait_ns(&v, &s)));
}

static void test_pipeline_on_fixture(void **state)
{
	struct vs_diag_opts o = VS_DIAG_OPTS_INIT;
	struct vs_diagnosis d;
	int err;

	(void)state;
	__T("fixture root", diag_fixture_root("diagnose-host") == 0);
	o.target = VS_DIAG_PID;
	o.pid = 400;
	o.duration_ns = 30e6;
	o.no_calibrate = o.no_probes = true;
	err = vs_diagnose(&o, &d);
	__T("the fixture's device is diagnosed", err == 0 && d.err == 0);
	__T("pid mode, no device of its own", d.mode == VS_DIAG_MODE_PID && !d.device.ran);
	__T("one queue, the device's", d.n_queues == 1 && d.queues[0].vm->pid == 400 &&
	    d.queues[0].vm->kind == VS_VM_PCDEV);
	/* counters that do not move over the window: nothing to conclude */
	__T("no verdict from frozen counters", !d.queues[0].err && !d.queues[0].verdict.known);
	__T("the fixture is a guest", d.guest.is_guest);
	__T("not calibrated", !d.calibrated && isnan(d.hc.wake_ns));
	__T("probes not loaded, said so", !strcmp(d.probe_why, "--no-probes"));
	vs_diagnosis_free(&d);

	o.pid = 999;
	err = vs_diagnose(&o, &d);
	__T("a pid that does not exist is refused", err == -ESRCH && d.target_refused &&
	    d.about_target && !strcmp(d.why, "no such process"));
	vs_diagnosis_free(&d);
	o.pid = 300;
	err = vs_diagnose(&o, &d);
	__T("bash is not a VM", err == -ENOENT && d.target_refused &&
	    strstr(d.why, "not a KVM VM"));
	vs_diagnosis_free(&d);

	o.pid = 400;
	o.duration_ns = 0;
	err = vs_diagnose(&o, &d);
	__T("an empty window is refused", err == -EINVAL && !d.target_refused);
	vs_diagnosis_free(&d);
}

/* ---- the sweep of a killed run's files ----------------------------------- */

static void put(const char *root, const char *rel, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	__T("create fixture file", f != NULL);
	fputs(text, f);
	fclose(f);
}

static bool present(const char *root, const char *rel)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return access(path, F_OK) == 0;
}

/* /proc/PID/stat of a process that started `ago` seconds before now (at
 * most the uptime: a fresh machine has little). */
static void fake_process(const char *root, int pid, double ago)
{
	char rel[64], text[256];
	struct timespec boot;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	snprintf(rel, sizeof(rel), "proc/%d", pid);
	{
		char path[1024];

		snprintf(path, sizeof(path), "%s/%s", root, rel);
		__T("mkdir proc/PID", mkdir(path, 0755) == 0);
	}
	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	snprintf(text, sizeof(text),
		 "%d (virt sync) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0\n", pid,
		 (unsigned long long)((boot.tv_sec > ago ? boot.tv_sec - ago : 0) *
				      sysconf(_SC_CLK_TCK)));
	put(root, rel, text);
}

static void test_sweep(void **state)
{
	char root[] = "/tmp/vs-test-sweep-XXXXXX", path[1200], own[64];
	struct timespec old[2] = { { .tv_sec = time(NULL) - 30 }, { .tv_sec = time(NULL) - 30 } };

	(void)state;
	__T("temporary root", mkdtemp(root) != NULL);
	snprintf(path, sizeof(path), "%s/run", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/run/virtsync", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proc", root);
	mkdir(path, 0755);
	setenv("VIRTSYNC_ROOT", root, 1);

	/* 4242: gone; 4343: alive since boot, before its files; 4444: a
	 * process 5 s old that got the pid of one whose file is 30 s old */
	put(root, "run/virtsync/pcdev-4242.stats", "items_consumed 1\n");
	put(root, "run/virtsync/pcdev-4242.ctl", "consumer_sleep_ns=0\n");
	put(root, "run/virtsync/pcdev-4242.stats.tmp", "");
	put(root, "run/virtsync/tune-plan-4242.json", "{}\n");
	fake_process(root, 4343, 1e9);
	put(root, "run/virtsync/pcdev-4343.stats", "items_consumed 1\n");
	fake_process(root, 4444, 5);
	put(root, "run/virtsync/pcdev-4444.ctl", "consumer_sleep_ns=0\n");
	snprintf(path, sizeof(path), "%s/run/virtsync/pcdev-4444.ctl", root);
	__T("age the reused pid's file", utimensat(AT_FDCWD, path, old, 0) == 0);
	/* not ours, or not a leftover */
	put(root, "run/virtsync/journal.json", "{}\n");
	put(root, "run/virtsync/pcdev-4242.json", "{}\n");
	put(root, "run/virtsync/tune-plan-4242.stats", "\n");
	put(root, "run/virtsync/pcdev-x.stats", "\n");
	snprintf(own, sizeof(own), "run/virtsync/pcdev-%d.stats", (int)getpid());
	put(root, own, "items_consumed 1\n");

	__T("five leftovers removed", vs_refdev_sweep() == 5);
	__T("dead pid: counters", !present(root, "run/virtsync/pcdev-4242.stats"));
	__T("dead pid: control file", !present(root, "run/virtsync/pcdev-4242.ctl"));
	__T("dead pid: temporary", !present(root, "run/virtsync/pcdev-4242.stats.tmp"));
	__T("dead pid: tune plan", !present(root, "run/virtsync/tune-plan-4242.json"));
	__T("reused pid: its predecessor's file", !present(root, "run/virtsync/pcdev-4444.ctl"));
	__T("a live device keeps its counters", present(root, "run/virtsync/pcdev-4343.stats"));
	__T("this process's own files stay", present(root, own));
	__T("the journal stays", present(root, "run/virtsync/journal.json"));
	__T("names that are not leftovers stay", present(root, "run/virtsync/pcdev-4242.json") &&
	    present(root, "run/virtsync/tune-plan-4242.stats") &&
	    present(root, "run/virtsync/pcdev-x.stats"));
	__T("nothing more the second time", vs_refdev_sweep() == 0);

	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	__T("clean up", system(path) == 0);
	unsetenv("VIRTSYNC_ROOT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_or_vm),
		cmocka_unit_test(test_short_window),
		cmocka_unit_test(test_guest_wait),
		cmocka_unit_test(test_pipeline_on_fixture),
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
