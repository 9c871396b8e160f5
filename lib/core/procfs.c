// SPDX-License-Identifier: GPL-2.0-only
/* The /proc walker (see procfs.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/procfs.h"
#include "core/safefile.h"
#include "core/sysfs.h"

/* A positive decimal number and nothing else, as /proc names pids. */
static long entry_number(const char *name)
{
	char *end;
	long v;

	if (name[0] < '0' || name[0] > '9')
		return -1;
	errno = 0;
	v = strtol(name, &end, 10);
	if (*end || errno || v > INT_MAX)
		return -1;
	return v;
}

/* Open a /proc directory (inside a --root tree: its own /proc); a missing
 * process reads as -ESRCH. */
static int open_dir(DIR **d, const char *path, int missing)
{
	*d = vs_opendir_rooted(path);
	if (*d)
		return 0;
	return errno == ENOENT ? missing : -errno;
}

int vs_proc_each_pid(vs_proc_pid_fn fn, void *arg)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int err, ret = 0;
	DIR *d;

	err = vs_path(dir, sizeof(dir), "/proc");
	if (err)
		return err;
	err = open_dir(&d, dir, -ENOENT);
	if (err)
		return err;
	while (!ret && (de = readdir(d))) {
		long pid = entry_number(de->d_name);

		if (pid > 0)
			ret = fn((pid_t)pid, arg);
	}
	closedir(d);
	return ret;
}

int vs_proc_each_task(pid_t pid, vs_proc_task_fn fn, void *arg)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int err, ret = 0;
	DIR *d;

	err = vs_path(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	if (err)
		return err;
	err = open_dir(&d, dir, -ESRCH);
	if (err)
		return err;
	while (!ret && (de = readdir(d))) {
		long tid = entry_number(de->d_name);

		if (tid > 0)
			ret = fn(pid, (pid_t)tid, arg);
	}
	closedir(d);
	return ret;
}

int vs_proc_each_fd(pid_t pid, vs_proc_fd_fn fn, void *arg)
{
	char dir[PATH_MAX], target[256];
	struct dirent *de;
	int err, ret = 0;
	DIR *d;

	err = vs_path(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if (err)
		return err;
	err = open_dir(&d, dir, -ESRCH);
	if (err)
		return err;
	while (!ret && (de = readdir(d))) {
		long fd = entry_number(de->d_name);
		ssize_t n;

		if (fd < 0)
			continue;
		/* the link itself, in the directory opened inside the tree */
		n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (n <= 0)
			continue;	/* closed meanwhile */
		target[n] = '\0';
		ret = fn(pid, (int)fd, target, arg);
	}
	closedir(d);
	return ret;
}

int vs_proc_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[PATH_MAX];
	int err;

	buf[0] = '\0';
	if (tid > 0)
		err = vs_path(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid,
			      (int)tid);
	else
		err = vs_path(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (err)
		return err;
	err = vs_read_str(path, buf, len);
	if (err)
		buf[0] = '\0';
	return err == -ENOENT ? -ESRCH : err;
}

/* When process pid (of the /proc at proc: the host's, or a tree's)
 * started, in CLOCK_REALTIME seconds; -ESRCH when it does not run. */
static int start_s(const char *proc, pid_t pid, double *start)
{
	char path[PATH_MAX], buf[1024], *p;
	unsigned long long ticks;
	struct timespec rt, boot;
	ssize_t n;
	int fd, i;

	if (snprintf(path, sizeof(path), "%s/%d/stat", proc, (int)pid) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = vs_open_rooted(path, O_RDONLY, 0);
	if (fd == -ENOENT) {
		/* gone only when its directory is: a tree may model a
		 * process without a stat file */
		*strrchr(path, '/') = '\0';
		fd = vs_open_rooted(path, O_PATH | O_DIRECTORY, 0);
		if (fd < 0)
			return fd == -ENOENT ? -ESRCH : fd;
		close(fd);
		return -ENOENT;
	}
	if (fd < 0)
		return fd;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 && errno == ESRCH ? -ESRCH : -EIO;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields count from the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	/* starttime is field 22; after ')' come field 3 (state) onwards */
	for (i = 3; i <= 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
		return -EINVAL;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	*start = (double)(rt.tv_sec - boot.tv_sec) + (rt.tv_nsec - boot.tv_nsec) / 1e9 +
		 (double)ticks / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

static bool gone_since(const char *proc, pid_t pid, const struct timespec *mtime)
{
	double start;
	int err;

	if (pid <= 0)
		return false;
	err = start_s(proc, pid, &start);
	if (err)
		return err == -ESRCH;
	return start > (double)mtime->tv_sec + mtime->tv_nsec / 1e9 + 1.0;
}

bool vs_proc_gone_since(pid_t pid, const struct timespec *mtime)
{
	char proc[PATH_MAX];

	return !vs_path(proc, sizeof(proc), "/proc") && gone_since(proc, pid, mtime);
}

bool vs_host_proc_gone_since(pid_t pid, const struct timespec *mtime)
{
	return gone_since("/proc", pid, mtime);
}

int vs_beside_exe(const char *rel, char *path, size_t len)
{
	char exe[PATH_MAX], joined[PATH_MAX + 256], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if (snprintf(joined, sizeof(joined), "%s/%s", exe, rel) >= (int)sizeof(joined))
		return -ENAMETOOLONG;
	if (access(joined, R_OK))
		return -errno;
	if (!realpath(joined, exe))
		return -errno;
	if (snprintf(path, len, "%s", exe) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}
