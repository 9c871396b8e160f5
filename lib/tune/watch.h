/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_WATCH_H
#define VS_WATCH_H

/*
 * What `virtsync watch` keeps between windows and decides from them: per
 * queue a bounded history (VS_WATCH_HISTORY windows, fixed arrays: memory
 * does not grow with the run's length or with VMs coming and going), the
 * regime changes and advice worth one log line each, and, with tuning on,
 * the closed loop:
 *
 *   watching --(K bad windows in a row)--> apply the plan's steps aimed at
 *   the queue's process, through the journal --(N windows)--> keep it if
 *   the windows confirm the gain, else roll exactly it back.
 *
 * A window is "bad" when the queue's plan has a step virtsync can apply
 * now and the model predicts at least predicted_gain from it (throughput,
 * or CPU per item at the same throughput); a change is kept when the
 * windows after it measure at least min_gain. Every knob instance virtsync wrote is
 * remembered with its value: before each change, and at every window while
 * a change is kept, the live value is read back; one that differs was
 * changed by someone else, and virtsync leaves that knob alone from then on
 * (and says so). A knob is changed at most once per knob_interval_s.
 *
 * Nothing here prints: each decision is a struct vs_watch_event handed to
 * the caller's callback.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "analyze/classify.h"
#include "analyze/recommend.h"
#include "knobs/knobs.h"
#include "sources/measure.h"

#define VS_WATCH_MAX_QUEUES	16
#define VS_WATCH_HISTORY	120	/* windows kept per queue */
#define VS_WATCH_MAX_KNOBS	32	/* knob instances remembered */
#define VS_WATCH_MAX_APPLIES	16	/* applies kept, for --rollback-on-exit */

/* Who a queue is: a process (its start time tells a reused pid apart),
 * the names the metrics carry, and which of its queues. */
struct vs_watch_id {
	pid_t pid;
	unsigned long long start;	/* field 22 of /proc/PID/stat */
	char vm[64];			/* QEMU -name, libvirt domain, else comm */
	char device[48];		/* QEMU's device id, else the thread serving it */
	char queue[8];
	/* 0: the process as one queue; else which virtqueue of the VM it is
	 * (queue names repeat across devices) */
	unsigned int ring;
};

/* A QEMU virtqueue's window as QMP saw it (lib/sources/vqueue). */
struct vs_watch_ring {
	uint16_t first_idx, last_idx;	/* used-idx at the first and last samples */
	uint64_t used;			/* items between them */
	double end_s;			/* CLOCK_REALTIME of the last sample */
	const char *items_src, *kicks_src, *irqs_src;	/* "" when none */
};

/* One window of one queue, as the history keeps it. */
struct vs_watch_point {
	double t_s;			/* CLOCK_REALTIME at the window's end */
	bool known;
	enum vs_regime regime;
	double confidence;
	double items_per_s, kicks_per_s, irqs_per_s;
	double t_ns, e_ns;		/* measured: 1 / items, CPU per item */
	bool bad;
};

enum vs_watch_tstate {
	VS_WT_WATCHING,
	VS_WT_CONFIRMING,		/* applied, measuring the effect */
	VS_WT_KEPT,
};

struct vs_watch_queue {
	bool used, seen;
	struct vs_watch_id id;
	unsigned int head, n;		/* ring of hist */
	struct vs_watch_point hist[VS_WATCH_HISTORY];
	uint64_t windows, regime_changes;
	bool have_regime;
	enum vs_regime regime;		/* last known */
	/* The last window in full, for the metrics. */
	struct vs_sample sample;
	struct vs_verdict verdict;
	struct vs_plan plan;
	bool have_window;
	/* A QEMU virtqueue: QEMU's used index unwrapped across windows (the
	 * gap between two windows bridged by the 16-bit index: exact below
	 * 65536 items in the gap), the last window's end, the figures' sources. */
	bool have_ring;
	uint16_t ring_idx;
	uint64_t items_total;
	double ring_end_s;
	char src_items[48], src_kicks[48], src_irqs[48];
	/* Tuning. */
	enum vs_watch_tstate tstate;
	unsigned int bad_run;		/* consecutive bad windows */
	unsigned int confirm_done;	/* windows measured since applying */
	double base_items, base_cpu;	/* medians before the change */
	int apply;			/* the journal apply of the change */
	size_t jfirst, jn;		/* its journal entries */
	char held[480];			/* the last "held" line, said once */
};

/* A knob instance virtsync wrote. */
struct vs_watch_knob {
	bool used;
	char knob[48];
	char inst[VS_KNOB_INST_MAX];
	char label[96];
	char written[VS_KNOB_VAL_MAX];	/* what virtsync wrote, "" when restored */
	double changed_s;		/* CLOCK_MONOTONIC of the last change */
	bool foreign;			/* changed by someone else: hands off */
};

enum vs_watch_ev {
	VS_WEV_FOUND,		/* a new queue */
	VS_WEV_GONE,		/* a queue's process went away */
	VS_WEV_REGIME,		/* first regime, or a change */
	VS_WEV_ADVICE,		/* one per recommended action, with a regime event */
	VS_WEV_APPLIED,
	VS_WEV_KEPT,
	VS_WEV_ROLLED_BACK,
	VS_WEV_FOREIGN,		/* a knob changed behind virtsync's back */
	VS_WEV_HELD,		/* a bad queue left alone (rate limit, foreign knob,
				 * nothing applicable, another apply) */
	VS_WEV_ERROR,		/* a tuning step failed */
};

struct vs_watch_event {
	enum vs_watch_ev kind;
	const struct vs_watch_id *id;	/* NULL for host-wide events */
	double t_s;			/* CLOCK_REALTIME */
	const char *regime, *prev_regime;	/* "" when none */
	double confidence;
	const char *knob, *inst, *old, *new;	/* "" when not about a knob */
	double gain;			/* NaN when not measured */
	char text[480];			/* the line, with its evidence */
};

typedef void (*vs_watch_event_cb)(const struct vs_watch_event *ev, void *ctx);

struct vs_watch_opts {
	bool tune;
	unsigned int bad_windows;	/* K: 0 -> 3 */
	unsigned int confirm_windows;	/* 0 -> 3 */
	double min_gain;		/* measured gain to keep a change, 0.10 = 10 % */
	double predicted_gain;		/* the model's gain that makes a window bad */
	double knob_interval_s;		/* per-knob rate limit */
	vs_watch_event_cb cb;
	void *ctx;
};

struct vs_watch {
	struct vs_watch_opts o;
	struct vs_watch_queue q[VS_WATCH_MAX_QUEUES];
	struct vs_watch_knob knobs[VS_WATCH_MAX_KNOBS];
	int applies[VS_WATCH_MAX_APPLIES];	/* journal applies still kept */
	unsigned int n_applies;
	uint64_t windows;
	uint64_t ev_count[VS_WEV_ERROR + 1];
};

const char *vs_watch_ev_name(enum vs_watch_ev k);	/* "regime", "kept", ... */

void vs_watch_init(struct vs_watch *w, const struct vs_watch_opts *o);

/* A window begins: every queue is unseen until vs_watch_window() sees it. */
void vs_watch_begin(struct vs_watch *w);
/*
 * One queue's window (err: the window's error for it, then only the
 * history's "seen" mark is kept). Returns the queue's slot, NULL when the
 * table is full (the queue is not followed; said once by an event).
 */
struct vs_watch_queue *vs_watch_window(struct vs_watch *w,
				       const struct vs_watch_id *id, int err,
				       const struct vs_sample *s,
				       const struct vs_verdict *v,
				       const struct vs_plan *p);
/* After vs_watch_window() of a QEMU virtqueue measured through QMP. */
void vs_watch_ring(struct vs_watch_queue *q, const struct vs_watch_ring *r);
/* The window ended: queues not seen are gone (their slots freed); with
 * tuning, each queue's loop takes its step. */
void vs_watch_end(struct vs_watch *w);
/* Between windows (before each scrape): queues whose process has exited
 * (pid and start time no longer match) are gone at once, so their series
 * disappear with the VM rather than one window later. */
void vs_watch_prune(struct vs_watch *w);

/* Undo what virtsync still keeps applied (SIGTERM with --rollback-on-exit):
 * each apply whose entries are the journal's last, newest first; applies
 * followed by someone else's are left and reported. -errno of the first
 * failure. */
int vs_watch_rollback_all(struct vs_watch *w);

/* The n most recent points of q, oldest first, into out; the count. */
unsigned int vs_watch_history(const struct vs_watch_queue *q,
			      struct vs_watch_point *out, unsigned int n);

/* Is this window bad (see above)? Exposed for tests. */
bool vs_watch_bad(const struct vs_verdict *v, const struct vs_plan *p,
		  double min_gain);

#endif
