// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host measurement layer (see probe.h): BPF programs on tracepoints, with a
 * perf_event_open counting fallback. The BPF side follows libbpf-tools:
 * open the skeleton, set rodata, pick tp_btf or raw_tp programs with
 * bpf_program__set_autoload(), load, attach one program at a time so that a
 * missing tracepoint costs only its own source.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/perf_event.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sources/probe.h"
#include "core/sysfs.h"
#include "vsprobe.skel.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define TRACEFS "/sys/kernel/tracing"

/* One tracepoint: its tp_btf and raw_tp programs (or one classic
 * tracepoint program), and how perf counts it in the fallback. */
struct vs_tp {
	const char *sys, *name;
	unsigned int flag;		/* enum vs_probe_flags group */
	size_t btf_off, raw_off, tp_off;	/* program pointers in the skeleton */
	/* perf fallback: counter and ftrace filter, ctr < 0 = not counted */
	int perf_ctr;
	const char *perf_filter;
	int perf_ctr2;			/* second counter with perf_filter2 */
	const char *perf_filter2;
};

#define PROG(field) offsetof(struct vsprobe_bpf, progs.field)
#define NONE ((size_t)-1)

static const struct vs_tp vs_tps[] = {
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
#define N_TPS (sizeof(vs_tps) / sizeof(vs_tps[0]))

struct perf_counter {
	int fd;
	int ctr;
};

struct vs_probe {
	struct vs_probe_opts opts;
	enum vs_probe_backend backend;
	struct vsprobe_bpf *skel;
	struct bpf_link *links[N_TPS];
	struct bpf_program *progs[N_TPS];
	pid_t *pids;
	unsigned int n_pids;
	uint64_t t0;
	int ncpus;
	struct perf_counter *pc;
	unsigned int n_pc;
	struct vs_probe_source src[VS_PROBE_MAX_SOURCES];
	unsigned int n_src;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct vs_probe_source *add_source(struct vs_probe *p, const char *name,
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

/* ---- process discovery ------------------------------------------------- */

int vs_pid_alive(pid_t pid)
{
	char path[PATH_MAX];
	struct stat st;
	int err = vs_path(path, sizeof(path), "/proc/%d", (int)pid);

	if (err)
		return err;
	if (pid <= 0 || stat(path, &st))
		return -ESRCH;
	return 0;
}

int vs_pid_is_vm(pid_t pid)
{
	char dir[PATH_MAX], link[PATH_MAX], target[64];
	struct dirent *de;
	int err, found = 0;
	DIR *d;

	err = vs_path(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if (err)
		return err;
	d = opendir(dir);
	if (!d)
		return -errno;
	while (!found && (de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(link, sizeof(link), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(link))
			continue;
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		found = !strcmp(target, "anon_inode:kvm-vm");
	}
	closedir(d);
	return found;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int vs_find_vms(pid_t **pids, unsigned int *n)
{
	char dir[PATH_MAX];
	unsigned int cnt = 0, cap = 0;
	pid_t *list = NULL, self = getpid();
	struct dirent *de;
	DIR *d;
	int err;

	err = vs_path(dir, sizeof(dir), "/proc");
	if (err)
		return err;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long v = strtol(de->d_name, &end, 10);

		if (*end || v <= 0 || v == self)
			continue;
		if (vs_pid_is_vm((pid_t)v) != 1)
			continue;
		if (cnt == cap) {
			pid_t *nl;

			cap = cap ? cap * 2 : 8;
			nl = realloc(list, cap * sizeof(*list));
			if (!nl) {
				free(list);
				closedir(d);
				return -ENOMEM;
			}
			list = nl;
		}
		list[cnt++] = (pid_t)v;
	}
	closedir(d);
	if (cnt)
		qsort(list, cnt, sizeof(*list), cmp_pid);
	*pids = list;
	*n = cnt;
	return 0;
}

void vs_task_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[PATH_MAX];

	buf[0] = '\0';
	if (pid <= 0 && tid <= 0)
		return;
	if (vs_path(path, sizeof(path), "/proc/%d/task/%d/comm",
		    (int)(pid > 0 ? pid : tid), (int)tid))
		return;
	if (vs_read_str(path, buf, len))
		buf[0] = '\0';
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
			add_source(p, "debugfs kvm statistics", "debugfs", -errno,
				   "cannot create a mount point");
			return;
		}
		if (mount("none", tmpl, "debugfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL)) {
			err = -errno;
			rmdir(tmpl);
			add_source(p, "debugfs kvm statistics", "debugfs", err,
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
		add_source(p, "debugfs kvm statistics", "debugfs", err,
			   "read refused");
	else if (err)
		add_source(p, "debugfs kvm statistics", "debugfs", err,
			   "kvm/exits not readable");
	else
		/* Readable, but host-wide: the BPF counts are per VM. */
		add_source(p, "debugfs kvm statistics", "debugfs", -EOPNOTSUPP,
			   "readable, not used (host-wide; probes are per VM)");
}

/*
 * libbpf finds classic tracepoints and perf finds ids under tracefs, but
 * only while attaching: an attached program or open event no longer needs
 * it. Returns 1 when it mounted tracefs (the caller unmounts it again after
 * attaching, leaving the host as it was), 0 when it was there, -errno.
 */
static int ensure_tracefs(void)
{
	if (!access(TRACEFS "/events", F_OK))
		return 0;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL))
		return -errno;
	return 1;
}

static uint64_t kallsyms_addr(const char *sym)
{
	char path[PATH_MAX], line[256], name[128], type;
	unsigned long long addr;
	uint64_t found = 0;
	FILE *f;

	if (vs_path(path, sizeof(path), "/proc/kallsyms"))
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %127s", &addr, &type, name) != 3)
			continue;
		if (!strcmp(name, sym)) {
			found = addr;
			break;
		}
	}
	fclose(f);
	return found;
}

/* ---- BPF backend -------------------------------------------------------- */

static struct bpf_program *prog_at(struct vsprobe_bpf *skel, size_t off)
{
	return off == NONE ? NULL : *(struct bpf_program **)((char *)skel + off);
}

static int bpf_targets_fill(struct vs_probe *p)
{
	int fd = bpf_map__fd(p->skel->maps.targets);
	uint32_t key, next;
	uint8_t one = 1;
	unsigned int i;
	bool have = false;

	/* Remove what is no longer a target, then add the new set. */
	while (!bpf_map_get_next_key(fd, have ? &key : NULL, &next)) {
		bool keep = false;

		for (i = 0; i < p->n_pids; i++)
			keep |= (uint32_t)p->pids[i] == next;
		if (!keep) {
			bpf_map_delete_elem(fd, &next);
			have = false;	/* restart: iteration order changed */
			continue;
		}
		key = next;
		have = true;
	}
	for (i = 0; i < p->n_pids; i++) {
		key = (uint32_t)p->pids[i];
		if (bpf_map_update_elem(fd, &key, &one, BPF_ANY))
			return -errno;
	}
	return 0;
}

/*
 * Open and load with one attach flavour. tp_btf programs fail at load time
 * where BTF for the tracepoint is missing or tracing programs are refused;
 * raw_tp only at attach. Returns -errno with the skeleton destroyed.
 */
static int bpf_load(struct vs_probe *p, bool use_btf)
{
	struct vsprobe_bpf *skel;
	unsigned int i;
	int err;

	skel = vsprobe_bpf__open();
	if (!skel)
		return errno ? -errno : -ENOMEM;
	skel->rodata->targ_filter = p->opts.n_pids > 0;
	skel->rodata->targ_irqfd_inject = kallsyms_addr("irqfd_inject");
	bpf_map__set_max_entries(skel->maps.threads,
				 p->opts.max_threads ? p->opts.max_threads : 4096);
	for (i = 0; i < N_TPS; i++) {
		const struct vs_tp *t = &vs_tps[i];
		struct bpf_program *btf = prog_at(skel, t->btf_off);
		struct bpf_program *raw = prog_at(skel, t->raw_off);
		struct bpf_program *tp = prog_at(skel, t->tp_off);
		bool want = p->opts.flags & t->flag;

		if (btf)
			bpf_program__set_autoload(btf, want && use_btf);
		if (raw)
			bpf_program__set_autoload(raw, want && !use_btf);
		if (tp)
			bpf_program__set_autoload(tp, want);
	}
	err = vsprobe_bpf__load(skel);
	if (err) {
		vsprobe_bpf__destroy(skel);
		return err < 0 ? err : -EINVAL;
	}
	p->skel = skel;
	return 0;
}

static int bpf_attach_all(struct vs_probe *p, bool use_btf)
{
	unsigned int i, attached = 0;
	char name[64];

	for (i = 0; i < N_TPS; i++) {
		const struct vs_tp *t = &vs_tps[i];
		struct bpf_program *prog;
		const char *how;

		if (!(p->opts.flags & t->flag))
			continue;
		snprintf(name, sizeof(name), "%s:%s", t->sys, t->name);
		if (t->tp_off != NONE) {
			prog = prog_at(p->skel, t->tp_off);
			how = "tracepoint";
		} else {
			prog = prog_at(p->skel, use_btf ? t->btf_off : t->raw_off);
			how = use_btf ? "tp_btf" : "raw_tp";
		}
		p->progs[i] = prog;
		p->links[i] = bpf_program__attach(prog);
		if (!p->links[i]) {
			int err = -errno;

			add_source(p, name, how, err, strerror(-err));
			continue;
		}
		add_source(p, name, how, 0, NULL);
		attached++;
	}
	return attached ? 0 : -ENOENT;
}

static void bpf_detach(struct vs_probe *p)
{
	unsigned int i;

	for (i = 0; i < N_TPS; i++) {
		bpf_link__destroy(p->links[i]);
		p->links[i] = NULL;
	}
	vsprobe_bpf__destroy(p->skel);
	p->skel = NULL;
}

static int bpf_open(struct vs_probe *p)
{
	enum vs_probe_attach a = p->opts.attach;
	int err = -EINVAL, btf_err = 0;
	unsigned int keep = p->n_src;

	if (a == VS_ATTACH_AUTO || a == VS_ATTACH_TP_BTF) {
		err = bpf_load(p, true);
		if (!err) {
			err = bpf_attach_all(p, true);
			if (!err)
				return bpf_targets_fill(p);
			bpf_detach(p);
			p->n_src = keep;
		}
		btf_err = err;
		if (a == VS_ATTACH_TP_BTF)
			return err;
	}
	err = bpf_load(p, false);
	if (err)
		return err;
	err = bpf_attach_all(p, false);
	if (err) {
		bpf_detach(p);
		return err;
	}
	if (btf_err)
		add_source(p, "tp_btf programs", "tp_btf", btf_err,
			   "load refused, using raw_tp");
	return bpf_targets_fill(p);
}

static void hist_add_u32(struct vs_hist *h, const uint32_t *slots)
{
	unsigned int i;

	for (i = 0; i < VS_HIST_SLOTS; i++)
		h->slot[i] += slots[i];
}

static void thread_val_add(struct vs_counters *c, const struct vs_thread_val *v)
{
	unsigned int i;

	for (i = 0; i < VS_NR_CTR; i++)
		c->ctr[i] += v->ctr[i];
	for (i = 0; i < VS_NR_SUM; i++)
		c->sum[i] += v->sum[i];
	for (i = 0; i < VS_UEXIT_SLOTS; i++)
		c->uexit[i] += v->uexit[i];
	for (i = 0; i < VS_NR_HIST; i++)
		hist_add_u32(&c->hist[i], v->hist[i]);
	if (v->halt_poll_ns)
		c->halt_poll_ns = v->halt_poll_ns;
}

/* Per-CPU map values come back as one copy per possible CPU, each
 * rounded up to 8 bytes. */
static size_t percpu_stride(size_t sz)
{
	return (sz + 7) & ~(size_t)7;
}

static int read_threads(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	int fd = bpf_map__fd(p->skel->maps.threads), ncpu = p->ncpus, c;
	size_t stride = percpu_stride(sizeof(struct vs_thread_val));
	struct vs_thread_key key, next;
	unsigned int cap = 0;
	bool have = false;
	char *buf;

	buf = calloc(ncpu, stride);
	if (!buf)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, have ? &key : NULL, &next)) {
		struct vs_probe_thread *t;

		key = next;
		have = true;
		if (bpf_map_lookup_elem(fd, &key, buf))
			continue;	/* raced with a delete */
		if (s->n_threads == cap) {
			struct vs_probe_thread *nt;

			cap = cap ? cap * 2 : 64;
			nt = realloc(s->threads, cap * sizeof(*nt));
			if (!nt) {
				free(buf);
				return -ENOMEM;
			}
			s->threads = nt;
		}
		t = &s->threads[s->n_threads++];
		memset(t, 0, sizeof(*t));
		t->tgid = key.tgid;
		t->tid = key.tid;
		/* The live name (it changes at exec), else the one the
		 * kernel saw at the first event: the thread may be gone. */
		vs_task_comm(t->tgid, t->tid, t->comm, sizeof(t->comm));
		for (c = 0; c < ncpu; c++) {
			struct vs_thread_val *v = (void *)(buf + c * stride);

			thread_val_add(&t->c, v);
			if (!t->comm[0] && v->comm[0])
				memcpy(t->comm, v->comm, sizeof(t->comm) - 1);
		}
	}
	free(buf);
	return 0;
}

static int read_exits(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	int fd = bpf_map__fd(p->skel->maps.exits), c;
	struct vs_exit_key key, next;
	uint64_t *vals;
	unsigned int cap = 0;
	bool have = false;

	vals = calloc(p->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, have ? &key : NULL, &next)) {
		struct vs_probe_exit *e;

		key = next;
		have = true;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		if (s->n_exits == cap) {
			struct vs_probe_exit *ne;

			cap = cap ? cap * 2 : 32;
			ne = realloc(s->exits, cap * sizeof(*ne));
			if (!ne) {
				free(vals);
				return -ENOMEM;
			}
			s->exits = ne;
		}
		e = &s->exits[s->n_exits++];
		memset(e, 0, sizeof(*e));
		e->tgid = key.tgid;
		e->tid = key.tid;
		e->isa = key.isa;
		e->reason = key.reason;
		for (c = 0; c < p->ncpus; c++)
			e->count += vals[c];
	}
	free(vals);
	return 0;
}

static int read_pairs(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	int fd = bpf_map__fd(p->skel->maps.pairs), c;
	size_t stride = percpu_stride(sizeof(struct vs_pair_val));
	struct vs_pair_key key, next;
	unsigned int cap = 0;
	bool have = false;
	char *buf;

	buf = calloc(p->ncpus, stride);
	if (!buf)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, have ? &key : NULL, &next)) {
		struct vs_probe_pair *pr;

		key = next;
		have = true;
		if (bpf_map_lookup_elem(fd, &key, buf))
			continue;
		if (s->n_pairs == cap) {
			struct vs_probe_pair *np;

			cap = cap ? cap * 2 : 64;
			np = realloc(s->pairs, cap * sizeof(*np));
			if (!np) {
				free(buf);
				return -ENOMEM;
			}
			s->pairs = np;
		}
		pr = &s->pairs[s->n_pairs++];
		memset(pr, 0, sizeof(*pr));
		pr->waker_tgid = key.waker_tgid;
		pr->waker_tid = key.waker_tid;
		pr->wakee_tgid = key.wakee_tgid;
		pr->wakee_tid = key.wakee_tid;
		for (c = 0; c < p->ncpus; c++) {
			struct vs_pair_val *v = (void *)(buf + c * stride);

			if (!pr->waker_comm[0] && v->waker_comm[0])
				memcpy(pr->waker_comm, v->waker_comm,
				       sizeof(pr->waker_comm) - 1);
			if (!pr->wakee_comm[0] && v->wakee_comm[0])
				memcpy(pr->wakee_comm, v->wakee_comm,
				       sizeof(pr->wakee_comm) - 1);

			pr->count += v->count;
			pr->sum_ns += v->sum_ns;
			hist_add_u32(&pr->lat, v->hist);
		}
		/* 0: interrupt context (timer, IRQ, softirq) or the idle task */
		if (!pr->waker_tid)
			snprintf(pr->waker_comm, sizeof(pr->waker_comm), "irq");
	}
	free(buf);
	return 0;
}

/* ---- perf_event_open fallback -------------------------------------------- */

static int perf_open_one(struct vs_probe *p, uint64_t id, int cpu, int ctr,
			 const char *filter)
{
	struct perf_event_attr attr;
	struct perf_counter *pc;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = id;
	attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
			   PERF_FORMAT_TOTAL_TIME_RUNNING;
	fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1,
			  PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (filter && ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter)) {
		int err = -errno;

		close(fd);
		return err;
	}
	pc = realloc(p->pc, (p->n_pc + 1) * sizeof(*pc));
	if (!pc) {
		close(fd);
		return -ENOMEM;
	}
	p->pc = pc;
	pc[p->n_pc].fd = fd;
	pc[p->n_pc].ctr = ctr;
	p->n_pc++;
	return 0;
}

static int perf_open(struct vs_probe *p)
{
	unsigned int i, used = 0;
	char path[PATH_MAX], name[64], why[96];
	int err, cpu;

	err = ensure_tracefs();
	if (err < 0) {
		add_source(p, "tracefs", "perf", err, "not mounted; mount refused");
		return err;
	}
	for (i = 0; i < N_TPS; i++) {
		const struct vs_tp *t = &vs_tps[i];
		uint64_t id;
		int opened = 0, fail = 0;

		if (!(p->opts.flags & t->flag))
			continue;
		snprintf(name, sizeof(name), "%s:%s", t->sys, t->name);
		if (t->perf_ctr < 0) {
			add_source(p, name, "perf", -EOPNOTSUPP,
				   t->flag == VS_PROBE_KVM ?
				   "kworker attribution needs BPF" :
				   "timing needs BPF");
			continue;
		}
		snprintf(path, sizeof(path), TRACEFS "/events/%s/%s/id",
			 t->sys, t->name);
		err = vs_read_u64(path, &id);
		if (err) {
			add_source(p, name, "perf", err, "no tracefs id");
			continue;
		}
		for (cpu = 0; cpu < p->ncpus; cpu++) {
			err = perf_open_one(p, id, cpu, t->perf_ctr, t->perf_filter);
			if (!err && t->perf_filter2)
				err = perf_open_one(p, id, cpu, t->perf_ctr2,
						    t->perf_filter2);
			if (err == -ENODEV)	/* offline CPU */
				continue;
			if (err) {
				fail = err;
				break;
			}
			opened++;
		}
		if (fail || !opened) {
			snprintf(why, sizeof(why), "perf_event_open: %s",
				 strerror(fail ? -fail : ENODEV));
			add_source(p, name, "perf", fail ? fail : -ENODEV, why);
			continue;
		}
		add_source(p, name, "perf", 0, "host-wide count, not per VM");
		used++;
	}
	return used ? 0 : -ENOENT;
}

static int perf_read(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	struct vs_probe_vm *vm;
	double worst = 1.0;
	unsigned int i;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	snprintf(vm->comm, sizeof(vm->comm), "host");
	vm->alive = true;
	for (i = 0; i < p->n_pc; i++) {
		uint64_t v[3];	/* value, time enabled, time running */
		double scaled;

		if (read(p->pc[i].fd, v, sizeof(v)) != sizeof(v))
			continue;
		scaled = (double)v[0];
		if (v[2] && v[2] < v[1]) {
			/* Multiplexed: scale like perf stat and say so. */
			scaled = scaled * (double)v[1] / (double)v[2];
			if ((double)v[2] / (double)v[1] < worst)
				worst = (double)v[2] / (double)v[1];
		}
		vm->c.ctr[p->pc[i].ctr] += (uint64_t)llround(scaled);
	}
	s->vms = vm;
	s->n_vms = 1;
	s->perf_running_ratio = worst;
	return 0;
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
	mounted = ensure_tracefs();
	probe_debugfs(p);

	if (p->opts.attach != VS_ATTACH_PERF) {
		err = bpf_open(p);
		if (!err) {
			p->backend = VS_PROBE_BPF;
			goto done;
		}
		add_source(p, "BPF", "bpf", err, "load or attach refused");
		if (p->opts.attach != VS_ATTACH_AUTO)
			goto err_free;
	}
	err = perf_open(p);
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

	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, pids, n * sizeof(*copy));
	}
	free(p->pids);
	p->pids = copy;
	p->n_pids = n;
	if (p->skel)
		return bpf_targets_fill(p);
	return 0;
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

int vs_probe_read(struct vs_probe *p, struct vs_probe_snapshot *s)
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
		return perf_read(p, s);
	err = read_threads(p, s);
	if (!err)
		err = read_exits(p, s);
	if (!err)
		err = read_pairs(p, s);
	if (!err)
		err = build_vms(p, s);
	if (err)
		vs_probe_snapshot_free(s);
	return err;
}

void vs_probe_snapshot_free(struct vs_probe_snapshot *s)
{
	free(s->vms);
	free(s->threads);
	free(s->exits);
	free(s->pairs);
	s->vms = NULL;
	s->threads = NULL;
	s->exits = NULL;
	s->pairs = NULL;
	s->n_vms = s->n_threads = s->n_exits = s->n_pairs = 0;
}

void vs_probe_close(struct vs_probe *p)
{
	unsigned int i;

	if (!p)
		return;
	if (p->skel)
		bpf_detach(p);
	for (i = 0; i < p->n_pc; i++)
		close(p->pc[i].fd);
	free(p->pc);
	free(p->pids);
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

int vs_probe_prog_stats(struct vs_probe *p, struct vs_probe_prog_stats *out,
			unsigned int max, unsigned int *n)
{
	unsigned int i, cnt = 0;

	*n = 0;
	if (!p->skel)
		return -EOPNOTSUPP;
	for (i = 0; i < N_TPS && cnt < max; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		if (!p->links[i])
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p->progs[i]), &info,
					   &len))
			return -errno;
		snprintf(out[cnt].name, sizeof(out[cnt].name), "%s", info.name);
		snprintf(out[cnt].tp, sizeof(out[cnt].tp), "%s:%s",
			 vs_tps[i].sys, vs_tps[i].name);
		out[cnt].run_cnt = info.run_cnt;
		out[cnt].run_time_ns = info.run_time_ns;
		cnt++;
	}
	*n = cnt;
	return 0;
}

/* ---- snapshot helpers -------------------------------------------------- */

void vs_counters_sub(struct vs_counters *out, const struct vs_counters *a,
		     const struct vs_counters *b)
{
	unsigned int i, j;

	for (i = 0; i < VS_NR_CTR; i++)
		out->ctr[i] = a->ctr[i] - b->ctr[i];
	for (i = 0; i < VS_NR_SUM; i++)
		out->sum[i] = a->sum[i] - b->sum[i];
	for (i = 0; i < VS_UEXIT_SLOTS; i++)
		out->uexit[i] = a->uexit[i] - b->uexit[i];
	for (i = 0; i < VS_NR_HIST; i++)
		for (j = 0; j < VS_HIST_SLOTS; j++)
			out->hist[i].slot[j] = a->hist[i].slot[j] -
					       b->hist[i].slot[j];
	out->halt_poll_ns = a->halt_poll_ns;
}

void vs_counters_add(struct vs_counters *acc, const struct vs_counters *c)
{
	unsigned int i, j;

	for (i = 0; i < VS_NR_CTR; i++)
		acc->ctr[i] += c->ctr[i];
	for (i = 0; i < VS_NR_SUM; i++)
		acc->sum[i] += c->sum[i];
	for (i = 0; i < VS_UEXIT_SLOTS; i++)
		acc->uexit[i] += c->uexit[i];
	for (i = 0; i < VS_NR_HIST; i++)
		for (j = 0; j < VS_HIST_SLOTS; j++)
			acc->hist[i].slot[j] += c->hist[i].slot[j];
	if (c->halt_poll_ns)
		acc->halt_poll_ns = c->halt_poll_ns;
}

uint64_t vs_hist_total(const struct vs_hist *h)
{
	uint64_t t = 0;
	unsigned int i;

	for (i = 0; i < VS_HIST_SLOTS; i++)
		t += h->slot[i];
	return t;
}

double vs_hist_quantile(const struct vs_hist *h, double q)
{
	uint64_t total = vs_hist_total(h), acc = 0;
	double rank;
	unsigned int i;

	if (!total)
		return NAN;
	rank = q * (double)total;
	for (i = 0; i < VS_HIST_SLOTS; i++) {
		double lo, hi;

		if (!h->slot[i] || (double)(acc + h->slot[i]) < rank) {
			acc += h->slot[i];
			continue;
		}
		if (i == 0)
			return 0.0;
		lo = ldexp(1.0, (int)i - 1);
		hi = ldexp(1.0, (int)i);
		return lo + (hi - lo) * (rank - (double)acc) / (double)h->slot[i];
	}
	return ldexp(1.0, VS_HIST_SLOTS - 1);
}

uint64_t vs_counters_kicks(const struct vs_counters *c)
{
	return c->ctr[VS_KICK_PIO] + c->ctr[VS_KICK_MMIO] +
	       c->ctr[VS_KICK_FAST_MMIO];
}

uint64_t vs_counters_irqs(const struct vs_counters *c)
{
	return c->ctr[VS_IRQ_SET] + c->ctr[VS_IRQ_MSI];
}

const char *vs_ctr_name(enum vs_ctr c)
{
	static const char *const names[VS_NR_CTR] = {
		[VS_KICK_PIO] = "kicks_pio",
		[VS_KICK_MMIO] = "kicks_mmio",
		[VS_KICK_FAST_MMIO] = "kicks_fast_mmio",
		[VS_PIO_IN] = "pio_in",
		[VS_IRQ_SET] = "irqs_set_irq",
		[VS_IRQ_MSI] = "irqs_msi",
		[VS_IRQ_APIC_ACCEPT] = "irqs_apic_accept",
		[VS_EXIT] = "exits",
		[VS_UEXIT] = "userspace_exits",
		[VS_HALT_POLLED] = "halts_polled",
		[VS_HALT_WAITED] = "halts_waited",
		[VS_HALT_INVALID] = "halts_invalid",
		[VS_HALT_GROW] = "halt_poll_grow",
		[VS_HALT_SHRINK] = "halt_poll_shrink",
		[VS_WAKEUP] = "wakeups",
		[VS_SLEEP] = "sleeps",
	};

	return (unsigned int)c < VS_NR_CTR ? names[c] : "?";
}

const char *vs_uexit_name(unsigned int slot)
{
	/* KVM_EXIT_* numbers from <linux/kvm.h> */
	static const char *const names[] = {
		"UNKNOWN", "EXCEPTION", "IO", "HYPERCALL", "DEBUG", "HLT",
		"MMIO", "IRQ_WINDOW_OPEN", "SHUTDOWN", "FAIL_ENTRY", "INTR",
		"SET_TPR", "TPR_ACCESS", "S390_SIEIC", "S390_RESET", "DCR",
		"NMI", "INTERNAL_ERROR", "OSI", "PAPR_HCALL", "S390_UCONTROL",
		"WATCHDOG", "S390_TSCH", "EPR", "SYSTEM_EVENT", "S390_STSI",
		"IOAPIC_EOI", "HYPERV", "ARM_NISV", "X86_RDMSR",
	};

	if (slot < sizeof(names) / sizeof(names[0]))
		return names[slot];
	if (slot == VS_UEXIT_ERRNO)
		return "ERRNO";
	return "OTHER";
}
