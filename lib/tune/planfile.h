/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PLANFILE_H
#define VS_PLANFILE_H

#include <jansson.h>

#include "analyze/recommend.h"
#include "tune/profile.h"

/*
 * A plan file is what `virtsync apply --plan FILE` applies: the same steps
 * as a profile (lib/tune/profile.h), plus what the diagnosis concluded. In
 * memory it is a struct vs_profile; the struct vs_plan it is made from is
 * the recommendation (lib/analyze/recommend.h: advice, not yet steps). diagnose
 * and tune --save write the run (their --json document) with the plan in
 * its "plan" member, and the loader takes either (an older diagnose wrote
 * the plan at the top, the run under "evidence"). Format, version 1 (also
 * in virtsync-apply(8)):
 *
 * {
 *   "format": "virtsync-plan",             required
 *   "version": 1,                           required
 *   "objective": "throughput",              required: throughput | latency |
 *                                           cpu | energy
 *   "steps": [ ... ],                       required: profile steps, 1..256
 *   "created": "2026-01-01T00:00:00Z",      optional string
 *   "source": "diagnose",                   optional string (who made it)
 *   "regime": "nFC",                        optional: BW sFC sFP sLS nFC nFP
 *                                           nSCS nSPS nSS (the paper's nine)
 *   "confidence": 0.8,                      optional number in [0, 1]
 *   "dmax_ns": 200000,                      optional latency bound, >= 0;
 *                                           also sets ${dmax}
 *   "variables": { "pid": 1234 },           optional, as in profiles
 *   "predicted": { ... },                   optional object, not interpreted
 *   "measured": { ... },                    (diagnose's numbers, kept for
 *   "evidence": { ... }                      the report)
 * }
 */

int vs_planfile_load(const char *path, struct vs_profile **out, char *err,
		      size_t errlen);

/* Build the JSON document of a plan (for diagnose and `tune --save`). */
json_t *vs_planfile_to_json(const struct vs_profile *plan);

/* A profile built in memory (the steps of a plan file), and a step
 * appended to it; -ENOSPC past the limit. */
struct vs_profile *vs_profile_new(const char *objective, const char *source);
int vs_profile_add_step(struct vs_profile *plan, const struct vs_step *step);

/*
 * The plan step for one piece of advice, with only the
 * selector keys the knob's scope takes. -EOPNOTSUPP for advice that cannot
 * be applied now (restart-time, read-only), -ENOENT for a knob lib/knobs
 * does not have (vhost.poll_us, queue.len: QEMU/libvirt changes only).
 */
int vs_advice_step(const struct vs_advice *a, struct vs_step *st);

/*
 * The plan of a diagnosis: the steps of every classified queue's advice and
 * of the guest's, those apply can set now (*skipped counts the others),
 * with the Dmax it was made for and the regime of the most confident queue
 * (*confidence, -1 when none). -ENOMEM.
 */
struct vs_diagnosis;
int vs_profile_from_diagnosis(const struct vs_diagnosis *d, struct vs_profile **out,
			   double *confidence, unsigned int *skipped);

/*
 * Diagnose as o asks, in this process, and make the plan of it (without
 * steps when nothing could be classified): what tune proposes each round.
 * The diagnosis stays in *d, which the caller frees with
 * vs_diagnosis_free() whatever this returns. On failure -errno, and why
 * says what failed, naming the target as a command line would
 * ("diagnose --pid N failed: ...", "diagnose --qmp SOCKET failed: ...").
 */
struct vs_diag_opts;
int vs_profile_diagnose(const struct vs_diag_opts *o, struct vs_diagnosis *d,
			struct vs_profile **plan, char *why, size_t len);

#endif
