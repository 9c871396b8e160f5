// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reference device's front end: configuration defaults and checks, the
 * run (a backend driven through its ops table: open, start, publish, stop
 * at the deadline or on *stop, results), the results every backend shares
 * (rates, CPU per item) and the published counters file outside observers
 * read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/safefile.h"
#include "core/sysfs.h"
#include "pcdev/backend.h"
#include "pcdev/pcdev.h"
#include "pcdev/ring.h"
#include "pcdev/stats.h"
#include "pcdev/tsc.h"

static const char *const mode_names[] = {
	[PCDEV_NOTIFY] = "notify",
	[PCDEV_SLEEP] = "sleep",
	[PCDEV_POLL] = "poll",
	[PCDEV_BUSYLOOP] = "busyloop",
};

const char *pcdev_mode_name(enum pcdev_mode m)
{
	return m <= PCDEV_BUSYLOOP ? mode_names[m] : "?";
}

int pcdev_mode_from_name(const char *name, enum pcdev_mode *m)
{
	unsigned int i;

	for (i = 0; i <= PCDEV_BUSYLOOP; i++)
		if (name && !strcmp(name, mode_names[i])) {
			*m = (enum pcdev_mode)i;
			return 0;
		}
	return -EINVAL;
}

const char *pcdev_backend_name(enum pcdev_backend b)
{
	return b == PCDEV_BACKEND_KVM ? "kvm" : "thread";
}

const char *pcdev_ring_name(enum pcdev_ring r)
{
	return r == PCDEV_RING_SLOTS ? "slots" : "virtio";
}

int pcdev_ring_from_name(const char *name, enum pcdev_ring *r)
{
	if (name && !strcmp(name, "virtio"))
		*r = PCDEV_RING_VIRTIO;
	else if (name && !strcmp(name, "slots"))
		*r = PCDEV_RING_SLOTS;
	else
		return -EINVAL;
	return 0;
}

void pcdev_config_default(struct pcdev_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = PCDEV_BACKEND_THREAD;
	cfg->p_mode = PCDEV_NOTIFY;
	cfg->c_mode = PCDEV_NOTIFY;
	cfg->len = 256;
	cfg->kp = 1;
	cfg->kc = 192;		/* virtio's 3/4 L */
	cfg->wp_ns = 1000;
	cfg->wc_ns = 1000;
	cfg->yp_ns = 50000;
	cfg->yc_ns = 50000;
	cfg->busyloop_ns = 50000;
	cfg->timerslack_ns = -1;
	cfg->duration_ns = 1e9;
	cfg->pin_p = -1;
	cfg->pin_c = -1;
	cfg->halt_poll_ns = -1;
	cfg->publish = true;
}

/*
 * The Sec. 8 case studies, scaled to this kind of machine (a nested KVM
 * guest; measured with --rt, pinned): a notification costs the notifier
 * Np ~ 17-25us and the woken side starts Sc ~ 12-25us later (paper: 1.1us
 * and 0.42us), and nanosleep(1us) lasts ~50-85us and burns Yz ~ 25-35us
 * of CPU (paper: 2.5us), about 15-20 times the paper's costs. Wp and Wc
 * are the paper's times 10 and the sleep 50us, twice the 26us sleep floor
 * DESIGN.md records (the paper: 5us, twice its 2.5us floor), so that both
 * mechanisms face costs of the same weight relative to the work as there;
 * the latency bound is 250us, about three effective 50us sleeps (the
 * paper: 10us for 5us sleeps).
 */
int pcdev_config_preset(const char *name, struct pcdev_config *cfg,
			double *dmax_ns)
{
	if (!name)
		return -ENOENT;
	if (!strcmp(name, "fc-example")) {
		/* Sec. 8.1: Wp 300ns, Wc 200ns, Y 5us, Dmax 10us. */
		cfg->len = 512;
		cfg->kp = 1;
		cfg->kc = 384;
		cfg->wp_ns = 3000;
		cfg->wc_ns = 2000;
		cfg->yp_ns = cfg->yc_ns = 50000;
		cfg->timerslack_ns = 1;
		*dmax_ns = 250000;
		return 0;
	}
	if (!strcmp(name, "fc-tune")) {
		/*
		 * The fast consumer `virtsync tune --auto` is shown on: Sec.
		 * 8.1's shape (Wc < Wp, L 512) with Wp 2us and Wc 500ns, short
		 * enough that this machine's 15-50us eventfd kick hurts (the
		 * consumer empties the ring and blocks after almost every
		 * item: ~250k items/s of the 500k Wp allows), long enough that
		 * a consumer sleeping ~120us finds a batch. Dmax as fc-example.
		 */
		cfg->len = 512;
		cfg->kp = 1;
		cfg->kc = 384;
		cfg->wp_ns = 2000;
		cfg->wc_ns = 500;
		/* Sec. 7.2's sleep for a fast consumer: Y = Dmax/2 - W. */
		cfg->yp_ns = cfg->yc_ns = 250000 / 2 - 2000;
		cfg->timerslack_ns = 1;
		*dmax_ns = 250000;
		return 0;
	}
	if (!strcmp(name, "fp-example")) {
		/* Sec. 8.2: Wp 200ns, Wc 300ns, L 512, kc 384, Yp 20us; the
		 * latency is the queueing delay L Wc, no bound is set. */
		cfg->len = 512;
		cfg->kp = 1;
		cfg->kc = 384;
		cfg->wp_ns = 2000;
		cfg->wc_ns = 3000;
		cfg->yp_ns = cfg->yc_ns = 50000;
		cfg->timerslack_ns = 1;
		*dmax_ns = NAN;
		return 0;
	}
	return -ENOENT;
}

static bool time_ok(double ns)
{
	return isfinite(ns) && ns >= 0;
}

bool pcdev_cpu_available(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return true;
	if (cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof(set), &set))
		return false;
	return CPU_ISSET(cpu, &set);
}

int pcdev_config_validate(const struct pcdev_config *cfg, const char **why)
{
	const char *w = NULL;

	if (cfg->backend != PCDEV_BACKEND_THREAD && cfg->backend != PCDEV_BACKEND_KVM)
		w = "backend: unknown";
	else if (cfg->p_mode > PCDEV_BUSYLOOP || cfg->c_mode > PCDEV_BUSYLOOP)
		w = "mode: unknown";
	else if (cfg->ring != PCDEV_RING_VIRTIO && cfg->ring != PCDEV_RING_SLOTS)
		w = "ring: unknown";
	else if (cfg->ring == PCDEV_RING_SLOTS && cfg->backend != PCDEV_BACKEND_THREAD)
		w = "ring: slots runs on the thread backend only (the guest payload drives the virtio ring)";
	else if (cfg->ring == PCDEV_RING_SLOTS && cfg->trace_path)
		w = "ring: slots has no event trace";
	else if (!vs_vring_num_ok(cfg->len))
		w = "len: must be a power of two from 2 to 32768";
	else if (cfg->kp < 1 || cfg->kp > cfg->len)
		w = "kp: must be between 1 and len";
	else if (cfg->kc < 1 || cfg->kc > cfg->len)
		w = "kc: must be between 1 and len";
	else if (!time_ok(cfg->wp_ns) || !time_ok(cfg->wc_ns))
		w = "wp/wc: must be a non-negative time";
	else if (!time_ok(cfg->yp_ns) || !time_ok(cfg->yc_ns))
		w = "yp/yc: must be a non-negative time";
	else if (!time_ok(cfg->busyloop_ns))
		w = "busyloop: must be a non-negative time";
	else if (isnan(cfg->timerslack_ns))
		w = "timerslack: not a number";
	else if (!time_ok(cfg->duration_ns) || (!cfg->duration_ns && !cfg->items))
		w = "duration: must be positive unless an item count is given";
	else if (cfg->rt_priority < 0 || cfg->rt_priority > 98)
		w = "rt: priority must be between 1 and 98 (0: off)";
	else if (!pcdev_cpu_available(cfg->pin_p) ||
		 !pcdev_cpu_available(cfg->pin_c))
		w = "pin: no such CPU available to this process";
	if (why)
		*why = w;
	return w ? -EINVAL : 0;
}

/* Everything derived from the backend's raw counts, shared by backends. */
static void results_derive(const struct pcdev_config *cfg,
			   struct pcdev_results *res)
{
	double secs = res->elapsed_ns / 1e9;
	uint64_t sleeps = res->sleeps_p + res->sleeps_c, wakeups;

	res->throughput_ops = res->items && secs > 0 ? res->items / secs : 0;
	res->t_ns = res->items ? res->elapsed_ns / res->items : NAN;
	res->cpu_producer = secs > 0 ? res->cpu_producer_ns / res->elapsed_ns : NAN;
	res->cpu_consumer = secs > 0 ? res->cpu_consumer_ns / res->elapsed_ns : NAN;
	res->e_ns = res->items ? (res->cpu_producer_ns + res->cpu_consumer_ns) /
					 res->items : NAN;
	/* Per wake-up of the side that waits: C when it is the faster one,
	 * P when it is (the model's batch in either family of regimes). */
	wakeups = res->c_wakeups >= res->p_wakeups ? res->c_wakeups : res->p_wakeups;
	res->batch = wakeups ? (double)res->items / wakeups : NAN;
	res->sleep_batch = sleeps ? (double)res->items / sleeps : NAN;
	res->spurious = res->spurious_kicks + res->spurious_interrupts;
}

static const struct pcdev_backend_ops *const backends[] = {
	[PCDEV_BACKEND_THREAD] = &pcdev_thread_ops,
	[PCDEV_BACKEND_KVM] = &pcdev_kvm_ops,
};

/* Observers are optional: a failed write must not end the run, but it is
 * counted and its first error kept, so that the caller can say so. */
static void publish(const struct pcdev_config *cfg,
		    const struct pcdev_backend_ops *ops, void *priv,
		    struct pcdev_results *res)
{
	struct pcdev_counters c = { 0 };
	int err;

	ops->counters(priv, &c);
	err = pcdev_stats_publish(cfg, &c);
	res->publishes++;
	if (err && !res->publish_failures++)
		res->publish_err = err;
}

/*
 * Until the run ends: publish every 100 ms, end it at the deadline or on
 * *stop (checked every 10 ms). The sides post run->finished when they end
 * it themselves (item cap, the guest's DONE, their own deadline check).
 */
static void run_main_loop(const struct pcdev_config *cfg,
			  const struct pcdev_backend_ops *ops, void *priv,
			  struct pcdev_run *run, struct pcdev_results *res)
{
	const uint64_t period = vs_ns_to_tsc(100e6), step = vs_ns_to_tsc(10e6);
	uint64_t now = vs_rdtsc(), next_publish = now, until;
	struct timespec ts;

	for (;;) {
		if (cfg->publish && now >= next_publish) {
			publish(cfg, ops, priv, res);
			next_publish = now + period;
		}
		if (run->done || now >= run->deadline || (cfg->stop && *cfg->stop))
			return;
		until = now + step;
		if (cfg->publish && next_publish < until)
			until = next_publish;
		if (run->deadline < until)
			until = run->deadline;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)vs_tsc_to_ns(until - now) + 1;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		if (!sem_clockwait(&run->finished, CLOCK_MONOTONIC, &ts))
			return;
		now = vs_rdtsc();
	}
}

/* Real-time sides spinning on every CPU would starve an ordinary main
 * thread and with it the published counters and the deadline: it outranks
 * them (it sleeps but for a file write every 100 ms). */
struct main_prio {
	bool raised;
	int policy;
	struct sched_param param;
};

static void main_prio_raise(const struct pcdev_config *cfg, struct main_prio *m)
{
	struct sched_param sp = { .sched_priority = cfg->rt_priority + 1 };

	m->raised = cfg->rt_priority > 0 &&
		    !pthread_getschedparam(pthread_self(), &m->policy, &m->param) &&
		    !pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}

static void main_prio_restore(struct main_prio *m)
{
	if (m->raised)
		pthread_setschedparam(pthread_self(), m->policy, &m->param);
	m->raised = false;
}

int pcdev_run(const struct pcdev_config *cfg, struct pcdev_results *res)
{
	const struct pcdev_backend_ops *ops;
	struct main_prio prio = { 0 };
	struct pcdev_run *run;
	const char *why;
	void *priv = NULL;
	FILE *trace = NULL;
	int err = pcdev_config_validate(cfg, NULL);

	if (err)
		return err;
	memset(res, 0, sizeof(*res));
	ops = cfg->ring == PCDEV_RING_SLOTS ? &pcdev_slots_ops : backends[cfg->backend];
	vs_tsc_per_ns();	/* calibrate before anything is timed */
	run = aligned_alloc(64, sizeof(*run));
	if (!run)
		return -ENOMEM;
	err = pcdev_run_init(run);
	if (err) {
		free(run);
		return err;
	}
	if (cfg->trace_path) {
		int tfd = vs_safe_create(cfg->trace_path, 0644);

		trace = tfd >= 0 ? fdopen(tfd, "w") : NULL;
		if (!trace) {
			err = tfd >= 0 ? -errno : tfd;
			if (tfd >= 0)
				close(tfd);
			goto out;
		}
	}
	err = ops->open(cfg, run, &priv);
	if (err)
		goto out;
	err = ops->start(priv);
	if (!err) {
		main_prio_raise(cfg, &prio);
		run_main_loop(cfg, ops, priv, run, res);
	}
	ops->stop(priv);
	main_prio_restore(&prio);
	if (cfg->publish)
		pcdev_stats_unpublish();
	if (!err)
		err = ops->results(priv, res);
	if (!err && trace)
		err = ops->write_trace(priv, trace);
	if (!err)
		results_derive(cfg, res);
out:
	if (err && priv && ops->failure && (why = ops->failure(priv)))
		snprintf(res->note, sizeof(res->note), "%s", why);
	if (trace && fclose(trace) && !err)
		err = -EIO;
	if (err && trace)
		unlink(cfg->trace_path);
	if (priv)
		ops->close(priv);
	pcdev_run_destroy(run);
	free(run);
	return err;
}

int pcdev_stats_publish(const struct pcdev_config *cfg,
			const struct pcdev_counters *c)
{
	char dir[PATH_MAX], path[PATH_MAX];
	static __thread char buf[32768];
	unsigned int i;
	int len, err;

	err = vs_path(dir, sizeof(dir), "/run/virtsync");
	if (!err)
		err = vs_path(path, sizeof(path), PCDEV_STATS_FMT, (int)getpid());
	if (err)
		return err;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	len = snprintf(buf, sizeof(buf),
		       "items_produced %llu\nitems_consumed %llu\n"
		       "kicks %llu\ninterrupts %llu\nbackend %s\nlen %u\n"
		       "producer_tid %d\nconsumer_tid %d\nvcpu_tid %d\n",
		       (unsigned long long)c->items_produced,
		       (unsigned long long)c->items_consumed,
		       (unsigned long long)c->kicks,
		       (unsigned long long)c->interrupts,
		       pcdev_backend_name(cfg->backend), cfg->len,
		       c->producer_tid, c->consumer_tid, c->vcpu_tid);
	if (cfg->dmax_ns > 0)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len, "dmax_ns %llu\n",
				(unsigned long long)cfg->dmax_ns);
	if (c->hist) {
		len += snprintf(buf + len, sizeof(buf) - (size_t)len,
				"tsc_per_ns %.6f\n", c->tsc_per_ns);
		for (i = 0; i < PCDEV_HIST_BUCKETS && len < (int)sizeof(buf) - 48; i++) {
			uint64_t v = __atomic_load_n(&c->hist->bucket[i], __ATOMIC_RELAXED);

			if (v)
				len += snprintf(buf + len, sizeof(buf) - (size_t)len,
						"lat_bucket_%u %llu\n", i,
						(unsigned long long)v);
		}
	}
	return vs_file_replace(path, buf, (size_t)len, 0644, 0);
}

int pcdev_stats_unpublish(void)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int err = vs_path(path, sizeof(path), PCDEV_STATS_FMT, (int)getpid());

	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}
