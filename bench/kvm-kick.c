// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-kick: a minimal real KVM VM with known event counts, the ground truth
 * for the probe tests and bench/probe-overhead. A real-mode guest
 *   1. initialises the in-kernel PIC (5 OUTs to 0x20/0x21),
 *   2. does N `out %al,%dx` to port 0x510 (kicks; with --ioeventfd they are
 *      completed in the kernel by KVM_IOEVENTFD, else each one exits to
 *      userspace as KVM_EXIT_IO),
 *   3. M times: announces "about to halt" (OUT 0x502, a userspace exit),
 *      then `sti; hlt`; the host injects IRQ 3 once per announcement
 *      (KVM_IRQ_LINE, or with --irqfd an eventfd write that a kworker turns
 *      into kvm_set_irq); the handler sends EOI (OUT 0x20) and IRETs,
 *   4. OUT 0x501: done.
 * It prints "name value" lines: the counts the probes must report.
 *
 * Usage: kvm-kick [--kicks N] [--halts M] [--ioeventfd] [--irqfd]
 *                 [--delay-us D] [--repeat R]
 * --repeat runs phase 2 and 3 R times (the guest restarts at its entry).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#define MEM_SIZE	0x10000
#define CODE_ADDR	0x1000
#define ARGS_ADDR	0x0f00
#define IRQ		3
#define PORT_KICK	0x510
#define PORT_DONE	0x501
#define PORT_READY	0x502

/* as --32 of the .code16 program described above (handler at +0x42). */
static const uint8_t guest[] = {
	0xb0, 0x11, 0xe6, 0x20, 0xb0, 0x08, 0xe6, 0x21, 0xb0, 0x04, 0xe6, 0x21,
	0xb0, 0x01, 0xe6, 0x21, 0xb0, 0xf7, 0xe6, 0x21, 0x66, 0x8b, 0x0e, 0x00,
	0x0f, 0xba, 0x10, 0x05, 0x66, 0x85, 0xc9, 0x74, 0x05, 0xee, 0x66, 0x49,
	0x75, 0xfb, 0x66, 0x8b, 0x0e, 0x04, 0x0f, 0x66, 0x85, 0xc9, 0x74, 0x0b,
	0xfa, 0xba, 0x02, 0x05, 0xee, 0xfb, 0xf4, 0x66, 0x49, 0x75, 0xf5, 0xfa,
	0xba, 0x01, 0x05, 0xee, 0xeb, 0xf9, 0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58,
	0xcf,
};
#define HANDLER_OFF	0x42
#define PIC_INIT_OUTS	5

struct vm {
	int kvm, vm, vcpu, irqfd;
	struct kvm_run *run;
	uint8_t *mem;
	sem_t ready;
	unsigned int halts, delay_us;
	bool use_irqfd;
	uint64_t injected;
	uint64_t injector_waits;	/* times the injector slept in sem_wait */
};

static __attribute__((noreturn)) void die(const char *what)
{
	fprintf(stderr, "kvm-kick: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *injector(void *arg)
{
	struct vm *v = arg;
	struct kvm_irq_level lvl = { .irq = IRQ };
	uint64_t one = 1;

	for (;;) {
		/* Only a wait that sleeps is a wake-up the vCPU can cause: when
		 * the injector is late (preempted after its last injection), the
		 * post finds it running and no sched_wakeup happens. */
		if (sem_trywait(&v->ready)) {
			__atomic_add_fetch(&v->injector_waits, 1, __ATOMIC_RELAXED);
			sem_wait(&v->ready);
		}
		if (v->delay_us)
			usleep(v->delay_us);
		/* Counted before it is raised: the guest's last halt ends with
		 * this interrupt, and main may print the moment it does, while
		 * a preempted injector has not counted it yet (49 of 50 with
		 * both CPUs busy). */
		__atomic_add_fetch(&v->injected, 1, __ATOMIC_RELAXED);
		if (v->use_irqfd) {
			if (write(v->irqfd, &one, sizeof(one)) != sizeof(one))
				die("irqfd write");
		} else {
			lvl.level = 1;
			if (ioctl(v->vm, KVM_IRQ_LINE, &lvl))
				die("KVM_IRQ_LINE");
			lvl.level = 0;
			if (ioctl(v->vm, KVM_IRQ_LINE, &lvl))
				die("KVM_IRQ_LINE");
		}
	}
	return NULL;
}

/* KVM binary statistics of the vCPU (KVM_GET_STATS_FD): the kernel's own
 * halt counters, printed as "kvm_<name> value"; histograms as their sum. */
static void print_vcpu_stats(int vcpu)
{
	struct kvm_stats_header hdr;
	struct kvm_stats_desc *d;
	size_t dsz;
	char *descs;
	int fd, i;

	fd = ioctl(vcpu, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return;
	if (pread(fd, &hdr, sizeof(hdr), 0) != sizeof(hdr))
		goto out;
	dsz = sizeof(*d) + hdr.name_size;
	descs = calloc(hdr.num_desc, dsz);
	if (!descs)
		goto out;
	if (pread(fd, descs, hdr.num_desc * dsz, hdr.desc_offset) !=
	    (ssize_t)(hdr.num_desc * dsz))
		goto out_free;
	for (i = 0; i < (int)hdr.num_desc; i++) {
		uint64_t vals[64], sum = 0;
		unsigned int k, n;

		d = (void *)(descs + i * dsz);
		if (strncmp(d->name, "halt_", 5))
			continue;
		n = d->size < 64 ? d->size : 64;
		if (pread(fd, vals, n * sizeof(uint64_t),
			  hdr.data_offset + d->offset) != (ssize_t)(n * sizeof(uint64_t)))
			continue;
		for (k = 0; k < n; k++)
			sum += vals[k];
		printf("kvm_%s %llu\n", d->name, (unsigned long long)sum);
	}
out_free:
	free(descs);
out:
	close(fd);
}

static void reset_vcpu(struct vm *v)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ss.base = 0;
	sregs.ss.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_ADDR;
	regs.rsp = 0x8000;
	regs.rflags = 2;
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");
}

int main(int argc, char **argv)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct vm v = { .irqfd = -1 };
	unsigned long kicks = 0, repeat = 1, r;
	uint64_t uexit_kicks = 0, ready_exits = 0, evcount = 0;
	struct timespec t0, t1;
	bool use_ioeventfd = false;
	int i, mmap_size, kickfd = -1;
	pthread_t th;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--kicks") && i + 1 < argc)
			kicks = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--halts") && i + 1 < argc)
			v.halts = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--delay-us") && i + 1 < argc)
			v.delay_us = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--ioeventfd"))
			use_ioeventfd = true;
		else if (!strcmp(argv[i], "--irqfd"))
			v.use_irqfd = true;
		else {
			fprintf(stderr, "usage: kvm-kick [--kicks N] [--halts M] "
				"[--ioeventfd] [--irqfd] [--delay-us D] [--repeat R]\n");
			return 2;
		}
	}
	if (kicks > UINT32_MAX) {
		fprintf(stderr, "kvm-kick: --kicks above 2^32-1\n");
		return 2;
	}

	v.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v.kvm < 0)
		die("/dev/kvm");
	v.vm = ioctl(v.kvm, KVM_CREATE_VM, 0);
	if (v.vm < 0)
		die("KVM_CREATE_VM");
	if (ioctl(v.vm, KVM_CREATE_IRQCHIP, 0))
		die("KVM_CREATE_IRQCHIP");
	v.mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v.mem == MAP_FAILED)
		die("mmap");
	memcpy(v.mem + CODE_ADDR, guest, sizeof(guest));
	/* real-mode IVT: vector 8 + IRQ -> 0000:handler */
	*(uint16_t *)(v.mem + (8 + IRQ) * 4) = CODE_ADDR + HANDLER_OFF;
	*(uint16_t *)(v.mem + (8 + IRQ) * 4 + 2) = 0;
	*(uint32_t *)(v.mem + ARGS_ADDR) = (uint32_t)kicks;
	*(uint32_t *)(v.mem + ARGS_ADDR + 4) = v.halts;
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)v.mem;
	if (ioctl(v.vm, KVM_SET_USER_MEMORY_REGION, &region))
		die("KVM_SET_USER_MEMORY_REGION");

	if (use_ioeventfd) {
		struct kvm_ioeventfd io = {
			.addr = PORT_KICK, .len = 1, .flags = KVM_IOEVENTFD_FLAG_PIO,
		};

		kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (kickfd < 0)
			die("eventfd");
		io.fd = kickfd;
		if (ioctl(v.vm, KVM_IOEVENTFD, &io))
			die("KVM_IOEVENTFD");
	}
	if (v.use_irqfd) {
		struct kvm_irqfd irqfd = { .gsi = IRQ };

		v.irqfd = eventfd(0, EFD_CLOEXEC);
		if (v.irqfd < 0)
			die("eventfd");
		irqfd.fd = (uint32_t)v.irqfd;
		if (ioctl(v.vm, KVM_IRQFD, &irqfd))
			die("KVM_IRQFD");
	}

	v.vcpu = ioctl(v.vm, KVM_CREATE_VCPU, 0);
	if (v.vcpu < 0)
		die("KVM_CREATE_VCPU");
	mmap_size = ioctl(v.kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	v.run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		     v.vcpu, 0);
	if (v.run == MAP_FAILED)
		die("mmap vcpu");
	sem_init(&v.ready, 0, 0);
	if (pthread_create(&th, NULL, injector, &v))
		die("pthread_create");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (r = 0; r < repeat; r++) {
		bool done = false;

		reset_vcpu(&v);
		while (!done) {
			if (ioctl(v.vcpu, KVM_RUN, 0) < 0) {
				if (errno == EINTR)
					continue;
				die("KVM_RUN");
			}
			switch (v.run->exit_reason) {
			case KVM_EXIT_IO:
				if (v.run->io.port == PORT_KICK)
					uexit_kicks++;
				else if (v.run->io.port == PORT_READY) {
					ready_exits++;
					sem_post(&v.ready);
				} else if (v.run->io.port == PORT_DONE)
					done = true;
				break;
			default:
				fprintf(stderr, "kvm-kick: unexpected exit %u\n",
					v.run->exit_reason);
				return 1;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (kickfd >= 0 && read(kickfd, &evcount, sizeof(evcount)) < 0 &&
	    errno != EAGAIN)
		die("read ioeventfd");

	{
		struct rusage ru;

		/* CPU time of every thread: the probes run in the vCPU
		 * thread's context, so their cost lands here. */
		getrusage(RUSAGE_SELF, &ru);
		printf("cpu_seconds %.6f\n", ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	printf("pid %d\n", (int)getpid());
	printf("seconds %.6f\n", (t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("kicks %lu\n", kicks * repeat);
	printf("kicks_userspace %llu\n", (unsigned long long)uexit_kicks);
	printf("kicks_ioeventfd %llu\n", (unsigned long long)evcount);
	printf("halts %llu\n", (unsigned long long)ready_exits);
	printf("injector_waits %llu\n",
	       (unsigned long long)__atomic_load_n(&v.injector_waits, __ATOMIC_RELAXED));
	printf("irqs %llu\n", (unsigned long long)__atomic_load_n(&v.injected,
								  __ATOMIC_RELAXED));
	/* every OUT the guest executed, in-kernel or not */
	printf("pio_outs %lu\n", repeat * (PIC_INIT_OUTS + kicks + 2UL * v.halts + 1));
	print_vcpu_stats(v.vcpu);
	return 0;
}
