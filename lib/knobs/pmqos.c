// SPDX-License-Identifier: GPL-2.0-only
/* pmqos.cpu_dma_latency_us: a PM QoS CPU latency request kept by a holder
 * process (lib/knobs/pmqos.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "knobs/impl.h"
#include "knobs/pmqos.h"
#include "core/safefile.h"
#include "core/sysfs.h"

int vs_pmqos_request(int32_t us)
{
	char path[512];
	int fd, err;

	err = vs_path(path, sizeof(path), "/dev/cpu_dma_latency");
	if (err)
		return err;
	/* inside a --root tree, its own device node (or file), never one
	 * a link in the tree points to outside it */
	fd = vs_open_rooted(path, O_WRONLY, 0);
	if (fd < 0)
		return fd;
	/* a 4-byte write is taken as a binary s32 (kernel/power/qos.c) */
	if (write(fd, &us, sizeof(us)) != sizeof(us)) {
		err = -errno ? -errno : -EIO;
		close(fd);
		return err;
	}
	return fd;
}

int vs_pmqos_pidfile_path(char *buf, size_t len)
{
	return vs_path(buf, len, "/run/virtsync/hold-cpu_dma_latency.pid");
}

/* The holder is a real process even on a fixture tree, so its liveness is
 * checked in the real /proc, and its cmdline must be ours so that a reused
 * pid is never killed. */
static bool is_holder(pid_t pid)
{
	char path[64], cmd[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return false;
	cmd[n] = '\0';
	/* argv: <exe> hold ... */
	return strlen(cmd) + 1 < (size_t)n && !strcmp(cmd + strlen(cmd) + 1, "hold");
}

int vs_pmqos_holder(pid_t *pid, int32_t *us)
{
	char path[512], buf[64];
	int p, v, err;

	err = vs_pmqos_pidfile_path(path, sizeof(path));
	if (!err)
		err = vs_read_str(path, buf, sizeof(buf));
	if (err)
		return err == -ENODATA ? -ENOENT : err;
	if (sscanf(buf, "%d %d", &p, &v) != 2 || p <= 0)
		return -ENOENT;
	if (!is_holder(p))
		return -ENOENT;
	*pid = p;
	*us = v;
	return 0;
}

static int qos_read(const char *inst, char *val, size_t len)
{
	pid_t pid;
	int32_t us;
	int err;

	if (*inst)
		return -EINVAL;
	err = vs_pmqos_holder(&pid, &us);
	if (err == -ENOENT) {
		snprintf(val, len, "none");
		return 0;
	}
	if (err)
		return err;
	snprintf(val, len, "%d", us);
	return 0;
}

static int qos_validate(const char *inst, const char *val, char *canon,
			size_t len, char *why, size_t whylen)
{
	char path[512];
	int err;

	if (*inst) {
		WHY("takes no target (it is global)");
		return -EINVAL;
	}
	err = vs_path(path, sizeof(path), "/dev/cpu_dma_latency");
	if (!err)
		err = vs_access_rooted(path, W_OK);
	if (err) {
		WHY("%s: %s", path, strerror(-err));
		return err;
	}
	if (!strcmp(val, "none")) {
		snprintf(canon, len, "none");
		return 0;
	}
	return knob_canon_u64(val, 0, VS_PMQOS_MAX_US, canon, len, why, whylen);
}

static int stop_holder(void)
{
	char path[512];
	pid_t pid;
	int32_t us;
	int i, err;

	err = vs_pmqos_holder(&pid, &us);
	if (err) {
		/* a pidfile naming no live holder (one killed with SIGKILL)
		 * goes: its pid could be reused by another holder */
		if (err == -ENOENT && !vs_pmqos_pidfile_path(path, sizeof(path)))
			vs_unlink_rooted(path);
		return 0;
	}
	if (kill(pid, SIGTERM) && errno != ESRCH)
		return -errno;
	for (i = 0; i < 200 && is_holder(pid); i++) {
		struct timespec ts = { 0, 5000000 };

		nanosleep(&ts, NULL);
	}
	if (is_holder(pid))
		return -ETIMEDOUT;
	if (!vs_pmqos_pidfile_path(path, sizeof(path)))
		vs_unlink_rooted(path);
	return 0;
}

/* Start `virtsync hold` detached (double fork, own session) and wait until
 * it says the request is in place. */
static int start_holder(const char *val)
{
	int pfd[2], status, err = 0;
	char fdtxt[16], pidfile[512], limit[48], c;
	struct pollfd p;
	pid_t child;

	err = vs_pmqos_pidfile_path(pidfile, sizeof(pidfile));
	if (err)
		return err;
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	child = fork();
	if (child < 0) {
		err = -errno;
		goto out;
	}
	if (child == 0) {
		char exe[] = "/proc/self/exe";

		int null;

		/* the holder lives long after this call returns: a descriptor
		 * it inherited (the caller's lock above all) would stay open,
		 * and held, in the short while before exec closes CLOEXEC ones
		 * and for good for any that are not; keep the ready pipe only */
		if (pfd[1] > 3)
			close_range(3, pfd[1] - 1, 0);
		close_range(pfd[1] + 1, ~0U, 0);
		setsid();
		if (fork() != 0)
			_exit(0);
		/* a holder that kept the caller's stdout would keep its
		 * pipes (and a shell's $(...)) open for as long as it holds */
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		/* the ready pipe must survive exec */
		fcntl(pfd[1], F_SETFD, 0);
		snprintf(fdtxt, sizeof(fdtxt), "%d", pfd[1]);
		/* hold takes a time like every command: the unit is us */
		snprintf(limit, sizeof(limit), "%sus", val);
		execl(exe, "virtsync", "hold", "--ready-fd", fdtxt, "--pidfile",
		      pidfile, limit, (char *)NULL);
		_exit(127);
	}
	waitpid(child, &status, 0);
	close(pfd[1]);
	pfd[1] = -1;
	p.fd = pfd[0];
	p.events = POLLIN;
	if (poll(&p, 1, 5000) != 1 || read(pfd[0], &c, 1) != 1 || c != 'R')
		err = -EIO;
out:
	close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	return err;
}

static int qos_write(const char *inst, const char *val)
{
	int err;

	if (*inst)
		return -EINVAL;
	err = stop_holder();
	if (err || !strcmp(val, "none"))
		return err;
	return start_holder(val);
}

static int qos_note(const char *inst, char *buf, size_t len)
{
	pid_t pid;
	int32_t us;

	if (vs_pmqos_holder(&pid, &us))
		return -ENOENT;
	snprintf(buf, len, "holder pid %d", (int)pid);
	return 0;
}

const struct vs_knob_ops vs_knob_pmqos_cpu_dma_latency_us = {
	.name = "pmqos.cpu_dma_latency_us", .scope = VS_SCOPE_GLOBAL,
	.live = true, .unit = "us|none",
	.help = "PM QoS CPU latency limit, held by a `virtsync hold` process",
	.validate = qos_validate, .read = qos_read, .write = qos_write,
	.note = qos_note,
};
