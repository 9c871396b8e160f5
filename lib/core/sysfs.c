// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/safefile.h"
#include "core/sysfs.h"
#include "core/units.h"

const char *vs_root(void)
{
	const char *root = getenv("VIRTSYNC_ROOT");

	return root ? root : "";
}

int vs_path(char *buf, size_t len, const char *fmt, ...)
{
	const char *root = vs_root();
	size_t rlen = strlen(root);
	va_list ap;
	int n;

	/* "/root/" + "/sys" would give a double slash; harmless but ugly in
	 * messages the user reads. */
	while (rlen && root[rlen - 1] == '/')
		rlen--;
	if (rlen >= len)
		return -ENAMETOOLONG;
	memcpy(buf, root, rlen);
	va_start(ap, fmt);
	n = vsnprintf(buf + rlen, len - rlen, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len - rlen)
		return -ENAMETOOLONG;
	return 0;
}

int vs_read_str(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, err;

	if (!len)
		return -EINVAL;
	fd = vs_open_rooted(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	n = read(fd, buf, len - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n ? 0 : -ENODATA;
}

int vs_read_u64(const char *path, uint64_t *val)
{
	char buf[64];
	int err = vs_read_str(path, buf, sizeof(buf));

	if (err)
		return err;
	return vs_parse_u64(buf, 0, UINT64_MAX, val);
}

int vs_read_s64(const char *path, int64_t *val)
{
	char buf[64], *end;
	long long v;
	int err = vs_read_str(path, buf, sizeof(buf));

	if (err)
		return err;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || *end || end == buf)
		return -EINVAL;
	*val = v;
	return 0;
}

int vs_write_str(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	/* O_TRUNC as the shell's '>' does: sysfs and procfs ignore it, and on
	 * a fixture tree (a plain file) a shorter value must not leave the
	 * tail of the longer one behind. */
	fd = vs_open_rooted(path, O_WRONLY | O_TRUNC, 0);
	if (fd < 0)
		return fd;
	n = write(fd, val, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int vs_write_u64(const char *path, uint64_t val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, val);
	return vs_write_str(path, buf);
}

int vs_mkdir_p(const char *dir, mode_t mode)
{
	char tmp[4096], *p;
	int err;

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* each level made inside the tree: a link in it (run -> /etc) must
	 * not have the directory made outside */
	for (p = tmp + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		err = vs_mkdir_rooted(tmp, mode);
		*p = '/';
		if (err && err != -EEXIST)
			return err;
	}
	while (p > tmp + 1 && p[-1] == '/')
		*--p = '\0';
	err = vs_mkdir_rooted(tmp, mode);
	return err && err != -EEXIST ? err : 0;
}

int vs_fsync_dir(const char *dir)
{
	int fd = vs_open_rooted(dir, O_RDONLY | O_DIRECTORY, 0), err = 0;

	if (fd < 0)
		return fd;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

int vs_file_replace(const char *path, const void *buf, size_t len, mode_t mode,
		    unsigned int flags)
{
	return vs_safe_replace(path, buf, len, "", mode, flags & ~VS_REPLACE_SHARED);
}

int vs_file_replace_text(const char *path, const char *text, mode_t mode,
			 unsigned int flags)
{
	return vs_safe_replace(path, text, strlen(text), "\n", mode, flags & ~VS_REPLACE_SHARED);
}
