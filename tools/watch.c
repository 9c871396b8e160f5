// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync watch: the long-running form. Every interval it re-discovers the
 * VMs, reads the probes it keeps open (one BPF load for the whole run),
 * logs what changed, and serves everything as Prometheus metrics on
 * /metrics. The measurement runs in this thread; the HTTP server in its
 * own (lib/output/httpd.c), so no client can hold a window up.
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
	OPT_LISTEN = 0x100, OPT_MAX_CONNS, OPT_HTTP_TIMEOUT,
};

static struct env {
	double interval_ns;
	unsigned int count;
	const char *listen;
	bool tune;
	unsigned int tune_after, tune_confirm;
	double min_gain;	/* fraction */
	double knob_interval_ns;
	bool rollback_on_exit;
	unsigned int max_conns;
	double http_timeout_ns;
} env;

static volatile sig_atomic_t stop;

static const char watch_doc[] =
"Run until stopped: every interval, find the VMs and their queues again,\n"
"measure them with the probes kept open, log regime changes and advice (one\n"
"line each, to stderr; JSON lines on stdout with --json), and serve the\n"
"rates as Prometheus metrics on http://ADDRESS/metrics.\n"
"\n"
"USAGE: virtsync watch [--interval T] [--count N] [--listen ADDR:PORT]\n"
"                      [--max-connections N] [--http-timeout T] [--json]\n"
"\n"
"EXAMPLES:\n"
"    virtsync watch                       # metrics on 127.0.0.1:9477\n"
"    virtsync watch -i 5s --listen 127.0.0.1:9100 --json\n"

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
	{ 0 },
};

static error_t watch_parse(int key, char *arg, struct argp_state *state)
{
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
	case ARGP_KEY_ARG:
		vs_err("unexpected argument '%s'", arg);
		return EINVAL;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
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
	const struct vs_prom_probe_opts po = { .name_label = "vm", .vm_name = name_of,
					       .ctx = s };
	const char *text;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	if (!s->have_fresh || vs_mono_ns() - s->fresh_ns > FRESH_NS) {
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
	vs_prom_reset(s->prom);
	if (s->have_fresh)
		vs_prom_probe(s->prom, &s->fresh, s->have_window ? &s->window : NULL,
			      1, &po);
	vs_prom_watch(s->prom, &s->w, env.interval_ns / 1e9, VS_VERSION);
	if (s->httpd) {
		struct vs_httpd_stats st;

		vs_httpd_get_stats(s->httpd, &st);
		vs_prom_httpd(s->prom, &st);
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

/* The VMs now, with their names; 0 or -errno. */
static int rediscover(struct watch *s, pid_t *pids, unsigned int *n)
{
	pid_t *vms = NULL;
	unsigned int nv = 0, i;
	int err = vs_find_vms(&vms, &nv);

	if (err)
		return err;
	*n = nv < MAX_VMS ? nv : MAX_VMS;
	pthread_mutex_lock(&s->lock);
	s->n_names = 0;
	for (i = 0; i < *n; i++) {
		struct vm_name *vn = &s->names[s->n_names++];

		pids[i] = vms[i];
		vn->pid = vms[i];
		if (vs_vm_name(vms[i], vn->name, sizeof(vn->name)))
			vs_task_comm(vms[i], vms[i], vn->name, sizeof(vn->name));
	}
	pthread_mutex_unlock(&s->lock);
	free(vms);
	return 0;
}

/* Sleep until the deadline or a signal: false on a signal. */
static bool sleep_until(const struct timespec *deadline)
{
	while (!stop) {
		int e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, NULL);

		if (!e)
			return !stop;
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
	struct vs_watch_opts wo = { 0 };
	struct vs_httpd_opts ho = { 0 };
	struct vs_probe_opts po = { .flags = VS_PROBE_ALL, .attach = VS_ATTACH_AUTO };
	struct vs_httpd *httpd = NULL;
	struct timespec deadline;
	struct sigaction sa;
	pid_t pids[MAX_VMS];
	unsigned int n = 0, windows = 0;
	char why[256];
	int err, ret = VS_EXIT_FAIL;

	memset(&env, 0, sizeof(env));
	env.interval_ns = 1e9;
	env.listen = DEFAULT_LISTEN;
	env.min_gain = 0.10;
	env.knob_interval_ns = 600e9;
	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, NULL))
		return VS_EXIT_USAGE;
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
	wo.knob_interval_s = env.knob_interval_ns / 1e9;
	wo.cb = on_event;
	vs_watch_init(&s.w, &wo);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: sleeps end at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	err = rediscover(&s, pids, &n);
	if (err) {
		vs_err("cannot list processes in /proc: %s", strerror(-err));
		goto cleanup;
	}
	/* Always filter: no VM yet is an empty set, not every process. */
	{
		static const pid_t none = 0;

		po.pids = n ? pids : &none;
		po.n_pids = n ? n : 1;
	}
	err = vs_probe_open(&po, &s.probe);
	if (err) {
		vs_err("cannot attach the probes: %s (try -v for libbpf's log)",
		       strerror(-err));
		goto cleanup;
	}
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
		char host[64];
		unsigned int port;
		bool v6;

		vs_httpd_parse_listen(env.listen, host, sizeof(host), &port);
		v6 = strchr(host, ':') != NULL;
		fprintf(stderr, "virtsync watch: serving http://%s%s%s:%d/metrics, window "
			"%.3gs, %u VM%s\n", v6 ? "[" : "", host, v6 ? "]" : "",
			vs_httpd_port(httpd), env.interval_ns / 1e9, n, n == 1 ? "" : "s");
	}

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	while (!stop && (!env.count || windows < env.count)) {
		struct vs_probe_snapshot snap;

		err = vs_probe_read(s.probe, &snap);
		if (!err) {
			pthread_mutex_lock(&s.lock);
			if (s.have_window)
				vs_probe_snapshot_free(&s.window);
			s.window = snap;
			s.have_window = true;
			pthread_mutex_unlock(&s.lock);
		}
		timespec_add(&deadline, env.interval_ns);
		if (!sleep_until(&deadline))
			break;
		pthread_mutex_lock(&s.lock);
		vs_watch_begin(&s.w);
		vs_watch_end(&s.w);
		pthread_mutex_unlock(&s.lock);
		windows++;
		if (!rediscover(&s, pids, &n)) {
			static const pid_t none = 0;

			vs_probe_set_targets(s.probe, n ? pids : &none, n ? n : 1);
		}
	}
	ret = VS_EXIT_OK;
cleanup:
	vs_httpd_stop(httpd);
	vs_probe_close(s.probe);
	if (s.have_fresh)
		vs_probe_snapshot_free(&s.fresh);
	if (s.have_window)
		vs_probe_snapshot_free(&s.window);
	vs_prom_free(s.prom);
	pthread_mutex_destroy(&s.lock);
	return ret;
}
