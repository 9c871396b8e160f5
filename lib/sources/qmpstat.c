// SPDX-License-Identifier: GPL-2.0-only
/* Per-vCPU rates from QMP query-stats (lib/sources/qmpstat.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sources/qmpstat.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void vs_qmp_sample_free(struct vs_qmp_sample *s)
{
	if (!s)
		return;
	free(s->vcpus);
	free(s->stats);
	free(s->iothreads);
	memset(s, 0, sizeof(*s));
}

int vs_qmp_sample_read(struct vs_qmp *q, struct vs_qmp_sample *s)
{
	int n;

	memset(s, 0, sizeof(*s));
	n = vs_qmp_vcpus(q, &s->vcpus);
	if (n < 0)
		return n;
	s->n_vcpus = n;
	/* the stats right after the thread list: the two describe one moment */
	n = vs_qmp_vcpu_stats(q, &s->stats);
	s->time_ns = mono_ns();
	if (n < 0) {
		vs_qmp_sample_free(s);
		return n;
	}
	s->n_stats = n;
	n = vs_qmp_iothreads(q, &s->iothreads);
	/* no iothreads is normal; an old QEMU without the command too */
	s->n_iothreads = n > 0 ? n : 0;
	return 0;
}

static const struct vs_qmp_vcpu_stats *stats_of(const struct vs_qmp_sample *s,
						const char *qom_path)
{
	int i;

	for (i = 0; i < s->n_stats; i++)
		if (!strcmp(s->stats[i].qom_path, qom_path))
			return &s->stats[i];
	return NULL;
}

static const struct vs_qmp_vcpu *vcpu_by_index(const struct vs_qmp_sample *s, int idx)
{
	int i;

	for (i = 0; i < s->n_vcpus; i++)
		if (s->vcpus[i].cpu_index == idx)
			return &s->vcpus[i];
	return NULL;
}

/* Counters only grow; a smaller value means the vCPU was re-created. */
static uint64_t delta(uint64_t now, uint64_t prev)
{
	return now >= prev ? now - prev : now;
}

static int cmp_row(const void *a, const void *b)
{
	const struct vs_qmp_vcpu_row *x = a, *y = b;

	return (x->cpu_index > y->cpu_index) - (x->cpu_index < y->cpu_index);
}

/* Row counts from a to b (a zeroed: the totals), the rates over secs. */
static void fill_row(struct vs_qmp_vcpu_row *row, const struct vs_qmp_vcpu_stats *a,
		     const struct vs_qmp_vcpu_stats *b, double secs)
{
	uint64_t attempted;
	int k;

	row->secs = secs;
	row->exits = delta(b->exits, a->exits);
	row->halt_exits = delta(b->halt_exits, a->halt_exits);
	row->io_exits = delta(b->io_exits, a->io_exits);
	row->polls_ok = delta(b->halt_successful_poll, a->halt_successful_poll);
	attempted = delta(b->halt_attempted_poll, a->halt_attempted_poll);
	row->polls_fail = attempted > row->polls_ok ? attempted - row->polls_ok : 0;
	row->poll_ok_pct = attempted ? 100.0 * row->polls_ok / attempted : NAN;
	row->poll_ok_ns = delta(b->halt_poll_success_ns, a->halt_poll_success_ns);
	row->poll_fail_ns = delta(b->halt_poll_fail_ns, a->halt_poll_fail_ns);
	row->wait_ns = delta(b->halt_wait_ns, a->halt_wait_ns);
	row->exits_per_s = row->exits / secs;
	row->halt_exits_per_s = row->halt_exits / secs;
	row->wait_share = row->wait_ns / (secs * 1e9);
	for (k = 0; k < VS_QMP_HIST_BUCKETS; k++) {
		row->wait_hist[k] = delta(b->halt_wait_hist[k], a->halt_wait_hist[k]);
		row->poll_ok_hist[k] = delta(b->halt_poll_success_hist[k],
					     a->halt_poll_success_hist[k]);
		row->poll_fail_hist[k] = delta(b->halt_poll_fail_hist[k],
					       a->halt_poll_fail_hist[k]);
	}
	row->wait_hist_fits = vs_qmp_hist_fits(row->wait_hist, row->wait_ns);
}

int vs_qmp_sample_rows(const struct vs_qmp_sample *prev,
		       const struct vs_qmp_sample *now,
		       struct vs_qmp_vcpu_row **rows)
{
	double secs = (double)(now->time_ns - prev->time_ns) / 1e9;
	struct vs_qmp_vcpu_row *r;
	int i, n = 0;

	*rows = NULL;
	if (secs <= 0)
		return -EINVAL;
	r = calloc(now->n_vcpus ? now->n_vcpus : 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < now->n_vcpus; i++) {
		const struct vs_qmp_vcpu *v = &now->vcpus[i], *pv;
		const struct vs_qmp_vcpu_stats *a, *b;

		pv = vcpu_by_index(prev, v->cpu_index);
		b = stats_of(now, v->qom_path);
		a = pv ? stats_of(prev, pv->qom_path) : NULL;
		if (!a || !b)
			continue;
		r[n].cpu_index = v->cpu_index;
		r[n].thread_id = v->thread_id;
		fill_row(&r[n++], a, b, secs);
	}
	qsort(r, n, sizeof(*r), cmp_row);
	*rows = r;
	return n;
}

int vs_qmp_sample_totals(const struct vs_qmp_sample *prev,
			 const struct vs_qmp_sample *now,
			 struct vs_qmp_vcpu_row **rows)
{
	static const struct vs_qmp_vcpu_stats zero;
	int n = vs_qmp_sample_rows(prev, now, rows), i;

	for (i = 0; i < n; i++) {
		struct vs_qmp_vcpu_row *row = &(*rows)[i], win = *row;
		const struct vs_qmp_vcpu *v = vcpu_by_index(now, row->cpu_index);

		/* the row exists: its vCPU and stats are in now */
		fill_row(row, &zero, stats_of(now, v->qom_path), win.secs);
		row->exits_per_s = win.exits_per_s;
		row->halt_exits_per_s = win.halt_exits_per_s;
		row->wait_share = win.wait_share;
	}
	return n;
}

double vs_qmp_hist_quantile(const uint64_t *hist, double q)
{
	uint64_t total = 0, seen = 0;
	int i;

	for (i = 0; i < VS_QMP_HIST_BUCKETS; i++)
		total += hist[i];
	if (!total)
		return NAN;
	for (i = 0; i < VS_QMP_HIST_BUCKETS; i++) {
		seen += hist[i];
		if (seen > 0 && (double)seen >= q * (double)total)
			break;
	}
	return ldexp(1.0, i < VS_QMP_HIST_BUCKETS ? i : VS_QMP_HIST_BUCKETS - 1);
}

json_t *vs_qmp_hist_json(const uint64_t *hist)
{
	json_t *o = json_object(), *b = json_array();
	int i;

	if (!o || !b) {
		json_decref(o);
		json_decref(b);
		return NULL;
	}
	json_object_set_new(o, "unit", json_string("nsecs"));
	for (i = 0; i < VS_QMP_HIST_BUCKETS; i++) {
		json_t *e;

		if (!hist[i])
			continue;
		e = json_object();
		json_object_set_new(e, "low", json_integer(i ? 1LL << (i - 1) : 0));
		/* KVM's last bucket also holds everything longer */
		json_object_set_new(e, "high", i < VS_QMP_HIST_BUCKETS - 1 ?
				    json_integer(1LL << i) : json_null());
		json_object_set_new(e, "count", json_integer((json_int_t)hist[i]));
		json_array_append_new(b, e);
	}
	json_object_set_new(o, "buckets", b);
	return o;
}

bool vs_qmp_hist_fits(const uint64_t *hist, uint64_t sum_ns)
{
	double lo = 0, hi = 0;
	int i;

	for (i = 0; i < VS_QMP_HIST_BUCKETS; i++) {
		if (!hist[i])
			continue;	/* 0 x INFINITY would be NaN */
		/* bucket i: [2^(i-1), 2^i) ns; bucket 0 holds 0; the last one
		 * also holds everything longer */
		lo += (double)hist[i] * (i ? ldexp(1.0, i - 1) : 0);
		hi += (double)hist[i] * (i == VS_QMP_HIST_BUCKETS - 1 ? INFINITY : ldexp(1.0, i));
	}
	return (double)sum_ns >= lo && (double)sum_ns <= hi;
}
