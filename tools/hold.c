// SPDX-License-Identifier: GPL-2.0-only
/* virtsync hold: keep a PM QoS CPU latency request until killed. */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/safefile.h"
#include "cmd.h"
#include "knobs/pmqos.h"
#include "core/sysfs.h"

static const char doc[] =
"Hold a PM QoS CPU latency request (/dev/cpu_dma_latency) until killed.\n"
"\n"
"Synopsis: virtsync hold [--pidfile FILE] LATENCY\n"
"\n"
"The kernel drops the request when the file closes, so a process must keep\n"
"it open. 'virtsync apply' starts this for pmqos.cpu_dma_latency_us and\n"
"'virtsync rollback' stops it; run by hand it holds until Ctrl-C.\n"
"\n"
"Examples:\n"
"    virtsync hold 0          # keep every CPU out of deep idle states\n"
"    virtsync hold 20us &     # allow only states that wake within 20 us";

static struct env {
	const char *pidfile;
	int ready_fd;
	uint64_t us;
	bool have_us;
} env;

enum { OPT_PIDFILE = 1000, OPT_READY };

static const struct argp_option opts[] = {
	{ "pidfile", OPT_PIDFILE, "FILE", 0, "Write \"PID US\" there while holding", 0 },
	/* internal: the knob waits on this pipe for 'R' */
	{ "ready-fd", OPT_READY, "FD", OPTION_HIDDEN, NULL, 0 },
	{ 0 },
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	unsigned int fd;
	double ns;

	switch (key) {
	case OPT_PIDFILE:
		env.pidfile = arg;
		return 0;
	case OPT_READY:
		if (opt_uint("--ready-fd", arg, 3, 1024, &fd))
			return EINVAL;
		env.ready_fd = fd;
		return 0;
	case ARGP_KEY_ARG:
		if (env.have_us) {
			vs_err("unexpected argument '%s'", arg);
			return EINVAL;
		}
		/* PM QoS counts whole microseconds; rounding down keeps
		 * the request at least as strict as asked. */
		if (opt_time_unit("LATENCY", arg, 0, VS_PMQOS_MAX_US * 1e3, "us",
				  &ns))
			return EINVAL;
		env.us = (uint64_t)floor(ns / 1e3);
		env.have_us = true;
		return 0;
	case ARGP_KEY_END:
		if (!env.have_us) {
			vs_err("give the latency limit, e.g. 0 or 20us");
			return EINVAL;
		}
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static int write_pidfile(const char *path, const char *text)
{
	char dir[4096], *slash;
	int fd, n = strlen(text), err = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		vs_safe_private_dir(dir, 0700);
	}
	fd = vs_safe_open_state(path, 0644);
	if (fd < 0)
		return fd;
	if (ftruncate(fd, 0) || write(fd, text, n) != n)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static const struct argp_child children[] = {
	{ &vs_common_argp, 0, "Common options:", 0 },
	{ 0 },
};

VS_COMMAND(hold, VS_NEEDS_ROOT, "hold a PM QoS CPU latency request until killed")
{
	const struct argp argp = { opts, parse_arg, "LATENCY", doc, children };
	char text[64];
	sigset_t set;
	int fd, sig;

	memset(&env, 0, sizeof(env));
	env.ready_fd = -1;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = vs_pmqos_request((int32_t)env.us);
	if (fd < 0) {
		vs_err("cannot hold /dev/cpu_dma_latency: %s", strerror(-fd));
		return VS_EXIT_FAIL;
	}
	if (env.pidfile) {
		snprintf(text, sizeof(text), "%d %llu", (int)getpid(),
			 (unsigned long long)env.us);
		int e = write_pidfile(env.pidfile, text);

		if (e) {
			vs_err("cannot write %s: %s", env.pidfile, strerror(-e));
			close(fd);
			return VS_EXIT_FAIL;
		}
	}
	if (env.ready_fd >= 0) {
		/* Nobody reads the ready pipe when the apply that started us was
		 * killed meanwhile: it never journaled us as done, so give up
		 * the request, and leave no pidfile naming a dead holder (a
		 * reused pid would pass for one). SIGPIPE is ignored for this. */
		if (write(env.ready_fd, "R", 1) != 1) {
			char cur[64];

			if (env.pidfile && !vs_read_str(env.pidfile, cur, sizeof(cur)) &&
			    !strcmp(cur, text))
				unlink(env.pidfile);
			vs_err("nobody waits for this holder any more (the apply that started it "
			       "is gone); releasing the request");
			close(fd);
			return VS_EXIT_FAIL;
		}
		close(env.ready_fd);
	}
	if (!vs_global.json && env.ready_fd < 0)
		printf("holding cpu_dma_latency at %llu us (pid %d); Ctrl-C to release\n",
		       (unsigned long long)env.us, (int)getpid());
	fflush(stdout);
	if (vs_root()[0] && env.pidfile) {
		/* On a fixture tree (--root) the holder is a real process but
		 * its record is a file in the tree: a rollback there may start
		 * one that nothing stops. It lasts as long as its record. */
		const struct timespec poll_every = { 1, 0 };
		char cur[64];

		while (sigtimedwait(&set, NULL, &poll_every) < 0)
			if (vs_read_str(env.pidfile, cur, sizeof(cur)) || strcmp(cur, text)) {
				close(fd);
				return VS_EXIT_OK;
			}
	} else {
		sigwait(&set, &sig);
	}
	if (env.pidfile) {
		char cur[64];

		/* only our own record: a newer holder may have replaced it */
		if (!vs_read_str(env.pidfile, cur, sizeof(cur)) && !strcmp(cur, text))
			unlink(env.pidfile);
	}
	close(fd);
	return VS_EXIT_OK;
}
