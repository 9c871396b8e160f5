/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_EXPORT_H
#define VS_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "tune/profile.h"

/*
 * Exports of a profile or plan for the tools users already run:
 *  - a tuned profile directory: tuned.conf ([main], [sysfs], [sysctl],
 *    [scheduler], [cpu], [script]) and script.sh for what tuned cannot say
 *    (per-thread timer slack and affinity by role, per-IRQ affinity, idle
 *    states by name, the reference device's and QEMU iothreads' knobs);
 *  - the libvirt domain XML (<cputune> pins, the vhost interface driver);
 *  - the QEMU command-line options (-netdev tap,...,poll-us=N,
 *    -object iothread,...,poll-max-ns=N).
 * Variables are expanded as `virtsync apply` does (vs_apply_expand()), but no
 * target is looked up on this host: the export is for the host that runs it.
 */

/* One profile step with its variables expanded. */
struct vs_export_step {
	const struct vs_knob_ops *knob;
	char sel[VS_SEL_NKEYS][VS_KNOB_VAL_MAX];
	char value[VS_KNOB_VAL_MAX];
	char why[256];
	bool all_cpus;		/* the CPU selector was absent or ${cpus} */
};

/* A change that only takes effect when the VM starts (from the evidence of
 * a diagnose plan): today vhost.poll_us of a QEMU tap netdev. */
struct vs_export_restart {
	char knob[40];
	char value[48];
	char why[200];
};

#define VS_EXPORT_MAX_RESTARTS 16

struct vs_export {
	char name[64];
	char source[160];	/* "profile latency-poll", "plan /tmp/p.json" */
	char summary[256];	/* one line, safe in an INI value */
	struct vs_export_step *steps;
	size_t nsteps;
	struct vs_export_restart restarts[VS_EXPORT_MAX_RESTARTS];
	size_t nrestarts;
};

/*
 * Expand every step of `p`; `plan_path` (may be NULL) is the plan file,
 * read again for the restart-only changes in its evidence. -EINVAL with one
 * sentence in `err` on a bad value or a variable that is not set.
 */
int vs_export_build(const struct vs_profile *p, const char *source,
		    const char *plan_path, const struct vs_var *vars,
		    size_t nvars, struct vs_export **out, char *err,
		    size_t errlen);
void vs_export_free(struct vs_export *x);

/*
 * Write DIR/tuned.conf and DIR/script.sh (mode 0755) into a temporary
 * directory next to DIR, then rename it to DIR. An existing DIR is replaced
 * only when it holds nothing but an earlier export's two files (-EEXIST
 * otherwise). Nothing is left behind on failure.
 */
int vs_export_tuned(const struct vs_export *x, const char *dir, char *err,
		    size_t errlen);

/* The texts alone (for tests and --tuned -), malloc()ed. */
int vs_export_tuned_conf(const struct vs_export *x, char **text);
int vs_export_script(const struct vs_export *x, char **text);

/* Domain XML fragment (one well-formed document) for `vcpus` vCPUs. */
int vs_export_libvirt(const struct vs_export *x, unsigned int vcpus,
		      char **text);
/* `in` as text for an XML comment (no "--", no final '-'), in out. */
const char *vs_export_xml_comment(const char *in, char *out, size_t len);

/* QEMU options, one per line, with '#' comment lines saying what each is. */
int vs_export_qemu(const struct vs_export *x, char **text);

/* The tuned.conf section a knob goes to ("sysfs", "sysctl", "cpu",
 * "scheduler", "script"), or NULL for a knob export does not know. */
const char *vs_export_knob_section(const struct vs_knob_ops *k);

#endif
