// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cpuonline.h"
#include "sysfs.h"

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

int vs_cpulist_contains(const char *list, int cpu)
{
	const char *p = list;
	int found = 0;

	if (!list || !*list)
		return -EINVAL;
	while (*p) {
		long lo, hi;

		if (parse_num(&p, &lo))
			return -EINVAL;
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_num(&p, &hi) || hi < lo)
				return -EINVAL;
		}
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
