// SPDX-License-Identifier: GPL-2.0-only
/* lib/discover, lib/devstats and lib/guest on tests/fixtures/diagnose-host. */
#include "test.h"
#include "diag-fixture.h"

#include <errno.h>

#include "core/procfs.h"
#include "sources/devstats.h"
#include "sources/discover.h"
#include "sources/guest.h"
#include "sources/measure.h"

static const struct vs_vm *find_vm(const struct vs_discovery *d, pid_t pid)
{
	unsigned int i;

	for (i = 0; i < d->n_vms; i++)
		if (d->vms[i].pid == pid)
			return &d->vms[i];
	return NULL;
}

static const struct vs_thread *find_tid(const struct vs_vm *vm, pid_t tid)
{
	unsigned int i;

	for (i = 0; i < vm->n_threads; i++)
		if (vm->threads[i].tid == tid)
			return &vm->threads[i];
	return NULL;
}

static void test_discover_host(void **state)
{
	struct vs_discovery *d = calloc(1, sizeof(*d));
	const struct vs_vm *qemu, *dev, *fc;
	const struct vs_thread *t;

	(void)state;
	__T("fixture root", diag_fixture_root("diagnose-host") == 0);
	__T("discover", vs_discover(0, d) == 0);
	__T("five VM-like processes (two QEMUs, device, two other VMMs)", d->n_vms == 5);
	__T("bash is not a VM", find_vm(d, 300) == NULL);
	__T("the vhost kthread is not a VM", find_vm(d, 200) == NULL);

	qemu = find_vm(d, 100);
	__T("qemu found", qemu != NULL);
	__T("qemu kind", qemu->kind == VS_VM_QEMU);
	__T("qemu holds a kvm-vm fd", qemu->kvm);
	__T("two vcpu fds", qemu->n_vcpu_fds == 2);
	__T("tap0 from fdinfo iff:", qemu->n_taps == 1 && !strcmp(qemu->taps[0], "tap0"));
	t = find_tid(qemu, 102);
	__T("CPU 1/KVM is vCPU 1", t && t->role == VS_ROLE_VCPU && t->vcpu_index == 1);
	t = find_tid(qemu, 103);
	__T("IO iothread1 is an iothread", t && t->role == VS_ROLE_IOTHREAD);
	t = find_tid(qemu, 104);
	__T("vhost worker thread (Linux >= 6.4)", t && t->role == VS_ROLE_VHOST);
	t = find_tid(qemu, 200);
	__T("vhost-100 kthread (older kernels)", t && t->role == VS_ROLE_VHOST);
	__T("QEMU's named vCPUs are known", !qemu->vcpu_threads_unknown);
	t = find_tid(qemu, 100);
	__T("QEMU's main thread runs the main loop", t && t->role == VS_ROLE_MAIN_LOOP);
	__T("a kvm-vm fd means KVM", !strcmp(qemu->accel, "kvm"));

	/* QEMU under TCG: no kvm-vm fd, still a VM with vCPUs and queues. */
	qemu = find_vm(d, 700);
	__T("TCG QEMU found", qemu && qemu->kind == VS_VM_QEMU && !qemu->kvm);
	__T("accelerator from the vCPU thread names", !strcmp(qemu->accel, "tcg"));
	t = find_tid(qemu, 702);
	__T("CPU 1/TCG is vCPU 1", t && t->role == VS_ROLE_VCPU && t->vcpu_index == 1);
	t = find_tid(qemu, 703);
	__T("IO io1 is an iothread", t && t->role == VS_ROLE_IOTHREAD);
	__T("QMP socket from -chardev socket + -mon mode=control",
	    !strcmp(qemu->qmp_socket, "/run/vm7.qmp"));

	dev = find_vm(d, 400);
	__T("reference device found by its counters", dev && dev->kind == VS_VM_PCDEV);
	__T("device is not KVM (thread backend)", !dev->kvm && dev->has_stats);
	t = find_tid(dev, 401);
	__T("vs-producer", t && t->role == VS_ROLE_PRODUCER);
	t = find_tid(dev, 402);
	__T("vs-consumer", t && t->role == VS_ROLE_CONSUMER);

	fc = find_vm(d, 500);
	__T("another VMM", fc && fc->kind == VS_VM_OTHER && fc->kvm);
	t = find_tid(fc, 501);
	__T("vCPU found blocked in ioctl(vcpu fd, KVM_RUN)",
	    t && t->role == VS_ROLE_VCPU && t->vcpu_index == 0 && fc->vcpus_from_syscall &&
	    !fc->vcpu_threads_unknown);
	__T("the poll()ing main thread is not a vCPU", find_tid(fc, 500) == NULL);
	__T("KVM's nx-lpage worker is not a vCPU", find_tid(fc, 502) == NULL);
	__T("kvm-vcpu-stats fds are not vCPU fds", fc->n_vcpu_fds == 1);
	fc = find_vm(d, 600);
	__T("a VMM whose vCPU was never caught in KVM_RUN", fc && fc->kvm &&
	    fc->vcpu_threads_unknown && !fc->vcpus_from_syscall && fc->n_threads == 0);
	free(d);
}

static void test_discover_pid(void **state)
{
	struct vs_discovery *d = calloc(1, sizeof(*d));

	(void)state;
	__T("fixture root", diag_fixture_root("diagnose-host") == 0);
	__T("--pid limits to one", vs_discover(100, d) == 0 && d->n_vms == 1 &&
	    d->vms[0].pid == 100);
	__T("no such process", vs_discover(999, d) == -ESRCH);
	__T("not a VM", vs_discover(300, d) == -ENOENT);
	__T("a QEMU without KVM is one", vs_discover(700, d) == 0 && !d->vms[0].kvm);
	free(d);
}

static int count_pid(pid_t pid, void *arg)
{
	return ++*(int *)arg == 3;	/* stop at the third */
}

static int count_task(pid_t pid, pid_t tid, void *arg)
{
	*(int *)arg += tid > pid;
	return 0;
}

static int kvm_fd(pid_t pid, int fd, const char *target, void *arg)
{
	if (!strcmp(target, "anon_inode:kvm-vm"))
		*(int *)arg = fd;
	return 0;
}

/* The one /proc walker discover and the probes share. */
static void test_proc_walker(void **state)
{
	int n = 0, fd = -1;
	char comm[32];

	(void)state;
	__T("fixture root", diag_fixture_root("diagnose-host") == 0);
	__T("a positive return stops the walk", vs_proc_each_pid(count_pid, &n) == 1 && n == 3);
	n = 0;
	__T("tasks of 100", vs_proc_each_task(100, count_task, &n) == 0 && n == 4);
	__T("a gone process", vs_proc_each_task(999, count_task, &n) == -ESRCH);
	__T("fds of 100", vs_proc_each_fd(100, kvm_fd, &fd) == 0 && fd == 10);
	__T("fds of a gone process", vs_proc_each_fd(999, kvm_fd, &fd) == -ESRCH);
	__T("comm", vs_proc_comm(100, 102, comm, sizeof(comm)) == 0 &&
	    !strcmp(comm, "CPU 1/KVM"));
	__T("comm of a gone thread", vs_proc_comm(100, 199, comm, sizeof(comm)) == -ESRCH &&
	    !comm[0]);
	__T("VM found by its fd", vs_pid_is_vm(100) == 1 && vs_pid_is_vm(300) == 0);
}

static void test_qemu_opt(void **state)
{
	char v[64];

	(void)state;
	__T("driver", vs_qemu_opt("virtio-blk-pci,drive=d0,iothread=io1", "", v, sizeof(v)) &&
	    !strcmp(v, "virtio-blk-pci"));
	__T("key", vs_qemu_opt("virtio-blk-pci,drive=d0,iothread=io1", "iothread", v,
			       sizeof(v)) && !strcmp(v, "io1"));
	__T("absent", !vs_qemu_opt("virtio-blk-pci,drive=d0", "iothread", v, sizeof(v)));
	__T("no driver field", !vs_qemu_opt("drive=d0", "", v, sizeof(v)));
	__T("escaped comma", vs_qemu_opt("socket,path=/a,,b,id=x", "path", v, sizeof(v)) &&
	    !strcmp(v, "/a,,b"));
	__T("prefix is not the key", !vs_qemu_opt("iothreads=2", "iothread", v, sizeof(v)));
}

static void test_devstats(void **state)
{
	struct vs_devstats st;
	char path[512];

	(void)state;
	__T("fixture root", diag_fixture_root("diagnose-host") == 0);
	__T("path", vs_devstats_path(400, path, sizeof(path)) == 0);
	__T("read", vs_devstats_read(path, &st) == 0);
	__T("items", st.have_items && st.items_consumed == 990 && st.items_produced == 1000);
	__T("kicks/interrupts", st.kicks == 900 && st.interrupts == 3);
	__T("backend, len", !strcmp(st.backend, "thread") && st.len == 256);
	__T("tids", st.producer_tid == 401 && st.consumer_tid == 402 && st.vcpu_tid == 0);
	__T("missing file", vs_devstats_read("/nonexistent/x.stats", &st) == -ENOENT);
}

static void test_thread_counters(void **state)
{
	struct vs_thread_counters c;

	(void)state;
	__T("fixture root", diag_fixture_root("diagnose-host") == 0);
	__T("read", vs_thread_counters_read(400, 402, &c) == 0);
	__T("schedstat", c.exec_ns == 1000000 && c.run_delay_ns == 5000 && c.timeslices == 10);
	__T("ctx switches", c.vol_cs == 900 && c.invol_cs == 2);
	__T("stat cpu field 39", vs_thread_counters_read(400, 401, &c) == 0 && c.cpu == 1);
	__T("running", vs_thread_syscall_state(400, 401) == 0);
	__T("clock_nanosleep is a sleep", vs_thread_syscall_state(400, 402) == 1);
	__T("absent thread", vs_thread_counters_read(400, 499, &c) == -ENOENT);
}

static void test_guest(void **state)
{
	struct vs_guest_info g;
	struct vs_guest_counters c;
	unsigned int i;
	bool req = false;

	(void)state;
	__T("fixture root", diag_fixture_root("diagnose-host") == 0);
	__T("detect", vs_guest_detect(&g) == 0);
	__T("hypervisor flag", g.is_guest && g.cpuinfo_hv && !g.cpuid_hv);
	__T("haltpoll driver", !strcmp(g.cpuidle_driver, "haltpoll"));
	__T("guest_halt_poll_ns 0", g.haltpoll_loaded && g.guest_halt_poll_ns == 0);
	__T("three C-states", g.n_cstates == 3 && g.cstates[2].latency_us == 200 &&
	    !strcmp(g.cstates[2].name, "C6"));
	__T("counters", vs_guest_counters_read(&c) == 0);
	__T("four virtio vectors, timer skipped", c.n_vqs == 4);
	for (i = 0; i < c.n_vqs; i++)
		if (!strcmp(c.vqs[i].name, "virtio1-req.0"))
			req = c.vqs[i].count == 57490 && c.vqs[i].irq == 36;
	__T("virtio1-req.0 summed over CPUs", req);
	__T("input vector summed", c.vqs[1].count == 25);
	__T("whole disks only", c.have_disk && c.disk_ios == 1500);
	__T("net without lo", c.have_net && c.net_packets == 500);
}

static void test_guest_rates(void **state)
{
	struct vs_guest_counters a = { 0 }, b = { 0 };
	struct vs_guest_rates r;

	(void)state;
	a.n_vqs = b.n_vqs = 1;
	a.vqs[0].irq = b.vqs[0].irq = 36;
	strcpy(b.vqs[0].name, "virtio1-req.0");
	a.vqs[0].count = 100;
	b.vqs[0].count = 300;
	a.have_disk = b.have_disk = true;
	a.disk_ios = 10;
	b.disk_ios = 50;
	vs_guest_rates(&a, &b, 2.0, &r);
	__T_REL("irq rate", r.vqs[0].per_s, 100.0, 1e-9);
	__T_REL("disk rate", r.disk_ios_per_s, 20.0, 1e-9);
	__T("no net", !r.have_net);
}

static void test_parse_interrupts_bad(void **state)
{
	struct vs_guest_counters c;

	(void)state;
	__T("no header", vs_guest_parse_interrupts("", &c) == -EINVAL);
	__T("header only", vs_guest_parse_interrupts("  CPU0\n", &c) == 0 && c.n_vqs == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discover_host),
		cmocka_unit_test(test_discover_pid),
		cmocka_unit_test(test_qemu_opt),
		cmocka_unit_test(test_proc_walker),
		cmocka_unit_test(test_devstats),
		cmocka_unit_test(test_thread_counters),
		cmocka_unit_test(test_guest),
		cmocka_unit_test(test_guest_rates),
		cmocka_unit_test(test_parse_interrupts_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
