// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-CPU and per-IRQ knobs: cpuidle.state_disable, cpufreq.governor and
 * irq.affinity.
 *
 * libcpupower has cpuidle_state_disable() and
 * cpufreq_modify_policy_governor(), but it builds its paths from a
 * compiled-in "/sys/devices/system/cpu/" prefix that cannot be moved under
 * $VIRTSYNC_ROOT, so tests could not run them against fixture trees. We
 * write the very same sysfs files it writes, through vs_path().
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "knobs/impl.h"
#include "core/sysfs.h"

static int cstate_inst(const char *inst, unsigned int *cpu, unsigned int *state)
{
	int n = 0;

	if (sscanf(inst, "cpu%u/state%u%n", cpu, state, &n) != 2 || inst[n] ||
	    !isdigit((unsigned char)inst[3]) || *cpu >= 64 || *state >= 64)
		return -EINVAL;
	return 0;
}

static int cstate_path(const char *inst, char *buf, size_t len)
{
	unsigned int cpu, state;
	int err = cstate_inst(inst, &cpu, &state);

	if (err)
		return err;
	return vs_path(buf, len, "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/disable",
		       cpu, state);
}

static int cstate_validate(const char *inst, const char *val, char *canon,
			   size_t len, char *why, size_t whylen)
{
	char path[512];
	int err = cstate_path(inst, path, sizeof(path));

	if (err) {
		WHY("target '%s' is not cpuN/stateS", inst);
		return err;
	}
	err = knob_validate_file_u64(path, val, 0, 1, canon, len, why, whylen);
	if (err == -ENOENT)
		WHY("no idle state %s (no %s)", inst, path);
	return err;
}

static int cstate_read(const char *inst, char *val, size_t len)
{
	char path[512];
	int err = cstate_path(inst, path, sizeof(path));

	return err ? err : vs_read_str(path, val, len);
}

static int cstate_write(const char *inst, const char *val)
{
	char path[512];
	int err = cstate_path(inst, path, sizeof(path));

	return err ? err : vs_write_str(path, val);
}

const struct vs_knob_ops vs_knob_cpuidle_state_disable = {
	.name = "cpuidle.state_disable", .scope = VS_SCOPE_CSTATE, .live = true,
	.unit = "0/1", .help = "1 keeps the CPU out of this idle state",
	.validate = cstate_validate, .read = cstate_read, .write = cstate_write,
};

static int gov_path(const char *inst, const char *file, char *buf, size_t len)
{
	unsigned int cpu;
	int err = knob_cpu_inst(inst, &cpu);

	if (err)
		return err;
	return vs_path(buf, len, "/sys/devices/system/cpu/cpu%u/cpufreq/%s", cpu, file);
}

static int gov_validate(const char *inst, const char *val, char *canon,
			size_t len, char *why, size_t whylen)
{
	char path[512], avail[512], *tok, *save;
	int err = gov_path(inst, "scaling_governor", path, sizeof(path));

	if (err) {
		WHY("target '%s' is not cpuN", inst);
		return err;
	}
	if (!vs_safe_name(val, 15)) {
		WHY("'%s' is not a governor name", val);
		return -EINVAL;
	}
	err = knob_file_writable(path);
	if (err) {
		WHY("%s: %s (no cpufreq driver on this host?)", path, strerror(-err));
		return err;
	}
	err = gov_path(inst, "scaling_available_governors", avail, sizeof(avail));
	if (!err)
		err = vs_read_str(avail, avail, sizeof(avail));
	if (err) {
		WHY("cannot read the available governors of %s: %s", inst, strerror(-err));
		return err;
	}
	for (tok = strtok_r(avail, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (!strcmp(tok, val)) {
			snprintf(canon, len, "%s", val);
			return 0;
		}
	WHY("governor '%s' is not available on %s", val, inst);
	return -EINVAL;
}

static int gov_read(const char *inst, char *val, size_t len)
{
	char path[512];
	int err = gov_path(inst, "scaling_governor", path, sizeof(path));

	return err ? err : vs_read_str(path, val, len);
}

static int gov_write(const char *inst, const char *val)
{
	char path[512];
	int err = gov_path(inst, "scaling_governor", path, sizeof(path));

	return err ? err : vs_write_str(path, val);
}

const struct vs_knob_ops vs_knob_cpufreq_governor = {
	.name = "cpufreq.governor", .scope = VS_SCOPE_CPU, .live = true,
	.unit = "name", .help = "cpufreq scaling governor of the CPU",
	.validate = gov_validate, .read = gov_read, .write = gov_write,
};

static int irq_path(const char *inst, char *buf, size_t len)
{
	unsigned int irq;
	int n = 0;

	if (sscanf(inst, "%u%n", &irq, &n) != 1 || inst[n] ||
	    !isdigit((unsigned char)inst[0]))
		return -EINVAL;
	return vs_path(buf, len, "/proc/irq/%u/smp_affinity_list", irq);
}

static int irq_validate(const char *inst, const char *val, char *canon,
			size_t len, char *why, size_t whylen)
{
	char path[512];
	uint64_t mask, online;
	int err = irq_path(inst, path, sizeof(path));

	if (err) {
		WHY("target '%s' is not an IRQ number", inst);
		return err;
	}
	err = vs_cpulist_parse(val, &mask);
	if (err || !mask) {
		WHY("value '%s' is not a CPU list (like 0-1,3)", val);
		return -EINVAL;
	}
	if (!vs_cpus_online(&online) && (mask & ~online)) {
		WHY("CPU list '%s' names CPUs that are not online", val);
		return -ERANGE;
	}
	err = knob_file_writable(path);
	if (err == -ENOENT)
		WHY("no IRQ %s on this host (no %s)", inst, path);
	else if (err)
		WHY("%s: %s", path, strerror(-err));
	if (err)
		return err;
	return vs_cpulist_format(mask, canon, len);
}

static int irq_read(const char *inst, char *val, size_t len)
{
	char path[512];
	int err = irq_path(inst, path, sizeof(path));

	return err ? err : vs_read_str(path, val, len);
}

static int irq_write(const char *inst, const char *val)
{
	char path[512];
	int err = irq_path(inst, path, sizeof(path));

	return err ? err : vs_write_str(path, val);
}

const struct vs_knob_ops vs_knob_irq_affinity = {
	.name = "irq.affinity", .scope = VS_SCOPE_IRQ, .live = true,
	.unit = "cpulist", .help = "CPUs that may handle the interrupt",
	.validate = irq_validate, .read = irq_read, .write = irq_write,
};
