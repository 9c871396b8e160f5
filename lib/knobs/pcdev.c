// SPDX-License-Identifier: GPL-2.0-only
/*
 * Knobs of the running reference device, through its control file
 * (lib/pcdev/ctlfile.h): pcdev.consumer_busyloop_ns, pcdev.consumer_sleep_ns
 * and vm.halt_poll_ns (KVM_CAP_HALT_POLL can only be set on a VM file
 * descriptor, which only the device's own process holds).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "knobs/impl.h"
#include "pcdev/ctlfile.h"
#include "core/safefile.h"
#include "core/sysfs.h"

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
	if (!err && vs_access_rooted(proc, F_OK))
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
