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
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/sysfs.h"
#include "pcdev/kvm.h"
#include "pcdev/tsc.h"

/* P's trace records are written by the guest in trace.h's layout. */
_Static_assert(sizeof(struct pcdev_guest_trace_rec) == sizeof(struct pcdev_trace_rec),
	       "guest trace record layout");
_Static_assert(PCDEV_G_TR_PUBLISH == PCDEV_EV_PUBLISH &&
	       PCDEV_G_TR_KICK == PCDEV_EV_KICK &&
	       PCDEV_G_TR_P_WAIT == PCDEV_EV_P_WAIT, "guest trace types");

#define BOOT_TIMEOUT_NS	10e9	/* emulated guest: boot takes ms, not s */
#define STOP_TIMEOUT_NS	3e9	/* then the vCPU is kicked out by force */

static double now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

void pcdev_kvm_why(struct kvmdev *d, const char *fmt, ...)
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

int pcdev_kvm_ioctl(struct kvmdev *d, int fd, unsigned long req, void *arg,
		    const char *name)
{
	if (ioctl(fd, req, arg) < 0) {
		int err = -errno;

		pcdev_kvm_why(d, "%s: %s", name, strerror(-err));
		return err;
	}
	return 0;
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
			pcdev_kvm_why(d, "%s: cannot pin to CPU %d: %s", what, cpu,
				strerror(err));
			return -err;
		}
	}
	if (prio > 0) {
		err = pthread_setschedparam(t, SCHED_FIFO, &sp);
		if (err) {
			pcdev_kvm_why(d, "%s: SCHED_FIFO %d: %s", what, prio,
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
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static void kick_signal_handler(int sig)
{
	/* Only there to make KVM_RUN return -EINTR. */
}

/* Returns false when the run loop must end. */
static bool vcpu_handle_io(struct kvmdev *d, bool *started)
{
	struct kvm_run *run = d->kvm_run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t ev;
	bool go;

	if (run->io.port != PCDEV_PORT_CTL || run->io.size != 4 ||
	    run->io.direction != KVM_EXIT_IO_OUT) {
		pcdev_kvm_why(d, "guest: unexpected %s of port %#x (size %u)",
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
			pcdev_kvm_why(d, "guest payload does not match this VMM "
				"(rebuild virtsync)");
		else
			pcdev_kvm_why(d, "guest exception %u at rip %#llx (error %#llx)",
				d->ctl->panic_vector,
				(unsigned long long)d->ctl->panic_rip,
				(unsigned long long)d->ctl->panic_error);
		d->vcpu_err = -EFAULT;
		return false;
	}
	pcdev_kvm_why(d, "guest: unknown control event %u", ev);
	d->vcpu_err = -EIO;
	return false;
}

static void *vcpu_thread_fn(void *arg)
{
	struct kvmdev *d = arg;
	double cpu0 = 0;
	bool running = true;
	sigset_t set;

	char name[16];

	snprintf(name, sizeof(name), d->qcfg ? "vs-mqvcpu%u" : "vs-vcpu0",
		 d->qcfg ? d->qcfg->idx : 0);
	pthread_setname_np(pthread_self(), name);
	d->vcpu_tid = gettid();
	sigemptyset(&set);
	sigaddset(&set, d->kick_signal);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (running) {
		bool started = false;

		if (ioctl(d->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				if (atomic_load(&d->force_exit)) {
					pcdev_kvm_why(d, "guest did not stop; vCPU stopped by force");
					d->vcpu_err = -ETIMEDOUT;
					break;
				}
				continue;
			}
			d->vcpu_err = -errno;
			pcdev_kvm_why(d, "KVM_RUN: %s", strerror(errno));
			break;
		}
		switch (d->kvm_run->exit_reason) {
		case KVM_EXIT_IO:
			running = vcpu_handle_io(d, &started);
			/* The READY exit returns once go is set: CPU time
			 * counts from there. */
			if (started)
				cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
			break;
		case KVM_EXIT_INTR:
			if (atomic_load(&d->force_exit)) {
				pcdev_kvm_why(d, "guest did not stop; vCPU stopped by force");
				d->vcpu_err = -ETIMEDOUT;
				running = false;
			}
			break;
		case KVM_EXIT_SHUTDOWN:
			pcdev_kvm_why(d, "guest shut down (triple fault)");
			d->vcpu_err = -EFAULT;
			running = false;
			break;
		case KVM_EXIT_FAIL_ENTRY:
			pcdev_kvm_why(d, "KVM_RUN: entry failed, reason %#llx",
				(unsigned long long)d->kvm_run->fail_entry.hardware_entry_failure_reason);
			d->vcpu_err = -EIO;
			running = false;
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			pcdev_kvm_why(d, "KVM internal error, suberror %u",
				d->kvm_run->internal.suberror);
			d->vcpu_err = -EIO;
			running = false;
			break;
		case KVM_EXIT_MMIO:
			pcdev_kvm_why(d, "guest: unexpected MMIO at %#llx",
				(unsigned long long)d->kvm_run->mmio.phys_addr);
			d->vcpu_err = -EIO;
			running = false;
			break;
		default:
			pcdev_kvm_why(d, "KVM_RUN: unexpected exit reason %u",
				d->kvm_run->exit_reason);
			d->vcpu_err = -EIO;
			running = false;
			break;
		}
	}
	if (cpu0)
		d->cpu_p_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	set_state(d, d->vcpu_err ? VCPU_FAILED : VCPU_DONE);
	/*
	 * DONE comes after the guest's last publish: the end of the run.
	 * The kick eventfd wakes vs-vhost, which drains what is left.
	 */
	pcdev_run_finish(d->run, vs_rdtsc());
	return NULL;
}


/* ---- the consumer, vs-vhost ------------------------------------------- */

/*
 * The control file changed: per-VM halt polling, and C's mode. The guest
 * reads kick_on once at boot, so a C started without kicks (sleep, poll)
 * cannot begin waiting for them: that switch is refused (counted, and said
 * in the results' note).
 */
static bool kvm_ctl_apply(struct pcdev_consumer *c, const struct vs_pcdev_ctl *f,
			  enum pcdev_mode m)
{
	struct kvmdev *d = c->backend;
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_HALT_POLL,
		.args[0] = f->halt_poll_ns > UINT32_MAX ? UINT32_MAX : f->halt_poll_ns,
	};

	if (ioctl(d->vm_fd, KVM_ENABLE_CAP, &cap))
		d->ctl_hp_failed++;
	if ((m == PCDEV_NOTIFY || m == PCDEV_BUSYLOOP) && !d->ctl->kick_on) {
		d->ctl_refused++;
		return false;
	}
	return true;
}

static const struct pcdev_consumer_ops kvm_consumer_ops = {
	.ctl_apply = kvm_ctl_apply,
};

static void *consumer_thread_fn(void *arg)
{
	struct kvmdev *d = arg;
	bool go;

	d->c.s.tid = gettid();
	pcdev_thread_setup("vs-vhost", d->cfg->timerslack_ns);
	/* Start with the guest: nothing to do before, and the trace and CPU
	 * time count from go. */
	pthread_mutex_lock(&d->lock);
	while (!d->go && !d->abort && d->state != VCPU_FAILED)
		pthread_cond_wait(&d->cond, &d->lock);
	go = d->go;
	pthread_mutex_unlock(&d->lock);
	if (go)
		pcdev_consumer_run(&d->c);
	return NULL;
}

/* ---- counters and results ---------------------------------------------- */

/* Live counters for outside observers; the guest's are read racily, which
 * is fine for progress counters (each is one aligned 64-bit load). */
static void kvm_counters(void *priv, struct pcdev_counters *c)
{
	struct kvmdev *d = priv;

	c->items_produced = d->ctl->produced;
	c->items_consumed = __atomic_load_n(&d->c.s.items, __ATOMIC_RELAXED);
	c->kicks = d->ctl->kicks;
	c->interrupts = __atomic_load_n(&d->c.s.notifies, __ATOMIC_RELAXED);
	c->producer_tid = d->vcpu_tid;	/* P runs on the vCPU */
	c->consumer_tid = d->c.s.tid;
	c->vcpu_tid = d->vcpu_tid;
	/* item latencies in host TSC ticks (guest stamps rebased) */
	c->hist = d->c.hist;
	c->tsc_per_ns = d->tsc_per_ns;
}

/* Raw counts and Sec. 4.2.1 estimates; pcdev_run() derives the rest. */
static int kvm_results(void *priv, struct pcdev_results *res)
{
	struct kvmdev *d = priv;
	const struct pcdev_config *cfg = d->cfg;
	struct pcdev_guest_ctl *g = d->ctl;
	struct pcdev_measured *m = &res->measured;
	double gns = g->tsc_khz / 1e6;
	uint64_t busy;

	if (d->vcpu_err)
		return d->vcpu_err;
	pcdev_kvm_stats_collect(&d->st_vcpu, "", 0, res);
	pcdev_kvm_stats_collect(&d->st_vm, "vm_", 0, res);
	pcdev_kvm_stats_collect(&d->st_vcpu, "", 1, res);
	pcdev_kvm_stats_collect(&d->st_vm, "vm_", 1, res);

	/* Wp achieved: P's time neither waiting for room nor kicking, per
	 * item. It includes the producer loop's own instructions, which is
	 * what Wp costs when the guest is emulated. */
	busy = g->tsc_end - g->tsc_start - g->wait_cycles - g->kick_cycles;
	m->wp = g->produced ? busy / gns / g->produced : NAN;
	if (isfinite(m->wp) && fabs(m->wp - cfg->wp_ns) > fmax(0.1 * cfg->wp_ns, 200))
		pcdev_note(res, "Wp achieved %.0f ns, asked %.0f ns%s", m->wp,
			   cfg->wp_ns, pcdev_kvm_stat_value(res, "insn_emulation") > d->c.s.items ?
			   ": KVM emulates the guest's code" : "");
	/* Sc: the guest's kick to C running; the guest's Np is its OUT's
	 * round trip, which C's wake-up overlaps, so nothing is taken out. */
	pcdev_consumer_results(&d->c, res);
	res->elapsed_ns = vs_tsc_to_ns(d->run->tsc_end - d->run->tsc_start);
	res->cpu_producer_ns = d->cpu_p_ns;
	res->kicks = g->kicks;
	res->spurious_interrupts = g->spurious;
	res->sleeps_p = g->sleeps;
	res->blocks_p = g->blocks;
	m->np = g->kicks ? g->kick_cycles / gns / g->kicks : NAN;
	m->sp = g->wakes ? g->wake_cycles / gns / g->wakes : NAN;
	/* P's waits in sleep mode are TSC-deadline sleeps: effective Yp. */
	m->yp = g->sleeps ? g->wait_cycles / gns / g->sleeps : NAN;
	if (g->produced != res->items)
		pcdev_note(res, "guest produced %llu items, host consumed %llu",
			   (unsigned long long)g->produced,
			   (unsigned long long)res->items);
	if (d->ctl_refused)
		pcdev_note(res, "control file asked %u time(s) for kicks the guest was started without (sleep/poll): mode kept",
			   d->ctl_refused);
	if (d->ctl_hp_failed)
		pcdev_note(res, "KVM_CAP_HALT_POLL from the control file failed %u time(s)",
			   d->ctl_hp_failed);
	return 0;
}

/* P's records live in guest RAM with guest TSC stamps: move them to the
 * host's time base, then merge with C's. */
static int kvm_write_trace(void *priv, FILE *f)
{
	struct kvmdev *d = priv;
	struct pcdev_trace_buf p = {
		.rec = (struct pcdev_trace_rec *)(d->mem + d->trace_gpa),
		.n = d->ctl->trace_n,
		.mask = (1ull << PCDEV_TRACE_ORDER) - 1,
	};
	uint64_t i, kept = p.n < p.mask + 1 ? p.n : p.mask + 1;

	for (i = 0; i < kept; i++)
		p.rec[i].tsc -= (uint64_t)d->tsc_offset;
	return pcdev_trace_write(f, &p, &d->c.s.trace, d->run->tsc_start,
				 d->tsc_per_ns);
}

/* ---- open, start, stop, close ------------------------------------------ */

struct kvmdev *pcdev_kvm_new(const struct pcdev_config *cfg, struct pcdev_run *run)
{
	struct kvmdev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cfg = cfg;
	d->run = run;
	d->kvm_fd = d->vm_fd = d->vcpu_fd = -1;
	d->kick_fd = d->used_fd = d->stop_fd = -1;
	d->st_vm.fd = d->st_vcpu.fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->why_lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->tsc_per_ns = vs_tsc_per_ns();
	return d;
}

static int kvm_open(const struct pcdev_config *cfg, struct pcdev_run *run,
		    void **priv)
{
	struct kvmdev *d = pcdev_kvm_new(cfg, run);
	struct pcdev_consumer *c;
	int err;

	if (!d)
		return -ENOMEM;
	*priv = d;
	c = &d->c;
	err = pcdev_consumer_init(c, cfg, run);
	if (!err)
		err = pcdev_kvm_vm_create(d);
	if (err)
		return err;
	/* The guest stops itself at the item cap, and is stopped from here
	 * at the deadline or on *stop: C only watches the end of the run and
	 * then consumes what the guest published before its DONE. */
	c->cap = 0;
	c->drain = true;
	c->vr = d->vr;
	c->items = d->items;
	c->kick_fd = d->kick_fd;
	c->intr_fd = d->used_fd;
	c->p_tsc_offset = d->tsc_offset;
	c->kick_tsc = &d->ctl->kick_tsc;
	c->intr_tsc = &d->ctl->irq_sent_tsc;
	c->ops = &kvm_consumer_ops;
	c->backend = d;
	/* A byte written to PCDEV_PORT_KICK's eventfd wakes vs-vhost at the
	 * end of the run as well as for a kick. */
	pcdev_run_wake_on_end(run, d->kick_fd);
	if (cfg->publish) {
		char path[256];
		uint64_t hp = 0;

		/* A VM starts with the module's halt_poll_ns. */
		if (cfg->halt_poll_ns >= 0)
			hp = (uint64_t)cfg->halt_poll_ns;
		else if (!vs_path(path, sizeof(path), "/sys/module/kvm/parameters/halt_poll_ns"))
			vs_read_u64(path, &hp);
		pcdev_consumer_ctl_open(c, cfg, hp);
	}
	return 0;
}

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
		/* A queue of the multi-queue device is served by its caller. */
		if (!d->qcfg)
			err = -pthread_create(&d->cons_thread, NULL, consumer_thread_fn, d);
		if (!err && !d->qcfg)
			d->cons_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pcdev_kvm_why(d, "pthread_create: %s", strerror(-err));
		return err;
	}
	/* Both sides wait (for the guest's READY, for go) until this is done. */
	err = side_setup(d, d->vcpu_thread, d->cfg->pin_p, d->cfg->rt_priority,
			 "vCPU thread");
	if (!err && d->cons_started)
		err = side_setup(d, d->cons_thread, d->cfg->pin_c,
				 d->cfg->rt_priority, "vs-vhost");
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

int pcdev_kvm_boot(struct kvmdev *d)
{
	const struct pcdev_config *cfg = d->cfg;
	int err = start_threads(d);

	if (err)
		return err;
	/* Boot: the guest sets up its IDT and LAPIC, then exits READY. */
	wait_state_until(d, now_ns(CLOCK_MONOTONIC) + BOOT_TIMEOUT_NS, vcpu_booted,
			 true);
	pthread_mutex_lock(&d->lock);
	if (d->state != VCPU_READY) {
		if (d->state == VCPU_BOOTING) {
			err = cfg->stop && *cfg->stop ? -EINTR : -ETIMEDOUT;
			pcdev_kvm_why(d, "guest did not boot");
		} else {
			err = d->vcpu_err ? d->vcpu_err : -EIO;
		}
	} else if (pcdev_kvm_stats_mark(&d->st_vm) ||
		   pcdev_kvm_stats_mark(&d->st_vcpu)) {
		err = -EIO;
	}
	pthread_mutex_unlock(&d->lock);
	return err;
}

void pcdev_kvm_go(struct kvmdev *d)
{
	pthread_mutex_lock(&d->lock);
	d->go = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

bool pcdev_kvm_ended(struct kvmdev *d)
{
	bool ended;

	pthread_mutex_lock(&d->lock);
	ended = vcpu_ended(d);
	pthread_mutex_unlock(&d->lock);
	return ended;
}

static int kvm_start(void *priv)
{
	struct kvmdev *d = priv;
	int err = pcdev_kvm_boot(d);

	if (err)
		return err;
	d->run->tsc_start = vs_rdtsc();
	if (d->cfg->duration_ns > 0)
		d->run->deadline = d->run->tsc_start + vs_ns_to_tsc(d->cfg->duration_ns);
	pcdev_kvm_go(d);
	return 0;
}

void pcdev_kvm_stop_guest(struct kvmdev *d)
{
	uint64_t one = 1;

	d->ctl->stop = 1;
	/* Wake a HLT: the STOP vector's handler returns, the loop sees stop. */
	if (write(d->stop_fd, &one, sizeof(one)) < 0) {
		/* only fails if the counter is full: the guest is awake then */
	}
}

void pcdev_kvm_stop(struct kvmdev *d)
{
	if (d->vcpu_started) {
		bool ended;

		pthread_mutex_lock(&d->lock);
		d->abort = !d->go;
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
		pcdev_kvm_stop_guest(d);
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
			d->kvm_run->immediate_exit = 1;
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
	/* The vCPU thread ended the run as it exited; without one, end it. */
	pcdev_run_finish(d->run, vs_rdtsc());
	if (d->cons_started) {
		pthread_join(d->cons_thread, NULL);
		d->cons_started = false;
	}
	if (d->sa_installed) {
		sigaction(d->kick_signal, &d->old_sa, NULL);
		d->sa_installed = false;
	}
}

static const char *kvm_failure(void *priv)
{
	struct kvmdev *d = priv;

	return d->why[0] ? d->why : NULL;
}

static void kvm_stop(void *priv)
{
	pcdev_kvm_stop(priv);
}

void pcdev_kvm_free(struct kvmdev *d)
{
	if (!d)
		return;
	pcdev_consumer_destroy(&d->c);
	pcdev_kvm_vm_destroy(d);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->why_lock);
	free(d);
}

static void kvm_close(void *priv)
{
	pcdev_kvm_free(priv);
}

const struct pcdev_backend_ops pcdev_kvm_ops = {
	.name = "kvm",
	.open = kvm_open,
	.start = kvm_start,
	.counters = kvm_counters,
	.stop = kvm_stop,
	.results = kvm_results,
	.write_trace = kvm_write_trace,
	.failure = kvm_failure,
	.close = kvm_close,
};
