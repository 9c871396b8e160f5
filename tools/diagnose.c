// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync diagnose: find the VMs (or run the reference device when there are
 * none), measure them from outside for a few seconds, name the regime of each
 * queue with the evidence, and recommend a plan (paper Sec. 7).
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyze/classify.h"
#include "cmd.h"
#include "diagnose-qmp.h"
#include "sources/devstats.h"
#include "sources/discover.h"
#include "sources/guest.h"
#include "sources/hostcost.h"
#include "knobs/knobs.h"
#include "sources/measure.h"
#include "model/model.h"
#include "pcdev/pcdev.h"
#include "tune/plan.h"
#include "sources/probe.h"
#include "analyze/recommend.h"
#include "core/sysfs.h"
#include "core/units.h"

VS_COMMAND(diagnose, 0, "find VMs, measure, name the regime, recommend a plan");

#define WIDTH 78
/* The device runs this long before the window opens (start-up transient). */
#define WARMUP_NS 200e6
#define MAX_QUEUES 8

enum { OPT_PID = 1000, OPT_WORKLOAD, OPT_DURATION, OPT_DMAX, OPT_SAVE,
       OPT_BACKEND, OPT_NO_CALIBRATE, OPT_NO_PROBES, OPT_QMP };

static struct env {
	pid_t pid;
	const char *workload;
	double duration_ns;
	double dmax_ns;
	const char *save;
	const char *backend;
	bool no_calibrate;
	bool no_probes;
	const char *qmp;	/* QEMU's QMP socket: thread map + query-stats */
} env;

static volatile sig_atomic_t stop_requested;

static const char diagnose_doc[] =
"Find the KVM VMs and their I/O threads (or, with none, run the reference\n"
"device), measure kicks, interrupts, waits and CPU per thread for a few\n"
"seconds from public counters, name each queue's regime (BW, sFC, sFP, sLS,\n"
"nFC, nFP, nSCS, nSPS, nSS) with the evidence, and recommend settings with\n"
"the model's predicted throughput, CPU and latency.\n"
"\n"
"USAGE: virtsync diagnose [--pid PID | --workload PRESET | --qmp SOCKET]\n"
"                         [--duration T]\n"
"                         [--dmax T] [--json] [--save FILE]\n"
"                         [--backend kvm|thread]\n"
"\n"
"EXAMPLES:\n"
"    virtsync diagnose                      # VMs on this host, else the device\n"
"    virtsync diagnose --pid 4242 --duration 2s\n"
"    virtsync diagnose --qmp /run/vm1.qmp   # QEMU's thread map + query-stats\n"
"    virtsync diagnose --workload fp-example --backend thread --json\n"
"    virtsync diagnose --dmax 20us --save plan.json && virtsync apply --plan plan.json";

static const struct argp_option diagnose_options[] = {
	{ "pid", OPT_PID, "PID", 0, "diagnose this VM or device process only", 0 },
	{ "workload", OPT_WORKLOAD, "PRESET", 0,
	  "run the reference device with this preset (fc-example, fp-example)", 0 },
	{ "duration", OPT_DURATION, "TIME", 0, "measurement window (default 5s)", 0 },
	{ "dmax", OPT_DMAX, "TIME", 0, "latency bound for the plan (default 50us)", 0 },
	{ "save", OPT_SAVE, "FILE", 0, "write the plan for virtsync apply --plan", 0 },
	{ "backend", OPT_BACKEND, "NAME", 0,
	  "reference device backend: kvm (default where /dev/kvm works) or thread", 0 },
	{ "qmp", OPT_QMP, "SOCKET", 0,
	  "diagnose the QEMU at this QMP socket, with its query-stats as evidence", 0 },
	{ "no-calibrate", OPT_NO_CALIBRATE, NULL, 0,
	  "skip the wake-up/notification cost measurement", 0 },
	{ "no-probes", OPT_NO_PROBES, NULL, 0,
	  "do not load the BPF tracepoint probes", 0 },
	{ 0 },
};

static error_t diagnose_parse(int key, char *arg, struct argp_state *state)
{
	uint64_t v;

	switch (key) {
	case OPT_PID:
		if (opt_u64("--pid", arg, 1, INT_MAX, &v))
			return EINVAL;
		env.pid = (pid_t)v;
		return 0;
	case OPT_WORKLOAD: {
		struct pcdev_config cfg;
		double dmax;

		pcdev_config_default(&cfg);
		if (pcdev_config_preset(arg, &cfg, &dmax)) {
			vs_err("--workload: unknown preset '%s' (fc-example, fp-example, fc-tune)", arg);
			return EINVAL;
		}
		env.workload = arg;
		return 0;
	}
	case OPT_DURATION:
		return opt_duration("--duration", arg, 1e6, 3600e9,
				    &env.duration_ns) ? EINVAL : 0;
	case OPT_DMAX:
		return opt_time_in("--dmax", arg, VS_DMAX_MIN_NS, VS_DMAX_MAX_NS,
				   &env.dmax_ns) ? EINVAL : 0;
	case OPT_QMP:
		return opt_nonempty("--qmp", arg, "socket path", &env.qmp) ? EINVAL : 0;
	case OPT_SAVE:
		return opt_nonempty("--save", arg, "file name", &env.save) ? EINVAL : 0;
	case OPT_BACKEND:
		if (strcmp(arg, "kvm") && strcmp(arg, "thread")) {
			vs_err("--backend: unknown backend '%s' (kvm, thread)", arg);
			return EINVAL;
		}
		env.backend = arg;
		return 0;
	case OPT_NO_CALIBRATE:
		env.no_calibrate = true;
		return 0;
	case OPT_NO_PROBES:
		env.no_probes = true;
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
	stop_requested = 1;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- text helpers --------------------------------------------------- */

/* Print `text` wrapped at WIDTH with `indent` spaces on every line. */
/* Word-wrapped at WIDTH: the first line at indent, the rest at
 * indent + hang (under the text of a labelled line). */
static void print_hanging(int indent, int hang, const char *text)
{
	const char *p = text;
	int avail = WIDTH - indent;

	while (*p) {
		int n = (int)strlen(p), cut;

		if (n > avail) {
			for (cut = avail; cut > 0 && p[cut] != ' '; cut--)
				;
			if (cut == 0)
				cut = avail;
			n = cut;
		}
		printf("%*s%.*s\n", indent, "", n, p);
		p += n;
		while (*p == ' ')
			p++;
		if (hang) {
			indent += hang;
			avail -= hang;
			hang = 0;
		}
	}
}

static void print_wrapped(int indent, const char *text)
{
	print_hanging(indent, 0, text);
}

static const char *fmt_t(double ns, char *buf, size_t len)
{
	if (!isfinite(ns))
		return snprintf(buf, len, "-"), buf;
	return vs_format_time(ns, buf, len);
}

static const char *fmt_rate(double per_s, char *buf, size_t len)
{
	if (!isfinite(per_s))
		snprintf(buf, len, "-");
	else if (per_s >= 1e6)
		snprintf(buf, len, "%.2fM/s", per_s / 1e6);
	else if (per_s >= 1e3)
		snprintf(buf, len, "%.1fk/s", per_s / 1e3);
	else
		snprintf(buf, len, "%.0f/s", per_s);
	return buf;
}

/* ---- the reference device in a child process ------------------------- */

struct device {
	pid_t pid;
	int out_fd;		/* the child's stdout: bench --json */
	const char *preset;
	const char *backend;
	char backend_why[160];
	json_t *truth;		/* parsed bench result, or NULL */
	bool stopped;
	char truth_err[160];
};

static int device_start(struct device *dev, double run_ns)
{
	char dur[32], path[512], exe[PATH_MAX];
	ssize_t n;
	int fds[2];
	double t0;

	/* Exec the binary by its real name so the device's threads and
	 * process show up as "virtsync", not "exe". */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -errno;
	exe[n] = '\0';

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	snprintf(dur, sizeof(dur), "%.0fns", run_ns);
	dev->pid = fork();
	if (dev->pid < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (!dev->pid) {
		char *argv[] = { "virtsync", "--json", "bench", "--preset",
				 (char *)dev->preset, "--backend", (char *)dev->backend,
				 "--duration", dur, NULL };

		dup2(fds[1], STDOUT_FILENO);
		execv(exe, argv);
		_exit(127);
	}
	close(fds[1]);
	dev->out_fd = fds[0];
	/* Wait for its counters: the device is then running. */
	if (vs_devstats_path(dev->pid, path, sizeof(path)))
		return -ENAMETOOLONG;
	t0 = now_ns();
	while (access(path, R_OK)) {
		int status;

		if (waitpid(dev->pid, &status, WNOHANG) == dev->pid) {
			dev->pid = 0;
			return -ECHILD;
		}
		if (now_ns() - t0 > 1.5e9 || stop_requested)
			return -ETIMEDOUT;
		usleep(5000);
	}
	return 0;
}

/* Stop the device and collect its --json report. The whole run must stay
 * within duration + 2 s, so a device that has not exited 0.7 s after
 * SIGINT is killed (its report is then lost, and said so). */
static void device_stop(struct device *dev)
{
	static char buf[1 << 20];
	size_t len = 0;
	json_error_t jerr;
	double deadline = now_ns() + 0.7e9;
	bool exited = false, killed = false;
	int status = 0;

	if (dev->pid > 0)
		kill(dev->pid, SIGINT);
	if (dev->out_fd >= 0)
		fcntl(dev->out_fd, F_SETFL, O_NONBLOCK);
	while (dev->pid > 0 || dev->out_fd >= 0) {
		ssize_t n = 0;

		if (dev->out_fd >= 0 && len < sizeof(buf) - 1) {
			n = read(dev->out_fd, buf + len, sizeof(buf) - 1 - len);
			if (n > 0) {
				len += (size_t)n;
				continue;
			}
			if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(dev->out_fd);
				dev->out_fd = -1;
			}
		}
		if (dev->pid > 0 && waitpid(dev->pid, &status, WNOHANG) == dev->pid) {
			exited = true;
			dev->pid = -dev->pid;	/* reaped; keep the number */
		}
		if (dev->pid <= 0 && (dev->out_fd < 0 || n <= 0)) {
			if (dev->out_fd >= 0) {
				close(dev->out_fd);
				dev->out_fd = -1;
			}
			break;
		}
		if (now_ns() > deadline && dev->pid > 0) {
			kill(dev->pid, SIGKILL);
			waitpid(dev->pid, &status, 0);
			dev->pid = -dev->pid;
			killed = true;
			continue;
		}
		usleep(5000);
	}
	if (dev->pid < 0)
		dev->pid = -dev->pid;
	buf[len] = '\0';
	if (killed) {
		char path[512];

		/* It had no chance to remove its counters file. */
		if (!vs_devstats_path(dev->pid, path, sizeof(path)))
			unlink(path);
		snprintf(dev->truth_err, sizeof(dev->truth_err),
			 "bench did not stop within 0.7 s of SIGINT: killed, no report");
	}
	else if (exited && (!WIFEXITED(status) || WEXITSTATUS(status)))
		snprintf(dev->truth_err, sizeof(dev->truth_err),
			 "bench exited with status %d", WIFEXITED(status) ?
			 WEXITSTATUS(status) : 128 + WTERMSIG(status));
	if (len && !killed) {
		dev->truth = json_loadb(buf, len, 0, &jerr);
		if (!dev->truth && !dev->truth_err[0])
			snprintf(dev->truth_err, sizeof(dev->truth_err),
				 "bench --json output unreadable: %.100s", jerr.text);
	} else if (!dev->truth_err[0]) {
		snprintf(dev->truth_err, sizeof(dev->truth_err), "bench printed nothing");
	}
	dev->stopped = true;
}

/* ---- measurement of all queues in parallel -------------------------- */

struct queue {
	const struct vs_vm *vm;
	struct vs_sample sample;
	struct vs_verdict verdict;
	struct vs_plan plan;
	int err;
};

static void *measure_thread(void *arg)
{
	struct queue *q = arg;

	q->err = vs_measure(q->vm, env.duration_ns, &stop_requested, &q->sample);
	return NULL;
}

/* ---- JSON ------------------------------------------------------------ */

static json_t *thread_json(const struct vs_thread_sample *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "present", json_boolean(t->present));
	json_object_set_new(o, "tid", json_integer(t->tid));
	json_object_set_new(o, "comm", json_string(t->comm));
	json_object_set_new(o, "role", json_string(vs_role_name(t->role)));
	json_object_set_new(o, "cpu", vs_json_num(t->cpu));
	json_object_set_new(o, "waits_per_s", vs_json_num(t->waits_per_s));
	json_object_set_new(o, "preempts_per_s", vs_json_num(t->preempts_per_s));
	json_object_set_new(o, "run_delay_ns", vs_json_num(t->run_delay_ns));
	json_object_set_new(o, "samples", json_integer(t->n_samples));
	json_object_set_new(o, "frac_running", vs_json_num(t->frac_running));
	json_object_set_new(o, "frac_sleep", vs_json_num(t->frac_sleep));
	json_object_set_new(o, "frac_wait", vs_json_num(t->frac_wait));
	json_object_set_new(o, "wakeups_per_s", vs_json_num(t->wakeups_per_s));
	json_object_set_new(o, "wake_lat_ns", vs_json_num(t->wake_lat_ns));
	json_object_set_new(o, "sleeps_per_s", vs_json_num(t->sleeps_per_s));
	return o;
}

static json_t *pred_json(bool have, enum vs_mech m, const struct vs_prediction *p)
{
	json_t *o;

	if (!have)
		return json_null();
	o = json_object();
	json_object_set_new(o, "mechanism", json_string(vs_mech_name(m)));
	json_object_set_new(o, "regime", json_string(vs_regime_name(p->regime)));
	json_object_set_new(o, "T_ns", vs_json_num(p->t_ns));
	json_object_set_new(o, "E_ns", vs_json_num(p->e_ns));
	json_object_set_new(o, "D_ns", vs_json_num(p->d_ns));
	json_object_set_new(o, "batch", vs_json_num(p->batch));
	return o;
}

static json_t *actions_json(const struct vs_plan *pl)
{
	json_t *arr = json_array();
	unsigned int i;

	for (i = 0; i < pl->n_actions; i++) {
		const struct vs_advice *a = &pl->actions[i];
		json_t *o = json_object();

		json_object_set_new(o, "knob", json_string(a->knob));
		if (a->pid)
			json_object_set_new(o, "pid", json_integer(a->pid));
		if (a->role[0])
			json_object_set_new(o, "role", json_string(a->role));
		if (a->cpus[0])
			json_object_set_new(o, "cpus", json_string(a->cpus));
		json_object_set_new(o, "value", json_string(a->value));
		json_object_set_new(o, "current", a->current[0] ? json_string(a->current)
								: json_null());
		json_object_set_new(o, "applies", json_string(vs_applies_name(a->applies)));
		json_object_set_new(o, "why", json_string(a->why));
		if (a->qemu[0])
			json_object_set_new(o, "qemu", json_string(a->qemu));
		if (a->libvirt[0])
			json_object_set_new(o, "libvirt", json_string(a->libvirt));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *warnings_json(const struct vs_plan *pl)
{
	json_t *arr = json_array();
	unsigned int i;

	for (i = 0; i < pl->n_warnings; i++)
		json_array_append_new(arr, json_string(pl->warnings[i]));
	return arr;
}

static json_t *queue_json(const struct queue *q)
{
	const struct vs_sample *s = &q->sample;
	const struct vs_verdict *v = &q->verdict;
	const struct vs_plan *pl = &q->plan;
	json_t *o = json_object(), *js = json_object(), *jv = json_object();
	json_t *jr = json_object(), *arr;
	unsigned int i;

	json_object_set_new(o, "pid", json_integer(q->vm->pid));
	json_object_set_new(o, "name", json_string(q->vm->comm));
	json_object_set_new(o, "kind", json_string(vs_vm_kind_name(q->vm->kind)));
	json_object_set_new(js, "duration_ns", vs_json_num(s->duration_ns));
	json_object_set_new(js, "items_per_s", vs_json_num(s->items_per_s));
	json_object_set_new(js, "kicks_per_s", vs_json_num(s->kicks_per_s));
	json_object_set_new(js, "interrupts_per_s", vs_json_num(s->irqs_per_s));
	json_object_set_new(js, "len", s->len ? json_integer(s->len) : json_null());
	json_object_set_new(js, "backend", json_string(s->backend));
	json_object_set_new(js, "producer", thread_json(&s->prod));
	json_object_set_new(js, "consumer", thread_json(&s->cons));
	json_object_set_new(js, "other_busy_cpus", vs_json_num(s->other_busy_cpus));
	json_object_set_new(js, "halts_per_s", vs_json_num(s->halts_per_s));
	json_object_set_new(js, "halts_polled_per_s", vs_json_num(s->halts_polled_per_s));
	json_object_set_new(js, "kicks_from_probes", json_boolean(s->kicks_from_probes));
	json_object_set_new(js, "interrupts_from_probes", json_boolean(s->irqs_from_probes));
	json_object_set_new(o, "sample", js);

	json_object_set_new(jv, "known", json_boolean(v->known));
	json_object_set_new(jv, "regime", v->known ? json_string(vs_regime_name(v->regime))
						   : json_null());
	json_object_set_new(jv, "mechanism", v->known ? json_string(vs_mech_name(v->mech))
						      : json_null());
	json_object_set_new(jv, "fast", json_string(vs_fast_name(v->fast)));
	json_object_set_new(jv, "producer_wait", json_string(vs_wait_name(v->p_wait)));
	json_object_set_new(jv, "consumer_wait", json_string(vs_wait_name(v->c_wait)));
	json_object_set_new(jv, "confidence", vs_json_num(v->confidence));
	json_object_set_new(jv, "kicks_per_item", vs_json_num(v->kicks_per_item));
	json_object_set_new(jv, "interrupts_per_item", vs_json_num(v->irqs_per_item));
	json_object_set_new(jv, "summary", json_string(v->summary));
	arr = json_array();
	for (i = 0; i < v->n_ineq; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "expr", json_string(v->ineq[i].expr));
		json_object_set_new(e, "lhs", vs_json_num(v->ineq[i].lhs));
		json_object_set_new(e, "rhs", vs_json_num(v->ineq[i].rhs));
		json_object_set_new(e, "holds", v->ineq[i].known ?
				    json_boolean(v->ineq[i].holds) : json_null());
		json_array_append_new(arr, e);
	}
	json_object_set_new(jv, "inequalities", arr);
	arr = json_array();
	for (i = 0; i < v->n_est; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "name", json_string(v->est[i].name));
		json_object_set_new(e, "value", vs_json_num(v->est[i].value));
		json_object_set_new(e, "unit", json_string(v->est[i].unit));
		json_object_set_new(e, "from", json_string(v->est[i].from));
		json_array_append_new(arr, e);
	}
	json_object_set_new(jv, "estimates", arr);
	json_object_set_new(o, "verdict", jv);

	json_object_set_new(jr, "summary", json_string(pl->summary));
	json_object_set_new(jr, "dmax_ns", vs_json_num(pl->dmax_ns));
	json_object_set_new(jr, "y_ns", vs_json_num(pl->y_ns));
	json_object_set_new(jr, "current", pred_json(pl->have_cur, pl->cur_mech, &pl->cur));
	json_object_set_new(jr, "recommended", pred_json(pl->have_rec, pl->rec_mech, &pl->rec));
	json_object_set_new(jr, "actions", actions_json(pl));
	json_object_set_new(jr, "warnings", warnings_json(pl));
	json_object_set_new(o, "recommendation", jr);

	arr = json_array();
	for (i = 0; i < s->n_sources; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "name", json_string(s->sources[i].name));
		json_object_set_new(e, "used", json_boolean(s->sources[i].used));
		json_object_set_new(e, "detail", json_string(s->sources[i].detail));
		json_array_append_new(arr, e);
	}
	json_object_set_new(o, "sources", arr);
	return o;
}

static json_t *vm_json(const struct vs_vm *vm)
{
	json_t *o = json_object(), *arr = json_array();
	unsigned int i;

	json_object_set_new(o, "pid", json_integer(vm->pid));
	json_object_set_new(o, "comm", json_string(vm->comm));
	json_object_set_new(o, "kind", json_string(vs_vm_kind_name(vm->kind)));
	json_object_set_new(o, "kvm", json_boolean(vm->kvm));
	json_object_set_new(o, "vcpu_fds", json_integer(vm->n_vcpu_fds));
	json_object_set_new(o, "stats_file", vm->has_stats ? json_string(vm->stats_path)
							   : json_null());
	json_object_set_new(o, "vcpu_threads_unknown", json_boolean(vm->vcpu_threads_unknown));
	json_object_set_new(o, "vcpus_from_syscall", json_boolean(vm->vcpus_from_syscall));
	for (i = 0; i < vm->n_threads; i++) {
		json_t *t = json_object();

		json_object_set_new(t, "tid", json_integer(vm->threads[i].tid));
		json_object_set_new(t, "comm", json_string(vm->threads[i].comm));
		json_object_set_new(t, "role", json_string(vs_role_name(vm->threads[i].role)));
		if (vm->threads[i].vcpu_index >= 0)
			json_object_set_new(t, "vcpu", json_integer(vm->threads[i].vcpu_index));
		json_array_append_new(arr, t);
	}
	json_object_set_new(o, "threads", arr);
	arr = json_array();
	for (i = 0; i < vm->n_taps; i++)
		json_array_append_new(arr, json_string(vm->taps[i]));
	json_object_set_new(o, "taps", arr);
	return o;
}

/* ---- text ------------------------------------------------------------ */

static void print_discovery(const struct vs_discovery *d)
{
	unsigned int i, j;

	for (i = 0; i < d->n_vms; i++) {
		const struct vs_vm *vm = &d->vms[i];
		char line[160];

		snprintf(line, sizeof(line), "pid %d %s: %s%s, %u vCPU fd%s", (int)vm->pid,
			 vm->comm, vm->kind == VS_VM_PCDEV ? "reference device" :
			 vm->kind == VS_VM_QEMU ? "QEMU VM" : "KVM VM",
			 vm->kvm ? " (KVM)" : "", vm->n_vcpu_fds,
			 vm->n_vcpu_fds == 1 ? "" : "s");
		print_wrapped(2, line);
		for (j = 0; j < vm->n_threads; j++)
			printf("    tid %-7d %-16s %s\n", (int)vm->threads[j].tid,
			       vm->threads[j].comm, vs_role_name(vm->threads[j].role));
		for (j = 0; j < vm->n_taps; j++)
			printf("    tap %s\n", vm->taps[j]);
		if (vm->has_stats) {
			snprintf(line, sizeof(line), "counters %s", vm->stats_path);
			print_wrapped(4, line);
		}
		if (vm->vcpu_threads_unknown)
			print_wrapped(4, "vCPU threads are not named and none was caught in ioctl(KVM_RUN): /proc cannot tell which thread runs a vCPU");
		if (vm->vcpus_from_syscall)
			print_wrapped(4, "vCPU threads found blocked in ioctl(vcpu fd, KVM_RUN)");
	}
	if (d->n_skipped)
		printf("  (%u processes could not be inspected: permission denied)\n",
		       d->n_skipped);
}

static void print_pred_row(const char *label, bool have, enum vs_mech m,
			   const struct vs_prediction *p)
{
	char t[24], e[24], dd[24];

	if (!have) {
		printf("  %-13s (model has no prediction for these parameters)\n", label);
		return;
	}
	printf("  %-13s %-6s %-5s T %-10s E %-10s D %s\n", label, vs_mech_name(m),
	       vs_regime_name(p->regime), fmt_t(p->t_ns, t, sizeof(t)),
	       fmt_t(p->e_ns, e, sizeof(e)), fmt_t(p->d_ns, dd, sizeof(dd)));
}

static void print_thread_line(const char *label, const struct vs_thread_sample *t,
			      enum vs_wait_kind w)
{
	char r[24], rd[24];

	if (!t->present) {
		printf("  %-8s not measured\n", label);
		return;
	}
	printf("  %-8s %-12.12s CPU %3.0f%%  waits %-9s runq %-8s -> %s\n", label,
	       t->comm, t->cpu * 100, fmt_rate(t->waits_per_s, r, sizeof(r)),
	       fmt_t(t->run_delay_ns, rd, sizeof(rd)), vs_wait_name(w));
}

static void print_queue(const struct queue *q)
{
	const struct vs_sample *s = &q->sample;
	const struct vs_verdict *v = &q->verdict;
	const struct vs_plan *pl = &q->plan;
	char a[24], b[24], c[24], line[400];
	unsigned int i;

	printf("\nQueue: pid %d %s (", (int)q->vm->pid, q->vm->comm);
	if (s->backend[0])
		printf("%s backend, ", s->backend);
	if (s->len)
		printf("L %u, ", s->len);
	printf("%.2f s)\n", s->duration_ns / 1e9);
	if (q->err == -ENODATA) {
		print_wrapped(2, "not measured: no I/O thread identified and no public item counters (name QEMU's threads with -name ...,debug-threads=on; kicks and interrupts per VM: virtsync stat)");
		return;
	} else if (q->err) {
		printf("  not measured: %s\n", strerror(-q->err));
		return;
	}
	printf("  items %s  kicks %s  interrupts %s\n",
	       fmt_rate(s->items_per_s, a, sizeof(a)), fmt_rate(s->kicks_per_s, b, sizeof(b)),
	       fmt_rate(s->irqs_per_s, c, sizeof(c)));
	print_thread_line("producer", &s->prod, v->p_wait);
	print_thread_line("consumer", &s->cons, v->c_wait);

	if (!v->known) {
		printf("Verdict: none\n");
		print_wrapped(2, v->summary);
		return;
	}
	printf("Verdict: %s  (%s mechanism, fast %s, confidence %.2f)\n",
	       vs_regime_name(v->regime), vs_mech_name(v->mech), vs_fast_name(v->fast),
	       v->confidence);
	print_wrapped(2, v->summary);
	if (v->n_ineq) {
		printf("  Evidence (Table %d):\n", v->mech == VS_MECH_SLEEP ? 2 : 3);
		for (i = 0; i < v->n_ineq; i++) {
			const struct vs_inequality *qq = &v->ineq[i];

			printf("    %-20s %10s vs %-10s %s\n", qq->expr,
			       fmt_t(qq->lhs, a, sizeof(a)), fmt_t(qq->rhs, b, sizeof(b)),
			       !qq->known ? "unknown" : qq->holds ? "holds" : "fails");
		}
	}
	printf("  Estimates:\n");
	for (i = 0; i < v->n_est; i++) {
		const struct vs_estimate *e = &v->est[i];

		if (!strcmp(e->unit, "ns"))
			fmt_t(e->value, a, sizeof(a));
		else if (isfinite(e->value))
			snprintf(a, sizeof(a), "%.4g", e->value);
		else
			snprintf(a, sizeof(a), "-");
		snprintf(line, sizeof(line), "%-8s %-9s %s", e->name, a, e->from);
		print_hanging(4, 19, line);
	}
	printf("Recommendation (Dmax %s):\n", fmt_t(pl->dmax_ns, a, sizeof(a)));
	print_wrapped(2, pl->summary);
	print_pred_row("current", pl->have_cur, pl->cur_mech, &pl->cur);
	print_pred_row("recommended", pl->have_rec, pl->rec_mech, &pl->rec);
	for (i = 0; i < pl->n_actions; i++) {
		const struct vs_advice *ac = &pl->actions[i];

		snprintf(line, sizeof(line), "%s = %s%s%s%s%s [%s]", ac->knob, ac->value,
			 ac->current[0] ? " (now " : "", ac->current,
			 ac->current[0] ? ")" : "", ac->role[0] ? "" : "",
			 vs_applies_name(ac->applies));
		print_wrapped(2, line);
		if (ac->role[0] || ac->cpus[0]) {
			snprintf(line, sizeof(line), "target: %s%s%s", ac->role,
				 ac->role[0] && ac->cpus[0] ? ", " : "", ac->cpus);
			print_wrapped(6, line);
		}
		print_wrapped(6, ac->why);
		if (ac->qemu[0]) {
			snprintf(line, sizeof(line), "%s %s",
				 q->vm->kind == VS_VM_QEMU ? "QEMU:" : "restart as:", ac->qemu);
			print_wrapped(6, line);
		}
		if (ac->libvirt[0]) {
			snprintf(line, sizeof(line), "libvirt: %s", ac->libvirt);
			print_wrapped(6, line);
		}
	}
	for (i = 0; i < pl->n_warnings; i++) {
		snprintf(line, sizeof(line), "warning: %s", pl->warnings[i]);
		print_hanging(2, 9, line);
	}
}

/* ---- plan file ----------------------------------------------------------- */

static void plan_add(struct vs_profile *plan, const struct vs_advice *a,
		     unsigned int *skipped)
{
	struct vs_step st;

	if (vs_advice_step(a, &st))
		(*skipped)++;
	else
		vs_plan_add_step(plan, &st);
}

static int save_plan(const char *path, struct queue *qs, unsigned int nq,
		     const struct vs_plan *gplan, json_t *report, unsigned int *nsteps)
{
	struct vs_profile *plan = vs_plan_new("throughput", "diagnose");
	unsigned int i, j, skipped = 0;
	double best_conf = -1;
	json_t *doc;
	char *text;
	int err;

	if (!plan)
		return -ENOMEM;
	plan->dmax_ns = env.dmax_ns;
	for (i = 0; i < nq; i++) {
		if (!qs[i].plan.valid)
			continue;
		for (j = 0; j < qs[i].plan.n_actions; j++)
			plan_add(plan, &qs[i].plan.actions[j], &skipped);
		if (qs[i].verdict.confidence > best_conf) {
			best_conf = qs[i].verdict.confidence;
			snprintf(plan->regime, sizeof(plan->regime), "%s",
				 vs_regime_name(qs[i].verdict.regime));
		}
	}
	for (j = 0; j < gplan->n_actions; j++)
		plan_add(plan, &gplan->actions[j], &skipped);
	*nsteps = (unsigned int)plan->nsteps;
	doc = vs_plan_to_json(plan);
	vs_profile_free(plan);
	if (!doc)
		return -ENOMEM;
	if (best_conf >= 0)
		json_object_set_new(doc, "confidence", json_real(best_conf));
	/* The full report rides along for `virtsync report`; apply ignores it. */
	json_object_set(doc, "evidence", report);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	err = vs_file_replace_text(path, text, 0644, 0);
	free(text);
	return err;
}

/* ---- main ------------------------------------------------------------------ */

static void sources_text(const struct vs_hostcosts *hc, bool calibrated,
			 const struct vs_guest_info *g, const struct queue *qs,
			 unsigned int nq)
{
	char line[300];
	unsigned int i;

	printf("\nSources:\n");
	for (i = 0; i < (nq ? qs[0].sample.n_sources : 0); i++) {
		const struct vs_source *s = &qs[0].sample.sources[i];

		snprintf(line, sizeof(line), "%-5s %s: %s", s->used ? "used" : "n/a",
			 s->name, s->detail);
		print_hanging(2, 6, line);
	}
	if (calibrated) {
		snprintf(line, sizeof(line), "used  wake-up: %s", hc->wake_from);
		print_hanging(2, 6, line);
		snprintf(line, sizeof(line), "used  notification cost: %s", hc->notify_from);
		print_hanging(2, 6, line);
		snprintf(line, sizeof(line), "%-5s Yz: %s", isfinite(hc->yz_ns) ? "used" : "n/a",
			 hc->yz_from);
		print_hanging(2, 6, line);
	} else {
		print_hanging(2, 6, "n/a   wake-up, notification cost, Yz: --no-calibrate");
	}
	if (g->is_guest)
		print_hanging(2, 6, "used  guest: /proc/interrupts, /proc/diskstats, /proc/net/dev, "
				 "cpuidle and haltpoll parameters");
}

int cmd_diagnose(int argc, char **argv)
{
	static const struct argp_child children[] = {
		{ &vs_common_argp, 0, "Common options:", 0 },
		{ 0 },
	};
	const struct argp argp = {
		.options = diagnose_options,
		.parser = diagnose_parse,
		.doc = diagnose_doc,
		.children = children,
	};
	struct vs_discovery *disc = NULL;
	static struct vs_discovery unmeasured;
	unsigned int measurable = 0;
	struct queue *qs = NULL;
	struct vs_guest_info guest;
	struct vs_guest_counters gc_a, gc_b;
	struct vs_guest_rates grates;
	struct vs_hostcosts hc;
	struct vs_plan gplan;
	struct vs_reco_env renv;
	struct device dev = { .out_fd = -1 };
	bool embedded = false, calibrated = false, text;
	pthread_t th[MAX_QUEUES];
	unsigned int nq = 0, i;
	double t_start = now_ns(), gwin_ns, t_dev = 0;
	char path[512], kvm_why[160] = "";
	int64_t khp = -1;
	json_t *doc = NULL;
	struct vs_probe *probe = NULL;
	struct vs_probe_snapshot snap;
	char probe_why[128] = "";
	int err, ret = VS_EXIT_OK;
	struct sigaction sa;
	struct diag_qmp *dq = NULL;

	memset(&env, 0, sizeof(env));
	env.duration_ns = 5e9;
	env.dmax_ns = 50e3;
	stop_requested = 0;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return VS_EXIT_USAGE;
	if (env.pid && env.workload) {
		vs_err("--pid and --workload exclude each other (diagnose a running process, or run the device)");
		return VS_EXIT_USAGE;
	}
	text = !vs_global.json;
	if (env.qmp) {
		pid_t qpid;

		if (env.workload) {
			vs_err("--qmp and --workload exclude each other");
			return VS_EXIT_USAGE;
		}
		dq = diag_qmp_open(env.qmp, &qpid, &err);
		if (!dq) {
			vs_err("--qmp %s: %s", env.qmp, strerror(-err));
			return VS_EXIT_FAIL;
		}
		if (env.pid && env.pid != qpid) {
			vs_err("--qmp %s belongs to pid %d, not --pid %d", env.qmp, (int)qpid,
			       (int)env.pid);
			diag_qmp_close(dq);
			return VS_EXIT_USAGE;
		}
		env.pid = qpid;
	}

	disc = calloc(1, sizeof(*disc));
	qs = calloc(MAX_QUEUES, sizeof(*qs));
	if (!disc || !qs) {
		vs_err("out of memory");
		ret = VS_EXIT_FAIL;
		goto cleanup;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	vs_guest_detect(&guest);
	if (!vs_path(path, sizeof(path), "/sys/module/kvm/parameters/halt_poll_ns"))
		vs_read_s64(path, &khp);

	/* Discovery: --pid, else the host, else the reference device. */
	if (env.pid) {
		err = vs_discover(env.pid, disc);
		if (err == -ESRCH) {
			vs_err("--pid %d: no such process", (int)env.pid);
			ret = VS_EXIT_USAGE;
			goto cleanup;
		} else if (err == -ENOENT) {
			vs_err("--pid %d: not a KVM VM (no anon_inode:kvm-vm fd) nor a reference device (no %s)",
			       (int)env.pid, "/run/virtsync/pcdev-PID.stats");
			ret = VS_EXIT_USAGE;
			goto cleanup;
		} else if (err) {
			vs_err("--pid %d: cannot inspect /proc/%d: %s", (int)env.pid,
			       (int)env.pid, strerror(-err));
			ret = VS_EXIT_FAIL;
			goto cleanup;
		}
		if (dq && disc->n_vms)
			diag_qmp_roles(dq, &disc->vms[0]);
	} else if (!env.workload) {
		err = vs_discover(0, disc);
		if (err) {
			vs_err("cannot scan /proc: %s", strerror(-err));
			ret = VS_EXIT_FAIL;
			goto cleanup;
		}
	}
	/* VMs with neither a known I/O thread nor item counters (a paused
	 * VMM, threads not named) cannot be measured: the host then counts as
	 * having no VM, and the ones seen are listed. */
	if (!env.pid && !env.workload) {
		for (i = 0; i < disc->n_vms; i++) {
			const struct vs_thread *p, *c;

			vs_measure_pick_threads(&disc->vms[i], &p, &c);
			if (p || c || disc->vms[i].has_stats || disc->vms[i].n_taps)
				measurable++;
		}
	}
	embedded = !env.pid && (env.workload || !measurable);
	if (embedded && disc->n_vms && !env.workload)
		memcpy(&unmeasured, disc, sizeof(unmeasured));

	if (text) {
		printf("virtsync diagnose: %s\n", guest.is_guest ?
		       "this machine is a KVM guest itself" : "KVM host");
		if (guest.is_guest) {
			char line[200];

			snprintf(line, sizeof(line),
				 "(%s%s%s; cpuidle driver %s; guest_halt_poll_ns %lld)",
				 guest.cpuid_hv ? "CPUID hypervisor bit" : "",
				 guest.cpuid_hv && guest.cpuinfo_hv ? ", " : "",
				 guest.cpuinfo_hv ? "cpuinfo flag" : "",
				 guest.cpuidle_driver[0] ? guest.cpuidle_driver : "none",
				 (long long)guest.guest_halt_poll_ns);
			print_wrapped(2, line);
		}
	}

	/* Costs first, on a quiet machine when we start the device ourselves. */
	if (!env.no_calibrate) {
		struct vs_hostcost_opts ho = { .rounds = 60, .polled = true, .yz = true };

		vs_hostcosts_measure(&ho, &hc);
		calibrated = true;
	} else {
		memset(&hc, 0, sizeof(hc));
		hc.notify_ns = hc.wake_ns = hc.wake_polled_ns = hc.yz_ns = NAN;
		snprintf(hc.notify_from, sizeof(hc.notify_from), "not measured (--no-calibrate)");
		snprintf(hc.wake_from, sizeof(hc.wake_from), "not measured (--no-calibrate)");
		snprintf(hc.yz_from, sizeof(hc.yz_from), "not measured (--no-calibrate)");
	}

	vs_dbg("calibration done at %.3f s", (now_ns() - t_start) / 1e9);
	if (embedded) {
		bool kvm_ok = vs_kvm_usable(kvm_why, sizeof(kvm_why));

		dev.preset = env.workload ? env.workload : "fc-example";
		if (env.backend && !strcmp(env.backend, "kvm") && !kvm_ok) {
			vs_err("--backend kvm: %s", kvm_why);
			ret = VS_EXIT_FAIL;
			goto cleanup;
		}
		dev.backend = env.backend ? env.backend : kvm_ok ? "kvm" : "thread";
		snprintf(dev.backend_why, sizeof(dev.backend_why), "%s%s",
			 env.backend ? "--backend given; " : "", kvm_why);
		if (text) {
			char line[300];

			if (unmeasured.n_vms) {
				printf("Found %u VM%s without an identifiable I/O thread or item counters:\n",
				       unmeasured.n_vms, unmeasured.n_vms == 1 ? "" : "s");
				print_discovery(&unmeasured);
			}
			snprintf(line, sizeof(line),
				 "%s: running the reference device (preset %s, %s backend: %s)",
				 env.workload ? "--workload given" :
				 unmeasured.n_vms ? "no measurable VM" : "no VM on this host",
				 dev.preset, dev.backend, dev.backend_why);
			print_wrapped(0, line);
			fflush(stdout);
		}
		err = device_start(&dev, WARMUP_NS + env.duration_ns + 1e9);
		if (err) {
			vs_err("cannot start the reference device: %s", strerror(-err));
			ret = VS_EXIT_FAIL;
			goto cleanup;
		}
		vs_dbg("device %d publishing at %.3f s", (int)dev.pid,
		       (now_ns() - t_start) / 1e9);
		t_dev = now_ns();
		err = vs_discover(dev.pid, disc);
		if (err) {
			vs_err("the reference device (pid %d) is not visible: %s",
			       (int)dev.pid, strerror(-err));
			ret = VS_EXIT_FAIL;
			goto cleanup;
		}
	}

	if (text) {
		printf("Found %u process%s:\n", disc->n_vms, disc->n_vms == 1 ? "" : "es");
		print_discovery(disc);
		printf("Measuring for %.1f s ...\n", env.duration_ns / 1e9);
		fflush(stdout);
	}

	/* The probes count from their opening: open them right before the
	 * window, read them right after. */
	nq = disc->n_vms < MAX_QUEUES ? disc->n_vms : MAX_QUEUES;
	if (!env.no_probes && nq) {
		struct vs_probe_opts po = { .flags = VS_PROBE_ALL, .attach = VS_ATTACH_AUTO };
		pid_t pids[MAX_QUEUES];

		for (i = 0; i < nq; i++)
			pids[i] = disc->vms[i].pid;
		po.pids = pids;
		po.n_pids = nq;
		err = vs_probe_open(&po, &probe);
		if (err) {
			probe = NULL;
			snprintf(probe_why, sizeof(probe_why), "cannot load: %s", strerror(-err));
		}
		vs_dbg("probes %s at %.3f s", probe ? "open" : probe_why,
		       (now_ns() - t_start) / 1e9);
	} else {
		snprintf(probe_why, sizeof(probe_why), "--no-probes");
	}

	/* Let the device reach its steady state before the window opens (the
	 * probes' loading above counts towards it). */
	if (embedded && now_ns() - t_dev < WARMUP_NS)
		usleep((useconds_t)((WARMUP_NS - (now_ns() - t_dev)) / 1e3));

	/* One window over every queue at once. */
	vs_guest_counters_read(&gc_a);
	gwin_ns = now_ns();
	if (dq)
		diag_qmp_begin(dq);
	for (i = 0; i < nq; i++) {
		qs[i].vm = &disc->vms[i];
		if (pthread_create(&th[i], NULL, measure_thread, &qs[i]))
			measure_thread(&qs[i]), th[i] = 0;
	}
	for (i = 0; i < nq; i++)
		if (th[i])
			pthread_join(th[i], NULL);
	if (dq) {
		diag_qmp_end(dq);
		if (nq)
			diag_qmp_source(dq, &qs[0].sample);
	}
	vs_dbg("window closed at %.3f s", (now_ns() - t_start) / 1e9);
	if (probe) {
		err = vs_probe_read(probe, &snap);
		if (!err) {
			for (i = 0; i < nq; i++)
				if (!qs[i].err)
					vs_sample_apply_probe(&qs[i].sample, qs[i].vm, &snap);
			vs_probe_snapshot_free(&snap);
		} else {
			snprintf(probe_why, sizeof(probe_why), "read failed: %s", strerror(-err));
		}
		vs_probe_close(probe);
		probe = NULL;
	}
	if (probe_why[0])
		for (i = 0; i < nq; i++)
			if (!qs[i].err)
				vs_sample_source(&qs[i].sample, "bpf-probes", false, "%s", probe_why);
	vs_guest_counters_read(&gc_b);
	vs_guest_rates(&gc_a, &gc_b, (now_ns() - gwin_ns) / 1e9, &grates);
	if (embedded) {
		device_stop(&dev);
		vs_dbg("device stopped at %.3f s", (now_ns() - t_start) / 1e9);
	}

	memset(&renv, 0, sizeof(renv));
	renv.dmax_ns = env.dmax_ns;
	renv.guest = &guest;
	renv.hc = &hc;
	renv.kvm_halt_poll_ns = khp;
	if (!vs_path(path, sizeof(path), "/sys/module/kvm/parameters/halt_poll_ns"))
		renv.kvm_halt_poll_writable = access(path, W_OK) == 0 && khp >= 0;
	renv.guest_wait_ns = NAN;
	for (i = 0; i < nq; i++) {
		struct queue *q = &qs[i];

		if (q->err)
			continue;
		vs_classify(&q->sample, &hc, &q->verdict);
		/* A process that ended inside the window leaves a short sample:
		 * keep the verdict, say so, and trust it less. */
		if (q->verdict.known && q->sample.duration_ns < 0.5 * env.duration_ns) {
			size_t used = strlen(q->verdict.summary);

			q->verdict.confidence *= q->sample.duration_ns / env.duration_ns;
			snprintf(q->verdict.summary + used, sizeof(q->verdict.summary) - used,
				 " (the process stopped after %.2f s of the %.1f s window)",
				 q->sample.duration_ns / 1e9, env.duration_ns / 1e9);
		}
		renv.vm = q->vm;
		renv.consumer_tid = q->sample.cons.present ? q->sample.cons.tid : 0;
		if (dq) {
			renv.qmp_socket = env.qmp;
			renv.iothreads = diag_qmp_iothreads(dq, &renv.n_iothreads);
		}
		renv.ncpus = q->sample.ncpus;
		renv.other_busy_cpus = q->sample.other_busy_cpus;
		vs_recommend(&q->verdict, &renv, &q->plan);
		/* The waits of the threads that run inside this guest size its
		 * halt polling: the idle time per wait of the side that waits. */
		if (q->verdict.known && guest.is_guest) {
			double y = q->verdict.c_wait != VS_WAIT_NONE ?
				   (1 - q->sample.cons.cpu) / q->sample.cons.waits_per_s * 1e9 :
				   (1 - q->sample.prod.cpu) / q->sample.prod.waits_per_s * 1e9;

			if (isfinite(y) && y > 0)
				renv.guest_wait_ns = y;
		}
	}
	memset(&gplan, 0, sizeof(gplan));
	renv.vm = NULL;
	vs_recommend_guest(&renv, &gplan);

	/* Build the JSON document (also the --save evidence). */
	doc = json_object();
	json_object_set_new(doc, "command", json_string("diagnose"));
	vs_json_add_meta(doc, argc, argv);
	json_object_set_new(doc, "mode", json_string(env.pid ? "pid" : embedded ? "embedded"
								      : "host"));
	json_object_set_new(doc, "duration_ns", json_real(env.duration_ns));
	json_object_set_new(doc, "dmax_ns", json_real(env.dmax_ns));
	{
		json_t *e = json_object();

		json_object_set_new(e, "guest", json_boolean(guest.is_guest));
		json_object_set_new(e, "cpuid_hypervisor", json_boolean(guest.cpuid_hv));
		json_object_set_new(e, "cpuidle_driver", json_string(guest.cpuidle_driver));
		json_object_set_new(e, "guest_halt_poll_ns", guest.guest_halt_poll_ns >= 0 ?
				    json_integer(guest.guest_halt_poll_ns) : json_null());
		json_object_set_new(e, "kvm_halt_poll_ns", khp >= 0 ? json_integer(khp)
								 : json_null());
		json_object_set_new(e, "kvm_halt_poll_writable",
				    json_boolean(renv.kvm_halt_poll_writable));
		json_object_set_new(e, "ncpus", json_integer(nq ? qs[0].sample.ncpus : 0));
		json_object_set_new(doc, "environment", e);
	}
	{
		json_t *h = json_object();

		json_object_set_new(h, "notify_ns", vs_json_num(hc.notify_ns));
		json_object_set_new(h, "wake_ns", vs_json_num(hc.wake_ns));
		json_object_set_new(h, "wake_polled_ns", vs_json_num(hc.wake_polled_ns));
		json_object_set_new(h, "yz_ns", vs_json_num(hc.yz_ns));
		json_object_set_new(h, "notify_from", json_string(hc.notify_from));
		json_object_set_new(h, "wake_from", json_string(hc.wake_from));
		json_object_set_new(h, "yz_from", json_string(hc.yz_from));
		json_object_set_new(doc, "host_costs", h);
	}
	if (embedded) {
		json_t *d = json_object();

		json_object_set_new(d, "pid", json_integer(dev.pid));
		json_object_set_new(d, "preset", json_string(dev.preset));
		json_object_set_new(d, "backend", json_string(dev.backend));
		json_object_set_new(d, "backend_reason", json_string(dev.backend_why));
		json_object_set_new(doc, "device", d);
	}
	{
		json_t *arr = json_array();

		for (i = 0; i < disc->n_vms; i++)
			json_array_append_new(arr, vm_json(&disc->vms[i]));
		json_object_set_new(doc, "vms", arr);
		arr = json_array();
		for (i = 0; i < unmeasured.n_vms; i++)
			json_array_append_new(arr, vm_json(&unmeasured.vms[i]));
		json_object_set_new(doc, "unmeasurable_vms", arr);
		arr = json_array();
		for (i = 0; i < nq; i++)
			json_array_append_new(arr, queue_json(&qs[i]));
		json_object_set_new(doc, "queues", arr);
	}
	if (guest.is_guest) {
		json_t *g = json_object(), *arr = json_array();

		for (i = 0; i < grates.n_vqs; i++) {
			json_t *e = json_object();

			json_object_set_new(e, "name", json_string(grates.vqs[i].name));
			json_object_set_new(e, "per_s", json_real(grates.vqs[i].per_s));
			json_array_append_new(arr, e);
		}
		json_object_set_new(g, "interrupts", arr);
		json_object_set_new(g, "disk_ios_per_s", grates.have_disk ?
				    json_real(grates.disk_ios_per_s) : json_null());
		json_object_set_new(g, "net_packets_per_s", grates.have_net ?
				    json_real(grates.net_packets_per_s) : json_null());
		json_object_set_new(g, "actions", actions_json(&gplan));
		json_object_set_new(g, "warnings", warnings_json(&gplan));
		json_object_set_new(doc, "guest", g);
	}
	if (embedded)
		json_object_set(doc, "ground_truth", dev.truth ? dev.truth : json_null());
	if (dq)
		json_object_set_new(doc, "qmp", diag_qmp_json(dq));

	if (text) {
		for (i = 0; i < nq; i++)
			print_queue(&qs[i]);
		if (dq)
			diag_qmp_print(dq);
		if (guest.is_guest) {
			char a[24], b[24], line[300];
			unsigned int shown = 0;

			printf("\nInside this guest:\n");
			for (i = 0; i < grates.n_vqs; i++) {
				if (grates.vqs[i].per_s < 0.5)
					continue;
				printf("  %-24s %s interrupts\n", grates.vqs[i].name,
				       fmt_rate(grates.vqs[i].per_s, a, sizeof(a)));
				shown++;
			}
			if (!shown)
				printf("  no virtqueue interrupts during the window\n");
			printf("  disk %s requests, net %s packets\n",
			       fmt_rate(grates.disk_ios_per_s, a, sizeof(a)),
			       fmt_rate(grates.net_packets_per_s, b, sizeof(b)));
			if (isfinite(hc.wake_ns)) {
				snprintf(line, sizeof(line),
					 "thread wake-up: %s as configured, %s with the CPUs kept out of idle (what halt polling gives)",
					 fmt_t(hc.wake_ns, a, sizeof(a)),
					 fmt_t(hc.wake_polled_ns, b, sizeof(b)));
				print_wrapped(2, line);
			}
			for (i = 0; i < gplan.n_actions; i++) {
				snprintf(line, sizeof(line), "%s = %s (now %s) [%s]: %s",
					 gplan.actions[i].knob, gplan.actions[i].value,
					 gplan.actions[i].current[0] ? gplan.actions[i].current : "?",
					 vs_applies_name(gplan.actions[i].applies),
					 gplan.actions[i].why);
				print_wrapped(2, line);
			}
			for (i = 0; i < gplan.n_warnings; i++) {
				snprintf(line, sizeof(line), "warning: %s", gplan.warnings[i]);
				print_hanging(2, 9, line);
			}
		}
		if (embedded) {
			char line[400];

			printf("\nGround truth (the device's own report, not used above):\n");
			if (dev.truth) {
				json_t *cfg = json_object_get(dev.truth, "config");
				json_t *model = json_object_get(dev.truth, "model");

				snprintf(line, sizeof(line),
					 "configured P %s / C %s, L %lld; measured %.0f items/s; bench's model on its private measurements: %s (%s)",
					 json_string_value(json_object_get(cfg, "p_mode")) ?: "?",
					 json_string_value(json_object_get(cfg, "c_mode")) ?: "?",
					 (long long)json_integer_value(json_object_get(cfg, "len")),
					 json_number_value(json_object_get(dev.truth, "throughput_ops")),
					 json_string_value(json_object_get(model, "regime")) ?: "?",
					 json_string_value(json_object_get(model, "mech")) ?: "?");
				print_wrapped(2, line);
			} else {
				print_wrapped(2, dev.truth_err);
			}
		}
		sources_text(&hc, calibrated, &guest, qs, nq);
	}

	if (env.save) {
		unsigned int nsteps = 0;

		err = save_plan(env.save, qs, nq, &gplan, doc, &nsteps);
		if (err) {
			vs_err("--save: cannot write '%s': %s", env.save, strerror(-err));
			ret = VS_EXIT_FAIL;
		} else if (text && nsteps) {
			printf("\nPlan: %u step%s that virtsync apply can set now, saved to %s\n",
			       nsteps, nsteps == 1 ? "" : "s", env.save);
		} else if (text) {
			print_wrapped(0, "\nPlan: nothing virtsync apply can set now (the "
				      "report is saved, but apply refuses a plan without "
				      "steps)");
		}
	}
	if (text && !embedded) {
		bool any = false;

		for (i = 0; i < nq; i++)
			any |= qs[i].verdict.known;
		if (!any)
			print_wrapped(0, "No queue could be classified here; "
				      "'virtsync diagnose --workload fc-example' runs the "
				      "reference device instead.");
	}
	if (!text) {
		json_object_set_new(doc, "elapsed_ns", json_real(now_ns() - t_start));
		vs_json_print(json_incref(doc));
	} else {
		printf("\nDone in %.1f s.\n", (now_ns() - t_start) / 1e9);
	}

cleanup:
	diag_qmp_close(dq);
	vs_probe_close(probe);
	if (dev.pid > 0 && !dev.stopped)
		device_stop(&dev);
	json_decref(dev.truth);
	json_decref(doc);
	free(qs);
	free(disc);
	return ret;
}
