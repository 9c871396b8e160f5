/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_DISCOVER_H
#define VS_DISCOVER_H

/*
 * Find the producer/consumer pairs on this machine from /proc alone: KVM VMs
 * (processes holding an anon_inode:kvm-vm fd), QEMU processes without one
 * (TCG or another accelerator), their vCPU threads, vhost workers, QEMU
 * iothreads and main loop, tap devices, and the bundled reference device
 * (which publishes /run/virtsync/pcdev-<pid>.stats). Every path goes through
 * vs_path(), so tests run on fixture trees under $VIRTSYNC_ROOT.
 */

#include <stdbool.h>
#include <sys/types.h>

#define VS_MAX_VMS	16
#define VS_MAX_THREADS	64
#define VS_MAX_TAPS	8

enum vs_thread_role {
	VS_ROLE_VCPU,		/* "CPU n/KVM", "CPU n/TCG", or the device's vcpu_tid */
	VS_ROLE_VHOST,		/* vhost-<pid> worker */
	VS_ROLE_IOTHREAD,	/* QEMU "IO iothreadN" */
	VS_ROLE_PRODUCER,	/* reference device: vs-producer */
	VS_ROLE_CONSUMER,	/* reference device: vs-consumer / vs-vhost */
	VS_ROLE_MAIN_LOOP,	/* QEMU's main thread: devices without an iothread */
	VS_ROLE_OTHER,
};

enum vs_vm_kind {
	VS_VM_QEMU,
	VS_VM_PCDEV,	/* the bundled reference device (either backend) */
	VS_VM_OTHER,	/* some other VMM */
};

struct vs_thread {
	pid_t tid;
	char comm[32];
	enum vs_thread_role role;
	int vcpu_index;		/* -1 when not a vCPU or unknown */
};

struct vs_vm {
	pid_t pid;
	char comm[32];
	enum vs_vm_kind kind;
	bool kvm;		/* holds an anon_inode:kvm-vm fd */
	/* QEMU's accelerator: "kvm" with a kvm-vm fd, else the one its vCPU
	 * threads are named after ("tcg"), else its -accel/-machine option;
	 * "" when none of these says. */
	char accel[8];
	/* QEMU's QMP socket from its command line (-qmp unix:PATH, or a
	 * -chardev socket that a -mon mode=control uses); "" if none. */
	char qmp_socket[108];
	unsigned int n_vcpu_fds;	/* anon_inode:kvm-vcpu fds */
	unsigned int n_threads;
	struct vs_thread threads[VS_MAX_THREADS];
	unsigned int n_taps;
	char taps[VS_MAX_TAPS][16];
	bool has_stats;		/* reference device counters exist */
	char stats_path[512];
	/*
	 * Nothing in /proc ties a vCPU fd to a thread, except the syscall a
	 * thread is blocked in: a halted vCPU's thread shows
	 * ioctl(vcpu_fd, KVM_RUN) in /proc/PID/task/TID/syscall. When no
	 * thread is named like a vCPU and none was caught in KVM_RUN (a paused
	 * VM, or vCPUs that never halt), this says so.
	 */
	bool vcpu_threads_unknown;
	/* vCPU threads found blocked in ioctl(vcpu fd, KVM_RUN). */
	bool vcpus_from_syscall;
};

struct vs_discovery {
	unsigned int n_vms;
	struct vs_vm vms[VS_MAX_VMS];
	unsigned int n_skipped;	/* /proc entries we could not read (EACCES) */
};

const char *vs_role_name(enum vs_thread_role r);	/* "vcpu", "vhost", ... */
const char *vs_vm_kind_name(enum vs_vm_kind k);	/* "qemu", "pcdev", ... */

/*
 * Scan the process table. only_pid > 0 limits it to that process:
 * -ESRCH when it does not exist, -ENOENT when it exists but is neither a KVM
 * VM, a QEMU process, nor the reference device. Finding nothing on the whole host is 0 with
 * n_vms == 0.
 */
int vs_discover(pid_t only_pid, struct vs_discovery *d);

/* Examine one process; -ENOENT when it is not a VM or reference device. */
int vs_discover_pid(pid_t pid, struct vs_vm *vm);

/*
 * The process's command line as NUL-separated arguments (what
 * /proc/PID/cmdline holds), malloc()ed in *buf, its length in *len.
 */
int vs_read_cmdline(pid_t pid, char **buf, size_t *len);

/*
 * The value of key in a QEMU option string ("virtio-blk-pci,drive=d0,
 * iothread=io1": key "iothread" gives "io1"); the first field, without
 * "=", is key "" (the driver or backend). false when absent.
 */
bool vs_qemu_opt(const char *opts, const char *key, char *val, size_t len);

/* The thread with this tid, or NULL. */
const struct vs_thread *vs_vm_thread_by_tid(const struct vs_vm *vm, pid_t tid);

/* First thread with this role, or NULL. */
const struct vs_thread *vs_vm_thread(const struct vs_vm *vm,
				     enum vs_thread_role role);

/* Processes that hold a KVM VM (an anon_inode:kvm-vm fd), sorted, this
 * process left out; the caller frees *pids. -errno. */
int vs_find_vms(pid_t **pids, unsigned int *n);
/* 0 if /proc/PID exists, -ESRCH if not. */
int vs_pid_alive(pid_t pid);
/* 1 if PID holds a KVM VM, 0 if not, -errno (-ESRCH: gone). */
int vs_pid_is_vm(pid_t pid);
/* comm of a task (tid may equal pid), "" when gone. */
void vs_task_comm(pid_t pid, pid_t tid, char *buf, size_t len);

#endif
