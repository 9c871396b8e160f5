// SPDX-License-Identifier: GPL-2.0-only
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "tune/planfile.h"
#include "profvars.h"

struct vs_profvars vs_profvars;

enum { OPT_SET = 2000, OPT_PID, OPT_DMAX, OPT_CPUS, OPT_QMP };

static const struct argp_option options[] = {
	{ "set", OPT_SET, "NAME=VALUE", 0, "Set a profile variable ${NAME}", 0 },
	{ "pid", 'p', "PID", 0, "Same as --set pid=PID", 0 },
	{ "dmax", OPT_DMAX, "TIME", 0, "Same as --set dmax=<ns> (latency bound, default 50us)", 0 },
	{ "cpus", OPT_CPUS, "LIST", 0, "Same as --set cpus=LIST", 0 },
	{ "qmp", OPT_QMP, "SOCKET", 0, "Same as --set qmp=SOCKET (QEMU iothread knobs)", 0 },
	{ 0 },
};

static int set_var(const char *opt, const char *name, const char *value)
{
	int err = vs_vars_set(vs_profvars.vars, &vs_profvars.n, VS_PROFILE_MAX_VARS,
			      name, value);

	if (err)
		vs_err("%s: bad variable '%s=%s' (names are [a-z_][a-z0-9_]*)", opt,
		       name, value);
	return err;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char name[64], num[32];
	const char *eq;
	uint64_t pid;
	double ns;

	switch (key) {
	case OPT_SET:
		eq = strchr(arg, '=');
		if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(name)) {
			vs_err("--set: '%s' is not NAME=VALUE", arg);
			return EINVAL;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
		return set_var("--set", name, eq + 1) ? EINVAL : 0;
	case 'p':
		if (opt_u64("--pid", arg, 1, 0x3fffffff, &pid))
			return EINVAL;
		snprintf(num, sizeof(num), "%llu", (unsigned long long)pid);
		return set_var("--pid", "pid", num) ? EINVAL : 0;
	case OPT_DMAX:
		if (opt_time_in("--dmax", arg, VS_DMAX_MIN_NS, VS_DMAX_MAX_NS, &ns))
			return EINVAL;
		snprintf(num, sizeof(num), "%.0f", ns);
		return set_var("--dmax", "dmax", num) ? EINVAL : 0;
	case OPT_CPUS:
		return set_var("--cpus", "cpus", arg) ? EINVAL : 0;
	case OPT_QMP:
		return set_var("--qmp", "qmp", arg) ? EINVAL : 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp vs_profvars_argp = {
	.options = options,
	.parser = parse_arg,
};

int vs_profvars_operand(int key, char *arg, const char **profile, const char *plan)
{
	if (key == ARGP_KEY_ARG) {
		if (*profile) {
			vs_err("more than one profile: '%s' and '%s'", *profile, arg);
			return EINVAL;
		}
		*profile = arg;
	} else if (key == ARGP_KEY_END && !!*profile == !!plan) {
		vs_err("give a PROFILE or --plan FILE (one of them)");
		return EINVAL;
	}
	return 0;
}

int vs_profvars_load(const char *profile, const char *plan, struct vs_profile **p,
		     char *source, size_t slen)
{
	char path[4096], err[512];
	int e;

	if (plan) {
		e = vs_planfile_load(plan, p, err, sizeof(err));
		if (e) {
			vs_err("--plan %s: %s", plan, err);
			return VS_EXIT_USAGE;
		}
		snprintf(source, slen, "plan %s", plan);
		return 0;
	}
	e = vs_profile_locate(profile, path, sizeof(path));
	if (e == -EINVAL) {
		vs_err("profile '%s': not a name ([A-Za-z0-9_.-]) nor a path starting with /, ./ or ../",
		       profile);
		return VS_EXIT_USAGE;
	}
	if (e) {
		vs_err("profile '%s' not found (%s); see 'virtsync profiles list'", profile,
		       strerror(-e));
		return VS_EXIT_USAGE;
	}
	e = vs_profile_load_file(path, VS_KIND_PROFILE, p, err, sizeof(err));
	if (e) {
		vs_err("profile %s: %s", path, err);
		return VS_EXIT_USAGE;
	}
	snprintf(source, slen, "profile %s", (*p)->name);
	return 0;
}
