/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PROFILE_H
#define VS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "knobs/knobs.h"

/*
 * Tuning profiles (the files in profiles/) and diagnose plans (lib/tune/planfile.h) share
 * one parser and one in-memory form: a list of steps, each one knob, a
 * target selector and a value. The schema (also in virtsync-profiles(8)):
 *
 * {
 *   "format": "virtsync-profile",           required
 *   "version": 1,                            required
 *   "name": "latency-poll",                  required, [A-Za-z0-9_.-]
 *   "description": "one paragraph",          required
 *   "variables": { "dmax": 200000 },         optional: defaults, string or
 *                                            integer, names [a-z_][a-z0-9_]*
 *   "steps": [                               required, 1..256 steps
 *     {
 *       "knob": "guest.halt_poll_ns",        required, a known knob
 *       "target": { ... },                   selector, keys by knob scope:
 *           global:  none (omit "target" or give {})
 *           cpu:     "cpus": "0-1" (default: all online CPUs)
 *           cpu idle state: "cpus" as above, "state": index or name
 *           thread:  "pid": N or "name": VM/process name, and optionally
 *                    "tid": N or "role": vcpu|vhost|iothread|producer|consumer
 *           vm:      "pid": N or "name"
 *           irq:     "irq": N or "24,25"
 *           netdev:  "netdev": "eth0"
 *           iothread: "qmp": QMP socket path, "iothread": QEMU iothread id
 *       "value": 200000 | "${dmax}" | "0-1", required
 *       "why": "text",                       optional, shown in the diff
 *       "optional": false                    optional: true skips the step
 *                                            where the knob or target does
 *                                            not exist or is read-only here
 *                                            (never on a bad value)
 *     }
 *   ]
 * }
 *
 * Any string in "value" or "target" may use ${name}: variables given on the
 * command line win over the profile's, which win over the built-ins
 * ${cpus} (online CPUs) and ${dmax} (latency bound in ns, 200000). Unknown
 * keys anywhere are errors: a typo must not silently drop a step.
 */

enum vs_sel_key {
	VS_SEL_PID,
	VS_SEL_TID,
	VS_SEL_NAME,
	VS_SEL_ROLE,
	VS_SEL_CPUS,
	VS_SEL_STATE,
	VS_SEL_IRQ,
	VS_SEL_NETDEV,
	VS_SEL_QMP,
	VS_SEL_IOTHREAD,
	VS_SEL_NKEYS,
};

extern const char *const vs_sel_key_names[VS_SEL_NKEYS];

#define VS_PROFILE_MAX_STEPS 256
#define VS_PROFILE_MAX_VARS 32
#define VS_PROFILE_MAX_BYTES (1 << 20)

struct vs_var {
	char name[32];
	char value[VS_KNOB_VAL_MAX];
};

struct vs_step {
	const struct vs_knob_ops *knob;
	char sel[VS_SEL_NKEYS][VS_KNOB_VAL_MAX];	/* "" where not given */
	char value[VS_KNOB_VAL_MAX];
	char why[256];
	bool optional;
};

enum vs_profile_kind { VS_KIND_PROFILE, VS_KIND_PLAN };

struct vs_profile {
	enum vs_profile_kind kind;
	char name[64];
	char description[1024];
	struct vs_var vars[VS_PROFILE_MAX_VARS];
	size_t nvars;
	struct vs_step *steps;
	size_t nsteps;
	/* plans only (lib/tune/planfile.h) */
	char objective[16];
	char regime[16];
	char source[64];
	double dmax_ns;		/* < 0: not given */
};

/* Parse a profile (kind VS_KIND_PROFILE) or a plan (VS_KIND_PLAN) from
 * memory. On error returns -EINVAL and one sentence naming the place in
 * `err` ("steps[2].value: ..."). */
int vs_profile_parse(const char *buf, size_t len, enum vs_profile_kind kind,
		     struct vs_profile **out, char *err, size_t errlen);
/* Read a file (at most VS_PROFILE_MAX_BYTES) and parse it. */
int vs_profile_load_file(const char *path, enum vs_profile_kind kind,
			 struct vs_profile **out, char *err, size_t errlen);
void vs_profile_free(struct vs_profile *p);

/*
 * Where a profile named on the command line lives. An explicit path starts
 * with '/', './' or '../'; anything else is a name, [A-Za-z0-9_.-] and not
 * starting with '.', looked up as NAME.json in $VIRTSYNC_PROFILE_DIR if set,
 * else in VS_DATADIR/profiles, else in profiles/ next to the build tree.
 * Returns -EINVAL for a name that is neither (path traversal), -ENOENT when
 * not found.
 */
int vs_profile_locate(const char *arg, char *path, size_t len);
/* The directory names are listed from (first existing of the above). */
int vs_profile_dir(char *path, size_t len);

/* Set or override a variable ("name", "value"); -EINVAL on a bad name,
 * -ENOSPC when full. */
int vs_vars_set(struct vs_var *vars, size_t *n, size_t max, const char *name,
		const char *value);
/* Expand ${name} in `in`, looking in each list in order. */
int vs_vars_expand(const char *in, char *out, size_t len,
		   const struct vs_var *const *lists, const size_t *counts,
		   size_t nlists, char *err, size_t errlen);

#endif
