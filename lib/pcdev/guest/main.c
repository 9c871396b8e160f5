// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kvm backend's guest payload: a freestanding 64-bit program that is P,
 * the producer of the reference device (paper Sec. 4.2). The VMM enters it
 * in long mode with paging on, interrupts off, RSP at the stack top and RDI
 * pointing at the control block (abi.h).
 *
 * Under nested KVM on the project machines every guest instruction goes
 * through KVM's instruction emulator (about 3 M instructions/s), so the
 * per-item path is kept to a few dozen instructions.
 */

#include "abi.h"
#include "../ring.h"

#define MSR_APIC_BASE		0x1b
#define MSR_TSC_DEADLINE	0x6e0
#define MSR_X2APIC_TPR		0x808
#define MSR_X2APIC_EOI		0x80b
#define MSR_X2APIC_SVR		0x80f
#define MSR_X2APIC_LVTT		0x832
#define MSR_X2APIC_LVT0		0x835
#define MSR_X2APIC_LVT1		0x836
#define MSR_X2APIC_LVTERR	0x837

#define APIC_BASE_EXTD		(1ull << 10)
#define APIC_BASE_EN		(1ull << 11)
#define APIC_SVR_ENABLE		(1u << 8)
#define APIC_LVT_MASKED		(1u << 16)
#define APIC_LVTT_TSC_DEADLINE	(2u << 17)

struct interrupt_frame;
typedef unsigned long uword_t;

static struct pcdev_guest_ctl *ctl;
static struct vs_vring vr;
static volatile uint32_t waiting_used;	/* P is blocked until an interrupt */
static volatile uint32_t timer_fired;
static struct pcdev_guest_trace_rec *trace_rec;	/* NULL: tracing off */
static uint64_t trace_mask;

static inline void trace_add(uint32_t type, uint64_t tsc, uint64_t seq)
{
	struct pcdev_guest_trace_rec *r = &trace_rec[ctl->trace_n & trace_mask];

	r->tsc = tsc;
	r->seq = (uint32_t)seq;
	r->type = type;
	ctl->trace_n++;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" :: "c"(msr), "a"((uint32_t)v),
			     "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ __volatile__("outw %0, %1" :: "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" :: "a"(v), "Nd"(port) : "memory");
}

static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

static inline void cli(void)
{
	__asm__ __volatile__("cli" ::: "memory");
}

static inline void sti(void)
{
	__asm__ __volatile__("sti" ::: "memory");
}

/* STI's one-instruction shadow makes "sti; hlt" atomic: an interrupt that
 * became pending while IF was 0 wakes the HLT instead of being missed. */
static inline void sti_hlt(void)
{
	__asm__ __volatile__("sti; hlt" ::: "memory");
}

static inline void eoi(void)
{
	wrmsr(MSR_X2APIC_EOI, 0);
}

static void signal_vmm(uint32_t event)
{
	outl(PCDEV_PORT_CTL, event);
}

/* gcc may emit calls to these even when freestanding. */
void *memset(void *s, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

void *memset(void *s, int c, unsigned long n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

/* ---- interrupts -------------------------------------------------------- */

static void __attribute__((noreturn)) panic(uint32_t vector, uint64_t rip,
					    uint64_t error)
{
	ctl->panic_vector = vector;
	ctl->panic_rip = rip;
	ctl->panic_error = error;
	for (;;) {
		signal_vmm(PCDEV_EV_PANIC);
		cli();
		__asm__ __volatile__("hlt");
	}
}

/* What an interrupt pushes in 64-bit mode; the frame layout is fixed. */
struct trap_frame {
	uint64_t rip, cs, rflags, rsp, ss;
};

#define EXC_NOERR(n) \
	__attribute__((interrupt)) static void exc_##n(struct interrupt_frame *f) \
	{ panic(n, ((struct trap_frame *)f)->rip, 0); }
#define EXC_ERR(n) \
	__attribute__((interrupt)) static void exc_##n(struct interrupt_frame *f, \
						      uword_t err) \
	{ panic(n, ((struct trap_frame *)f)->rip, err); }

EXC_NOERR(0) EXC_NOERR(1) EXC_NOERR(2) EXC_NOERR(3) EXC_NOERR(4)
EXC_NOERR(5) EXC_NOERR(6) EXC_NOERR(7) EXC_ERR(8) EXC_NOERR(9)
EXC_ERR(10) EXC_ERR(11) EXC_ERR(12) EXC_ERR(13) EXC_ERR(14)
EXC_NOERR(15) EXC_NOERR(16) EXC_ERR(17) EXC_NOERR(18) EXC_NOERR(19)
EXC_NOERR(20) EXC_ERR(21)

__attribute__((interrupt)) static void irq_used(struct interrupt_frame *f)
{
	ctl->interrupts++;
	/* Not waiting: a late interrupt after the double check let P go on. */
	if (!waiting_used)
		ctl->spurious++;
	eoi();
}

__attribute__((interrupt)) static void irq_timer(struct interrupt_frame *f)
{
	ctl->timer_irqs++;
	timer_fired = 1;
	eoi();
}

/* The stop MSI only has to end a HLT; the main loop reads ctl->stop. */
__attribute__((interrupt)) static void irq_stop(struct interrupt_frame *f)
{
	eoi();
}

/* The LAPIC's spurious vector takes no EOI. */
__attribute__((interrupt)) static void irq_spurious(struct interrupt_frame *f)
{
}

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};

static void idt_set(struct idt_gate *idt, unsigned int vec, void *fn)
{
	uint64_t a = (uint64_t)fn;

	idt[vec].off0 = (uint16_t)a;
	idt[vec].sel = PCDEV_G_CS;
	idt[vec].ist = 0;
	idt[vec].type = 0x8e;	/* present, DPL 0, 64-bit interrupt gate */
	idt[vec].off1 = (uint16_t)(a >> 16);
	idt[vec].off2 = (uint32_t)(a >> 32);
	idt[vec].zero = 0;
}

static void idt_init(void)
{
	static void *const exc[] = {
		exc_0, exc_1, exc_2, exc_3, exc_4, exc_5, exc_6, exc_7,
		exc_8, exc_9, exc_10, exc_11, exc_12, exc_13, exc_14, exc_15,
		exc_16, exc_17, exc_18, exc_19, exc_20, exc_21,
	};
	struct idt_gate *idt = (struct idt_gate *)PCDEV_G_IDT;
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr;
	unsigned int i;

	memset(idt, 0, 256 * sizeof(*idt));
	for (i = 0; i < sizeof(exc) / sizeof(exc[0]); i++)
		idt_set(idt, i, exc[i]);
	idt_set(idt, PCDEV_VEC_USED, irq_used);
	idt_set(idt, PCDEV_VEC_TIMER, irq_timer);
	idt_set(idt, PCDEV_VEC_STOP, irq_stop);
	idt_set(idt, PCDEV_VEC_SPURIOUS, irq_spurious);
	idtr.limit = 256 * sizeof(*idt) - 1;
	idtr.base = (uint64_t)idt;
	__asm__ __volatile__("lidt %0" :: "m"(idtr));
}

/* x2APIC (MSR access: no MMIO mapping, and each access is one WRMSR in the
 * emulator), software-enabled, LINT0/1 and errors masked, timer in
 * TSC-deadline mode. The VMM checked CPUID for x2APIC and TSC-deadline. */
static void lapic_init(void)
{
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EN | APIC_BASE_EXTD);
	wrmsr(MSR_X2APIC_SVR, APIC_SVR_ENABLE | PCDEV_VEC_SPURIOUS);
	wrmsr(MSR_X2APIC_TPR, 0);
	wrmsr(MSR_X2APIC_LVT0, APIC_LVT_MASKED);
	wrmsr(MSR_X2APIC_LVT1, APIC_LVT_MASKED);
	wrmsr(MSR_X2APIC_LVTERR, APIC_LVT_MASKED);
	wrmsr(MSR_X2APIC_LVTT, APIC_LVTT_TSC_DEADLINE | PCDEV_VEC_TIMER);
}

/* ---- the producer ------------------------------------------------------ */

struct producer {
	struct vs_vring_prod p;
	unsigned int kc;
	uint64_t yp, busyloop;
};

static unsigned int ring_free(const struct producer *pr)
{
	return vr.num - vs_vring_prod_inflight(&pr->p);
}

/* Block in HLT until C has returned kc buffers (its interrupt) or the VMM
 * says stop. The double check is vs_vring_prod_enable_intr(). */
static void wait_notify(struct producer *pr)
{
	uint64_t seen = ctl->interrupts;

	if (vs_vring_prod_enable_intr(&vr, &pr->p, pr->kc) >= pr->kc)
		goto out;
	waiting_used = 1;
	for (;;) {
		cli();
		vs_vring_prod_reclaim(&vr, &pr->p);
		if (ring_free(pr) >= pr->kc || ctl->stop)
			break;
		ctl->halts++;
		ctl->blocks++;
		sti_hlt();
		/* Start-up cost Sp: from C's irqfd write to P running again. */
		if (ctl->interrupts != seen) {
			ctl->wake_cycles += rdtsc() - ctl->irq_sent_tsc;
			ctl->wakes++;
			seen = ctl->interrupts;
			vs_vring_prod_reclaim(&vr, &pr->p);
			if (ring_free(pr) < pr->kc)
				ctl->spurious++;	/* woke, still no room */
		}
	}
	sti();
	waiting_used = 0;
out:
	vs_vring_prod_disable_intr(&vr, &pr->p);
}

/* Sleep until the guest TSC reaches `deadline`, with the TSC-deadline timer
 * and HLT; other interrupts (none are enabled while P sleeps except stop)
 * do not end the sleep early. */
static void sleep_until(uint64_t deadline)
{
	timer_fired = 0;
	wrmsr(MSR_TSC_DEADLINE, deadline);
	ctl->sleeps++;
	for (;;) {
		cli();
		if (timer_fired || ctl->stop)
			break;
		ctl->halts++;
		sti_hlt();
	}
	sti();
	if (!timer_fired)
		wrmsr(MSR_TSC_DEADLINE, 0);	/* disarm */
}

static void sleep_once(struct producer *pr)
{
	sleep_until(rdtsc() + pr->yp);
}

/* Returns the TSC when P may go on producing. */
static uint64_t wait_room(struct producer *pr, unsigned int mode)
{
	uint64_t t0, start = rdtsc(), end;

	ctl->full_waits++;
	if (trace_rec)
		trace_add(PCDEV_G_TR_P_WAIT, start, ctl->produced);
	switch (mode) {
	case PCDEV_G_NOTIFY:
		wait_notify(pr);
		break;
	case PCDEV_G_SLEEP:
		while (!ctl->stop) {
			sleep_once(pr);
			vs_vring_prod_reclaim(&vr, &pr->p);
			if (ring_free(pr))
				break;
		}
		break;
	case PCDEV_G_POLL:
		while (!ctl->stop) {
			vs_vring_prod_reclaim(&vr, &pr->p);
			if (ring_free(pr))
				break;
			cpu_relax();
		}
		break;
	case PCDEV_G_BUSYLOOP:
		t0 = rdtsc();
		for (;;) {
			vs_vring_prod_reclaim(&vr, &pr->p);
			if (ring_free(pr) || ctl->stop)
				goto out;
			if (rdtsc() - t0 >= pr->busyloop)
				break;
			cpu_relax();
		}
		wait_notify(pr);
		break;
	}
out:
	end = rdtsc();
	ctl->wait_cycles += end - start;
	return end;
}

/*
 * Wp is the time from the end of one item to the end of the next while P
 * does not wait or kick, so the loop's own cost (large when every guest
 * instruction is emulated) is part of Wp rather than added to it: the spin
 * runs until Wp has passed since `last`. Per item: one RDTSC when Wp is 0.
 */
static void produce(struct pcdev_guest_ctl *c)
{
	struct vs_item *items = (struct vs_item *)c->items_gpa;
	struct producer pr = { .kc = c->kc, .yp = c->yp_cycles,
			       .busyloop = c->busyloop_cycles };
	/* Locals, not globals, on the per-item path: every memory access is
	 * an emulated instruction here, so state stays in registers and goes
	 * to `pr` only around the (rare) waits. */
	struct vs_vring r = vr;
	struct vs_vring_prod p = { 0 };
	uint64_t wp = c->wp_cycles, n = 0, last;
	uint64_t end = c->item_cap ? c->item_cap : ~0ull;
	unsigned int mode = c->p_mode, num = r.num, mask = num - 1;
	int tracing = trace_rec != 0, kick_on = c->kick_on;

	vs_vring_prod_disable_intr(&r, &p);
	c->tsc_start = last = rdtsc();
	while (n < end && !c->stop) {
		struct vs_item *it;
		uint16_t id;
		uint64_t now;

		if (vs_vring_prod_inflight(&p) == num) {
			vs_vring_prod_reclaim(&r, &p);
			if (vs_vring_prod_inflight(&p) == num) {
				pr.p = p;
				last = wait_room(&pr, mode);
				p = pr.p;
				continue;
			}
		}
		/* Produce: emulated work up to Wp, then stamp and publish. */
		now = rdtsc();
		while (now - last < wp) {
			if (c->stop)
				goto out;	/* an unfinished item is not produced */
			cpu_relax();
			now = rdtsc();
		}
		last = now;
		id = p.avail_idx & mask;
		it = &items[id];
		it->seq = n;
		it->tsc_produced = now;
		vs_vring_prod_publish(&r, &p, id);
		if (tracing)
			trace_add(PCDEV_G_TR_PUBLISH, now, n);
		c->produced = ++n;
		/* A C that never blocks is never kicked (as in the thread
		 * backend): its stale avail_event would otherwise ask for a
		 * kick every 32768 items. */
		if (kick_on && vs_vring_prod_kick_needed(&r, &p)) {
			c->kick_tsc = now;
			outw(PCDEV_PORT_KICK, 0);
			last = rdtsc();
			c->kick_cycles += last - now;
			c->kicks++;
			if (tracing)
				trace_add(PCDEV_G_TR_KICK, last, n);
		}
	}
out:
	c->tsc_end = rdtsc();
}

/*
 * Rate mode (abi.h): the thread backend's low-duty producer (mq.c) in the
 * guest. The items of a burst become visible with one avail->idx store and
 * are stamped then, as there; C (a poller or a consumer of its own) never
 * interrupts P, so a full ring is looked at again after retry_cycles.
 */
static void produce_rate(struct pcdev_guest_ctl *c)
{
	struct vs_item *items = (struct vs_item *)c->items_gpa;
	const uint64_t *gaps = (const uint64_t *)c->gaps_gpa;
	struct vs_vring r = vr;
	struct vs_vring_prod p = { 0 };
	uint64_t wp = c->wp_cycles, retry = c->retry_cycles, burst = c->burst;
	uint64_t next, now, t, backlog = 0, g = 0;
	unsigned int num = r.num, mask = num - 1, gmask = c->gaps_mask, n, i;

	vs_vring_prod_disable_intr(&r, &p);
	c->tsc_start = now = rdtsc();
	next = now + c->phase_cycles;
	while (!c->stop) {
		if (!backlog && now < next) {
			sleep_until(next);
			now = rdtsc();
			continue;
		}
		while (next <= now) {
			backlog += burst;
			c->offered += burst;
			next += gaps[g++ & gmask];
		}
		if (backlog > num)
			backlog = num;	/* lost, not queued without end */
		vs_vring_prod_reclaim(&r, &p);
		n = num - vs_vring_prod_inflight(&p);
		if (n > backlog)
			n = (unsigned int)backlog;
		t = now;
		for (i = 0; i < n; i++) {
			while (wp && rdtsc() - t < wp)
				cpu_relax();
			t = rdtsc();
			vs_vring_prod_add(&r, &p, p.avail_idx & mask);
		}
		if (n) {
			now = rdtsc();
			for (i = n; i > 0; i--)
				items[(uint16_t)(p.avail_idx - i) & mask].tsc_produced = now;
			vs_vring_prod_flush(&r, &p);
			backlog -= n;
			c->produced += n;
			c->publishes++;
			if (vs_vring_prod_kick_needed(&r, &p)) {
				c->kick_tsc = now;
				outw(PCDEV_PORT_KICK, 0);
				c->kick_cycles += rdtsc() - now;
				c->kicks++;
			}
		} else {
			c->full_waits++;
		}
		now = rdtsc();
		if (backlog) {
			sleep_until(next > now && next - now < retry ? next : now + retry);
			now = rdtsc();
		}
	}
	c->tsc_end = rdtsc();
}

void guest_main(struct pcdev_guest_ctl *c);

void guest_main(struct pcdev_guest_ctl *c)
{
	ctl = c;
	idt_init();
	if (c->magic != PCDEV_GUEST_MAGIC || c->version != PCDEV_GUEST_VERSION)
		panic(PCDEV_PANIC_ABI, 0, c->magic);
	lapic_init();
	vs_vring_init(&vr, (void *)c->ring_gpa, c->len);
	trace_rec = (struct pcdev_guest_trace_rec *)c->trace_gpa;
	trace_mask = c->trace_mask;
	sti();
	/* The VMM holds this exit until every host thread is ready. */
	signal_vmm(PCDEV_EV_READY);
	if (c->burst)
		produce_rate(c);
	else
		produce(c);
	cli();
	for (;;)
		signal_vmm(PCDEV_EV_DONE);
}
