// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reference device's kvm backend: a tiny VMM. One VM with an in-kernel
 * irqchip and one vCPU runs the guest payload (guest/), which is P. The
 * virtqueue lives in guest RAM; the host thread `vs-vhost` is C and works on
 * the same memory through the host mapping, as vhost does:
 *   - P kicks with a 16-bit OUT to PCDEV_PORT_KICK, registered with
 *     KVM_IOEVENTFD, so KVM signals C's eventfd without leaving the kernel;
 *   - C interrupts P by writing an eventfd bound with KVM_IRQFD to a GSI
 *     routed as an MSI to the guest's LAPIC (virtio-pci MSI-X style);
 *   - P waits with HLT, so KVM halt polling applies (KVM_CAP_HALT_POLL), and
 *     sleeps with the x2APIC TSC-deadline timer and HLT.
 * The only exits to this process are the guest's control OUTs (ready, done,
 * panic).
 */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "pcdev/ctl.h"
#include "pcdev/pcdev.h"
#include "core/sysfs.h"
#include "pcdev/ring.h"
#include "pcdev/stats.h"
#include "pcdev/trace.h"
#include "pcdev/tsc.h"
#include "guest/abi.h"

/* The flat guest image, embedded by the Makefile (guest/blob.S). */
extern const unsigned char pcdev_guest_image[], pcdev_guest_image_end[];

/* P's trace records are written by the guest in trace.h's layout. */
_Static_assert(sizeof(struct pcdev_guest_trace_rec) == sizeof(struct pcdev_trace_rec),
	       "guest trace record layout");
_Static_assert(PCDEV_G_TR_PUBLISH == PCDEV_EV_PUBLISH &&
	       PCDEV_G_TR_KICK == PCDEV_EV_KICK &&
	       PCDEV_G_TR_P_WAIT == PCDEV_EV_P_WAIT, "guest trace types");

#define GSI_USED	24	/* past the 24 IOAPIC pins: MSI routes only */
#define GSI_STOP	25
#define MSI_ADDR	0xfee00000u	/* physical destination, APIC ID 0 */
#define ITEM_SIZE	((uint32_t)sizeof(struct vs_item))
#define BOOT_TIMEOUT_NS	10e9	/* emulated guest: boot takes ms, not s */
#define STOP_TIMEOUT_NS	3e9	/* then the vCPU is kicked out by force */

#define CPUID_1_ECX_X2APIC		(1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE	(1u << 24)
#define MSR_IA32_TSC			0x10

enum vcpu_state {
	VCPU_BOOTING,
	VCPU_READY,	/* guest booted, held in its READY exit */
	VCPU_RUNNING,
	VCPU_DONE,	/* guest signalled DONE: counters are final */
	VCPU_FAILED,
};

struct kvm_stat_src {
	int fd;
	struct kvm_stats_header hdr;
	char *descs;			/* num_desc entries of desc_size */
	size_t desc_size;
	uint64_t *start;		/* values at go, one per descriptor */
};

struct kvmdev {
	const struct pcdev_config *cfg;
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;
	size_t mem_size;
	struct pcdev_guest_ctl *ctl;
	struct vs_vring vr;
	struct vs_item *items;
	int kick_fd, used_fd, stop_fd;
	struct kvm_stat_src st_vm, st_vcpu;

	double tsc_per_ns;		/* host TSC */
	int64_t tsc_offset;		/* guest TSC = host TSC + offset */

	pthread_t vcpu_thread, cons_thread;
	bool vcpu_started, cons_started;
	_Atomic int vcpu_tid, cons_tid;
	int kick_signal;
	struct sigaction old_sa;
	bool sa_installed;
	bool main_rt;			/* caller's policy to restore */
	int main_policy;
	struct sched_param main_param;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vcpu_state state;		/* under lock */
	bool go, abort;			/* under lock */
	int vcpu_err;
	pthread_mutex_t why_lock;	/* set_why() runs in any thread */
	char why[200];			/* first failure, for res->note */
	_Atomic bool force_exit;	/* vCPU kicked out on purpose */
	double t_go_ns, t_done_ns;	/* CLOCK_MONOTONIC */

	/* Consumer; written by vs-vhost, read after it joined (or racily for
	 * the published progress counters). */
	bool intr_on;			/* P waits for interrupts */
	_Atomic bool guest_done;
	_Atomic uint64_t consumed, interrupts_sent;
	uint64_t wakeups, spurious_kicks, sleeps_c, blocks_c, seq_errors;
	struct pcdev_avg wc, nc, sc, yc, yz;	/* ticks; yz in CPU ns */
	struct pcdev_hist *hist;	/* item latencies, host TSC ticks */
	struct pcdev_trace_buf c_trace;	/* C's events (P's are in guest RAM) */
	uint64_t trace_gpa;
	uint64_t tsc_go;
	double cpu_p_ns, cpu_c_ns;	/* thread CPU time between go and end */
	/* Control file (ctl.h), watched by vs-vhost; the mode it last ran. */
	struct pcdev_ctl_state pctl;
	enum pcdev_mode c_mode_now;
	unsigned int ctl_refused, ctl_hp_failed;
};

static double now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void set_why(struct kvmdev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_why(struct kvmdev *d, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&d->why_lock);
	if (!d->why[0]) {	/* keep the first cause */
		va_start(ap, fmt);
		vsnprintf(d->why, sizeof(d->why), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&d->why_lock);
}

/* ioctl that records which call failed; returns the result or -errno. */
static int kvm_ioctl(struct kvmdev *d, int fd, unsigned long req, void *arg,
		     const char *name)
{
	if (ioctl(fd, req, arg) < 0) {
		int err = -errno;

		set_why(d, "%s: %s", name, strerror(-err));
		return err;
	}
	return 0;
}

/* ---- KVM binary statistics ---------------------------------------------- */

static int stats_open(struct kvmdev *d, struct kvm_stat_src *s, int owner,
		      const char *what)
{
	size_t n;

	s->fd = ioctl(owner, KVM_GET_STATS_FD, NULL);
	if (s->fd < 0) {
		s->fd = -errno;
		set_why(d, "KVM_GET_STATS_FD (%s): %s", what, strerror(errno));
		return s->fd;
	}
	if (pread(s->fd, &s->hdr, sizeof(s->hdr), 0) != sizeof(s->hdr))
		return -EIO;
	s->desc_size = sizeof(struct kvm_stats_desc) + s->hdr.name_size;
	n = s->hdr.num_desc * s->desc_size;
	s->descs = calloc(1, n);
	s->start = calloc(s->hdr.num_desc, sizeof(*s->start));
	if (!s->descs || !s->start)
		return -ENOMEM;
	if (pread(s->fd, s->descs, n, s->hdr.desc_offset) != (ssize_t)n)
		return -EIO;
	return 0;
}

static const struct kvm_stats_desc *stats_desc(const struct kvm_stat_src *s,
					       unsigned int i)
{
	return (const struct kvm_stats_desc *)(s->descs + i * s->desc_size);
}

/* First value of every descriptor (histograms: bucket 0, unused). */
static int stats_read(const struct kvm_stat_src *s, uint64_t *vals)
{
	unsigned int i;

	for (i = 0; i < s->hdr.num_desc; i++) {
		const struct kvm_stats_desc *sd = stats_desc(s, i);

		if (pread(s->fd, &vals[i], sizeof(vals[i]),
			  s->hdr.data_offset + sd->offset) != sizeof(vals[i]))
			return -EIO;
	}
	return 0;
}

/* The statistics that tell the synchronization story, reported always;
 * the rest follow when non-zero, while room lasts. */
static const char *const stats_wanted[] = {
	"exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits",
	"signal_exits", "irq_injections", "insn_emulation",
	"halt_successful_poll", "halt_attempted_poll", "halt_poll_invalid",
	"halt_wakeup", "halt_poll_success_ns", "halt_poll_fail_ns",
	"halt_wait_ns", "blocking",
	NULL,
};

static bool stats_is_wanted(const char *name)
{
	const char *const *w;

	for (w = stats_wanted; *w; w++)
		if (!strcmp(*w, name))
			return true;
	return false;
}

static void stats_add(struct pcdev_results *res, const char *prefix,
		      const char *name, uint64_t v)
{
	unsigned int n = res->n_kvm_stats;
	size_t cap = sizeof(res->kvm_stats) / sizeof(res->kvm_stats[0]);

	if (n >= cap)
		return;
	snprintf(res->kvm_stats[n].name, sizeof(res->kvm_stats[n].name), "%s%s",
		 prefix, name);
	res->kvm_stats[n].value = v;
	res->n_kvm_stats++;
}

/* Cumulative counters as deltas since go, instant and peak values as they
 * are now; histograms are left out. pass 0: wanted, pass 1: the rest. */
static void stats_collect(const struct kvm_stat_src *s, const char *prefix,
			  int pass, struct pcdev_results *res)
{
	uint64_t *now;
	unsigned int i;

	if (s->fd < 0 || !s->descs)
		return;
	now = calloc(s->hdr.num_desc, sizeof(*now));
	if (!now || stats_read(s, now)) {
		free(now);
		return;
	}
	for (i = 0; i < s->hdr.num_desc; i++) {
		const struct kvm_stats_desc *sd = stats_desc(s, i);
		uint32_t type = sd->flags & KVM_STATS_TYPE_MASK;
		uint64_t v = now[i];

		if (type == KVM_STATS_TYPE_LINEAR_HIST ||
		    type == KVM_STATS_TYPE_LOG_HIST || sd->size != 1)
			continue;
		if (type == KVM_STATS_TYPE_CUMULATIVE)
			v -= s->start[i];
		if (pass == 0 ? !stats_is_wanted(sd->name) :
				(stats_is_wanted(sd->name) || !v))
			continue;
		stats_add(res, prefix, sd->name, v);
	}
	free(now);
}

static void stats_close(struct kvm_stat_src *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->descs);
	free(s->start);
	s->fd = -1;
	s->descs = NULL;
	s->start = NULL;
}

/* ---- VM construction -------------------------------------------------- */

static uint64_t items_gpa(unsigned int len)
{
	return vs_vring_align_up(PCDEV_G_RING + vs_vring_bytes(len), 4096);
}

static int vm_check_caps(struct kvmdev *d)
{
	static const struct { int cap; const char *name; } caps[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
		{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
		{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_BINARY_STATS_FD, "KVM_CAP_BINARY_STATS_FD" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (ioctl(d->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			set_why(d, "/dev/kvm lacks %s", caps[i].name);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* Identity-map the first 1 GB with 2 MB pages; flat 64-bit GDT. */
static void vm_build_tables(struct kvmdev *d)
{
	uint64_t *gdt = (uint64_t *)(d->mem + PCDEV_G_GDT);
	uint64_t *pml4 = (uint64_t *)(d->mem + PCDEV_G_PML4);
	uint64_t *pdpt = (uint64_t *)(d->mem + PCDEV_G_PDPT);
	uint64_t *pd = (uint64_t *)(d->mem + PCDEV_G_PD);
	unsigned int i;

	gdt[0] = 0;
	gdt[PCDEV_G_CS / 8] = 0x00af9a000000ffffull;	/* code, L=1 */
	gdt[PCDEV_G_DS / 8] = 0x00cf92000000ffffull;	/* data */
	pml4[0] = PCDEV_G_PDPT | 0x3;			/* present, writable */
	pdpt[0] = PCDEV_G_PD | 0x3;
	for (i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;	/* + 2 MB page */
}

static void vm_build_ring(struct kvmdev *d)
{
	const struct pcdev_config *cfg = d->cfg;
	uint64_t igpa = items_gpa(cfg->len);
	unsigned int i;

	vs_vring_init(&d->vr, d->mem + PCDEV_G_RING, cfg->len);
	d->items = (struct vs_item *)(d->mem + igpa);
	/* Descriptor i always describes buffer i (ring.h); addresses are
	 * guest-physical, as a device would see them. */
	for (i = 0; i < cfg->len; i++) {
		d->vr.desc[i].addr = igpa + (uint64_t)i * ITEM_SIZE;
		d->vr.desc[i].len = ITEM_SIZE;
		d->vr.desc[i].flags = 2;	/* VIRTQ_DESC_F_WRITE */
		d->vr.desc[i].next = 0;
	}
}

static void vm_build_ctl(struct kvmdev *d, double guest_tsc_per_ns)
{
	const struct pcdev_config *cfg = d->cfg;
	struct pcdev_guest_ctl *c = d->ctl;

	c->magic = PCDEV_GUEST_MAGIC;
	c->version = PCDEV_GUEST_VERSION;
	c->len = cfg->len;
	c->kp = cfg->kp;
	c->kc = cfg->kc;
	c->p_mode = cfg->p_mode == PCDEV_NOTIFY ? PCDEV_G_NOTIFY :
		    cfg->p_mode == PCDEV_SLEEP ? PCDEV_G_SLEEP :
		    cfg->p_mode == PCDEV_POLL ? PCDEV_G_POLL : PCDEV_G_BUSYLOOP;
	c->ring_gpa = PCDEV_G_RING;
	c->items_gpa = items_gpa(cfg->len);
	c->wp_cycles = (uint64_t)llround(cfg->wp_ns * guest_tsc_per_ns);
	c->yp_cycles = (uint64_t)llround(cfg->yp_ns * guest_tsc_per_ns);
	c->busyloop_cycles = (uint64_t)llround(cfg->busyloop_ns * guest_tsc_per_ns);
	c->tsc_khz = (uint64_t)llround(guest_tsc_per_ns * 1e6);
	c->item_cap = cfg->items;
	c->kick_on = cfg->c_mode == PCDEV_NOTIFY || cfg->c_mode == PCDEV_BUSYLOOP;
	if (d->trace_gpa) {
		c->trace_gpa = d->trace_gpa;
		c->trace_mask = (1ull << PCDEV_TRACE_ORDER) - 1;
	}
}

static int vcpu_setup_cpuid(struct kvmdev *d)
{
	const unsigned int max = 256;
	struct kvm_cpuid2 *cpuid;
	bool have_x2apic = false, have_deadline = false;
	unsigned int i;
	int err;

	cpuid = calloc(1, sizeof(*cpuid) + max * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = max;
	err = kvm_ioctl(d, d->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid,
			"KVM_GET_SUPPORTED_CPUID");
	if (err)
		goto out;
	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 1 && e->index == 0) {
			have_x2apic = e->ecx & CPUID_1_ECX_X2APIC;
			have_deadline = e->ecx & CPUID_1_ECX_TSC_DEADLINE;
			e->ebx &= 0x00ffffff;	/* initial APIC ID 0 */
		}
	}
	/* The guest drives its LAPIC through x2APIC MSRs and sleeps with the
	 * TSC-deadline timer; without either it cannot run. */
	if (!have_x2apic || !have_deadline) {
		set_why(d, "KVM does not offer %s to guests",
			!have_x2apic ? "x2APIC" : "the TSC-deadline timer");
		err = -EOPNOTSUPP;
		goto out;
	}
	err = kvm_ioctl(d, d->vcpu_fd, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
out:
	free(cpuid);
	return err;
}

static int vcpu_setup_regs(struct kvmdev *d)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = PCDEV_G_CS,
		.type = 11, .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1,
		.g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = PCDEV_G_DS,
		.type = 3, .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0,
		.g = 1,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int err;

	err = kvm_ioctl(d, d->vcpu_fd, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	if (err)
		return err;
	/* Enter long mode directly: paging on, PAE, LME+LMA. */
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.gdt.base = PCDEV_G_GDT;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr3 = PCDEV_G_PML4;
	sregs.cr4 = (1u << 5) | (1u << 9) | (1u << 10);	/* PAE OSFXSR OSXMMEXCPT */
	sregs.cr0 = 0x80050033;		/* PG WP NE ET MP PE */
	sregs.efer = (1u << 8) | (1u << 10);	/* LME LMA */
	err = kvm_ioctl(d, d->vcpu_fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
	if (err)
		return err;
	memset(&regs, 0, sizeof(regs));
	regs.rip = PCDEV_G_LOAD;
	regs.rsp = PCDEV_G_STACK_TOP;
	regs.rdi = PCDEV_G_CTL;
	regs.rflags = 0x2;		/* IF clear until the IDT is loaded */
	return kvm_ioctl(d, d->vcpu_fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

/* guest TSC - host TSC: from the vCPU's TSC offset attribute, else by
 * reading the guest's IA32_TSC between two host reads. */
static int vcpu_tsc_offset(struct kvmdev *d)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs;
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
	};
	uint64_t off, h0, h1;

	attr.addr = (uint64_t)(uintptr_t)&off;
	if (ioctl(d->vcpu_fd, KVM_GET_DEVICE_ATTR, &attr) == 0) {
		d->tsc_offset = (int64_t)off;
		return 0;
	}
	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = 1;
	msrs.e.index = MSR_IA32_TSC;
	h0 = vs_rdtsc();
	if (ioctl(d->vcpu_fd, KVM_GET_MSRS, &msrs) != 1) {
		set_why(d, "KVM_GET_MSRS(IA32_TSC): %s", strerror(errno));
		return -EIO;
	}
	h1 = vs_rdtsc();
	d->tsc_offset = (int64_t)(msrs.e.data - (h0 + (h1 - h0) / 2));
	return 0;
}

static int vm_setup_irqs(struct kvmdev *d)
{
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e[2];
	} routing;
	struct kvm_irqfd irqfd;
	struct kvm_ioeventfd ioev;
	int err;

	/* Two MSI routes, as a virtio-pci device's MSI-X vectors would be:
	 * "used buffers" and the VMM's own "stop". */
	memset(&routing, 0, sizeof(routing));
	routing.hdr.nr = 2;
	routing.e[0].gsi = GSI_USED;
	routing.e[0].type = KVM_IRQ_ROUTING_MSI;
	routing.e[0].u.msi.address_lo = MSI_ADDR;
	routing.e[0].u.msi.data = PCDEV_VEC_USED;
	routing.e[1] = routing.e[0];
	routing.e[1].gsi = GSI_STOP;
	routing.e[1].u.msi.data = PCDEV_VEC_STOP;
	err = kvm_ioctl(d, d->vm_fd, KVM_SET_GSI_ROUTING, &routing,
			"KVM_SET_GSI_ROUTING");
	if (err)
		return err;

	memset(&irqfd, 0, sizeof(irqfd));
	irqfd.fd = d->used_fd;
	irqfd.gsi = GSI_USED;
	err = kvm_ioctl(d, d->vm_fd, KVM_IRQFD, &irqfd, "KVM_IRQFD");
	if (err)
		return err;
	irqfd.fd = d->stop_fd;
	irqfd.gsi = GSI_STOP;
	err = kvm_ioctl(d, d->vm_fd, KVM_IRQFD, &irqfd, "KVM_IRQFD");
	if (err)
		return err;

	memset(&ioev, 0, sizeof(ioev));
	ioev.addr = PCDEV_PORT_KICK;
	ioev.len = 2;
	ioev.fd = d->kick_fd;
	ioev.flags = KVM_IOEVENTFD_FLAG_PIO;
	return kvm_ioctl(d, d->vm_fd, KVM_IOEVENTFD, &ioev, "KVM_IOEVENTFD");
}

static int vm_create(struct kvmdev *d)
{
	const struct pcdev_config *cfg = d->cfg;
	size_t image = pcdev_guest_image_end - pcdev_guest_image;
	struct kvm_userspace_memory_region region;
	double guest_tsc_per_ns;
	int err, r, mmap_size;

	d->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (d->kvm_fd < 0) {
		err = -errno;
		set_why(d, "cannot open /dev/kvm: %s", strerror(errno));
		return err;
	}
	r = ioctl(d->kvm_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		set_why(d, "/dev/kvm API version %d, expected %d", r,
			KVM_API_VERSION);
		return -EOPNOTSUPP;
	}
	err = vm_check_caps(d);
	if (err)
		return err;
	if (cfg->halt_poll_ns >= 0 &&
	    ioctl(d->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL) <= 0) {
		set_why(d, "/dev/kvm lacks KVM_CAP_HALT_POLL (--halt-poll-ns)");
		return -EOPNOTSUPP;
	}
	if (image > PCDEV_G_LOAD_MAX)
		return -E2BIG;

	d->vm_fd = ioctl(d->kvm_fd, KVM_CREATE_VM, 0);
	if (d->vm_fd < 0) {
		err = -errno;
		set_why(d, "KVM_CREATE_VM: %s", strerror(errno));
		return err;
	}
	/* Intel needs a TSS region below 4 GB even if the guest never uses
	 * real mode; put it out of the way at the top of the 32-bit space. */
	ioctl(d->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	err = kvm_ioctl(d, d->vm_fd, KVM_CREATE_IRQCHIP, NULL,
			"KVM_CREATE_IRQCHIP");
	if (err)
		return err;
	if (cfg->halt_poll_ns >= 0) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_HALT_POLL,
			.args[0] = (uint64_t)cfg->halt_poll_ns,
		};

		err = kvm_ioctl(d, d->vm_fd, KVM_ENABLE_CAP, &cap,
				"KVM_ENABLE_CAP(KVM_CAP_HALT_POLL)");
		if (err)
			return err;
	}

	d->mem_size = items_gpa(cfg->len) + (uint64_t)cfg->len * ITEM_SIZE;
	if (cfg->trace_path) {
		d->trace_gpa = vs_vring_align_up(d->mem_size, 4096);
		d->mem_size = d->trace_gpa + (sizeof(struct pcdev_trace_rec) <<
					      PCDEV_TRACE_ORDER);
	}
	d->mem_size = vs_vring_align_up(d->mem_size, 2u << 20);
	d->mem = mmap(NULL, d->mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (d->mem == MAP_FAILED) {
		d->mem = NULL;
		return -ENOMEM;
	}
	memset(&region, 0, sizeof(region));
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = d->mem_size;
	region.userspace_addr = (uint64_t)(uintptr_t)d->mem;
	err = kvm_ioctl(d, d->vm_fd, KVM_SET_USER_MEMORY_REGION, &region,
			"KVM_SET_USER_MEMORY_REGION");
	if (err)
		return err;
	memcpy(d->mem + PCDEV_G_LOAD, pcdev_guest_image, image);
	d->ctl = (struct pcdev_guest_ctl *)(d->mem + PCDEV_G_CTL);
	vm_build_tables(d);
	vm_build_ring(d);

	d->vcpu_fd = ioctl(d->vm_fd, KVM_CREATE_VCPU, 0);
	if (d->vcpu_fd < 0) {
		err = -errno;
		set_why(d, "KVM_CREATE_VCPU: %s", strerror(errno));
		return err;
	}
	mmap_size = ioctl(d->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run))
		return -EIO;
	d->run_size = mmap_size;
	d->run = mmap(NULL, d->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      d->vcpu_fd, 0);
	if (d->run == MAP_FAILED) {
		d->run = NULL;
		return -errno;
	}
	err = vcpu_setup_cpuid(d);
	if (!err)
		err = vcpu_setup_regs(d);
	if (!err)
		err = vcpu_tsc_offset(d);
	if (err)
		return err;

	/* Guest TSC rate: KVM's, when it differs from ours (TSC scaling). */
	guest_tsc_per_ns = d->tsc_per_ns;
	r = ioctl(d->vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (r > 0 && fabs(r / 1e6 - d->tsc_per_ns) > 0.01 * d->tsc_per_ns)
		guest_tsc_per_ns = r / 1e6;
	vm_build_ctl(d, guest_tsc_per_ns);

	d->kick_fd = eventfd(0, EFD_CLOEXEC);
	d->used_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->kick_fd < 0 || d->used_fd < 0 || d->stop_fd < 0)
		return -errno;
	err = vm_setup_irqs(d);
	if (err)
		return err;
	err = stats_open(d, &d->st_vm, d->vm_fd, "VM");
	if (!err)
		err = stats_open(d, &d->st_vcpu, d->vcpu_fd, "vCPU");
	return err;
}

static void vm_destroy(struct kvmdev *d)
{
	stats_close(&d->st_vm);
	stats_close(&d->st_vcpu);
	if (d->run)
		munmap(d->run, d->run_size);
	if (d->vcpu_fd >= 0)
		close(d->vcpu_fd);
	if (d->vm_fd >= 0)
		close(d->vm_fd);
	if (d->kvm_fd >= 0)
		close(d->kvm_fd);
	/* After the VM fd: KVM drops irqfds and ioeventfds with the VM. */
	if (d->kick_fd >= 0)
		close(d->kick_fd);
	if (d->used_fd >= 0)
		close(d->used_fd);
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	if (d->mem)
		munmap(d->mem, d->mem_size);
	free(d->hist);
}

/* ---- threads ---------------------------------------------------------- */

/* Affinity and real-time policy of a side, set from the creating thread. */
static int side_setup(struct kvmdev *d, pthread_t t, int cpu, int prio,
		      const char *what)
{
	struct sched_param sp = { .sched_priority = prio };
	cpu_set_t set;
	int err;

	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		err = pthread_setaffinity_np(t, sizeof(set), &set);
		if (err) {
			set_why(d, "%s: cannot pin to CPU %d: %s", what, cpu,
				strerror(err));
			return -err;
		}
	}
	if (prio > 0) {
		err = pthread_setschedparam(t, SCHED_FIFO, &sp);
		if (err) {
			set_why(d, "%s: SCHED_FIFO %d: %s", what, prio,
				strerror(err));
			return -err;
		}
	}
	return 0;
}

static void set_state(struct kvmdev *d, enum vcpu_state s)
{
	pthread_mutex_lock(&d->lock);
	d->state = s;
	if (s == VCPU_DONE || s == VCPU_FAILED)
		d->t_done_ns = now_ns(CLOCK_MONOTONIC);
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* A byte written to PCDEV_PORT_KICK's eventfd wakes vs-vhost for other
 * reasons than a kick (end of run); it checks guest_done first. */
static void wake_consumer(struct kvmdev *d)
{
	uint64_t one = 1;

	if (write(d->kick_fd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow here; nothing to do */
	}
}

static void kick_signal_handler(int sig)
{
	/* Only there to make KVM_RUN return -EINTR. */
}

/* Returns false when the run loop must end. */
static bool vcpu_handle_io(struct kvmdev *d, bool *started)
{
	struct kvm_run *run = d->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t ev;
	bool go;

	if (run->io.port != PCDEV_PORT_CTL || run->io.size != 4 ||
	    run->io.direction != KVM_EXIT_IO_OUT) {
		set_why(d, "guest: unexpected %s of port %#x (size %u)",
			run->io.direction == KVM_EXIT_IO_OUT ? "OUT" : "IN",
			run->io.port, run->io.size);
		d->vcpu_err = -EIO;
		return false;
	}
	memcpy(&ev, data, sizeof(ev));
	switch (ev) {
	case PCDEV_EV_READY:
		/* Hold the guest here until the host side is ready. */
		pthread_mutex_lock(&d->lock);
		d->state = VCPU_READY;
		pthread_cond_broadcast(&d->cond);
		while (!d->go && !d->abort)
			pthread_cond_wait(&d->cond, &d->lock);
		go = !d->abort;
		if (go) {
			d->state = VCPU_RUNNING;
			*started = true;
		}
		pthread_mutex_unlock(&d->lock);
		return go;
	case PCDEV_EV_DONE:
		return false;
	case PCDEV_EV_PANIC:
		if (d->ctl->panic_vector == PCDEV_PANIC_ABI)
			set_why(d, "guest payload does not match this VMM "
				"(rebuild virtsync)");
		else
			set_why(d, "guest exception %u at rip %#llx (error %#llx)",
				d->ctl->panic_vector,
				(unsigned long long)d->ctl->panic_rip,
				(unsigned long long)d->ctl->panic_error);
		d->vcpu_err = -EFAULT;
		return false;
	}
	set_why(d, "guest: unknown control event %u", ev);
	d->vcpu_err = -EIO;
	return false;
}

static void *vcpu_thread_fn(void *arg)
{
	struct kvmdev *d = arg;
	double cpu0 = 0;
	bool running = true;
	sigset_t set;

	pthread_setname_np(pthread_self(), "vs-vcpu0");
	d->vcpu_tid = gettid();
	sigemptyset(&set);
	sigaddset(&set, d->kick_signal);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (running) {
		bool started = false;

		if (ioctl(d->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				if (atomic_load(&d->force_exit)) {
					set_why(d, "guest did not stop; vCPU stopped by force");
					d->vcpu_err = -ETIMEDOUT;
					break;
				}
				continue;
			}
			d->vcpu_err = -errno;
			set_why(d, "KVM_RUN: %s", strerror(errno));
			break;
		}
		switch (d->run->exit_reason) {
		case KVM_EXIT_IO:
			running = vcpu_handle_io(d, &started);
			/* The READY exit returns once go is set: CPU time
			 * counts from there. */
			if (started)
				cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
			break;
		case KVM_EXIT_INTR:
			if (atomic_load(&d->force_exit)) {
				set_why(d, "guest did not stop; vCPU stopped by force");
				d->vcpu_err = -ETIMEDOUT;
				running = false;
			}
			break;
		case KVM_EXIT_SHUTDOWN:
			set_why(d, "guest shut down (triple fault)");
			d->vcpu_err = -EFAULT;
			running = false;
			break;
		case KVM_EXIT_FAIL_ENTRY:
			set_why(d, "KVM_RUN: entry failed, reason %#llx",
				(unsigned long long)d->run->fail_entry.hardware_entry_failure_reason);
			d->vcpu_err = -EIO;
			running = false;
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			set_why(d, "KVM internal error, suberror %u",
				d->run->internal.suberror);
			d->vcpu_err = -EIO;
			running = false;
			break;
		case KVM_EXIT_MMIO:
			set_why(d, "guest: unexpected MMIO at %#llx",
				(unsigned long long)d->run->mmio.phys_addr);
			d->vcpu_err = -EIO;
			running = false;
			break;
		default:
			set_why(d, "KVM_RUN: unexpected exit reason %u",
				d->run->exit_reason);
			d->vcpu_err = -EIO;
			running = false;
			break;
		}
	}
	if (cpu0)
		d->cpu_p_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	set_state(d, d->vcpu_err ? VCPU_FAILED : VCPU_DONE);
	atomic_store(&d->guest_done, true);
	wake_consumer(d);
	return NULL;
}

static void consume_one(struct kvmdev *d, struct vs_vring_cons *c,
			uint64_t wc, uint64_t *expect_seq)
{
	uint16_t id = vs_vring_cons_pop(&d->vr, c);
	struct vs_item *it = &d->items[id & (d->vr.num - 1)];
	uint64_t t0 = vs_rdtsc(), t1 = t0, produced;

	pcdev_trace_add(&d->c_trace, PCDEV_EV_SEE, t0, *expect_seq);

	while (t1 - t0 < wc) {
		vs_cpu_relax();
		t1 = vs_rdtsc();
	}
	pcdev_avg_add(&d->wc, t1 - t0);
	if (it->seq != *expect_seq)
		d->seq_errors++;
	*expect_seq = it->seq + 1;
	/* Item latency: P's stamp (guest TSC) to the end of C's work. */
	produced = it->tsc_produced - (uint64_t)d->tsc_offset;
	pcdev_hist_add(d->hist, t1 > produced ? t1 - produced : 0);
	vs_vring_cons_push(&d->vr, c, id, ITEM_SIZE);
	atomic_store_explicit(&d->consumed, atomic_load_explicit(&d->consumed,
			      memory_order_relaxed) + 1, memory_order_relaxed);
	/* Only a P that blocks is interrupted (see kick_on in the guest). */
	if (d->intr_on && vs_vring_cons_intr_needed(&d->vr, c)) {
		uint64_t one = 1, t2 = vs_rdtsc();

		d->ctl->irq_sent_tsc = t2 + (uint64_t)d->tsc_offset;
		if (write(d->used_fd, &one, sizeof(one)) == sizeof(one))
			atomic_fetch_add_explicit(&d->interrupts_sent, 1,
						  memory_order_relaxed);
		t1 = vs_rdtsc();
		pcdev_avg_add(&d->nc, t1 - t2);
		pcdev_trace_add(&d->c_trace, PCDEV_EV_INTR, t1, *expect_seq);
	}
}

/* Block on the kick eventfd (vhost's wait for the guest's notification).
 * Returns true when C actually waited, false when the double check found
 * items (or the run is over). */
static bool consumer_block(struct kvmdev *d, struct vs_vring_cons *c)
{
	uint64_t v;

	if (vs_vring_cons_enable_kick(&d->vr, c, d->cfg->kp)) {
		vs_vring_cons_disable_kick(&d->vr, c);
		return false;
	}
	if (atomic_load(&d->guest_done))
		return false;
	if (read(d->kick_fd, &v, sizeof(v)) == sizeof(v)) {
		uint64_t now = vs_rdtsc();
		uint64_t kick = d->ctl->kick_tsc - (uint64_t)d->tsc_offset;

		/* Start-up cost Sc: the guest's kick to C running. */
		if (now > kick && now - kick < 1000 * d->tsc_per_ns * 1e6)
			pcdev_avg_add(&d->sc, now - kick);
	}
	d->blocks_c++;
	vs_vring_cons_disable_kick(&d->vr, c);
	if (!vs_vring_cons_pending(&d->vr, c) && !atomic_load(&d->guest_done))
		d->spurious_kicks++;
	return true;
}

/*
 * The control file changed: per-VM halt polling, and C's mode, sleep and
 * busy-loop budget. The guest reads kick_on once at boot, so a C started
 * without kicks (sleep, poll) cannot begin waiting for them: that switch
 * is refused (counted, and said in the results' note).
 */
static void consumer_apply_ctl(struct kvmdev *d, enum pcdev_mode *mode,
			       uint64_t *busyloop, struct timespec *yc)
{
	const struct vs_pcdev_ctl *f = &d->pctl.cur;
	enum pcdev_mode m = pcdev_ctl_consumer_mode(f);

	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_HALT_POLL,
		.args[0] = f->halt_poll_ns > UINT32_MAX ? UINT32_MAX : f->halt_poll_ns,
	};

	if (ioctl(d->vm_fd, KVM_ENABLE_CAP, &cap))
		d->ctl_hp_failed++;
	if ((m == PCDEV_NOTIFY || m == PCDEV_BUSYLOOP) && !d->ctl->kick_on) {
		d->ctl_refused++;
		return;
	}
	*mode = m;
	if (f->consumer_sleep_ns) {
		yc->tv_sec = (time_t)(f->consumer_sleep_ns / 1000000000ull);
		yc->tv_nsec = (long)(f->consumer_sleep_ns % 1000000000ull);
	}
	if (f->consumer_busyloop_ns && f->consumer_busyloop_ns < PCDEV_CTL_POLL_NS)
		*busyloop = (uint64_t)llround((double)f->consumer_busyloop_ns *
					      d->tsc_per_ns);
}

static void *consumer_thread_fn(void *arg)
{
	struct kvmdev *d = arg;
	const struct pcdev_config *cfg = d->cfg;
	struct vs_vring_cons c = { 0 };
	uint64_t wc = (uint64_t)llround(cfg->wc_ns * d->tsc_per_ns);
	uint64_t busyloop = (uint64_t)llround(cfg->busyloop_ns * d->tsc_per_ns);
	struct timespec yc = {
		.tv_sec = (time_t)(cfg->yc_ns / 1e9),
		.tv_nsec = (long)fmod(cfg->yc_ns, 1e9),
	};
	uint64_t seq = 0, t0;
	double cpu0, c0;
	bool idle = false;	/* C waited since it last found items */
	enum pcdev_mode mode = cfg->c_mode;

	pthread_setname_np(pthread_self(), "vs-vhost");
	d->cons_tid = gettid();
	if (cfg->timerslack_ns >= 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)(cfg->timerslack_ns > 0 ?
		      cfg->timerslack_ns : 1), 0, 0, 0);
	vs_vring_cons_disable_kick(&d->vr, &c);
	/* Start with the guest: nothing to do before, and the trace and CPU
	 * time count from go. */
	pthread_mutex_lock(&d->lock);
	while (!d->go && !d->abort && d->state != VCPU_FAILED)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
	cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);

	for (;;) {
		unsigned int n = vs_vring_cons_pending(&d->vr, &c);

		if (n) {
			if (idle)
				d->wakeups++;
			idle = false;
			while (n--)
				consume_one(d, &c, wc, &seq);
			continue;
		}
		if (!idle)
			pcdev_trace_add(&d->c_trace, PCDEV_EV_C_WAIT, vs_rdtsc(), seq);
		/* DONE comes after the guest's last publish: once it is seen,
		 * an empty ring means everything was consumed. */
		if (atomic_load(&d->guest_done)) {
			if (!vs_vring_cons_pending(&d->vr, &c))
				break;
			continue;
		}
		if (d->pctl.on && pcdev_ctl_poll(&d->pctl, vs_rdtsc()))
			consumer_apply_ctl(d, &mode, &busyloop, &yc);
		switch (mode) {
		case PCDEV_NOTIFY:
			if (consumer_block(d, &c))
				idle = true;
			break;
		case PCDEV_SLEEP:
			t0 = vs_rdtsc();
			c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
			clock_nanosleep(CLOCK_MONOTONIC, 0, &yc, NULL);
			pcdev_avg_add(&d->yz, (uint64_t)(now_ns(CLOCK_THREAD_CPUTIME_ID) - c0));
			pcdev_avg_add(&d->yc, vs_rdtsc() - t0);
			d->sleeps_c++;
			idle = true;
			break;
		case PCDEV_POLL:
			vs_cpu_relax();
			idle = true;
			break;
		case PCDEV_BUSYLOOP:
			idle = true;
			t0 = vs_rdtsc();
			while (!vs_vring_cons_pending(&d->vr, &c) &&
			       !atomic_load(&d->guest_done) &&
			       vs_rdtsc() - t0 < busyloop)
				vs_cpu_relax();
			if (!vs_vring_cons_pending(&d->vr, &c))
				consumer_block(d, &c);
			break;
		}
	}
	d->cpu_c_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	d->c_mode_now = mode;
	return NULL;
}

/* ---- published counters ------------------------------------------------ */

/* Live counters for outside observers; the guest's are read racily, which
 * is fine for progress counters (each is one aligned 64-bit load). */
static void publish(struct kvmdev *d)
{
	struct pcdev_counters c = {
		.items_produced = d->ctl->produced,
		.items_consumed = atomic_load(&d->consumed),
		.kicks = d->ctl->kicks,
		.interrupts = atomic_load(&d->interrupts_sent),
		.producer_tid = d->vcpu_tid,	/* P runs on the vCPU */
		.consumer_tid = d->cons_tid,
		.vcpu_tid = d->vcpu_tid,
		/* item latencies in host TSC ticks (guest stamps rebased) */
		.hist = d->hist,
		.tsc_per_ns = d->tsc_per_ns,
	};

	pcdev_stats_publish(d->cfg, &c);
}

/* ---- results ----------------------------------------------------------- */

static void append_note(struct pcdev_results *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void append_note(struct pcdev_results *res, const char *fmt, ...)
{
	size_t used = strlen(res->note);
	va_list ap;

	if (used && used + 2 < sizeof(res->note)) {
		strcpy(res->note + used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(res->note + used, sizeof(res->note) - used, fmt, ap);
	va_end(ap);
}

static uint64_t stat_value(const struct pcdev_results *res, const char *name)
{
	unsigned int i;

	for (i = 0; i < res->n_kvm_stats; i++)
		if (!strcmp(res->kvm_stats[i].name, name))
			return res->kvm_stats[i].value;
	return 0;
}

/* Raw counts and Sec. 4.2.1 estimates; pcdev_run() derives the rest. */
static void fill_results(struct kvmdev *d, struct pcdev_results *res)
{
	const struct pcdev_config *cfg = d->cfg;
	struct pcdev_guest_ctl *g = d->ctl;
	struct pcdev_measured *m = &res->measured;
	struct pcdev_latency *l = &res->latency;
	double tpn = d->tsc_per_ns, gns = g->tsc_khz / 1e6;
	uint64_t busy;

	res->items = atomic_load(&d->consumed);
	res->latency_sample = 1;	/* every item the guest stamps */
	res->elapsed_ns = d->t_done_ns - d->t_go_ns;
	res->cpu_producer_ns = d->cpu_p_ns;
	res->cpu_consumer_ns = d->cpu_c_ns;
	res->kicks = g->kicks;
	res->interrupts = atomic_load(&d->interrupts_sent);
	res->spurious_kicks = d->spurious_kicks;
	res->spurious_interrupts = g->spurious;
	res->sleeps_p = g->sleeps;
	res->sleeps_c = d->sleeps_c;
	res->blocks_p = g->blocks;
	res->blocks_c = d->blocks_c;
	res->c_wakeups = d->wakeups;

	/* Wp achieved: P's time neither waiting for room nor kicking, per
	 * item. It includes the producer loop's own instructions, which is
	 * what Wp costs when the guest is emulated. */
	busy = g->tsc_end - g->tsc_start - g->wait_cycles - g->kick_cycles;
	m->wp = g->produced ? busy / gns / g->produced : NAN;
	m->wc = pcdev_avg_ns(&d->wc, tpn);
	m->np = g->kicks ? g->kick_cycles / gns / g->kicks : NAN;
	m->nc = pcdev_avg_ns(&d->nc, tpn);
	m->sp = g->wakes ? g->wake_cycles / gns / g->wakes : NAN;
	m->sc = pcdev_avg_ns(&d->sc, tpn);
	/* P's waits in sleep mode are TSC-deadline sleeps: effective Yp. */
	m->yp = g->sleeps ? g->wait_cycles / gns / g->sleeps : NAN;
	m->yc = pcdev_avg_ns(&d->yc, tpn);
	m->yz = pcdev_avg_ns(&d->yz, 1.0);
	if (d->hist->count) {
		l->p50 = pcdev_hist_quantile(d->hist, 0.50) / tpn;
		l->p95 = pcdev_hist_quantile(d->hist, 0.95) / tpn;
		l->p98 = pcdev_hist_quantile(d->hist, 0.98) / tpn;
		l->p99 = pcdev_hist_quantile(d->hist, 0.99) / tpn;
		l->max = (double)d->hist->max / tpn;
	} else {
		l->p50 = l->p95 = l->p98 = l->p99 = l->max = NAN;
	}

	/* Say when the guest could not do what was asked. */
	if (isfinite(m->wp) && fabs(m->wp - cfg->wp_ns) > fmax(0.1 * cfg->wp_ns, 200))
		append_note(res, "Wp achieved %.0f ns, asked %.0f ns%s", m->wp,
			    cfg->wp_ns, stat_value(res, "insn_emulation") > res->items ?
			    ": KVM emulates the guest's code" : "");
	if (d->seq_errors)
		append_note(res, "%llu items out of order",
			    (unsigned long long)d->seq_errors);
	if (g->produced != res->items)
		append_note(res, "guest produced %llu items, host consumed %llu",
			    (unsigned long long)g->produced,
			    (unsigned long long)res->items);
}

/* P's records live in guest RAM with guest TSC stamps: move them to the
 * host's time base, then merge with C's. */
static int write_trace(struct kvmdev *d, FILE *f)
{
	struct pcdev_trace_buf p = {
		.rec = (struct pcdev_trace_rec *)(d->mem + d->trace_gpa),
		.n = d->ctl->trace_n,
		.mask = (1ull << PCDEV_TRACE_ORDER) - 1,
	};
	uint64_t i, kept = p.n < p.mask + 1 ? p.n : p.mask + 1;

	for (i = 0; i < kept; i++)
		p.rec[i].tsc -= (uint64_t)d->tsc_offset;
	return pcdev_trace_write(f, &p, &d->c_trace, d->tsc_go, d->tsc_per_ns);
}

/* ---- entry point ------------------------------------------------------- */

static int start_threads(struct kvmdev *d)
{
	struct sigaction sa;
	sigset_t block, old;
	int err;

	/* Real-time signal to pull the vCPU thread out of KVM_RUN. */
	d->kick_signal = SIGRTMIN + 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_signal_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(d->kick_signal, &sa, &d->old_sa))
		return -errno;
	d->sa_installed = true;

	/* The threads start with every signal blocked: SIGINT and SIGTERM go to
	 * the caller's thread, whose handler sets cfg->stop. */
	sigfillset(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	err = -pthread_create(&d->vcpu_thread, NULL, vcpu_thread_fn, d);
	if (!err) {
		d->vcpu_started = true;
		err = -pthread_create(&d->cons_thread, NULL, consumer_thread_fn, d);
		if (!err)
			d->cons_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		set_why(d, "pthread_create: %s", strerror(-err));
		return err;
	}
	/* Both sides wait (for the guest's READY, for go) until this is done. */
	err = side_setup(d, d->vcpu_thread, d->cfg->pin_p, d->cfg->rt_priority,
			 "vCPU thread");
	if (!err)
		err = side_setup(d, d->cons_thread, d->cfg->pin_c,
				 d->cfg->rt_priority, "vs-vhost");
	/* The main thread outranks real-time sides so that it can always end
	 * the run on time. */
	if (!err && d->cfg->rt_priority > 0) {
		struct sched_param sp = { .sched_priority = d->cfg->rt_priority + 1 };

		d->main_rt = !pthread_getschedparam(pthread_self(), &d->main_policy,
						    &d->main_param) &&
			     !pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
	return err;
}

/* Wait on d->cond until pred holds or `deadline` (CLOCK_MONOTONIC ns), or
 * with until_stop, until the caller's stop flag is set. */
static void wait_state_until(struct kvmdev *d, double deadline,
			     bool (*pred)(struct kvmdev *), bool until_stop)
{
	pthread_mutex_lock(&d->lock);
	while (!pred(d)) {
		double left = deadline - now_ns(CLOCK_MONOTONIC);
		struct timespec ts;

		if (left <= 0)
			break;
		if (left > 10e6)
			left = 10e6;	/* re-check cfg->stop every 10 ms */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)left;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&d->cond, &d->lock, &ts);
		if (until_stop && d->cfg->stop && *d->cfg->stop)
			break;
	}
	pthread_mutex_unlock(&d->lock);
}

static bool vcpu_booted(struct kvmdev *d)
{
	return d->state != VCPU_BOOTING;
}

static bool vcpu_ended(struct kvmdev *d)
{
	return d->state == VCPU_DONE || d->state == VCPU_FAILED;
}

static void stop_guest(struct kvmdev *d)
{
	uint64_t one = 1;

	d->ctl->stop = 1;
	/* Wake a HLT: the STOP vector's handler returns, the loop sees stop. */
	if (write(d->stop_fd, &one, sizeof(one)) < 0) {
		/* only fails if the counter is full: the guest is awake then */
	}
}

static void stop_threads(struct kvmdev *d)
{
	if (d->vcpu_started) {
		bool ended;

		pthread_mutex_lock(&d->lock);
		d->abort = !d->go;
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
		stop_guest(d);
		wait_state_until(d, now_ns(CLOCK_MONOTONIC) + STOP_TIMEOUT_NS,
				 vcpu_ended, false);
		pthread_mutex_lock(&d->lock);
		ended = vcpu_ended(d);
		pthread_mutex_unlock(&d->lock);
		if (!ended) {
			/* immediate_exit makes a KVM_RUN entered after the
			 * signal return at once; the signal ends one that is
			 * already inside. Repeat until the thread notices. */
			atomic_store(&d->force_exit, true);
			d->run->immediate_exit = 1;
			while (!ended) {
				pthread_kill(d->vcpu_thread, d->kick_signal);
				wait_state_until(d, now_ns(CLOCK_MONOTONIC) + 10e6,
						 vcpu_ended, false);
				pthread_mutex_lock(&d->lock);
				ended = vcpu_ended(d);
				pthread_mutex_unlock(&d->lock);
			}
		}
		pthread_join(d->vcpu_thread, NULL);
		d->vcpu_started = false;
	}
	if (d->cons_started) {
		atomic_store(&d->guest_done, true);
		wake_consumer(d);
		pthread_join(d->cons_thread, NULL);
		d->cons_started = false;
	}
	if (d->sa_installed) {
		sigaction(d->kick_signal, &d->old_sa, NULL);
		d->sa_installed = false;
	}
	if (d->main_rt) {
		pthread_setschedparam(pthread_self(), d->main_policy, &d->main_param);
		d->main_rt = false;
	}
}

static bool time_to_stop(struct kvmdev *d)
{
	const struct pcdev_config *cfg = d->cfg;

	if (cfg->stop && *cfg->stop)
		return true;
	return cfg->duration_ns > 0 &&
	       now_ns(CLOCK_MONOTONIC) - d->t_go_ns >= cfg->duration_ns;
}

int pcdev_kvm_run(const struct pcdev_config *cfg, struct pcdev_results *res)
{
	struct kvmdev *d;
	double next_publish;
	FILE *trace = NULL;
	int err;

	if (!cfg || !res || !vs_vring_num_ok(cfg->len) || !cfg->kp ||
	    !cfg->kc || cfg->kp > cfg->len || cfg->kc > cfg->len)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = cfg;
	d->intr_on = cfg->p_mode == PCDEV_NOTIFY || cfg->p_mode == PCDEV_BUSYLOOP;
	d->kvm_fd = d->vm_fd = d->vcpu_fd = -1;
	d->kick_fd = d->used_fd = d->stop_fd = -1;
	d->st_vm.fd = d->st_vcpu.fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->why_lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->tsc_per_ns = vs_tsc_per_ns();
	d->hist = calloc(1, sizeof(*d->hist));
	err = d->hist ? 0 : -ENOMEM;
	if (!err && cfg->trace_path) {
		err = pcdev_trace_alloc(&d->c_trace, PCDEV_TRACE_ORDER);
		if (!err) {
			trace = fopen(cfg->trace_path, "we");
			if (!trace)
				err = -errno;
		}
	}
	if (!err)
		err = vm_create(d);
	if (err)
		goto out;
	if (cfg->publish) {
		struct vs_pcdev_ctl init = { 0 };
		char path[256];
		uint64_t hp = 0;

		pcdev_ctl_from_mode(cfg->c_mode, cfg->yc_ns, cfg->busyloop_ns, &init);
		/* A VM starts with the module's halt_poll_ns. */
		if (cfg->halt_poll_ns >= 0)
			hp = (uint64_t)cfg->halt_poll_ns;
		else if (!vs_path(path, sizeof(path), "/sys/module/kvm/parameters/halt_poll_ns"))
			vs_read_u64(path, &hp);
		init.halt_poll_ns = hp;
		/* No control file, no live tuning: the run itself goes on. */
		pcdev_ctl_open(&d->pctl, &init);
	}
	err = start_threads(d);
	if (err)
		goto out_threads;

	/* Boot: the guest sets up its IDT and LAPIC, then exits READY. */
	wait_state_until(d, now_ns(CLOCK_MONOTONIC) + BOOT_TIMEOUT_NS, vcpu_booted,
			 true);
	pthread_mutex_lock(&d->lock);
	if (d->state != VCPU_READY) {
		if (d->state == VCPU_BOOTING) {
			err = cfg->stop && *cfg->stop ? -EINTR : -ETIMEDOUT;
			set_why(d, "guest did not boot");
		} else {
			err = d->vcpu_err ? d->vcpu_err : -EIO;
		}
		pthread_mutex_unlock(&d->lock);
		goto out_threads;
	}
	if (stats_read(&d->st_vm, d->st_vm.start) ||
	    stats_read(&d->st_vcpu, d->st_vcpu.start)) {
		pthread_mutex_unlock(&d->lock);
		err = -EIO;
		goto out_threads;
	}
	d->t_go_ns = now_ns(CLOCK_MONOTONIC);
	d->tsc_go = vs_rdtsc();
	d->go = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);

	next_publish = d->t_go_ns;
	for (;;) {
		bool ended;

		if (cfg->publish && now_ns(CLOCK_MONOTONIC) >= next_publish) {
			publish(d);
			next_publish += 100e6;
		}
		if (time_to_stop(d))
			break;
		wait_state_until(d, now_ns(CLOCK_MONOTONIC) + 10e6, vcpu_ended, true);
		pthread_mutex_lock(&d->lock);
		ended = vcpu_ended(d);
		pthread_mutex_unlock(&d->lock);
		if (ended)
			break;
	}

out_threads:
	stop_threads(d);
	if (!err && d->vcpu_err)
		err = d->vcpu_err;
	if (!err) {
		stats_collect(&d->st_vcpu, "", 0, res);
		stats_collect(&d->st_vm, "vm_", 0, res);
		stats_collect(&d->st_vcpu, "", 1, res);
		stats_collect(&d->st_vm, "vm_", 1, res);
		fill_results(d, res);
		if (d->pctl.changes)
			append_note(res, "control file changed %u time(s): consumer ended in %s mode",
				    d->pctl.changes, pcdev_mode_name(d->c_mode_now));
		if (d->ctl_refused)
			append_note(res, "control file asked %u time(s) for kicks the guest was started without (sleep/poll): mode kept",
				    d->ctl_refused);
		if (d->ctl_hp_failed)
			append_note(res, "KVM_CAP_HALT_POLL from the control file failed %u time(s)",
				    d->ctl_hp_failed);
		if (trace)
			err = write_trace(d, trace);
	}
	if (cfg->publish)
		pcdev_stats_unpublish();
out:
	pcdev_ctl_close(&d->pctl);
	if (err && d->why[0])
		snprintf(res->note, sizeof(res->note), "%s", d->why);
	if (trace && fclose(trace) && !err)
		err = -EIO;
	if (err && trace)
		unlink(cfg->trace_path);
	pcdev_trace_free(&d->c_trace);
	vm_destroy(d);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->why_lock);
	free(d);
	return err;
}
