// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync stat: live per-VM rates of exits, kicks, injected interrupts,
 * halts and wake-up latency, like kvm_stat, from lib/probe (BPF programs on
 * tracepoints, or perf_event_open counts where BPF is refused).
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cmd.h"
#include "sources/exitlat.h"
#include "sources/probe.h"
#include "output/emit.h"
#include "output/emit-probe.h"
#include "output/print.h"
#include "stat-qmp.h"
#include "core/units.h"

#define MAX_PIDS 64

static struct env {
	pid_t pids[MAX_PIDS];
	unsigned int n_pids;
	double interval_ns;
	bool interval_set;
	unsigned int count;
	bool threads;
	bool wakers;
	bool prometheus;
	const char *prom_file;
	enum vs_probe_attach attach;
	unsigned int probes;	/* enum vs_probe_flags, 0 = all */
	char **cmd;		/* after "--" */
	const char *qmp;	/* --qmp SOCKET: query-stats instead of BPF */
} env;

static pid_t cmd_pid;	/* -- COMMAND's process, 0 without one */
static bool waiting_said;	/* "no VM found" printed, none seen since */

const char stat_doc[] =
"Live per-VM rates of VM exits, kicks, injected interrupts, halts and\n"
"thread wake-up latency, from BPF programs on KVM and scheduler tracepoints.\n"
"\n"
"Synopsis: virtsync stat [--pid PID]... [--interval T] [--count N] [--threads]\n"
"                        [--wakers] [--json] [--prometheus|--prometheus-file F]\n"
"                        [-- COMMAND [ARGS]]\n"
"\n"
"Examples:\n"
"    virtsync stat                      # every VM, one row each, every 1 s\n"
"    virtsync stat -p 4242 -i 5s -c 3   # one VM, three 5-second intervals\n"
"    virtsync stat --threads --wakers   # per-thread rows, waker -> wakee\n"
"    virtsync stat --json -c 10         # one JSON object per interval\n"
"    virtsync stat --prometheus-file /var/lib/node_exporter/virtsync.prom\n"
"    virtsync stat -- virtsync bench --backend kvm --duration 5s\n"
"    virtsync stat --qmp /run/vm1.qmp   # per-vCPU rows from QEMU's QMP\n";

enum {
	OPT_PROM = 0x100,
	OPT_PROM_FILE,
	OPT_ATTACH,
	OPT_PROBES,
	OPT_QMP,
};

static const struct argp_option stat_options[] = {
	{ "pid", 'p', "PID", 0, "Measure this process (repeat for more); default: every VM", 0 },
	{ "interval", 'i', "TIME", 0, "Reporting interval (default 1s)", 0 },
	{ "count", 'c', "N", 0, "Stop after N intervals (default: until stopped)", 0 },
	{ "threads", 't', NULL, 0, "Also print one row per thread", 0 },
	{ "wakers", 'w', NULL, 0, "Also print waker -> wakee pairs", 0 },
	{ "prometheus", OPT_PROM, NULL, 0, "Prometheus text format on stdout", 0 },
	{ "prometheus-file", OPT_PROM_FILE, "PATH", 0,
	  "Write Prometheus text to PATH atomically each interval", 0 },
	{ "attach", OPT_ATTACH, "HOW", 0,
	  "auto (default), tp_btf, raw_tp or perf (no BPF: counts only)", 0 },
	{ "qmp", OPT_QMP, "SOCKET", 0,
	  "Per-vCPU rows of the QEMU at this QMP socket (query-stats), no BPF", 0 },
	{ "probes", OPT_PROBES, "LIST", 0,
	  "Comma list of kvm, sched (wake-up latency), sleep; default all", 0 },
	{ 0 },
};

static error_t stat_parse(int key, char *arg, struct argp_state *state)
{
	uint64_t v;

	switch (key) {
	case 'p':
		if (env.n_pids >= MAX_PIDS) {
			vs_err("--pid: at most %d processes", MAX_PIDS);
			return EINVAL;
		}
		if (opt_u64("--pid", arg, 1, INT_MAX, &v))
			return EINVAL;
		env.pids[env.n_pids++] = (pid_t)v;
		return 0;
	case 'i':
		if (opt_duration("--interval", arg, 10e6, 24 * 3600e9,
				 &env.interval_ns))
			return EINVAL;
		env.interval_set = true;
		return 0;
	case 'c':
		return opt_uint("--count", arg, 1, UINT_MAX, &env.count) ? EINVAL : 0;
	case 't':
		env.threads = true;
		return 0;
	case 'w':
		env.wakers = true;
		return 0;
	case OPT_PROM:
		env.prometheus = true;
		return 0;
	case OPT_PROM_FILE:
		return opt_nonempty("--prometheus-file", arg, "path", &env.prom_file) ? EINVAL : 0;
	case OPT_ATTACH:
		if (!strcmp(arg, "auto"))
			env.attach = VS_ATTACH_AUTO;
		else if (!strcmp(arg, "tp_btf"))
			env.attach = VS_ATTACH_TP_BTF;
		else if (!strcmp(arg, "raw_tp"))
			env.attach = VS_ATTACH_RAW_TP;
		else if (!strcmp(arg, "perf"))
			env.attach = VS_ATTACH_PERF;
		else {
			vs_err("--attach: '%s' is not auto, tp_btf, raw_tp or perf", arg);
			return EINVAL;
		}
		return 0;
	case OPT_PROBES: {
		char buf[64], *tok, *save = NULL;

		if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf)) {
			vs_err("--probes: '%s' is too long", arg);
			return EINVAL;
		}
		env.probes = 0;
		for (tok = strtok_r(buf, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			if (!strcmp(tok, "kvm"))
				env.probes |= VS_PROBE_KVM;
			else if (!strcmp(tok, "sched"))
				env.probes |= VS_PROBE_SCHED;
			else if (!strcmp(tok, "sleep"))
				env.probes |= VS_PROBE_SLEEP;
			else {
				vs_err("--probes: '%s' is not kvm, sched or sleep", tok);
				return EINVAL;
			}
		}
		if (!env.probes) {
			vs_err("--probes: '%s' names no probe group", arg);
			return EINVAL;
		}
		return 0;
	}
	case OPT_QMP:
		return opt_nonempty("--qmp", arg, "socket path", &env.qmp) ? EINVAL : 0;
	case ARGP_KEY_ARGS:
		env.cmd = state->argv + state->next;
		return 0;
	case ARGP_KEY_ARG:
		return ARGP_ERR_UNKNOWN;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if (vs_global.verbose < 2 && level == LIBBPF_DEBUG)
		return 0;
	if (!vs_global.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* ---- formatting ------------------------------------------------------- */

static void fmt_rate(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (v >= 9.995e6)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else if (v >= 9999.5)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else if (v >= 99.95 || v == 0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f", v);
}

/* Latency cells: the one time formatter (lib/core/units.c), so stat's
 * precision is every other output's (it used to round to whole us). */
static void fmt_lat(char *buf, size_t len, double ns)
{
	vs_format_time(isfinite(ns) ? ns : NAN, buf, len);
}

/* Derived per-interval figures of one VM or thread. */
struct row {
	double exits, kicks, irqs, uexits, halts_polled, halts_waited;
	double poll_pct, wake_p50, wake_p99, sleeps;
};

static void row_of(struct row *r, const struct vs_counters *d, double secs)
{
	uint64_t hp = d->ctr[VS_HALT_POLLED], hw = d->ctr[VS_HALT_WAITED];

	r->exits = d->ctr[VS_EXIT] / secs;
	r->kicks = vs_counters_kicks(d) / secs;
	r->irqs = vs_counters_irqs(d) / secs;
	r->uexits = d->ctr[VS_UEXIT] / secs;
	r->halts_polled = hp / secs;
	r->halts_waited = hw / secs;
	r->sleeps = d->ctr[VS_SLEEP] / secs;
	/* kvm_vcpu_wakeup waited = 0 means the poll found work: KVM's
	 * halt_successful_poll over all halts that ended. */
	r->poll_pct = hp + hw ? 100.0 * hp / (hp + hw) : NAN;
	r->wake_p50 = vs_hist_quantile(&d->hist[VS_HIST_WAKEUP], 0.5);
	r->wake_p99 = vs_hist_quantile(&d->hist[VS_HIST_WAKEUP], 0.99);
}

/*
 * The thread's name now: the probes record comm when they first see a
 * thread, which for `stat -- CMD` is before CMD's threads name themselves
 * (vs-vhost, vs-vcpu0), so every row said "virtsync".
 */
static const char *fresh_comm(pid_t tgid, pid_t tid, const char *seen,
			      char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)tgid, (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return seen;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return seen;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

struct pair_row {
	const struct vs_probe_pair *p;
	uint64_t n;
};

/* busiest pair first; qsort is not stable, so equal counts keep the
 * snapshot's order (the same pairs print in the same order every interval) */
static int pair_row_cmp(const void *a, const void *b)
{
	const struct pair_row *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return x->p < y->p ? -1 : x->p > y->p;
}

static void vm_delta(struct vs_counters *d, const struct vs_probe_vm *vm,
		     const struct vs_probe_snapshot *prev)
{
	const struct vs_probe_vm *old = vs_probe_snapshot_vm(prev, vm->pid);
	static const struct vs_counters zero;

	vs_counters_sub(d, &vm->c, old ? &old->c : &zero);
}

static void print_sources(FILE *out, const struct vs_probe_snapshot *s)
{
	unsigned int i, used = 0, n_btf = 0, n_raw = 0, n_tp = 0, n_perf = 0;

	for (i = 0; i < s->n_sources; i++) {
		const struct vs_probe_source *src = &s->sources[i];

		if (!src->used)
			continue;
		used++;
		n_btf += !strcmp(src->how, "tp_btf");
		n_raw += !strcmp(src->how, "raw_tp");
		n_tp += !strcmp(src->how, "tracepoint");
		n_perf += !strcmp(src->how, "perf");
	}
	if (s->backend == VS_PROBE_BPF)
		fprintf(out, "sources: BPF on %u tracepoints (tp_btf %u, raw_tp %u, "
			"tracepoint %u)\n", used, n_btf, n_raw, n_tp);
	else
		fprintf(out, "sources: perf_event_open counts of %u tracepoints, "
			"host-wide\n", n_perf);
	for (i = 0; i < s->n_sources; i++) {
		const struct vs_probe_source *src = &s->sources[i];
		char line[256], cut[sizeof(line) + 4];

		if (src->used && !src->why[0])
			continue;
		/* A used source with a note is attached but silent. */
		snprintf(line, sizeof(line), "  %s: %s: %s",
			 src->used ? "silent" : "not used", src->name, src->why);
		fprintf(out, "%s\n", vs_cut(line, 79, cut, sizeof(cut)));	/* 80 columns */
	}
}

/* Where kvm_exit/kvm_entry fire: each reason's rate and exit-to-entry
 * time over the interval, the four most frequent. */
static void print_exit_costs(const struct vs_probe_snapshot *s,
			     const struct vs_probe_snapshot *prev, pid_t pid,
			     double secs)
{
	struct vs_exitcost e[VS_EXITCOST_MAX];
	unsigned int n = vs_exitcost_between(s, prev, pid, secs, e, VS_EXITCOST_MAX), i;
	char c[4][16], name[4 * 20 + 4];

	for (i = 0; i < n && i < 4; i++) {
		fmt_rate(c[0], 16, e[i].per_s);
		fmt_lat(c[1], 16, e[i].mean_ns);
		fmt_lat(c[2], 16, e[i].p50_ns);
		fmt_lat(c[3], 16, e[i].p99_ns);
		printf("  exit %s %7s/s  mean %6s p50 %6s p99 %6s%s\n",
		       vs_fit(e[i].name, 20, name, sizeof(name)), c[0], c[1], c[2], c[3],
		       e[i].kick ? " kick" : "");
	}
}

static void print_text(const struct vs_probe_snapshot *s,
		       const struct vs_probe_snapshot *prev, double secs)
{
	char ts[32], c[10][16], name[VS_COMM_LEN + 8], col[16];
	struct vs_counters d;
	struct row r;
	struct tm tm;
	time_t now = time(NULL);
	unsigned int i, j;

	/* Nothing to show until a VM starts: say so once, not a header a second. */
	if (!s->n_vms && !env.n_pids && cmd_pid <= 0) {
		if (!waiting_said)
			fprintf(stderr, "virtsync stat: no VM found; waiting for one (Ctrl-C to stop)\n");
		waiting_said = true;
		return;
	}
	waiting_said = false;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	printf("%s  interval %s%s\n", ts, VS_TIME(secs * 1e9),
	       s->perf_running_ratio < 1.0 ? "  (perf counters multiplexed)" : "");
	printf("%-7s %-10s %7s %7s %7s %7s %7s %5s %6s %6s\n", "PID", "COMM",
	       "EXIT/s", "KICK/s", "IRQ/s", "HLTP/s", "HLTW/s", "POLL%",
	       "WAK50", "WAK99");
	for (i = 0; i < s->n_vms; i++) {
		const struct vs_probe_vm *vm = &s->vms[i];

		vm_delta(&d, vm, prev);
		row_of(&r, &d, secs);
		fmt_rate(c[0], 16, r.exits);
		fmt_rate(c[1], 16, r.kicks);
		fmt_rate(c[2], 16, r.irqs);
		fmt_rate(c[3], 16, r.halts_polled);
		fmt_rate(c[4], 16, r.halts_waited);
		if (isfinite(r.poll_pct))
			snprintf(c[5], 16, "%.0f", r.poll_pct);
		else
			snprintf(c[5], 16, "-");
		fmt_lat(c[6], 16, r.wake_p50);
		fmt_lat(c[7], 16, r.wake_p99);
		printf("%-7d %s %7s %7s %7s %7s %7s %5s %6s %6s\n",
		       (int)vm->pid, vs_fit(vm->alive ? vm->comm : "(exited)", 10, col, sizeof(col)),
		       c[0], c[1],
		       c[2], c[3], c[4], c[5], c[6], c[7]);
		print_exit_costs(s, prev, vm->pid, secs);
		if (!env.threads)
			continue;
		for (j = 0; j < s->n_threads; j++) {
			const struct vs_probe_thread *t = &s->threads[j], *o;
			static const struct vs_counters zero;

			if (t->tgid != vm->pid)
				continue;
			o = vs_probe_snapshot_thread(prev, t->tgid, t->tid);
			vs_counters_sub(&d, &t->c, o ? &o->c : &zero);
			row_of(&r, &d, secs);
			fmt_rate(c[0], 16, r.exits);
			fmt_rate(c[1], 16, r.kicks);
			fmt_rate(c[2], 16, r.irqs);
			fmt_rate(c[3], 16, r.halts_polled);
			fmt_rate(c[4], 16, r.halts_waited);
			fmt_lat(c[6], 16, r.wake_p50);
			fmt_lat(c[7], 16, r.wake_p99);
			printf("  %-5d %s %7s %7s %7s %7s %7s %5s %6s %6s\n",
			       (int)t->tid, vs_fit(fresh_comm(t->tgid, t->tid, t->comm, name,
							      sizeof(name)), 10, col, sizeof(col)),
			       c[0], c[1], c[2], c[3], c[4],
			       "", c[6], c[7]);
		}
	}
	if (env.wakers && s->n_pairs) {
		printf("%-24s    %-24s %8s %7s %7s\n", "WAKER", "WAKEE", "WAKES/s",
		       "P50", "P99");
		struct pair_row *rows = calloc(s->n_pairs, sizeof(*rows));
		unsigned int nrows = 0, k;

		for (i = 0; rows && i < s->n_pairs; i++) {
			const struct vs_probe_pair *o = vs_probe_snapshot_pair(prev, &s->pairs[i]);
			uint64_t n = s->pairs[i].count - (o ? o->count : 0);

			if (n)
				rows[nrows++] = (struct pair_row){ &s->pairs[i], n };
		}
		if (nrows)
			qsort(rows, nrows, sizeof(*rows), pair_row_cmp);
		for (k = 0; k < nrows; k++) {
			const struct vs_probe_pair *p = rows[k].p, *o;
			char a[40], b[40], wn[VS_COMM_LEN + 8], en[VS_COMM_LEN + 8];
			char wf[4 * 24 + 4], ef[4 * 24 + 4];
			struct vs_hist h;
			uint64_t n = rows[k].n;

			o = vs_probe_snapshot_pair(prev, p);
			for (j = 0; j < VS_HIST_SLOTS; j++)
				h.slot[j] = p->lat.slot[j] - (o ? o->lat.slot[j] : 0);
			snprintf(a, sizeof(a), "%s/%d", p->waker_tid ?
				 fresh_comm(p->waker_tgid, p->waker_tid, p->waker_comm, wn, sizeof(wn)) :
				 p->waker_comm, (int)p->waker_tid);
			snprintf(b, sizeof(b), "%s/%d",
				 fresh_comm(p->wakee_tgid, p->wakee_tid, p->wakee_comm, en, sizeof(en)),
				 (int)p->wakee_tid);
			fmt_rate(c[0], 16, n / secs);
			fmt_lat(c[1], 16, vs_hist_quantile(&h, 0.5));
			fmt_lat(c[2], 16, vs_hist_quantile(&h, 0.99));
			/* 24 columns hold comm (15) "/" tid (7): nothing is cut */
			printf("%s -> %s %8s %7s %7s\n", vs_fit(a, 24, wf, sizeof(wf)),
			       vs_fit(b, 24, ef, sizeof(ef)), c[0], c[1], c[2]);
		}
		free(rows);
	}
	fflush(stdout);
}

/* ---- JSON and Prometheus: one walk ---------------------------------------- */

/*
 * The document of one interval: its header here, the snapshot through
 * lib/output/emit-probe.c, both by the emitter, so that JSON and Prometheus
 * carry the same fields. Prometheus takes the whole run as its window
 * (prev NULL: counters that only grow; rate() makes windows of them).
 */
static int stat_emit(struct vs_emitter *e, const struct vs_probe_snapshot *s,
		     const struct vs_probe_snapshot *prev, double secs)
{
	const struct vs_emit_probe_opts o = {
		.threads = env.threads, .wakers = env.wakers, .name_label = "comm",
	};

	if (vs_emit_mode(e) == VS_EMIT_PROM) {
		prev = NULL;
		secs = s->elapsed_ns > 0 ? s->elapsed_ns / 1e9 : 1e-9;
	}
	vs_emit_str(e, "backend", "backend", s->backend == VS_PROBE_BPF ? "bpf" : "perf");
	vs_emit_seconds(e, "interval_s", "The window the figures cover.", secs);
	vs_emit_seconds(e, "elapsed_s", "Time since the probes opened.", s->elapsed_ns / 1e9);
	if (s->backend == VS_PROBE_PERF)
		vs_emit_ratio(e, "perf_running_ratio",
			      "Worst share of time a perf counter ran (multiplexing).",
			      s->perf_running_ratio);
	if (cmd_pid > 0)
		vs_emit_u64(e, "command_pid", "The pid of the command stat runs.", (uint64_t)cmd_pid);
	return vs_emit_probe(e, s, prev, secs, &o);
}

struct stat_walk {
	const struct vs_probe_snapshot *s, *prev;
	double secs;
};

static int stat_walk(struct vs_emitter *e, const void *ctx)
{
	const struct stat_walk *w = ctx;

	return stat_emit(e, w->s, w->prev, w->secs);
}

/* ---- Prometheus text exposition ------------------------------------------ */

static int write_prom(FILE *f, const struct vs_probe_snapshot *s,
		      const struct vs_probe_snapshot *prev, double secs)
{
	struct vs_emitter *e = vs_emit_new(VS_EMIT_PROM, f, "virtsync");

	if (!e)
		return -ENOMEM;
	stat_emit(e, s, prev, secs);
	return vs_emit_finish(e);
}

struct prom_args {
	const struct vs_probe_snapshot *s, *prev;
	double secs;
};

static int fill_prom(FILE *f, const void *arg)
{
	const struct prom_args *a = arg;

	return write_prom(f, a->s, a->prev, a->secs);
}

/* node_exporter's textfile collector may read at any moment: the file is
 * replaced whole (written beside it, then renamed over it). */
static int write_prom_file(const char *path, const struct vs_probe_snapshot *s,
			   const struct vs_probe_snapshot *prev, double secs)
{
	const struct prom_args a = { s, prev, secs };

	return vs_replace_with(path, 0644, VS_REPLACE_DURABLE | VS_REPLACE_SHARED,
			       fill_prom, &a);
}

/* ---- main loop ------------------------------------------------------------ */

/*
 * Fork the command stopped on a pipe so that the probes are attached
 * before it runs a single instruction. *err_fd reads the child's errno
 * should exec fail, and end of file once it has run the command. When
 * stdout carries JSON or Prometheus text, the command's stdout goes to
 * stderr (as perf stat keeps its counts apart from the command's output).
 */
static pid_t spawn_cmd(char **cmd, int *go_fd, int *err_fd)
{
	int pfd[2], efd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	if (pipe2(efd, O_CLOEXEC)) {
		int err = -errno;

		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(pfd[0]);
		close(pfd[1]);
		close(efd[0]);
		close(efd[1]);
		return err;
	}
	if (!pid) {
		char c;
		int e;

		close(pfd[1]);
		close(efd[0]);
		if (read(pfd[0], &c, 1) != 1)
			_exit(127);
		if ((vs_global.json || env.prometheus) && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		execvp(cmd[0], cmd);
		e = errno;
		if (write(efd[1], &e, sizeof(e)) != sizeof(e))
			_exit(127);
		_exit(127);
	}
	close(pfd[0]);
	close(efd[1]);
	*go_fd = pfd[1];
	*err_fd = efd[0];
	return pid;
}

/* 0 when CMD names a program execvp() can run, as the shell would find it. */
static int cmd_runnable(const char *cmd)
{
	const char *path = getenv("PATH"), *p;
	char buf[4096];

	if (!*cmd)
		return -ENOENT;
	if (strchr(cmd, '/'))
		return access(cmd, X_OK) ? -errno : 0;
	for (p = path && *path ? path : "/usr/bin:/bin"; ; p = strchr(p, ':') + 1) {
		size_t len = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? p : ".", cmd);
		if (!access(buf, X_OK))
			return 0;
		if (!p[len])
			return -ENOENT;
	}
}

static int refresh_targets(struct vs_probe *p, pid_t child)
{
	pid_t *vms = NULL, all[MAX_PIDS * 4];
	unsigned int n = 0, i, k = 0;
	int err;

	if (env.n_pids)
		return 0;
	err = vs_find_vms(&vms, &n);
	if (err)
		return err;
	if (child > 0)
		all[k++] = child;
	for (i = 0; i < n && k < sizeof(all) / sizeof(all[0]); i++)
		if (vms[i] != child)
			all[k++] = vms[i];
	free(vms);
	return vs_probe_set_targets(p, all, k);
}

/* Wait until the deadline, a signal, or the command's exit. */
static bool wait_until(const struct timespec *deadline, int pidfd)
{
	struct timespec now;
	long ms;

	for (;;) {
		if (vs_stop_requested())
			return false;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (deadline->tv_sec - now.tv_sec) * 1000 +
		     (deadline->tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			return true;
		if (pidfd >= 0) {
			struct pollfd pf = { .fd = pidfd, .events = POLLIN };

			if (poll(&pf, 1, (int)ms) > 0)
				return false;	/* the command exited */
		} else {
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

			nanosleep(&ts, NULL);
		}
	}
}

static int emit(const struct vs_probe_snapshot *s,
		const struct vs_probe_snapshot *prev, double secs, int argc,
		char **argv)
{
	int err = 0;

	if (env.prom_file) {
		err = write_prom_file(env.prom_file, s, prev, secs);
		if (err) {
			vs_err("--prometheus-file %s: %s", env.prom_file,
			       strerror(-err));
			return err;
		}
	}
	if (env.prometheus) {
		err = write_prom(stdout, s, prev, secs);
		fflush(stdout);
		if (err)
			vs_err("cannot write the Prometheus text: %s", strerror(-err));
	} else if (vs_global.json) {
		err = vs_json_print_walk(stat_walk, &(struct stat_walk){ s, prev, secs },
					 argc, argv);
	} else if (!env.prom_file) {
		print_text(s, prev, secs);
	}
	return err;
}

VS_COMMAND(stat, 0, "live per-VM rates: exits, kicks, interrupts, halts, wake-ups")
{
	static const struct argp_child children[] = {
		{ &vs_common_argp, 0, "Common options:", 0 },
		{ 0 },
	};
	const struct argp argp = {
		.options = stat_options,
		.parser = stat_parse,
		.args_doc = "[-- COMMAND [ARGS]]",
		.doc = stat_doc,
		.children = children,
	};
	struct vs_probe_snapshot snap[2] = { 0 };
	struct vs_probe_opts opts = { 0 };
	struct vs_probe *probe = NULL;
	struct timespec deadline;
	unsigned int n = 0, i;
	int err, go_fd = -1, exec_fd = -1, pidfd = -1, cur = 0, status = 0, ret = VS_EXIT_FAIL;
	pid_t child = -1, *vms = NULL;
	bool more = true;

	memset(&env, 0, sizeof(env));
	env.interval_ns = 1e9;
	err = argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, NULL);
	if (err)
		return VS_EXIT_USAGE;
	if (env.prometheus && vs_global.json) {
		vs_err("--prometheus and --json: choose one output format");
		return VS_EXIT_USAGE;
	}
	if (env.qmp) {
		if (env.n_pids || env.cmd || env.prom_file || env.threads || env.wakers) {
			vs_err("--qmp: only with --interval, --count, --json or --prometheus");
			return VS_EXIT_USAGE;
		}
		vs_stop_on_signals();
		return stat_qmp_run(env.qmp, env.interval_ns, env.count, env.prometheus, vs_stop_flag(),
				    argc, argv);
	}
	for (i = 0; i < env.n_pids; i++) {
		if (vs_pid_alive(env.pids[i])) {
			vs_err("--pid %d: no such process", (int)env.pids[i]);
			return VS_EXIT_USAGE;
		}
		if (vs_pid_is_vm(env.pids[i]) == 0)
			fprintf(stderr, "virtsync stat: --pid %d holds no KVM VM "
				"(no anon_inode:kvm-vm fd); measuring its threads "
				"anyway\n", (int)env.pids[i]);
	}
	if (env.cmd && env.cmd[0]) {
		err = cmd_runnable(env.cmd[0]);
		if (err) {
			vs_err("-- %s: %s", env.cmd[0], err == -ENOENT ?
			       "no such command" : strerror(-err));
			return VS_EXIT_USAGE;
		}
	}
	if (vs_probe_check_caps()) {
		vs_err("needs CAP_BPF and CAP_PERFMON (or root)");
		return VS_EXIT_FAIL;
	}
	libbpf_set_print(libbpf_print);

	if (env.cmd && env.cmd[0]) {
		child = spawn_cmd(env.cmd, &go_fd, &exec_fd);
		if (child < 0) {
			vs_err("cannot start '%s': %s", env.cmd[0], strerror(-child));
			return VS_EXIT_FAIL;
		}
		cmd_pid = child;
		/* Without --interval, one report covering the whole run. */
		if (!env.interval_set)
			env.interval_ns = 86400e9;
	}

	if (env.n_pids) {
		opts.pids = env.pids;
		opts.n_pids = env.n_pids;
	} else {
		err = vs_find_vms(&vms, &n);
		if (err) {
			vs_err("cannot list processes in /proc: %s", strerror(-err));
			goto cleanup;
		}
		/* Always filter: an empty set means "no VM yet", not "all". */
		if (child > 0) {
			pid_t *nv = realloc(vms, (n + 1) * sizeof(*nv));

			if (!nv) {
				vs_err("out of memory");
				goto cleanup;
			}
			vms = nv;
			vms[n++] = child;
		}
		opts.pids = vms;
		opts.n_pids = n;
		if (!n) {
			static const pid_t none = 0;

			opts.pids = &none;
			opts.n_pids = 1;
		}
	}
	opts.attach = env.attach;
	opts.flags = env.probes;
	err = vs_probe_open(&opts, &probe);
	free(vms);	/* vs_probe_open() keeps a copy */
	vms = NULL;
	if (err) {
		if (err == -EPERM)
			vs_err("BPF and perf tracepoints refused: needs CAP_BPF and "
			       "CAP_PERFMON (or root)");
		else
			vs_err("cannot attach probes: %s (try -v for libbpf's log)",
			       strerror(-err));
		goto cleanup;
	}
	err = refresh_targets(probe, child);
	if (err) {
		vs_err("cannot set the target processes: %s", strerror(-err));
		goto cleanup;
	}

	vs_stop_on_signals();

	err = vs_probe_read(probe, &snap[cur]);
	if (err) {
		vs_err("cannot read the probe maps: %s", strerror(-err));
		goto cleanup;
	}
	if (child > 0) {
		int exec_errno = 0;

		pidfd = (int)syscall(SYS_pidfd_open, child, 0);
		if (write(go_fd, "g", 1) != 1) {
			vs_err("cannot start '%s'", env.cmd[0]);
			goto cleanup;
		}
		close(go_fd);
		go_fd = -1;
		/* exec's outcome before any output: a command that cannot run
		 * gets one line, not a table of nothing */
		if (read(exec_fd, &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno)) {
			vs_err("cannot run '%s': %s", env.cmd[0], strerror(exec_errno));
			goto cleanup;
		}
		close(exec_fd);
		exec_fd = -1;
	}
	if (!vs_global.json && !env.prometheus && !env.prom_file)
		print_sources(stdout, &snap[cur]);

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	for (n = 0; more && (!env.count || n < env.count); n++) {
		const struct vs_probe_snapshot *prev = &snap[cur];
		struct vs_probe_snapshot *now = &snap[!cur];
		uint64_t add = (uint64_t)env.interval_ns;
		double secs;

		deadline.tv_sec += add / 1000000000ULL;
		deadline.tv_nsec += add % 1000000000ULL;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		more = wait_until(&deadline, pidfd);
		err = vs_probe_read(probe, now);
		if (err) {
			vs_err("cannot read the probe maps: %s", strerror(-err));
			goto cleanup;
		}
		secs = (now->time_ns - prev->time_ns) / 1e9;
		if (secs <= 0)
			secs = 1e-9;
		err = emit(now, prev, secs, argc, argv);
		if (err)
			goto cleanup;
		vs_probe_snapshot_free(&snap[cur]);
		cur = !cur;
		if (env.n_pids) {
			bool any = false;

			for (i = 0; i < snap[cur].n_vms; i++)
				any |= snap[cur].vms[i].alive;
			if (!any) {
				vs_err("every --pid process has exited");
				break;
			}
		} else {
			refresh_targets(probe, child);
		}
	}
	ret = VS_EXIT_OK;
	if (child > 0) {
		if (!vs_stop_requested() && waitpid(child, &status, pidfd >= 0 ? 0 : WNOHANG) == child &&
		    (!WIFEXITED(status) || WEXITSTATUS(status))) {
			vs_err("'%s' failed (status %d)", env.cmd[0],
			       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
			ret = VS_EXIT_FAIL;
		}
		child = -1;
	}
cleanup:
	free(vms);
	vs_probe_snapshot_free(&snap[0]);
	vs_probe_snapshot_free(&snap[1]);
	vs_probe_close(probe);
	if (go_fd >= 0)
		close(go_fd);	/* the child reads EOF and exits 127 */
	if (exec_fd >= 0)
		close(exec_fd);
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
	}
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}
