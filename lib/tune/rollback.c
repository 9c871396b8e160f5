// SPDX-License-Identifier: GPL-2.0-only
/* Rollback and verify of what the journal records (lib/tune/apply.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tune/apply.h"

static bool active(const struct vs_jentry *e)
{
	return e->status == VS_J_PENDING || e->status == VS_J_DONE;
}

/* Errors that say the target itself is gone: the thread or process exited,
 * the device or file went away, nobody serves the QMP socket any more. A
 * target that comes back later starts from its own default, so there is
 * nothing left to restore. An unreachable peer (a timeout) is not gone. */
static bool target_gone(const struct vs_knob_ops *k, int err)
{
	if (err == -ESRCH || err == -ENOENT || err == -ENODEV || err == -ENXIO)
		return true;
	return k->scope == VS_SCOPE_IOTHREAD && err == -ECONNREFUSED;
}

/*
 * An entry rollback must not write: a knob this binary does not know, a
 * target that climbs out of its tree, an old value the knob's own validate
 * refuses (a journal saying 7 for a cpuidle disable flag). Only -EINVAL
 * and -ERANGE from validate are refusals; its other errors are about the
 * target (absent, not answering), left in *target_err: an absent target
 * the read then reports.
 */
static bool refused(const struct vs_knob_ops *k, const struct vs_jentry *e, char *why,
		    size_t whylen, int *target_err)
{
	char canon[VS_KNOB_VAL_MAX], kwhy[VS_KNOB_WHY_MAX] = "";
	int err;

	if (!k) {
		snprintf(why, whylen, "no knob '%s' in this virtsync", e->knob);
		return true;
	}
	if (strstr(e->target, "..")) {
		snprintf(why, whylen, "target '%s' contains '..'", e->target);
		return true;
	}
	err = k->validate(e->target, e->old, canon, sizeof(canon), kwhy, sizeof(kwhy));
	if (err != -EINVAL && err != -ERANGE) {
		*target_err = err;
		return false;
	}
	snprintf(why, whylen, "old value '%s' refused: %s", e->old,
		 kwhy[0] ? kwhy : strerror(-err));
	return true;
}

/* Is (knob, target) of entry `i` changed again by a later active entry of
 * another apply? Its index, or -1. */
static long later_change(struct vs_journal *j, size_t i, const struct vs_jentry *e)
{
	size_t n = vs_journal_count(j), m;
	struct vs_jentry l;

	for (m = i + 1; m < n; m++)
		if (!vs_journal_get(j, m, &l) && active(&l) && l.apply != e->apply &&
		    !strcmp(l.knob, e->knob) && !strcmp(l.target, e->target))
			return (long)m;
	return -1;
}

static void report(vs_rollback_cb cb, void *ctx, const struct vs_jentry *e,
		   enum vs_rb_result res, const char *live, int err, const char *why)
{
	if (cb)
		cb(e, res, live, err, why, ctx);
}

int vs_apply_rollback_sel(struct vs_journal *j, size_t from, int apply,
			  vs_rollback_cb cb, void *ctx, size_t *restored,
			  size_t *failed)
{
	size_t i = vs_journal_count(j);
	int ret = 0;

	*restored = *failed = 0;
	while (i-- > from) {
		const struct vs_knob_ops *k;
		char live[VS_KNOB_VAL_MAX] = "", why[VS_KNOB_WHY_MAX + 64] = "";
		char note[64];
		struct vs_jentry e;
		long later;
		int err = 0;

		if (vs_journal_get(j, i, &e) || !active(&e) || (apply >= 0 && e.apply != apply))
			continue;
		k = vs_knob_find(e.knob);
		if (refused(k, &e, why, sizeof(why), &err)) {
			snprintf(note, sizeof(note), "refused by rollback: %.40s", why);
			err = vs_journal_set(j, i, VS_J_REFUSED, note);
			(*failed)++;
			ret = -EIO;
			report(cb, ctx, &e, VS_RB_REFUSED, live, err ? err : -EINVAL, why);
			continue;
		}
		/* Undoing one apply under a later one that changed the same
		 * target: writing now would undo the later apply too. Hand the
		 * original on to it; its own rollback puts it back. */
		later = apply >= 0 ? later_change(j, i, &e) : -1;
		if (later >= 0) {
			err = vs_journal_set_old(j, later, e.old);
			if (!err) {
				snprintf(note, sizeof(note), "original handed to entry %ld", later);
				err = vs_journal_set(j, i, VS_J_RESTORED, note);
			}
			snprintf(why, sizeof(why), "entry %ld (a later apply) changed it since; "
				 "its rollback restores '%s'", later, e.old);
			if (err) {
				(*failed)++;
				ret = -EIO;
				report(cb, ctx, &e, VS_RB_FAILED, live, err, why);
			} else {
				(*restored)++;
				report(cb, ctx, &e, VS_RB_HANDED_ON, live, 0, why);
			}
			continue;
		}
		/* A target that did not answer the validation would keep
		 * this rollback, and its lock, waiting as long again for the
		 * read and for the write: the entry fails now, the others go
		 * on. */
		if (vs_knob_unreachable(k, err))
			goto not_restored;
		err = k->read(e.target, live, sizeof(live));
		/* the old value already in place (a crash before the write):
		 * nothing to write, still mark it restored. A value that cannot
		 * be read (a write killed half-way leaves an empty file in a
		 * --root tree) is no reason not to write the old one. */
		if (err && !target_gone(k, err))
			live[0] = '\0';
		if ((err && !target_gone(k, err) && !vs_knob_unreachable(k, err)) ||
		    (!err && strcmp(live, e.old)))
			err = k->write(e.target, e.old);
		if (err && target_gone(k, err)) {
			snprintf(note, sizeof(note), "gone: %.50s", strerror(-err));
			if (vs_journal_set(j, i, VS_J_GONE, note)) {
				(*failed)++;
				ret = -EIO;
				report(cb, ctx, &e, VS_RB_FAILED, live, -EIO, NULL);
			} else {
				report(cb, ctx, &e, VS_RB_GONE, live, err, NULL);
			}
			continue;
		}
		if (!err && vs_journal_set(j, i, VS_J_RESTORED, NULL))
			err = -EIO;
		if (!err) {
			(*restored)++;
			report(cb, ctx, &e, VS_RB_RESTORED, live, 0, NULL);
			continue;
		}
not_restored:
		/* stays active for the next rollback; the note says why it is
		 * still there */
		snprintf(note, sizeof(note), "not restored: %.48s", strerror(-err));
		vs_journal_set(j, i, e.status, note);
		(*failed)++;
		ret = -EIO;
		report(cb, ctx, &e, VS_RB_FAILED, live, err, NULL);
	}
	return ret;
}

int vs_apply_rollback(struct vs_journal *j, size_t from, vs_rollback_cb cb,
		      void *ctx, size_t *restored, size_t *failed)
{
	return vs_apply_rollback_sel(j, from, -1, cb, ctx, restored, failed);
}

int vs_apply_drop(struct vs_journal *j, size_t idx, const char *who)
{
	struct vs_jentry e;
	char note[64];

	if (vs_journal_get(j, idx, &e))
		return -ENOENT;
	if (!active(&e))
		return -EALREADY;
	snprintf(note, sizeof(note), "dropped by %.50s", who);
	return vs_journal_set(j, idx, VS_J_DROPPED, note);
}

int vs_apply_verify(struct vs_journal *j, vs_verify_cb cb, void *ctx,
		    size_t *checked)
{
	size_t n = vs_journal_count(j), i, m;
	int drifted = 0;

	*checked = 0;
	for (i = n; i-- > 0;) {
		const struct vs_knob_ops *k;
		char live[VS_KNOB_VAL_MAX];
		struct vs_jentry e, later;
		enum vs_vf_result res;
		bool seen = false;
		int err;

		if (vs_journal_get(j, i, &e) || !active(&e))
			continue;
		/* only the last change of each instance counts */
		for (m = i + 1; m < n && !seen; m++)
			seen = !vs_journal_get(j, m, &later) && active(&later) &&
			       !strcmp(later.knob, e.knob) && !strcmp(later.target, e.target);
		if (seen)
			continue;
		k = vs_knob_find(e.knob);
		err = k ? k->read(e.target, live, sizeof(live)) : -EINVAL;
		if (!err)
			res = strcmp(live, e.new) ? VS_VF_DRIFT : VS_VF_OK;
		else if (k && target_gone(k, err))
			res = VS_VF_GONE;	/* nobody changed it: it is not there */
		else
			res = VS_VF_DRIFT;
		drifted += res == VS_VF_DRIFT;
		(*checked)++;
		if (cb)
			cb(&e, i, res, err ? NULL : live, err, ctx);
	}
	return drifted;
}
