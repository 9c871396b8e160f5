// SPDX-License-Identifier: GPL-2.0-only
/* The placement audit inside a diagnosis (see placement.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diagnose/diagnose.h"
#include "core/safefile.h"
#include "core/sysfs.h"
#include "diagnose/placement.h"
#include "sources/handoff.h"
#include "sources/placement.h"

int vs_diag_place_open(struct vs_diag_place_ctx *c)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->topo = calloc(1, sizeof(*c->topo));
	if (!c->topo)
		return -ENOMEM;
	err = vs_topo_read(c->topo);
	if (err) {
		snprintf(c->topo_why, sizeof(c->topo_why), "CPU topology not readable: %s",
			 strerror(-err));
		free(c->topo);
		c->topo = NULL;
		return 0;
	}
	c->have_cache = !vs_c2c_cache_read(VS_DIAG_C2C_MAX_AGE_S, &c->cache);
	return 0;
}

void vs_diag_place_close(struct vs_diag_place_ctx *c)
{
	if (c->have_cache)
		vs_c2c_free(&c->cache);
	free(c->topo);
	memset(c, 0, sizeof(*c));
}

/* The batch the hand-off is measured at: the queue's items per wake-up,
 * as a power of two from 1 to 64. */
static unsigned int queue_batch(const struct vs_verdict *v)
{
	double b = v && v->known ? vs_verdict_est(v, "b") : NAN;
	unsigned int p = 1;

	while (isfinite(b) && p * 2 <= b && p < 64)
		p *= 2;
	return p;
}

static bool cached_pairs(const struct vs_c2c *c, const int *a, const int *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!vs_c2c_find(c, a[i], b[i]))
			return false;
	return true;
}

/* Is the thread still there? The audit's steps would name a dead one. */
static bool thread_alive(pid_t pid, pid_t tid)
{
	char path[512];

	return !vs_path(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)tid) &&
	       !vs_access_rooted(path, F_OK);
}

void vs_diag_place_queue(struct vs_diag_place_ctx *c, struct vs_diag_queue *q)
{
	struct vs_place_handoff h[VS_PLACE_MAX_PAIRS];
	int a[VS_PLACE_MAX_PAIRS], b[VS_PLACE_MAX_PAIRS];
	struct vs_irq_info irqs[VS_IRQ_MAX];
	struct vs_place_in in = { 0 };
	struct vs_mem_nodes mem;
	struct vs_virt_irq virt;
	struct vs_handoff_opts ho;
	struct vs_c2c now, *c2c = NULL;
	char what[64], err[200];
	unsigned int n, i, nh = 0;
	bool measured = false;

	memset(&q->placement, 0, sizeof(q->placement));
	if (vs_pid_alive(q->vm->pid)) {
		snprintf(q->placement.why, sizeof(q->placement.why),
			 "pid %d exited during the window: nothing left to place", (int)q->vm->pid);
		return;
	}
	for (i = 0; i < 2; i++) {
		const struct vs_thread_sample *t = i ? &q->sample.cons : &q->sample.prod;

		if (t->tid && !thread_alive(q->vm->pid, t->tid)) {
			snprintf(q->placement.why, sizeof(q->placement.why),
				 "the %s thread %d (%s) exited during the window: nothing to place",
				 i ? "consumer" : "producer", (int)t->tid, t->comm);
			return;
		}
	}
	if (!c->topo) {
		snprintf(q->placement.why, sizeof(q->placement.why), "%s", c->topo_why);
		return;
	}
	vs_mem_nodes_read(q->vm->pid, &mem);
	vs_virt_irq_read(&virt);
	n = vs_placement_pairs(c->topo, &q->sample, &mem, a, b, VS_PLACE_MAX_PAIRS);
	if (n && c->have_cache && cached_pairs(&c->cache, a, b, n)) {
		c2c = &c->cache;
		in.c2c_from = "the cached matrix of virtsync topo";
	} else if (n) {
		struct vs_c2c_opts o;

		vs_c2c_opts_default(&o);
		o.only_a = a;
		o.only_b = b;
		o.n_only = n;
		o.duration_ns = 200e6;
		o.round_trips = 200;
		if (!vs_c2c_measure(&o, c->topo, &now, err, sizeof(err))) {
			c2c = &now;
			measured = true;
			in.c2c_from = "measured after the window";
		}
	}
	vs_handoff_opts_default(&ho);
	ho.batch = queue_batch(&q->verdict);
	ho.batches = 500;
	for (i = 0; i < n; i++) {
		struct vs_handoff r;

		ho.cpu_p = a[i];
		ho.cpu_c = b[i];
		if (vs_handoff_measure(PCDEV_RING_VIRTIO, &ho, &r, err, sizeof(err)))
			continue;
		h[nh].a = a[i];
		h[nh].b = b[i];
		h[nh].ns = r.ns_per_msg;
		nh++;
	}
	snprintf(what, sizeof(what), "virtio split ring, batch %u", ho.batch);
	in.topo = c->topo;
	in.vm = q->vm;
	in.sample = &q->sample;
	in.verdict = q->verdict.known ? &q->verdict : NULL;
	in.c2c = c2c;
	in.handoff = h;
	in.n_handoff = nh;
	in.handoff_what = what;
	in.mem = &mem;
	in.irqs = irqs;
	in.n_irqs = vs_vm_irqs_read(q->vm, irqs, VS_IRQ_MAX);
	in.virt = &virt;
	vs_placement_audit(&in, &q->placement);
	if (measured)
		vs_c2c_free(&now);
}
