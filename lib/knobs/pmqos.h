/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PMQOS_H
#define VS_PMQOS_H

#include <stdint.h>
#include <sys/types.h>

/*
 * PM QoS CPU latency requests (/dev/cpu_dma_latency) only last while the
 * file stays open, so the knob pmqos.cpu_dma_latency_us starts a holder
 * process, `virtsync hold`, that opens the device, writes the value and
 * sleeps until it is killed. The holder records itself in
 *   /run/virtsync/hold-cpu_dma_latency.pid   "PID VALUE\n"
 * (under vs_path()); the knob reads its value from there ("none" when no
 * holder runs) and rollback to "none" stops the holder.
 */

#define VS_PMQOS_MAX_US 2000000000

/* Open the device under vs_path() and write the request as the s32 the
 * kernel expects; returns the fd to keep open, or -errno. */
int vs_pmqos_request(int32_t us);
int vs_pmqos_pidfile_path(char *buf, size_t len);
/* The running holder, or -ENOENT. */
int vs_pmqos_holder(pid_t *pid, int32_t *us);

#endif
