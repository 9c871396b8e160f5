/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TOOLS_DIAGNOSE_QMP_H
#define VS_TOOLS_DIAGNOSE_QMP_H

#include <jansson.h>
#include <sys/types.h>

#include "sources/discover.h"
#include "sources/measure.h"

/*
 * QMP as a measurement source of `virtsync diagnose --qmp SOCKET`: the
 * QEMU at the socket names its vCPU and iothread threads (query-cpus-fast,
 * query-iothreads: roles even when the threads are not named), and its KVM
 * binary statistics over the window (query-stats) are the halt-poll
 * evidence: polls that succeeded or failed, time polling and waiting.
 */
struct diag_qmp;

/* Connect; *pid is the QEMU's pid. NULL and *err = -errno on failure. */
struct diag_qmp *diag_qmp_open(const char *socket, pid_t *pid, int *err);
void diag_qmp_close(struct diag_qmp *d);

/* Set the roles of vm's threads from QEMU's own lists; returns how many
 * threads QMP named. */
int diag_qmp_roles(struct diag_qmp *d, struct vs_vm *vm);

/* Around the measurement window. */
int diag_qmp_begin(struct diag_qmp *d);
int diag_qmp_end(struct diag_qmp *d);

/* Add the source line to s, and the evidence as JSON (new reference). */
void diag_qmp_source(const struct diag_qmp *d, struct vs_sample *s);
json_t *diag_qmp_json(const struct diag_qmp *d);
/* Text lines (indented) for the report. */
void diag_qmp_print(const struct diag_qmp *d);
/* QEMU's iothreads as of the window's end (start, if the end failed). */
const struct vs_qmp_iothread *diag_qmp_iothreads(const struct diag_qmp *d, int *n);

#endif
