// SPDX-License-Identifier: GPL-2.0-only
/* The /proc walker (see procfs.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/procfs.h"
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

/* Open a /proc directory; a missing process reads as -ESRCH. */
static int open_dir(DIR **d, const char *path, int missing)
{
	*d = opendir(path);
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
	char dir[PATH_MAX], link[PATH_MAX], target[256];
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
		if (snprintf(link, sizeof(link), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(link))
			continue;
		n = readlink(link, target, sizeof(target) - 1);
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
