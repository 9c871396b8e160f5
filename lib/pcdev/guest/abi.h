/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_GUEST_ABI_H
#define VS_PCDEV_GUEST_ABI_H

/*
 * Contract between the kvm backend's VMM (lib/pcdev/kvm.c) and its guest
 * payload (lib/pcdev/guest/): the guest-physical memory map, the I/O ports
 * and interrupt vectors, and the control block both sides share. Fixed-width
 * types only: this header compiles into the freestanding guest too.
 *
 * Guest-physical map (identity-mapped with 2 MB pages over the first 1 GB):
 *   0x1000 GDT, 0x2000 IDT (built by the guest), 0x3000 PML4, 0x4000 PDPT,
 *   0x5000 PD, 0x6000 control block, 0x80000-0x100000 stack,
 *   0x100000 payload (entry point at its first byte),
 *   0x200000 virtqueue (ring.h layout), then the item buffers, then (rate
 *   mode) the gap table.
 */

#include <stdint.h>

#define PCDEV_G_GDT		0x1000ull
#define PCDEV_G_IDT		0x2000ull
#define PCDEV_G_PML4		0x3000ull
#define PCDEV_G_PDPT		0x4000ull
#define PCDEV_G_PD		0x5000ull
#define PCDEV_G_CTL		0x6000ull
#define PCDEV_G_STACK_TOP	0x100000ull
#define PCDEV_G_LOAD		0x100000ull
#define PCDEV_G_LOAD_MAX	0x100000ull	/* payload size limit */
#define PCDEV_G_RING		0x200000ull

#define PCDEV_G_CS		0x08	/* GDT selectors */
#define PCDEV_G_DS		0x10

/* Kick: a 16-bit OUT here is an ioeventfd, handled inside KVM. */
#define PCDEV_PORT_KICK		0x510
/* Control: a 32-bit OUT here exits to the VMM's vCPU thread (KVM_EXIT_IO). */
#define PCDEV_PORT_CTL		0x514

/* Values written to PCDEV_PORT_CTL. */
enum pcdev_guest_event {
	PCDEV_EV_READY = 1,	/* booted, waiting to start; resumes = go */
	PCDEV_EV_DONE = 2,	/* stopped, counters final */
	PCDEV_EV_PANIC = 3,	/* exception: see panic_vector, panic_rip */
};

/* panic_vector when the control block's magic or version is wrong. */
#define PCDEV_PANIC_ABI		0xffffffffu

/* Interrupt vectors. USED and STOP arrive as MSIs through KVM_IRQFD. */
#define PCDEV_VEC_USED		0x40	/* C returned buffers (virtio "used") */
#define PCDEV_VEC_TIMER		0x41	/* LAPIC TSC-deadline timer */
#define PCDEV_VEC_STOP		0x42	/* the VMM wants the guest to stop */
#define PCDEV_VEC_SPURIOUS	0xff

/* Producer modes, as enum pcdev_mode in pcdev.h. */
enum pcdev_guest_mode {
	PCDEV_G_NOTIFY = 0,
	PCDEV_G_SLEEP = 1,
	PCDEV_G_POLL = 2,
	PCDEV_G_BUSYLOOP = 3,
};

#define PCDEV_GUEST_MAGIC	0x76737063u	/* "vspc" */
#define PCDEV_GUEST_VERSION	2u

/* Entries of the rate mode's gap table (a power of two). */
#define PCDEV_G_GAPS		1024u

struct pcdev_guest_ctl {
	/* VMM -> guest, written before the vCPU first runs. */
	uint32_t magic, version;
	uint32_t len, kp, kc, p_mode;
	uint32_t kick_on;		/* C waits for kicks (notify, busyloop) */
	uint32_t pad2;
	uint64_t ring_gpa, items_gpa;
	uint64_t wp_cycles;		/* emulated work per item, guest TSC */
	uint64_t yp_cycles;		/* sleep length (p_mode sleep) */
	uint64_t busyloop_cycles;	/* poll budget (p_mode busyloop) */
	uint64_t tsc_khz;		/* guest TSC rate, calibrated by the VMM */
	uint64_t item_cap;		/* stop after this many items, 0: none */
	uint64_t trace_gpa;		/* event records, 0: tracing off */
	uint64_t trace_mask;		/* records - 1 (a power of two) */

	/* VMM -> guest while running. */
	volatile uint32_t stop;
	uint32_t pad0;
	volatile uint64_t irq_sent_tsc;	/* guest TSC when C last sent USED */

	/* guest -> VMM; final once PCDEV_EV_DONE is signalled. Live values
	 * are read racily by the VMM for progress counters. */
	volatile uint64_t produced;
	volatile uint64_t kicks;
	volatile uint64_t interrupts;	/* PCDEV_VEC_USED taken */
	volatile uint64_t spurious;	/* ... that freed no room P waited for */
	volatile uint64_t blocks;	/* HLTs waiting for PCDEV_VEC_USED */
	volatile uint64_t timer_irqs;
	volatile uint64_t sleeps;	/* TSC-deadline sleeps (p_mode sleep) */
	volatile uint64_t halts;	/* HLT instructions executed */
	volatile uint64_t full_waits;	/* times P found the ring full */
	volatile uint64_t wait_cycles;	/* time spent waiting for room */
	volatile uint64_t kick_cycles;	/* time spent in kick OUTs */
	volatile uint64_t kick_tsc;	/* guest TSC just before the last kick */
	volatile uint64_t wake_cycles;	/* sum of irq_sent_tsc -> running */
	volatile uint64_t wakes;	/* ... over this many HLT wake-ups */
	volatile uint64_t tsc_start, tsc_end;
	volatile uint32_t panic_vector;
	uint32_t pad1;
	volatile uint64_t panic_rip, panic_error;
	volatile uint64_t trace_n;	/* records ever written */

	/*
	 * Rate mode (burst > 0; the multi-queue device, one VM per queue):
	 * P publishes `burst` items at the times the VMM drew, phase_cycles
	 * after its start and then gaps[i & gaps_mask] apart (guest TSC;
	 * Poisson or periodic, drawn on the host: the guest has no libm and
	 * every instruction is emulated), and sleeps in between. A burst the
	 * ring cannot take stays as backlog (at most one ring's worth) and is
	 * retried retry_cycles later at most.
	 */
	uint32_t burst, gaps_mask;
	uint64_t gaps_gpa, phase_cycles, retry_cycles;
	volatile uint64_t offered;	/* items the rate scheduled */
	volatile uint64_t publishes;	/* avail->idx stores that published */
};

/* P's event trace records: layout and type values of struct
 * pcdev_trace_rec and enum pcdev_trace_type (trace.h), checked in kvm.c. */
struct pcdev_guest_trace_rec {
	uint64_t tsc;		/* guest TSC */
	uint32_t seq;
	uint32_t type;
};

#define PCDEV_G_TR_PUBLISH	0
#define PCDEV_G_TR_KICK		2
#define PCDEV_G_TR_P_WAIT	3

#endif
