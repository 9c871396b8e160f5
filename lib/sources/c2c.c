// SPDX-License-Identifier: GPL-2.0-only
/* Core-to-core cache-line round trips (see c2c.h): the measurement. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/latstats.h"
#include "pcdev/tsc.h"
#include "sources/c2c.h"

/* Round trips discarded at the start of a sample: the line and the
 * responder's loop are cold right after a migration. */
#define WARMUP 16
/* A sample whose other side does not answer within this is dropped (the
 * responder was preempted, or its CPU went away). */
#define SAMPLE_TIMEOUT_NS 200e6

/*
 * The line both threads bounce: the generation of the sample in the upper
 * 32 bits, so that a responder still answering an abandoned sample never
 * mistakes the next sample's numbers for its own.
 */
struct c2c_line {
	alignas(64) volatile uint64_t v;
};

struct c2c_run {
	struct c2c_line line;
	alignas(64) pthread_mutex_t mu;
	pthread_cond_t cv;
	uint32_t gen;			/* sample handed to the responder */
	int cpu;			/* its CPU for that sample */
	unsigned int n;			/* round trips, warm-up included */
	bool quit;
	alignas(64) volatile uint32_t ready;	/* gen the responder is pinned for */
	volatile int pin_err;
	uint64_t timeout_tsc;
	/* the initiator's side */
	const struct vs_c2c_opts *o;
	struct vs_c2c *c;
	uint64_t *dt;
	int err, err_cpu;
};

static int pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *responder(void *arg)
{
	struct c2c_run *r = arg;
	uint32_t seen = 0;

	for (;;) {
		uint64_t gen, k, want, deadline;
		unsigned int n, spins = 0;
		int cpu;

		pthread_mutex_lock(&r->mu);
		while (r->gen == seen && !r->quit)
			pthread_cond_wait(&r->cv, &r->mu);
		seen = r->gen;
		cpu = r->cpu;
		n = r->n;
		pthread_mutex_unlock(&r->mu);
		if (r->quit)
			return NULL;
		r->pin_err = pin_self(cpu);
		__atomic_store_n(&r->ready, seen, __ATOMIC_RELEASE);
		if (r->pin_err)
			continue;
		gen = (uint64_t)seen << 32;
		deadline = vs_rdtsc() + r->timeout_tsc;
		for (k = 0; k < n; k++) {
			want = gen | (2 * k + 1);
			for (;;) {
				uint64_t v = r->line.v;

				if (v == want)
					break;
				if ((v >> 32) != (uint64_t)seen ||
				    (++spins % 4096 == 0 && vs_rdtsc() > deadline))
					goto next;	/* abandoned or superseded */
				vs_cpu_relax();
			}
			r->line.v = want + 1;
		}
next:;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* One sample of pair p: the median round trip in ns, NaN when dropped. */
static double sample(struct c2c_run *r, const struct vs_c2c_pair *p)
{
	unsigned int n = r->o->round_trips + WARMUP, k, spins = 0;
	uint64_t gen, deadline;
	uint32_t g;

	pthread_mutex_lock(&r->mu);
	g = ++r->gen;
	r->line.v = (uint64_t)g << 32;
	r->cpu = p->b;
	r->n = n;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	gen = (uint64_t)g << 32;
	deadline = vs_rdtsc() + r->timeout_tsc;
	while (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) != g) {
		if (++spins % 4096 == 0 && vs_rdtsc() > deadline)
			return NAN;
		vs_cpu_relax();
	}
	if (r->pin_err)
		return NAN;
	for (k = 0; k < n; k++) {
		uint64_t want = gen | (2 * k + 2), t0 = vs_rdtsc();

		r->line.v = want - 1;
		while (r->line.v != want) {
			if (++spins % 4096 == 0 && vs_rdtsc() > deadline) {
				r->line.v = 0;	/* tell the responder to give up */
				return NAN;
			}
			vs_cpu_relax();
		}
		if (k >= WARMUP)
			r->dt[k - WARMUP] = vs_rdtsc() - t0;
	}
	qsort(r->dt, r->o->round_trips, sizeof(*r->dt), cmp_u64);
	return vs_tsc_to_ns(r->dt[r->o->round_trips / 2]);
}

static void *initiator(void *arg)
{
	struct c2c_run *r = arg;
	struct vs_c2c *c = r->c;
	double t0 = now_ns(), budget = r->o->duration_ns;
	int pinned = -1;
	bool more = true;

	while (more) {
		/* Pass k starts no earlier than k/MAX of the bound: the
		 * series spans the run, however fast one pass is. */
		double start = t0 + budget * c->passes / VS_C2C_MAX_SAMPLES, now = now_ns();
		unsigned int i;

		if (start > now) {
			struct timespec ts;
			double wait = start - now;

			ts.tv_sec = (time_t)(wait / 1e9);
			ts.tv_nsec = (long)(wait - (double)ts.tv_sec * 1e9);
			nanosleep(&ts, NULL);
		}
		more = false;
		for (i = 0; i < c->n_pairs; i++) {
			struct vs_c2c_pair *p = &c->pairs[i];
			double v;

			if ((r->o->stop && *r->o->stop) || now_ns() - t0 >= budget)
				goto done;
			if (p->n >= VS_C2C_MAX_SAMPLES)
				continue;
			if (pinned != p->a) {
				r->err = pin_self(p->a);
				r->err_cpu = p->a;
				if (r->err)
					goto done;
				pinned = p->a;
			}
			v = sample(r, p);
			if (isnan(v)) {
				c->failed_samples++;
				continue;
			}
			p->series_ns[p->n++] = (float)v;
			more = true;
		}
		c->passes++;
	}
done:
	c->elapsed_ns = now_ns() - t0;
	return NULL;
}

/* ---- which pairs ------------------------------------------------------- */

static int add_pair(struct vs_c2c *c, unsigned int *cap, int a, int b)
{
	unsigned int i;

	if (a > b) {
		int x = a;

		a = b;
		b = x;
	}
	for (i = 0; i < c->n_pairs; i++)
		if (c->pairs[i].a == a && c->pairs[i].b == b)
			return 0;
	if (c->n_pairs == *cap) {
		unsigned int nc = *cap ? *cap * 2 : 64;
		struct vs_c2c_pair *np = realloc(c->pairs, nc * sizeof(*np));

		if (!np)
			return -ENOMEM;
		c->pairs = np;
		*cap = nc;
	}
	memset(&c->pairs[c->n_pairs], 0, sizeof(c->pairs[0]));
	c->pairs[c->n_pairs].a = a;
	c->pairs[c->n_pairs].b = b;
	c->n_pairs++;
	return 0;
}

static int rel_class(const struct vs_topo *t, int a, int b)
{
	struct vs_topo_rel r;

	if (vs_topo_relate(t, a, b, &r))
		return 0;
	return (r.smt ? 1 : 0) | (int)(r.cache_level << 1) |
	       (r.same_package ? 1 << 8 : 0) | (r.same_node ? 1 << 9 : 0);
}

/*
 * A sample for hosts with more pairs than max_pairs: every CPU paired with
 * one CPU of each relation it has to the others (SMT sibling, each shared
 * cache level, same package, other package, other node), the next such CPU
 * after it, so that every kind of distance is measured from every CPU.
 */
static int sample_pairs(struct vs_c2c *c, const struct vs_topo *t, unsigned int *cap)
{
	unsigned int i, k, n = c->n_cpus;
	int err;

	for (i = 0; i < n; i++) {
		int seen[16], n_seen = 0, s;

		for (k = 1; k < n && n_seen < 16; k++) {
			int j = c->cpus[(i + k) % n], cls = rel_class(t, c->cpus[i], j);
			bool dup = false;

			for (s = 0; s < n_seen; s++)
				dup |= seen[s] == cls;
			if (dup)
				continue;
			seen[n_seen++] = cls;
			err = add_pair(c, cap, c->cpus[i], j);
			if (err)
				return err;
		}
	}
	return 0;
}

static int cmp_pair(const void *x, const void *y)
{
	const struct vs_c2c_pair *a = x, *b = y;

	if (a->a != b->a)
		return (a->a > b->a) - (a->a < b->a);
	return (a->b > b->b) - (a->b < b->b);
}

static int choose_pairs(const struct vs_c2c_opts *o, const struct vs_topo *t,
			struct vs_c2c *c, char *err, size_t errlen)
{
	unsigned int i, j, cap = 0;
	int e = 0;

	for (i = 0; i < o->n_only && !e; i++) {
		if (!vs_topo_cpu(t, o->only_a[i]) || !vs_topo_cpu(t, o->only_b[i]) ||
		    o->only_a[i] == o->only_b[i]) {
			snprintf(err, errlen, "pair %d,%d: not two different online CPUs",
				 o->only_a[i], o->only_b[i]);
			return -EINVAL;
		}
		e = add_pair(c, &cap, o->only_a[i], o->only_b[i]);
	}
	if (o->n_only)
		goto sort;
	if ((size_t)c->n_cpus * (c->n_cpus - 1) / 2 > o->max_pairs) {
		c->sampled = true;
		e = sample_pairs(c, t, &cap);
	} else {
		for (i = 0; i < c->n_cpus && !e; i++)
			for (j = i + 1; j < c->n_cpus && !e; j++)
				e = add_pair(c, &cap, c->cpus[i], c->cpus[j]);
	}
sort:
	if (e)
		return e;
	qsort(c->pairs, c->n_pairs, sizeof(*c->pairs), cmp_pair);
	return 0;
}

/* ---- the run ------------------------------------------------------------ */

void vs_c2c_opts_default(struct vs_c2c_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->duration_ns = 2e9;
	o->round_trips = 400;
	o->max_pairs = 1024;
}

static int choose_cpus(const struct vs_c2c_opts *o, const struct vs_topo *t,
		       struct vs_c2c *c, char *err, size_t errlen)
{
	char list[256];
	int cpu = -1;

	if (!o->cpus) {
		unsigned int i;

		for (i = 0; i < t->n_cpus; i++)
			c->cpus[c->n_cpus++] = t->cpus[i].id;
		return 0;
	}
	while ((cpu = vs_cpuset_next(o->cpus, cpu)) >= 0) {
		if (!vs_topo_cpu(t, cpu)) {
			vs_cpuset_format(&t->online, list, sizeof(list));
			snprintf(err, errlen, "CPU %d is not online (online: %s)", cpu, list);
			return -EINVAL;
		}
		if (c->n_cpus < VS_TOPO_MAX_CPUS)
			c->cpus[c->n_cpus++] = cpu;
	}
	return 0;
}

int vs_c2c_plan(const struct vs_c2c_opts *o, const struct vs_topo *t, struct vs_c2c *c,
		char *err, size_t errlen)
{
	int e;

	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	if (o->round_trips < 10 || o->round_trips > 100000 || !(o->duration_ns > 0)) {
		snprintf(err, errlen, "round trips per sample must be 10..100000, the duration > 0");
		return -EINVAL;
	}
	e = choose_cpus(o, t, c, err, errlen);
	if (e)
		return e;
	if (c->n_cpus < 2 && !o->n_only) {
		snprintf(err, errlen, "a round trip needs two CPUs, %u given", c->n_cpus);
		return -EINVAL;
	}
	e = choose_pairs(o, t, c, err, errlen);
	if (e)
		vs_c2c_free(c);
	return e;
}

int vs_c2c_measure(const struct vs_c2c_opts *o, const struct vs_topo *t,
		   struct vs_c2c *c, char *err, size_t errlen)
{
	struct c2c_run *r;
	pthread_t ti, tr;
	int e, r_err_cpu = -1;

	e = vs_c2c_plan(o, t, c, err, errlen);
	if (e)
		return e;
	c->round_trips = o->round_trips;
	c->duration_ns = o->duration_ns;
	r = aligned_alloc(64, (sizeof(*r) + 63) & ~(size_t)63);
	if (!r) {
		vs_c2c_free(c);
		return -ENOMEM;
	}
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->o = o;
	r->c = c;
	r->timeout_tsc = vs_ns_to_tsc(SAMPLE_TIMEOUT_NS);
	r->dt = calloc(o->round_trips, sizeof(*r->dt));
	e = r->dt ? 0 : -ENOMEM;
	if (!e)
		e = -pthread_create(&tr, NULL, responder, r);
	if (!e) {
		pthread_setname_np(tr, "vs-c2c-respond");
		e = -pthread_create(&ti, NULL, initiator, r);
		if (!e) {
			pthread_setname_np(ti, "vs-c2c-init");
			pthread_join(ti, NULL);
			e = r->err;
			r_err_cpu = e ? r->err_cpu : -1;
		}
		pthread_mutex_lock(&r->mu);
		r->quit = true;
		r->line.v = 0;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(tr, NULL);
	}
	free(r->dt);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
	if (e) {
		if (r_err_cpu >= 0)
			snprintf(err, errlen, "CPU %d: cannot run there: %s", r_err_cpu,
				 strerror(-e));
		else
			snprintf(err, errlen, "measuring threads: %s", strerror(-e));
		vs_c2c_free(c);
		return e;
	}
	vs_c2c_analyze(c, t);
	return 0;
}

void vs_c2c_free(struct vs_c2c *c)
{
	free(c->pairs);
	c->pairs = NULL;
	c->n_pairs = 0;
}

const struct vs_c2c_pair *vs_c2c_find(const struct vs_c2c *c, int a, int b)
{
	unsigned int i;

	if (a > b) {
		int x = a;

		a = b;
		b = x;
	}
	for (i = 0; i < c->n_pairs; i++)
		if (c->pairs[i].a == a && c->pairs[i].b == b)
			return c->pairs[i].n ? &c->pairs[i] : NULL;
	return NULL;
}
