// SPDX-License-Identifier: GPL-2.0-only
/* Virtio devices and queues of a QEMU process, and a window over them
 * (see vqueue.h). */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/sysfs.h"
#include "sources/measure.h"
#include "sources/probe.h"
#include "sources/qmp.h"
#include "sources/vqueue.h"

#define SAMPLE_NS 100000000ull

const char *vs_vq_consumer_name(enum vs_vq_consumer c)
{
	switch (c) {
	case VS_VQ_CONS_IOTHREAD: return "iothread";
	case VS_VQ_CONS_MAIN_LOOP: return "main-loop";
	case VS_VQ_CONS_VHOST: return "vhost";
	default: return "unknown";
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void figure_none(struct vs_vq_figure *f, const char *why)
{
	f->per_s = NAN;
	f->source[0] = '\0';
	snprintf(f->note, sizeof(f->note), "%s", why);
}

/* virtio-net: rx/tx pairs, then the control queue when the count is odd. */
static void name_queues(struct vs_vdev *d)
{
	unsigned int i;

	for (i = 0; i < d->n_vqs; i++) {
		struct vs_vq *v = &d->vqs[i];
		const char *r = "vq";

		v->index = i;
		if (!strcmp(d->type, "virtio-blk"))
			r = "req";
		else if (!strcmp(d->type, "virtio-net"))
			r = (d->n_vqs % 2 && i == d->n_vqs - 1) ? "ctrl" : i % 2 ? "tx" : "rx";
		snprintf(v->role, sizeof(v->role), "%s", r);
		figure_none(&v->items, "not measured");
		figure_none(&v->kicks, "not measured");
		figure_none(&v->irqs, "not measured");
		v->inflight = v->avail_per_s = NAN;
	}
}

/* The consumer thread of a device from the VM's threads. */
static void pick_consumer(struct vs_vdev *d, const struct vs_vm *vm)
{
	const struct vs_thread *t = NULL;
	unsigned int i;

	if (d->vhost) {
		d->cons_kind = VS_VQ_CONS_VHOST;
		t = vs_vm_thread(vm, VS_ROLE_VHOST);
	} else if (d->iothread[0]) {
		char want[40];

		d->cons_kind = VS_VQ_CONS_IOTHREAD;
		/* QEMU names an iothread's thread "IO <id>" (debug-threads) */
		snprintf(want, sizeof(want), "IO %.36s", d->iothread);
		for (i = 0; !t && i < vm->n_threads; i++)
			if (!strncmp(vm->threads[i].comm, want, 15))
				t = &vm->threads[i];
	} else {
		d->cons_kind = VS_VQ_CONS_MAIN_LOOP;
		t = vs_vm_thread(vm, VS_ROLE_MAIN_LOOP);
	}
	d->cons_tid = t ? t->tid : 0;
	snprintf(d->cons_comm, sizeof(d->cons_comm), "%s", t ? t->comm : "");
}

static unsigned int n_vcpus(const struct vs_vm *vm)
{
	unsigned int i, n = 0;

	for (i = 0; i < vm->n_threads; i++)
		n += vm->threads[i].role == VS_ROLE_VCPU;
	return n ? n : vm->n_vcpu_fds ? vm->n_vcpu_fds : 1;
}

/* -device DRIVER,... -> the virtio type, or NULL. */
static const char *virtio_type(const char *driver)
{
	if (!strncmp(driver, "virtio-blk", 10))
		return "virtio-blk";
	if (!strncmp(driver, "virtio-net", 10))
		return "virtio-net";
	if (!strncmp(driver, "virtio-", 7))
		return "virtio";
	return NULL;
}

/* The -netdev with this id: its vhost= and queues= options. */
static void netdev_opts(const char *args, size_t len, const char *id,
			bool *vhost, unsigned int *queues)
{
	const char *a;
	char v[64];

	for (a = args; a < args + len; a += strlen(a) + 1) {
		const char *opt = a + strlen(a) + 1;

		if (strcmp(a, "-netdev") || opt >= args + len)
			continue;
		if (!vs_qemu_opt(opt, "id", v, sizeof(v)) || strcmp(v, id))
			continue;
		*vhost = vs_qemu_opt(opt, "vhost", v, sizeof(v)) &&
			 (!strcmp(v, "on") || !strcmp(v, "true"));
		if (vs_qemu_opt(opt, "queues", v, sizeof(v)) && atoi(v) > 0)
			*queues = (unsigned int)atoi(v);
	}
}

static int discover_cmdline(const struct vs_vm *vm, struct vs_vqset *set)
{
	char *args = NULL, drv[64], v[64];
	const char *a;
	size_t len = 0;
	int err;

	err = vs_read_cmdline(vm->pid, &args, &len);
	if (err)
		return err;
	for (a = args; a < args + len && set->n_devs < VS_VQ_MAX_DEVICES;
	     a += strlen(a) + 1) {
		const char *opt = a + strlen(a) + 1, *type;
		struct vs_vdev *d;
		unsigned int n;

		if (strcmp(a, "-device") || opt >= args + len ||
		    !vs_qemu_opt(opt, "", drv, sizeof(drv)) || !(type = virtio_type(drv)))
			continue;
		d = &set->devs[set->n_devs++];
		memset(d, 0, sizeof(*d));
		snprintf(d->type, sizeof(d->type), "%s", type);
		if (!vs_qemu_opt(opt, "id", d->id, sizeof(d->id)))
			snprintf(d->id, sizeof(d->id), "%.40s#%u", drv, set->n_devs - 1);
		vs_qemu_opt(opt, "iothread", d->iothread, sizeof(d->iothread));
		d->queues_assumed = true;
		snprintf(d->notify_from, sizeof(d->notify_from),
			 "no QMP socket: query-pci not asked");
		/* QEMU's defaults: virtio-blk-pci has one queue per vCPU
		 * (since 5.2), virtio-net one rx/tx pair per netdev queue and
		 * a control queue. */
		if (!strcmp(type, "virtio-blk")) {
			n = vs_qemu_opt(opt, "num-queues", v, sizeof(v)) && atoi(v) > 0 ?
			    (unsigned int)atoi(v) : n_vcpus(vm);
			if (vs_qemu_opt(opt, "num-queues", v, sizeof(v)))
				d->queues_assumed = false;
		} else if (!strcmp(type, "virtio-net")) {
			unsigned int q = 1;

			if (vs_qemu_opt(opt, "netdev", v, sizeof(v)))
				netdev_opts(args, len, v, &d->vhost, &q);
			n = 2 * q + 1;
		} else {
			n = 1;
		}
		d->n_vqs = n < VS_VQ_MAX_QUEUES ? n : VS_VQ_MAX_QUEUES;
		name_queues(d);
		pick_consumer(d, vm);
	}
	free(args);
	snprintf(set->from, sizeof(set->from), "command line (/proc/PID/cmdline)");
	return set->n_devs ? 0 : -ENOENT;
}

static json_t *queue_status(struct vs_qmp *q, const char *path, unsigned int i)
{
	json_t *ret = NULL;

	if (vs_qmp_execute(q, "x-query-virtio-queue-status",
			   json_pack("{s:s, s:i}", "path", path, "queue", (int)i), &ret))
		return NULL;
	return ret;
}

static int discover_qmp(struct vs_qmp *q, const struct vs_vm *vm, struct vs_vqset *set)
{
	json_t *list = NULL, *e;
	size_t k;
	int err;

	err = vs_qmp_execute(q, "x-query-virtio", NULL, &list);
	if (err)
		return err;
	json_array_foreach(list, k, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *path = json_string_value(json_object_get(e, "path"));
		json_t *st = NULL, *io = NULL;
		struct vs_vdev *d;
		const char *tail, *p;
		char parent[128];
		unsigned int i;

		if (!name || !path || set->n_devs >= VS_VQ_MAX_DEVICES)
			continue;
		d = &set->devs[set->n_devs++];
		memset(d, 0, sizeof(*d));
		snprintf(d->type, sizeof(d->type), "%s", name);
		snprintf(d->qom_path, sizeof(d->qom_path), "%s", path);
		/* "/machine/peripheral/blk0/virtio-backend": the id is blk0 */
		snprintf(parent, sizeof(parent), "%s", path);
		p = strrchr(parent, '/');
		if (p && !strcmp(p, "/virtio-backend"))
			parent[p - parent] = '\0';
		tail = strrchr(parent, '/');
		snprintf(d->id, sizeof(d->id), "%.47s", tail ? tail + 1 : parent);
		if (!vs_qmp_execute(q, "x-query-virtio-status",
				    json_pack("{s:s}", "path", path), &st)) {
			d->n_vqs = (unsigned int)json_integer_value(json_object_get(st, "num-vqs"));
			d->vhost = json_is_true(json_object_get(st, "vhost-started"));
			json_decref(st);
		}
		if (d->n_vqs > VS_VQ_MAX_QUEUES)
			d->n_vqs = VS_VQ_MAX_QUEUES;
		/* the iothread link of the device ("/objects/io1"), if any */
		if (!vs_qmp_execute(q, "qom-get", json_pack("{s:s, s:s}", "path", path,
							     "property", "iothread"), &io)) {
			const char *l = json_string_value(io);
			const char *slash = l ? strrchr(l, '/') : NULL;

			if (slash && slash[1])
				snprintf(d->iothread, sizeof(d->iothread), "%s", slash + 1);
			json_decref(io);
		}
		name_queues(d);
		for (i = 0; i < d->n_vqs; i++) {
			json_t *qs = queue_status(q, path, i);

			if (qs) {
				d->vqs[i].size = (unsigned int)json_integer_value(
					json_object_get(qs, "vring-num"));
				json_decref(qs);
			}
		}
		pick_consumer(d, vm);
	}
	json_decref(list);
	snprintf(set->from, sizeof(set->from), "qmp x-query-virtio");
	return set->n_devs ? 0 : -ENOENT;
}

/* ---- kick addresses: QMP query-pci and QEMU's notify layout ------------ */

static json_t *qom_get(vs_vq_qmp_exec exec, void *ctx, const char *path, const char *prop)
{
	json_t *ret = NULL;

	if (exec(ctx, "qom-get", json_pack("{s:s, s:s}", "path", path, "property", prop), &ret))
		return NULL;
	return ret;
}

/* VIRTIO_F_VERSION_1 in what the guest negotiated: 1 modern, 0 legacy,
 * -1 not known (features not negotiated yet, or no status). */
static int guest_modern(vs_vq_qmp_exec exec, void *ctx, const char *path)
{
	json_t *st = NULL, *e;
	bool ok = false;
	int modern = 0;
	size_t i;

	if (exec(ctx, "x-query-virtio-status", json_pack("{s:s}", "path", path), &st))
		return -1;
	json_array_foreach(json_object_get(json_object_get(st, "status"), "statuses"), i, e) {
		const char *v = json_string_value(e);

		ok |= v && !strncmp(v, "VIRTIO_CONFIG_S_FEATURES_OK", 27);
	}
	json_array_foreach(json_object_get(json_object_get(st, "guest-features"), "transports"),
			   i, e) {
		const char *v = json_string_value(e);

		modern |= v && !strncmp(v, "VIRTIO_F_VERSION_1", 18);
	}
	json_decref(st);
	return ok ? modern : -1;
}

/* The offset of the proxy's notify region in its BAR: the addr of its
 * "virtio-pci-notify-<dev>[0]" memory region child (not the -pio- one). */
static uint64_t notify_offset(vs_vq_qmp_exec exec, void *ctx, const char *proxy)
{
	uint64_t off = VS_QEMU_NOTIFY_OFFSET;
	json_t *list = NULL, *e, *a;
	char path[192];
	size_t i;

	if (exec(ctx, "qom-list", json_pack("{s:s}", "path", proxy), &list))
		return off;
	json_array_foreach(list, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));

		if (!name || strncmp(name, "virtio-pci-notify-", 18) ||
		    !strncmp(name, "virtio-pci-notify-pio-", 22))
			continue;
		snprintf(path, sizeof(path), "%s/%s", proxy, name);
		a = qom_get(exec, ctx, path, "addr");
		if (json_is_integer(a))
			off = (uint64_t)json_integer_value(a);
		json_decref(a);
		break;
	}
	json_decref(list);
	return off;
}

int vs_vq_map_notify(vs_vq_qmp_exec exec, void *ctx, struct vs_vqset *set)
{
	json_t *pci = NULL;
	unsigned int i, mapped = 0;
	int err;

	memset(&set->notify, 0, sizeof(set->notify));
	err = exec(ctx, "query-pci", NULL, &pci);
	if (err) {
		for (i = 0; i < set->n_devs; i++)
			snprintf(set->devs[i].notify_from, sizeof(set->devs[i].notify_from),
				 "qmp query-pci failed");
		return err;
	}
	for (i = 0; i < set->n_devs; i++) {
		struct vs_vdev *d = &set->devs[i];
		struct vs_notify_pci_dev pd = {
			.devfn = -1, .n_queues = d->n_vqs, .modern = -1,
			.notify_offset = VS_QEMU_NOTIFY_OFFSET,
			.multiplier = VS_QEMU_NOTIFY_MULTIPLIER,
		};
		char proxy[128], desc[80];
		const char *slash;
		json_t *v;

		if (!d->qom_path[0]) {
			snprintf(d->notify_from, sizeof(d->notify_from), "no QOM path");
			continue;
		}
		/* the PCI proxy is the parent of ".../virtio-backend" */
		snprintf(proxy, sizeof(proxy), "%s", d->qom_path);
		slash = strrchr(proxy, '/');
		if (slash && !strcmp(slash, "/virtio-backend"))
			proxy[slash - proxy] = '\0';
		/* -device id= is query-pci's qdev_id; anonymous devices are
		 * matched by their devfn */
		if (!strncmp(proxy, "/machine/peripheral/", 20))
			pd.qdev_id = d->id;
		v = qom_get(exec, ctx, proxy, "addr");
		if (json_is_integer(v))
			pd.devfn = (int)json_integer_value(v);
		json_decref(v);
		v = qom_get(exec, ctx, proxy, "page-per-vq");
		if (json_is_true(v))
			pd.multiplier = VS_QEMU_PAGE_PER_VQ_MULTIPLIER;
		json_decref(v);
		v = qom_get(exec, ctx, proxy, "modern-pio-notify");
		pd.modern_pio = json_is_true(v);
		json_decref(v);
		pd.notify_offset = notify_offset(exec, ctx, proxy);
		pd.modern = guest_modern(exec, ctx, d->qom_path);
		err = vs_notify_add_query_pci(&set->notify, pci, i, &pd, desc, sizeof(desc));
		if (!err) {
			snprintf(d->notify_from, sizeof(d->notify_from), "qmp query-pci %s", desc);
			mapped++;
		} else {
			snprintf(d->notify_from, sizeof(d->notify_from), "%s",
				 err == -ENOENT ? "not found in qmp query-pci" :
				 err == -EINVAL ? "notify BAR not programmed by the guest yet" :
				 "address table full");
		}
	}
	json_decref(pci);
	return (int)mapped;
}

static int qmp_exec(void *ctx, const char *cmd, json_t *args, json_t **ret)
{
	return vs_qmp_execute(ctx, cmd, args, ret);
}

int vs_vq_discover(struct vs_qmp *q, const struct vs_vm *vm, struct vs_vqset *set)
{
	int err = -ENOENT;

	memset(set, 0, sizeof(*set));
	set->pid = vm->pid;
	set->vcpu_writes_per_s = set->vcpu_wake_ns = set->vcpu_cpu_per_item_ns = NAN;
	if (q) {
		err = discover_qmp(q, vm, set);
		if (!err) {
			/* kick addresses are a refinement: without them kicks
			 * stay per VM, as without QMP */
			vs_vq_map_notify(qmp_exec, q, set);
			return 0;
		}
		set->n_devs = 0;
	}
	return discover_cmdline(vm, set);
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
			json_t *qs = queue_status(q, d->qom_path, j);
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
				figure_none(&v->items, q ? "QMP gave no queue status" :
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

/* ---- attribution -------------------------------------------------------- */

/* A queue that may have moved items: active, or not measurable (no QMP). */
static bool candidate(const struct vs_vq *v)
{
	return v->active || !isfinite(v->items.per_s);
}

static bool is_vcpu(const struct vs_vm *vm, pid_t tid)
{
	const struct vs_thread *t = vs_vm_thread_by_tid(vm, tid);

	return t && t->role == VS_ROLE_VCPU;
}

/* Wake-ups of `cons` by the vCPU threads; of the vCPUs by QEMU's other
 * threads (count and summed latency). */
static void pair_counts(const struct vs_probe_snapshot *snap, const struct vs_vm *vm,
			pid_t cons, double *kick_wakes, double *irq_wakes,
			double *irq_wake_ns)
{
	unsigned int i;

	*kick_wakes = *irq_wakes = *irq_wake_ns = 0;
	for (i = 0; i < snap->n_pairs; i++) {
		const struct vs_probe_pair *p = &snap->pairs[i];

		if (p->wakee_tgid != vm->pid)
			continue;
		if (cons && p->wakee_tid == cons && p->waker_tgid == vm->pid &&
		    is_vcpu(vm, p->waker_tid))
			*kick_wakes += (double)p->count;
		if (is_vcpu(vm, p->wakee_tid) && p->waker_tgid == vm->pid &&
		    !is_vcpu(vm, p->waker_tid)) {
			*irq_wakes += (double)p->count;
			*irq_wake_ns += (double)p->sum_ns;
		}
	}
}

static void figure_set(struct vs_vq_figure *f, double per_s, const char *source,
		       const char *note)
{
	f->per_s = per_s;
	snprintf(f->source, sizeof(f->source), "%s", source);
	snprintf(f->note, sizeof(f->note), "%s", note);
}

void vs_vq_attribute(struct vs_vqset *set, const struct vs_vm *vm,
		     const struct vs_probe_snapshot *snap)
{
	const struct vs_probe_vm *pv = vs_probe_snapshot_vm(snap, vm->pid);
	double secs = snap && snap->elapsed_ns ? (double)snap->elapsed_ns / 1e9 : set->secs;
	double all_irq_wakes = 0, all_irq_ns = 0;
	unsigned int i, j, n_active = 0;
	bool irq_pairs_done = false, by_addr = false;
	static_assert(VS_VQ_MAX_DEVICES * VS_VQ_MAX_QUEUES <= 128, "addr_kicks");
	uint64_t addr_kicks[VS_VQ_MAX_DEVICES * VS_VQ_MAX_QUEUES];
	struct vs_notify_counts ac = {
		.per_dev = VS_VQ_MAX_QUEUES, .counts = addr_kicks,
		.n_counts = VS_VQ_MAX_DEVICES * VS_VQ_MAX_QUEUES,
	};

	for (i = 0; i < set->n_devs; i++)
		for (j = 0; j < set->devs[i].n_vqs; j++)
			n_active += candidate(&set->devs[i].vqs[j]);
	/* Per queue from the kick addresses, where the address table exists
	 * and the probes counted per address (BPF; perf counts no address). */
	if (vm->kvm && set->notify.n && snap && snap->backend == VS_PROBE_BPF && secs > 0) {
		memset(addr_kicks, 0, sizeof(addr_kicks));
		by_addr = !vs_notify_count_probe(&set->notify, snap, vm->pid, &ac);
	}

	for (i = 0; i < set->n_devs; i++) {
		struct vs_vdev *d = &set->devs[i];
		unsigned int on_thread = 0;
		double kick_wakes = NAN, irq_wakes = NAN, irq_ns = 0;

		for (j = 0; j < d->n_vqs; j++)
			on_thread += candidate(&d->vqs[j]);
		if (snap && secs > 0) {
			pair_counts(snap, vm, d->cons_tid, &kick_wakes, &irq_wakes, &irq_ns);
			if (!irq_pairs_done) {
				all_irq_wakes = irq_wakes;
				all_irq_ns = irq_ns;
				irq_pairs_done = true;
			}
		}
		for (j = 0; j < d->n_vqs; j++) {
			const struct vs_notify_entry *e;
			struct vs_vq *v = &d->vqs[j];
			char note[96];

			if (!candidate(v)) {
				figure_none(&v->kicks, "the queue was idle");
				figure_none(&v->irqs, "the queue was idle");
				continue;
			}
			/* kicks */
			e = by_addr ? vs_notify_of_queue(&set->notify, i, j) : NULL;
			if (e) {
				char where[48];

				vs_notify_entry_str(e, where, sizeof(where));
				snprintf(note, sizeof(note),
					 "at %s; %" PRIu64 " of the VM's %" PRIu64 " kick writes mapped",
					 where, ac.matched, ac.matched + ac.unmatched);
				figure_set(&v->kicks,
					   (double)addr_kicks[i * VS_VQ_MAX_QUEUES + j] / secs,
					   "kvm_pio/kvm_mmio address", note);
			} else if (vm->kvm && pv && vs_counters_kicks(&pv->c)) {
				double k = (double)vs_counters_kicks(&pv->c) / secs;

				if (n_active == 1)
					figure_set(&v->kicks, k, "kvm kick tracepoints",
						   "the VM's only active queue");
				else {
					snprintf(note, sizeof(note),
						 "%.0f/s for the VM, shared by %u active queues",
						 k, n_active);
					figure_none(&v->kicks, note);
				}
			} else if (!vm->kvm && n_active == 1 && isfinite(set->vcpu_writes_per_s)) {
				if (isfinite(kick_wakes) && d->cons_tid)
					snprintf(note, sizeof(note),
						 "ceiling: every vCPU write(); %.0f/s woke %.20s",
						 kick_wakes / secs, d->cons_comm);
				else
					snprintf(note, sizeof(note), "ceiling: every vCPU write()");
				figure_set(&v->kicks, set->vcpu_writes_per_s,
					   "vcpu write() syscalls", note);
			} else if (isfinite(kick_wakes) && d->cons_tid && on_thread == 1) {
				figure_set(&v->kicks, kick_wakes / secs, "sched_waking vcpu->consumer",
					   "floor: a polling consumer is not woken");
			} else if (isfinite(kick_wakes) && d->cons_tid) {
				snprintf(note, sizeof(note),
					 "%.0f/s woke %.20s, shared by its %u active queues",
					 kick_wakes / secs, d->cons_comm, on_thread);
				figure_none(&v->kicks, note);
			} else {
				figure_none(&v->kicks, snap ? "no consumer thread known" :
					    "without the BPF probes no kick source here");
			}
			/* interrupts */
			if (vm->kvm && pv && vs_counters_irqs(&pv->c)) {
				double r = (double)vs_counters_irqs(&pv->c) / secs;

				if (n_active == 1)
					figure_set(&v->irqs, r, "kvm irq tracepoints",
						   "the VM's only active queue");
				else {
					snprintf(note, sizeof(note),
						 "%.0f/s for the VM, shared by %u active queues",
						 r, n_active);
					figure_none(&v->irqs, note);
				}
			} else if (isfinite(irq_wakes) && irq_wakes > 0 && n_active == 1) {
				figure_set(&v->irqs, irq_wakes / secs, "sched_waking qemu->vcpu",
					   "floor: a running vCPU is not woken");
			} else if (v->n_samples) {
				if (isfinite(irq_wakes) && irq_wakes > 0)
					snprintf(note, sizeof(note),
						 "floor, one per 100 ms sample at most; QEMU woke the vCPUs %.0f/s for %u active queues",
						 irq_wakes / secs, n_active);
				else
					snprintf(note, sizeof(note), "floor: at most one per 100 ms sample");
				figure_set(&v->irqs, (double)v->signalled_advances / set->secs,
					   "qmp signalled-used", note);
			} else {
				figure_none(&v->irqs, "no interrupt source here");
			}
		}
	}
	if (all_irq_wakes > 0) {
		set->vcpu_wake_ns = all_irq_ns / all_irq_wakes;
		snprintf(set->costs_from, sizeof(set->costs_from),
			 "vCPU wake-up: sched_waking->switch-in of the vCPU threads woken by QEMU's threads (%.0f wake-ups)",
			 all_irq_wakes);
	} else {
		snprintf(set->costs_from, sizeof(set->costs_from),
			 "vCPU wake-up: %s", snap ? "no vCPU was woken by QEMU in the window" :
			 "needs the BPF probes");
	}
}

static void figure_source(struct vs_sample *s, const char *what, const struct vs_vq_figure *f)
{
	if (isfinite(f->per_s))
		vs_sample_source(s, what, true, "%.0f/s from %s%s%s", f->per_s, f->source,
				 f->note[0] ? "; " : "", f->note);
	else
		vs_sample_source(s, what, false, "%s", f->note);
}

void vs_vq_fill_sample(const struct vs_vqset *set, const struct vs_vdev *d,
		       const struct vs_vq *v, const struct vs_sample *dev_sample,
		       struct vs_sample *s)
{
	*s = *dev_sample;
	s->have_items = isfinite(v->items.per_s);
	s->items_per_s = v->items.per_s;
	s->have_kicks = isfinite(v->kicks.per_s);
	s->kicks_per_s = v->kicks.per_s;
	s->have_irqs = isfinite(v->irqs.per_s);
	s->irqs_per_s = v->irqs.per_s;
	s->kicks_from_probes = s->have_kicks && strstr(v->kicks.source, "sched_waking");
	s->irqs_from_probes = s->have_irqs && strstr(v->irqs.source, "sched_waking");
	s->len = v->size;
	snprintf(s->items_from, sizeof(s->items_from), "%.39s",
		 s->have_items ? v->items.source : "");
	snprintf(s->len_from, sizeof(s->len_from), "%s",
		 v->size ? "vring-num from QMP" : "");
	snprintf(s->backend, sizeof(s->backend), "%.15s", d->type);
	s->guest_sp_ns = set->vcpu_wake_ns;
	s->have_guest_sp = isfinite(set->vcpu_wake_ns);
	if (s->have_guest_sp)
		snprintf(s->guest_sp_from, sizeof(s->guest_sp_from),
			 "mean wake-up of the vCPU threads woken by QEMU's threads (BPF): the guest's own, in-guest part not seen");
	figure_source(s, "virtqueue items", &v->items);
	if (isfinite(v->inflight))
		vs_sample_source(s, "virtqueue in-flight", true,
				 "mean inuse %.2f of %u over %u QMP samples", v->inflight,
				 v->size, v->n_samples);
	figure_source(s, "kicks", &v->kicks);
	figure_source(s, "interrupts", &v->irqs);
	vs_sample_source(s, "guest-side costs", isfinite(set->vcpu_wake_ns),
			 "%.100s", set->costs_from);
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
