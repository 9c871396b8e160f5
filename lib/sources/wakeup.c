// SPDX-License-Identifier: GPL-2.0-only
/* Eventfd ping-pong between two threads (lib/sources/wakeup.h). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <math.h>
#include <stdio.h>


#include "core/safefile.h"
#include "core/cpuonline.h"
#include "core/sysfs.h"
#include "sources/wakeup.h"

struct cpu_times {
	unsigned long long total, idle, steal;
};

/* Sum the /proc/stat jiffies of the CPUs in `mask` (all when 0). */
static int read_cpu_times(uint64_t mask, struct cpu_times *t)
{
	char path[512], line[512];
	FILE *f;
	int err = vs_path(path, sizeof(path), "/proc/stat");

	memset(t, 0, sizeof(*t));
	if (err)
		return err;
	f = vs_fopen_rooted(path);
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[8] = { 0 };
		unsigned int cpu;
		int i;

		if (sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu,
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 9)
			continue;
		if (mask && (cpu >= 64 || !(mask & (1ULL << cpu))))
			continue;
		for (i = 0; i < 8; i++)
			t->total += v[i];
		t->idle += v[3] + v[4];
		t->steal += v[7];
	}
	fclose(f);
	return t->total ? 0 : -ENODATA;
}

struct pingpong {
	int to_pong, to_ping;
	unsigned int total;
	int quit;		/* ping stopped early (__atomic) */
	int cpu;
	int err;
	double cpu_ns;
};

static double now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) ? -EINVAL : 0;
}

static int xfer(int rfd, int wfd)
{
	uint64_t v = 1;

	if (write(wfd, &v, sizeof(v)) != sizeof(v))
		return -errno;
	for (;;) {
		if (read(rfd, &v, sizeof(v)) == sizeof(v))
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

static void *pong_main(void *arg)
{
	struct pingpong *pp = arg;
	double t0;
	uint64_t v;
	unsigned int i;

	pp->err = pin(pp->cpu);
	t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < pp->total && !pp->err; i++) {
		while (read(pp->to_pong, &v, sizeof(v)) != sizeof(v)) {
			if (errno != EINTR) {
				pp->err = -errno;
				return NULL;
			}
		}
		/* the write that woke us is ping's goodbye */
		if (__atomic_load_n(&pp->quit, __ATOMIC_ACQUIRE))
			break;
		v = 1;
		if (write(pp->to_ping, &v, sizeof(v)) != sizeof(v))
			pp->err = -errno;
	}
	pp->cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void vs_wakeup_opts_default(struct vs_wakeup_opts *o)
{
	uint64_t online = 0;
	int first = -1, second = -1, c;

	o->rounds = 2000;
	o->warmup = 100;
	o->stop = NULL;
	if (!vs_cpus_online(&online))
		for (c = 0; c < 64; c++)
			if (online & (1ULL << c)) {
				if (first < 0)
					first = c;
				else if (second < 0)
					second = c;
			}
	o->cpu_ping = second >= 0 ? first : -1;
	o->cpu_pong = second >= 0 ? second : -1;
}

int vs_wakeup_measure(const struct vs_wakeup_opts *o, struct vs_wakeup_result *r)
{
	struct pingpong pp = { .to_pong = -1, .to_ping = -1 };
	unsigned int i, n, done = 0, total = o->rounds + o->warmup;
	double *rt, t0, cpu0, wall0, sum = 0;
	bool stopped = false;
	pthread_t th;
	int err = 0;

	struct cpu_times c0, c1;
	uint64_t mask = 0;
	int times_err;

	if (!o->rounds)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if (o->cpu_ping >= 0 && o->cpu_ping < 64)
		mask |= 1ULL << o->cpu_ping;
	if (o->cpu_pong >= 0 && o->cpu_pong < 64)
		mask |= 1ULL << o->cpu_pong;
	times_err = read_cpu_times(mask, &c0);
	rt = calloc(o->rounds, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	pp.to_pong = eventfd(0, EFD_CLOEXEC);
	pp.to_ping = eventfd(0, EFD_CLOEXEC);
	if (pp.to_pong < 0 || pp.to_ping < 0) {
		err = -errno;
		goto out;
	}
	pp.total = total;
	pp.cpu = o->cpu_pong;
	/* the measuring thread is pinned for the run and unpinned after */
	{
		cpu_set_t saved;

		if (pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved)) {
			err = -EINVAL;
			goto out;
		}
		err = pin(o->cpu_ping);
		if (err)
			goto out;
		err = -pthread_create(&th, NULL, pong_main, &pp);
		if (err) {
			pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
			goto out;
		}
		wall0 = now_ns(CLOCK_MONOTONIC);
		cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		for (i = 0; i < total && !err; i++) {
			/* a stop, every 64 round trips: well under 10 ms */
			if (!(i & 63) && o->stop && *o->stop) {
				uint64_t v = 1;

				stopped = true;
				__atomic_store_n(&pp.quit, 1, __ATOMIC_RELEASE);
				if (write(pp.to_pong, &v, sizeof(v)) != sizeof(v))
					err = -errno;
				break;
			}
			t0 = now_ns(CLOCK_MONOTONIC);
			err = xfer(pp.to_ping, pp.to_pong);
			if (i >= o->warmup)
				rt[i - o->warmup] = now_ns(CLOCK_MONOTONIC) - t0;
		}
		done = i;
		r->cpu_ns_per_rt = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
		r->wall_s = (now_ns(CLOCK_MONOTONIC) - wall0) / 1e9;
		if (err) {
			/* unblock the partner so that join returns */
			uint64_t v = total;

			if (write(pp.to_pong, &v, sizeof(v)) < 0) {
				/* nothing more we can do */
			}
		}
		pthread_join(th, NULL);
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	}
	if (!err)
		err = pp.err;
	if (err)
		goto out;
	/* stopped: the figures are over the round trips measured */
	n = done > o->warmup ? done - o->warmup : 0;
	if (!n) {
		err = -EINTR;
		goto out;
	}
	r->cpu_ns_per_rt = (r->cpu_ns_per_rt + pp.cpu_ns) / done;
	r->idle_frac = r->steal_frac = NAN;
	if (!times_err && !read_cpu_times(mask, &c1) && c1.total >= c0.total) {
		r->idle_ticks = c1.idle - c0.idle;
		r->steal_ticks = c1.steal - c0.steal;
		r->total_ticks = c1.total - c0.total;
		if (r->total_ticks) {
			r->idle_frac = (double)r->idle_ticks / r->total_ticks;
			r->steal_frac = (double)r->steal_ticks / r->total_ticks;
		}
	}
	qsort(rt, n, sizeof(*rt), cmp_double);
	for (i = 0; i < n; i++)
		sum += rt[i];
	r->rounds = n;
	r->median_ns = rt[n / 2];
	r->p98_ns = rt[(size_t)((n - 1) * 0.98)];
	r->min_ns = rt[0];
	r->max_ns = rt[n - 1];
	r->mean_ns = sum / n;
	if (stopped)
		err = -EINTR;
out:
	if (pp.to_pong >= 0)
		close(pp.to_pong);
	if (pp.to_ping >= 0)
		close(pp.to_ping);
	free(rt);
	return err;
}
