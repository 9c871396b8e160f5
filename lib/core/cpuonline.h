/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_CPUONLINE_H
#define VS_CPUONLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Parse a CPU list ("0-3,6") into a bitmask of up to 64 CPUs. */
int vs_cpulist_parse(const char *text, uint64_t *mask);
/* Render a mask as the kernel does ("0-1,3"); "" for an empty mask. */
int vs_cpulist_format(uint64_t mask, char *buf, size_t len);
/* Online CPUs as a mask (the list above, parsed). */
int vs_cpus_online(uint64_t *mask);

#endif
