// SPDX-License-Identifier: GPL-2.0-only
/* A VM's name from its QEMU command line. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "core/safefile.h"
#include "core/sysfs.h"
#include "sources/vmname.h"

/* Copy the element of a QEMU option value that names the guest: the
 * "guest=" key, or the leading element without a key. */
static int pick(const char *v, char *buf, size_t len)
{
	const char *p = v;
	bool first = true;

	while (*p) {
		const char *start = p;
		size_t n = 0;
		bool keyed;

		/* one element, up to a single comma (",," is a comma) */
		while (*p && !(p[0] == ',' && p[1] != ','))
			p += p[0] == ',' ? 2 : 1;
		keyed = !strncmp(start, "guest=", 6);
		if (keyed || (first && !memchr(start, '=', (size_t)(p - start)))) {
			const char *s = start + (keyed ? 6 : 0);

			for (; s < p && n + 1 < len; s++) {
				buf[n++] = *s;
				if (s[0] == ',' && s[1] == ',')
					s++;
			}
			buf[n] = '\0';
			return n ? 0 : -ENOENT;
		}
		first = false;
		if (*p == ',')
			p++;
	}
	return -ENOENT;
}

int vs_vm_name_parse(const char *cmdline, size_t n, char *buf, size_t len)
{
	const char *p = cmdline, *end = cmdline + n;

	if (!len)
		return -EINVAL;
	while (p < end) {
		size_t l = strnlen(p, (size_t)(end - p));

		if ((!strcmp(p, "-name") || !strcmp(p, "--name")) && p + l + 1 < end)
			return pick(p + l + 1, buf, len);
		if (!strncmp(p, "-name=", 6))
			return pick(p + 6, buf, len);
		p += l + 1;
	}
	return -ENOENT;
}

int vs_vm_name(pid_t pid, char *buf, size_t len)
{
	char path[256], cmd[8192];
	ssize_t n;
	int fd, err;

	err = vs_path(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (err)
		return err;
	fd = vs_open_rooted(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	n = read(fd, cmd, sizeof(cmd) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	cmd[n] = '\0';
	return vs_vm_name_parse(cmd, (size_t)n, buf, len);
}
