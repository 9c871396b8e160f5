// SPDX-License-Identifier: GPL-2.0-only
/* A window over a QEMU's virtqueues: QMP samples of their indices, the
 * vCPU threads' write() calls and CPU time, and the per-device thread
 * measurements that run alongside (see vqueue.h). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/sysfs.h"
#include "sources/measure.h"
#include "sources/qmp.h"
#include "sources/vqueue.h"
#include "sources/vqueue-impl.h"

#define SAMPLE_NS 100000000ull

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* write() calls (syscw) and CPU time of the vCPU threads. */
static void vcpu_counters(const struct vs_vm *vm, uint64_t *syscw, uint64_t *exec_ns,
			  bool *ok)
{
	unsigned int i;

	*syscw = *exec_ns = 0;
	*ok = false;
	for (i = 0; i < vm->n_threads; i++) {
		struct vs_thread_counters c;
		char path[512], buf[1024], *p;

		if (vm->threads[i].role != VS_ROLE_VCPU)
			continue;
		if (!vs_thread_counters_read(vm->pid, vm->threads[i].tid, &c))
			*exec_ns += c.exec_ns;
		if (vs_path(path, sizeof(path), "/proc/%d/task/%d/io", (int)vm->pid,
			    (int)vm->threads[i].tid) || vs_read_str(path, buf, sizeof(buf)))
			continue;
		p = strstr(buf, "syscw:");
		if (!p)
			continue;
		*syscw += strtoull(p + 6, NULL, 10);
		*ok = true;
	}
}

static int sample_queues(struct vs_qmp *q, struct vs_vqset *set, bool first)
{
	unsigned int i, j, got = 0;

	for (i = 0; i < set->n_devs; i++) {
		struct vs_vdev *d = &set->devs[i];

		if (!d->qom_path[0])
			continue;
		for (j = 0; j < d->n_vqs; j++) {
			struct vs_vq *v = &d->vqs[j];
			json_t *qs = vs_vq__queue_status(q, d->qom_path, j);
			uint16_t used, avail, sig;

			if (!qs)
				continue;
			used = (uint16_t)json_integer_value(json_object_get(qs, "used-idx"));
			avail = (uint16_t)json_integer_value(json_object_get(qs, "last-avail-idx"));
			sig = (uint16_t)json_integer_value(json_object_get(qs, "signalled-used"));
			if (!first && v->seen) {
				v->used += vs_vq_idx_delta(v->last_used, used);
				v->avail += vs_vq_idx_delta(v->last_avail, avail);
				v->signalled_advances += sig != v->last_signalled;
				v->inuse_sum += (double)json_integer_value(json_object_get(qs, "inuse"));
				v->n_samples++;
			}
			v->last_used = used;
			v->last_avail = avail;
			v->last_signalled = sig;
			v->seen = true;
			json_decref(qs);
			got++;
		}
	}
	return got ? 0 : -ENODATA;
}

int vs_vq_window_begin(struct vs_qmp *q, const struct vs_vm *vm, struct vs_vqset *set)
{
	unsigned int i, j;
	uint64_t t;
	bool ok;
	int err = 0;

	vcpu_counters(vm, &set->syscw0, &set->vcpu_exec0_ns, &ok);
	if (!ok)
		set->syscw0 = UINT64_MAX;
	set->n_samples = 0;
	/* One set measures window after window (virtsync watch): each window
	 * counts from its own first sample. */
	for (i = 0; i < set->n_devs; i++)
		for (j = 0; j < set->devs[i].n_vqs; j++) {
			struct vs_vq *v = &set->devs[i].vqs[j];

			v->used = v->avail = v->signalled_advances = 0;
			v->inuse_sum = 0;
			v->n_samples = 0;
		}
	t = mono_ns();
	if (q)
		err = sample_queues(q, set, true);
	/* a sample is stamped half-way through its QMP round trips */
	set->t0_ns = set->tlast_ns = t + (mono_ns() - t) / 2;
	return err;
}

int vs_vq_window_sample(struct vs_qmp *q, struct vs_vqset *set)
{
	uint64_t t = mono_ns();
	int err;

	if (!q)
		return 0;
	err = sample_queues(q, set, false);
	if (!err)
		set->n_samples++;
	set->tlast_ns = t + (mono_ns() - t) / 2;
	return err;
}

int vs_vq_window_end(struct vs_qmp *q, const struct vs_vm *vm, struct vs_vqset *set)
{
	uint64_t syscw, exec_ns, items = 0;
	unsigned int i, j;
	bool ok;
	int err = vs_vq_window_sample(q, set);

	vcpu_counters(vm, &syscw, &exec_ns, &ok);
	/* rates over what the samples span; without QMP, the whole window */
	set->secs = (double)((q ? set->tlast_ns : mono_ns()) - set->t0_ns) / 1e9;
	if (ok && set->syscw0 != UINT64_MAX && set->secs > 0)
		set->vcpu_writes_per_s = (double)(syscw - set->syscw0) / set->secs;
	for (i = 0; i < set->n_devs; i++) {
		for (j = 0; j < set->devs[i].n_vqs; j++) {
			struct vs_vq *v = &set->devs[i].vqs[j];

			if (!q || !v->n_samples) {
				vs_vq__figure_none(&v->items, q ? "QMP gave no queue status" :
					    "no QMP socket: QEMU's ring indices are not readable");
				continue;
			}
			v->items.per_s = (double)v->used / set->secs;
			snprintf(v->items.source, sizeof(v->items.source), "qmp used-idx");
			snprintf(v->items.note, sizeof(v->items.note),
				 "%u samples of x-query-virtio-queue-status", v->n_samples);
			v->avail_per_s = (double)v->avail / set->secs;
			v->inflight = v->inuse_sum / v->n_samples;
			v->active = v->used > 0;
			items += v->used;
		}
	}
	if (items && exec_ns >= set->vcpu_exec0_ns)
		set->vcpu_cpu_per_item_ns = (double)(exec_ns - set->vcpu_exec0_ns) / (double)items;
	return q ? err : 0;
}

int vs_vq_measure(struct vs_qmp *q, const struct vs_vm *vm, double duration_ns,
		  volatile sig_atomic_t *stop, struct vs_vqset *set)
{
	uint64_t end;
	int err = vs_vq_window_begin(q, vm, set);

	if (err)
		return err;
	end = set->t0_ns + (uint64_t)duration_ns;
	for (;;) {
		uint64_t now = mono_ns(), left = end > now ? end - now : 0;
		struct timespec ts;

		if (!left || (stop && *stop))
			break;
		if (left > SAMPLE_NS)
			left = SAMPLE_NS;
		ts.tv_sec = (time_t)(left / 1000000000ull);
		ts.tv_nsec = (long)(left % 1000000000ull);
		nanosleep(&ts, NULL);
		if (end > mono_ns() + SAMPLE_NS / 10)
			vs_vq_window_sample(q, set);
	}
	return vs_vq_window_end(q, vm, set);
}

struct dev_job {
	const struct vs_vm *vm;
	const struct vs_thread *prod, *cons;
	double duration_ns;
	volatile sig_atomic_t *stop;
	struct vs_sample *out;
	int err;
};

static void *dev_job_run(void *arg)
{
	struct dev_job *j = arg;

	j->err = vs_measure_pair(j->vm, j->prod, j->cons, j->duration_ns, j->stop, j->out);
	return NULL;
}

int vs_vq_measure_all(struct vs_qmp *q, const struct vs_vm *vm, double duration_ns,
		      volatile sig_atomic_t *stop, struct vs_vqset *set,
		      struct vs_sample *dev_samples)
{
	struct dev_job jobs[VS_VQ_MAX_DEVICES];
	pthread_t th[VS_VQ_MAX_DEVICES];
	bool started[VS_VQ_MAX_DEVICES] = { false };
	const struct vs_thread *vcpu = vs_vm_thread(vm, VS_ROLE_VCPU);
	unsigned int i;
	int err;

	for (i = 0; i < set->n_devs; i++) {
		jobs[i] = (struct dev_job){
			.vm = vm, .prod = vcpu, .duration_ns = duration_ns, .stop = stop,
			.out = &dev_samples[i],
			.cons = set->devs[i].cons_tid ?
				vs_vm_thread_by_tid(vm, set->devs[i].cons_tid) : NULL,
		};
		started[i] = !pthread_create(&th[i], NULL, dev_job_run, &jobs[i]);
		if (!started[i])
			dev_job_run(&jobs[i]);
	}
	err = vs_vq_measure(q, vm, duration_ns, stop, set);
	for (i = 0; i < set->n_devs; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	for (i = 0; !err && i < set->n_devs; i++)
		if (jobs[i].err)
			err = jobs[i].err;
	return err;
}
