// SPDX-License-Identifier: GPL-2.0-only
/* The reference device in threads of the caller (device.h says why). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze/validate.h"
#include "core/clock.h"
#include "core/procfs.h"
#include "core/safefile.h"
#include "core/sysfs.h"
#include "diagnose/device.h"
#include "pcdev/ctlfile.h"
#include "sources/devstats.h"

#define PUBLISH_TIMEOUT_NS 3e9
#define ONE_DAY_NS (86400 * 1e9)

struct vs_refdev {
	pthread_t thread;
	struct pcdev_config cfg;
	struct pcdev_results res;
	volatile sig_atomic_t stop;
	atomic_bool finished;
	int err;
	double dmax_ns;
};

/* pcdev publishes under getpid(): one device per process. */
static atomic_bool device_running;

static void *supervise(void *arg)
{
	struct vs_refdev *d = arg;

	d->err = pcdev_run(&d->cfg, &d->res);
	atomic_store(&d->finished, true);
	return NULL;
}

/* Files of this process's own device, if an earlier one in this process
 * could not remove them. */
static void remove_own_files(void)
{
	char path[512];

	vs_pcdev_ctl_remove(getpid());
	if (!vs_devstats_path(getpid(), path, sizeof(path)))
		vs_unlink_rooted(path);
}

int vs_refdev_publish_dir(char *buf, size_t len)
{
	char parent[512], *slash;
	int err = vs_path(buf, len, "/run/virtsync");

	if (err)
		return err;
	if (!access(buf, W_OK | X_OK))
		return 0;
	if (errno != ENOENT)
		return -errno;
	/* not there yet: the first publish creates it in its parent */
	snprintf(parent, sizeof(parent), "%s", buf);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	return access(parent, W_OK | X_OK) ? -errno : 0;
}

static int wait_published(struct vs_refdev *d)
{
	double t0 = vs_mono_ns();
	char path[512];
	int err = vs_devstats_path(getpid(), path, sizeof(path));

	if (err)
		return err;
	while (vs_access_rooted(path, R_OK)) {
		if (atomic_load(&d->finished))
			return d->err ? d->err : -ECANCELED;
		if (vs_mono_ns() - t0 > PUBLISH_TIMEOUT_NS)
			return -ETIMEDOUT;
		usleep(5000);
	}
	return 0;
}

int vs_refdev_start(const struct vs_refdev_opts *o, struct vs_refdev **out)
{
	struct vs_refdev *d;
	sigset_t all, old;
	bool expected = false;
	char dir[512];
	int err;

	*out = NULL;
	if (!o || !o->preset)
		return -EINVAL;
	/* The device publishes from a thread that cannot say why it failed:
	 * a user who may not write there would wait 3 s for a file that never
	 * comes and hear "timed out". Refuse before starting anything. */
	err = vs_refdev_publish_dir(dir, sizeof(dir));
	if (err)
		return err;
	if (!atomic_compare_exchange_strong(&device_running, &expected, true))
		return -EBUSY;
	vs_refdev_sweep();
	remove_own_files();
	d = calloc(1, sizeof(*d));
	if (!d) {
		err = -ENOMEM;
		goto err_running;
	}
	pcdev_config_default(&d->cfg);
	err = pcdev_config_preset(o->preset, &d->cfg, &d->dmax_ns);
	if (err)
		goto err_free;
	d->cfg.dmax_ns = d->dmax_ns;
	d->cfg.backend = o->backend;
	d->cfg.duration_ns = o->run_ns > 0 ? o->run_ns : ONE_DAY_NS;
	d->cfg.rt_priority = o->rt_priority;
	if (o->pin && pcdev_cpu_available(0) && pcdev_cpu_available(1)) {
		d->cfg.pin_p = 0;
		d->cfg.pin_c = 1;
	}
	d->cfg.publish = true;
	d->cfg.stop = &d->stop;
	err = pcdev_config_validate(&d->cfg, NULL);
	if (err)
		goto err_free;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&d->thread, NULL, supervise, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto err_free;
	err = wait_published(d);
	if (err)
		goto err_stop;
	*out = d;
	return 0;

err_stop:
	d->stop = 1;
	pthread_join(d->thread, NULL);
	remove_own_files();
err_free:
	free(d);
err_running:
	atomic_store(&device_running, false);
	return err;
}

pid_t vs_refdev_pid(const struct vs_refdev *d)
{
	return d ? getpid() : 0;
}

const struct pcdev_config *vs_refdev_config(const struct vs_refdev *d)
{
	return &d->cfg;
}

int vs_refdev_stop(struct vs_refdev *d, struct vs_refdev_report *rep)
{
	int err;

	if (!d)
		return 0;
	d->stop = 1;
	pthread_join(d->thread, NULL);
	/* pcdev removes its files when it returns; this covers a run that
	 * failed half way. */
	remove_own_files();
	err = d->err;
	if (rep) {
		memset(rep, 0, sizeof(*rep));
		rep->cfg = d->cfg;
		rep->cfg.stop = NULL;
		rep->res = d->res;
		rep->dmax_ns = d->dmax_ns;
		rep->stopped = d->res.elapsed_ns < d->cfg.duration_ns;
		if (!err)
			pcdev_model_predict(&rep->cfg, &rep->res, &rep->model);
	}
	free(d);
	atomic_store(&device_running, false);
	return err;
}

/* ---- leftovers of dead runs ------------------------------------------- */

/* The pid a leftover's name carries, or 0 when it is not one of ours. */
static pid_t leftover_pid(const char *name)
{
	static const char *const prefixes[] = { "pcdev-", "tune-plan-" };
	static const char *const suffixes[] = {
		".stats", ".stats.tmp", ".ctl", ".ctl.tmp", ".json", ".json.tmp",
	};
	unsigned int i, j;
	char *end;
	long pid;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(name, prefixes[i], n))
			continue;
		errno = 0;
		pid = strtol(name + n, &end, 10);
		if (errno || end == name + n || pid <= 0 || pid > 0x3fffffff)
			return 0;
		for (j = 0; j < sizeof(suffixes) / sizeof(suffixes[0]); j++) {
			/* the plan is .json, the device's files are not */
			if ((i == 0) == (strncmp(suffixes[j], ".json", 5) == 0))
				continue;
			if (!strcmp(end, suffixes[j]))
				return (pid_t)pid;
		}
	}
	return 0;
}

int vs_refdev_sweep(void)
{
	char dir[512];
	struct dirent *e;
	struct stat st;
	int removed = 0;
	DIR *dp;

	if (vs_path(dir, sizeof(dir), "/run/virtsync"))
		return 0;
	/* inside a --root tree, its own /run: entries are removed relative
	 * to the directory opened there, a link never followed */
	dp = vs_opendir_rooted(dir);
	if (!dp)
		return 0;
	while ((e = readdir(dp))) {
		pid_t pid = leftover_pid(e->d_name);

		if (!pid || pid == getpid())
			continue;
		if (fstatat(dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (vs_proc_gone_since(pid, &st.st_mtim) && !unlinkat(dirfd(dp), e->d_name, 0))
			removed++;
	}
	closedir(dp);
	return removed;
}

bool vs_kvm_usable(char *why, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, len, "/dev/kvm: %s", strerror(errno));
		return false;
	}
	close(fd);
	snprintf(why, len, "/dev/kvm works");
	return true;
}
