// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network busy polling: the net.core.busy_poll/busy_read sysctls (us a
 * socket busy-polls its device queue) and, per device, NAPI's deferral of
 * hard interrupts (napi_defer_hard_irqs, gro_flush_timeout).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "knobs/impl.h"
#include "core/sysfs.h"

static int sysctl_validate(const char *file, const char *inst, const char *val,
			   char *canon, size_t len, char *why, size_t whylen)
{
	char path[512];

	if (*inst) {
		WHY("takes no target (it is global)");
		return -EINVAL;
	}
	vs_path(path, sizeof(path), "/proc/sys/net/core/%s", file);
	/* the kernel takes an int >= 0 (microseconds) */
	return knob_validate_file_u64(path, val, 0, INT32_MAX, canon, len, why, whylen);
}

static int sysctl_rw(const char *file, const char *inst, char *rval,
		     size_t len, const char *wval)
{
	char path[512];
	int err;

	if (*inst)
		return -EINVAL;
	err = vs_path(path, sizeof(path), "/proc/sys/net/core/%s", file);
	if (err)
		return err;
	return rval ? vs_read_str(path, rval, len) : vs_write_str(path, wval);
}

static int netdev_path(const char *file, const char *inst, char *buf, size_t len)
{
	/* the name comes from a profile: no '/' or "..", so no way out of
	 * /sys/class/net/ */
	if (!vs_safe_name(inst, 15))
		return -EINVAL;
	return vs_path(buf, len, "/sys/class/net/%s/%s", inst, file);
}

static int netdev_validate(const char *file, uint64_t max, const char *inst,
			   const char *val, char *canon, size_t len, char *why,
			   size_t whylen)
{
	char path[512];
	int err = netdev_path(file, inst, path, sizeof(path));

	if (err) {
		WHY("'%s' is not a network device name", inst);
		return err;
	}
	err = knob_validate_file_u64(path, val, 0, max, canon, len, why, whylen);
	if (err == -ENOENT)
		WHY("no network device '%s' with %s", inst, file);
	return err;
}

static int netdev_rw(const char *file, const char *inst, char *rval, size_t len,
		     const char *wval)
{
	char path[512];
	int err = netdev_path(file, inst, path, sizeof(path));

	if (err)
		return err;
	return rval ? vs_read_str(path, rval, len) : vs_write_str(path, wval);
}

#define SYSCTL_KNOB(id, file, khelp)                                            \
	static int id##_validate(const char *inst, const char *val, char *canon, \
				 size_t len, char *why, size_t whylen)           \
	{                                                                        \
		return sysctl_validate(file, inst, val, canon, len, why, whylen);\
	}                                                                        \
	static int id##_read(const char *inst, char *val, size_t len)            \
	{                                                                        \
		return sysctl_rw(file, inst, val, len, NULL);                    \
	}                                                                        \
	static int id##_write(const char *inst, const char *val)                 \
	{                                                                        \
		return sysctl_rw(file, inst, NULL, 0, val);                      \
	}                                                                        \
	const struct vs_knob_ops vs_knob_##id = {                                \
		.name = "net.core." file, .scope = VS_SCOPE_GLOBAL, .live = true,\
		.unit = "us", .help = khelp, .validate = id##_validate,          \
		.read = id##_read, .write = id##_write,                          \
	}

#define NETDEV_KNOB(id, file, kmax, kunit, khelp)                               \
	static int id##_validate(const char *inst, const char *val, char *canon, \
				 size_t len, char *why, size_t whylen)           \
	{                                                                        \
		return netdev_validate(file, kmax, inst, val, canon, len, why,   \
				       whylen);                                  \
	}                                                                        \
	static int id##_read(const char *inst, char *val, size_t len)            \
	{                                                                        \
		return netdev_rw(file, inst, val, len, NULL);                    \
	}                                                                        \
	static int id##_write(const char *inst, const char *val)                 \
	{                                                                        \
		return netdev_rw(file, inst, NULL, 0, val);                      \
	}                                                                        \
	const struct vs_knob_ops vs_knob_##id = {                                \
		.name = "netdev." file, .scope = VS_SCOPE_NETDEV, .live = true,  \
		.unit = kunit, .help = khelp, .validate = id##_validate,         \
		.read = id##_read, .write = id##_write,                          \
	}

SYSCTL_KNOB(net_busy_poll, "busy_poll", "us poll()/select() busy-poll device queues");
SYSCTL_KNOB(net_busy_read, "busy_read", "us a socket read busy-polls its queue");
NETDEV_KNOB(netdev_napi_defer_hard_irqs, "napi_defer_hard_irqs", INT32_MAX, "",
	    "empty NAPI polls before the device IRQ is re-enabled");
NETDEV_KNOB(netdev_gro_flush_timeout, "gro_flush_timeout", 10000000000ULL, "ns",
	    "ns NAPI waits (timer) before re-enabling the IRQ");
