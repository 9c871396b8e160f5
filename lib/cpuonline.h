/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_CPUONLINE_H
#define VS_CPUONLINE_H

#include <stdbool.h>

/*
 * Is `cpu` in a kernel CPU list such as "0-3,8,10-11" (the format of
 * /sys/devices/system/cpu/online)? Returns 1 yes, 0 no, -EINVAL when the
 * list is malformed.
 */
int vs_cpulist_contains(const char *list, int cpu);

/*
 * Is `cpu` online? Reads /sys/devices/system/cpu/online through vs_path().
 * Returns 1, 0, or -errno. `list`, when not NULL, receives the online list
 * (for messages such as "online CPUs: 0-1").
 */
int vs_cpu_is_online(int cpu, char *list, unsigned long len);

/* The online list itself (/sys/devices/system/cpu/online through
 * vs_path()); -errno. */
int vs_cpus_online_list(char *list, unsigned long len);

#endif
