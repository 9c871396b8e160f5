// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync watch: the long-running form. One diagnosis session for the
 * whole run (lib/diagnose: discovery, host costs and the BPF probes, loaded
 * once); every interval it finds the VMs again and measures one window of
 * every queue, hands the result to lib/tune/watch.c (history, log lines,
 * the --tune loop) and serves it all as Prometheus metrics on /metrics.
 * The windows run in this thread; the HTTP server in its own
 * (lib/output/httpd.c), so no client can hold a window up.
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cmd.h"
#include "core/units.h"
#include "diagnose/diagnose.h"
#include "knobs/knobs.h"
#include "output/emit.h"
#include "output/emit-probe.h"
#include "output/httpd.h"
#include "output/prom.h"
#include "sources/probe.h"
#include "sources/vmname.h"
#include "tune/watch.h"

VS_COMMAND(watch, 0, "run until stopped: windows, logs, Prometheus /metrics, optional tuning");

#define MAX_VMS 64
#define DEFAULT_LISTEN "127.0.0.1:9477"
/* A scrape reads the probes at most this often (a flood of requests
 * costs map reads at this rate, not at the request rate). */
#define FRESH_NS 100e6

enum {
	OPT_LISTEN = 0x100, OPT_TUNE, OPT_TUNE_AFTER, OPT_TUNE_CONFIRM, OPT_MIN_GAIN,
	OPT_KNOB_INTERVAL, OPT_ROLLBACK_ON_EXIT, OPT_MAX_CONNS, OPT_HTTP_TIMEOUT,
	OPT_DMAX, OPT_PID, OPT_NO_CALIBRATE, OPT_PREDICTED_GAIN,
};

static struct env {
	double interval_ns;
	unsigned int count;
	const char *listen;
	bool tune;
	unsigned int tune_after, tune_confirm;
	double min_gain;	/* fraction */
	double predicted_gain;	/* fraction */
	double knob_interval_ns;
	bool rollback_on_exit;
	unsigned int max_conns;
	double http_timeout_ns;
	double dmax_ns;
	pid_t pid;
	bool no_calibrate;
} env;

static const char watch_doc[] =
"Run until stopped: every interval, find the VMs and their queues again,\n"
"measure them with the probes kept open, log regime changes and advice (one\n"
"line each, to stderr; JSON lines on stdout with --json), and serve the\n"
"rates, regimes, model predictions and knobs as Prometheus metrics on\n"
"http://ADDRESS/metrics. With --tune, apply a queue's plan through the\n"
"journal when it stays in a bad regime, and keep it only when the next\n"
"windows confirm the gain.\n"
"\n"
"Synopsis: virtsync watch [--pid PID] [--interval T] [--count N] [--dmax T]\n"
"                         [--listen ADDR:PORT] [--no-calibrate]\n"
"                         [--json] [--tune [--tune-after N] [--tune-confirm N]\n"
"                         [--min-gain PCT] [--min-predicted-gain PCT]\n"
"                         [--knob-interval T]\n"
"                         [--rollback-on-exit]]\n"
"\n"
"Examples:\n"
"    virtsync watch                       # metrics on 127.0.0.1:9477\n"
"    virtsync watch -i 5s --listen 127.0.0.1:9100 --json\n"
"    virtsync watch --tune --rollback-on-exit\n"
"    curl -s http://127.0.0.1:9477/metrics | promtool check metrics";

static const struct argp_option watch_options[] = {
	{ "interval", 'i', "TIME", 0, "Window length and re-discovery period (default 1s)", 0 },
	{ "count", 'c', "N", 0, "Stop after N windows (default: until stopped)", 0 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0,
	  "Serve /metrics here (default " DEFAULT_LISTEN "; [::1]:PORT for IPv6)", 0 },
	{ "max-connections", OPT_MAX_CONNS, "N", 0,
	  "HTTP connections open at once (default 16)", 0 },
	{ "http-timeout", OPT_HTTP_TIMEOUT, "TIME", 0,
	  "Close an HTTP connection this long after it opened (default 5s)", 0 },
	{ "pid", 'p', "PID", 0, "Watch this VM or device process only", 0 },
	{ "dmax", OPT_DMAX, "TIME", 0, "Latency bound for the plans (default 50us)", 0 },
	{ "no-calibrate", OPT_NO_CALIBRATE, NULL, 0,
	  "Skip the wake-up/notification cost measurement at the start", 0 },
	{ "tune", OPT_TUNE, NULL, 0, "Apply plans to queues that stay in a bad regime", 0 },
	{ "tune-after", OPT_TUNE_AFTER, "N", 0,
	  "Bad windows in a row before a change (default 3)", 0 },
	{ "tune-confirm", OPT_TUNE_CONFIRM, "N", 0,
	  "Windows that must confirm the gain (default 3)", 0 },
	{ "min-gain", OPT_MIN_GAIN, "PCT", 0, "Keep only above this gain (default 10)", 0 },
	{ "min-predicted-gain", OPT_PREDICTED_GAIN, "PCT", 0,
	  "Act only where the model predicts this gain (default 10)", 0 },
	{ "knob-interval", OPT_KNOB_INTERVAL, "TIME", 0,
	  "At most one change of a knob per this long (default 600s)", 0 },
	{ "rollback-on-exit", OPT_ROLLBACK_ON_EXIT, NULL, 0,
	  "On SIGTERM/SIGINT undo what --tune applied (default: leave it)", 0 },
	{ 0 },
};

static error_t watch_parse(int key, char *arg, struct argp_state *state)
{
	double d;

	switch (key) {
	case 'i':
		if (opt_time("--interval", arg, &env.interval_ns))
			return EINVAL;
		if (env.interval_ns < 1e8 || env.interval_ns > 3600e9) {
			vs_err("--interval: '%s' is out of range [100ms, 3600s]", arg);
			return EINVAL;
		}
		return 0;
	case 'c':
		return opt_uint("--count", arg, 1, UINT_MAX, &env.count) ? EINVAL : 0;
	case OPT_LISTEN: {
		char host[64];
		unsigned int port;

		if (vs_httpd_parse_listen(arg, host, sizeof(host), &port)) {
			vs_err("--listen: '%s' is not ADDRESS:PORT (127.0.0.1:9477, [::1]:9477)",
			       arg);
			return EINVAL;
		}
		env.listen = arg;
		return 0;
	}
	case OPT_MAX_CONNS:
		return opt_uint("--max-connections", arg, 1, 1024, &env.max_conns) ? EINVAL : 0;
	case OPT_HTTP_TIMEOUT:
		if (opt_time("--http-timeout", arg, &env.http_timeout_ns))
			return EINVAL;
		if (env.http_timeout_ns < 1e8 || env.http_timeout_ns > 600e9) {
			vs_err("--http-timeout: '%s' is out of range [100ms, 600s]", arg);
			return EINVAL;
		}
		return 0;
	case 'p': {
		uint64_t v;

		if (opt_u64("--pid", arg, 1, INT_MAX, &v))
			return EINVAL;
		env.pid = (pid_t)v;
		return 0;
	}
	case OPT_DMAX:
		if (opt_time("--dmax", arg, &env.dmax_ns))
			return EINVAL;
		if (env.dmax_ns <= 0) {
			vs_err("--dmax: '%s' must be more than 0", arg);
			return EINVAL;
		}
		return 0;
	case OPT_NO_CALIBRATE:
		env.no_calibrate = true;
		return 0;
	case OPT_TUNE:
		env.tune = true;
		return 0;
	case OPT_TUNE_AFTER:
		return opt_uint("--tune-after", arg, 1, 1000, &env.tune_after) ? EINVAL : 0;
	case OPT_TUNE_CONFIRM:
		return opt_uint("--tune-confirm", arg, 1, 1000, &env.tune_confirm) ? EINVAL : 0;
	case OPT_MIN_GAIN:
		if (opt_double("--min-gain", arg, 0, 10000, &d))
			return EINVAL;
		env.min_gain = d / 100;
		return 0;
	case OPT_PREDICTED_GAIN:
		if (opt_double("--min-predicted-gain", arg, 0, 10000, &d))
			return EINVAL;
		if (!(d > 0)) {
			vs_err("--min-predicted-gain: '%s' must be more than 0", arg);
			return EINVAL;
		}
		env.predicted_gain = d / 100;
		return 0;
	case OPT_KNOB_INTERVAL:
		if (opt_time("--knob-interval", arg, &env.knob_interval_ns))
			return EINVAL;
		return 0;
	case OPT_ROLLBACK_ON_EXIT:
		env.rollback_on_exit = true;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (vs_global.verbose < 2 && level == LIBBPF_DEBUG)
		return 0;
	if (!vs_global.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* ---- state shared with the server's thread -------------------------- */

struct vm_name {
	pid_t pid;
	char name[64];
};

struct watch {
	pthread_mutex_t lock;		/* everything below */
	struct vs_probe *probe;
	struct vs_probe_snapshot fresh;	/* read for scrapes, at most FRESH_NS old */
	double fresh_ns;
	struct vs_probe_snapshot window;	/* at the current window's start */
	bool have_fresh, have_window;
	struct vm_name names[MAX_VMS];
	unsigned int n_names;
	struct vs_watch w;
	struct vs_httpd *httpd;
	struct vs_prom *prom;
};

static const char *name_of(int pid, const char *comm, void *ctx)
{
	const struct watch *s = ctx;
	unsigned int i;

	(void)comm;
	for (i = 0; i < s->n_names; i++)
		if (s->names[i].pid == pid)
			return s->names[i].name;
	return NULL;
}

/* The server's thread, for each GET /metrics. */
static int render(void *ctx, char **body, size_t *len)
{
	struct watch *s = ctx;
	const struct vs_emit_probe_opts po = { .name_label = "vm", .vm_name = name_of,
					       .ctx = s };
	struct vs_emitter *e;
	const char *text;
	int err = 0, r;

	pthread_mutex_lock(&s->lock);
	if (s->probe && (!s->have_fresh || vs_mono_ns() - s->fresh_ns > FRESH_NS)) {
		struct vs_probe_snapshot snap;

		err = vs_probe_read(s->probe, &snap);
		if (!err) {
			if (s->have_fresh)
				vs_probe_snapshot_free(&s->fresh);
			s->fresh = snap;
			s->have_fresh = true;
			s->fresh_ns = vs_mono_ns();
		}
	}
	vs_watch_prune(&s->w);	/* a VM that exited has no series */
	vs_prom_reset(s->prom);
	/* The probe families as stat --prometheus has them (one walk,
	 * lib/output/emit-probe.c): since the probes opened, so counters and
	 * histogram buckets only grow. */
	if (s->have_fresh) {
		e = vs_emit_new_prom(s->prom, "virtsync");
		if (e)
			vs_emit_probe(e, &s->fresh, NULL, s->fresh.elapsed_ns > 0 ?
				      s->fresh.elapsed_ns / 1e9 : 1e-9, &po);
		r = e ? vs_emit_finish(e) : -ENOMEM;
		err = err ? err : r;
	}
	r = vs_prom_watch(s->prom, &s->w, env.interval_ns / 1e9, VS_VERSION);
	err = err ? err : r;
	if (s->httpd) {
		struct vs_httpd_stats st;

		vs_httpd_get_stats(s->httpd, &st);
		r = vs_prom_httpd(s->prom, &st);
		err = err ? err : r;
	}
	if (!err)
		err = vs_prom_error(s->prom);
	if (!err) {
		text = vs_prom_text(s->prom, len);
		*body = malloc(*len ? *len : 1);
		if (*body)
			memcpy(*body, text, *len);
		else
			err = -ENOMEM;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* ---- events ------------------------------------------------------------ */

static void on_event(const struct vs_watch_event *ev, void *ctx)
{
	char stamp[32];
	time_t t = (time_t)ev->t_s;
	struct tm tm;

	(void)ctx;
	fprintf(stderr, "%s: %s\n", vs_watch_ev_name(ev->kind), ev->text);
	if (!vs_global.json)
		return;
	{
		json_t *o = json_object();

		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_set_new(o, "time", json_string(stamp));
		json_object_set_new(o, "event", json_string(vs_watch_ev_name(ev->kind)));
		if (ev->id) {
			json_object_set_new(o, "vm", json_string(ev->id->vm));
			json_object_set_new(o, "pid", json_integer(ev->id->pid));
			json_object_set_new(o, "device", json_string(ev->id->device));
			json_object_set_new(o, "queue", json_string(ev->id->queue));
		}
		if (ev->regime[0])
			json_object_set_new(o, "regime", json_string(ev->regime));
		json_object_set_new(o, "confidence", vs_json_num(ev->confidence));
		if (ev->knob[0]) {
			json_object_set_new(o, "knob", json_string(ev->knob));
			json_object_set_new(o, "instance", json_string(ev->inst));
			json_object_set_new(o, "old", json_string(ev->old));
			json_object_set_new(o, "new", json_string(ev->new));
		}
		json_object_set_new(o, "gain", vs_json_num(ev->gain));
		json_object_set_new(o, "text", json_string(ev->text));
		vs_json_print(o);
		fflush(stdout);
	}
}

/* ---- the loop ---------------------------------------------------------- */

/* What the metrics and log lines call a queue: its process (with the start
 * time that tells a reused pid apart), its name, the thread serving it. */
static int queue_id(const struct vs_diag_queue *q, struct vs_watch_id *id)
{
	char inst[VS_KNOB_INST_MAX], *at;
	int err;

	memset(id, 0, sizeof(*id));
	id->pid = q->vm->pid;
	err = vs_thread_inst_make(q->vm->pid, inst, sizeof(inst));
	if (err)
		return err;		/* the process has gone */
	if ((at = strchr(inst, '@')))
		id->start = strtoull(at + 1, NULL, 10);
	if (vs_vm_name(q->vm->pid, id->vm, sizeof(id->vm)))
		snprintf(id->vm, sizeof(id->vm), "%s", q->vm->comm);
	if (q->dev && q->ring && q->vq) {
		snprintf(id->device, sizeof(id->device), "%s", q->dev->id);
		snprintf(id->queue, sizeof(id->queue), "%u", q->ring->index);
		id->ring = (unsigned int)(q->dev - q->vq->set.devs) * VS_VQ_MAX_QUEUES +
			   q->ring->index + 1;
		return 0;
	}
	if (q->sample.cons.present && q->sample.cons.comm[0])
		snprintf(id->device, sizeof(id->device), "%s", q->sample.cons.comm);
	else
		snprintf(id->device, sizeof(id->device), "%s", vs_vm_kind_name(q->vm->kind));
	snprintf(id->queue, sizeof(id->queue), "0");
	return 0;
}

/* A virtqueue measured through QMP: QEMU's own index for the counter. */
static void ring_of(const struct vs_diag_queue *q, struct vs_watch_queue *wq)
{
	const struct vs_vqset *set;
	struct vs_watch_ring r;
	double mono_to_wall;

	if (!wq || q->err || !q->ring || !q->vq || !q->vq->per_queue || !q->ring->n_samples)
		return;
	set = &q->vq->set;
	{
		struct timespec wall;

		clock_gettime(CLOCK_REALTIME, &wall);
		mono_to_wall = wall.tv_sec * 1e9 + wall.tv_nsec - vs_mono_ns();
	}
	r.last_idx = q->ring->last_used;
	r.first_idx = (uint16_t)(q->ring->last_used - (uint16_t)q->ring->used);
	r.used = q->ring->used;
	r.end_s = ((double)set->tlast_ns + mono_to_wall) / 1e9;
	r.items_src = q->ring->items.source;
	r.kicks_src = q->ring->kicks.source;
	r.irqs_src = q->ring->irqs.source;
	vs_watch_ring(wq, &r);
}

/* The VM names for the probe families, from what discovery found. */
static void names_of(struct watch *s, const struct vs_diagnosis *d)
{
	unsigned int i;

	s->n_names = 0;
	for (i = 0; i < d->found->n_vms && s->n_names < MAX_VMS; i++) {
		struct vm_name *vn = &s->names[s->n_names++];

		vn->pid = d->found->vms[i].pid;
		if (vs_vm_name(vn->pid, vn->name, sizeof(vn->name)))
			snprintf(vn->name, sizeof(vn->name), "%s", d->found->vms[i].comm);
	}
}

/* Sleep until the deadline or a signal: false on a signal. */
static bool sleep_until(const struct timespec *deadline)
{
	while (!vs_stop_requested()) {
		int e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, NULL);

		if (!e)
			return !vs_stop_requested();
		if (e != EINTR)
			return false;
	}
	return false;
}

static void timespec_add(struct timespec *t, double ns)
{
	uint64_t add = (uint64_t)ns;

	t->tv_sec += (time_t)(add / 1000000000ULL);
	t->tv_nsec += (long)(add % 1000000000ULL);
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

/* The window's start for the interval gauges of the probe families. */
static void mark_window(struct watch *s)
{
	struct vs_probe_snapshot snap;

	if (!s->probe || vs_probe_read(s->probe, &snap))
		return;
	pthread_mutex_lock(&s->lock);
	if (s->have_window)
		vs_probe_snapshot_free(&s->window);
	s->window = snap;
	s->have_window = true;
	pthread_mutex_unlock(&s->lock);
}

int cmd_watch(int argc, char **argv)
{
	static const struct argp_child children[] = {
		{ &vs_common_argp, 0, "Common options:", 0 },
		{ 0 },
	};
	const struct argp argp = {
		.options = watch_options, .parser = watch_parse, .doc = watch_doc,
		.children = children,
	};
	static struct watch s;
	static struct vs_diagnosis d;
	struct vs_diag_opts o = VS_DIAG_OPTS_INIT;
	struct vs_diag_session *sess = NULL;
	struct vs_watch_opts wo = { 0 };
	struct vs_httpd_opts ho = { 0 };
	struct vs_httpd *httpd = NULL;
	struct timespec deadline;
	unsigned int windows = 0, i;
	char why[256];
	int err, ret = VS_EXIT_FAIL;

	memset(&env, 0, sizeof(env));
	env.interval_ns = 1e9;
	env.listen = DEFAULT_LISTEN;
	env.min_gain = 0.10;
	env.predicted_gain = 0.10;
	env.knob_interval_ns = 600e9;
	env.dmax_ns = 50e3;
	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, NULL))
		return VS_EXIT_USAGE;
	if (env.rollback_on_exit && !env.tune) {
		vs_err("--rollback-on-exit: only with --tune");
		return VS_EXIT_USAGE;
	}
	if (vs_probe_check_caps()) {
		vs_err("needs CAP_BPF and CAP_PERFMON (or root)");
		return VS_EXIT_FAIL;
	}
	libbpf_set_print(libbpf_print);

	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.lock, NULL);
	s.prom = vs_prom_new();
	if (!s.prom) {
		vs_err("out of memory");
		return VS_EXIT_FAIL;
	}
	wo.tune = env.tune;
	wo.bad_windows = env.tune_after;
	wo.confirm_windows = env.tune_confirm;
	wo.min_gain = env.min_gain;
	wo.predicted_gain = env.predicted_gain;
	wo.knob_interval_s = env.knob_interval_ns / 1e9;
	wo.cb = on_event;
	vs_watch_init(&s.w, &wo);

	vs_stop_on_signals();
	signal(SIGPIPE, SIG_IGN);

	/* One session for the whole run: the VMs of this host (never the
	 * reference device started for us), the costs measured once. */
	o.target = env.pid ? VS_DIAG_PID : VS_DIAG_HOST;
	o.pid = env.pid;
	o.duration_ns = env.interval_ns;
	o.dmax_ns = env.dmax_ns;
	o.no_calibrate = env.no_calibrate;
	o.stop = vs_stop_flag();
	err = vs_diag_open(&o, &sess, &d);
	if (err) {
		vs_err("%s%s%s", d.about_target ? "--pid: " : "", d.why[0] ? d.why : "",
		       d.why[0] ? "" : strerror(-err));
		ret = d.target_refused ? VS_EXIT_USAGE : VS_EXIT_FAIL;
		goto cleanup;
	}
	pthread_mutex_lock(&s.lock);
	s.probe = vs_diag_probe(sess);
	names_of(&s, &d);
	pthread_mutex_unlock(&s.lock);

	ho.listen = env.listen;
	ho.path = "/metrics";
	ho.content_type = VS_PROM_CONTENT_TYPE;
	ho.max_conns = env.max_conns;
	ho.timeout_ms = (unsigned int)(env.http_timeout_ns / 1e6);
	ho.render = render;
	ho.ctx = &s;
	err = vs_httpd_start(&ho, &httpd, why, sizeof(why));
	if (err) {
		vs_err("--listen: %s", why);
		goto cleanup;
	}
	pthread_mutex_lock(&s.lock);
	s.httpd = httpd;
	pthread_mutex_unlock(&s.lock);
	{
		char host[64], win[VS_FMT_LEN];
		unsigned int port;
		bool v6;

		vs_httpd_parse_listen(env.listen, host, sizeof(host), &port);
		v6 = strchr(host, ':') != NULL;
		fprintf(stderr, "virtsync watch: serving http://%s%s%s:%d/metrics, window "
			"%s, %u VM%s, tuning %s\n", v6 ? "[" : "", host, v6 ? "]" : "",
			vs_httpd_port(httpd), vs_format_time(env.interval_ns, win, sizeof(win)),
			d.found->n_vms,
			d.found->n_vms == 1 ? "" : "s", env.tune ? "on" : "off");
	}

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	while (!vs_stop_requested() && (!env.count || windows < env.count)) {
		timespec_add(&deadline, env.interval_ns);
		mark_window(&s);
		if (d.n_queues) {
			err = vs_diag_window(sess, &d);
			if (err)
				fprintf(stderr, "error: the window failed: %s\n",
					d.why[0] ? d.why : strerror(-err));
		}
		/* No queue: nothing measured, the interval is still one window.
		 * A window cut short by a signal is not reported. */
		if (!sleep_until(&deadline))
			break;
		pthread_mutex_lock(&s.lock);
		vs_watch_begin(&s.w);
		for (i = 0; !err && i < d.n_queues; i++) {
			struct vs_watch_id id;

			if (queue_id(&d.queues[i], &id))
				continue;	/* exited during the window */
			ring_of(&d.queues[i],
				vs_watch_window(&s.w, &id, d.queues[i].err, &d.queues[i].sample,
						&d.queues[i].verdict, &d.queues[i].plan));
		}
		vs_watch_end(&s.w);
		pthread_mutex_unlock(&s.lock);
		windows++;
		if (env.pid)
			continue;	/* one process: nothing to look for */
		err = vs_diag_rediscover(sess, &d);
		if (err)
			fprintf(stderr, "error: cannot look for VMs again: %s\n",
				d.why[0] ? d.why : strerror(-err));
		pthread_mutex_lock(&s.lock);
		s.probe = vs_diag_probe(sess);
		names_of(&s, &d);
		pthread_mutex_unlock(&s.lock);
	}
	ret = VS_EXIT_OK;
	if (vs_stop_requested() && env.rollback_on_exit) {
		pthread_mutex_lock(&s.lock);
		if (vs_watch_rollback_all(&s.w))
			ret = VS_EXIT_FAIL;
		pthread_mutex_unlock(&s.lock);
	}
cleanup:
	vs_httpd_stop(httpd);
	pthread_mutex_lock(&s.lock);
	s.probe = NULL;
	pthread_mutex_unlock(&s.lock);
	vs_diag_close(sess, NULL);
	vs_diagnosis_free(&d);
	if (s.have_fresh)
		vs_probe_snapshot_free(&s.fresh);
	if (s.have_window)
		vs_probe_snapshot_free(&s.window);
	vs_prom_free(s.prom);
	pthread_mutex_destroy(&s.lock);
	return ret;
}
