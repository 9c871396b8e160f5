/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TOOLS_TUNE_PCDEV_H
#define VS_TOOLS_TUNE_PCDEV_H

#include <stdbool.h>
#include <sys/types.h>

#include "sources/hostcost.h"
#include "tune/loop.h"

/*
 * `virtsync tune --auto` on the reference device: measure = windows of the
 * device's published counters (items, C's latency histogram) and its two
 * threads' CPU time (/proc/PID/task/TID/schedstat); propose = the
 * diagnosis of that pid (vs_diagnose, in this process), keeping the steps
 * aimed at the device itself.
 */
struct tune_pcdev_ctx {
	pid_t pid;		/* the device */
	double window_ns;	/* one measurement window */
	unsigned int repeats;	/* windows per measurement; medians */
	double diag_ns;		/* diagnose's window */
	double dmax_ns;		/* NaN/0: none */
	struct vs_hostcosts costs;	/* the first diagnosis' calibration */
	bool have_costs;
	unsigned int dropped;	/* host-wide steps left out of the plan */
	unsigned int diagnoses;	/* diagnose runs (a second when the first
				 * could not classify the queue) */
	char regime[16];	/* diagnose's verdict, "" if none */
};

extern const struct vs_tune_workload tune_workload_pcdev;

#endif
