/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_DIAG_QMP_H
#define VS_DIAG_QMP_H

/*
 * QMP as a measurement source of the diagnosis (VS_DIAG_QMP): the QEMU at
 * the socket names its vCPU and iothread threads (query-cpus-fast,
 * query-iothreads: roles even when the threads are not named), and its KVM
 * binary statistics over the window (query-stats) are the halt-poll
 * evidence: polls that succeeded or failed, time polling and waiting.
 * Used by diagnose.c only.
 */

#include <sys/types.h>

#include "diagnose/diagnose.h"

struct vs_diag_qmp_conn;

/* Connect; *pid is the QEMU's pid. -errno. */
int vs_diag_qmp_connect(const char *socket, struct vs_diag_qmp_conn **c, pid_t *pid);
void vs_diag_qmp_disconnect(struct vs_diag_qmp_conn *c);

/* The QMP session itself (for the virtqueue window, vq.h). */
struct vs_qmp *vs_diag_qmp_session(struct vs_diag_qmp_conn *c);

/* Set the roles of vm's threads from QEMU's own lists; returns how many
 * threads QMP named, or the -errno that made the peer unusable
 * (vs_qmp_broken(): a deadline, an event flood, a closed connection). */
int vs_diag_qmp_roles(struct vs_diag_qmp_conn *c, struct vs_vm *vm);

/* Around the window; end fills *q (rows and iothreads, replacing what it
 * held) and returns the window's error, also in q->err. A peer that
 * answers without KVM statistics (-ENOTSUP) is not the same as one that
 * stopped answering: vs_qmp_broken(vs_diag_qmp_session(c)) tells. */
void vs_diag_qmp_begin(struct vs_diag_qmp_conn *c);
int vs_diag_qmp_end(struct vs_diag_qmp_conn *c, struct vs_diag_qmp *q);
void vs_diag_qmp_free(struct vs_diag_qmp *q);

/* The "qmp" source line of a sample. */
void vs_diag_qmp_source(const struct vs_diag_qmp *q, struct vs_sample *s);

#endif
