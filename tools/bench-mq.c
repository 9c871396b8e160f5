// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync bench --queues N [--pollers S]: the reference device with many
 * queues (lib/pcdev/mq.h), per queue and per poller, as text or JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-mq.h"
#include "cmd.h"
#include "core/units.h"
#include "pcdev/mq.h"

/* One value of a list: "250000", "250k", "1.5M" items per second. */
static int parse_rate_one(const char *opt, const char *text, size_t n, double *out)
{
	char num[64];
	double mult = 1;

	if (n && (text[n - 1] == 'k' || text[n - 1] == 'M')) {
		mult = text[n - 1] == 'k' ? 1e3 : 1e6;
		n--;
	}
	if (!n || n >= sizeof(num))
		goto bad;
	memcpy(num, text, n);
	num[n] = '\0';
	if (vs_parse_double(num, 0, 1e8, out) || !(*out > 0))
		goto bad;
	*out *= mult;
	if (*out > 1e8)
		goto bad;
	return 0;
bad:
	vs_err("%s: '%.*s' is not a rate (items per second above 0 and at most "
	       "100M, e.g. 20k)", opt, (int)n, text);
	return -EINVAL;
}

/* Split a comma list; each piece to fn; the last repeats to n values. */
static int each_value(const char *opt, const char *text, unsigned int n,
		      int (*fn)(const char *opt, const char *t, size_t len,
				void *out, unsigned int i), void *out)
{
	const char *p = text;
	unsigned int i = 0, last = 0;
	size_t len;
	int err;

	if (!text || !*text) {
		vs_err("%s: empty list", opt);
		return -EINVAL;
	}
	while (*p) {
		len = strcspn(p, ",");
		if (i >= n) {
			vs_err("%s: '%s' has more values than the %u queues", opt,
			       text, n);
			return -EINVAL;
		}
		err = fn(opt, p, len, out, i);
		if (err)
			return err;
		last = i++;
		p += len;
		if (*p == ',' && !*++p) {
			vs_err("%s: '%s' ends in a comma", opt, text);
			return -EINVAL;
		}
	}
	for (; i < n; i++)
		fn(opt, NULL, 0, out, i | (last << 16));
	return 0;
}

static int rate_fn(const char *opt, const char *t, size_t len, void *out,
		   unsigned int i)
{
	double *v = out;

	if (!t) {
		v[i & 0xffff] = v[i >> 16];
		return 0;
	}
	return parse_rate_one(opt, t, len, &v[i]);
}

int bench_mq_parse_rates(const char *opt, const char *text, double *out,
			 unsigned int n)
{
	return each_value(opt, text, n, rate_fn, out);
}

/* One time of a per-queue list, at most max_ns; !t repeats the last given. */
static int time_in(const char *opt, const char *t, size_t len, double *v,
		   unsigned int i, double max_ns)
{
	char buf[64];

	if (!t) {
		v[i & 0xffff] = v[i >> 16];
		return 0;
	}
	if (len >= sizeof(buf)) {
		vs_err("%s: '%.*s' is not a time", opt, (int)len, t);
		return -EINVAL;
	}
	memcpy(buf, t, len);
	buf[len] = '\0';
	return opt_time_in(opt, buf, 0, max_ns, &v[i]);
}

static int time_fn(const char *opt, const char *t, size_t len, void *out,
		   unsigned int i)
{
	return time_in(opt, t, len, out, i, 1e6);
}

/* A VM's KVM_CAP_HALT_POLL: KVM takes a 32-bit count of nanoseconds. */
static int halt_fn(const char *opt, const char *t, size_t len, void *out,
		   unsigned int i)
{
	return time_in(opt, t, len, out, i, UINT32_MAX);
}

static int uint_fn(const char *opt, const char *t, size_t len, void *out,
		   unsigned int i)
{
	unsigned int *v = out;
	char buf[32];

	if (!t) {
		v[i & 0xffff] = v[i >> 16];
		return 0;
	}
	if (len >= sizeof(buf)) {
		vs_err("%s: '%.*s' is not a count", opt, (int)len, t);
		return -EINVAL;
	}
	memcpy(buf, t, len);
	buf[len] = '\0';
	return opt_uint(opt, buf, 1, 4096, &v[i]);
}

static int cpu_fn(const char *opt, const char *t, size_t len, void *out,
		  unsigned int i)
{
	int *v = out;
	char buf[32];
	unsigned int c;

	if (!t) {
		v[i & 0xffff] = v[i >> 16];
		return 0;
	}
	if (len >= sizeof(buf) || (memcpy(buf, t, len), buf[len] = '\0',
				   opt_uint(opt, buf, 0, 4095, &c)))
		return -EINVAL;
	if (!pcdev_cpu_available((int)c)) {
		vs_err("%s: CPU %u does not exist or is not available here", opt, c);
		return -EINVAL;
	}
	v[i] = (int)c;
	return 0;
}

static int number_fn(const char *opt, const char *t, size_t len, void *out,
		     unsigned int i)
{
	double *v = out;
	char buf[32];

	if (!t) {
		v[i & 0xffff] = v[i >> 16];
		return 0;
	}
	if (len >= sizeof(buf) || (memcpy(buf, t, len), buf[len] = '\0',
				   vs_parse_double(buf, 1, 4096, &v[i]))) {
		vs_err("%s: '%.*s' is not a number from 1 to 4096", opt, (int)len, t);
		return -EINVAL;
	}
	return 0;
}

int bench_mq_parse_numbers(const char *opt, const char *text, double *out,
			   unsigned int n)
{
	return each_value(opt, text, n, number_fn, out);
}

int bench_mq_parse_times(const char *opt, const char *text, double *out,
			 unsigned int n)
{
	return each_value(opt, text, n, time_fn, out);
}

int bench_mq_parse_counts(const char *opt, const char *text, unsigned int *out,
			  unsigned int n)
{
	return each_value(opt, text, n, uint_fn, out);
}

static int build(const struct bench_mq_args *a, struct pcdev_mq_config *cfg,
		 double *dmax)
{
	double v[PCDEV_MAX_QUEUES];
	unsigned int u[PCDEV_MAX_QUEUES], i, n;
	uint64_t x;
	int err = 0;
	const char *why;

	pcdev_mq_config_default(cfg);
	*dmax = NAN;
	if (a->single_only) {
		vs_err("%s: not with --queues (the queues' producers run at a "
		       "--rate, their consumers or pollers as --pollers says)",
		       a->single_only);
		return -EINVAL;
	}
	if (a->backend && !strcmp(a->backend, "kvm")) {
		cfg->backend = PCDEV_BACKEND_KVM;
	} else if (a->backend && strcmp(a->backend, "thread")) {
		vs_err("--backend: unknown backend '%s' (thread, kvm)", a->backend);
		return -EINVAL;
	}
	if (a->ring && strcmp(a->ring, "virtio")) {
		vs_err("--ring %s: --queues runs on the split ring only", a->ring);
		return -EINVAL;
	}
	err = opt_uint("--queues", a->queues, 1, PCDEV_MAX_QUEUES, &cfg->n_queues);
	n = cfg->n_queues;
	if (!err && a->pollers) {
		err = opt_uint("--pollers", a->pollers, 0, PCDEV_MAX_QUEUES, &cfg->n_pollers);
		if (!err && cfg->n_pollers > n) {
			vs_err("--pollers: %u pollers for %u queues (at most one "
			       "per queue)", cfg->n_pollers, n);
			err = -EINVAL;
		}
	}
	if (!err && a->rate) {
		err = bench_mq_parse_rates("--rate", a->rate, v, n);
		for (i = 0; !err && i < n; i++)
			cfg->q[i].rate = v[i];
	}
	if (!err && a->burst) {
		err = each_value("--burst", a->burst, n, uint_fn, u);
		for (i = 0; !err && i < n; i++)
			cfg->q[i].burst = u[i];
	}
	if (!err && a->wp) {
		err = each_value("--wp", a->wp, n, time_fn, v);
		for (i = 0; !err && i < n; i++)
			cfg->q[i].wp_ns = v[i];
	}
	if (!err && a->wc) {
		err = each_value("--wc", a->wc, n, time_fn, v);
		for (i = 0; !err && i < n; i++)
			cfg->q[i].wc_ns = v[i];
	}
	if (!err && a->halt_poll && cfg->backend != PCDEV_BACKEND_KVM) {
		vs_err("--halt-poll: only with --backend kvm (the thread "
		       "backend has no vCPU)");
		err = -EINVAL;
	}
	if (!err && a->halt_poll) {
		/* Per queue, as KVM_CAP_HALT_POLL is per VM file. */
		err = each_value("--halt-poll", a->halt_poll, n, halt_fn, v);
		for (i = 0; !err && i < n; i++)
			cfg->q[i].halt_poll_ns = (int64_t)v[i];
	}
	if (!err && a->len) {
		err = opt_uint("--len", a->len, 2, 4096, &cfg->len);
		if (!err && (cfg->len & (cfg->len - 1))) {
			vs_err("--len: %s is not a power of two (2, 4, ... 4096)", a->len);
			err = -EINVAL;
		}
	}
	if (!err && a->batch)
		err = opt_uint("--batch", a->batch, 1, 4096, &cfg->batch_limit);
	if (!err && cfg->batch_limit > cfg->len) {
		vs_err("--batch: %u exceeds the queue length %u", cfg->batch_limit, cfg->len);
		err = -EINVAL;
	}
	for (i = 0; !err && i < n; i++)
		if (cfg->q[i].burst > cfg->len) {
			vs_err("--burst: %u exceeds the queue length %u",
			       cfg->q[i].burst, cfg->len);
			err = -EINVAL;
		}
	if (!err && a->idle)
		err = opt_time_in("--idle", a->idle, 0, 1e9, &cfg->idle_ns);
	if (!err && a->starve)
		err = opt_time_in("--starve", a->starve, 1e3, 1e9, &cfg->starve_ns);
	if (!err && a->duration)
		err = opt_duration("--duration", a->duration, 10e6, 3600e9,
				   &cfg->duration_ns);
	if (!err && a->dmax)
		err = opt_time_in("--dmax", a->dmax, VS_DMAX_MIN_NS, VS_DMAX_MAX_NS, dmax);
	if (!err && a->pin_pollers) {
		const char *p;

		err = each_value("--pin-pollers", a->pin_pollers, PCDEV_MAX_QUEUES,
				 cpu_fn, cfg->pin_pollers);
		/* The list given is cycled over the pollers. */
		cfg->n_pin_pollers = 1;
		for (p = a->pin_pollers; *p; p++)
			cfg->n_pin_pollers += *p == ',';
	}
	if (!err && a->pin_producers) {
		int c[PCDEV_MAX_QUEUES];

		err = each_value("--pin-producers", a->pin_producers, 1, cpu_fn, c);
		cfg->pin_producers = c[0];
	}
	if (!err && a->rt) {
		err = opt_u64("--rt", a->rt, 0, 97, &x);
		cfg->rt_priority = (int)x;
	}
	if (!err && a->seed) {
		err = opt_u64("--seed", a->seed, 0, UINT32_MAX, &x);
		cfg->seed = (unsigned int)x;
	}
	if (!err && pcdev_mq_config_validate(cfg, &why)) {
		vs_err("invalid configuration: %s", why);
		err = -EINVAL;
	}
	return err;
}

static void print_text(const struct pcdev_mq_config *cfg,
		       const struct pcdev_mq_results *r, double dmax)
{
	char a[VS_FMT_LEN], b[VS_FMT_LEN], c[VS_FMT_LEN];
	unsigned int i;

	if (cfg->n_pollers)
		printf("%s backend, %u queues, %u shared pollers, batch %u, "
		       "L %u\n", pcdev_backend_name(cfg->backend), cfg->n_queues,
		       cfg->n_pollers, cfg->batch_limit, cfg->len);
	else
		printf("%s backend, %u queues, one consumer per queue, L %u\n",
		       pcdev_backend_name(cfg->backend), cfg->n_queues, cfg->len);
	printf("items %llu in %s%s\n", (unsigned long long)r->items,
	       vs_format_time(r->elapsed_ns, a, sizeof(a)),
	       vs_stop_requested() ? " (stopped by signal: results so far)" : "");
	printf("throughput_ops %s of %s offered  cpu pollers %s producers %s\n",
	       vs_cell_num(r->throughput_ops), vs_cell_num(r->offered_ops), vs_cell_num(r->cpu_pollers),
	       vs_cell_num(r->cpu_producers));
	printf("latency        p50 %s  p98 %s  p99 %s  max %s\n",
	       vs_cell_time(r->latency.p50), vs_cell_time(r->latency.p98),
	       vs_cell_time(r->latency.p99), vs_cell_time(r->latency.max));
	if (!isnan(dmax))
		printf("dmax           %s: p98 %s\n", vs_cell_time(dmax),
		       r->latency.p98 <= dmax ? "within" : "EXCEEDS");
	printf("queue poller     rate  items/s     burst    p50_ns    p98_ns starved "
	       "full\n");
	for (i = 0; i < cfg->n_queues; i++) {
		const struct pcdev_mq_queue_res *q = &r->q[i];

		printf("%5u %6u %8s %8s %9s %9s %9s %7llu %4llu\n", i, q->poller,
		       vs_format_count(cfg->q[i].rate, a, sizeof(a)),
		       vs_format_count(q->throughput_ops, b, sizeof(b)),
		       vs_cell_num(q->burst), vs_cell_num(q->latency.p50), vs_cell_num(q->latency.p98),
		       (unsigned long long)q->starved, (unsigned long long)q->full);
	}
	/* Lost arrivals are the producer's figure, not the poller's: say so
	 * with the producer's longest delay, which tells which it was. */
	for (i = 0; i < cfg->n_queues; i++)
		if (r->q[i].dropped)
			printf("queue %u: %llu arrivals dropped, producer up to %s late\n", i,
			       (unsigned long long)r->q[i].dropped,
			       vs_cell_time(r->q[i].stall_max_ns));
	printf("poller queues  util   cpu  visit_ns   wake_ns  blocks\n");
	for (i = 0; i < r->n_pollers; i++) {
		const struct pcdev_mq_poller_res *p = &r->p[i];

		printf("%6u %6u %5.3f %5.3f %9s %9s %7llu\n", i, p->n_queues,
		       p->util, p->cpu, vs_cell_num(p->visit_ns), vs_cell_num(p->wake_ns),
		       (unsigned long long)p->blocks);
	}
	if (cfg->backend == PCDEV_BACKEND_KVM) {
		/* A guest per queue: what its notifications cost in exits. */
		printf("queue produced    kicks  kick_ns    exits io_exits "
		       "halt_exits hpolls  hp_ok\n");
		for (i = 0; i < cfg->n_queues; i++) {
			const struct pcdev_mq_queue_res *q = &r->q[i];

			printf("%5u %8llu %8llu %8s %8llu %8llu %10llu %6llu "
			       "%6llu\n", i,
			       (unsigned long long)q->produced,
			       (unsigned long long)q->kicks, vs_cell_num(q->kick_ns),
			       (unsigned long long)q->exits,
			       (unsigned long long)q->io_exits,
			       (unsigned long long)q->halt_exits,
			       (unsigned long long)q->halt_attempted_poll,
			       (unsigned long long)q->halt_successful_poll);
		}
	}
	(void)c;
	if (r->note[0])
		printf("note: %s\n", r->note);
}

static json_t *latency_json(const struct pcdev_latency *l)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o}", "p50", vs_json_num(l->p50),
			 "p95", vs_json_num(l->p95), "p98", vs_json_num(l->p98),
			 "p99", vs_json_num(l->p99), "max", vs_json_num(l->max));
}

static void print_json(const struct pcdev_mq_config *cfg,
		       const struct pcdev_mq_results *r, double dmax,
		       int argc, char **argv)
{
	json_t *doc = json_object(), *qs = json_array(), *ps = json_array(), *c;
	unsigned int i;

	vs_json_add_meta(doc, argc, argv);
	c = json_pack("{s:s,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "backend",
		      pcdev_backend_name(cfg->backend),
		      "queues", (json_int_t)cfg->n_queues,
		      "pollers", (json_int_t)cfg->n_pollers,
		      "len", (json_int_t)cfg->len,
		      "batch_limit", (json_int_t)cfg->batch_limit,
		      "idle_ns", vs_json_num(cfg->idle_ns),
		      "starve_ns", vs_json_num(cfg->starve_ns),
		      "duration_ns", vs_json_num(cfg->duration_ns));
	json_object_set_new(c, "shape", json_string(cfg->n_pollers ? "shared-pollers" :
						     "per-queue"));
	json_object_set_new(doc, "config", c);
	json_object_set_new(doc, "elapsed_ns", vs_json_num(r->elapsed_ns));
	json_object_set_new(doc, "items", json_integer((json_int_t)r->items));
	json_object_set_new(doc, "throughput_ops", vs_json_num(r->throughput_ops));
	json_object_set_new(doc, "offered_ops", vs_json_num(r->offered_ops));
	json_object_set_new(doc, "cpu", json_pack("{s:o,s:o}", "pollers",
						  vs_json_num(r->cpu_pollers), "producers",
						  vs_json_num(r->cpu_producers)));
	json_object_set_new(doc, "latency_ns", latency_json(&r->latency));
	if (!isnan(dmax)) {
		json_object_set_new(doc, "dmax_ns", vs_json_num(dmax));
		json_object_set_new(doc, "p98_within_dmax",
				    json_boolean(r->latency.p98 <= dmax));
	}
	for (i = 0; i < cfg->n_queues; i++) {
		const struct pcdev_mq_queue_res *q = &r->q[i];
		const struct pcdev_mq_queue_cfg *qc = &cfg->q[i];
		json_t *o = json_object();

		json_object_set_new(o, "queue", json_integer(i));
		json_object_set_new(o, "poller", json_integer(q->poller));
		json_object_set_new(o, "rate", vs_json_num(qc->rate));
		json_object_set_new(o, "burst_asked", json_integer(qc->burst));
		json_object_set_new(o, "wp_ns", vs_json_num(qc->wp_ns));
		json_object_set_new(o, "wc_ns", vs_json_num(qc->wc_ns));
		json_object_set_new(o, "items", json_integer((json_int_t)q->items));
		json_object_set_new(o, "produced", json_integer((json_int_t)q->produced));
		json_object_set_new(o, "offered", json_integer((json_int_t)q->offered));
		json_object_set_new(o, "throughput_ops", vs_json_num(q->throughput_ops));
		json_object_set_new(o, "offered_ops", vs_json_num(q->offered_ops));
		json_object_set_new(o, "burst", vs_json_num(q->burst));
		json_object_set_new(o, "publishes", json_integer((json_int_t)q->publishes));
		json_object_set_new(o, "full", json_integer((json_int_t)q->full));
		if (cfg->backend != PCDEV_BACKEND_KVM) {
			json_object_set_new(o, "dropped", json_integer((json_int_t)q->dropped));
			json_object_set_new(o, "stall_max_ns", vs_json_num(q->stall_max_ns));
		}
		json_object_set_new(o, "kicks", json_integer((json_int_t)q->kicks));
		json_object_set_new(o, "visits", json_integer((json_int_t)q->visits));
		json_object_set_new(o, "starved", json_integer((json_int_t)q->starved));
		json_object_set_new(o, "wait_max_ns", vs_json_num(q->wait_max_ns));
		json_object_set_new(o, "cpu_producer", vs_json_num(q->cpu_producer));
		json_object_set_new(o, "latency_ns", latency_json(&q->latency));
		if (cfg->backend == PCDEV_BACKEND_KVM)
			json_object_set_new(o, "kvm", json_pack(
				"{s:o,s:I,s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:o}",
				"kick_ns", vs_json_num(q->kick_ns),
				"exits", (json_int_t)q->exits,
				"io_exits", (json_int_t)q->io_exits,
				"halt_exits", (json_int_t)q->halt_exits,
				"halt_wakeup", (json_int_t)q->halt_wakeup,
				"insn_emulation", (json_int_t)q->insn_emulation,
				/* null: the module's default */
				"halt_poll_max_ns", qc->halt_poll_ns < 0 ? json_null() :
					json_integer((json_int_t)qc->halt_poll_ns),
				"halt_attempted_poll", (json_int_t)q->halt_attempted_poll,
				"halt_successful_poll", (json_int_t)q->halt_successful_poll,
				"halt_poll_time_ns", vs_json_num(q->halt_poll_ns)));
		json_array_append_new(qs, o);
	}
	for (i = 0; i < r->n_pollers; i++) {
		const struct pcdev_mq_poller_res *p = &r->p[i];

		json_array_append_new(ps, json_pack(
			"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
			"poller", (json_int_t)i, "queues", (json_int_t)p->n_queues,
			"items", (json_int_t)p->items, "visits", (json_int_t)p->visits,
			"empty_visits", (json_int_t)p->empty_visits,
			"blocks", (json_int_t)p->blocks, "wakeups", (json_int_t)p->wakeups,
			"util", vs_json_num(p->util), "cpu", vs_json_num(p->cpu),
			"visit_ns", vs_json_num(p->visit_ns), "wake_ns", vs_json_num(p->wake_ns),
			"wake_p10_ns", vs_json_num(p->wake_p10_ns),
			"wake_p98_ns", vs_json_num(p->wake_p98_ns),
			"busy_ns", vs_json_num(p->busy_ns), "block_ns", vs_json_num(p->block_ns)));
	}
	json_object_set_new(doc, "queues", qs);
	json_object_set_new(doc, "pollers", ps);
	if (r->note[0])
		json_object_set_new(doc, "note", json_string(r->note));
	vs_json_print(doc);
}

int bench_mq(const struct bench_mq_args *a, int argc, char **argv)
{
	struct pcdev_mq_config cfg;
	struct pcdev_mq_results *res;
	double dmax;
	int err;

	if (build(a, &cfg, &dmax))
		return VS_EXIT_USAGE;
	if (cfg.backend == PCDEV_BACKEND_KVM && bench_kvm_usable())
		return VS_EXIT_FAIL;
	res = calloc(1, sizeof(*res));
	if (!res) {
		vs_err("out of memory");
		return VS_EXIT_FAIL;
	}
	vs_stop_on_signals();
	cfg.stop = vs_stop_flag();
	err = pcdev_mq_run(&cfg, res);
	if (err == -EPERM && cfg.rt_priority)
		bench_rt_error(err);
	else if (err)
		vs_err("multi-queue device failed: %s%s%s", strerror(-err),
		       res->note[0] ? ": " : "", res->note);
	else if (!res->items) {
		vs_err("no item went through the queues; nothing to report (give "
		       "a longer --duration or a higher --rate)");
		err = -ENODATA;
	} else if (vs_global.json)
		print_json(&cfg, res, dmax, argc, argv);
	else
		print_text(&cfg, res, dmax);
	free(res);
	return err ? VS_EXIT_FAIL : VS_EXIT_OK;
}

int bench_kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		vs_err("--backend kvm: cannot open /dev/kvm: %s (is KVM "
		       "enabled and are you root?)", strerror(errno));
		return VS_EXIT_FAIL;
	}
	close(fd);
	return 0;
}

void bench_rt_error(int err)
{
	vs_err("--rt: cannot make the threads SCHED_FIFO: %s (needs root "
	       "or CAP_SYS_NICE)", strerror(-err));
}
