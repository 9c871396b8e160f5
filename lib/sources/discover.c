// SPDX-License-Identifier: GPL-2.0-only
/* VM and I/O thread discovery from /proc (see discover.h). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/safefile.h"
#include "core/procfs.h"
#include "core/sysfs.h"
#include "sources/devstats.h"
#include "sources/discover.h"

const char *vs_role_name(enum vs_thread_role r)
{
	switch (r) {
	case VS_ROLE_VCPU: return "vcpu";
	case VS_ROLE_VHOST: return "vhost";
	case VS_ROLE_IOTHREAD: return "iothread";
	case VS_ROLE_PRODUCER: return "producer";
	case VS_ROLE_CONSUMER: return "consumer";
	case VS_ROLE_MAIN_LOOP: return "main-loop";
	default: return "other";
	}
}

const char *vs_vm_kind_name(enum vs_vm_kind k)
{
	switch (k) {
	case VS_VM_QEMU: return "qemu";
	case VS_VM_PCDEV: return "pcdev";
	default: return "other";
	}
}

/* "iff:\ttap0" in /proc/PID/fdinfo/FD of a /dev/net/tun fd. */
static void read_tap_name(pid_t pid, int fd, struct vs_vm *vm)
{
	char path[512], line[256];
	FILE *f;

	if (vm->n_taps >= VS_MAX_TAPS)
		return;
	if (vs_path(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd))
		return;
	f = vs_fopen_rooted(path);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char name[16];

		if (sscanf(line, "iff: %15s", name) == 1) {
			snprintf(vm->taps[vm->n_taps++], sizeof(vm->taps[0]), "%s",
				 name);
			break;
		}
	}
	fclose(f);
}

/* One fd of the process: KVM VM/vCPU inodes and tun devices. */
static int note_fd(pid_t pid, int fd, const char *target, void *arg)
{
	struct vs_vm *vm = arg;

	if (!strcmp(target, "anon_inode:kvm-vm"))
		vm->kvm = true;
	else if (!strncmp(target, "anon_inode:kvm-vcpu:", 20))
		vm->n_vcpu_fds++;	/* not kvm-vcpu-stats:N */
	else if (!strcmp(target, "/dev/net/tun"))
		read_tap_name(pid, fd, vm);
	return 0;
}

static void add_thread(struct vs_vm *vm, pid_t tid, const char *comm,
		       enum vs_thread_role role, int vcpu_index)
{
	struct vs_thread *t;
	unsigned int i;

	for (i = 0; i < vm->n_threads; i++)
		if (vm->threads[i].tid == tid)
			return;
	if (vm->n_threads >= VS_MAX_THREADS)
		return;
	t = &vm->threads[vm->n_threads++];
	t->tid = tid;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
	t->role = role;
	t->vcpu_index = vcpu_index;
}

/* A QEMU system emulator, whatever its accelerator: named qemu-system-*
 * (comm is cut at 15 characters: "qemu-system-x86"). */
static bool is_qemu(const char *comm)
{
	return !strncmp(comm, "qemu-system", 11);
}

static enum vs_thread_role role_from_comm(const char *comm, int *vcpu)
{
	char accel[8];
	int n;

	*vcpu = -1;
	/* QEMU names vCPU threads "CPU %d/%s" after the accelerator
	 * (qemu_thread_create with debug-threads): KVM, TCG, HVF, ... */
	if (sscanf(comm, "CPU %d/%7s", &n, accel) == 2) {
		*vcpu = n;
		return VS_ROLE_VCPU;
	}
	if (!strncmp(comm, "vhost-", 6))
		return VS_ROLE_VHOST;
	if (!strncmp(comm, "IO ", 3))
		return VS_ROLE_IOTHREAD;
	if (!strcmp(comm, "vs-producer"))
		return VS_ROLE_PRODUCER;
	if (!strcmp(comm, "vs-consumer") || !strcmp(comm, "vs-vhost"))
		return VS_ROLE_CONSUMER;
	if (!strcmp(comm, "vs-vcpu")) {
		*vcpu = 0;
		return VS_ROLE_VCPU;
	}
	return VS_ROLE_OTHER;
}

static int note_thread(pid_t pid, pid_t tid, void *arg)
{
	struct vs_vm *vm = arg;
	enum vs_thread_role role;
	char comm[32];
	int vcpu;

	if (vs_proc_comm(pid, tid, comm, sizeof(comm)))
		return 0;
	role = role_from_comm(comm, &vcpu);
	/* QEMU's main thread runs its main loop: the consumer of every
	 * device that has no iothread (and, without KVM's irqfd, the path
	 * of every completion interrupt). */
	if (role == VS_ROLE_OTHER && tid == pid && is_qemu(comm))
		role = VS_ROLE_MAIN_LOOP;
	/* Other helpers are listed only for QEMU's named roles; "other"
	 * threads would crowd the output. */
	if (role != VS_ROLE_OTHER)
		add_thread(vm, tid, comm, role, vcpu);
	return 0;
}

/* Kernel vhost workers before Linux 6.4 are separate kthreads named
 * vhost-<owner pid>; since 6.4 they are threads of the owner (found by
 * note_thread). */
static int note_vhost_kthread(pid_t p, void *arg)
{
	struct vs_vm *vm = arg;
	char comm[32], want[32];

	snprintf(want, sizeof(want), "vhost-%d", (int)vm->pid);
	if (p != vm->pid && !vs_proc_comm(p, 0, comm, sizeof(comm)) &&
	    !strcmp(comm, want))
		add_thread(vm, p, comm, VS_ROLE_VHOST, -1);
	return 0;
}

/* The reference device names its threads, and publishes their tids too; the
 * published tids win because a vCPU cannot be told from /proc otherwise. */
static void apply_devstats(struct vs_vm *vm, const struct vs_devstats *st)
{
	struct { pid_t tid; enum vs_thread_role role; } pub[] = {
		{ st->vcpu_tid, VS_ROLE_VCPU },
		{ st->producer_tid, VS_ROLE_PRODUCER },
		{ st->consumer_tid, VS_ROLE_CONSUMER },
	};
	unsigned int i, j;
	char comm[32];

	for (i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
		bool found = false;

		if (pub[i].tid <= 0)
			continue;
		for (j = 0; j < vm->n_threads; j++) {
			if (vm->threads[j].tid != pub[i].tid)
				continue;
			found = true;
			/* A vCPU that produces stays a vCPU: the role that
			 * matters for the knobs (halt polling) is the vCPU. */
			if (vm->threads[j].role == VS_ROLE_OTHER)
				vm->threads[j].role = pub[i].role;
		}
		if (!found && !vs_proc_comm(vm->pid, pub[i].tid, comm, sizeof(comm)))
			add_thread(vm, pub[i].tid, comm, pub[i].role,
				   pub[i].role == VS_ROLE_VCPU ? 0 : -1);
	}
}

/* ioctl(vcpu_fd, KVM_RUN): _IO(KVMIO, 0x80) with KVMIO 0xAE. */
#define VS_KVM_RUN 0xae80UL

struct vcpu_search {
	struct vs_vm *vm;
	unsigned int found;
};

/*
 * A thread that runs a vCPU sits in ioctl(vcpu_fd, KVM_RUN) whenever the
 * vCPU is halted or exits to the kernel, and /proc/PID/task/TID/syscall
 * then shows the syscall number and its arguments: the fd names the vCPU
 * (anon_inode:kvm-vcpu:N).
 */
static int note_vcpu_by_syscall(pid_t pid, pid_t tid, void *arg)
{
	struct vcpu_search *vs = arg;
	char path[512], buf[256], target[64], comm[32];
	unsigned long nr, fd, req;
	ssize_t n;
	int vcpu;

	if (vs_vm_thread_by_tid(vs->vm, tid))
		return 0;
	if (vs_path(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid,
		    (int)tid) ||
	    vs_read_str(path, buf, sizeof(buf)) ||
	    sscanf(buf, "%lu %lx %lx", &nr, &fd, &req) != 3 ||
	    nr != SYS_ioctl || req != VS_KVM_RUN)
		return 0;
	if (vs_path(path, sizeof(path), "/proc/%d/fd/%lu", (int)pid, fd))
		return 0;
	n = vs_readlink_rooted(path, target, sizeof(target));
	if (n <= 0)
		return 0;
	if (sscanf(target, "anon_inode:kvm-vcpu:%d", &vcpu) != 1)
		return 0;
	if (vs_proc_comm(pid, tid, comm, sizeof(comm)))
		snprintf(comm, sizeof(comm), "?");
	/* KVM's own workers in the VM's thread group (such as
	 * kvm-nx-lpage-recovery) report the syscall of the thread they were
	 * forked from: not vCPUs. */
	if (!strncmp(comm, "kvm-", 4))
		return 0;
	add_thread(vs->vm, tid, comm, VS_ROLE_VCPU, vcpu);
	vs->found++;
	return 0;
}

/* Looked at a few times, since a running vCPU shows "running". Returns the
 * number of vCPU threads found. */
static unsigned int find_vcpus_by_syscall(pid_t pid, struct vs_vm *vm,
					  unsigned int rounds)
{
	struct vcpu_search vs = { vm, 0 };
	unsigned int r;

	for (r = 0; r < rounds; r++) {
		if (vs_proc_each_task(pid, note_vcpu_by_syscall, &vs) < 0)
			break;
		if (vs.found >= vm->n_vcpu_fds)
			break;
		if (r + 1 < rounds) {
			struct timespec ts = { 0, 2000000 };

			nanosleep(&ts, NULL);
		}
	}
	return vs.found;
}

int vs_read_cmdline(pid_t pid, char **buf, size_t *len)
{
	char path[512];
	size_t cap = 4096, n = 0;
	char *b;
	FILE *f;
	int err;

	err = vs_path(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (err)
		return err;
	f = vs_fopen_rooted(path);
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	b = malloc(cap + 1);
	while (b) {
		char *nb;

		n += fread(b + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		nb = realloc(b, cap + 1);
		if (!nb)
			free(b);
		b = nb;
	}
	fclose(f);
	if (!b)
		return -ENOMEM;
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

bool vs_qemu_opt(const char *opts, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key);
	const char *p = opts;
	bool first = true;

	while (*p) {
		const char *end = strchr(p, ','), *eq;
		size_t flen;

		/* ",," is QEMU's escaped comma inside a value */
		while (end && end[1] == ',')
			end = strchr(end + 2, ',');
		flen = end ? (size_t)(end - p) : strlen(p);
		eq = memchr(p, '=', flen);
		if (first && !eq && !klen) {
			snprintf(val, len, "%.*s", (int)flen, p);
			return true;
		}
		if (eq && klen && (size_t)(eq - p) == klen && !strncmp(p, key, klen)) {
			snprintf(val, len, "%.*s", (int)(flen - klen - 1), eq + 1);
			return true;
		}
		first = false;
		p += flen;
		if (*p == ',')
			p++;
	}
	return false;
}

/* The socket of a "-chardev socket,id=ID,path=P" that "-mon chardev=ID,
 * mode=control" makes a QMP monitor. */
static void qmp_from_mon(const char *args, size_t len, const char *mon_opts,
			 char *out, size_t outlen)
{
	char id[64], mode[16], cid[64], path[108], be[16];
	const char *a;

	if (!vs_qemu_opt(mon_opts, "chardev", id, sizeof(id)) ||
	    !vs_qemu_opt(mon_opts, "mode", mode, sizeof(mode)) ||
	    strcmp(mode, "control"))
		return;
	for (a = args; a < args + len; a += strlen(a) + 1) {
		const char *opt = a + strlen(a) + 1;

		if (strcmp(a, "-chardev") || opt >= args + len)
			continue;
		if (vs_qemu_opt(opt, "", be, sizeof(be)) && !strcmp(be, "socket") &&
		    vs_qemu_opt(opt, "id", cid, sizeof(cid)) && !strcmp(cid, id) &&
		    vs_qemu_opt(opt, "path", path, sizeof(path))) {
			snprintf(out, outlen, "%s", path);
			return;
		}
	}
}

/* Accelerator and QMP socket, from the vCPU thread names and the command
 * line. */
static void qemu_details(pid_t pid, struct vs_vm *vm)
{
	char *args = NULL, val[128];
	const char *a;
	size_t len = 0;
	unsigned int i;

	if (vm->kvm)
		snprintf(vm->accel, sizeof(vm->accel), "kvm");
	for (i = 0; !vm->accel[0] && i < vm->n_threads; i++) {
		const char *slash = strchr(vm->threads[i].comm, '/');
		size_t k;

		if (vm->threads[i].role != VS_ROLE_VCPU || !slash)
			continue;
		for (k = 0; slash[k + 1] && k + 1 < sizeof(vm->accel); k++)
			vm->accel[k] = (char)tolower((unsigned char)slash[k + 1]);
		vm->accel[k] = '\0';
	}
	if (vs_read_cmdline(pid, &args, &len))
		return;
	for (a = args; a < args + len; a += strlen(a) + 1) {
		const char *opt = a + strlen(a) + 1;

		if (opt >= args + len)
			break;
		if (!vm->accel[0] && !strcmp(a, "-accel") &&
		    vs_qemu_opt(opt, "", val, sizeof(val)))
			snprintf(vm->accel, sizeof(vm->accel), "%.7s", val);
		if (!vm->accel[0] && !strcmp(a, "-machine") &&
		    vs_qemu_opt(opt, "accel", val, sizeof(val)))
			snprintf(vm->accel, sizeof(vm->accel), "%.7s", val);
		/* "-qmp unix:PATH[,server=on,...]" */
		if (!vm->qmp_socket[0] && !strcmp(a, "-qmp") && !strncmp(opt, "unix:", 5))
			snprintf(vm->qmp_socket, sizeof(vm->qmp_socket), "%.*s",
				 (int)strcspn(opt + 5, ","), opt + 5);
		if (!vm->qmp_socket[0] && !strcmp(a, "-mon"))
			qmp_from_mon(args, len, opt, vm->qmp_socket,
				     sizeof(vm->qmp_socket));
	}
	free(args);
}

int vs_discover_pid(pid_t pid, struct vs_vm *vm)
{
	struct vs_devstats st;
	char path[512];
	unsigned int i;
	bool qemu_vcpu = false;
	int err;

	memset(vm, 0, sizeof(*vm));
	vm->pid = pid;
	err = vs_proc_comm(pid, 0, vm->comm, sizeof(vm->comm));
	if (err)
		return err;
	err = vs_proc_each_fd(pid, note_fd, vm);
	if (err && err != -EACCES)
		return err;
	if (!vs_devstats_path(pid, path, sizeof(path)) &&
	    !vs_devstats_read(path, &st)) {
		vm->has_stats = true;
		snprintf(vm->stats_path, sizeof(vm->stats_path), "%s", path);
	}
	if (!vm->kvm && !vm->has_stats && !is_qemu(vm->comm))
		return -ENOENT;
	vs_proc_each_task(pid, note_thread, vm);
	vs_proc_each_pid(note_vhost_kthread, vm);
	if (vm->has_stats)
		apply_devstats(vm, &st);
	for (i = 0; i < vm->n_threads; i++)
		if (vm->threads[i].role == VS_ROLE_VCPU)
			qemu_vcpu = true;
	if (vm->has_stats)
		vm->kind = VS_VM_PCDEV;
	else if (!strncmp(vm->comm, "qemu", 4) || qemu_vcpu)
		vm->kind = VS_VM_QEMU;
	else
		vm->kind = VS_VM_OTHER;
	if (vm->kind == VS_VM_QEMU)
		qemu_details(pid, vm);
	vm->vcpu_threads_unknown = vm->kvm && !qemu_vcpu;
	if (vm->vcpu_threads_unknown && vm->n_vcpu_fds &&
	    find_vcpus_by_syscall(pid, vm, 10)) {
		vm->vcpu_threads_unknown = false;
		vm->vcpus_from_syscall = true;
	}
	return 0;
}

static int discover_one(pid_t pid, void *arg)
{
	struct vs_discovery *d = arg;
	int err;

	if (d->n_vms >= VS_MAX_VMS)
		return 1;
	err = vs_discover_pid(pid, &d->vms[d->n_vms]);
	if (!err)
		d->n_vms++;
	else if (err == -EACCES)
		d->n_skipped++;
	return 0;
}

int vs_discover(pid_t only_pid, struct vs_discovery *d)
{
	int err;

	memset(d, 0, sizeof(*d));
	if (only_pid > 0) {
		err = vs_discover_pid(only_pid, &d->vms[0]);
		if (err)
			return err;
		d->n_vms = 1;
		return 0;
	}
	err = vs_proc_each_pid(discover_one, d);
	return err < 0 ? err : 0;
}

/* ---- processes that hold a VM, for the probes' target lists ---------- */

int vs_pid_alive(pid_t pid)
{
	char path[PATH_MAX];
	struct stat st;
	int err = vs_path(path, sizeof(path), "/proc/%d", (int)pid);

	if (err)
		return err;
	if (pid <= 0 || vs_stat_rooted(path, &st))
		return -ESRCH;
	return 0;
}

static int is_vm_fd(pid_t pid, int fd, const char *target, void *arg)
{
	return !strcmp(target, "anon_inode:kvm-vm");
}

int vs_pid_is_vm(pid_t pid)
{
	return vs_proc_each_fd(pid, is_vm_fd, NULL);
}

struct pid_list {
	pid_t *pids, self;
	unsigned int n, cap;
};

static int collect_vm(pid_t pid, void *arg)
{
	struct pid_list *l = arg;

	if (pid == l->self || vs_pid_is_vm(pid) != 1)
		return 0;
	if (l->n == l->cap) {
		unsigned int cap = l->cap ? l->cap * 2 : 8;
		pid_t *np = realloc(l->pids, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		l->pids = np;
		l->cap = cap;
	}
	l->pids[l->n++] = pid;
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int vs_find_vms(pid_t **pids, unsigned int *n)
{
	struct pid_list l = { NULL, getpid(), 0, 0 };
	int err = vs_proc_each_pid(collect_vm, &l);

	if (err < 0) {
		free(l.pids);
		return err;
	}
	if (l.n)
		qsort(l.pids, l.n, sizeof(*l.pids), cmp_pid);
	*pids = l.pids;
	*n = l.n;
	return 0;
}

void vs_task_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	buf[0] = '\0';
	if (pid <= 0 && tid <= 0)
		return;
	vs_proc_comm(pid > 0 ? pid : tid, tid, buf, len);
}

const struct vs_thread *vs_vm_thread_by_tid(const struct vs_vm *vm, pid_t tid)
{
	unsigned int i;

	for (i = 0; i < vm->n_threads; i++)
		if (vm->threads[i].tid == tid)
			return &vm->threads[i];
	return NULL;
}

const struct vs_thread *vs_vm_thread(const struct vs_vm *vm,
				     enum vs_thread_role role)
{
	unsigned int i;

	for (i = 0; i < vm->n_threads; i++)
		if (vm->threads[i].role == role)
			return &vm->threads[i];
	return NULL;
}
