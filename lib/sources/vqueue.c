// SPDX-License-Identifier: GPL-2.0-only
/* Virtio devices and queues of a QEMU process: discovery through QMP or
 * the command line, and the queues' kick addresses (see vqueue.h;
 * vqueue-window.c measures them, vqueue-attr.c attributes the figures). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/sysfs.h"
#include "sources/measure.h"
#include "sources/qmp.h"
#include "sources/vqueue.h"
#include "sources/vqueue-impl.h"

const char *vs_vq_consumer_name(enum vs_vq_consumer c)
{
	switch (c) {
	case VS_VQ_CONS_IOTHREAD: return "iothread";
	case VS_VQ_CONS_MAIN_LOOP: return "main-loop";
	case VS_VQ_CONS_VHOST: return "vhost";
	default: return "unknown";
	}
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
		vs_vq__figure_none(&v->items, "not measured");
		vs_vq__figure_none(&v->kicks, "not measured");
		vs_vq__figure_none(&v->irqs, "not measured");
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

json_t *vs_vq__queue_status(struct vs_qmp *q, const char *path, unsigned int i)
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
			json_t *qs = vs_vq__queue_status(q, path, i);

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
