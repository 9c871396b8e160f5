/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_VQUEUE_IMPL_H
#define VS_VQUEUE_IMPL_H

/*
 * Inside the virtqueue source (vqueue.h is its contract):
 *   vqueue.c         devices and queues (QMP, command line), kick addresses
 *   vqueue-window.c  the window: QMP samples, vCPU counters, measure_all
 *   vqueue-attr.c    kicks and interrupts per queue, the queue's sample
 */

#include <math.h>
#include <stdio.h>

#include <jansson.h>

#include "sources/qmp.h"
#include "sources/vqueue.h"

/* A figure no source gave, and why. */
static inline void vs_vq__figure_none(struct vs_vq_figure *f, const char *why)
{
	f->per_s = NAN;
	f->source[0] = '\0';
	snprintf(f->note, sizeof(f->note), "%s", why);
}

/* x-query-virtio-queue-status of queue i of the device at path, or NULL. */
json_t *vs_vq__queue_status(struct vs_qmp *q, const char *path, unsigned int i);

#endif
