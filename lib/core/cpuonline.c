// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpuonline.h"
#include "core/sysfs.h"

static int parse_num(const char **p, long *out)
{
	char *end;

	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	errno = 0;
	*out = strtol(*p, &end, 10);
	if (errno || *out > INT_MAX)
		return -EINVAL;
	*p = end;
	return 0;
}

/* "N" or "N-M" (M >= N) of a CPU list. */
static int parse_range(const char **p, long *lo, long *hi)
{
	if (parse_num(p, lo))
		return -EINVAL;
	*hi = *lo;
	if (**p == '-') {
		(*p)++;
		if (parse_num(p, hi) || *hi < *lo)
			return -EINVAL;
	}
	return 0;
}

int vs_cpulist_contains(const char *list, int cpu)
{
	const char *p = list;
	int found = 0;

	if (!list || !*list)
		return -EINVAL;
	while (*p) {
		long lo, hi;

		if (parse_range(&p, &lo, &hi))
			return -EINVAL;
		if (cpu >= lo && cpu <= hi)
			found = 1;
		if (*p == ',')
			p++;
		else if (*p == '\n')
			break;
		else if (*p)
			return -EINVAL;
	}
	return found;
}

int vs_cpus_online_list(char *list, unsigned long len)
{
	char path[256];
	int err = vs_path(path, sizeof(path), "/sys/devices/system/cpu/online");

	return err ? err : vs_read_str(path, list, len);
}

int vs_cpu_is_online(int cpu, char *list, unsigned long len)
{
	char buf[1024];
	int err;

	if (cpu < 0)
		return 0;
	err = vs_cpus_online_list(buf, sizeof(buf));
	if (err)
		return err;
	if (list && len) {
		strncpy(list, buf, len - 1);
		list[len - 1] = '\0';
	}
	return vs_cpulist_contains(buf, cpu);
}

int vs_cpulist_parse(const char *text, uint64_t *mask)
{
	const char *p = text;
	uint64_t m = 0;

	if (!text || !*text)
		return -EINVAL;
	while (*p) {
		unsigned long lo, hi;
		char *end;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		lo = strtoul(p, &end, 10);
		if (errno)
			return -ERANGE;
		hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			hi = strtoul(p, &end, 10);
			if (errno)
				return -ERANGE;
			p = end;
		}
		if (hi < lo)
			return -EINVAL;
		if (hi >= 64)
			return -ERANGE;
		for (; lo <= hi; lo++)
			m |= 1ULL << lo;
		if (*p == ',') {
			p++;
			if (!*p)
				return -EINVAL;
		} else if (*p) {
			return -EINVAL;
		}
	}
	*mask = m;
	return 0;
}

int vs_cpulist_format(uint64_t mask, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int i = 0;
	int n;

	if (!len)
		return -EINVAL;
	buf[0] = '\0';
	while (i < 64) {
		unsigned int j;

		if (!(mask & (1ULL << i))) {
			i++;
			continue;
		}
		for (j = i; j + 1 < 64 && (mask & (1ULL << (j + 1))); j++)
			;
		if (j == i)
			n = snprintf(buf + off, len - off, "%s%u", off ? "," : "", i);
		else
			n = snprintf(buf + off, len - off, "%s%u-%u", off ? "," : "", i, j);
		if (n < 0 || (size_t)n >= len - off)
			return -ENAMETOOLONG;
		off += n;
		i = j + 1;
	}
	return 0;
}

int vs_cpus_online(uint64_t *mask)
{
	char buf[256];
	int err = vs_cpus_online_list(buf, sizeof(buf));

	return err ? err : vs_cpulist_parse(buf, mask);
}

int vs_cpuset_parse(const char *text, struct vs_cpuset *set)
{
	struct vs_cpuset s;
	const char *p = text;

	memset(&s, 0, sizeof(s));
	if (!text || !*text)
		return -EINVAL;
	while (*p) {
		long lo, hi;

		if (parse_range(&p, &lo, &hi))
			return -EINVAL;
		if (hi >= VS_CPUSET_MAX)
			return -ERANGE;
		for (; lo <= hi; lo++)
			vs_cpuset_add(&s, (int)lo);
		if (*p == ',') {
			p++;
			if (!*p)
				return -EINVAL;
		} else if (*p) {
			return -EINVAL;
		}
	}
	*set = s;
	return 0;
}

int vs_cpuset_next(const struct vs_cpuset *set, int after)
{
	int c;

	for (c = after < 0 ? 0 : after + 1; c < VS_CPUSET_MAX; c++) {
		uint64_t w = set->bits[c / 64] >> (c % 64);

		if (!w) {
			c |= 63;	/* nothing more in this word */
			continue;
		}
		return c + __builtin_ctzll(w);
	}
	return -1;
}

unsigned int vs_cpuset_count(const struct vs_cpuset *set)
{
	unsigned int i, n = 0;

	for (i = 0; i < VS_CPUSET_MAX / 64; i++)
		n += (unsigned int)__builtin_popcountll(set->bits[i]);
	return n;
}

int vs_cpuset_format(const struct vs_cpuset *set, char *buf, size_t len)
{
	size_t off = 0;
	int i = vs_cpuset_next(set, -1);

	if (!len)
		return -EINVAL;
	buf[0] = '\0';
	while (i >= 0) {
		int j = i, n;

		while (vs_cpuset_has(set, j + 1))
			j++;
		if (j == i)
			n = snprintf(buf + off, len - off, "%s%d", off ? "," : "", i);
		else
			n = snprintf(buf + off, len - off, "%s%d-%d", off ? "," : "", i, j);
		if (n < 0 || (size_t)n >= len - off)
			return -ENAMETOOLONG;
		off += (size_t)n;
		i = vs_cpuset_next(set, j);
	}
	return 0;
}

int vs_cpus_online_set(struct vs_cpuset *set)
{
	char buf[4096];
	int err = vs_cpus_online_list(buf, sizeof(buf));

	return err ? err : vs_cpuset_parse(buf, set);
}

void vs_cpu_count_add(struct vs_cpu_count *c, unsigned int max, unsigned int *n,
		      int cpu, uint64_t k)
{
	unsigned int i;

	if (!k || cpu < 0)
		return;
	for (i = 0; i < *n; i++)
		if (c[i].cpu == cpu) {
			c[i].n += k;
			return;
		}
	if (*n < max) {
		c[*n].cpu = cpu;
		c[*n].n = k;
		(*n)++;
	}
}

static int cmp_count(const void *a, const void *b)
{
	const struct vs_cpu_count *x = a, *y = b;

	if (x->n != y->n)
		return (x->n < y->n) - (x->n > y->n);
	return (x->cpu > y->cpu) - (x->cpu < y->cpu);
}

void vs_cpu_count_sort(struct vs_cpu_count *c, unsigned int n)
{
	if (n > 1)
		qsort(c, n, sizeof(*c), cmp_count);
}
