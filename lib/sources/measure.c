// SPDX-License-Identifier: GPL-2.0-only
/* One measurement window from public counters (see measure.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/units.h"
#include "sources/devstats.h"
#include "sources/measure.h"
#include "sources/exitlat.h"
#include "sources/probe.h"
#include "core/safefile.h"
#include "core/sysfs.h"

/* Sampling period of the syscall view: 2 ms keeps the observer under 1 %
 * of a CPU while giving ~500 samples per second of measurement. */
#define SAMPLE_PERIOD_NS 2000000L

void vs_sample_source(struct vs_sample *s, const char *name, bool used,
		      const char *fmt, ...)
{
	struct vs_source *src;
	va_list ap;

	if (s->n_sources >= VS_MAX_SOURCES)
		return;
	src = &s->sources[s->n_sources++];
	snprintf(src->name, sizeof(src->name), "%s", name);
	src->used = used;
	va_start(ap, fmt);
	vsnprintf(src->detail, sizeof(src->detail), fmt, ap);
	va_end(ap);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int vs_thread_counters_read(pid_t pid, pid_t tid, struct vs_thread_counters *c)
{
	char path[512], buf[4096], *p;
	unsigned long long a, b, n;
	int err;

	memset(c, 0, sizeof(*c));
	c->cpu = -1;
	err = vs_path(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid,
		      (int)tid);
	if (!err)
		err = vs_read_str(path, buf, sizeof(buf));
	if (err)
		return err;
	/* schedstat: time on CPU (ns), time waiting on a runqueue (ns),
	 * timeslices run on this CPU. */
	if (sscanf(buf, "%llu %llu %llu", &a, &b, &n) != 3)
		return -EINVAL;
	c->exec_ns = a;
	c->run_delay_ns = b;
	c->timeslices = n;
	err = vs_path(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid,
		      (int)tid);
	if (!err && !vs_read_str(path, buf, sizeof(buf))) {
		p = strstr(buf, "\nvoluntary_ctxt_switches:");
		if (p)
			c->vol_cs = strtoull(p + 25, NULL, 10);
		p = strstr(buf, "\nnonvoluntary_ctxt_switches:");
		if (p)
			c->invol_cs = strtoull(p + 28, NULL, 10);
	}
	/* stat field 39 is the CPU last run on; comm (field 2) may contain
	 * spaces, so count from the closing parenthesis. */
	err = vs_path(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
		      (int)tid);
	if (!err && !vs_read_str(path, buf, sizeof(buf))) {
		int field = 2;

		p = strrchr(buf, ')');
		while (p && *p && field < 39) {
			p = strchr(p + 1, ' ');
			if (!p)
				break;
			field++;
		}
		if (p && field == 39)
			c->cpu = atoi(p + 1);
	}
	return 0;
}

int vs_thread_syscall_state(pid_t pid, pid_t tid)
{
	char path[512], buf[256];
	long nr;
	int err;

	err = vs_path(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid,
		      (int)tid);
	if (!err)
		err = vs_read_str(path, buf, sizeof(buf));
	if (err)
		return err;
	if (!strncmp(buf, "running", 7))
		return 0;
	nr = strtol(buf, NULL, 10);
	/* A thread preempted in user mode reports -1: it was working. */
	if (nr < 0)
		return 0;
#ifdef SYS_nanosleep
	if (nr == SYS_nanosleep)
		return 1;
#endif
	if (nr == SYS_clock_nanosleep)
		return 1;
	return 2;
}

void vs_measure_pick_threads(const struct vs_vm *vm,
			     const struct vs_thread **prod,
			     const struct vs_thread **cons)
{
	*prod = vs_vm_thread(vm, VS_ROLE_PRODUCER);
	if (!*prod)
		*prod = vs_vm_thread(vm, VS_ROLE_VCPU);
	*cons = vs_vm_thread(vm, VS_ROLE_CONSUMER);
	if (!*cons)
		*cons = vs_vm_thread(vm, VS_ROLE_VHOST);
	if (!*cons)
		*cons = vs_vm_thread(vm, VS_ROLE_IOTHREAD);
}

/* Counters of the device with the time they were published (the file's
 * mtime: it is rewritten every 100 ms, so our own clock would be off by up
 * to that much at either end of a short window). */
static int devstats_snap(const char *path, struct vs_devstats *st, double *t_ns)
{
	struct timespec mono, real;
	struct stat sb;
	int err;

	err = vs_stat_rooted(path, &sb);
	if (err)
		return err;
	err = vs_devstats_read(path, st);
	if (err)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	/* Convert the mtime (realtime) to the monotonic clock. */
	*t_ns = mono.tv_sec * 1e9 + mono.tv_nsec -
		((real.tv_sec - sb.st_mtim.tv_sec) * 1e9 +
		 (real.tv_nsec - sb.st_mtim.tv_nsec));
	return 0;
}

static int proc_stat_busy(uint64_t *busy, uint64_t *total, unsigned int *ncpu)
{
	char path[512], line[512];
	unsigned long long v[10] = { 0 };
	FILE *f;
	int n = 0;

	*ncpu = 0;
	if (vs_path(path, sizeof(path), "/proc/stat"))
		return -ENAMETOOLONG;
	f = vs_fopen_rooted(path);
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "cpu ", 4))
			n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu",
				   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
				   &v[7]);
		else if (!strncmp(line, "cpu", 3))
			(*ncpu)++;
	}
	fclose(f);
	if (n < 5)
		return -EINVAL;
	/* idle + iowait are not busy. */
	*total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	*busy = *total - v[3] - v[4];
	return 0;
}

/* Packets through the VM's taps (both directions): a NIC queue's items. */
static int tap_packets(const struct vs_vm *vm, uint64_t *total)
{
	unsigned int i;
	int found = 0;

	*total = 0;
	for (i = 0; i < vm->n_taps; i++) {
		const char *dir[] = { "rx_packets", "tx_packets" };
		unsigned int j;

		for (j = 0; j < 2; j++) {
			char path[512];
			uint64_t v;

			if (vs_path(path, sizeof(path), "/sys/class/net/%s/statistics/%s",
				    vm->taps[i], dir[j]) || vs_read_u64(path, &v))
				continue;
			*total += v;
			found++;
		}
	}
	return found ? 0 : -ENOENT;
}

struct thread_track {
	const struct vs_thread *t;
	struct vs_thread_counters a, b;
	bool ok_a, ok_b;
	unsigned int n, running, sleeping, waiting;
	unsigned int n_cpus;
	struct vs_cpu_count cpus[8];	/* stat's CPU at each 50 ms look */
	uint64_t cpu_looks;
};

static void track_sample(pid_t pid, struct thread_track *tr)
{
	int st;

	if (!tr->t || !tr->ok_a)
		return;
	st = vs_thread_syscall_state(pid, tr->t->tid);
	if (st < 0)
		return;
	tr->n++;
	if (st == 0)
		tr->running++;
	else if (st == 1)
		tr->sleeping++;
	else
		tr->waiting++;
}

static void track_finish(struct thread_track *tr, double dur_ns,
			 struct vs_thread_sample *ts)
{
	double s = dur_ns / 1e9;

	memset(ts, 0, sizeof(*ts));
	ts->cpu = ts->waits_per_s = ts->run_delay_ns = ts->runq = NAN;
	ts->wakeups_per_s = ts->wake_lat_ns = ts->sleeps_per_s = NAN;
	ts->frac_running = ts->frac_sleep = ts->frac_wait = NAN;
	ts->last_cpu = -1;
	if (!tr->t)
		return;
	ts->tid = tr->t->tid;
	ts->role = tr->t->role;
	snprintf(ts->comm, sizeof(ts->comm), "%s", tr->t->comm);
	if (!tr->ok_a || !tr->ok_b || s <= 0)
		return;
	ts->present = true;
	ts->cpu = (double)(tr->b.exec_ns - tr->a.exec_ns) / dur_ns;
	ts->waits_per_s = (double)(tr->b.vol_cs - tr->a.vol_cs) / s;
	ts->preempts_per_s = (double)(tr->b.invol_cs - tr->a.invol_cs) / s;
	ts->runq = (double)(tr->b.run_delay_ns - tr->a.run_delay_ns) / dur_ns;
	if (tr->b.timeslices > tr->a.timeslices)
		ts->run_delay_ns = (double)(tr->b.run_delay_ns - tr->a.run_delay_ns) /
				   (double)(tr->b.timeslices - tr->a.timeslices);
	else
		ts->run_delay_ns = 0;
	ts->n_samples = tr->n;
	if (tr->n) {
		ts->frac_running = (double)tr->running / tr->n;
		ts->frac_sleep = (double)tr->sleeping / tr->n;
		ts->frac_wait = (double)tr->waiting / tr->n;
	}
	ts->last_cpu = tr->b.cpu;
	vs_cpu_count_sort(tr->cpus, tr->n_cpus);
	memcpy(ts->ran_on, tr->cpus, sizeof(ts->ran_on));
	ts->n_ran_on = tr->n_cpus;
	ts->ran_on_total = tr->cpu_looks;
	snprintf(ts->ran_on_from, sizeof(ts->ran_on_from), "stat every 50 ms");
}

/* Read both threads' end counters; false when a thread has gone (the
 * previous good values stay). */
static bool snap_threads(pid_t pid, struct thread_track *tr)
{
	struct vs_thread_counters c[2];
	bool ok[2] = { true, true };
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (tr[i].t && tr[i].ok_a)
			ok[i] = !vs_thread_counters_read(pid, tr[i].t->tid, &c[i]);
	if (!ok[0] || !ok[1])
		return false;
	for (i = 0; i < 2; i++) {
		if (tr[i].t && tr[i].ok_a) {
			tr[i].b = c[i];
			tr[i].ok_b = true;
			if (c[i].cpu >= 0) {
				vs_cpu_count_add(tr[i].cpus, 8, &tr[i].n_cpus, c[i].cpu, 1);
				tr[i].cpu_looks++;
			}
		}
	}
	return true;
}

int vs_measure(const struct vs_vm *vm, double duration_ns,
	       volatile sig_atomic_t *stop, struct vs_sample *s)
{
	const struct vs_thread *prod, *cons;

	vs_measure_pick_threads(vm, &prod, &cons);
	return vs_measure_pair(vm, prod, cons, duration_ns, stop, s);
}

int vs_measure_pair(const struct vs_vm *vm, const struct vs_thread *prod,
		    const struct vs_thread *cons, double duration_ns,
		    volatile sig_atomic_t *stop, struct vs_sample *s)
{
	struct vs_devstats st_a, st_b, st_cur;
	double t_a = 0, t_b = 0, t_cur, start, end, thr_a, thr_b;
	struct thread_track tr[2] = { 0 };
	uint64_t busy_a = 0, tot_a = 0, busy_b = 0, tot_b = 0;
	bool have_dev = false, dev_gone = false, have_stat, have_tap;
	uint64_t tap_a = 0, tap_b = 0;
	unsigned int i, tick = 0;

	memset(s, 0, sizeof(*s));
	s->items_per_s = s->kicks_per_s = s->irqs_per_s = NAN;
	s->other_busy_cpus = NAN;
	s->halts_per_s = s->halts_polled_per_s = NAN;
	tr[0].t = prod;
	tr[1].t = cons;

	have_stat = !proc_stat_busy(&busy_a, &tot_a, &s->ncpus);
	have_tap = !vm->has_stats && !tap_packets(vm, &tap_a);
	if (vm->has_stats && !devstats_snap(vm->stats_path, &st_a, &t_a))
		have_dev = true;
	for (i = 0; i < 2; i++)
		if (tr[i].t)
			tr[i].ok_a = !vs_thread_counters_read(vm->pid, tr[i].t->tid,
							      &tr[i].a);
	thr_a = thr_b = start = now_ns();
	st_b = st_a;
	t_b = t_a;
	end = start + duration_ns;
	while (!(stop && *stop)) {
		struct timespec ts = { 0, SAMPLE_PERIOD_NS };
		double now = now_ns();

		if (now >= end)
			break;
		if (end - now < SAMPLE_PERIOD_NS)
			ts.tv_nsec = (long)(end - now);
		nanosleep(&ts, NULL);
		track_sample(vm->pid, &tr[0]);
		track_sample(vm->pid, &tr[1]);
		/* The file changes every 100 ms: look every 50 ms, and keep
		 * the last good snapshot in case the device stops early. */
		if (++tick % 25)
			continue;
		/* Every 50 ms keep the latest good counters: a workload that
		 * ends inside the window still leaves a (shorter) sample. */
		if (have_dev && !dev_gone) {
			if (!devstats_snap(vm->stats_path, &st_cur, &t_cur)) {
				st_b = st_cur;
				t_b = t_cur;
			} else {
				dev_gone = true;
			}
		}
		if (snap_threads(vm->pid, tr))
			thr_b = now_ns();
		else
			break;	/* the threads are gone */
	}
	if (snap_threads(vm->pid, tr))
		thr_b = now_ns();
	if (have_dev && !dev_gone && !devstats_snap(vm->stats_path, &st_cur, &t_cur)) {
		st_b = st_cur;
		t_b = t_cur;
	}
	s->duration_ns = thr_b - thr_a;
	if (have_stat && !proc_stat_busy(&busy_b, &tot_b, &s->ncpus) && tot_b > tot_a)
		s->other_busy_cpus = (double)(busy_b - busy_a) / (double)(tot_b - tot_a) *
				     s->ncpus;

	/* A thread that exited mid-window has no end counters: the window is
	 * then too short to trust and the thread is reported absent. */
	track_finish(&tr[0], s->duration_ns, &s->prod);
	track_finish(&tr[1], s->duration_ns, &s->cons);
	if (isfinite(s->other_busy_cpus)) {
		if (s->prod.present)
			s->other_busy_cpus -= s->prod.cpu;
		if (s->cons.present)
			s->other_busy_cpus -= s->cons.cpu;
		if (s->other_busy_cpus < 0)
			s->other_busy_cpus = 0;
	}
	if (prod || cons)
		vs_sample_source(s, "schedstat", s->prod.present || s->cons.present,
				 "CPU time, waits and run delay of %s%s%s",
				 prod ? prod->comm : "", prod && cons ? " and " : "",
				 cons ? cons->comm : "");
	else
		vs_sample_source(s, "schedstat", false,
				 "no producer/consumer thread identified");
	vs_sample_source(s, "syscall-sampling", s->prod.n_samples || s->cons.n_samples,
			 "/proc/PID/task/TID/syscall every %ld ms: %u samples",
			 SAMPLE_PERIOD_NS / 1000000, s->prod.n_samples + s->cons.n_samples);

	if (have_dev && t_b > t_a) {
		double sec = (t_b - t_a) / 1e9;

		s->len = st_b.len;
		snprintf(s->backend, sizeof(s->backend), "%s", st_b.backend);
		if (st_b.have_items) {
			s->have_items = true;
			s->items_per_s = (double)(st_b.items_consumed - st_a.items_consumed) / sec;
		}
		if (st_b.have_kicks) {
			s->have_kicks = true;
			s->kicks_per_s = (double)(st_b.kicks - st_a.kicks) / sec;
		}
		if (st_b.have_interrupts) {
			s->have_irqs = true;
			s->irqs_per_s = (double)(st_b.interrupts - st_a.interrupts) / sec;
		}
		vs_sample_source(s, "device-counters", true,
				 "%s: items, kicks, interrupts over %s",
				 vm->stats_path, VS_TIME(sec * 1e9));
	} else if (have_tap && !tap_packets(vm, &tap_b) && thr_b > thr_a) {
		s->have_items = true;
		s->items_per_s = (double)(tap_b - tap_a) / ((thr_b - thr_a) / 1e9);
		vs_sample_source(s, "netdev-counters", true,
				 "packets through %s%s (items); kicks and interrupts need the probes",
				 vm->taps[0], vm->n_taps > 1 ? " and the other taps" : "");
	} else if (vm->has_stats) {
		vs_sample_source(s, "device-counters", false,
				 "%s: %s", vm->stats_path,
				 dev_gone ? "device stopped during the window"
					  : "counters did not advance");
	} else {
		vs_sample_source(s, "device-counters", false,
				 "not the reference device: no published counters");
	}
	if (!s->prod.present && !s->cons.present && !s->have_items)
		return -ENODATA;
	return 0;
}

void vs_guest_rates(const struct vs_guest_counters *a,
		    const struct vs_guest_counters *b, double seconds,
		    struct vs_guest_rates *r)
{
	unsigned int i, j;

	memset(r, 0, sizeof(*r));
	if (seconds <= 0)
		return;
	for (i = 0; i < b->n_vqs && r->n_vqs < VS_MAX_VQS; i++) {
		uint64_t before = 0;

		for (j = 0; j < a->n_vqs; j++)
			if (a->vqs[j].irq == b->vqs[i].irq)
				before = a->vqs[j].count;
		snprintf(r->vqs[r->n_vqs].name, sizeof(r->vqs[0].name), "%s",
			 b->vqs[i].name);
		r->vqs[r->n_vqs].per_s = (double)(b->vqs[i].count - before) / seconds;
		r->n_vqs++;
	}
	r->have_disk = a->have_disk && b->have_disk;
	r->have_net = a->have_net && b->have_net;
	if (r->have_disk)
		r->disk_ios_per_s = (double)(b->disk_ios - a->disk_ios) / seconds;
	if (r->have_net)
		r->net_packets_per_s = (double)(b->net_packets - a->net_packets) / seconds;
}

/* Median of a log2 histogram (slot s >= 1 holds [2^(s-1), 2^s) ns),
 * interpolated inside the slot; NaN when empty. */
static double hist_median(const struct vs_hist *h)
{
	uint64_t total = 0, seen = 0;
	unsigned int i;

	for (i = 0; i < VS_HIST_SLOTS; i++)
		total += h->slot[i];
	if (!total)
		return NAN;
	for (i = 0; i < VS_HIST_SLOTS; i++) {
		double lo, hi;

		if (seen + h->slot[i] < (total + 1) / 2) {
			seen += h->slot[i];
			continue;
		}
		if (i == 0)
			return 0;
		lo = ldexp(1, (int)i - 1);
		hi = ldexp(1, (int)i);
		return lo + (hi - lo) * ((double)((total + 1) / 2 - seen) / h->slot[i]);
	}
	return NAN;
}

_Static_assert(VS_WAIT_SLOTS == VS_HIST_SLOTS, "wait_slot mirrors struct vs_hist");

static void apply_thread_probe(struct vs_thread_sample *t,
			       const struct vs_probe_snapshot *snap, double sec)
{
	unsigned int i;

	if (!t->present)
		return;
	for (i = 0; i < snap->n_threads; i++) {
		const struct vs_counters *c = &snap->threads[i].c;

		if (snap->threads[i].tid != t->tid)
			continue;
		t->wakeups_per_s = c->ctr[VS_WAKEUP] / sec;
		t->sleeps_per_s = c->ctr[VS_SLEEP] / sec;
		/* The median, not the mean: on a shared machine a few wake-ups
		 * that waited milliseconds for a CPU dominate the mean. */
		t->wake_lat_ns = hist_median(&c->hist[VS_HIST_WAKEUP]);
		t->n_waits = vs_hist_total(&c->hist[VS_HIST_WAIT]);
		memcpy(t->wait_slot, c->hist[VS_HIST_WAIT].slot, sizeof(t->wait_slot));
		/* Every event, not a look every 50 ms: the better view. */
		if (snap->threads[i].n_on_cpu) {
			unsigned int k;

			t->n_ran_on = snap->threads[i].n_on_cpu;
			t->ran_on_total = 0;
			for (k = 0; k < t->n_ran_on; k++) {
				t->ran_on[k] = snap->threads[i].on_cpu[k];
				t->ran_on_total += t->ran_on[k].n;
			}
			snprintf(t->ran_on_from, sizeof(t->ran_on_from), "BPF events");
		}
		return;
	}
	/* Not seen at all: it never woke up (busy) during the window. */
	t->wakeups_per_s = t->sleeps_per_s = 0;
}

void vs_sample_apply_probe(struct vs_sample *s, const struct vs_vm *vm,
			   const struct vs_probe_snapshot *snap)
{
	const struct vs_counters *c = NULL;
	double sec = snap->elapsed_ns / 1e9;
	unsigned int i;

	if (sec <= 0)
		return;
	for (i = 0; i < snap->n_vms; i++)
		if (snap->vms[i].pid == vm->pid)
			c = &snap->vms[i].c;
	if (!c || snap->backend != VS_PROBE_BPF) {
		vs_sample_source(s, "bpf-probes", false, "%s",
				 snap->backend != VS_PROBE_BPF ?
				 "BPF refused: perf counts are host-wide, not per VM" :
				 "the VM is not among the probes' targets");
		return;
	}
	if (vm->kvm) {
		double kicks = (double)(c->ctr[VS_KICK_PIO] + c->ctr[VS_KICK_MMIO] +
					c->ctr[VS_KICK_FAST_MMIO]);
		double irqs = (double)(c->ctr[VS_IRQ_MSI] + c->ctr[VS_IRQ_SET]);

		/* The device's own counters are exact: keep them. */
		if (!s->have_kicks) {
			s->have_kicks = s->kicks_from_probes = true;
			s->kicks_per_s = kicks / sec;
		}
		if (!s->have_irqs) {
			s->have_irqs = s->irqs_from_probes = true;
			s->irqs_per_s = irqs / sec;
		}
		s->halts_per_s = (c->ctr[VS_HALT_POLLED] + c->ctr[VS_HALT_WAITED]) / sec;
		s->halts_polled_per_s = c->ctr[VS_HALT_POLLED] / sec;
		s->vm_kvm = true;
		s->have_kick_exit = !vs_exitcost_kick(snap, vm->pid, &s->kick_exit_ns,
						      s->kick_exit_from,
						      sizeof(s->kick_exit_from));
		if (!s->have_kick_exit)
			snprintf(s->kick_exit_from, sizeof(s->kick_exit_from),
				 "%s", c->ctr[VS_EXIT] ? "no kick among the timed exits" :
				 "kvm_exit did not fire");
	}
	apply_thread_probe(&s->prod, snap, sec);
	apply_thread_probe(&s->cons, snap, sec);
	vs_sample_source(s, "bpf-probes", true,
			 "kvm:* and sched:* tracepoints over %s: %s%swake-up latency per thread",
			 VS_TIME(sec * 1e9), s->kicks_from_probes ? "kicks, " : "",
			 s->irqs_from_probes ? "interrupts, halts, " : "");
}
