// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reference device's control file (lib/pcdev/ctlfile.h): the one
 * implementation both sides use, the device that reads it and the knobs
 * (lib/knobs/pcdev.c) that write it.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sysfs.h"
#include "pcdev/ctlfile.h"

int vs_pcdev_ctl_path(pid_t pid, char *buf, size_t len)
{
	if (pid <= 0)
		return -EINVAL;
	return vs_path(buf, len, "/run/virtsync/pcdev-%d.ctl", (int)pid);
}

int vs_pcdev_ctl_parse(const char *text, struct vs_pcdev_ctl *ctl)
{
	const char *line = text;

	memset(ctl, 0, sizeof(*ctl));
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char key[64];
		unsigned long long v;
		int used = 0;

		if (n && line[0] != '#') {
			char tmp[128];

			if (n >= sizeof(tmp))
				return -EINVAL;
			memcpy(tmp, line, n);
			tmp[n] = '\0';
			if (sscanf(tmp, "%63[a-z_]=%llu%n", key, &v, &used) != 2 ||
			    tmp[used] || !isdigit((unsigned char)tmp[strlen(key) + 1]))
				return -EINVAL;
			if (!strcmp(key, "halt_poll_ns"))
				ctl->halt_poll_ns = v;
			else if (!strcmp(key, "consumer_busyloop_ns"))
				ctl->consumer_busyloop_ns = v;
			else if (!strcmp(key, "consumer_sleep_ns"))
				ctl->consumer_sleep_ns = v;
			/* unknown keys: ignored, see the header */
		}
		line += n + (nl ? 1 : 0);
	}
	return 0;
}

int vs_pcdev_ctl_read(pid_t pid, struct vs_pcdev_ctl *ctl)
{
	char path[512], buf[4096];
	int err = vs_pcdev_ctl_path(pid, path, sizeof(path));

	if (!err)
		err = vs_read_str(path, buf, sizeof(buf));
	return err ? err : vs_pcdev_ctl_parse(buf, ctl);
}

int vs_pcdev_ctl_write(pid_t pid, const struct vs_pcdev_ctl *ctl)
{
	char path[512], buf[512];
	int n, err;

	err = vs_pcdev_ctl_path(pid, path, sizeof(path));
	if (err)
		return err;
	n = snprintf(buf, sizeof(buf),
		     "# virtsync pcdev control 1\n"
		     "halt_poll_ns=%" PRIu64 "\n"
		     "consumer_busyloop_ns=%" PRIu64 "\n"
		     "consumer_sleep_ns=%" PRIu64 "\n",
		     ctl->halt_poll_ns, ctl->consumer_busyloop_ns,
		     ctl->consumer_sleep_ns);
	return vs_file_replace(path, buf, (size_t)n, 0644, 0);
}

int vs_pcdev_ctl_check(pid_t pid, struct vs_pcdev_ctl_watch *w,
		       struct vs_pcdev_ctl *ctl)
{
	char path[512];
	struct stat st;
	int64_t mt;
	int err = vs_pcdev_ctl_path(pid, path, sizeof(path));

	if (err)
		return err;
	if (stat(path, &st))
		return -errno;
	mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (st.st_ino == w->ino && mt == w->mtime_ns)
		return 0;
	err = vs_pcdev_ctl_read(pid, ctl);
	if (err)
		return err;
	w->ino = st.st_ino;
	w->mtime_ns = mt;
	return 1;
}

int vs_pcdev_ctl_remove(pid_t pid)
{
	char path[512];
	int err = vs_pcdev_ctl_path(pid, path, sizeof(path));

	if (err)
		return err;
	return unlink(path) ? -errno : 0;
}
