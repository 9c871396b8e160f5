// SPDX-License-Identifier: GPL-2.0-only
/*
 * Knobs of the running reference device, through its control file
 * (lib/pcdev_ctl.h): pcdev.consumer_busyloop_ns, pcdev.consumer_sleep_ns
 * and vm.halt_poll_ns (KVM_CAP_HALT_POLL can only be set on a VM file
 * descriptor, which only the device's own process holds).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "impl.h"
#include "pcdev_ctl.h"
#include "sysfs.h"

int vs_vm_set_halt_poll_ns(int vm_fd, uint32_t ns)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_HALT_POLL };

	cap.args[0] = ns;
	return ioctl(vm_fd, KVM_ENABLE_CAP, &cap) ? -errno : 0;
}

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

static int pcdev_inst(const char *inst, pid_t *pid)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)inst[0]))
		return -EINVAL;
	errno = 0;
	v = strtol(inst, &end, 10);
	if (errno || *end || v <= 0 || v > INT32_MAX)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

static uint64_t *ctl_field(struct vs_pcdev_ctl *ctl, int which)
{
	return which == 0 ? &ctl->halt_poll_ns :
	       which == 1 ? &ctl->consumer_busyloop_ns : &ctl->consumer_sleep_ns;
}

static int pcdev_validate(int which, uint64_t max, const char *inst,
			  const char *val, char *canon, size_t len, char *why,
			  size_t whylen)
{
	struct vs_pcdev_ctl ctl;
	char proc[512];
	pid_t pid;
	int err = pcdev_inst(inst, &pid);

	(void)which;
	if (err) {
		WHY("target '%s' is not the pid of a reference device", inst);
		return err;
	}
	err = vs_path(proc, sizeof(proc), "/proc/%d", (int)pid);
	if (!err && access(proc, F_OK))
		err = -ESRCH;
	if (!err)
		err = vs_pcdev_ctl_read(pid, &ctl);
	if (err) {
		WHY("no reference device runs as pid %s (no live /run/virtsync/pcdev-%s.ctl)",
		    inst, inst);
		return err == -ESRCH ? -ENOENT : err;
	}
	return knob_canon_u64(val, 0, max, canon, len, why, whylen);
}

static int pcdev_read(int which, const char *inst, char *val, size_t len)
{
	struct vs_pcdev_ctl ctl;
	pid_t pid;
	int err = pcdev_inst(inst, &pid);

	if (!err)
		err = vs_pcdev_ctl_read(pid, &ctl);
	if (err)
		return err;
	snprintf(val, len, "%" PRIu64, *ctl_field(&ctl, which));
	return 0;
}

static int pcdev_write(int which, const char *inst, const char *val)
{
	struct vs_pcdev_ctl ctl;
	unsigned long long v;
	char *end;
	pid_t pid;
	int err = pcdev_inst(inst, &pid);

	if (!err)
		err = vs_pcdev_ctl_read(pid, &ctl);
	if (err)
		return err;
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ctl_field(&ctl, which) = v;
	return vs_pcdev_ctl_write(pid, &ctl);
}

#define PCDEV_KNOB(id, kname, which, kmax, khelp)                               \
	static int id##_validate(const char *inst, const char *val, char *canon, \
				 size_t len, char *why, size_t whylen)           \
	{                                                                        \
		return pcdev_validate(which, kmax, inst, val, canon, len, why,   \
				      whylen);                                   \
	}                                                                        \
	static int id##_read(const char *inst, char *val, size_t len)            \
	{                                                                        \
		return pcdev_read(which, inst, val, len);                        \
	}                                                                        \
	static int id##_write(const char *inst, const char *val)                 \
	{                                                                        \
		return pcdev_write(which, inst, val);                            \
	}                                                                        \
	const struct vs_knob_ops vs_knob_##id = {                                \
		.name = kname, .scope = VS_SCOPE_VM, .live = true, .unit = "ns", \
		.help = khelp, .validate = id##_validate, .read = id##_read,     \
		.write = id##_write,                                             \
	}

PCDEV_KNOB(vm_halt_poll_ns, "vm.halt_poll_ns", 0, UINT32_MAX,
	   "KVM_CAP_HALT_POLL of a VM virtsync runs (the reference device)");
PCDEV_KNOB(pcdev_consumer_busyloop_ns, "pcdev.consumer_busyloop_ns", 1,
	   10000000000ULL, "reference device: consumer busy-polls this long");
PCDEV_KNOB(pcdev_consumer_sleep_ns, "pcdev.consumer_sleep_ns", 2,
	   10000000000ULL, "reference device: consumer's sleep length");
