/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_EXPORT_IMPL_H
#define VS_EXPORT_IMPL_H
/* Shared by export.c (building) and the emitters export-*.c. */

#include <stdbool.h>
#include <stdio.h>

#include "output/export.h"

enum where {
	W_SYSFS_PARAM,	/* module parameter file */
	W_SYSFS_CSTATE,	/* cpuN/cpuidle/stateS/disable */
	W_SYSFS_NETDEV,	/* /sys/class/net/IF/<file> */
	W_SYSCTL,
	W_CPU_GOVERNOR,
	W_CPU_LATENCY,
	W_THREAD_SLACK,
	W_THREAD_AFFINITY,
	W_IRQ_AFFINITY,
	W_PCDEV,
	W_IOTHREAD,
};

struct knob_map {
	const char *knob;
	enum where where;
	const char *arg;	/* path, sysctl name, file or control key */
};

const struct knob_map *export_map_of(const struct vs_knob_ops *k);
/* a thread step that names a whole VM by name ([scheduler] can say it) */
bool export_sched_expressible(const struct vs_export_step *s);
bool export_cstate_numeric(const struct vs_export_step *s);
/* does the step go to script.sh rather than a tuned.conf section? */
bool export_in_script(const struct vs_export_step *s, const struct knob_map *m);
size_t export_script_steps(const struct vs_export *x);
/* close the open_memstream() f whose pointer is *buf; *text on success */
int export_memstream_done(FILE *f, char **text, char **buf);

#endif
