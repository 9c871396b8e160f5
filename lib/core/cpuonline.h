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

/*
 * A set of CPUs beyond the 64 a mask holds, for topology: kernel CPU lists
 * parse into it (-EINVAL malformed, -ERANGE a CPU >= VS_CPUSET_MAX) and
 * render back in the kernel's form ("0-3,8"; "" when empty).
 */
#define VS_CPUSET_MAX 1024
struct vs_cpuset {
	uint64_t bits[VS_CPUSET_MAX / 64];
};

int vs_cpuset_parse(const char *text, struct vs_cpuset *set);
int vs_cpuset_format(const struct vs_cpuset *set, char *buf, size_t len);
unsigned int vs_cpuset_count(const struct vs_cpuset *set);
/* The first CPU above `after` in the set (after -1: the first), -1 none. */
int vs_cpuset_next(const struct vs_cpuset *set, int after);
/* Online CPUs (/sys/devices/system/cpu/online) as a set. */
int vs_cpus_online_set(struct vs_cpuset *set);

/* Events (or samples) seen on one CPU. vs_cpu_count_add() keeps up to
 * max entries, the busiest first once vs_cpu_count_sort() has run; a CPU
 * that does not fit is dropped (the total still counts it). */
struct vs_cpu_count {
	int cpu;
	uint64_t n;
};

void vs_cpu_count_add(struct vs_cpu_count *c, unsigned int max, unsigned int *n,
		      int cpu, uint64_t k);
void vs_cpu_count_sort(struct vs_cpu_count *c, unsigned int n);

static inline bool vs_cpuset_has(const struct vs_cpuset *s, int cpu)
{
	return cpu >= 0 && cpu < VS_CPUSET_MAX &&
	       (s->bits[cpu / 64] >> (cpu % 64) & 1);
}

static inline void vs_cpuset_add(struct vs_cpuset *s, int cpu)
{
	if (cpu >= 0 && cpu < VS_CPUSET_MAX)
		s->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

#endif
