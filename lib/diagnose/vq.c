// SPDX-License-Identifier: GPL-2.0-only
/* The diagnosis of a QEMU per virtqueue (vq.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose/vq.h"

#define QMP_TIMEOUT_MS 5000

struct vs_diag_vq *vs_diag_vq_open(const struct vs_vm *vm, struct vs_qmp *q)
{
	struct vs_diag_vq *v;
	int err = 0;

	if (vm->kind != VS_VM_QEMU)
		return NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->vm = vm;
	v->q = q;
	if (!q && vm->qmp_socket[0]) {
		v->q = vs_qmp_open(vm->qmp_socket, QMP_TIMEOUT_MS, &err);
		if (v->q && vs_qmp_peer_pid(v->q) != vm->pid) {
			vs_qmp_close(v->q);
			v->q = NULL;
			err = -ESRCH;
		}
		v->own_q = v->q != NULL;
		if (!v->q)
			snprintf(v->qmp_why, sizeof(v->qmp_why), "%.60s: %s", vm->qmp_socket,
				 err == -ESRCH ? "served by another process" : vs_qmp_strerror(err));
	} else if (!q) {
		snprintf(v->qmp_why, sizeof(v->qmp_why),
			 "no QMP socket on the command line and none given");
	}
	if (vs_vq_discover(v->q, vm, &v->set)) {
		vs_diag_vq_free(v);
		return NULL;
	}
	/* Without QMP no ring index is readable: per-queue items are
	 * unknown, so the VM stays one queue and its devices are listed. */
	v->per_queue = v->q != NULL;
	return v;
}

void vs_diag_vq_disconnect(struct vs_diag_vq *v)
{
	if (!v)
		return;
	if (v->own_q)
		vs_qmp_close(v->q);
	v->q = NULL;
	v->own_q = false;
}

void vs_diag_vq_free(struct vs_diag_vq *v)
{
	vs_diag_vq_disconnect(v);
	free(v);
}

void vs_diag_vq_measure(struct vs_diag_vq *v, double duration_ns,
			volatile sig_atomic_t *stop)
{
	v->err = vs_vq_measure_all(v->q, v->vm, duration_ns, stop, &v->set, v->dev_samples);
}

void vs_diag_vq_attribute(struct vs_diag_vq *v, const struct vs_probe_snapshot *snap,
			  const char *probe_why)
{
	unsigned int i;

	for (i = 0; snap && i < v->set.n_devs; i++)
		vs_sample_apply_probe(&v->dev_samples[i], v->vm, snap);
	vs_vq_attribute(&v->set, v->vm, snap);
	for (i = 0; i < v->set.n_devs; i++) {
		if (probe_why && probe_why[0])
			vs_sample_source(&v->dev_samples[i], "bpf-probes", false, "%s",
					 probe_why);
		if (v->qmp_why[0])
			vs_sample_source(&v->dev_samples[i], "qmp", false, "%s", v->qmp_why);
	}
}

unsigned int vs_diag_vq_split(struct vs_diag_queue *queues, unsigned int n,
			      unsigned int cap)
{
	struct vs_diag_queue *out = calloc(cap, sizeof(*out));
	unsigned int i, j, k, m = 0;

	if (!out)
		return n;
	for (i = 0; i < n && m < cap; i++) {
		const struct vs_diag_queue *q = &queues[i];
		struct vs_diag_vq *v = q->vq;

		if (!v || !v->per_queue || q->err) {
			out[m++] = *q;
			continue;
		}
		for (j = 0; j < v->set.n_devs; j++) {
			for (k = 0; k < v->set.devs[j].n_vqs && m < cap; k++) {
				struct vs_diag_queue *e = &out[m++];

				e->vm = q->vm;
				e->vq = v;
				e->dev = &v->set.devs[j];
				e->ring = &v->set.devs[j].vqs[k];
				vs_vq_fill_sample(&v->set, e->dev, e->ring, &v->dev_samples[j],
						  &e->sample);
			}
		}
	}
	memcpy(queues, out, cap * sizeof(*out));
	free(out);
	return m;
}
