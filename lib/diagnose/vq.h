/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_DIAG_VQ_H
#define VS_DIAG_VQ_H

/*
 * The diagnosis of a QEMU per virtqueue (struct vs_diag_vq in
 * diagnose.h). Used by diagnose.c only.
 */

#include <signal.h>

#include "diagnose/diagnose.h"
#include "sources/probe.h"
#include "sources/qmp.h"

/* The devices of vm, with q (the session's QMP, borrowed) or the socket
 * on QEMU's command line; NULL when vm is not a QEMU with virtio devices
 * (or on ENOMEM). */
struct vs_diag_vq *vs_diag_vq_open(const struct vs_vm *vm, struct vs_qmp *q);
/* End of the session: the QMP connection goes, the figures stay. */
void vs_diag_vq_disconnect(struct vs_diag_vq *v);
void vs_diag_vq_free(struct vs_diag_vq *v);

/* The window (blocking), then kicks and interrupts (snap may be NULL). */
void vs_diag_vq_measure(struct vs_diag_vq *v, double duration_ns,
			volatile sig_atomic_t *stop);
void vs_diag_vq_attribute(struct vs_diag_vq *v, const struct vs_probe_snapshot *snap,
			  const char *probe_why);

/* Replace each queue measured per virtqueue by one queue per ring; the
 * new count (at most cap). */
unsigned int vs_diag_vq_split(struct vs_diag_queue *queues, unsigned int n,
			      unsigned int cap);

#endif
