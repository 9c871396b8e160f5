// SPDX-License-Identifier: GPL-2.0-only
/* Wake-up latency per cpuidle state, with a crash-safe restore file. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cpuidle.h>
#include <jansson.h>

#include "core/safefile.h"
#include "core/cpuonline.h"
#include "sources/idlelat.h"
#include "core/sysfs.h"

#define CPUIDLE_DIR	"/sys/devices/system/cpu/cpuidle"
#define RUN_DIR		"/run/virtsync"
#define RESTORE_FILE	RUN_DIR "/idlelat-restore.json"
#define LOCK_FILE	RUN_DIR "/idlelat.lock"
#define WARMUP		2
/* Time for the governor to notice a changed disable flag: the CPU must
 * leave the idle state it is in (at the latest at the next tick). */
#define SETTLE_NS	5000000

/* ---- the measurement ----------------------------------------------------- */

void vs_idlelat_opts_default(struct vs_idlelat_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cpu = -1;
	o->waker_cpu = -1;
	o->samples = 200;
	o->gap_ns = 1e6;
	o->only_state = -1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct timespec ns_to_ts(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ull),
		.tv_nsec = (long)(ns % 1000000000ull),
	};

	return ts;
}

static bool stopped(const struct vs_idlelat_opts *o)
{
	return o->stop && *o->stop;
}

static int pin_self(int cpu)
{
	cpu_set_t m;

	CPU_ZERO(&m);
	CPU_SET(cpu, &m);
	return sched_setaffinity(0, sizeof(m), &m) ? -errno : 0;
}

/* Timer wake-ups: sleep to an absolute deadline, measure how late we run. */
static int measure_timer(const struct vs_idlelat_opts *o, double *lat,
			 size_t *n)
{
	uint64_t gap = (uint64_t)o->gap_ns;
	unsigned int k = 0;

	*n = 0;
	while (k < o->samples + WARMUP) {
		struct timespec ts;
		uint64_t deadline, woke;
		int err;

		if (stopped(o))
			return -EINTR;
		deadline = mono_ns() + gap;
		ts = ns_to_ts(deadline);
		err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		woke = mono_ns();
		if (err == EINTR)
			continue;
		if (err)
			return -err;
		if (k++ >= WARMUP)
			lat[(*n)++] = (double)(woke - deadline);
	}
	return 0;
}

struct waker {
	int efd, ackfd, cpu;
	uint64_t gap;
	atomic_int quit;
	int err;
};

static void *waker_main(void *arg)
{
	struct waker *w = arg;
	struct timespec ts = ns_to_ts(w->gap);
	uint64_t t0, ack;

	w->err = pin_self(w->cpu);
	if (w->err)
		return NULL;
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	while (!atomic_load(&w->quit)) {
		clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		if (atomic_load(&w->quit))
			break;
		/* The eventfd counter carries the timestamp itself: it is 0
		 * when the target has read, and CLOCK_MONOTONIC is never 0. */
		t0 = mono_ns();
		if (write(w->efd, &t0, sizeof(t0)) != sizeof(t0)) {
			w->err = -errno;
			break;
		}
		if (read(w->ackfd, &ack, sizeof(ack)) != sizeof(ack) &&
		    errno != EINTR) {
			w->err = -errno;
			break;
		}
	}
	return NULL;
}

/* IPI wake-ups: block on an eventfd that a thread on another CPU writes. */
static int measure_ipi(const struct vs_idlelat_opts *o, int waker_cpu,
		       double *lat, size_t *n)
{
	struct waker w = { .cpu = waker_cpu, .gap = (uint64_t)o->gap_ns };
	sigset_t all, old;
	pthread_t th;
	uint64_t v, one = 1;
	unsigned int k = 0;
	int err = 0;

	*n = 0;
	w.efd = eventfd(0, EFD_CLOEXEC);
	w.ackfd = eventfd(0, EFD_CLOEXEC);
	if (w.efd < 0 || w.ackfd < 0) {
		err = -errno;
		goto out;
	}
	/* Signals must reach the measuring thread (its read() returns EINTR
	 * and it stops), never the waker. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&th, NULL, waker_main, &w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto out;
	while (k < o->samples + WARMUP) {
		ssize_t r;
		uint64_t woke;

		if (stopped(o)) {
			err = -EINTR;
			break;
		}
		r = read(w.efd, &v, sizeof(v));
		woke = mono_ns();
		if (r < 0 && errno == EINTR)
			continue;
		if (r != sizeof(v)) {
			err = r < 0 ? -errno : -EIO;
			break;
		}
		if (k++ >= WARMUP && woke >= v)
			lat[(*n)++] = (double)(woke - v);
		if (write(w.ackfd, &one, sizeof(one)) != sizeof(one)) {
			err = -errno;
			break;
		}
	}
	atomic_store(&w.quit, 1);
	/* Release a waker blocked on its acknowledgement. */
	if (write(w.ackfd, &one, sizeof(one)) != sizeof(one) && !err)
		err = -errno;
	pthread_join(th, NULL);
	if (!err && w.err)
		err = w.err;
out:
	if (w.efd >= 0)
		close(w.efd);
	if (w.ackfd >= 0)
		close(w.ackfd);
	return err;
}

static int pick_waker(int target)
{
	cpu_set_t m;
	int c;

	if (sched_getaffinity(0, sizeof(m), &m))
		return -1;
	for (c = 0; c < CPU_SETSIZE; c++)
		if (c != target && CPU_ISSET(c, &m) && vs_cpu_is_online(c, NULL, 0) == 1)
			return c;
	return -1;
}

static int counters_all(int cpu, unsigned int n, uint64_t *usage,
			uint64_t *time_us)
{
	unsigned int i;
	int err;

	for (i = 0; i < n; i++) {
		err = vs_idle_state_counters(cpu, i, &usage[i], &time_us[i]);
		if (err)
			return err;
	}
	return 0;
}

static int measure_state(const struct vs_idlelat_opts *o,
			 struct vs_idlelat_result *r, unsigned int s,
			 double *buf)
{
	struct vs_idlelat_state_result *res = &r->res[r->nresults];
	uint64_t u0[VS_IDLE_MAX_STATES], t0[VS_IDLE_MAX_STATES];
	uint64_t u1[VS_IDLE_MAX_STATES], t1[VS_IDLE_MAX_STATES];
	struct timespec settle = ns_to_ts(SETTLE_NS);
	uint64_t w0;
	unsigned int j;
	size_t n;
	int err;

	memset(res, 0, sizeof(*res));
	res->state = s;
	for (j = 0; j < r->nstates; j++) {
		err = vs_idle_state_set_disabled(r->cpu, j, j != s);
		if (err && j == s)
			return err;
		/* The kernel may keep some states (POLL on some drivers)
		 * enabled: measure anyway and say so. */
		if (err)
			res->refused |= 1u << j;
	}
	if (o->on_state)
		o->on_state(s, o->arg);
	clock_nanosleep(CLOCK_MONOTONIC, 0, &settle, NULL);
	err = counters_all(r->cpu, r->nstates, u0, t0);
	if (err)
		return err;
	w0 = mono_ns();
	err = measure_timer(o, buf, &n);
	if (!err)
		err = vs_latstats_compute(buf, n, &res->timer);
	if (!err && r->waker_cpu >= 0) {
		err = measure_ipi(o, r->waker_cpu, buf, &n);
		if (!err)
			err = vs_latstats_compute(buf, n, &res->ipi);
	} else if (!err) {
		vs_latstats_compute(NULL, 0, &res->ipi);
	}
	if (err)
		return err;
	res->wall_ns = (double)(mono_ns() - w0);
	err = counters_all(r->cpu, r->nstates, u1, t1);
	if (err)
		return err;
	for (j = 0; j < r->nstates; j++) {
		res->usage_delta[j] = u1[j] - u0[j];
		res->time_delta_us[j] = t1[j] - t0[j];
		if (j == s)
			res->entered = res->usage_delta[j] > 0;
		else if (res->usage_delta[j] && !(res->refused & (1u << j)))
			res->others_entered = true;
	}
	r->nresults++;
	return 0;
}

int vs_idlelat_run(const struct vs_idlelat_opts *o, struct vs_idlelat_result *r)
{
	struct vs_idle_restore *rs = NULL;
	cpu_set_t old_mask;
	double *buf = NULL;
	unsigned int i;
	int err, slack, restore_err;

	memset(r, 0, sizeof(*r));
	if (o->cpu < 0 || o->cpu >= CPU_SETSIZE || !o->samples ||
	    !(o->gap_ns >= 1e3 && o->gap_ns <= 1e9) ||
	    (o->governor && !vs_idle_governor_name_ok(o->governor)))
		return -EINVAL;
	if (vs_cpu_is_online(o->cpu, NULL, 0) != 1)
		return -ENODEV;
	r->cpu = o->cpu;
	err = vs_idle_states_read(o->cpu, r->states, VS_IDLE_MAX_STATES,
				  &r->nstates);
	if (err)
		return err;
	if (!r->nstates || (o->only_state >= (int)r->nstates))
		return -ENODEV;
	r->waker_cpu = o->waker_cpu >= 0 ? o->waker_cpu : pick_waker(o->cpu);
	if (r->waker_cpu == o->cpu)
		return -EINVAL;
	vs_idle_driver_read(r->driver, sizeof(r->driver));
	err = vs_idle_governor_read(r->orig_governor, sizeof(r->orig_governor));
	if (err && o->governor)
		return err;
	snprintf(r->governor, sizeof(r->governor), "%s",
		 o->governor ? o->governor : r->orig_governor);

	buf = calloc(o->samples + WARMUP, sizeof(*buf));
	rs = calloc(1, sizeof(*rs));
	if (!buf || !rs) {
		err = -ENOMEM;
		goto out_free;
	}
	/* Record what is there now, on disk, before changing anything. */
	err = vs_idle_restore_record(o->cpu, r->states, r->nstates, r->orig_governor,
				     o->governor, rs);
	if (!err)
		err = vs_idle_restore_write(rs);
	if (err)
		goto out_free;

	if (sched_getaffinity(0, sizeof(old_mask), &old_mask)) {
		err = -errno;
		goto out_restore;
	}
	err = pin_self(o->cpu);
	if (err) {
		err = -ENODEV;
		goto out_restore;
	}
	slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	if (rs->governor[0])
		err = vs_idle_governor_write(o->governor);
	for (i = 0; !err && i < r->nstates; i++) {
		if (o->only_state >= 0 && (int)i != o->only_state)
			continue;
		err = measure_state(o, r, i, buf);
	}
	if (slack > 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
	sched_setaffinity(0, sizeof(old_mask), &old_mask);
out_restore:
	restore_err = vs_idle_restore_apply(rs);
	/* Keep the file when something could not be put back: the next run
	 * or `virtsync rollback` retries it. */
	if (restore_err >= 0)
		restore_err = vs_idle_restore_remove();
	if (!err && restore_err < 0)
		err = restore_err;
out_free:
	free(rs);
	free(buf);
	return err;
}
