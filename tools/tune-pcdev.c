// SPDX-License-Identifier: GPL-2.0-only
/* The reference-device workload of `virtsync tune --auto`. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "diagnose/diagnose.h"
#include "pcdev/pcdev.h"
#include "pcdev/stats.h"
#include "tune/planfile.h"
#include "core/sysfs.h"
#include "tune-pcdev.h"

/* One snapshot of the device. */
struct snap {
	double t_ns;
	uint64_t items, kicks;
	double cpu_ns;
	double tsc_per_ns;
	struct pcdev_hist hist;
};

static int thread_cpu_ns(pid_t pid, long tid, double *ns)
{
	char path[256], buf[128];
	unsigned long long run;
	int err;

	if (tid <= 0)
		return 0;
	err = vs_path(path, sizeof(path), "/proc/%d/task/%ld/schedstat", (int)pid, tid);
	if (!err)
		err = vs_read_str(path, buf, sizeof(buf));
	if (err)
		return err;
	if (sscanf(buf, "%llu", &run) != 1)
		return -EINVAL;
	*ns += (double)run;
	return 0;
}

static int snap_take(pid_t pid, struct snap *s)
{
	char path[256], line[128], name[64];
	unsigned long long v;
	long ptid = 0, ctid = 0;
	double d;
	FILE *f;
	int err;

	memset(s, 0, sizeof(*s));
	err = vs_path(path, sizeof(path), PCDEV_STATS_FMT, (int)pid);
	if (err)
		return err;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	s->t_ns = vs_mono_ns();
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lf", name, &d) != 2)
			continue;
		v = (unsigned long long)d;
		if (!strcmp(name, "items_consumed"))
			s->items = v;
		else if (!strcmp(name, "kicks"))
			s->kicks = v;
		else if (!strcmp(name, "producer_tid"))
			ptid = (long)v;
		else if (!strcmp(name, "consumer_tid"))
			ctid = (long)v;
		else if (!strcmp(name, "tsc_per_ns"))
			s->tsc_per_ns = d;
		else if (!strncmp(name, "lat_bucket_", 11)) {
			unsigned long i = strtoul(name + 11, NULL, 10);

			if (i < PCDEV_HIST_BUCKETS)
				s->hist.bucket[i] = v;
		}
	}
	fclose(f);
	err = thread_cpu_ns(pid, ptid, &s->cpu_ns);
	if (!err)
		err = thread_cpu_ns(pid, ctid, &s->cpu_ns);
	return err;
}

#define MAX_REPEATS 16

/*
 * Sleep ns, or less once *stop is set: true when stopped. In slices of at
 * most 50 ms, since the signal that sets the flag may be taken by another
 * thread of this process (the device's, the progress line's), which leaves
 * this thread's sleep running: EINTR cannot be counted on.
 */
static bool sleep_unless_stopped(double ns, const volatile sig_atomic_t *stop)
{
	double end = vs_mono_ns() + ns, left;
	struct timespec ts;

	while (!(stop && *stop) && (left = end - vs_mono_ns()) > 0) {
		if (left > 50e6)
			left = 50e6;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		nanosleep(&ts, NULL);
	}
	return stop && *stop;
}

static int pcdev_measure(void *vctx, const volatile sig_atomic_t *stop,
			 struct vs_objective *o, json_t **raw)
{
	struct tune_pcdev_ctx *c = vctx;
	double thr[MAX_REPEATS], cpu[MAX_REPEATS], p98[MAX_REPEATS];
	static struct snap a, b;
	struct pcdev_hist win;
	json_t *arr = json_array();
	unsigned int r, i, n = c->repeats > MAX_REPEATS ? MAX_REPEATS : c->repeats;
	uint64_t items;
	bool cut = false;
	int err = 0;

	if (!n)
		n = 1;
	/* The device first settles into its current setting (a control file
	 * change takes up to 5 ms, the ring refills in well under 100 ms). */
	if (sleep_unless_stopped(200e6, stop))
		n = 0, cut = true;
	for (r = 0; r < n; r++) {
		json_t *w;

		err = snap_take(c->pid, &a);
		if (err)
			break;
		cut = sleep_unless_stopped(c->window_ns, stop);
		err = snap_take(c->pid, &b);
		if (err)
			break;
		items = b.items - a.items;
		/* a window a stop cut short counts for the time it ran, unless
		 * it saw nothing (stopped at its start) */
		if (cut && (!items || b.t_ns <= a.t_ns)) {
			n = r;
			break;
		}
		if (!items || b.t_ns <= a.t_ns) {
			err = -ENODATA;
			break;
		}
		memset(&win, 0, sizeof(win));
		for (i = 0; i < PCDEV_HIST_BUCKETS; i++) {
			win.bucket[i] = b.hist.bucket[i] > a.hist.bucket[i] ?
					b.hist.bucket[i] - a.hist.bucket[i] : 0;
			win.count += win.bucket[i];
			if (win.bucket[i]) {
				uint64_t low, width;

				pcdev_hist_bucket_range(i, &low, &width);
				win.max = low + width - 1;
			}
		}
		thr[r] = (double)items * 1e9 / (b.t_ns - a.t_ns);
		cpu[r] = (b.cpu_ns - a.cpu_ns) / (double)items;
		p98[r] = win.count && b.tsc_per_ns > 0 ?
			 pcdev_hist_quantile(&win, 0.98) / b.tsc_per_ns : NAN;
		w = json_object();
		json_object_set_new(w, "window_ns", json_real(b.t_ns - a.t_ns));
		json_object_set_new(w, "items", json_integer((json_int_t)items));
		json_object_set_new(w, "kicks", json_integer((json_int_t)(b.kicks - a.kicks)));
		json_object_set_new(w, "throughput_ops", json_real(thr[r]));
		json_object_set_new(w, "cpu_ns_per_item", json_real(cpu[r]));
		json_object_set_new(w, "p98_ns", isfinite(p98[r]) ? json_real(p98[r]) : json_null());
		if (cut)
			json_object_set_new(w, "cut_short", json_true());
		json_array_append_new(arr, w);
		if (cut) {
			n = r + 1;
			break;
		}
	}
	if (err) {
		json_decref(arr);
		return err;
	}
	memset(o, 0, sizeof(*o));
	o->throughput = n ? vs_median(thr, n) : NAN;
	o->cpu_ns_per_item = n ? vs_median(cpu, n) : NAN;
	o->p98_ns = n ? vs_median(p98, n) : NAN;
	o->latency_ns = NAN;
	o->idle_frac = o->steal_frac = NAN;
	if (raw) {
		*raw = json_object();
		json_object_set_new(*raw, "pid", json_integer(c->pid));
		json_object_set_new(*raw, "windows", arr);
		json_object_set_new(*raw, "statistic", json_string("median of the windows"));
	} else {
		json_decref(arr);
	}
	return cut ? -EINTR : 0;
}

/* Diagnose the device in-process; its plan. */
static int diagnose_once(struct tune_pcdev_ctx *c, const volatile sig_atomic_t *stop,
			 struct vs_profile **plan, char *why, size_t len)
{
	struct vs_diag_opts o = VS_DIAG_OPTS_INIT;
	struct vs_diagnosis d;
	int e;

	o.target = VS_DIAG_PID;
	o.pid = c->pid;
	o.duration_ns = c->diag_ns;
	/* ends its window early; the loop then applies nothing */
	o.stop = (volatile sig_atomic_t *)stop;
	if (c->dmax_ns > 0)
		o.dmax_ns = c->dmax_ns;
	/* the host's costs do not change between two diagnoses */
	o.costs = c->have_costs ? &c->costs : NULL;
	e = vs_profile_diagnose(&o, &d, plan, why, len);
	if (!e && d.calibrated && !c->have_costs) {
		c->costs = d.hc;
		c->have_costs = true;
	}
	vs_diagnosis_free(&d);
	return e;
}

static int pcdev_propose(void *vctx, const volatile sig_atomic_t *stop,
			 const struct vs_objective *before,
			 struct vs_profile **plan, char *why, size_t len)
{
	struct tune_pcdev_ctx *c = vctx;
	struct vs_profile *p = NULL;
	size_t i, kept = 0;
	int e, attempt;

	(void)before;
	/* A window that other load starves of samples leaves the queue
	 * unclassified, or inflates an estimate past a bound (W past Dmax/2
	 * drops the sleep): when the first diagnosis has nothing for the
	 * device, a second, independent one decides. */
	for (attempt = 0; attempt < 2; attempt++) {
		vs_profile_free(p);
		p = NULL;
		e = diagnose_once(c, stop, &p, why, len);
		if (e || (stop && *stop)) {
			vs_profile_free(p);
			return e;
		}
		c->diagnoses++;
		for (i = 0; i < p->nsteps; i++)
			if (p->steps[i].sel[VS_SEL_PID][0])
				break;
		if (i < p->nsteps)
			break;
	}
	snprintf(c->regime, sizeof(c->regime), "%s", p->regime);
	/* Keep the steps aimed at the device; host-wide ones (guest halt
	 * polling, C-states) would change the machine for everyone and move
	 * CPU time out of the device's threads into idle polling. */
	for (i = 0; i < p->nsteps; i++) {
		if (p->steps[i].sel[VS_SEL_PID][0])
			p->steps[kept++] = p->steps[i];
		else
			c->dropped++;
	}
	p->nsteps = kept;
	if (!kept && p->regime[0])
		snprintf(why, len, "diagnose (regime %s) recommends no change to the device itself",
			 p->regime);
	else if (!kept)
		snprintf(why, len, "diagnose could not classify the device's queue (%u tries)",
			 c->diagnoses);
	*plan = p;
	return 0;
}

const struct vs_tune_workload tune_workload_pcdev = {
	.name = "pcdev",
	.goal = VS_GOAL_THROUGHPUT,
	.measure = pcdev_measure,
	.propose = pcdev_propose,
};

