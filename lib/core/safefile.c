// SPDX-License-Identifier: GPL-2.0-only
/* Safe opening and replacing of files (lib/core/safefile.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/procfs.h"
#include "core/safefile.h"
#include "core/sysfs.h"

const char *vs_safe_strerror(int err)
{
	switch (err) {
	case -ELOOP:
		return "is a symbolic link (refused: virtsync does not follow one here)";
	case -EINVAL:
		return "is not a regular file";
	case -EPERM:
		return "is owned by another user or writable by others (refused)";
	default:
		return strerror(-err);
	}
}

/* The length of the root prefix when path lies inside VIRTSYNC_ROOT
 * (path[len] is then '/'), else 0. */
static size_t root_prefix(const char *path)
{
	const char *root = vs_root();
	size_t rlen = strlen(root);

	while (rlen && root[rlen - 1] == '/')
		rlen--;
	if (!rlen || strncmp(path, root, rlen) || path[rlen] != '/')
		return 0;
	return rlen;
}

int vs_open_rooted(const char *path, int flags, mode_t mode)
{
	size_t rlen = root_prefix(path);
	char root[PATH_MAX];
	struct open_how how;
	int rfd, fd;

	if (!rlen) {
		fd = open(path, flags | O_CLOEXEC, mode);
		return fd < 0 ? -errno : fd;
	}
	if (rlen >= sizeof(root))
		return -ENAMETOOLONG;
	memcpy(root, path, rlen);
	root[rlen] = '\0';
	rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return -errno;
	memset(&how, 0, sizeof(how));
	how.flags = (unsigned int)(flags | O_CLOEXEC);
	how.mode = flags & (O_CREAT | __O_TMPFILE) ? mode : 0;
	/* absolute symlinks and ".." stay inside the tree; /proc magic
	 * links (a fixture's fd/N) would leave it */
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	while (path[rlen] == '/')
		rlen++;
	fd = (int)syscall(SYS_openat2, rfd, path[rlen] ? path + rlen : ".", &how, sizeof(how));
	if (fd < 0)
		fd = -errno;
	close(rfd);
	return fd;
}

FILE *vs_fopen_rooted(const char *path)
{
	int fd = vs_open_rooted(path, O_RDONLY, 0);
	FILE *f;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return f;
}

DIR *vs_opendir_rooted(const char *path)
{
	int fd = vs_open_rooted(path, O_RDONLY | O_DIRECTORY, 0);
	DIR *d;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	d = fdopendir(fd);
	if (!d) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return d;
}

/* The directory of path opened (O_PATH) inside the tree, *base its last
 * component: fd or -errno. */
static int open_parent(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];

	if (!slash) {
		*base = path;
		return *path ? vs_open_rooted(".", O_PATH | O_DIRECTORY, 0) : -EINVAL;
	}
	if (!slash[1])
		return -EINVAL;
	*base = slash + 1;
	if (slash == path)
		return vs_open_rooted("/", O_PATH | O_DIRECTORY, 0);
	if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return vs_open_rooted(dir, O_PATH | O_DIRECTORY, 0);
}

ssize_t vs_readlink_rooted(const char *path, char *buf, size_t len)
{
	const char *base;
	int dfd = open_parent(path, &base);
	ssize_t n;

	if (dfd < 0)
		return dfd;
	if (!len) {
		close(dfd);
		return -EINVAL;
	}
	n = readlinkat(dfd, base, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(dfd);
	return n;
}

int vs_stat_rooted(const char *path, struct stat *st)
{
	int fd = vs_open_rooted(path, O_PATH, 0), err = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, st))
		err = -errno;
	close(fd);
	return err;
}

int vs_access_rooted(const char *path, int mode)
{
	int fd = vs_open_rooted(path, O_PATH, 0), err = 0;

	if (fd < 0)
		return fd;
	/* the fd is the file itself: faccessat2's AT_EMPTY_PATH checks it
	 * with the real ids, as access() does */
	if (mode != F_OK && faccessat(fd, "", mode, AT_EMPTY_PATH))
		err = -errno;
	close(fd);
	return err;
}

int vs_unlink_rooted(const char *path)
{
	const char *base;
	int dfd = open_parent(path, &base), err = 0;

	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, base, 0))
		err = -errno;
	close(dfd);
	return err;
}

int vs_mkdir_rooted(const char *path, mode_t mode)
{
	const char *base;
	int dfd = open_parent(path, &base), err = 0;

	if (dfd < 0)
		return dfd;
	if (mkdirat(dfd, base, mode))
		err = -errno;
	close(dfd);
	return err;
}

static bool invoker_uid(uid_t uid)
{
	const char *sudo = getenv("SUDO_UID");
	char *end;
	unsigned long v;

	if (uid == 0 || uid == getuid() || uid == geteuid())
		return true;
	if (!sudo || !*sudo)
		return false;
	errno = 0;
	v = strtoul(sudo, &end, 10);
	return !errno && !*end && v == uid;
}

/* The file behind fd is what flags ask for: 0 or -errno. */
static int check_file(int fd, unsigned int flags, bool want_dir)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return want_dir ? -ENOTDIR : -EINVAL;
	if ((flags & VS_SAFE_PRIVATE) &&
	    (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))))
		return -EPERM;
	if ((flags & VS_SAFE_TRUSTED) &&
	    (!invoker_uid(st.st_uid) || (st.st_mode & S_IWOTH)))
		return -EPERM;
	return 0;
}

static int open_checked(const char *path, int oflags, mode_t mode, unsigned int flags)
{
	int fd, err;

	/* O_NONBLOCK: a FIFO planted in the file's place must not block the
	 * open; it is refused by the fstat that follows */
	if (flags & VS_SAFE_PRIVATE)
		oflags |= O_NOFOLLOW;
	fd = vs_open_rooted(path, oflags | O_NONBLOCK, mode);
	if (fd < 0)
		return fd;
	err = check_file(fd, flags, false);
	if (!err && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int vs_safe_open_read(const char *path, unsigned int flags)
{
	return open_checked(path, O_RDONLY, 0, flags);
}

int vs_safe_open_state(const char *path, mode_t mode)
{
	return open_checked(path, O_RDWR | O_CREAT, mode, VS_SAFE_PRIVATE);
}

int vs_safe_create(const char *path, mode_t mode)
{
	int fd = open_checked(path, O_WRONLY | O_CREAT | O_NOFOLLOW, mode, 0);

	if (fd >= 0 && ftruncate(fd, 0)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int vs_safe_private_dir(const char *dir, mode_t mode)
{
	int fd, err;

	err = vs_mkdir_rooted(dir, mode);
	if (err && err != -EEXIST)
		return err;
	fd = vs_open_rooted(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	err = check_file(fd, VS_SAFE_PRIVATE, true);
	close(fd);
	return err;
}

static int split(const char *path, char *dir, size_t dlen, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		snprintf(dir, dlen, ".");
		*base = path;
	} else {
		if ((size_t)(slash - path) + 2 > dlen)
			return -ENAMETOOLONG;
		if (slash == path)
			snprintf(dir, dlen, "/");
		else
			snprintf(dir, dlen, "%.*s", (int)(slash - path), path);
		*base = slash + 1;
	}
	return **base ? 0 : -EISDIR;
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

/*
 * A temporary's name: ".BASE.PID.RANDOM.tmp". The random part is what
 * nobody can guess; the pid says whose it is. A SIGKILL between the link
 * and the rename leaves the temporary behind, and the pid is how a later
 * run tells a dead run's leftover from one a live writer is about to
 * rename (vs_safe_sweep_temps()). The pid and not "older than the lock":
 * not every writer in /run/virtsync holds the lock (the reference
 * device's counters and control files are written by diagnose and tune
 * while they run, without it), and a temporary beside a --save target has
 * no lock at all.
 */
static void random_name(char *buf, size_t len, const char *base)
{
	unsigned long long r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r ^= (unsigned long long)getpid() << 32 ^ (unsigned long long)(uintptr_t)buf;
	snprintf(buf, len, ".%.200s.%d.%016llx.tmp", base, (int)getpid(), r);
}

/* The pid of a temporary named as random_name() does, whose BASE is base
 * (any when NULL), or 0 when name is not one. */
static pid_t temp_pid(const char *name, const char *base)
{
	size_t n = strlen(name), blen;
	const char *p, *dot;
	long pid;

	if (n < 4 + 16 + 1 || name[0] != '.' || strcmp(name + n - 4, ".tmp"))
		return 0;
	p = name + n - 4 - 16;		/* the random part, after a '.' */
	if (strspn(p, "0123456789abcdef") != 16 || p[-1] != '.')
		return 0;
	dot = p - 1;			/* the pid: digits between two dots */
	for (p = dot; p > name + 1 && p[-1] >= '0' && p[-1] <= '9'; p--)
		;
	if (p == dot || dot - p > 10 || *p == '0' || p[-1] != '.')
		return 0;
	pid = strtol(p, NULL, 10);
	blen = (size_t)(p - 1 - (name + 1));
	if (!blen || pid <= 0 || pid > 0x3fffffff)
		return 0;
	if (base && (strlen(base) != blen || strncmp(name + 1, base, blen)))
		return 0;
	return (pid_t)pid;
}

/* Empty and remove the directory name in dfd when it holds only regular
 * files, as vs_safe_temp_dir()'s users write; anything else there and it
 * is left whole (-ENOTEMPTY). */
static int remove_temp_dir(int dfd, const char *name)
{
	struct dirent *de;
	struct stat st;
	int fd, err = 0, pass;
	DIR *d;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	/* pass 0 looks, pass 1 removes */
	for (pass = 0; pass < 2 && !err; pass++) {
		rewinddir(d);
		while ((de = readdir(d)) && !err) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (!pass && (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
				      !S_ISREG(st.st_mode)))
				err = -ENOTEMPTY;
			else if (pass && unlinkat(fd, de->d_name, 0))
				err = -errno;
		}
	}
	closedir(d);
	if (!err && unlinkat(dfd, name, AT_REMOVEDIR))
		err = -errno;
	return err;
}

/* Remove the temporaries in the open directory dfd that dead runs left
 * (vs_safe_sweep_temps()); with dirs, also vs_safe_temp_dir()'s. */
static int sweep_temps(int dfd, const char *base, bool dirs)
{
	struct dirent *de;
	struct stat st;
	int removed = 0, fd;
	DIR *d;

	fd = dup(dfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		pid_t pid = temp_pid(de->d_name, base);
		bool is_dir;

		/* ours: another thread of this process may be writing it */
		if (!pid || pid == getpid())
			continue;
		/* only a file (or with dirs, a directory) of our own user: a
		 * link or another user's entry in a shared directory is not
		 * ours to remove */
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || st.st_uid != geteuid())
			continue;
		is_dir = S_ISDIR(st.st_mode);
		if (!S_ISREG(st.st_mode) && !(dirs && is_dir))
			continue;
		if (!vs_host_proc_gone_since(pid, &st.st_mtim))
			continue;
		if (is_dir ? !remove_temp_dir(dfd, de->d_name) : !unlinkat(dfd, de->d_name, 0))
			removed++;
	}
	closedir(d);
	return removed;
}

int vs_safe_sweep_temps(const char *dir, const char *base)
{
	int dfd, n;

	dfd = vs_open_rooted(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (dfd < 0)
		return dfd == -ENOENT ? 0 : dfd;
	n = sweep_temps(dfd, base, false);
	close(dfd);
	return n;
}

/* A temporary in dfd that nobody could have named in advance: an
 * unnamed O_TMPFILE where the filesystem has them, else an O_EXCL file
 * with a random name (then in *named). fd or -errno. */
static int make_temp(int dfd, const char *base, mode_t mode, char *named, size_t nlen)
{
	int fd, tries;

	named[0] = '\0';
	fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	for (tries = 0; tries < 16; tries++) {
		random_name(named, nlen, base);
		fd = openat(dfd, named, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		named[0] = '\0';
	return fd < 0 ? -errno : fd;
}

/* Give the unnamed temporary fd a random name in dfd. */
static int name_temp(int fd, int dfd, const char *base, char *named, size_t nlen)
{
	char proc[64];
	int tries;

	for (tries = 0; tries < 16; tries++) {
		random_name(named, nlen, base);
		if (!linkat(fd, "", dfd, named, AT_EMPTY_PATH))
			return 0;
		if (errno == EEXIST)
			continue;
		/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc does not */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (!linkat(AT_FDCWD, proc, dfd, named, AT_SYMLINK_FOLLOW))
			return 0;
		if (errno != EEXIST)
			break;
	}
	named[0] = '\0';
	return -errno;
}

int vs_safe_replace(const char *path, const void *buf, size_t len,
		    const char *tail, mode_t mode, unsigned int flags)
{
	char dir[PATH_MAX], named[256];
	const char *base;
	struct stat st;
	int dfd, fd, err;

	err = split(path, dir, sizeof(dir), &base);
	if (err)
		return err;
	dfd = vs_open_rooted(dir, O_RDONLY | O_DIRECTORY |
			     (flags & VS_SAFE_PRIVATE ? O_NOFOLLOW : 0), 0);
	if (dfd < 0)
		return dfd;
	if (flags & VS_SAFE_PRIVATE) {
		err = check_file(dfd, VS_SAFE_PRIVATE, true);
		if (err)
			goto out_dir;
	}
	/* rename() would replace a symlink, not follow it; refusing says
	 * so instead of silently breaking someone's link */
	if (!fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW)) {
		err = S_ISLNK(st.st_mode) ? -ELOOP : !S_ISREG(st.st_mode) ? -EINVAL : 0;
		if (!err && (flags & VS_SAFE_PRIVATE) &&
		    (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))))
			err = -EPERM;
		if (err)
			goto out_dir;
	} else if (errno != ENOENT) {
		err = -errno;
		goto out_dir;
	}
	/* Any writer may have been SIGKILLed between its temporary's link
	 * and rename (a --save target in /tmp has no lock and no other
	 * cleaner): best effort, the write goes on. */
	sweep_temps(dfd, base, false);
	fd = make_temp(dfd, base, mode, named, sizeof(named));
	if (fd < 0) {
		err = fd;
		goto out_dir;
	}
	if (fchmod(fd, mode))
		err = -errno;
	if (!err)
		err = write_all(fd, buf, len);
	if (!err && tail)
		err = write_all(fd, tail, strlen(tail));
	if (!err && (flags & VS_SAFE_DURABLE) && fsync(fd))
		err = -errno;
	if (!err && !named[0])
		err = name_temp(fd, dfd, base, named, sizeof(named));
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(dfd, named, dfd, base))
		err = -errno;
	if (err && named[0])
		unlinkat(dfd, named, 0);
	if (!err && (flags & VS_SAFE_DURABLE) && fsync(dfd))
		err = -errno;
out_dir:
	close(dfd);
	return err;
}

int vs_safe_temp_dir(const char *path, mode_t mode, char *named, size_t nlen)
{
	char dir[PATH_MAX], name[256];
	const char *base;
	int dfd, err, tries;

	err = split(path, dir, sizeof(dir), &base);
	if (err)
		return err;
	dfd = vs_open_rooted(dir, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0)
		return dfd;
	/* best effort, as in vs_safe_replace(): the new one is made anyway */
	sweep_temps(dfd, base, true);
	err = -EEXIST;
	for (tries = 0; tries < 16 && err == -EEXIST; tries++) {
		random_name(name, sizeof(name), base);
		if (snprintf(named, nlen, "%s/%s", dir, name) >= (int)nlen) {
			err = -ENAMETOOLONG;
			break;
		}
		err = mkdirat(dfd, name, mode) ? -errno : 0;
	}
	close(dfd);
	if (err)
		named[0] = '\0';
	return err;
}
