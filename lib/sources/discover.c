// SPDX-License-Identifier: GPL-2.0-only
/* VM and I/O thread discovery from /proc (see discover.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sources/devstats.h"
#include "sources/discover.h"
#include "core/sysfs.h"

const char *vs_role_name(enum vs_thread_role r)
{
	switch (r) {
	case VS_ROLE_VCPU: return "vcpu";
	case VS_ROLE_VHOST: return "vhost";
	case VS_ROLE_IOTHREAD: return "iothread";
	case VS_ROLE_PRODUCER: return "producer";
	case VS_ROLE_CONSUMER: return "consumer";
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

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int read_comm(pid_t pid, pid_t tid, char *buf,
		     size_t len)
{
	char path[512];
	int err;

	if (tid)
		err = vs_path(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid,
			      (int)tid);
	else
		err = vs_path(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (err)
		return err;
	return vs_read_str(path, buf, len);
}

/* "iff:\ttap0" in /proc/PID/fdinfo/FD of a /dev/net/tun fd. */
static void read_tap_name(pid_t pid, const char *fd, struct vs_vm *vm)
{
	char path[512], line[256];
	FILE *f;

	if (vm->n_taps >= VS_MAX_TAPS)
		return;
	if (vs_path(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, fd))
		return;
	f = fopen(path, "re");
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

/* Walk /proc/PID/fd: KVM VM/vCPU inodes and tun devices. */
static int scan_fds(pid_t pid, struct vs_vm *vm)
{
	char dir[512], link[512], target[256];
	struct dirent *de;
	DIR *d;
	int err;

	err = vs_path(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if (err)
		return err;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		ssize_t n;

		if (!is_number(de->d_name))
			continue;
		if ((size_t)snprintf(link, sizeof(link), "%s/%s", dir, de->d_name) >=
		    sizeof(link))
			continue;
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, "anon_inode:kvm-vm"))
			vm->kvm = true;
		else if (!strncmp(target, "anon_inode:kvm-vcpu:", 20))
			vm->n_vcpu_fds++;	/* not kvm-vcpu-stats:N */
		else if (!strcmp(target, "/dev/net/tun"))
			read_tap_name(pid, de->d_name, vm);
	}
	closedir(d);
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

static enum vs_thread_role role_from_comm(const char *comm, int *vcpu)
{
	int n;

	*vcpu = -1;
	/* QEMU names vCPU threads "CPU %d/KVM" (qemu_thread_create). */
	if (sscanf(comm, "CPU %d/KVM", &n) == 1) {
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

static void scan_threads(pid_t pid, struct vs_vm *vm)
{
	char dir[512], comm[32];
	struct dirent *de;
	DIR *d;

	if (vs_path(dir, sizeof(dir), "/proc/%d/task", (int)pid))
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		enum vs_thread_role role;
		pid_t tid;
		int vcpu;

		if (!is_number(de->d_name))
			continue;
		tid = (pid_t)atoi(de->d_name);
		if (read_comm(pid, tid, comm, sizeof(comm)))
			continue;
		role = role_from_comm(comm, &vcpu);
		/* The main thread and helpers are listed only for QEMU's
		 * named roles; "other" threads would crowd the output. */
		if (role != VS_ROLE_OTHER)
			add_thread(vm, tid, comm, role, vcpu);
	}
	closedir(d);
}

/* Kernel vhost workers before Linux 6.4 are separate kthreads named
 * vhost-<owner pid>; since 6.4 they are threads of the owner (found above). */
static void scan_vhost_kthreads(struct vs_vm *vm)
{
	char dir[512], comm[32], want[32];
	struct dirent *de;
	DIR *d;

	snprintf(want, sizeof(want), "vhost-%d", (int)vm->pid);
	if (vs_path(dir, sizeof(dir), "/proc"))
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		pid_t p;

		if (!is_number(de->d_name))
			continue;
		p = (pid_t)atoi(de->d_name);
		if (p == vm->pid || read_comm(p, 0, comm, sizeof(comm)))
			continue;
		if (!strcmp(comm, want))
			add_thread(vm, p, comm, VS_ROLE_VHOST, -1);
	}
	closedir(d);
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
		if (!found && !read_comm(vm->pid, pub[i].tid, comm, sizeof(comm)))
			add_thread(vm, pub[i].tid, comm, pub[i].role,
				   pub[i].role == VS_ROLE_VCPU ? 0 : -1);
	}
}

/* ioctl(vcpu_fd, KVM_RUN): _IO(KVMIO, 0x80) with KVMIO 0xAE. */
#define VS_KVM_RUN 0xae80UL

/*
 * A thread that runs a vCPU sits in ioctl(vcpu_fd, KVM_RUN) whenever the
 * vCPU is halted or exits to the kernel, and /proc/PID/task/TID/syscall
 * then shows the syscall number and its arguments: the fd names the vCPU
 * (anon_inode:kvm-vcpu:N). Looked at a few times, since a running vCPU
 * shows "running". Returns the number of vCPU threads found.
 */
static unsigned int find_vcpus_by_syscall(pid_t pid, struct vs_vm *vm,
					  unsigned int rounds)
{
	char dir[512], path[1024], buf[256], target[64], comm[32];
	unsigned int r, found = 0;

	if (vs_path(dir, sizeof(dir), "/proc/%d/task", (int)pid))
		return 0;
	for (r = 0; r < rounds; r++) {
		struct dirent *de;
		DIR *d = opendir(dir);

		if (!d)
			return found;
		while ((de = readdir(d))) {
			unsigned long nr, fd, req;
			int vcpu;
			ssize_t n;
			pid_t tid;

			if (!is_number(de->d_name))
				continue;
			tid = (pid_t)atoi(de->d_name);
			if (vs_vm_thread_by_tid(vm, tid))
				continue;
			snprintf(path, sizeof(path), "%s/%s/syscall", dir, de->d_name);
			if (vs_read_str(path, buf, sizeof(buf)) ||
			    sscanf(buf, "%lu %lx %lx", &nr, &fd, &req) != 3 ||
			    nr != SYS_ioctl || req != VS_KVM_RUN)
				continue;
			if (vs_path(path, sizeof(path), "/proc/%d/fd/%lu", (int)pid, fd))
				continue;
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			if (sscanf(target, "anon_inode:kvm-vcpu:%d", &vcpu) != 1)
				continue;
			if (read_comm(pid, tid, comm, sizeof(comm)))
				snprintf(comm, sizeof(comm), "?");
			/* KVM's own workers in the VM's thread group (such as
			 * kvm-nx-lpage-recovery) report the syscall of the
			 * thread they were forked from: not vCPUs. */
			if (!strncmp(comm, "kvm-", 4))
				continue;
			add_thread(vm, tid, comm, VS_ROLE_VCPU, vcpu);
			found++;
		}
		closedir(d);
		if (found >= vm->n_vcpu_fds)
			break;
		if (r + 1 < rounds) {
			struct timespec ts = { 0, 2000000 };

			nanosleep(&ts, NULL);
		}
	}
	return found;
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
	err = read_comm(pid, 0, vm->comm, sizeof(vm->comm));
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	err = scan_fds(pid, vm);
	if (err && err != -EACCES)
		return err == -ENOENT ? -ESRCH : err;
	if (!vs_devstats_path(pid, path, sizeof(path)) &&
	    !vs_devstats_read(path, &st)) {
		vm->has_stats = true;
		snprintf(vm->stats_path, sizeof(vm->stats_path), "%s", path);
	}
	if (!vm->kvm && !vm->has_stats)
		return -ENOENT;
	scan_threads(pid, vm);
	scan_vhost_kthreads(vm);
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
	vm->vcpu_threads_unknown = vm->kvm && !qemu_vcpu;
	if (vm->vcpu_threads_unknown && vm->n_vcpu_fds &&
	    find_vcpus_by_syscall(pid, vm, 10)) {
		vm->vcpu_threads_unknown = false;
		vm->vcpus_from_syscall = true;
	}
	return 0;
}

int vs_discover(pid_t only_pid, struct vs_discovery *d)
{
	char dir[512];
	struct dirent *de;
	DIR *pd;
	int err;

	memset(d, 0, sizeof(*d));
	if (only_pid > 0) {
		err = vs_discover_pid(only_pid, &d->vms[0]);
		if (err)
			return err;
		d->n_vms = 1;
		return 0;
	}
	err = vs_path(dir, sizeof(dir), "/proc");
	if (err)
		return err;
	pd = opendir(dir);
	if (!pd)
		return -errno;
	while ((de = readdir(pd)) && d->n_vms < VS_MAX_VMS) {
		if (!is_number(de->d_name))
			continue;
		err = vs_discover_pid((pid_t)atoi(de->d_name), &d->vms[d->n_vms]);
		if (!err)
			d->n_vms++;
		else if (err == -EACCES)
			d->n_skipped++;
	}
	closedir(pd);
	return 0;
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
