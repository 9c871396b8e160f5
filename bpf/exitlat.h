/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VS_BPF_EXITLAT_H
#define VS_BPF_EXITLAT_H

/*
 * Exit cost: the time from kvm:kvm_exit to the next kvm:kvm_entry of the
 * same vCPU thread, per (VM, ISA, reason), as a log2 histogram. The
 * pairing below is the only implementation: bpf/vsprobe.bpf.c runs it on
 * the live tracepoints, lib/sources/exitlat.c on recorded ones (a trace
 * file), so that the path can be tested where kvm_exit never fires.
 * Fixed-width types only; needs MAX_SLOTS (bpf/vsprobe.h) and __u32/__u64.
 *
 * The time includes everything KVM does before it enters the guest again:
 * the handling in the kernel, a userspace exit if there is one, and for
 * HLT the halt itself (the vCPU waits in the kernel until it is woken).
 */

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* The exit a vCPU thread is in, keyed by its tid. */
struct vs_exit_pending {
	__u64 ts;		/* ns, 0: none */
	__u32 isa, reason;
};

struct vs_exitlat_key {
	__u32 tgid;
	__u32 isa;
	__u32 reason;
	__u32 pad;
};

struct vs_exitlat_val {
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;
	__u32 hist[MAX_SLOTS];	/* slot 0: 0 ns, s: [2^(s-1), 2^s) ns */
};

static __always_inline __u32 vs_exitlat_slot(__u64 ns)
{
	__u32 r = 0;

	if (!ns)
		return 0;
	/* Branch-free enough for the verifier: at most 6 shifts. */
	if (ns >> 32) { ns >>= 32; r += 32; }
	if (ns >> 16) { ns >>= 16; r += 16; }
	if (ns >> 8) { ns >>= 8; r += 8; }
	if (ns >> 4) { ns >>= 4; r += 4; }
	if (ns >> 2) { ns >>= 2; r += 2; }
	if (ns >> 1) r += 1;
	r += 1;
	return r < MAX_SLOTS ? r : MAX_SLOTS - 1;
}

/* kvm_exit at ts: the vCPU thread is now in this exit. */
static __always_inline void vs_exitlat_on_exit(struct vs_exit_pending *p, __u64 ts,
					       __u32 isa, __u32 reason)
{
	p->ts = ts;
	p->isa = isa;
	p->reason = reason;
}

/*
 * kvm_entry at ts closes the pending exit into v. Returns 1 when counted,
 * 0 when there was no exit to close (an entry after the probes started,
 * or a clock going backwards across CPUs). The caller then clears p.
 */
static __always_inline int vs_exitlat_on_entry(const struct vs_exit_pending *p, __u64 ts,
					       struct vs_exitlat_val *v)
{
	__u64 d;

	if (!p->ts || ts < p->ts)
		return 0;
	d = ts - p->ts;
	v->count++;
	v->sum_ns += d;
	if (d > v->max_ns)
		v->max_ns = d;
	v->hist[vs_exitlat_slot(d)]++;
	return 1;
}

#endif
