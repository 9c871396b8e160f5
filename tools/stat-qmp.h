/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TOOLS_STAT_QMP_H
#define VS_TOOLS_STAT_QMP_H

#include <signal.h>
#include <stdbool.h>

/*
 * `virtsync stat --qmp SOCKET`: per-vCPU rows of one QEMU from QMP
 * query-stats instead of BPF. Returns the command's exit status. `stop`
 * is set by stat's signal handler.
 */
int stat_qmp_run(const char *socket, double interval_ns, unsigned int count,
		 bool prometheus, volatile sig_atomic_t *stop, int argc, char **argv);

#endif
