// SPDX-License-Identifier: GPL-2.0-only
/* The closed tuning loop and its wake-up preset (lib/tune/loop.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tune/planfile.h"
#include "core/safefile.h"
#include "core/sysfs.h"
#include "core/units.h"
#include "tune/loop.h"

/*
 * The decision in one sentence. Its figures are after/before, "%.2fx" like
 * the before/after table's last column (lib/output/ratio.h), each naming
 * which way is better: "median latency 14.1x lower" once sat under a table
 * saying "0.07x latency" for the same run.
 */
bool vs_objective_improved(enum vs_goal goal, const struct vs_objective *b,
			   const struct vs_objective *a, double min_gain,
			   double dmax_ns, double *gain, char *why, size_t len)
{
	char t[2][VS_FMT_LEN];
	double r, rc;

	*gain = 0;
	if (dmax_ns > 0 && isfinite(a->p98_ns) && a->p98_ns > dmax_ns) {
		snprintf(why, len, "p98 latency %s is above dmax %s",
			 vs_format_time(a->p98_ns, t[0], sizeof(t[0])),
			 vs_format_time(dmax_ns, t[1], sizeof(t[1])));
		return false;
	}
	if (goal == VS_GOAL_LATENCY) {
		if (!(b->latency_ns > 0) || !(a->latency_ns > 0)) {
			snprintf(why, len, "no latency measured");
			return false;
		}
		r = a->latency_ns / b->latency_ns;
		*gain = 1 / r - 1;
		if (*gain >= min_gain) {
			snprintf(why, len, "median latency %.2fx (lower is better)", r);
			return true;
		}
		snprintf(why, len, "median latency %.2fx (lower is better), above the %.2fx "
			 "a %.0f%% gain needs", r, 1 / (1 + min_gain), min_gain * 100);
		return false;
	}
	if (!(b->throughput > 0) || !(a->throughput > 0)) {
		snprintf(why, len, "no throughput measured");
		return false;
	}
	r = a->throughput / b->throughput;
	*gain = r - 1;
	if (*gain >= min_gain) {
		snprintf(why, len, "throughput %.2fx (higher is better)", r);
		return true;
	}
	if (!(b->cpu_ns_per_item > 0) || !(a->cpu_ns_per_item > 0)) {
		snprintf(why, len, "throughput %.2fx (higher is better), below the %.2fx "
			 "required", r, 1 + min_gain);
		return false;
	}
	rc = a->cpu_ns_per_item / b->cpu_ns_per_item;
	if (r >= 1 && rc <= 1 - min_gain) {
		*gain = 1 / rc - 1;
		snprintf(why, len, "throughput %.2fx (higher is better), CPU per item %.2fx "
			 "(lower is better)", r, rc);
		return true;
	}
	snprintf(why, len, "throughput %.2fx (higher is better), CPU per item %.2fx (lower "
		 "is better): neither by the %.0f%% required", r, rc, min_gain * 100);
	return false;
}

void vs_tune_outcome_free(struct vs_tune_outcome *out)
{
	json_decref(out->raw_before);
	json_decref(out->raw_after);
	vs_profile_free(out->plan);
	free(out->changes);
	memset(out, 0, sizeof(*out));
}

static bool stopped(const volatile sig_atomic_t *stop)
{
	return stop && *stop;
}

int vs_tune_loop(const struct vs_tune_workload *w, void *ctx,
		 const struct vs_tune_loop_opts *lo, struct vs_tune_outcome *out,
		 char *err, size_t errlen)
{
	const volatile sig_atomic_t *stop = lo->stop;
	struct vs_journal *j = NULL;
	struct vs_apply_result ar;
	char source[96];
	int lockfd = -1, holder, e;
	size_t i, restored, failed;

	memset(out, 0, sizeof(*out));
	e = w->measure(ctx, stop, &out->before, &out->raw_before);
	if (e == -EINTR || (!e && stopped(stop))) {
		out->interrupted = true;
		snprintf(out->why, sizeof(out->why),
			 "interrupted while measuring, before any change");
		return 0;
	}
	if (e) {
		snprintf(err, errlen, "measuring %s: %s", w->name, strerror(-e));
		return e;
	}
	e = w->propose(ctx, stop, &out->before, &out->plan, out->why, sizeof(out->why));
	/* a diagnosis cut short is no plan to apply */
	if (stopped(stop)) {
		out->interrupted = true;
		snprintf(out->why, sizeof(out->why),
			 "interrupted while deciding what to change, before any change");
		return 0;
	}
	if (e) {
		snprintf(err, errlen, "%s", out->why);
		return e;
	}
	if (!out->plan || !out->plan->nsteps)
		return 0;
	e = vs_apply_resolve(out->plan, NULL, 0, &out->changes, &out->nchanges, err, errlen);
	if (e)
		return e;
	for (i = 0; i < out->nchanges; i++)
		if (!out->changes[i].same && !out->changes[i].skip)
			break;
	if (i == out->nchanges) {
		snprintf(out->why, sizeof(out->why), "every knob of the plan is already set");
		return 0;
	}
	e = vs_apply_lock(&lockfd, &holder);
	if (e) {
		if (e == -EWOULDBLOCK)
			snprintf(err, errlen,
				 "another virtsync apply/rollback/tune (pid %d) holds /run/virtsync/lock",
				 holder);
		else
			snprintf(err, errlen, "cannot take /run/virtsync/lock: %s", strerror(-e));
		return e;
	}
	e = vs_journal_load(&j);
	if (e) {
		snprintf(err, errlen, "cannot read the journal: %s", strerror(-e));
		goto out;
	}
	/* the last moment a stop costs no rollback */
	if (stopped(stop)) {
		out->interrupted = true;
		snprintf(out->why, sizeof(out->why), "interrupted before applying the plan");
		goto out;
	}
	snprintf(source, sizeof(source), "tune --auto --workload %s", w->name);
	e = vs_apply_changes(j, source, out->changes, out->nchanges, &ar, err, errlen);
	if (e)
		goto out;
	out->applied = true;
	out->journal_first = ar.first;
	e = w->measure(ctx, stop, &out->after, &out->raw_after);
	if (e == -EINTR) {
		/* never decided: not kept (vs_tune_loop in loop.h) */
		out->interrupted = true;
		snprintf(out->why, sizeof(out->why),
			 "interrupted while measuring after the change, before the decision");
	} else if (!e && vs_objective_improved(w->goal, &out->before, &out->after,
					       lo->min_gain, lo->dmax_ns, &out->gain,
					       out->why, sizeof(out->why))) {
		out->kept = true;
		goto out;
	} else if (e) {
		snprintf(out->why, sizeof(out->why), "measuring after the change failed: %s",
			 strerror(-e));
	}
	/* not better, or not decided: put back exactly what this run changed */
	if (vs_apply_rollback(j, ar.first, NULL, NULL, &restored, &failed)) {
		snprintf(err, errlen, "rolling back failed for %zu knobs; run 'virtsync rollback'",
			 failed);
		e = -EIO;
		goto out;
	}
	e = 0;
out:
	vs_journal_free(j);
	vs_apply_unlock(lockfd);
	return e;
}

/* --- wake-up preset --------------------------------------------------- */

static int wakeup_measure(void *ctx, const volatile sig_atomic_t *stop,
			  struct vs_objective *o, json_t **raw)
{
	struct vs_wakeup_ctx *c = ctx;
	struct vs_wakeup_result r[16];
	double med[16], p98[16], cpu[16], idle = NAN, steal = NAN, t;
	unsigned long long idle_t = 0, steal_t = 0, total_t = 0;
	unsigned int n = c->repeats ? c->repeats : 3, i, k;
	json_t *arr = json_array();
	bool cut = false;
	int e;

	if (n > 16)
		n = 16;
	for (i = 0; i < n; i++) {
		json_t *b;

		/* a stop ends the batch under way (it counts when it measured
		 * a round trip); the medians are of the batches done */
		if (stopped(stop)) {
			cut = true;
			n = i;
			break;
		}
		b = json_object();
		c->opts.stop = stop;
		e = vs_wakeup_measure(&c->opts, &r[i]);
		c->opts.stop = NULL;
		if (e == -EINTR) {
			cut = true;
			n = r[i].rounds ? i + 1 : i;
			e = 0;
			if (!r[i].rounds) {
				json_decref(b);
				break;
			}
		}
		if (e) {
			json_decref(b);
			json_decref(arr);
			return e;
		}
		med[i] = r[i].median_ns;
		p98[i] = r[i].p98_ns;
		cpu[i] = r[i].cpu_ns_per_rt;
		idle_t += r[i].idle_ticks;
		steal_t += r[i].steal_ticks;
		total_t += r[i].total_ticks;
		json_object_set_new(b, "rounds", json_integer(r[i].rounds));
		json_object_set_new(b, "median_ns", json_real(r[i].median_ns));
		json_object_set_new(b, "p98_ns", json_real(r[i].p98_ns));
		json_object_set_new(b, "mean_ns", json_real(r[i].mean_ns));
		json_object_set_new(b, "min_ns", json_real(r[i].min_ns));
		json_object_set_new(b, "max_ns", json_real(r[i].max_ns));
		json_object_set_new(b, "cpu_ns_per_round_trip", json_real(r[i].cpu_ns_per_rt));
		json_object_set_new(b, "cpu_idle_fraction", isfinite(r[i].idle_frac) ?
				    json_real(r[i].idle_frac) : json_null());
		json_object_set_new(b, "cpu_steal_fraction", isfinite(r[i].steal_frac) ?
				    json_real(r[i].steal_frac) : json_null());
		if (cut)
			json_object_set_new(b, "cut_short", json_true());
		json_array_append_new(arr, b);
		if (cut)
			break;
	}
	if (!n) {
		json_decref(arr);
		o->latency_ns = o->p98_ns = o->cpu_ns_per_item = o->throughput = NAN;
		o->idle_frac = o->steal_frac = NAN;
		if (raw)
			*raw = NULL;
		return -EINTR;
	}
	/* median of the batch medians: one batch disturbed by a neighbour
	 * on this shared machine does not decide */
	for (i = 1; i < n; i++)
		for (k = i; k > 0 && med[k - 1] > med[k]; k--) {
			t = med[k]; med[k] = med[k - 1]; med[k - 1] = t;
		}
	for (i = 1; i < n; i++)
		for (k = i; k > 0 && p98[k - 1] > p98[k]; k--) {
			t = p98[k]; p98[k] = p98[k - 1]; p98[k - 1] = t;
		}
	for (i = 1; i < n; i++)
		for (k = i; k > 0 && cpu[k - 1] > cpu[k]; k--) {
			t = cpu[k]; cpu[k] = cpu[k - 1]; cpu[k - 1] = t;
		}
	if (total_t) {
		idle = (double)idle_t / total_t;
		steal = (double)steal_t / total_t;
	}
	o->latency_ns = med[n / 2];
	o->p98_ns = p98[n / 2];
	o->cpu_ns_per_item = cpu[n / 2];
	o->throughput = 1e9 / med[n / 2];
	o->idle_frac = idle;
	o->steal_frac = steal;
	if (raw) {
		json_t *doc = json_object();

		json_object_set_new(doc, "workload", json_string("wakeup"));
		json_object_set_new(doc, "cpu_ping", json_integer(c->opts.cpu_ping));
		json_object_set_new(doc, "cpu_pong", json_integer(c->opts.cpu_pong));
		json_object_set_new(doc, "median_ns", json_real(o->latency_ns));
		json_object_set_new(doc, "p98_ns", json_real(o->p98_ns));
		json_object_set_new(doc, "cpu_ns_per_round_trip", json_real(o->cpu_ns_per_item));
		json_object_set_new(doc, "cpu_idle_fraction",
				    isfinite(idle) ? json_real(idle) : json_null());
		json_object_set_new(doc, "cpu_steal_fraction",
				    isfinite(steal) ? json_real(steal) : json_null());
		json_object_set_new(doc, "batches", arr);
		*raw = doc;
	} else {
		json_decref(arr);
	}
	return cut ? -EINTR : 0;
}

uint64_t vs_wakeup_poll_window(double median_ns, uint64_t grow_start,
			       double dmax_ns)
{
	double cap = 1e6, w = 4 * median_ns;

	/* The waiting side idles for about one round trip less its own
	 * work; 4x the median covers the slow half of the distribution too.
	 * Below grow_start the governor would jump past it anyway; above
	 * 1 ms (or dmax) polling burns more CPU than any wake-up costs. */
	if (dmax_ns > 0 && dmax_ns < cap)
		cap = dmax_ns;
	if (w < grow_start)
		w = grow_start;
	if (w > cap)
		w = cap;
	return (uint64_t)(ceil(w / 10000) * 10000);
}

static int wakeup_propose(void *ctx, const volatile sig_atomic_t *stop,
			  const struct vs_objective *before,
			  struct vs_profile **planp, char *why, size_t len)
{
	struct vs_wakeup_ctx *c = ctx;
	struct vs_profile *plan = vs_profile_new("latency", "tune --auto --workload wakeup");
	char path[512], buf[64];
	struct vs_step st;
	uint64_t cur = 0, grow_start = 50000, win;
	int e;

	(void)stop;	/* reads a few sysfs files: nothing long to cut */
	*planp = NULL;
	if (!plan)
		return -ENOMEM;
	if (c->dmax_ns > 0)
		plan->dmax_ns = c->dmax_ns;
	vs_path(path, sizeof(path), "/sys/devices/system/cpu/cpuidle/current_driver");
	if (!vs_read_str(path, buf, sizeof(buf)) && !strcmp(buf, "haltpoll")) {
		vs_path(path, sizeof(path), "/sys/module/haltpoll/parameters/guest_halt_poll_ns");
		e = vs_read_u64(path, &cur);
		if (e) {
			snprintf(why, len, "cannot read %s: %s", path, strerror(-e));
			vs_profile_free(plan);
			return e;
		}
		vs_path(path, sizeof(path),
			"/sys/module/haltpoll/parameters/guest_halt_poll_grow_start");
		vs_read_u64(path, &grow_start);
		win = vs_wakeup_poll_window(before->latency_ns, grow_start, c->dmax_ns);
		if (cur >= win) {
			snprintf(why, len,
				 "guest.halt_poll_ns is %llu, already covering the %s round trip",
				 (unsigned long long)cur, VS_TIME(before->latency_ns));
			*planp = plan;
			return 0;
		}
		memset(&st, 0, sizeof(st));
		st.knob = vs_knob_find("guest.halt_poll_ns");
		snprintf(st.value, sizeof(st.value), "%llu", (unsigned long long)win);
		snprintf(st.why, sizeof(st.why),
			 "idle vCPUs poll %s (4x the %s round trip) before HLT",
			 VS_TIME((double)win), VS_TIME(before->latency_ns));
		e = vs_profile_add_step(plan, &st);
		if (e) {
			vs_profile_free(plan);
			return e;
		}
		snprintf(why, len, "in a KVM guest with cpuidle-haltpoll: poll before halting");
		*planp = plan;
		return 0;
	}
	/* bare metal or another idle driver: keep the two CPUs out of every
	 * idle state deeper than POLL (state0) */
	{
		unsigned int s;
		int cpus[2] = { c->opts.cpu_ping, c->opts.cpu_pong }, i;

		for (i = 0; i < 2; i++) {
			if (cpus[i] < 0)
				continue;
			for (s = 1; s < 16; s++) {
				vs_path(path, sizeof(path),
					"/sys/devices/system/cpu/cpu%d/cpuidle/state%u/disable",
					cpus[i], s);
				if (vs_access_rooted(path, F_OK))
					break;
				memset(&st, 0, sizeof(st));
				st.knob = vs_knob_find("cpuidle.state_disable");
				snprintf(st.sel[VS_SEL_CPUS], sizeof(st.sel[0]), "%d", cpus[i]);
				snprintf(st.sel[VS_SEL_STATE], sizeof(st.sel[0]), "%u", s);
				snprintf(st.value, sizeof(st.value), "1");
				snprintf(st.why, sizeof(st.why), "no deep idle on the ping-pong CPUs");
				e = vs_profile_add_step(plan, &st);
				if (e) {
					vs_profile_free(plan);
					return e;
				}
			}
		}
	}
	snprintf(why, len, plan->nsteps ?
		 "no cpuidle-haltpoll: keep the ping-pong CPUs out of deep idle states" :
		 "no knob for wake-up latency on this host (no haltpoll, no deep idle states)");
	*planp = plan;
	return 0;
}

const struct vs_tune_workload vs_workload_wakeup = {
	.name = "wakeup",
	.goal = VS_GOAL_LATENCY,
	.measure = wakeup_measure,
	.propose = wakeup_propose,
};
