/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TOOLS_TUNE_QMP_H
#define VS_TOOLS_TUNE_QMP_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "tune/loop.h"

/*
 * `virtsync tune --auto --qmp SOCKET`: a running QEMU. The host cannot see
 * what the guest's application achieves, so the user names it: an
 * objective command (run with /bin/sh -c, typically a benchmark in the
 * guest over ssh) prints one number on its last line, items per second
 * (goal throughput) or nanoseconds (goal latency). Each measurement window
 * is one run of the command; around it virtsync reads QEMU's KVM
 * statistics (query-stats) and the host CPU time of every thread of the
 * VM (QEMU's own and its vhost workers). propose = the plan given with
 * --plan, else the diagnosis through the socket (vs_diagnose, in this
 * process), keeping the steps aimed at this VM.
 */
struct tune_qmp_ctx {
	const char *socket;
	pid_t pid;		/* QEMU, from the socket's peer credentials */
	const char *objective;	/* shell command */
	enum vs_goal goal;
	unsigned int repeats;	/* runs of the command per measurement */
	const char *plan_file;	/* NULL: diagnose decides */
	double diag_ns;
	double dmax_ns;
	unsigned int dropped;	/* steps of the plan aimed elsewhere */
	char regime[16];
	char err[256];		/* why the last measure() failed */
	/* the loop's stop flag, for the measure() under way: a stop kills
	 * the objective's run (it gives no figure) */
	const volatile sig_atomic_t *stop;
};

extern const struct vs_tune_workload tune_workload_qmp;

/* The pid of the QEMU serving `socket`; -errno (message in err). */
int tune_qmp_peer(const char *socket, pid_t *pid, char *err, size_t len);

#endif
