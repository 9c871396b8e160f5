// SPDX-License-Identifier: GPL-2.0-only
/* virtsync export: a profile or plan as a tuned profile, libvirt XML or
 * QEMU options (lib/output/export.h). */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "profvars.h"
#include "output/export.h"
#include "tune/planfile.h"
#include "tune/profile.h"
#include "core/units.h"

static struct env {
	const char *profile;
	const char *plan;
	const char *tuned;
	bool libvirt;
	bool qemu;
	unsigned int vcpus;
} env;

static const char doc[] =
"Export a tuning profile, or the plan of a run saved by diagnose or tune\n"
"--save, for tuned, libvirt or QEMU.\n"
"\n"
"Synopsis: virtsync export PROFILE|--plan FILE [--tuned DIR] [--libvirt]\n"
"                          [--qemu] [--set NAME=VALUE]... [--vcpus N]\n"
"\n"
"--tuned writes DIR/tuned.conf and DIR/script.sh (what tuned cannot\n"
"express); --libvirt prints domain XML (<cputune> pins, the vhost\n"
"interface); --qemu prints QEMU options (poll-us, poll-max-ns). Variables\n"
"are expanded as 'virtsync apply' does; nothing on this host is changed.\n"
"\n"
"Examples:\n"
"    virtsync export latency-poll --tuned /etc/tuned/vs-latency\n"
"    virtsync export --plan plan.json --libvirt --vcpus 4\n"
"    virtsync export --plan plan.json --qemu";

enum { OPT_PLAN = 1000, OPT_TUNED, OPT_LIBVIRT, OPT_QEMU, OPT_VCPUS };

static const struct argp_option opts[] = {
	{ "plan", OPT_PLAN, "FILE", 0, "Export the plan of a run saved by diagnose or tune --save", 0 },
	{ "tuned", OPT_TUNED, "DIR", 0, "Write a tuned profile directory", 0 },
	{ "libvirt", OPT_LIBVIRT, NULL, 0, "Print libvirt domain XML", 0 },
	{ "qemu", OPT_QEMU, NULL, 0, "Print QEMU command-line options", 0 },
	{ "vcpus", OPT_VCPUS, "N", 0, "vCPUs of the domain for <vcpupin> (default 1)", 0 },
	{ 0 },
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	uint64_t u;

	switch (key) {
	case OPT_PLAN:
		env.plan = arg;
		break;
	case OPT_TUNED:
		if (!arg[0]) {
			vs_err("--tuned: empty directory name");
			return EINVAL;
		}
		env.tuned = arg;
		break;
	case OPT_LIBVIRT:
		env.libvirt = true;
		break;
	case OPT_QEMU:
		env.qemu = true;
		break;
	case OPT_VCPUS:
		if (opt_u64("--vcpus", arg, 1, 1024, &u))
			return EINVAL;
		env.vcpus = u;
		break;
	case ARGP_KEY_ARG:
		return vs_profvars_operand(key, arg, &env.profile, env.plan);
	case ARGP_KEY_END:
		if (vs_profvars_operand(key, arg, &env.profile, env.plan))
			return EINVAL;
		if (!env.tuned && !env.libvirt && !env.qemu) {
			vs_err("give --tuned DIR, --libvirt or --qemu");
			return EINVAL;
		}
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &vs_profvars_argp, 0, "Profile variables:", 0 },
	{ &vs_common_argp, 0, "Common options:", 0 },
	{ 0 },
};

VS_COMMAND(export, 0, "write a profile or plan as tuned profile, libvirt XML, QEMU options")
{
	const struct argp argp = { opts, parse_arg, "PROFILE", doc, children };
	struct vs_profile *p = NULL;
	struct vs_export *x = NULL;
	char source[160], err[512], *xml = NULL, *qemu = NULL;
	json_t *out_doc = NULL;
	int e, ret;

	memset(&env, 0, sizeof(env));
	env.vcpus = 1;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	ret = vs_profvars_load(env.profile, env.plan, &p, source, sizeof(source));
	if (ret)
		return ret;
	ret = VS_EXIT_USAGE;
	e = vs_export_build(p, source, env.plan, vs_profvars.vars, vs_profvars.n, &x, err, sizeof(err));
	if (e) {
		vs_err("%s: %s; nothing was written", source, err);
		goto out;
	}
	ret = VS_EXIT_FAIL;
	/* everything that can fail is built before anything is written */
	if (env.libvirt && (e = vs_export_libvirt(x, env.vcpus, &xml))) {
		vs_err("--libvirt: %s", strerror(-e));
		goto out;
	}
	if (env.qemu && (e = vs_export_qemu(x, &qemu))) {
		vs_err("--qemu: %s", strerror(-e));
		goto out;
	}
	if (env.tuned) {
		e = vs_export_tuned(x, env.tuned, err, sizeof(err));
		if (e) {
			vs_err("--tuned %s: %s; nothing was written", env.tuned, err);
			goto out;
		}
	}
	if (vs_global.json) {
		out_doc = json_object();
		vs_json_add_meta(out_doc, argc, argv);
		json_object_set_new(out_doc, "source", json_string(source));
		if (env.tuned)
			json_object_set_new(out_doc, "tuned", json_string(env.tuned));
		if (xml)
			json_object_set_new(out_doc, "libvirt", json_string(xml));
		if (qemu)
			json_object_set_new(out_doc, "qemu", json_string(qemu));
		/* vs_json_print() takes the reference */
		e = vs_json_print(out_doc);
		out_doc = NULL;
		if (e)
			goto out;
	} else {
		if (env.tuned)
			printf("wrote %s/tuned.conf and %s/script.sh (%s)\n", env.tuned,
			       env.tuned, source);
		if (xml)
			fputs(xml, stdout);
		if (qemu)
			fputs(qemu, stdout);
	}
	ret = VS_EXIT_OK;
out:
	json_decref(out_doc);
	free(xml);
	free(qemu);
	vs_export_free(x);
	vs_profile_free(p);
	return ret;
}
