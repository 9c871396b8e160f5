// SPDX-License-Identifier: GPL-2.0-only
/* diagnose --qmp: QEMU's own thread map and KVM statistics (diagnose-qmp.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "diagnose-qmp.h"
#include "sources/qmpstat.h"
#include "core/sysfs.h"
#include "core/units.h"

#define QMP_TIMEOUT_MS 5000

struct diag_qmp {
	char socket[108];
	struct vs_qmp *q;
	pid_t pid;
	struct vs_qmp_sample a, b;
	bool have_a, have_b;
	int err;			/* of the window, 0 when it worked */
	struct vs_qmp_vcpu_row *rows;
	int n_rows;
	int named;			/* threads whose role QMP gave */
};

struct diag_qmp *diag_qmp_open(const char *socket, pid_t *pid, int *err)
{
	struct diag_qmp *d = calloc(1, sizeof(*d));
	int p;

	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(d->socket, sizeof(d->socket), "%s", socket);
	d->q = vs_qmp_open(socket, QMP_TIMEOUT_MS, err);
	if (!d->q) {
		free(d);
		return NULL;
	}
	p = vs_qmp_peer_pid(d->q);
	if (p < 0) {
		*err = p;
		diag_qmp_close(d);
		return NULL;
	}
	d->pid = *pid = p;
	return d;
}

void diag_qmp_close(struct diag_qmp *d)
{
	if (!d)
		return;
	vs_qmp_close(d->q);
	vs_qmp_sample_free(&d->a);
	vs_qmp_sample_free(&d->b);
	free(d->rows);
	free(d);
}

/* The thread in vm's list, added when discovery passed it over (QEMU's
 * vCPU threads are anonymous without -name ...,debug-threads=on). NULL
 * when it is not a thread of the VM's process or the list is full. */
static struct vs_thread *thread_of(struct vs_vm *vm, int tid)
{
	char path[512], comm[32];
	struct vs_thread *t;
	unsigned int i;

	for (i = 0; i < vm->n_threads; i++)
		if (vm->threads[i].tid == tid)
			return &vm->threads[i];
	if (tid <= 0 || vm->n_threads >= VS_MAX_THREADS ||
	    vs_path(path, sizeof(path), "/proc/%d/task/%d/comm", (int)vm->pid, tid) ||
	    vs_read_str(path, comm, sizeof(comm)))
		return NULL;
	t = &vm->threads[vm->n_threads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->vcpu_index = -1;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
	return t;
}

int diag_qmp_roles(struct diag_qmp *d, struct vs_vm *vm)
{
	struct vs_qmp_vcpu *v = NULL;
	struct vs_qmp_iothread *io = NULL;
	int nv, ni, i;

	d->named = 0;
	nv = vs_qmp_vcpus(d->q, &v);
	for (i = 0; i < nv; i++) {
		struct vs_thread *t = thread_of(vm, v[i].thread_id);

		if (!t)
			continue;
		t->role = VS_ROLE_VCPU;
		t->vcpu_index = v[i].cpu_index;
		d->named++;
	}
	ni = vs_qmp_iothreads(d->q, &io);
	for (i = 0; i < ni; i++) {
		struct vs_thread *t = thread_of(vm, io[i].thread_id);

		if (!t)
			continue;
		t->role = VS_ROLE_IOTHREAD;
		d->named++;
	}
	/* QEMU told us which threads run vCPUs: no guessing left */
	if (nv > 0)
		vm->vcpu_threads_unknown = false;
	free(v);
	free(io);
	return d->named;
}

int diag_qmp_begin(struct diag_qmp *d)
{
	d->err = vs_qmp_sample_read(d->q, &d->a);
	d->have_a = !d->err;
	return d->err;
}

int diag_qmp_end(struct diag_qmp *d)
{
	if (!d->have_a)
		return d->err;
	d->err = vs_qmp_sample_read(d->q, &d->b);
	d->have_b = !d->err;
	if (d->err)
		return d->err;
	d->n_rows = vs_qmp_sample_rows(&d->a, &d->b, &d->rows);
	if (d->n_rows < 0) {
		d->err = d->n_rows;
		d->n_rows = 0;
	}
	return d->err;
}

/* Totals over all vCPUs. */
struct totals {
	double exits_per_s;
	uint64_t polls_ok, polls_fail, poll_ns, wait_ns;
	double secs;
};

static void totals(const struct diag_qmp *d, struct totals *t)
{
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < d->n_rows; i++) {
		t->exits_per_s += d->rows[i].exits_per_s;
		t->polls_ok += d->rows[i].polls_ok;
		t->polls_fail += d->rows[i].polls_fail;
		t->poll_ns += d->rows[i].poll_ok_ns + d->rows[i].poll_fail_ns;
		t->wait_ns += d->rows[i].wait_ns;
		t->secs = d->rows[i].secs;
	}
}

void diag_qmp_source(const struct diag_qmp *d, struct vs_sample *s)
{
	struct totals t;

	if (d->err || !d->n_rows) {
		vs_sample_source(s, "qmp", false, "QEMU pid %d at %.40s: %s", (int)d->pid,
				 d->socket, d->err == -ENOTSUP ?
				 "no KVM query-stats (QEMU before 7.1, or TCG)" :
				 d->err ? strerror(-d->err) : "no vCPU in both samples");
		return;
	}
	totals(d, &t);
	vs_sample_source(s, "qmp", true,
			 "query-stats of %d vCPUs: %.0f exits/s, halt polls %llu ok / %llu failed, "
			 "%d threads named", d->n_rows, t.exits_per_s,
			 (unsigned long long)t.polls_ok, (unsigned long long)t.polls_fail,
			 d->named);
}

json_t *diag_qmp_json(const struct diag_qmp *d)
{
	json_t *o = json_object(), *arr = json_array();
	struct totals t;
	int i;

	json_object_set_new(o, "socket", json_string(d->socket));
	json_object_set_new(o, "pid", json_integer(d->pid));
	json_object_set_new(o, "threads_named", json_integer(d->named));
	json_object_set_new(o, "error", d->err ? json_string(strerror(-d->err)) : json_null());
	for (i = 0; i < d->n_rows; i++) {
		const struct vs_qmp_vcpu_row *r = &d->rows[i];
		json_t *v = json_object();

		json_object_set_new(v, "cpu_index", json_integer(r->cpu_index));
		json_object_set_new(v, "thread_id", json_integer(r->thread_id));
		json_object_set_new(v, "exits_per_s", vs_json_num(r->exits_per_s));
		json_object_set_new(v, "halt_exits_per_s", vs_json_num(r->halt_exits_per_s));
		json_object_set_new(v, "halt_polls_succeeded", json_integer(r->polls_ok));
		json_object_set_new(v, "halt_polls_failed", json_integer(r->polls_fail));
		json_object_set_new(v, "halt_poll_success_pct", vs_json_num(r->poll_ok_pct));
		json_object_set_new(v, "halt_poll_success_ns", json_integer(r->poll_ok_ns));
		json_object_set_new(v, "halt_poll_fail_ns", json_integer(r->poll_fail_ns));
		json_object_set_new(v, "halt_wait_ns", json_integer(r->wait_ns));
		json_object_set_new(v, "halt_wait_p50_ns_at_most",
				    vs_json_num(r->wait_hist_fits ?
						vs_qmp_hist_quantile(r->wait_hist, 0.5) : NAN));
		json_object_set_new(v, "halt_wait_hist_fits_total", json_boolean(r->wait_hist_fits));
		json_object_set_new(v, "halt_wait_hist", vs_qmp_hist_json(r->wait_hist));
		json_object_set_new(v, "halt_poll_success_hist", vs_qmp_hist_json(r->poll_ok_hist));
		json_object_set_new(v, "halt_poll_fail_hist", vs_qmp_hist_json(r->poll_fail_hist));
		json_array_append_new(arr, v);
	}
	json_object_set_new(o, "vcpus", arr);
	totals(d, &t);
	json_object_set_new(o, "halt_poll_success_pct", t.polls_ok + t.polls_fail ?
			    vs_json_num(100.0 * t.polls_ok / (t.polls_ok + t.polls_fail)) :
			    json_null());
	arr = json_array();
	for (i = 0; d->have_b && i < d->b.n_iothreads; i++) {
		json_t *io = json_object();

		json_object_set_new(io, "id", json_string(d->b.iothreads[i].id));
		json_object_set_new(io, "thread_id", json_integer(d->b.iothreads[i].thread_id));
		json_object_set_new(io, "poll_max_ns", json_integer(d->b.iothreads[i].poll_max_ns));
		json_array_append_new(arr, io);
	}
	json_object_set_new(o, "iothreads", arr);
	return o;
}

void diag_qmp_print(const struct diag_qmp *d)
{
	struct totals t;
	int i;

	printf("\nQEMU's own statistics (QMP query-stats, pid %d):\n", (int)d->pid);
	if (d->err || !d->n_rows) {
		printf("  not available: %s\n", d->err ? strerror(-d->err) : "no vCPU rows");
		return;
	}
	totals(d, &t);
	for (i = 0; i < d->n_rows; i++) {
		const struct vs_qmp_vcpu_row *r = &d->rows[i];
		double p50 = r->wait_hist_fits ? vs_qmp_hist_quantile(r->wait_hist, 0.5) : NAN;
		char pct[16], wait[48] = "", med[32];

		if (isfinite(p50))
			snprintf(wait, sizeof(wait), " (median wait <= %s)",
				 vs_format_time(p50, med, sizeof(med)));
		if (isnan(r->poll_ok_pct))
			snprintf(pct, sizeof(pct), "-");
		else
			snprintf(pct, sizeof(pct), "%.0f%%", r->poll_ok_pct);
		printf("  vCPU %d (tid %d): %.0f exits/s, halt polls %llu ok %llu failed (%s),\n"
		       "    polling %.1f ms, waiting %.1f ms%s in %.2f s\n", r->cpu_index,
		       r->thread_id, r->exits_per_s, (unsigned long long)r->polls_ok,
		       (unsigned long long)r->polls_fail, pct,
		       (r->poll_ok_ns + r->poll_fail_ns) / 1e6, r->wait_ns / 1e6, wait, r->secs);
	}
	for (i = 0; d->have_b && i < d->b.n_iothreads; i++)
		printf("  iothread %.40s (tid %d): poll-max-ns %lld\n", d->b.iothreads[i].id,
		       d->b.iothreads[i].thread_id, (long long)d->b.iothreads[i].poll_max_ns);
}

const struct vs_qmp_iothread *diag_qmp_iothreads(const struct diag_qmp *d, int *n)
{
	const struct vs_qmp_sample *s = d->have_b ? &d->b : &d->a;

	*n = d->have_b || d->have_a ? s->n_iothreads : 0;
	return *n > 0 ? s->iothreads : NULL;
}
