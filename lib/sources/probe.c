// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host measurement layer (see probe.h): the tracepoint table, opening with
 * the BPF backend (probe-bpf.c) or the perf fallback (probe-perf.c), reading
 * snapshots, and the sources that are reported but not counted. The BPF side
 * follows libbpf-tools: open the skeleton, set rodata, pick tp_btf or raw_tp
 * programs with bpf_program__set_autoload(), load, attach one program at a
 * time so that a missing tracepoint costs only its own source.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include <bpf/libbpf.h>

#include "core/sysfs.h"
#include "sources/probe-impl.h"
#include "vsprobe.skel.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define TRACEFS "/sys/kernel/tracing"
/* How often a read first drops the entries of threads that exited. */
#define VS_PROBE_PRUNE_NS 5000000000ULL
#define PROG(field) offsetof(struct vsprobe_bpf, progs.field)
#define NONE VS_TP_NONE

const struct vs_tp vs_tps[] = {
	{ "kvm", "kvm_pio", VS_PROBE_KVM, PROG(vs_pio_btf), PROG(vs_pio_raw), NONE,
	  VS_KICK_PIO, "rw == 1", VS_PIO_IN, "rw == 0" },
	{ "kvm", "kvm_mmio", VS_PROBE_KVM, PROG(vs_mmio_btf), PROG(vs_mmio_raw), NONE,
	  VS_KICK_MMIO, "type == 2", -1, NULL },
	{ "kvm", "kvm_fast_mmio", VS_PROBE_KVM, PROG(vs_fmmio_btf), PROG(vs_fmmio_raw),
	  NONE, VS_KICK_FAST_MMIO, NULL, -1, NULL },
	{ "kvm", "kvm_set_irq", VS_PROBE_KVM, PROG(vs_setirq_btf), PROG(vs_setirq_raw),
	  NONE, VS_IRQ_SET, "level != 0", -1, NULL },
	{ "kvm", "kvm_msi_set_irq", VS_PROBE_KVM, PROG(vs_msi_btf), PROG(vs_msi_raw),
	  NONE, VS_IRQ_MSI, NULL, -1, NULL },
	{ "kvm", "kvm_apic_accept_irq", VS_PROBE_KVM, PROG(vs_apic_btf),
	  PROG(vs_apic_raw), NONE, VS_IRQ_APIC_ACCEPT, NULL, -1, NULL },
	{ "kvm", "kvm_exit", VS_PROBE_KVM, NONE, NONE, PROG(vs_exit_tp),
	  VS_EXIT, NULL, -1, NULL },
	{ "kvm", "kvm_entry", VS_PROBE_KVM, NONE, NONE, PROG(vs_entry_tp),
	  -1, NULL, -1, NULL, "the exit-to-entry time needs BPF" },
	{ "kvm", "kvm_userspace_exit", VS_PROBE_KVM, PROG(vs_uexit_btf),
	  PROG(vs_uexit_raw), NONE, VS_UEXIT, NULL, -1, NULL },
	{ "kvm", "kvm_vcpu_wakeup", VS_PROBE_KVM, PROG(vs_wake_btf), PROG(vs_wake_raw),
	  NONE, VS_HALT_POLLED, "waited == 0", VS_HALT_WAITED, "waited != 0" },
	{ "kvm", "kvm_halt_poll_ns", VS_PROBE_KVM, PROG(vs_hpns_btf), PROG(vs_hpns_raw),
	  NONE, VS_HALT_GROW, "grow != 0", VS_HALT_SHRINK, "grow == 0" },
	{ "workqueue", "workqueue_execute_start", VS_PROBE_KVM, PROG(vs_wqs_btf),
	  PROG(vs_wqs_raw), NONE, -1, NULL, -1, NULL },
	{ "workqueue", "workqueue_execute_end", VS_PROBE_KVM, PROG(vs_wqe_btf),
	  PROG(vs_wqe_raw), NONE, -1, NULL, -1, NULL },
	{ "sched", "sched_waking", VS_PROBE_SCHED, PROG(vs_swake_btf),
	  PROG(vs_swake_raw), NONE, -1, NULL, -1, NULL },
	{ "sched", "sched_wakeup_new", VS_PROBE_SCHED, PROG(vs_swnew_btf),
	  PROG(vs_swnew_raw), NONE, -1, NULL, -1, NULL },
	{ "sched", "sched_switch", VS_PROBE_SCHED, PROG(vs_sswitch_btf),
	  PROG(vs_sswitch_raw), NONE, -1, NULL, -1, NULL },
	/* Interrupt context, to name wakers "irq". Programs attach in table
	 * order: each exit before its entry, so no entry is ever counted
	 * without its exit (the depth would stay up); an exit seen without
	 * its entry is clamped at 0. */
	{ "timer", "hrtimer_expire_exit", VS_PROBE_SCHED, PROG(vs_hrtx_btf),
	  PROG(vs_hrtx_raw), NONE, -1, NULL, -1, NULL },
	{ "timer", "hrtimer_expire_entry", VS_PROBE_SCHED, PROG(vs_hrte_btf),
	  PROG(vs_hrte_raw), NONE, -1, NULL, -1, NULL },
	{ "irq", "irq_handler_exit", VS_PROBE_SCHED, PROG(vs_irqx_btf),
	  PROG(vs_irqx_raw), NONE, -1, NULL, -1, NULL },
	{ "irq", "irq_handler_entry", VS_PROBE_SCHED, PROG(vs_irqe_btf),
	  PROG(vs_irqe_raw), NONE, -1, NULL, -1, NULL },
	{ "irq", "softirq_exit", VS_PROBE_SCHED, PROG(vs_sirqx_btf),
	  PROG(vs_sirqx_raw), NONE, -1, NULL, -1, NULL },
	{ "irq", "softirq_entry", VS_PROBE_SCHED, PROG(vs_sirqe_btf),
	  PROG(vs_sirqe_raw), NONE, -1, NULL, -1, NULL },
	{ "syscalls", "sys_enter_nanosleep", VS_PROBE_SLEEP, NONE, NONE,
	  PROG(vs_ns_enter), -1, NULL, -1, NULL },
	{ "syscalls", "sys_exit_nanosleep", VS_PROBE_SLEEP, NONE, NONE,
	  PROG(vs_ns_exit), -1, NULL, -1, NULL },
	{ "syscalls", "sys_enter_clock_nanosleep", VS_PROBE_SLEEP, NONE, NONE,
	  PROG(vs_cns_enter), -1, NULL, -1, NULL },
	{ "syscalls", "sys_exit_clock_nanosleep", VS_PROBE_SLEEP, NONE, NONE,
	  PROG(vs_cns_exit), -1, NULL, -1, NULL },
};
const unsigned int vs_n_tps = sizeof(vs_tps) / sizeof(vs_tps[0]);
_Static_assert(sizeof(vs_tps) / sizeof(vs_tps[0]) <= VS_TP_MAX,
	       "struct vs_probe holds VS_TP_MAX links");

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct vs_probe_source *vs_probe_add_source(struct vs_probe *p, const char *name,
					    const char *how, int err,
					    const char *why)
{
	struct vs_probe_source *s;

	if (p->n_src >= VS_PROBE_MAX_SOURCES)
		return NULL;
	s = &p->src[p->n_src++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->how, sizeof(s->how), "%s", how);
	s->used = !err;
	s->err = err;
	snprintf(s->why, sizeof(s->why), "%s", why ? why : "");
	return s;
}

int vs_probe_check_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint64_t eff;

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	if (eff & (1ULL << CAP_SYS_ADMIN))
		return 0;
	if ((eff & (1ULL << CAP_BPF)) && (eff & (1ULL << CAP_PERFMON)))
		return 0;
	return -EPERM;
}

/* ---- sources that are reported but not counted ---------------------- */

/* debugfs kvm/ statistics: tell whether they could be read (on nested
 * hosts reading them is refused). A private mount leaves the host alone. */
static void probe_debugfs(struct vs_probe *p)
{
	char tmpl[] = "/tmp/vs-debugfs.XXXXXX", path[PATH_MAX], buf[64];
	const char *base = "/sys/kernel/debug";
	bool mounted = false;
	int err;

	if (access("/sys/kernel/debug/kvm", F_OK)) {
		if (!mkdtemp(tmpl)) {
			vs_probe_add_source(p, "debugfs kvm statistics", "debugfs", -errno,
					    "cannot create a mount point");
			return;
		}
		if (mount("none", tmpl, "debugfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL)) {
			err = -errno;
			rmdir(tmpl);
			vs_probe_add_source(p, "debugfs kvm statistics", "debugfs", err,
					    "debugfs not mounted and mount refused");
			return;
		}
		base = tmpl;
		mounted = true;
	}
	snprintf(path, sizeof(path), "%s/kvm/exits", base);
	err = vs_read_str(path, buf, sizeof(buf));
	if (mounted) {
		umount2(tmpl, MNT_DETACH);
		rmdir(tmpl);
	}
	if (err == -EPERM || err == -EACCES)
		vs_probe_add_source(p, "debugfs kvm statistics", "debugfs", err,
				    "read refused");
	else if (err)
		vs_probe_add_source(p, "debugfs kvm statistics", "debugfs", err,
				    "kvm/exits not readable");
	else
		/* Readable, but host-wide: the BPF counts are per VM. */
		vs_probe_add_source(p, "debugfs kvm statistics", "debugfs", -EOPNOTSUPP,
				    "readable, not used (host-wide; probes are per VM)");
}

/*
 * libbpf finds classic tracepoints and perf finds ids under tracefs, but
 * only while attaching: an attached program or open event no longer needs
 * it. Returns 1 when it mounted tracefs (the caller unmounts it again after
 * attaching, leaving the host as it was), 0 when it was there, -errno.
 */
int vs_probe_ensure_tracefs(void)
{
	if (!access(TRACEFS "/events", F_OK))
		return 0;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL))
		return -errno;
	return 1;
}

/* ---- public API ----------------------------------------------------------- */

int vs_probe_open(const struct vs_probe_opts *opts, struct vs_probe **out)
{
	struct vs_probe *p;
	int err, mounted = 0;

	*out = NULL;
	err = vs_probe_check_caps();
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->opts = *opts;
	if (!p->opts.flags)
		p->opts.flags = VS_PROBE_ALL;
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		err = p->ncpus ? p->ncpus : -EINVAL;
		goto err_free;
	}
	err = vs_probe_set_targets(p, opts->pids, opts->n_pids);
	if (err)
		goto err_free;
	/* libbpf needs tracefs for the classic tracepoints. */
	mounted = vs_probe_ensure_tracefs();
	probe_debugfs(p);

	if (p->opts.attach != VS_ATTACH_PERF) {
		err = vs_probe_bpf_open(p);
		if (!err) {
			p->backend = VS_PROBE_BPF;
			goto done;
		}
		vs_probe_add_source(p, "BPF", "bpf", err, "load or attach refused");
		if (p->opts.attach != VS_ATTACH_AUTO)
			goto err_free;
	}
	err = vs_probe_perf_open(p);
	if (err)
		goto err_free;
	p->backend = VS_PROBE_PERF;
done:
	/* Lazy: another virtsync attaching right now keeps its lookups. */
	if (mounted == 1)
		umount2(TRACEFS, MNT_DETACH);
	p->t0 = now_ns();
	*out = p;
	return 0;

err_free:
	if (mounted == 1)
		umount2(TRACEFS, MNT_DETACH);
	free(p->pids);
	free(p);
	return err;
}

int vs_probe_set_targets(struct vs_probe *p, const pid_t *pids, unsigned int n)
{
	pid_t *copy = NULL;
	int err = 0;

	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, pids, n * sizeof(*copy));
	}
	pthread_mutex_lock(&p->lock);
	free(p->pids);
	p->pids = copy;
	p->n_pids = n;
	if (p->skel)
		err = vs_probe_bpf_targets_fill(p);
	/* What the processes that went left behind goes with them. */
	if (!err && p->skel) {
		err = vs_probe_bpf_prune(p);
		p->pruned_ns = now_ns();
	}
	pthread_mutex_unlock(&p->lock);
	return err;
}

static int build_vms(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	unsigned int i, j, n = p->n_pids;

	/* Unfiltered: one row per process seen. */
	if (!p->opts.n_pids) {
		for (i = 0; i < s->n_threads; i++) {
			bool seen = false;

			for (j = 0; j < i && !seen; j++)
				seen = s->threads[j].tgid == s->threads[i].tgid;
			n += !seen;
		}
	}
	s->vms = calloc(n ? n : 1, sizeof(*s->vms));
	if (!s->vms)
		return -ENOMEM;
	for (i = 0; i < p->n_pids; i++)
		if (p->pids[i] > 0)	/* 0 holds the filter on with no VM yet */
			s->vms[s->n_vms++].pid = p->pids[i];
	for (i = 0; i < s->n_threads; i++) {
		struct vs_probe_thread *t = &s->threads[i];
		struct vs_probe_vm *vm = NULL;

		for (j = 0; j < s->n_vms && !vm; j++)
			if (s->vms[j].pid == t->tgid)
				vm = &s->vms[j];
		if (!vm) {
			if (p->opts.n_pids)
				continue;	/* an old target's leftovers */
			vm = &s->vms[s->n_vms++];
			vm->pid = t->tgid;
		}
		vs_counters_add(&vm->c, &t->c);
	}
	for (i = 0; i < p->n_retired; i++)
		for (j = 0; j < s->n_vms; j++)
			if (s->vms[j].pid == p->retired[i].pid)
				vs_counters_add(&s->vms[j].c, &p->retired[i].c);
	for (i = 0; i < s->n_vms; i++) {
		s->vms[i].alive = !vs_pid_alive(s->vms[i].pid);
		vs_task_comm(s->vms[i].pid, s->vms[i].pid, s->vms[i].comm,
			     sizeof(s->vms[i].comm));
		for (j = 0; !s->vms[i].comm[0] && j < s->n_threads; j++)
			if (s->threads[j].tid == s->vms[i].pid)
				memcpy(s->vms[i].comm, s->threads[j].comm,
				       sizeof(s->vms[i].comm));
	}
	return 0;
}

/*
 * kvm_exit and kvm_entry attach everywhere but fire only where the vendor
 * module (kvm_intel, kvm_amd) emits them: a source that is attached and
 * silent says so rather than reading as "used".
 */
static void note_silent_exits(struct vs_probe_snapshot *s)
{
	uint64_t exits = 0, timed = 0;
	unsigned int i;

	for (i = 0; i < s->n_threads; i++)
		exits += s->threads[i].c.ctr[VS_EXIT];
	for (i = 0; i < s->n_exitlats; i++)
		timed += s->exitlats[i].count;
	for (i = 0; i < s->n_sources; i++) {
		struct vs_probe_source *src = &s->sources[i];

		if (!src->used)
			continue;
		if (!strcmp(src->name, "kvm:kvm_exit") && !exits)
			snprintf(src->why, sizeof(src->why),
				 "attached, no event yet (nested PVM hosts never emit it)");
		else if (!strcmp(src->name, "kvm:kvm_entry") && !timed)
			snprintf(src->why, sizeof(src->why),
				 "attached, no exit timed yet (pairs with kvm_exit)");
	}
}

static int probe_read(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->backend = p->backend;
	s->time_ns = now_ns();
	s->elapsed_ns = s->time_ns - p->t0;
	s->perf_running_ratio = 1.0;
	memcpy(s->sources, p->src, sizeof(p->src));
	s->n_sources = p->n_src;
	if (p->backend == VS_PROBE_PERF)
		return vs_probe_perf_read(p, s);
	/* Threads exit inside live VMs too (QEMU's worker pool): now and then
	 * their entries are folded away, before the read that sums them. */
	if (s->time_ns - p->pruned_ns >= VS_PROBE_PRUNE_NS) {
		err = vs_probe_bpf_prune(p);
		if (err)
			return err;
		p->pruned_ns = s->time_ns;
	}
	err = vs_probe_bpf_read(p, s);
	if (!err)
		err = build_vms(p, s);
	if (err)
		vs_probe_snapshot_free(s);
	else
		note_silent_exits(s);
	return err;
}

int vs_probe_read(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	int err;

	pthread_mutex_lock(&p->lock);
	err = probe_read(p, s);
	pthread_mutex_unlock(&p->lock);
	return err;
}

void vs_probe_snapshot_free(struct vs_probe_snapshot *s)
{
	free(s->vms);
	free(s->threads);
	free(s->exits);
	free(s->exitlats);
	free(s->pairs);
	free(s->kick_addrs);
	s->kick_addrs = NULL;
	s->n_kick_addrs = 0;
	s->vms = NULL;
	s->threads = NULL;
	s->exits = NULL;
	s->exitlats = NULL;
	s->pairs = NULL;
	s->n_vms = s->n_threads = s->n_exits = s->n_pairs = s->n_exitlats = 0;
}

void vs_probe_close(struct vs_probe *p)
{
	if (!p)
		return;
	if (p->skel)
		vs_probe_bpf_close(p);
	vs_probe_perf_close(p);
	free(p->retired);
	free(p->pids);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int vs_probe_measure(const struct vs_probe_opts *opts, uint64_t ns,
		     struct vs_probe_snapshot *snap)
{
	struct vs_probe *p;
	struct timespec deadline;
	int err;

	err = vs_probe_open(opts, &p);
	if (err)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)(ns / 1000000000ULL);
	deadline.tv_nsec += (long)(ns % 1000000000ULL);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	/* Counters start at zero at open: one read covers the window. A
	 * signal wakes the sleep; only *stop ends it early. */
	while (!(opts->stop && *opts->stop) &&
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR)
		;
	err = vs_probe_read(p, snap);
	vs_probe_close(p);
	return err;
}

