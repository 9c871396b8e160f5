// SPDX-License-Identifier: GPL-2.0-only
/* The QEMU workload of `virtsync tune --auto --qmp` (tune-qmp.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "diagnose/diagnose.h"
#include "output/print.h"
#include "sources/discover.h"
#include "tune/planfile.h"
#include "sources/qmpstat.h"
#include "core/sysfs.h"
#include "tune-qmp.h"

#define QMP_TIMEOUT_MS 5000
#define MAX_REPEATS 16
#define OUTPUT_MAX 4096

int tune_qmp_peer(const char *socket, pid_t *pid, char *err, size_t len)
{
	struct vs_qmp *q;
	int e, p;

	q = vs_qmp_open(socket, QMP_TIMEOUT_MS, &e);
	if (!q) {
		snprintf(err, len, "--qmp %s: %s", socket,
			 vs_qmp_strerror(e));
		return e;
	}
	p = vs_qmp_peer_pid(q);
	vs_qmp_close(q);
	if (p < 0) {
		snprintf(err, len, "--qmp %s: cannot tell which process serves it: %s", socket,
			 strerror(-p));
		return p;
	}
	*pid = p;
	return 0;
}

/* Host CPU time of every thread of the VM: QEMU's tasks and the vhost
 * workers discovery attributes to it (they are kernel threads of their
 * own, outside QEMU's /proc/PID/task). */
static int vm_cpu_ns(pid_t pid, double *ns)
{
	struct vs_vm *vm = calloc(1, sizeof(*vm));
	char path[256], buf[128];
	unsigned long long run;
	unsigned int i;
	int e;

	if (!vm)
		return -ENOMEM;
	e = vs_discover_pid(pid, vm);
	*ns = 0;
	for (i = 0; !e && i < vm->n_threads; i++) {
		e = vs_path(path, sizeof(path), "/proc/%d/schedstat", (int)vm->threads[i].tid);
		/* a thread that ended between the scan and the read */
		if (!e && vs_read_str(path, buf, sizeof(buf)))
			continue;
		if (!e && sscanf(buf, "%llu", &run) == 1)
			*ns += (double)run;
	}
	free(vm);
	return e;
}

/*
 * The child between tune and the objective. PR_SET_PDEATHSIG reaches only
 * the direct child, and `sh -c` may start a tree of its own, so the
 * objective runs as the leader of a new process group and this child stays
 * behind to watch it: when tune dies (SIGKILL included) the kernel sends
 * SIGUSR1 here and the whole group is killed; when the objective ends, what
 * it left running in its group is killed too, so no measurement outlives
 * its window. A command that leaves the group on purpose (setsid) escapes;
 * that is a choice of the command, not an accident. Never returns.
 */
static void objective_reaper(const char *cmd, int out_fd, pid_t tune)
{
	sigset_t set;
	int status, sig;
	pid_t g;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGUSR1) || getppid() != tune)
		_exit(127);	/* tune already gone: start nothing */
	g = fork();
	if (g < 0)
		_exit(127);
	if (!g) {
		setpgid(0, 0);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		dup2(out_fd, STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* both sides set the group, so kill(-g) is right whichever runs first */
	setpgid(g, g);
	close(out_fd);
	for (;;) {
		sig = sigwaitinfo(&set, NULL);
		if (sig == SIGUSR1) {
			kill(-g, SIGKILL);
			_exit(128 + SIGKILL);
		}
		if (sig == SIGCHLD && waitpid(g, &status, WNOHANG) == g)
			break;
	}
	kill(-g, SIGKILL);
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	/* pass the objective's signal on, so tune reports it as a signal */
	sig = WTERMSIG(status);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

/*
 * Run the objective command once: its last line's first number, and how
 * long it ran. stdout is read through a pipe (bounded), stderr passes.
 */
static int run_objective(struct tune_qmp_ctx *c, double *value, double *elapsed_ns)
{
	char out[OUTPUT_MAX], *line, *end;
	size_t used = 0;
	int fds[2], status, ready, e;
	bool stopped = false;
	double t0;
	ssize_t n;
	pid_t child, tune;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	t0 = vs_mono_ns();
	tune = getpid();
	child = fork();
	if (child < 0) {
		e = -errno;
		close(fds[0]);
		close(fds[1]);
		return e;
	}
	if (!child) {
		close(fds[0]);
		objective_reaper(c->objective, fds[1], tune);
	}
	close(fds[1]);
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };

		/* keep the tail: the figure is on the last line */
		if (used >= sizeof(out) - 1) {
			memmove(out, out + sizeof(out) / 2, used - sizeof(out) / 2);
			used -= sizeof(out) / 2;
		}
		/* Ctrl-C: the reaper kills the objective's group (as when tune
		 * dies), and the pipe ends. Polled, since the signal may be
		 * taken by another thread and leave this read() blocked. */
		if (c->stop && *c->stop && !stopped) {
			kill(child, SIGUSR1);
			stopped = true;
		}
		/* A signal taken by this thread ends poll() with EINTR; the
		 * read() after it would then block until the objective writes
		 * (a Ctrl-C that waited out a 29 s objective). */
		ready = poll(&pfd, 1, 100);
		if (ready == 0 || (ready < 0 && errno == EINTR))
			continue;
		n = read(fds[0], out + used, sizeof(out) - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fds[0]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	*elapsed_ns = vs_mono_ns() - t0;
	out[used] = '\0';
	if (stopped)
		return -EINTR;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(c->err, sizeof(c->err), "the objective command failed (%s %d)",
			 WIFEXITED(status) ? "exit" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -EIO;
	}
	while (used && (out[used - 1] == '\n' || out[used - 1] == ' ' || out[used - 1] == '\t'))
		out[--used] = '\0';
	line = strrchr(out, '\n');
	line = line ? line + 1 : out;
	errno = 0;
	*value = strtod(line, &end);
	if (end == line || errno || !isfinite(*value) || *value < 0) {
		char cut[4 * 60 + 4];

		snprintf(c->err, sizeof(c->err),
			 "the objective command's last line does not start with a number: '%s'",
			 vs_cut(line, 60, cut, sizeof(cut)));
		return -EINVAL;
	}
	return 0;
}

/* QEMU's KVM statistics over the window, summed over vCPUs. */
static json_t *kvm_window_json(const struct vs_qmp_sample *a, const struct vs_qmp_sample *b)
{
	struct vs_qmp_vcpu_row *rows = NULL;
	uint64_t exits = 0, halts = 0, ok = 0, fail = 0, wait = 0;
	json_t *k = json_object();
	int n, i;

	n = vs_qmp_sample_rows(a, b, &rows);
	for (i = 0; i < n; i++) {
		exits += rows[i].exits;
		halts += rows[i].halt_exits;
		ok += rows[i].polls_ok;
		fail += rows[i].polls_fail;
		wait += rows[i].wait_ns;
	}
	free(rows);
	json_object_set_new(k, "vcpus", json_integer(n > 0 ? n : 0));
	json_object_set_new(k, "exits", json_integer((json_int_t)exits));
	json_object_set_new(k, "halt_exits", json_integer((json_int_t)halts));
	json_object_set_new(k, "halt_polls_ok", json_integer((json_int_t)ok));
	json_object_set_new(k, "halt_polls_failed", json_integer((json_int_t)fail));
	json_object_set_new(k, "halt_wait_ns", json_integer((json_int_t)wait));
	return k;
}

/* QEMU's KVM statistics now; -errno, or the QMP failure in c->err. */
static int kvm_sample(struct tune_qmp_ctx *c, struct vs_qmp_sample *s)
{
	struct vs_qmp *q;
	int e;

	q = vs_qmp_open(c->socket, QMP_TIMEOUT_MS, &e);
	if (!q) {
		snprintf(c->err, sizeof(c->err), "QMP %s: %s", c->socket, vs_qmp_strerror(e));
		return e;
	}
	e = vs_qmp_sample_read(q, s);
	vs_qmp_close(q);
	return e;
}

/*
 * One window: KVM statistics and CPU before, the command, both after.
 * No QMP connection stays open while the command runs: QEMU serves one
 * client per monitor, and the command (or libvirt) may need it.
 */
static int window(struct tune_qmp_ctx *c, double *value, double *cpu_ns, double *secs,
		  json_t **kvm)
{
	struct vs_qmp_sample a = { 0 }, b = { 0 };
	double cpu0, cpu1, elapsed = 0;
	int e, qe;

	qe = kvm_sample(c, &a);
	if (qe == -ECONNREFUSED || qe == -ENOENT)
		return qe;	/* QEMU is gone */
	e = vm_cpu_ns(c->pid, &cpu0);
	if (e) {
		snprintf(c->err, sizeof(c->err), "QEMU pid %d: %s", (int)c->pid, strerror(-e));
		goto out;
	}
	e = run_objective(c, value, &elapsed);
	if (e)
		goto out;
	e = vm_cpu_ns(c->pid, &cpu1);
	if (e) {
		snprintf(c->err, sizeof(c->err), "QEMU pid %d: %s", (int)c->pid, strerror(-e));
		goto out;
	}
	if (!qe)
		qe = kvm_sample(c, &b);
	*cpu_ns = cpu1 - cpu0;
	*secs = elapsed / 1e9;
	/* a QEMU without KVM query-stats still has an objective and CPU */
	*kvm = qe ? json_null() : kvm_window_json(&a, &b);
	c->err[0] = '\0';
out:
	vs_qmp_sample_free(&a);
	vs_qmp_sample_free(&b);
	return e;
}

static int qmp_measure(void *vctx, const volatile sig_atomic_t *stop,
		       struct vs_objective *o, json_t **raw)
{
	struct tune_qmp_ctx *c = vctx;
	double val[MAX_REPEATS], cpu_item[MAX_REPEATS], cpu_s[MAX_REPEATS];
	unsigned int r, n = c->repeats ? c->repeats : 3;
	json_t *arr = json_array();
	bool cut = false;
	int e = 0;

	if (n > MAX_REPEATS)
		n = MAX_REPEATS;
	c->err[0] = '\0';
	c->stop = stop;
	for (r = 0; r < n; r++) {
		double v = NAN, cpu = 0, secs = 0, items;
		json_t *kvm = NULL, *w;

		/* a run the stop cut gives no figure: the runs done count */
		if (stop && *stop)
			e = -EINTR;
		else
			e = window(c, &v, &cpu, &secs, &kvm);
		if (e == -EINTR) {
			cut = true;
			n = r;
			e = 0;
			break;
		}
		if (e)
			break;
		val[r] = v;
		cpu_s[r] = secs > 0 ? cpu / secs : NAN;
		/* items the VM moved in the window: rate x time for a
		 * throughput objective; a latency objective has none */
		items = c->goal == VS_GOAL_THROUGHPUT ? v * secs : NAN;
		cpu_item[r] = items > 0 ? cpu / items : NAN;
		w = json_object();
		json_object_set_new(w, "seconds", json_real(secs));
		json_object_set_new(w, c->goal == VS_GOAL_THROUGHPUT ? "throughput_ops" :
				    "latency_ns", json_real(v));
		json_object_set_new(w, "vm_cpu_ns", json_real(cpu));
		json_object_set_new(w, "vm_cpus_busy", vs_json_num(cpu_s[r] / 1e9));
		json_object_set_new(w, "cpu_ns_per_item", vs_json_num(cpu_item[r]));
		json_object_set_new(w, "kvm", kvm);
		json_array_append_new(arr, w);
	}
	if (e) {
		json_decref(arr);
		return e;
	}
	memset(o, 0, sizeof(*o));
	o->latency_ns = o->throughput = o->p98_ns = NAN;
	o->idle_frac = o->steal_frac = NAN;
	o->cpu_ns_per_item = NAN;
	if (n && c->goal == VS_GOAL_THROUGHPUT) {
		o->throughput = vs_median(val, n);
		o->cpu_ns_per_item = vs_median(cpu_item, n);
	} else if (n) {
		o->latency_ns = vs_median(val, n);
		/* CPU per second of the VM: what the latency costs */
		o->cpu_ns_per_item = vs_median(cpu_s, n);
	}
	if (raw) {
		*raw = json_object();
		json_object_set_new(*raw, "pid", json_integer(c->pid));
		json_object_set_new(*raw, "qmp", json_string(c->socket));
		json_object_set_new(*raw, "objective", json_string(c->objective));
		json_object_set_new(*raw, "windows", arr);
		json_object_set_new(*raw, "statistic", json_string("median of the windows"));
	} else {
		json_decref(arr);
	}
	return cut ? -EINTR : 0;
}

/* The diagnosis of the VM through its QMP socket, in this process; its
 * plan (without steps when nothing could be classified). */
static int diagnose_plan(struct tune_qmp_ctx *c, const volatile sig_atomic_t *stop,
			 struct vs_profile **plan, char *why, size_t len)
{
	struct vs_diag_opts o = VS_DIAG_OPTS_INIT;
	struct vs_diagnosis d;
	int e;

	o.target = VS_DIAG_QMP;
	o.qmp = c->socket;
	o.duration_ns = c->diag_ns;
	/* ends its window early; the loop then applies nothing */
	o.stop = (volatile sig_atomic_t *)stop;
	if (c->dmax_ns > 0)
		o.dmax_ns = c->dmax_ns;
	e = vs_profile_diagnose(&o, &d, plan, why, len);
	vs_diagnosis_free(&d);
	return e;
}

static bool aimed_at_vm(const struct vs_step *s, const struct tune_qmp_ctx *c)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)c->pid);
	return !strcmp(s->sel[VS_SEL_PID], pid) || !strcmp(s->sel[VS_SEL_QMP], c->socket) ||
	       !strcmp(s->sel[VS_SEL_PID], "${pid}") || !strcmp(s->sel[VS_SEL_QMP], "${qmp}");
}

static int qmp_propose(void *vctx, const volatile sig_atomic_t *stop,
		       const struct vs_objective *before,
		       struct vs_profile **plan, char *why, size_t len)
{
	struct tune_qmp_ctx *c = vctx;
	struct vs_profile *p = NULL;
	char pid[16], err[256];
	size_t i, kept = 0;
	int e;

	(void)before;
	if (c->plan_file) {
		e = vs_planfile_load(c->plan_file, &p, err, sizeof(err));
		if (e) {
			snprintf(why, len, "--plan %s: %s", c->plan_file, err);
			return e;
		}
	} else {
		e = diagnose_plan(c, stop, &p, why, len);
		if (e || (stop && *stop)) {
			vs_profile_free(p);
			return e;
		}
		snprintf(c->regime, sizeof(c->regime), "%s", p->regime);
		/* Host-wide steps would change the machine for every VM and
		 * move CPU time where this measurement does not look. */
		for (i = 0; i < p->nsteps; i++) {
			if (aimed_at_vm(&p->steps[i], c))
				p->steps[kept++] = p->steps[i];
			else
				c->dropped++;
		}
		p->nsteps = kept;
	}
	/* The plan's ${pid} and ${qmp} are this VM's. */
	snprintf(pid, sizeof(pid), "%d", (int)c->pid);
	e = vs_vars_set(p->vars, &p->nvars, VS_PROFILE_MAX_VARS, "pid", pid);
	if (!e)
		e = vs_vars_set(p->vars, &p->nvars, VS_PROFILE_MAX_VARS, "qmp", c->socket);
	if (e) {
		snprintf(why, len, "the plan has no room for the variables pid and qmp");
		vs_profile_free(p);
		return e;
	}
	if (!p->nsteps && c->plan_file)
		snprintf(why, len, "--plan %s has no steps", c->plan_file);
	else if (!p->nsteps && p->regime[0])
		snprintf(why, len, "diagnose (regime %s) recommends no live change to this VM",
			 p->regime);
	else if (!p->nsteps)
		snprintf(why, len, "diagnose found no queue of this VM to classify (no kicks or interrupts in its window)");
	*plan = p;
	return 0;
}

const struct vs_tune_workload tune_workload_qmp = {
	.name = "qmp",
	.goal = VS_GOAL_THROUGHPUT,
	.measure = qmp_measure,
	.propose = qmp_propose,
};
