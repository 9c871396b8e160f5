// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kvm backend's VM, built as kvmtool builds one (and destroyed in
 * reverse): /dev/kvm and its capabilities, guest RAM with the payload, page
 * tables, GDT, the virtqueue and the control block (guest/abi.h), one vCPU
 * entered directly in long mode, the MSI routes with their irqfds, the kick
 * ioeventfd, and the binary statistics fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pcdev/kvm.h"
#include "pcdev/trace.h"
#include "pcdev/tsc.h"

/* The flat guest image, embedded by the Makefile (guest/blob.S). */
extern const unsigned char pcdev_guest_image[], pcdev_guest_image_end[];

#define GSI_USED	24	/* past the 24 IOAPIC pins: MSI routes only */
#define GSI_STOP	25
#define MSI_ADDR	0xfee00000u	/* physical destination, APIC ID 0 */

#define CPUID_1_ECX_X2APIC		(1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE	(1u << 24)
#define MSR_IA32_TSC			0x10

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
			pcdev_kvm_why(d, "/dev/kvm lacks %s", caps[i].name);
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
	struct vs_vring_cons cs = { 0 };
	unsigned int i;

	vs_vring_init(&d->vr, d->mem + PCDEV_G_RING, cfg->len);
	/* C wants no kicks until it decides to wait. */
	vs_vring_cons_disable_kick(&d->vr, &cs);
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

/*
 * A queue of the multi-queue device: P's rate mode (abi.h). The gaps are
 * drawn here as mq.c's thread producers draw theirs (exponential of mean
 * burst/rate from the queue's seed, or the period itself); the guest cycles
 * through PCDEV_G_GAPS of them.
 */
static void vm_build_rate(struct kvmdev *d, double guest_tsc_per_ns)
{
	const struct pcdev_kvm_queue_cfg *q = d->qcfg;
	struct pcdev_guest_ctl *c = d->ctl;
	uint64_t *gaps = (uint64_t *)(d->mem + d->gaps_gpa);
	double period = 1e9 * q->burst / q->rate * guest_tsc_per_ns, u;
	unsigned int i, seed = q->seed;

	for (i = 0; i < PCDEV_G_GAPS; i++) {
		u = ((double)rand_r(&seed) + 1.0) / ((double)RAND_MAX + 2.0);
		gaps[i] = (uint64_t)(q->periodic ? period : -log(u) * period) + 1;
	}
	c->burst = q->burst;
	c->gaps_mask = PCDEV_G_GAPS - 1;
	c->gaps_gpa = d->gaps_gpa;
	c->phase_cycles = (uint64_t)llround(q->phase_ns * guest_tsc_per_ns);
	c->retry_cycles = (uint64_t)llround(q->retry_ns * guest_tsc_per_ns) + 1;
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
	if (d->qcfg)
		vm_build_rate(d, guest_tsc_per_ns);
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
	err = pcdev_kvm_ioctl(d, d->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid,
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
		pcdev_kvm_why(d, "KVM does not offer %s to guests",
			!have_x2apic ? "x2APIC" : "the TSC-deadline timer");
		err = -EOPNOTSUPP;
		goto out;
	}
	err = pcdev_kvm_ioctl(d, d->vcpu_fd, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
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

	err = pcdev_kvm_ioctl(d, d->vcpu_fd, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
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
	err = pcdev_kvm_ioctl(d, d->vcpu_fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
	if (err)
		return err;
	memset(&regs, 0, sizeof(regs));
	regs.rip = PCDEV_G_LOAD;
	regs.rsp = PCDEV_G_STACK_TOP;
	regs.rdi = PCDEV_G_CTL;
	regs.rflags = 0x2;		/* IF clear until the IDT is loaded */
	return pcdev_kvm_ioctl(d, d->vcpu_fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");
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
		pcdev_kvm_why(d, "KVM_GET_MSRS(IA32_TSC): %s", strerror(errno));
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
	err = pcdev_kvm_ioctl(d, d->vm_fd, KVM_SET_GSI_ROUTING, &routing,
			"KVM_SET_GSI_ROUTING");
	if (err)
		return err;

	memset(&irqfd, 0, sizeof(irqfd));
	irqfd.fd = d->used_fd;
	irqfd.gsi = GSI_USED;
	err = pcdev_kvm_ioctl(d, d->vm_fd, KVM_IRQFD, &irqfd, "KVM_IRQFD");
	if (err)
		return err;
	irqfd.fd = d->stop_fd;
	irqfd.gsi = GSI_STOP;
	err = pcdev_kvm_ioctl(d, d->vm_fd, KVM_IRQFD, &irqfd, "KVM_IRQFD");
	if (err)
		return err;

	memset(&ioev, 0, sizeof(ioev));
	ioev.addr = PCDEV_PORT_KICK;
	ioev.len = 2;
	ioev.fd = d->kick_fd;
	ioev.flags = KVM_IOEVENTFD_FLAG_PIO;
	return pcdev_kvm_ioctl(d, d->vm_fd, KVM_IOEVENTFD, &ioev, "KVM_IOEVENTFD");
}

int pcdev_kvm_vm_create(struct kvmdev *d)
{
	const struct pcdev_config *cfg = d->cfg;
	size_t image = pcdev_guest_image_end - pcdev_guest_image;
	struct kvm_userspace_memory_region region;
	double guest_tsc_per_ns;
	int err, r, mmap_size;

	d->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (d->kvm_fd < 0) {
		err = -errno;
		pcdev_kvm_why(d, "cannot open /dev/kvm: %s", strerror(errno));
		return err;
	}
	r = ioctl(d->kvm_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		pcdev_kvm_why(d, "/dev/kvm API version %d, expected %d", r,
			KVM_API_VERSION);
		return -EOPNOTSUPP;
	}
	err = vm_check_caps(d);
	if (err)
		return err;
	if (cfg->halt_poll_ns >= 0 &&
	    ioctl(d->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL) <= 0) {
		pcdev_kvm_why(d, "/dev/kvm lacks KVM_CAP_HALT_POLL (--halt-poll-ns)");
		return -EOPNOTSUPP;
	}
	if (image > PCDEV_G_LOAD_MAX)
		return -E2BIG;

	d->vm_fd = ioctl(d->kvm_fd, KVM_CREATE_VM, 0);
	if (d->vm_fd < 0) {
		err = -errno;
		pcdev_kvm_why(d, "KVM_CREATE_VM: %s", strerror(errno));
		return err;
	}
	/* Intel needs a TSS region below 4 GB even if the guest never uses
	 * real mode; put it out of the way at the top of the 32-bit space. */
	ioctl(d->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	err = pcdev_kvm_ioctl(d, d->vm_fd, KVM_CREATE_IRQCHIP, NULL,
			"KVM_CREATE_IRQCHIP");
	if (err)
		return err;
	if (cfg->halt_poll_ns >= 0) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_HALT_POLL,
			.args[0] = (uint64_t)cfg->halt_poll_ns,
		};

		err = pcdev_kvm_ioctl(d, d->vm_fd, KVM_ENABLE_CAP, &cap,
				"KVM_ENABLE_CAP(KVM_CAP_HALT_POLL)");
		if (err)
			return err;
	}

	d->mem_size = items_gpa(cfg->len) + (uint64_t)cfg->len * ITEM_SIZE;
	if (d->qcfg) {
		d->gaps_gpa = vs_vring_align_up(d->mem_size, 4096);
		d->mem_size = d->gaps_gpa + PCDEV_G_GAPS * sizeof(uint64_t);
	}
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
	err = pcdev_kvm_ioctl(d, d->vm_fd, KVM_SET_USER_MEMORY_REGION, &region,
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
		pcdev_kvm_why(d, "KVM_CREATE_VCPU: %s", strerror(errno));
		return err;
	}
	mmap_size = ioctl(d->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run))
		return -EIO;
	d->kvm_run_size = mmap_size;
	d->kvm_run = mmap(NULL, d->kvm_run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      d->vcpu_fd, 0);
	if (d->kvm_run == MAP_FAILED) {
		d->kvm_run = NULL;
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

	/* A queue of the multi-queue device kicks its poller's eventfd; a dup,
	 * so that this VM closes its own fd like any other. */
	d->kick_fd = d->qcfg ? fcntl(d->qcfg->kick_fd, F_DUPFD_CLOEXEC, 0) :
		     eventfd(0, EFD_CLOEXEC);
	d->used_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->kick_fd < 0 || d->used_fd < 0 || d->stop_fd < 0)
		return -errno;
	err = vm_setup_irqs(d);
	if (err)
		return err;
	err = pcdev_kvm_stats_open(&d->st_vm, d->vm_fd);
	if (err) {
		pcdev_kvm_why(d, "KVM_GET_STATS_FD (VM): %s", strerror(-err));
		return err;
	}
	err = pcdev_kvm_stats_open(&d->st_vcpu, d->vcpu_fd);
	if (err)
		pcdev_kvm_why(d, "KVM_GET_STATS_FD (vCPU): %s", strerror(-err));
	return err;
}

void pcdev_kvm_vm_destroy(struct kvmdev *d)
{
	pcdev_kvm_stats_close(&d->st_vm);
	pcdev_kvm_stats_close(&d->st_vcpu);
	if (d->kvm_run)
		munmap(d->kvm_run, d->kvm_run_size);
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
}
