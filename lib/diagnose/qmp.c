// SPDX-License-Identifier: GPL-2.0-only
/* QEMU's thread map and KVM statistics in a diagnosis (qmp.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sysfs.h"
#include "diagnose/qmp.h"
#include "sources/qmpstat.h"

#define QMP_TIMEOUT_MS 5000

struct vs_diag_qmp_conn {
	char socket[108];
	struct vs_qmp *q;
	pid_t pid;
	struct vs_qmp_sample a, b;
	int begin_err;		/* of the window's first sample */
	int named;
};

int vs_diag_qmp_connect(const char *socket, struct vs_diag_qmp_conn **out, pid_t *pid)
{
	struct vs_diag_qmp_conn *c = calloc(1, sizeof(*c));
	int err, p;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	snprintf(c->socket, sizeof(c->socket), "%s", socket);
	c->q = vs_qmp_open(socket, QMP_TIMEOUT_MS, &err);
	if (!c->q) {
		free(c);
		return err;
	}
	p = vs_qmp_peer_pid(c->q);
	if (p < 0) {
		vs_diag_qmp_disconnect(c);
		return p;
	}
	c->pid = *pid = p;
	*out = c;
	return 0;
}

void vs_diag_qmp_disconnect(struct vs_diag_qmp_conn *c)
{
	if (!c)
		return;
	vs_qmp_close(c->q);
	vs_qmp_sample_free(&c->a);
	vs_qmp_sample_free(&c->b);
	free(c);
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

int vs_diag_qmp_roles(struct vs_diag_qmp_conn *c, struct vs_vm *vm)
{
	struct vs_qmp_vcpu *v = NULL;
	struct vs_qmp_iothread *io = NULL;
	int nv, ni, i;

	c->named = 0;
	nv = vs_qmp_vcpus(c->q, &v);
	for (i = 0; i < nv; i++) {
		struct vs_thread *t = thread_of(vm, v[i].thread_id);

		if (!t)
			continue;
		t->role = VS_ROLE_VCPU;
		t->vcpu_index = v[i].cpu_index;
		c->named++;
	}
	ni = vs_qmp_iothreads(c->q, &io);
	for (i = 0; i < ni; i++) {
		struct vs_thread *t = thread_of(vm, io[i].thread_id);

		if (!t)
			continue;
		t->role = VS_ROLE_IOTHREAD;
		c->named++;
	}
	/* QEMU told us which threads run vCPUs: no guessing left */
	if (nv > 0)
		vm->vcpu_threads_unknown = false;
	free(v);
	free(io);
	return vs_qmp_broken(c->q) ?: c->named;
}

void vs_diag_qmp_begin(struct vs_diag_qmp_conn *c)
{
	vs_qmp_sample_free(&c->a);
	vs_qmp_sample_free(&c->b);
	c->begin_err = vs_qmp_sample_read(c->q, &c->a);
}

void vs_diag_qmp_free(struct vs_diag_qmp *q)
{
	if (!q)
		return;
	free(q->rows);
	free(q->iothreads);
	q->rows = NULL;
	q->iothreads = NULL;
	q->n_rows = q->n_iothreads = 0;
}

/* QEMU's iothreads as of the window's end (its start, if the end failed). */
static int copy_iothreads(struct vs_diag_qmp *q, const struct vs_qmp_sample *s)
{
	if (s->n_iothreads <= 0)
		return 0;
	q->iothreads = calloc((size_t)s->n_iothreads, sizeof(*q->iothreads));
	if (!q->iothreads)
		return -ENOMEM;
	memcpy(q->iothreads, s->iothreads, (size_t)s->n_iothreads * sizeof(*q->iothreads));
	q->n_iothreads = s->n_iothreads;
	return 0;
}

int vs_diag_qmp_end(struct vs_diag_qmp_conn *c, struct vs_diag_qmp *q)
{
	int err, n;

	vs_diag_qmp_free(q);
	snprintf(q->socket, sizeof(q->socket), "%s", c->socket);
	q->pid = c->pid;
	q->named = c->named;
	if (c->begin_err)
		return q->err = c->begin_err;
	err = vs_qmp_sample_read(c->q, &c->b);
	if (err) {
		copy_iothreads(q, &c->a);
		return q->err = err;
	}
	n = vs_qmp_sample_rows(&c->a, &c->b, &q->rows);
	if (n < 0) {
		q->rows = NULL;
		q->err = n;
	} else {
		q->n_rows = n;
		q->err = 0;
	}
	if (copy_iothreads(q, &c->b) && !q->err)
		q->err = -ENOMEM;
	return q->err;
}

void vs_diag_qmp_totals(const struct vs_diag_qmp *q, struct vs_diag_qmp_totals *t)
{
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; q && i < q->n_rows; i++) {
		t->exits_per_s += q->rows[i].exits_per_s;
		t->polls_ok += q->rows[i].polls_ok;
		t->polls_fail += q->rows[i].polls_fail;
		t->poll_ns += q->rows[i].poll_ok_ns + q->rows[i].poll_fail_ns;
		t->wait_ns += q->rows[i].wait_ns;
	}
}

void vs_diag_qmp_source(const struct vs_diag_qmp *q, struct vs_sample *s)
{
	struct vs_diag_qmp_totals t;

	if (q->err || !q->n_rows) {
		vs_sample_source(s, "qmp", false, "QEMU pid %d at %.40s: %s", (int)q->pid,
				 q->socket, q->err == -ENOTSUP ?
				 "no KVM query-stats (QEMU before 7.1, or TCG)" :
				 q->err ? vs_qmp_strerror(q->err) : "no vCPU in both samples");
		return;
	}
	vs_diag_qmp_totals(q, &t);
	vs_sample_source(s, "qmp", true,
			 "query-stats of %d vCPUs: %.0f exits/s, halt polls %llu ok / %llu failed, "
			 "%d threads named", q->n_rows, t.exits_per_s,
			 (unsigned long long)t.polls_ok, (unsigned long long)t.polls_fail,
			 q->named);
}

struct vs_qmp *vs_diag_qmp_session(struct vs_diag_qmp_conn *c)
{
	return c ? c->q : NULL;
}
