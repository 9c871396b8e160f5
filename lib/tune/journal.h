/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_JOURNAL_H
#define VS_JOURNAL_H

#include <stddef.h>

#include "knobs/knobs.h"

/*
 * The journal: /run/virtsync/journal.json (under vs_path()), mode 0600.
 * Every change virtsync makes is recorded here *before* it is made, and the
 * file is replaced atomically (temporary file, fsync, rename, fsync of the
 * directory) at each record, so after a crash at any point the journal
 * holds the old value of every knob that may have changed:
 *
 * {
 *   "format": "virtsync-journal", "version": 1,
 *   "applies": [ { "source": "profile latency-poll", "pid": 123,
 *                  "time": "2026-...Z", "first": 0 } ],
 *   "entries": [ { "knob": "guest.halt_poll_ns", "target": "",
 *                  "label": "global", "old": "0", "new": "200000",
 *                  "status": "pending", "apply": 0, "note": "" } ]
 * }
 *
 * status: pending (recorded, write maybe done), done (written), restored
 * (rolled back), gone (the target vanished; nothing to restore), refused
 * (rollback found the entry invalid: an unknown knob, or an old value the
 * knob's validate refuses; never written), dropped (an admin discarded it
 * with rollback --drop). Only pending and done entries are active. Entries
 * of successive applies stack, so rollback in reverse order gets back to
 * the state before the first of them. An apply also records "command" (its
 * command line) and "user" (SUDO_USER, or the uid), for verify's listing.
 */

enum vs_jstatus { VS_J_PENDING, VS_J_DONE, VS_J_RESTORED, VS_J_GONE, VS_J_REFUSED,
		  VS_J_DROPPED };

struct vs_japply {
	int id;			/* index in "applies" */
	char source[128];
	char command[256];
	char user[64];
	char time[32];
	int pid;
	size_t active;		/* its pending and done entries */
};

struct vs_jentry {
	char knob[48];
	char target[VS_KNOB_INST_MAX];
	char label[96];
	char old[VS_KNOB_VAL_MAX];
	char new[VS_KNOB_VAL_MAX];
	char note[64];
	enum vs_jstatus status;
	int apply;
};

struct vs_journal;

/* Load the journal, or start an empty one when there is none. -EBADMSG
 * when the file exists but is not a journal (it is left alone), -EACCES
 * when it cannot be read. vs_journal_load_why() also explains a failure in
 * one sentence: the file, where it is broken (line, column, byte offset or
 * entry) and what to do. */
int vs_journal_load(struct vs_journal **j);
int vs_journal_load_why(struct vs_journal **j, char *why, size_t whylen);
void vs_journal_free(struct vs_journal *j);
/* true when some entry is pending or done (there is something to undo). */
bool vs_journal_active(const struct vs_journal *j);
/* Start a new apply; forgets fully rolled-back history first. Saves. */
int vs_journal_begin(struct vs_journal *j, const char *source, int *apply);
/* Record a change before making it. Saves. */
int vs_journal_add(struct vs_journal *j, const struct vs_jentry *e, size_t *idx);
int vs_journal_set(struct vs_journal *j, size_t idx, enum vs_jstatus st,
		   const char *note);
/* Replace the old value of an active entry (rollback of an earlier apply
 * hands its original on to a later apply that changed the same target). */
int vs_journal_set_old(struct vs_journal *j, size_t idx, const char *old);
size_t vs_journal_count(const struct vs_journal *j);
size_t vs_journal_applies(const struct vs_journal *j);
int vs_journal_apply_get(const struct vs_journal *j, int id, struct vs_japply *a);
/* The highest apply id with an active entry, or -ENOENT. */
int vs_journal_last_active(const struct vs_journal *j);
int vs_journal_get(const struct vs_journal *j, size_t idx, struct vs_jentry *e);
const char *vs_jstatus_name(enum vs_jstatus st);
int vs_journal_path(char *buf, size_t len);

#endif
