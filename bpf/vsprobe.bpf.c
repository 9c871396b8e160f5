// SPDX-License-Identifier: GPL-2.0
/*
 * virtsync probes: kicks, injected interrupts, exits, halts, wake-up latency
 * (with the waker) and sleeps, charged to (process, thread) in per-CPU hash
 * maps. Each event has a tp_btf program and a raw_tp twin; userspace turns
 * one of them off with bpf_program__set_autoload() (the libbpf-tools
 * probe_tp_btf() pattern). kvm_exit and the syscall tracepoints only exist
 * as classic tracepoints with the fields we need: the raw arguments of
 * kvm_exit are (vcpu, isa) and the reason sits in vendor-private structs.
 * kvm_entry is classic too, to pair with kvm_exit in the same clock.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vsprobe.h"

#define KVM_TRACE_MMIO_WRITE	2
#define TIMER_ABSTIME		1
#define CLOCK_MONOTONIC		1

/* Only processes in `targets` are charged; false counts every process. */
const volatile bool targ_filter = true;
/* Address of irqfd_inject (from /proc/kallsyms), 0 = unknown: lets the
 * kworker that injects an irqfd interrupt be charged to its VM. */
const volatile __u64 targ_irqfd_inject = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

/* Per-CPU values of ~1.2 KB: preallocating max_entries of them for every
 * possible CPU would take tens of MB on a large host, so entries are
 * allocated as threads show up (bpf_mem_alloc, safe in tracing context). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);	/* resized by userspace before load */
	__type(key, struct vs_thread_key);
	__type(value, struct vs_thread_val);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct vs_exit_key);
	__type(value, __u64);
} exits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, struct vs_pair_key);
	__type(value, struct vs_pair_val);
} pairs SEC(".maps");

/* Never written: the zeroed source for first inserts (values are too large
 * for the 512-byte BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_thread_val);
} zero_thread SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_pair_val);
} zero_pair SEC(".maps");

/* Pending wake-ups and sleeps are deleted when they complete, so a plain
 * hash does: cheaper than an LRU one on sched_switch, which fires for every
 * context switch of the host. A full map only loses samples. */
struct wake_start {
	__u64 ts;
	__u32 waker_tgid, waker_tid;
	char waker_comm[VS_TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);		/* wakee tid */
	__type(value, struct wake_start);
} wake_start SEC(".maps");

/* When each target thread last gave up its CPU of its own accord (tid ->
 * ns): the start of the wait that its next sched_waking ends. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} wait_start SEC(".maps");

struct sleep_start {
	__u64 ts;
	__u64 asked;			/* ~0: not known (absolute, other clock) */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct sleep_start);
} sleep_start SEC(".maps");

/* VM (tgid) a kworker (tid) is injecting for while it runs irqfd_inject;
 * the tid guards against another task running on this CPU meanwhile. */
struct inject_ctx {
	__u32 tid, tgid;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct inject_ctx);
} inject_for SEC(".maps");

/*
 * Depth of interrupt-context work on this CPU (hrtimer expiry, device IRQ
 * handlers, softirqs), so that a wake-up done there is charged to "irq"
 * rather than to whichever task the interrupt happened to hit. IPIs are not
 * covered (no tracepoint); x86's __preempt_count would be exact but is not
 * in every kernel's kallsyms.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} irq_depth SEC(".maps");

/* The exit each vCPU thread is in (bpf/exitlat.h): kvm_exit fills it,
 * the next kvm_entry of the thread closes it. Keyed by tid, not per CPU: a
 * vCPU thread may migrate while it is out of the guest (halted). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct vs_exit_pending);
} exit_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct vs_exitlat_key);
	__type(value, struct vs_exitlat_val);
} exitlat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_exitlat_val);
} zero_exitlat SEC(".maps");

/* Kick writes per (VM, space, address, value): vsprobe.h. A plain hash
 * counted atomically: the few addresses a VM kicks are shared by its vCPU
 * threads, and a full map only loses per-address counts (the per-thread
 * counters above still have every kick). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VS_KICK_ADDRS_MAX);
	__type(key, struct vs_kick_key);
	__type(value, __u64);
} kick_addrs SEC(".maps");

/* mm of a VM process -> its tgid, learnt in vCPU context. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u32);
} mm_tgid SEC(".maps");

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	/* Branch-free enough for the verifier; runs at most 6 shifts. */
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

static __always_inline __u32 slot_of(__u64 ns)
{
	__u32 s = ns ? log2_u64(ns) + 1 : 0;

	return s < MAX_SLOTS ? s : MAX_SLOTS - 1;
}

static __always_inline bool is_target(__u32 tgid)
{
	return !targ_filter || bpf_map_lookup_elem(&targets, &tgid);
}

/* The counters of (tgid, tid), created on first use; `task` names the
 * thread (NULL: current). */
static __always_inline struct vs_thread_val *
thread_val(__u32 tgid, __u32 tid, struct task_struct *task)
{
	struct vs_thread_key key = { .tgid = tgid, .tid = tid };
	struct vs_thread_val *v;
	__u32 zero = 0;

	v = bpf_map_lookup_elem(&threads, &key);
	if (v)
		return v;
	v = bpf_map_lookup_elem(&zero_thread, &zero);
	if (!v)
		return NULL;
	bpf_map_update_elem(&threads, &key, v, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&threads, &key);
	if (!v)
		return NULL;
	if (task)
		bpf_probe_read_kernel_str(v->comm, sizeof(v->comm), task->comm);
	else
		bpf_get_current_comm(v->comm, sizeof(v->comm));
	return v;
}

/*
 * The thread charged for a KVM event: current, in its own process, unless
 * current is a kworker running irqfd_inject for a VM. A thread already in
 * the map was a target when it got there: one hash lookup on the hot path
 * (userspace drops rows of processes that are no longer targets).
 */
static __always_inline struct vs_thread_val *kvm_event_val(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, zero = 0;
	struct vs_thread_key key = { .tgid = tgid, .tid = tid };
	struct vs_thread_val *v;
	struct inject_ctx *ic;

	v = bpf_map_lookup_elem(&threads, &key);
	if (v)
		return v;
	if (!is_target(tgid)) {
		ic = bpf_map_lookup_elem(&inject_for, &zero);
		if (!ic || ic->tid != tid || !ic->tgid || !is_target(ic->tgid))
			return NULL;
		tgid = ic->tgid;
	}
	return thread_val(tgid, tid, NULL);
}

static __always_inline void learn_mm(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u64 mm = (__u64)BPF_CORE_READ(task, mm);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (mm && !bpf_map_lookup_elem(&mm_tgid, &mm))
		bpf_map_update_elem(&mm_tgid, &mm, &tgid, BPF_ANY);
}

/* ---- handlers shared by the tp_btf and raw_tp programs ---------------- */

/* Count one kick write at its address, charged to the current process
 * (kicks happen in vCPU context, where kvm_event_val() charged it too). */
static __always_inline void count_kick_addr(__u32 space, __u64 addr, __u64 value)
{
	struct vs_kick_key k = {
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.space = space,
		.addr = addr,
		.value = value < VS_KICK_VALUE_MAX ? value : VS_KICK_VALUE_ANY,
	};
	__u64 one = 1, *n;

	n = bpf_map_lookup_elem(&kick_addrs, &k);
	if (n) {
		__sync_fetch_and_add(n, 1);
		return;
	}
	/* first write there; another CPU may have raced us to insert it */
	if (!bpf_map_update_elem(&kick_addrs, &k, &one, BPF_NOEXIST))
		return;
	n = bpf_map_lookup_elem(&kick_addrs, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* The value a write carried: `size` bytes at `data` (KVM's copy of what
 * the guest wrote); VS_KICK_VALUE_ANY when it cannot be read. */
static __always_inline __u64 written_value(const void *data, unsigned int size)
{
	__u8 b;
	__u16 w;
	__u32 l;
	__u64 q;

	if (!data)
		return VS_KICK_VALUE_ANY;
	switch (size) {
	case 1:
		return bpf_probe_read_kernel(&b, 1, data) ? VS_KICK_VALUE_ANY : b;
	case 2:
		return bpf_probe_read_kernel(&w, 2, data) ? VS_KICK_VALUE_ANY : w;
	case 4:
		return bpf_probe_read_kernel(&l, 4, data) ? VS_KICK_VALUE_ANY : l;
	case 8:
		return bpf_probe_read_kernel(&q, 8, data) ? VS_KICK_VALUE_ANY : q;
	}
	return VS_KICK_VALUE_ANY;
}

/* kvm_pio(rw, port, size, count, data): with count > 1 (a rep outs) the
 * first element is the value, as the tracepoint itself records it. */
static __always_inline int on_pio(unsigned int rw, unsigned int port,
				  unsigned int size, const void *data)
{
	struct vs_thread_val *v = kvm_event_val();

	if (!v)
		return 0;
	v->ctr[rw ? VS_KICK_PIO : VS_PIO_IN]++;
	if (rw)
		count_kick_addr(VS_KICK_SPACE_PIO, port, written_value(data, size));
	return 0;
}

/* kvm_mmio(type, len, gpa, val): val points at the bytes written (as in
 * this kernel's BTF; a kernel that passed the value itself would fail the
 * read, and the value would be unknown, not wrong). */
static __always_inline int on_mmio(int type, int len, __u64 gpa, const void *val)
{
	struct vs_thread_val *v;

	if (type != KVM_TRACE_MMIO_WRITE)
		return 0;
	v = kvm_event_val();
	if (!v)
		return 0;
	v->ctr[VS_KICK_MMIO]++;
	count_kick_addr(VS_KICK_SPACE_MMIO, gpa, written_value(val, (unsigned int)len));
	return 0;
}

/* kvm_fast_mmio(gpa): an ioeventfd matched on an EPT misconfiguration,
 * before anything decoded the write: no value. */
static __always_inline int on_fast_mmio(__u64 gpa)
{
	struct vs_thread_val *v = kvm_event_val();

	if (!v)
		return 0;
	v->ctr[VS_KICK_FAST_MMIO]++;
	count_kick_addr(VS_KICK_SPACE_MMIO, gpa, VS_KICK_VALUE_ANY);
	return 0;
}

static __always_inline int on_ctr(enum vs_ctr c)
{
	struct vs_thread_val *v = kvm_event_val();

	if (v)
		v->ctr[c]++;
	return 0;
}

static __always_inline int on_userspace_exit(__u32 reason, int err)
{
	struct vs_thread_val *v = kvm_event_val();
	__u32 slot;

	if (!v)
		return 0;
	learn_mm();
	slot = err < 0 ? VS_UEXIT_ERRNO :
	       reason < VS_UEXIT_OTHER ? reason : VS_UEXIT_OTHER;
	v->ctr[VS_UEXIT]++;
	if (slot < VS_UEXIT_SLOTS)
		v->uexit[slot]++;
	return 0;
}

static __always_inline int on_vcpu_wakeup(__u64 ns, bool waited, bool valid)
{
	struct vs_thread_val *v = kvm_event_val();
	__u32 s = slot_of(ns);

	if (!v)
		return 0;
	learn_mm();
	if (waited) {
		v->ctr[VS_HALT_WAITED]++;
		v->sum[VS_SUM_HALT_WAITED_NS] += ns;
		v->hist[VS_HIST_HALT_WAITED][s]++;
	} else {
		v->ctr[VS_HALT_POLLED]++;
		v->sum[VS_SUM_HALT_POLLED_NS] += ns;
		v->hist[VS_HIST_HALT_POLLED][s]++;
	}
	if (!valid)
		v->ctr[VS_HALT_INVALID]++;
	return 0;
}

static __always_inline int on_halt_poll_ns(bool grow, unsigned int new_ns)
{
	struct vs_thread_val *v = kvm_event_val();

	if (!v)
		return 0;
	v->ctr[grow ? VS_HALT_GROW : VS_HALT_SHRINK]++;
	v->halt_poll_ns = new_ns;
	return 0;
}

static __always_inline int irq_enter(void)
{
	__u32 zero = 0, *d = bpf_map_lookup_elem(&irq_depth, &zero);

	if (d)
		(*d)++;
	return 0;
}

static __always_inline int irq_exit(void)
{
	__u32 zero = 0, *d = bpf_map_lookup_elem(&irq_depth, &zero);

	if (d && *d)
		(*d)--;
	return 0;
}

static __always_inline bool in_irq_work(void)
{
	__u32 zero = 0, *d = bpf_map_lookup_elem(&irq_depth, &zero);

	return d && *d;
}

static __always_inline int on_wakeup(__u32 tgid, __u32 tid)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct wake_start ws = {
		.ts = bpf_ktime_get_ns(),
		.waker_tgid = id >> 32,
		.waker_tid = (__u32)id,
	};

	if (!tid || !is_target(tgid))
		return 0;
	if (in_irq_work()) {
		ws.waker_tgid = ws.waker_tid = 0;	/* userspace names it "irq" */
		bpf_map_update_elem(&wake_start, &tid, &ws, BPF_ANY);
		return 0;
	}
	bpf_get_current_comm(ws.waker_comm, sizeof(ws.waker_comm));
	bpf_map_update_elem(&wake_start, &tid, &ws, BPF_ANY);
	return 0;
}

static __always_inline int on_switch_in(__u32 tgid, __u32 tid,
					struct task_struct *next)
{
	struct vs_pair_key pk;
	struct vs_pair_val *pv;
	struct vs_thread_val *v;
	struct wake_start *ws;
	__u64 *ws_out = NULL;
	__u32 zero = 0, s;
	__u64 delta;

	ws = bpf_map_lookup_elem(&wake_start, &tid);
	if (!ws)
		return 0;
	delta = bpf_ktime_get_ns() - ws->ts;
	s = slot_of(delta);
	pk.waker_tgid = ws->waker_tgid;
	pk.waker_tid = ws->waker_tid;
	pk.wakee_tgid = tgid;
	pk.wakee_tid = tid;

	v = thread_val(tgid, tid, next);
	if (v) {
		v->ctr[VS_WAKEUP]++;
		v->sum[VS_SUM_WAKEUP_NS] += delta;
		v->hist[VS_HIST_WAKEUP][s]++;
		/* The wait this wake-up ended, charged here rather than at
		 * sched_waking so that the wakee's entry grows on its own CPU
		 * (the per-CPU copies say where a thread runs). */
		ws_out = bpf_map_lookup_elem(&wait_start, &tid);
		if (ws_out && *ws_out <= ws->ts) {
			__u64 w = ws->ts - *ws_out;

			v->ctr[VS_WAIT]++;
			v->sum[VS_SUM_WAIT_NS] += w;
			v->hist[VS_HIST_WAIT][slot_of(w)]++;
		}
	}
	if (ws_out)
		bpf_map_delete_elem(&wait_start, &tid);
	pv = bpf_map_lookup_elem(&pairs, &pk);
	if (!pv) {
		pv = bpf_map_lookup_elem(&zero_pair, &zero);
		if (!pv)
			goto out;
		bpf_map_update_elem(&pairs, &pk, pv, BPF_NOEXIST);
		pv = bpf_map_lookup_elem(&pairs, &pk);
		if (!pv)
			goto out;
		__builtin_memcpy(pv->waker_comm, ws->waker_comm,
				 sizeof(pv->waker_comm));
		bpf_probe_read_kernel_str(pv->wakee_comm, sizeof(pv->wakee_comm),
					  next->comm);
	}
	pv->count++;
	pv->sum_ns += delta;
	pv->hist[s]++;
out:
	bpf_map_delete_elem(&wake_start, &tid);
	return 0;
}

/*
 * prev leaves its CPU. Not preempted: it blocks (QEMU's iothread in ppoll
 * after its poll window ran out), and the wait that starts here ends at
 * the sched_waking of whoever has work for it: the lengths a poll window
 * would have to cover (docs/hybrid.md, "Picking P").
 */
static __always_inline int on_switch_out(bool preempt, __u32 tgid, __u32 tid)
{
	__u64 now;

	if (preempt || !tid || !is_target(tgid))
		return 0;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&wait_start, &tid, &now, BPF_ANY);
	return 0;
}

static __always_inline int on_work_start(struct work_struct *work, __u64 func)
{
	struct inject_ctx ic = { .tid = (__u32)bpf_get_current_pid_tgid() };
	struct kvm_kernel_irqfd *irqfd;
	__u32 zero = 0, *known;
	struct kvm *kvm;
	__u64 mm;

	if (targ_irqfd_inject && func == targ_irqfd_inject) {
		irqfd = (void *)((char *)work -
			bpf_core_field_offset(struct kvm_kernel_irqfd, inject));
		kvm = BPF_CORE_READ(irqfd, kvm);
		mm = (__u64)BPF_CORE_READ(kvm, mm);
		known = bpf_map_lookup_elem(&mm_tgid, &mm);
		/* userspace_pid is the creating thread's id: the tgid when
		 * the main thread created the VM, as QEMU and kvmtool do. */
		ic.tgid = known ? *known : BPF_CORE_READ(kvm, userspace_pid);
	}
	bpf_map_update_elem(&inject_for, &zero, &ic, BPF_ANY);
	return 0;
}

static __always_inline int on_work_end(void)
{
	struct inject_ctx none = {};
	__u32 zero = 0;

	bpf_map_update_elem(&inject_for, &zero, &none, BPF_ANY);
	return 0;
}

/* ---- tp_btf programs (plain field access) ----------------------------- */

SEC("tp_btf/kvm_pio")
int BPF_PROG(vs_pio_btf, unsigned int rw, unsigned int port, unsigned int size,
	     unsigned int count, const void *data)
{
	return on_pio(rw, port, size, data);
}

SEC("tp_btf/kvm_mmio")
int BPF_PROG(vs_mmio_btf, int type, int len, u64 gpa, void *val)
{
	return on_mmio(type, len, gpa, val);
}

SEC("tp_btf/kvm_fast_mmio")
int BPF_PROG(vs_fmmio_btf, u64 gpa)
{
	return on_fast_mmio(gpa);
}

SEC("tp_btf/kvm_set_irq")
int BPF_PROG(vs_setirq_btf, unsigned int gsi, int level)
{
	return level ? on_ctr(VS_IRQ_SET) : 0;
}

SEC("tp_btf/kvm_msi_set_irq")
int BPF_PROG(vs_msi_btf)
{
	return on_ctr(VS_IRQ_MSI);
}

SEC("tp_btf/kvm_apic_accept_irq")
int BPF_PROG(vs_apic_btf)
{
	return on_ctr(VS_IRQ_APIC_ACCEPT);
}

SEC("tp_btf/kvm_userspace_exit")
int BPF_PROG(vs_uexit_btf, __u32 reason, int err)
{
	return on_userspace_exit(reason, err);
}

SEC("tp_btf/kvm_vcpu_wakeup")
int BPF_PROG(vs_wake_btf, __u64 ns, bool waited, bool valid)
{
	return on_vcpu_wakeup(ns, waited, valid);
}

SEC("tp_btf/kvm_halt_poll_ns")
int BPF_PROG(vs_hpns_btf, bool grow, unsigned int vcpu_id, unsigned int new_ns)
{
	return on_halt_poll_ns(grow, new_ns);
}

/*
 * sched_waking, not sched_wakeup: it fires at the start of try_to_wake_up()
 * in the waker's context. sched_wakeup can fire later on the wakee's CPU,
 * from the IPI that drains a remote wake list, where current is unrelated.
 */
SEC("tp_btf/sched_waking")
int BPF_PROG(vs_swake_btf, struct task_struct *p)
{
	return on_wakeup(p->tgid, p->pid);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(vs_swnew_btf, struct task_struct *p)
{
	return on_wakeup(p->tgid, p->pid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(vs_sswitch_btf, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	on_switch_out(preempt, prev->tgid, prev->pid);
	return on_switch_in(next->tgid, next->pid, next);
}

SEC("tp_btf/workqueue_execute_start")
int BPF_PROG(vs_wqs_btf, struct work_struct *work)
{
	return on_work_start(work, (__u64)work->func);
}

SEC("tp_btf/workqueue_execute_end")
int BPF_PROG(vs_wqe_btf)
{
	return on_work_end();
}

SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(vs_hrte_btf)
{
	return irq_enter();
}

SEC("tp_btf/hrtimer_expire_exit")
int BPF_PROG(vs_hrtx_btf)
{
	return irq_exit();
}

SEC("tp_btf/irq_handler_entry")
int BPF_PROG(vs_irqe_btf)
{
	return irq_enter();
}

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(vs_irqx_btf)
{
	return irq_exit();
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(vs_sirqe_btf)
{
	return irq_enter();
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(vs_sirqx_btf)
{
	return irq_exit();
}

/* ---- raw_tp twins (CO-RE reads) --------------------------------------- */

SEC("raw_tp/kvm_pio")
int BPF_PROG(vs_pio_raw, unsigned int rw, unsigned int port, unsigned int size,
	     unsigned int count, const void *data)
{
	return on_pio(rw, port, size, data);
}

SEC("raw_tp/kvm_mmio")
int BPF_PROG(vs_mmio_raw, int type, int len, u64 gpa, void *val)
{
	return on_mmio(type, len, gpa, val);
}

SEC("raw_tp/kvm_fast_mmio")
int BPF_PROG(vs_fmmio_raw, u64 gpa)
{
	return on_fast_mmio(gpa);
}

SEC("raw_tp/kvm_set_irq")
int BPF_PROG(vs_setirq_raw, unsigned int gsi, int level)
{
	return level ? on_ctr(VS_IRQ_SET) : 0;
}

SEC("raw_tp/kvm_msi_set_irq")
int BPF_PROG(vs_msi_raw)
{
	return on_ctr(VS_IRQ_MSI);
}

SEC("raw_tp/kvm_apic_accept_irq")
int BPF_PROG(vs_apic_raw)
{
	return on_ctr(VS_IRQ_APIC_ACCEPT);
}

SEC("raw_tp/kvm_userspace_exit")
int BPF_PROG(vs_uexit_raw, __u32 reason, int err)
{
	return on_userspace_exit(reason, err);
}

SEC("raw_tp/kvm_vcpu_wakeup")
int BPF_PROG(vs_wake_raw, __u64 ns, bool waited, bool valid)
{
	return on_vcpu_wakeup(ns, waited, valid);
}

SEC("raw_tp/kvm_halt_poll_ns")
int BPF_PROG(vs_hpns_raw, bool grow, unsigned int vcpu_id, unsigned int new_ns)
{
	return on_halt_poll_ns(grow, new_ns);
}

SEC("raw_tp/sched_waking")
int BPF_PROG(vs_swake_raw, struct task_struct *p)
{
	return on_wakeup(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(vs_swnew_raw, struct task_struct *p)
{
	return on_wakeup(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("raw_tp/sched_switch")
int BPF_PROG(vs_sswitch_raw, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	on_switch_out(preempt, BPF_CORE_READ(prev, tgid), BPF_CORE_READ(prev, pid));
	return on_switch_in(BPF_CORE_READ(next, tgid), BPF_CORE_READ(next, pid),
			    next);
}

SEC("raw_tp/workqueue_execute_start")
int BPF_PROG(vs_wqs_raw, struct work_struct *work)
{
	return on_work_start(work, (__u64)BPF_CORE_READ(work, func));
}

SEC("raw_tp/workqueue_execute_end")
int BPF_PROG(vs_wqe_raw)
{
	return on_work_end();
}

SEC("raw_tp/hrtimer_expire_entry")
int BPF_PROG(vs_hrte_raw)
{
	return irq_enter();
}

SEC("raw_tp/hrtimer_expire_exit")
int BPF_PROG(vs_hrtx_raw)
{
	return irq_exit();
}

SEC("raw_tp/irq_handler_entry")
int BPF_PROG(vs_irqe_raw)
{
	return irq_enter();
}

SEC("raw_tp/irq_handler_exit")
int BPF_PROG(vs_irqx_raw)
{
	return irq_exit();
}

SEC("raw_tp/softirq_entry")
int BPF_PROG(vs_sirqe_raw)
{
	return irq_enter();
}

SEC("raw_tp/softirq_exit")
int BPF_PROG(vs_sirqx_raw)
{
	return irq_exit();
}

/* ---- classic tracepoints: only these carry the fields we need --------- */

SEC("tracepoint/kvm/kvm_exit")
int vs_exit_tp(struct trace_event_raw_kvm_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct vs_exit_key key = {
		.tgid = id >> 32, .tid = (__u32)id,
		.isa = ctx->isa, .reason = ctx->exit_reason,
	};
	struct vs_thread_val *v;
	__u64 one = 1, *cnt;

	struct vs_exit_pending pend;

	if (!is_target(key.tgid))
		return 0;
	v = thread_val(key.tgid, key.tid, NULL);
	if (v)
		v->ctr[VS_EXIT]++;
	cnt = bpf_map_lookup_elem(&exits, &key);
	if (cnt)
		(*cnt)++;
	else
		bpf_map_update_elem(&exits, &key, &one, BPF_NOEXIST);
	vs_exitlat_on_exit(&pend, bpf_ktime_get_ns(), key.isa, key.reason);
	bpf_map_update_elem(&exit_pending, &key.tid, &pend, BPF_ANY);
	return 0;
}

/* The vCPU is back in the guest: the exit it was in cost this long. Only
 * threads kvm_exit saw (targets) have a pending exit. */
SEC("tracepoint/kvm/kvm_entry")
int vs_entry_tp(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	__u32 tid = (__u32)id, zero = 0;
	struct vs_exit_pending *p = bpf_map_lookup_elem(&exit_pending, &tid);
	struct vs_exitlat_key key = { .tgid = id >> 32 };
	struct vs_exitlat_val *v;

	if (!p)
		return 0;
	key.isa = p->isa;
	key.reason = p->reason;
	v = bpf_map_lookup_elem(&exitlat, &key);
	if (!v) {
		v = bpf_map_lookup_elem(&zero_exitlat, &zero);
		if (v)
			bpf_map_update_elem(&exitlat, &key, v, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&exitlat, &key);
	}
	if (v)
		vs_exitlat_on_entry(p, now, v);
	bpf_map_delete_elem(&exit_pending, &tid);
	return 0;
}

static __always_inline int sleep_enter(const void *rqtp, __u64 flags,
				       __u64 clock)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct sleep_start st = { .ts = bpf_ktime_get_ns(), .asked = ~0ULL };
	struct __kernel_timespec ts;
	__u32 tid = (__u32)id;
	__u64 req;

	if (!is_target(id >> 32))
		return 0;
	if (bpf_probe_read_user(&ts, sizeof(ts), rqtp))
		return 0;
	req = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	if (!(flags & TIMER_ABSTIME))
		st.asked = req;
	else if (clock == CLOCK_MONOTONIC)	/* same clock as ktime_get_ns */
		st.asked = req > st.ts ? req - st.ts : 0;
	bpf_map_update_elem(&sleep_start, &tid, &st, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_nanosleep")
int vs_ns_enter(struct trace_event_raw_sys_enter *ctx)
{
	return sleep_enter((const void *)ctx->args[0], 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_clock_nanosleep")
int vs_cns_enter(struct trace_event_raw_sys_enter *ctx)
{
	return sleep_enter((const void *)ctx->args[2], ctx->args[1],
			   ctx->args[0]);
}

static __always_inline int sleep_exit(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct vs_thread_val *v;
	struct sleep_start *st;
	__u64 slept, asked;

	st = bpf_map_lookup_elem(&sleep_start, &tid);
	if (!st)
		return 0;
	slept = bpf_ktime_get_ns() - st->ts;
	asked = st->asked;
	bpf_map_delete_elem(&sleep_start, &tid);
	if (asked == ~0ULL)
		return 0;
	v = thread_val(id >> 32, tid, NULL);
	if (!v)
		return 0;
	v->ctr[VS_SLEEP]++;
	v->sum[VS_SUM_SLEEP_ASKED_NS] += asked;
	v->sum[VS_SUM_SLEEP_SLEPT_NS] += slept;
	v->hist[VS_HIST_SLEEP_OVER][slot_of(slept > asked ? slept - asked : 0)]++;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_nanosleep")
int vs_ns_exit(struct trace_event_raw_sys_exit *ctx)
{
	return sleep_exit();
}

SEC("tracepoint/syscalls/sys_exit_clock_nanosleep")
int vs_cns_exit(struct trace_event_raw_sys_exit *ctx)
{
	return sleep_exit();
}

char LICENSE[] SEC("license") = "GPL";
