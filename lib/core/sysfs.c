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
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
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
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
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

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(tmp, mode) && errno != EEXIST ? -errno : 0;
}

int vs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

static int fsync_dir_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (!slash)
		return vs_fsync_dir(".");
	if (slash == path)
		return vs_fsync_dir("/");
	if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	return vs_fsync_dir(dir);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* vs_file_replace() of buf, then tail. */
static int replace(const char *path, const void *buf, size_t len, const char *tail,
		   mode_t mode, unsigned int flags)
{
	char tmp[4200];
	int fd, err = 0;

	if ((flags & VS_REPLACE_SHARED ?
	     snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) :
	     snprintf(tmp, sizeof(tmp), "%s.tmp", path)) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	/* a temporary left by a crash keeps its old mode through O_TRUNC */
	if (fchmod(fd, mode))
		err = -errno;
	if (!err)
		err = write_all(fd, buf, len);
	if (!err)
		err = write_all(fd, tail, strlen(tail));
	if (!err && (flags & VS_REPLACE_DURABLE) && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	return flags & VS_REPLACE_DURABLE ? fsync_dir_of(path) : 0;
}

int vs_file_replace(const char *path, const void *buf, size_t len, mode_t mode,
		    unsigned int flags)
{
	return replace(path, buf, len, "", mode, flags);
}

int vs_file_replace_text(const char *path, const char *text, mode_t mode,
			 unsigned int flags)
{
	return replace(path, text, strlen(text), "\n", mode, flags);
}
