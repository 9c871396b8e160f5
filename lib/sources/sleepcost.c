// SPDX-License-Identifier: GPL-2.0-only
/* The cost of a sleep: effective length and CPU cost per nanosleep(). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cpuidle.h>
#include <jansson.h>

#include "core/cpuonline.h"
#include "sources/sleepcost.h"
#include "core/json.h"
#include "core/sysfs.h"

#define MSR_IA32_TSC	0x10
#define MSR_IA32_MPERF	0xe7
#define MAX_SAMPLES	(4u << 20)	/* per point, keeps memory bounded */
#define WARMUP_SLEEPS	3
#define MAX_IDLE_STATES	16

const char *vs_cost_source_name(enum vs_cost_source s)
{
	switch (s) {
	case VS_COST_MPERF: return "mperf";
	case VS_COST_CPUIDLE: return "cpuidle";
	case VS_COST_THREAD: return "thread";
	}
	return "?";
}

void vs_sleepcost_opts_default(struct vs_sleepcost_opts *o, bool quick)
{
	memset(o, 0, sizeof(*o));
	o->cpu = -1;
	o->min_ns = 1e3;
	o->max_ns = 1e6;
	o->steps = quick ? 4 : 7;
	o->samples = 0;
	o->duration_ns = quick ? 50e6 : 200e6;
}

int vs_sleepcost_opts_check(const struct vs_sleepcost_opts *o,
			    const char **what)
{
	const char *bad = NULL;

	if (!(o->min_ns >= 1))
		bad = "min";
	else if (!(o->max_ns >= o->min_ns) || o->max_ns > 10e9)
		bad = "max";
	else if (o->steps < 1 || o->steps > 1000)
		bad = "steps";
	else if (o->samples > MAX_SAMPLES)
		bad = "samples";
	else if (!o->samples && !(o->duration_ns >= 1e6 && o->duration_ns <= 600e9))
		bad = "duration";
	if (what)
		*what = bad;
	return bad ? -EINVAL : 0;
}

static double now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Where the C0 time of the CPU comes from, and its state. */
struct cost_probe {
	enum vs_cost_source source;
	int cpu;
	int msr_fd;
	unsigned int nstates;
	bool idle_counts[MAX_IDLE_STATES];	/* false for POLL (runs in C0) */
};

static bool cpu_has_flag(const char *flag)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL;

		if (strncmp(line, "flags", 5))
			continue;
		for (tok = strtok_r(line, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			if (!strcmp(tok, flag))
				found = true;
		break;
	}
	fclose(f);
	return found;
}

static int msr_read(int fd, uint32_t reg, uint64_t *val)
{
	return pread(fd, val, sizeof(*val), reg) == sizeof(*val) ? 0 : -EIO;
}

static void cost_probe_open(struct cost_probe *cp, int cpu, char *why,
			    size_t whylen)
{
	char path[64];
	uint64_t v;
	unsigned int i;

	memset(cp, 0, sizeof(*cp));
	cp->cpu = cpu;
	cp->msr_fd = -1;
	why[0] = '\0';
	if (!cpu_has_flag("aperfmperf")) {
		snprintf(why, whylen, "no APERF/MPERF on this CPU");
	} else {
		snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
		cp->msr_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (cp->msr_fd >= 0 && !msr_read(cp->msr_fd, MSR_IA32_MPERF, &v)) {
			cp->source = VS_COST_MPERF;
			return;
		}
		snprintf(why, whylen, "%s unreadable (modprobe msr; root)", path);
		if (cp->msr_fd >= 0)
			close(cp->msr_fd);
		cp->msr_fd = -1;
	}
	cp->nstates = cpuidle_state_count((unsigned int)cpu);
	if (cp->nstates > MAX_IDLE_STATES)
		cp->nstates = MAX_IDLE_STATES;
	for (i = 0; i < cp->nstates; i++) {
		char *name = cpuidle_state_name((unsigned int)cpu, i);

		cp->idle_counts[i] = !(name && !strcmp(name, "POLL"));
		free(name);
	}
	if (cp->nstates) {
		cp->source = VS_COST_CPUIDLE;
		return;
	}
	snprintf(why + strlen(why), whylen - strlen(why), "%sno cpuidle states",
		 why[0] ? ", " : "");
	cp->source = VS_COST_THREAD;
}

static void cost_probe_close(struct cost_probe *cp)
{
	if (cp->msr_fd >= 0)
		close(cp->msr_fd);
	cp->msr_fd = -1;
}

struct snapshot {
	double wall, thread;
	double idle_us;		/* cpuidle: time in non-POLL states */
	uint64_t mperf, tsc;
};

static void snapshot_take(const struct cost_probe *cp, struct snapshot *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	if (cp->source == VS_COST_MPERF) {
		msr_read(cp->msr_fd, MSR_IA32_MPERF, &s->mperf);
		msr_read(cp->msr_fd, MSR_IA32_TSC, &s->tsc);
	} else if (cp->source == VS_COST_CPUIDLE) {
		for (i = 0; i < cp->nstates; i++)
			if (cp->idle_counts[i])
				s->idle_us += (double)cpuidle_state_time(
					(unsigned int)cp->cpu, i);
	}
	s->thread = now_ns(CLOCK_THREAD_CPUTIME_ID);
	s->wall = now_ns(CLOCK_MONOTONIC);
}

/* C0 time of the CPU between two snapshots, in ns. */
static double busy_between(const struct cost_probe *cp,
			   const struct snapshot *a, const struct snapshot *b)
{
	double wall = b->wall - a->wall, busy;

	switch (cp->source) {
	case VS_COST_MPERF:
		if (b->tsc <= a->tsc)
			return NAN;
		busy = wall * (double)(b->mperf - a->mperf) /
		       (double)(b->tsc - a->tsc);
		break;
	case VS_COST_CPUIDLE:
		busy = wall - (b->idle_us - a->idle_us) * 1e3;
		break;
	default:
		busy = b->thread - a->thread;
	}
	/* Residency is updated in whole microseconds at idle exit: clamp the
	 * rounding instead of reporting a negative or >100 % share. */
	if (busy < 0)
		busy = 0;
	if (busy > wall)
		busy = wall;
	return busy;
}

static int measure_point(const struct vs_sleepcost_opts *o,
			 const struct cost_probe *cp, double nominal,
			 struct vs_sleepcost_point *pt)
{
	struct timespec req = {
		.tv_sec = (time_t)(nominal / 1e9),
		.tv_nsec = (long)fmod(nominal, 1e9),
	};
	size_t cap = o->samples ? o->samples : 1024, n = 0;
	struct snapshot a, b;
	double *v, deadline, busy;
	int i, err;

	v = malloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < WARMUP_SLEEPS; i++)
		clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
	snapshot_take(cp, &a);
	deadline = a.wall + o->duration_ns;
	for (;;) {
		double t0, t1;

		if (o->stop && *o->stop) {
			free(v);
			return -EINTR;
		}
		t0 = now_ns(CLOCK_MONOTONIC);
		err = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
		t1 = now_ns(CLOCK_MONOTONIC);
		/* A signal cut this sleep short: not a sample. */
		if (err == EINTR)
			continue;
		if (n == cap) {
			double *nv;

			cap *= 2;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = t1 - t0;
		if (o->samples ? n >= o->samples :
				 (t1 >= deadline || n >= MAX_SAMPLES))
			break;
	}
	snapshot_take(cp, &b);
	busy = busy_between(cp, &a, &b);
	pt->nominal_ns = nominal;
	pt->wall_ns = b.wall - a.wall;
	pt->cost_ns = busy / (double)n;
	pt->busy_frac = busy / pt->wall_ns;
	pt->thread_cpu_ns = (b.thread - a.thread) / (double)n;
	err = vs_latstats_compute(v, n, &pt->eff);
	free(v);
	return err;
}

void vs_sleepcost_pass_summarize(struct vs_sleepcost_pass *p)
{
	unsigned int i;

	p->yz_ns = p->yz_cost_ns = NAN;
	p->knee_nominal_ns = p->knee_cost_ns = NAN;
	if (!p->npoints)
		return;
	p->yz_ns = p->points[0].eff.p50;
	p->yz_cost_ns = p->points[0].cost_ns;
	for (i = 0; i < p->npoints; i++) {
		const struct vs_sleepcost_point *pt = &p->points[i];

		if (pt->cost_ns < 0.5 * pt->eff.mean) {
			p->knee_nominal_ns = pt->nominal_ns;
			p->knee_cost_ns = pt->cost_ns;
			break;
		}
	}
}

static int run_pass(const struct vs_sleepcost_opts *o,
		    const struct cost_probe *cp, uint64_t slack,
		    unsigned int pass, struct vs_sleepcost_pass *p)
{
	double ratio = o->steps > 1 ?
		pow(o->max_ns / o->min_ns, 1.0 / (o->steps - 1)) : 1;
	unsigned int i;
	int err;

	p->slack_ns = slack;
	p->points = calloc(o->steps, sizeof(*p->points));
	if (!p->points)
		return -ENOMEM;
	if (prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0))
		return -errno;
	for (i = 0; i < o->steps; i++) {
		/* Rounded to whole ns; the last point is exactly max. */
		double nominal = i + 1 == o->steps && o->steps > 1 ? o->max_ns :
				 round(o->min_ns * pow(ratio, i));

		if (o->progress)
			o->progress(o->progress_arg, pass * o->steps + i, 2 * o->steps);
		err = measure_point(o, cp, nominal, &p->points[i]);
		if (err)
			break;
		p->npoints = i + 1;
	}
	/* stopped: the points done are the result so far */
	if (!err || err == -EINTR)
		vs_sleepcost_pass_summarize(p);
	return err;
}

void vs_sleepcost_result_free(struct vs_sleepcost_result *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < 2; i++) {
		free(r->pass[i].points);
		r->pass[i].points = NULL;
		r->pass[i].npoints = 0;
	}
}

int vs_sleepcost_run(const struct vs_sleepcost_opts *o,
		     struct vs_sleepcost_result *r)
{
	cpu_set_t old_mask, mask;
	struct cost_probe cp;
	int cpu, err, slack;

	memset(r, 0, sizeof(*r));
	if (vs_sleepcost_opts_check(o, NULL))
		return -EINVAL;
	if (sched_getaffinity(0, sizeof(old_mask), &old_mask))
		return -errno;
	cpu = o->cpu;
	if (cpu >= 0) {
		if (cpu >= CPU_SETSIZE)
			return -ENODEV;
		CPU_ZERO(&mask);
		CPU_SET(cpu, &mask);
		if (sched_setaffinity(0, sizeof(mask), &mask))
			return errno == EINVAL ? -ENODEV : -errno;
	} else {
		cpu = sched_getcpu();
		if (cpu < 0)
			cpu = 0;
	}
	slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (slack < 0) {
		err = -errno;
		goto err_affinity;
	}
	r->cpu = cpu;
	r->orig_slack_ns = (uint64_t)slack;
	cost_probe_open(&cp, cpu, r->source_why, sizeof(r->source_why));
	r->source = cp.source;
	err = run_pass(o, &cp, r->orig_slack_ns, 0, &r->pass[0]);
	if (!err) {
		err = run_pass(o, &cp, 1, 1, &r->pass[1]);
	} else {
		r->pass[1].slack_ns = 1;
		vs_sleepcost_pass_summarize(&r->pass[1]);
	}
	cost_probe_close(&cp);
	/* PR_SET_TIMERSLACK 0 would mean "the default", which is what a
	 * reading of 0 cannot be; the value read back is always >= 1. */
	prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
	if (err && err != -EINTR) {
		vs_sleepcost_result_free(r);
		goto err_affinity;
	}
	/* NaN while the 1 ns pass has no point */
	r->inflation = r->pass[0].yz_ns / r->pass[1].yz_ns;
err_affinity:
	sched_setaffinity(0, sizeof(old_mask), &old_mask);
	return err;
}

/* ---- the Yz cache ------------------------------------------------------ */

void vs_sleepcost_yz_from_result(const struct vs_sleepcost_result *r,
				 struct vs_yz *yz)
{
	struct utsname u;

	memset(yz, 0, sizeof(*yz));
	yz->yz_ns = r->pass[1].yz_ns;
	yz->yz_cost_ns = r->pass[1].yz_cost_ns;
	yz->yz_slack_ns = r->pass[0].yz_ns;
	yz->slack_ns = r->orig_slack_ns;
	yz->cpu = r->cpu;
	yz->time = (int64_t)time(NULL);
	if (!uname(&u))
		snprintf(yz->kernel, sizeof(yz->kernel), "%s", u.release);
	snprintf(yz->source, sizeof(yz->source), "%s",
		 vs_cost_source_name(r->source));
}

static int cache_paths(char *dir, size_t dlen, char *file, size_t flen)
{
	int err = vs_path(dir, dlen, "/run/virtsync");

	return err ? err : vs_path(file, flen, "/run/virtsync/yz.json");
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

int vs_sleepcost_cache_write(const struct vs_yz *yz)
{
	char dir[4096], file[4096], *text;
	json_t *doc;
	int err;

	err = cache_paths(dir, sizeof(dir), file, sizeof(file));
	if (err)
		return err;
	err = vs_mkdir_p(dir, 0755);
	if (err)
		return err;
	doc = json_object();
	if (!doc)
		return -ENOMEM;
	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "time", json_integer(yz->time));
	json_object_set_new(doc, "kernel", json_string(yz->kernel));
	json_object_set_new(doc, "cpu", json_integer(yz->cpu));
	json_object_set_new(doc, "slack_ns", json_integer((json_int_t)yz->slack_ns));
	json_object_set_new(doc, "yz_ns", num_or_null(yz->yz_ns));
	json_object_set_new(doc, "yz_slack_ns", num_or_null(yz->yz_slack_ns));
	json_object_set_new(doc, "yz_cost_ns", num_or_null(yz->yz_cost_ns));
	json_object_set_new(doc, "source", json_string(yz->source));
	text = json_dumps(doc, JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	/* sleepcost runs may finish at once: one temporary each */
	err = vs_file_replace_text(file, text, 0644, VS_REPLACE_SHARED);
	free(text);
	return err;
}

int vs_sleepcost_cache_read(struct vs_yz *yz)
{
	char dir[4096], file[4096];
	json_t *doc, *v;
	const char *s;
	int err = cache_paths(dir, sizeof(dir), file, sizeof(file));

	if (err)
		return err;
	memset(yz, 0, sizeof(*yz));
	doc = vs_json_load(file, &err);
	if (!doc)
		return err == -ENOENT ? -ENOENT : -EINVAL;
	err = -EINVAL;
	v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		goto out;
	v = json_object_get(doc, "time");
	if (!json_is_integer(v))
		goto out;
	yz->time = json_integer_value(v);
	s = json_string_value(json_object_get(doc, "kernel"));
	if (!s)
		goto out;
	snprintf(yz->kernel, sizeof(yz->kernel), "%s", s);
	v = json_object_get(doc, "yz_ns");
	if (!json_is_number(v) || !(json_number_value(v) > 0))
		goto out;
	yz->yz_ns = json_number_value(v);
	v = json_object_get(doc, "yz_slack_ns");
	yz->yz_slack_ns = json_is_number(v) ? json_number_value(v) : NAN;
	v = json_object_get(doc, "yz_cost_ns");
	yz->yz_cost_ns = json_is_number(v) ? json_number_value(v) : NAN;
	v = json_object_get(doc, "slack_ns");
	yz->slack_ns = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
	v = json_object_get(doc, "cpu");
	yz->cpu = json_is_integer(v) ? (int)json_integer_value(v) : -1;
	s = json_string_value(json_object_get(doc, "source"));
	snprintf(yz->source, sizeof(yz->source), "%s", s ? s : "");
	yz->from_cache = true;
	err = 0;
out:
	json_decref(doc);
	return err;
}

int vs_sleepcost_yz_cached(double max_age_s, struct vs_yz *yz)
{
	struct vs_sleepcost_opts o;
	struct vs_sleepcost_result r;
	struct utsname u;
	int err;

	if (!vs_sleepcost_cache_read(yz) && !uname(&u) &&
	    !strcmp(u.release, yz->kernel)) {
		double age = difftime(time(NULL), (time_t)yz->time);

		/* A timestamp from the future (clock stepped) is not fresh. */
		if (age >= 0 && age <= max_age_s)
			return 0;
	}
	vs_sleepcost_opts_default(&o, true);
	err = vs_sleepcost_run(&o, &r);
	if (err) {
		vs_sleepcost_result_free(&r);
		return err;
	}
	vs_sleepcost_yz_from_result(&r, yz);
	vs_sleepcost_result_free(&r);
	/* The cache is an optimization: a read-only /run does not fail. */
	vs_sleepcost_cache_write(yz);
	return 0;
}
