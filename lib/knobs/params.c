// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module parameters: KVM's host-side halt polling (kvm.halt_poll_ns and its
 * grow/shrink/grow_start) and the guest-side cpuidle-haltpoll parameters
 * (guest.*, when virtsync runs inside a KVM guest).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "knobs/impl.h"
#include "core/sysfs.h"

struct param_def {
	const char *path;
	uint64_t max;
	bool is_bool;
	const char *hint;	/* what to do when the file is read-only */
};

static int param_path(const struct param_def *d, const char *inst, char *buf,
		      size_t len)
{
	if (*inst)
		return -EINVAL;
	return vs_path(buf, len, "%s", d->path);
}

static int param_validate(const struct param_def *d, const char *inst,
			  const char *val, char *canon, size_t len, char *why,
			  size_t whylen)
{
	char path[512];
	int err = param_path(d, inst, path, sizeof(path));

	if (err) {
		WHY("takes no target (it is global)");
		return err;
	}
	if (d->is_bool) {
		if (!strcmp(val, "1") || !strcasecmp(val, "y") ||
		    !strcasecmp(val, "true"))
			snprintf(canon, len, "Y");
		else if (!strcmp(val, "0") || !strcasecmp(val, "n") ||
			 !strcasecmp(val, "false"))
			snprintf(canon, len, "N");
		else {
			WHY("value '%s' is not a boolean (Y/N, 1/0, true/false)", val);
			return -EINVAL;
		}
		err = knob_file_writable(path);
		if (err)
			WHY("%s: %s", path, strerror(-err));
		return err;
	}
	err = knob_validate_file_u64(path, val, 0, d->max, canon, len, why, whylen);
	if (err == -EROFS && d->hint)
		WHY("%s is read-only on this host: %s", d->path, d->hint);
	else if (err == -ENOENT && !strncmp(d->path, "/sys/module/haltpoll", 20))
		WHY("%s does not exist: not a KVM guest with the cpuidle-haltpoll driver", path);
	return err;
}

static int param_read(const struct param_def *d, const char *inst, char *val,
		      size_t len)
{
	char path[512];
	int err = param_path(d, inst, path, sizeof(path));

	return err ? err : vs_read_str(path, val, len);
}

static int param_write(const struct param_def *d, const char *inst,
		       const char *val)
{
	char path[512];
	int err = param_path(d, inst, path, sizeof(path));

	return err ? err : vs_write_str(path, val);
}

#define PARAM_KNOB(id, kname, kpath, kmax, kbool, khelp, khint)               \
	static const struct param_def id##_def = { kpath, kmax, kbool, khint };  \
	static int id##_validate(const char *inst, const char *val, char *canon, \
				 size_t len, char *why, size_t whylen)           \
	{                                                                        \
		return param_validate(&id##_def, inst, val, canon, len, why,     \
				      whylen);                                   \
	}                                                                        \
	static int id##_read(const char *inst, char *val, size_t len)            \
	{                                                                        \
		return param_read(&id##_def, inst, val, len);                    \
	}                                                                        \
	static int id##_write(const char *inst, const char *val)                 \
	{                                                                        \
		return param_write(&id##_def, inst, val);                        \
	}                                                                        \
	const struct vs_knob_ops vs_knob_##id = {                                \
		.name = kname, .scope = VS_SCOPE_GLOBAL, .live = true,           \
		.unit = kbool ? "bool" : "", .help = khelp,                      \
		.validate = id##_validate, .read = id##_read,                    \
		.write = id##_write,                                             \
	}

#define KVM_HINT "use vm.halt_poll_ns for VMs virtsync runs (the reference device), " \
	"or load kvm with halt_poll_ns=N"
#define KVMP "/sys/module/kvm/parameters/"
#define HPP "/sys/module/haltpoll/parameters/"

PARAM_KNOB(kvm_halt_poll_ns, "kvm.halt_poll_ns", KVMP "halt_poll_ns",
	   UINT32_MAX, false, "host: max ns a halted vCPU polls before it sleeps",
	   KVM_HINT);
PARAM_KNOB(kvm_halt_poll_ns_grow, "kvm.halt_poll_ns_grow", KVMP "halt_poll_ns_grow",
	   UINT32_MAX, false, "host: factor the poll window grows by", KVM_HINT);
PARAM_KNOB(kvm_halt_poll_ns_shrink, "kvm.halt_poll_ns_shrink",
	   KVMP "halt_poll_ns_shrink", UINT32_MAX, false,
	   "host: divisor the poll window shrinks by (0: reset)", KVM_HINT);
PARAM_KNOB(kvm_halt_poll_ns_grow_start, "kvm.halt_poll_ns_grow_start",
	   KVMP "halt_poll_ns_grow_start", UINT32_MAX, false,
	   "host: first poll window after a useful wake-up", KVM_HINT);
PARAM_KNOB(guest_halt_poll_ns, "guest.halt_poll_ns", HPP "guest_halt_poll_ns",
	   UINT32_MAX, false, "guest: max ns an idle vCPU polls before HLT", NULL);
PARAM_KNOB(guest_halt_poll_grow, "guest.halt_poll_grow", HPP "guest_halt_poll_grow",
	   UINT32_MAX, false, "guest: factor the poll window grows by", NULL);
PARAM_KNOB(guest_halt_poll_shrink, "guest.halt_poll_shrink",
	   HPP "guest_halt_poll_shrink", UINT32_MAX, false,
	   "guest: divisor the poll window shrinks by", NULL);
PARAM_KNOB(guest_halt_poll_grow_start, "guest.halt_poll_grow_start",
	   HPP "guest_halt_poll_grow_start", UINT32_MAX, false,
	   "guest: first poll window after a useful wake-up", NULL);
PARAM_KNOB(guest_halt_poll_allow_shrink, "guest.halt_poll_allow_shrink",
	   HPP "guest_halt_poll_allow_shrink", 1, true,
	   "guest: let the poll window shrink after useless polls", NULL);
