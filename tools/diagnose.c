// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync diagnose: find the VMs (or run the reference device when there are
 * none), measure them from outside for a few seconds, name the regime of each
 * queue with the evidence, and recommend a plan (paper Sec. 7).
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/units.h"
#include "cmd.h"
#include "core/clock.h"
#include "diagnose/diagnose.h"
#include "output/diagnose.h"
#include "pcdev/pcdev.h"
#include "tune/planfile.h"

VS_COMMAND(diagnose, 0, "find VMs, measure, name the regime, recommend a plan");

enum { OPT_PID = 1000, OPT_WORKLOAD, OPT_DURATION, OPT_DMAX, OPT_SAVE,
       OPT_BACKEND, OPT_NO_CALIBRATE, OPT_NO_PROBES, OPT_QMP, OPT_NO_PLACEMENT };

static struct env {
	pid_t pid;
	const char *workload;
	double duration_ns;
	double dmax_ns;
	const char *save;
	const char *backend;
	bool no_calibrate;
	bool no_probes;
	bool no_placement;
	const char *qmp;	/* QEMU's QMP socket: thread map + query-stats */
} env;

static const char diagnose_doc[] =
"Find the KVM VMs and their I/O threads (or, with none, run the reference\n"
"device), measure kicks, interrupts, waits and CPU per thread for a few\n"
"seconds from public counters, name each queue's regime (BW, sFC, sFP, sLS,\n"
"nFC, nFP, nSCS, nSPS, nSS) with the evidence, and recommend settings with\n"
"the model's predicted throughput, CPU and latency.\n"
"\n"
"Synopsis: virtsync diagnose [--pid PID | --workload PRESET | --qmp SOCKET]\n"
"                            [--duration T]\n"
"                            [--dmax T] [--json] [--save FILE]\n"
"                            [--backend thread|kvm]\n"
"\n"
"Examples:\n"
"    virtsync diagnose                      # VMs on this host, else the device\n"
"    virtsync diagnose --pid 4242 --duration 2s\n"
"    virtsync diagnose --qmp /run/vm1.qmp   # QEMU's thread map + query-stats\n"
"    virtsync diagnose --workload fp-example --backend thread --json\n"
"    virtsync diagnose --dmax 20us --save plan.json\n"
"    virtsync apply --plan plan.json";

static const struct argp_option diagnose_options[] = {
	{ "pid", 'p', "PID", 0, "diagnose this VM or device process only", 0 },
	{ "workload", OPT_WORKLOAD, "PRESET", 0,
	  "run the reference device with this preset (fc-example, fp-example)", 0 },
	{ "duration", 'd', "TIME", 0, "measurement window (default 5s)", 0 },
	{ "dmax", OPT_DMAX, "TIME", 0, "latency bound for the plan (default 50us)", 0 },
	{ "save", OPT_SAVE, "FILE", 0,
	  "save the run with its plan (apply --plan, export --plan, report --from)", 0 },
	{ "backend", OPT_BACKEND, "NAME", 0,
	  "reference device backend: thread or kvm (default thread)", 0 },
	{ "qmp", OPT_QMP, "SOCKET", 0,
	  "diagnose the QEMU at this QMP socket, with its query-stats as evidence", 0 },
	{ "no-calibrate", OPT_NO_CALIBRATE, NULL, 0,
	  "skip the wake-up/notification cost measurement", 0 },
	{ "no-probes", OPT_NO_PROBES, NULL, 0,
	  "do not load the BPF tracepoint probes", 0 },
	{ "no-placement", OPT_NO_PLACEMENT, NULL, 0,
	  "skip the placement audit (CPUs, caches, NUMA, IRQs; about 0.3 s a queue)", 0 },
	{ 0 },
};

static error_t diagnose_parse(int key, char *arg, struct argp_state *state)
{
	uint64_t v;

	switch (key) {
	case 'p':
		if (opt_u64("--pid", arg, 1, INT_MAX, &v))
			return EINVAL;
		env.pid = (pid_t)v;
		return 0;
	case OPT_WORKLOAD: {
		struct pcdev_config cfg;
		double dmax;

		pcdev_config_default(&cfg);
		if (pcdev_config_preset(arg, &cfg, &dmax)) {
			vs_err("--workload: unknown preset '%s' (fc-example, fp-example, fc-tune)", arg);
			return EINVAL;
		}
		env.workload = arg;
		return 0;
	}
	case 'd':
		return opt_duration("--duration", arg, 1e6, 3600e9,
				    &env.duration_ns) ? EINVAL : 0;
	case OPT_DMAX:
		return opt_time_in("--dmax", arg, VS_DMAX_MIN_NS, VS_DMAX_MAX_NS,
				   &env.dmax_ns) ? EINVAL : 0;
	case OPT_QMP:
		return opt_nonempty("--qmp", arg, "socket path", &env.qmp) ? EINVAL : 0;
	case OPT_SAVE:
		return opt_nonempty("--save", arg, "file name", &env.save) ? EINVAL : 0;
	case OPT_BACKEND:
		if (strcmp(arg, "kvm") && strcmp(arg, "thread")) {
			vs_err("--backend: unknown backend '%s' (kvm, thread)", arg);
			return EINVAL;
		}
		env.backend = arg;
		return 0;
	case OPT_NO_CALIBRATE:
		env.no_calibrate = true;
		return 0;
	case OPT_NO_PROBES:
		env.no_probes = true;
		return 0;
	case OPT_NO_PLACEMENT:
		env.no_placement = true;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static void on_phase(void *arg, enum vs_diag_phase phase, const struct vs_diagnosis *d)
{
	(void)arg;
	vs_diag_print_phase(stdout, phase, d);
}

/* The plan for virtsync apply --plan, inside the run's document (which is
 * its evidence); how many steps apply can set now. */
static int add_plan(json_t *doc, const struct vs_diagnosis *d, unsigned int *nsteps)
{
	struct vs_profile *plan;
	unsigned int skipped;
	double confidence;
	json_t *pj;
	int err;

	err = vs_profile_from_diagnosis(d, &plan, &confidence, &skipped);
	if (err)
		return err;
	*nsteps = (unsigned int)plan->nsteps;
	pj = vs_planfile_to_json(plan);
	vs_profile_free(plan);
	if (!pj)
		return -ENOMEM;
	if (confidence >= 0)
		json_object_set_new(pj, "confidence", json_real(confidence));
	return json_object_set_new(doc, "plan", pj) ? -ENOMEM : 0;
}

/* What failed, as the user asked for it; the exit status. */
static int report_failure(const struct vs_diagnosis *d)
{
	if (d->about_target && env.qmp)
		vs_err("--qmp %s: %s", env.qmp, d->why);
	else if (d->about_target)
		vs_err("--pid %d: %s", (int)env.pid, d->why);
	else if (d->err == -ENODEV)	/* "backend kvm: why" */
		vs_err("--%s", d->why);
	else
		vs_err("%s", d->why);
	return d->target_refused ? VS_EXIT_USAGE : VS_EXIT_FAIL;
}

static void print_save(const char *path, unsigned int nsteps)
{
	if (nsteps)
		printf("\nPlan: %u step%s that virtsync apply can set now, saved to %s\n",
		       nsteps, nsteps == 1 ? "" : "s", path);
	else
		vs_print_hanging(stdout, 0, 0, "\nPlan: nothing virtsync apply can set now (the "
				 "run is saved, but apply refuses a plan without steps)");
}

int cmd_diagnose(int argc, char **argv)
{
	static const struct argp_child children[] = {
		{ &vs_common_argp, 0, "Common options:", 0 },
		{ 0 },
	};
	const struct argp argp = {
		.options = diagnose_options,
		.parser = diagnose_parse,
		.doc = diagnose_doc,
		.children = children,
	};
	struct vs_diag_opts o = VS_DIAG_OPTS_INIT;
	struct vs_diagnosis d;
	json_t *doc = NULL;
	bool text;
	int err, ret = VS_EXIT_OK;
	unsigned int i, nsteps = 0;
	double t_start = vs_mono_ns();

	memset(&env, 0, sizeof(env));
	env.duration_ns = o.duration_ns;
	env.dmax_ns = o.dmax_ns;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return VS_EXIT_USAGE;
	if (env.pid && env.workload) {
		vs_err("--pid and --workload exclude each other (diagnose a running process, or run the device)");
		return VS_EXIT_USAGE;
	}
	if (env.qmp && env.workload) {
		vs_err("--qmp and --workload exclude each other");
		return VS_EXIT_USAGE;
	}
	/* before the window: a path that cannot be written fails now */
	if (env.save && (ret = opt_save_check("--save", env.save)))
		return ret;
	text = !vs_global.json;
	o.target = env.qmp ? VS_DIAG_QMP : env.pid ? VS_DIAG_PID :
		   env.workload ? VS_DIAG_DEVICE : VS_DIAG_AUTO;
	o.pid = env.pid;
	o.qmp = env.qmp;
	o.preset = env.workload;
	o.backend = env.backend;
	o.duration_ns = env.duration_ns;
	o.dmax_ns = env.dmax_ns;
	o.no_calibrate = env.no_calibrate;
	o.no_probes = env.no_probes;
	o.placement = !env.no_placement;
	o.stop = vs_stop_flag();
	if (text)
		o.progress = on_phase;
	vs_stop_on_signals();

	err = vs_diagnose(&o, &d);
	if (err) {
		ret = report_failure(&d);
		goto out;
	}
	doc = json_object();
	json_object_set_new(doc, "command", json_string("diagnose"));
	vs_json_add_meta(doc, argc, argv);
	err = vs_diag_json_fill(doc, &d);
	if (!err)
		err = add_plan(doc, &d, &nsteps);
	if (err) {
		vs_err("out of memory");
		ret = VS_EXIT_FAIL;
		goto out;
	}
	if (text)
		vs_diag_print(stdout, &d);
	if (env.save) {
		err = vs_json_save(env.save, doc);
		if (err) {
			vs_err("--save: cannot write '%s': %s", env.save, strerror(-err));
			ret = VS_EXIT_FAIL;
		} else if (text) {
			print_save(env.save, nsteps);
		}
	}
	if (text && d.mode != VS_DIAG_MODE_EMBEDDED) {
		bool any = false;

		for (i = 0; i < d.n_queues; i++)
			any |= !d.queues[i].err && d.queues[i].verdict.known;
		if (!any)
			vs_print_hanging(stdout, 0, 0, "No queue could be classified here; "
					 "'virtsync diagnose --workload fc-example' runs the "
					 "reference device instead.");
	}
	if (!text)
		vs_json_print(json_incref(doc));
	else
		printf("\nDone in %s.\n", VS_TIME((double)(vs_mono_ns() - t_start)));
out:
	json_decref(doc);
	vs_diagnosis_free(&d);
	return ret;
}
