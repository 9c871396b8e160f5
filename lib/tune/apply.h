/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_APPLY_H
#define VS_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "tune/journal.h"
#include "knobs/knobs.h"
#include "tune/profile.h"

/*
 * The apply engine (`virtsync apply`, `rollback`, `verify`, and the writes
 * of the `tune` loop in loop.h). A profile or plan file is first resolved
 * into changes (one knob instance each, with its old value read and its new
 * value validated and canonicalized) without changing anything; only when
 * every change is valid does vs_apply_changes() write, journaling each old
 * value first.
 */

struct vs_change {
	const struct vs_knob_ops *knob;
	char inst[VS_KNOB_INST_MAX];
	char label[96];
	char old[VS_KNOB_VAL_MAX];
	char new[VS_KNOB_VAL_MAX];
	char why[256];		/* the step's reason, or why it is skipped */
	size_t step;
	bool skip;		/* optional step, not possible on this host */
	bool same;		/* already at the new value */
};

/*
 * Resolve every step: variables (`vars` from the command line, then the
 * profile's, then ${cpus} and ${dmax}), targets, old values, validation.
 * On failure returns -errno and one sentence in `err` naming the step;
 * nothing has been written.
 */
int vs_apply_resolve(const struct vs_profile *p, const struct vs_var *vars,
		    size_t nvars, struct vs_change **out, size_t *n, char *err,
		    size_t errlen);

/* Expand ${name} in `in` exactly as vs_apply_resolve() does for a step's
 * value and targets (for exports, which resolve nothing on this host). */
int vs_apply_expand(const struct vs_profile *p, const struct vs_var *vars,
		   size_t nvars, const char *in, char *out, size_t len, char *err,
		   size_t errlen);

/* flock() of /run/virtsync/lock. -EWOULDBLOCK when another process holds
 * it; then *holder is its pid (0 if unknown). Once it holds the lock, the
 * temporaries that killed runs left in /run/virtsync are removed
 * (vs_safe_sweep_temps()). */
int vs_apply_lock(int *fd, int *holder);
void vs_apply_unlock(int fd);

/* The same cleaning for a command that reads only (verify): done when the
 * lock is free at once (or there is none), else left to the holder; a lock
 * that is not root's own is refused. Returns how many were removed, or
 * -errno. */
int vs_apply_sweep(void);

struct vs_apply_result {
	int apply;		/* index in the journal's "applies" */
	size_t first;		/* first journal entry of this apply */
	size_t written;
};

/*
 * Write the changes in order, each one journaled before it is written.
 * Each old value is read again first, under the caller's lock (resolve may
 * have run before the lock was taken): a change found already at its new
 * value is marked same and not written.
 * When a write fails, the writes of this apply are undone (reverse order)
 * and the error is returned with `err` naming the knob. Call with the lock
 * held.
 *
 * Test hook, only in the fault-injection build (.output/virtsync-faults):
 * with VIRTSYNC_TEST_KILL_AFTER_WRITES=k in the environment the process
 * SIGKILLs itself right after its k-th write, before marking it done: the
 * worst moment for a crash (tests/integration/tune-fixture.sh).
 */
int vs_apply_changes(struct vs_journal *j, const char *source,
		  struct vs_change *a, size_t n, struct vs_apply_result *r,
		  char *err, size_t errlen);

enum vs_rb_result {
	VS_RB_RESTORED,		/* the old value is back (`live` was the value before) */
	VS_RB_GONE,		/* the target is gone (err): marked gone */
	VS_RB_REFUSED,		/* invalid entry (`why`): never written, marked refused */
	VS_RB_HANDED_ON,	/* a later apply changed it since: its entry now holds
				 * the original (`why`) */
	VS_RB_FAILED,		/* err; the entry stays active for a retry */
};

/* Called for each entry rollback acts on; `why` is NULL but for refused
 * and handed-on entries. */
typedef void (*vs_rollback_cb)(const struct vs_jentry *e, enum vs_rb_result res,
			       const char *live, int err, const char *why, void *ctx);

/*
 * Restore every pending or done entry from index `from` on, last first;
 * with `apply` >= 0 only that apply's entries (an entry a later apply
 * changed again hands its original on to that apply's entry instead of
 * writing). Each old value passes the knob's validate first. Idempotent:
 * restored entries are skipped, and a crash in the middle leaves entries
 * that a second run restores. Returns 0 when all went back, -EIO when some
 * failed or were refused (failed ones stay active for a retry).
 */
int vs_apply_rollback_sel(struct vs_journal *j, size_t from, int apply,
			  vs_rollback_cb cb, void *ctx, size_t *restored,
			  size_t *failed);
int vs_apply_rollback(struct vs_journal *j, size_t from, vs_rollback_cb cb,
		      void *ctx, size_t *restored, size_t *failed);

/* Discard active entry `idx` without writing (rollback --drop): it is
 * marked dropped with `who` in its note. -ENOENT no such entry,
 * -EALREADY not active. */
int vs_apply_drop(struct vs_journal *j, size_t idx, const char *who);

/* For each knob instance changed and not rolled back, compare its live
 * value with the last value applied. `live` is NULL when it cannot be
 * read (err); a target that is gone is not drift. Returns the number of
 * drifted instances. */
enum vs_vf_result { VS_VF_OK, VS_VF_DRIFT, VS_VF_GONE };
typedef void (*vs_verify_cb)(const struct vs_jentry *e, size_t idx,
			     enum vs_vf_result res, const char *live, int err,
			     void *ctx);
int vs_apply_verify(struct vs_journal *j, vs_verify_cb cb, void *ctx,
		    size_t *checked);

#endif
