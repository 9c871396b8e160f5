// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync watch's loop (lib/tune/watch.c) on a fixture root: real knob
 * writes (a reference device's control file under VIRTSYNC_ROOT) through
 * the real journal. A queue that stays bad is fixed and the fix kept when
 * the windows confirm it; a fix that does not help is rolled back; a knob
 * changed behind virtsync's back is left alone and reported; a knob is not
 * changed twice within its interval; the history stays bounded.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "knobs/knobs.h"
#include "pcdev/ctlfile.h"
#include "tune/journal.h"
#include "tune/watch.h"

#define DEV 4242

static char root[64];
static unsigned int counts[VS_WEV_ERROR + 1];
static char last_text[VS_WEV_ERROR + 1][480];

static void on_event(const struct vs_watch_event *ev, void *ctx)
{
	(void)ctx;
	counts[ev->kind]++;
	if (getenv("V"))
		fprintf(stderr, "event %s: %s\n", vs_watch_ev_name(ev->kind), ev->text);
	snprintf(last_text[ev->kind], sizeof(last_text[0]), "%s", ev->text);
}

static int setup(void **state)
{
	struct vs_pcdev_ctl ctl = { 0 };
	char path[256];

	snprintf(root, sizeof(root), "/tmp/vs-watch-test.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	setenv("VIRTSYNC_ROOT", root, 1);
	snprintf(path, sizeof(path), "%s/proc", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proc/%d", root, DEV);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "mkdir -p %s/sys/devices/system/cpu && "
		 "echo 0-1 > %s/sys/devices/system/cpu/online", root, root);
	if (system(path))
		return -1;
	snprintf(path, sizeof(path), "%s/run", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/run/virtsync", root);
	mkdir(path, 0755);
	memset(counts, 0, sizeof(counts));
	return vs_pcdev_ctl_write(DEV, &ctl);
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		return -1;
	unsetenv("VIRTSYNC_ROOT");
	return 0;
}

static uint64_t sleep_ns(void)
{
	struct vs_pcdev_ctl ctl;

	if (vs_pcdev_ctl_read(DEV, &ctl))
		fail_msg("control file unreadable");
	return ctl.consumer_sleep_ns;
}

static const struct vs_watch_id id = {
	.pid = DEV, .start = 99, .vm = "vm1", .device = "vs-consumer", .queue = "0",
};

/* One window: an nFC queue whose plan (sleep 120 us) predicts 2x. */
static void window(struct vs_watch *w, double items_per_s, bool present)
{
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_plan p;

	memset(&s, 0, sizeof(s));
	memset(&v, 0, sizeof(v));
	memset(&p, 0, sizeof(p));
	s.have_items = true;
	s.items_per_s = items_per_s;
	s.prod.cpu = 1;
	s.cons.cpu = 0.5;
	v.known = true;
	v.regime = VS_REGIME_NFC;
	v.confidence = 0.9;
	snprintf(v.summary, sizeof(v.summary), "the consumer waits for kicks");
	p.valid = p.have_cur = p.have_rec = true;
	p.cur.t_ns = 4000;
	p.rec.t_ns = 2000;
	p.n_actions = 1;
	snprintf(p.actions[0].knob, sizeof(p.actions[0].knob), "pcdev.consumer_sleep_ns");
	p.actions[0].pid = DEV;
	snprintf(p.actions[0].value, sizeof(p.actions[0].value), "120000");
	p.actions[0].applies = VS_APPLY_NOW;
	snprintf(p.actions[0].why, sizeof(p.actions[0].why), "sleep instead of waiting");
	vs_watch_begin(w);
	if (present)
		vs_watch_window(w, &id, 0, &s, &v, &p);
	vs_watch_end(w);
}

static struct vs_watch *new_watch(double interval_s)
{
	struct vs_watch_opts o = {
		.tune = true, .bad_windows = 3, .confirm_windows = 2, .min_gain = 0.1,
		.predicted_gain = 0.1,
		.knob_interval_s = interval_s, .cb = on_event,
	};
	struct vs_watch *w = malloc(sizeof(*w));

	vs_watch_init(w, &o);
	return w;
}

static void test_fix_kept(void **state)
{
	struct vs_watch *w = new_watch(3600);
	struct vs_journal *j;
	int i;

	window(w, 250000, true);
	__T("found", counts[VS_WEV_FOUND] == 1);
	__T("regime logged", counts[VS_WEV_REGIME] == 1 && strstr(last_text[VS_WEV_REGIME], "nFC"));
	__T("advice logged", counts[VS_WEV_ADVICE] == 1 &&
	    strstr(last_text[VS_WEV_ADVICE], "pcdev.consumer_sleep_ns = 120000"));
	window(w, 250000, true);
	__T("not before K windows", sleep_ns() == 0 && !counts[VS_WEV_APPLIED]);
	window(w, 250000, true);
	__T("applied after K", counts[VS_WEV_APPLIED] == 1 && sleep_ns() == 120000);
	__T("journaled", !vs_journal_load(&j) && vs_journal_active(j));
	vs_journal_free(j);
	window(w, 520000, true);
	__T("confirming", !counts[VS_WEV_KEPT]);
	window(w, 510000, true);
	__T("kept", counts[VS_WEV_KEPT] == 1 && sleep_ns() == 120000);
	/* one phrase, as tune's decision line: no "(...) (...)" */
	__T("kept: why; figures", strstr(last_text[VS_WEV_KEPT], "(higher is better); ") &&
	    strstr(last_text[VS_WEV_KEPT], " items/s over ") &&
	    !strstr(last_text[VS_WEV_KEPT], ") ("));
	__T("one regime line only", counts[VS_WEV_REGIME] == 1);
	/* someone else changes it: left alone, said once */
	{
		const struct vs_knob_ops *k = vs_knob_find("pcdev.consumer_sleep_ns");
		char inst[16];

		snprintf(inst, sizeof(inst), "%d", DEV);
		__T("write", !k->write(inst, "7000"));
	}
	window(w, 500000, true);
	window(w, 500000, true);
	__T("foreign once", counts[VS_WEV_FOREIGN] == 1 &&
	    strstr(last_text[VS_WEV_FOREIGN], "someone else"));
	__T("rollback on exit leaves it", !vs_watch_rollback_all(w) && sleep_ns() == 7000);
	__T("said so", strstr(last_text[VS_WEV_HELD], "someone else"));
	for (i = 0; i < 300; i++)
		window(w, 500000, true);
	__T("history bounded", w->q[0].n == VS_WATCH_HISTORY);
	{
		struct vs_watch_point pts[VS_WATCH_HISTORY];

		__T("history order", vs_watch_history(&w->q[0], pts, 5) == 5 &&
		    pts[0].t_s <= pts[4].t_s);
	}
	window(w, 0, false);
	__T("gone", counts[VS_WEV_GONE] == 1 && !w->q[0].used);
	free(w);
}

static void test_no_gain_rolled_back(void **state)
{
	struct vs_watch *w = new_watch(3600);
	struct vs_journal *j;
	int i;

	for (i = 0; i < 3; i++)
		window(w, 250000, true);
	__T("applied", counts[VS_WEV_APPLIED] == 1 && sleep_ns() == 120000);
	window(w, 255000, true);
	window(w, 245000, true);
	__T("rolled back", counts[VS_WEV_ROLLED_BACK] == 1 && sleep_ns() == 0);
	__T("why", strstr(last_text[VS_WEV_ROLLED_BACK], "(higher is better)") &&
	    strstr(last_text[VS_WEV_ROLLED_BACK], "neither by the") &&
	    !strstr(last_text[VS_WEV_ROLLED_BACK], ") ("));
	__T("journal clean", !vs_journal_load(&j) && !vs_journal_active(j));
	vs_journal_free(j);
	/* still bad: the rate limit holds the knob */
	for (i = 0; i < 3; i++)
		window(w, 250000, true);
	__T("rate limited", counts[VS_WEV_APPLIED] == 1 && counts[VS_WEV_HELD] == 1 &&
	    strstr(last_text[VS_WEV_HELD], "one change per"));
	free(w);
}

/* A knob that someone else changed after a rollback virtsync made is
 * found on the read-back before the next change. */
static void test_read_back(void **state)
{
	struct vs_watch *w = new_watch(0);
	int i;

	for (i = 0; i < 3; i++)
		window(w, 250000, true);
	/* changed behind virtsync's back while it confirms */
	{
		const struct vs_knob_ops *k = vs_knob_find("pcdev.consumer_sleep_ns");

		__T("write", !k->write("4242", "9000"));
	}
	window(w, 250000, true);
	__T("seen", counts[VS_WEV_FOREIGN] == 1);
	window(w, 250000, true);
	__T("not rolled back over it", !counts[VS_WEV_ROLLED_BACK] && sleep_ns() == 9000);
	for (i = 0; i < 3; i++)
		window(w, 250000, true);
	__T("never changed again", counts[VS_WEV_APPLIED] == 1 && sleep_ns() == 9000);
	free(w);
}

static void write_stat(unsigned long long start)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/%d/stat", root, DEV);
	f = fopen(path, "w");
	if (!f)
		fail_msg("cannot write %s", path);
	/* start time is field 22 */
	fprintf(f, "%d (qemu-system-x86) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 4 0 %llu 1 1\n",
		DEV, start);
	fclose(f);
}

/* QEMU's used index becomes a counter that keeps counting across windows
 * (the gap bridged, the 16-bit wrap undone); a queue whose process exited
 * (or whose pid now belongs to a new process) is gone before the next
 * window. */
static void test_ring_and_prune(void **state)
{
	struct vs_watch_opts o = { .cb = on_event };
	struct vs_watch *w = malloc(sizeof(*w));
	struct vs_watch_ring r1 = { .first_idx = 65530, .last_idx = 4, .used = 10,
				    .end_s = 1000.5, .items_src = "qmp used-idx",
				    .kicks_src = "vcpu write() syscalls", .irqs_src = "" };
	struct vs_watch_ring r2 = { .first_idx = 10, .last_idx = 20, .used = 10,
				    .end_s = 1001.5, .items_src = "qmp used-idx" };
	struct vs_watch_id ring_id = id;
	struct vs_sample s;
	struct vs_verdict v;
	struct vs_plan p;
	struct vs_watch_queue *q;

	memset(&s, 0, sizeof(s));
	memset(&v, 0, sizeof(v));
	memset(&p, 0, sizeof(p));
	vs_watch_init(w, &o);
	ring_id.ring = 1;
	write_stat(99);
	vs_watch_begin(w);
	q = vs_watch_window(w, &ring_id, 0, &s, &v, &p);
	vs_watch_ring(q, &r1);
	__T("another device's queue 0 is another slot",
	    vs_watch_window(w, &id, 0, &s, &v, &p) != q);
	vs_watch_end(w);
	__T("first window", q->items_total == 10 && q->ring_idx == 4 &&
	    !strcmp(q->src_kicks, "vcpu write() syscalls"));
	vs_watch_begin(w);
	__T("same slot", vs_watch_window(w, &ring_id, 0, &s, &v, &p) == q);
	vs_watch_ring(q, &r2);
	vs_watch_end(w);
	__T("gap of 6 bridged", q->items_total == 26 && q->ring_end_s == 1001.5);
	vs_watch_prune(w);
	__T("alive: kept", q->used && counts[VS_WEV_GONE] == 1);	/* the unseen one */
	write_stat(100);		/* the pid is another process now */
	vs_watch_prune(w);
	__T("reused pid: gone", !q->used && counts[VS_WEV_GONE] == 2);
	free(w);
}

static void test_bad(void **state)
{
	struct vs_verdict v = { .known = true };
	struct vs_plan p = { .valid = true, .have_cur = true, .have_rec = true };

	p.cur.t_ns = 1000;
	p.rec.t_ns = 950;
	p.n_actions = 1;
	p.actions[0].applies = VS_APPLY_NOW;
	__T("5% is not 10%", !vs_watch_bad(&v, &p, 0.1));
	p.gain_is_floor = true;
	__T("5% as a floor is enough to measure", vs_watch_bad(&v, &p, 0.1));
	p.rec.t_ns = 1010;
	__T("a floor that predicts a loss is not", !vs_watch_bad(&v, &p, 0.1));
	p.gain_is_floor = false;
	p.rec.t_ns = 900;
	__T("11% is", vs_watch_bad(&v, &p, 0.1));
	p.actions[0].applies = VS_APPLY_RESTART;
	__T("restart-only is advice", !vs_watch_bad(&v, &p, 0.1));
	p.actions[0].applies = VS_APPLY_NOW;
	p.rec.t_ns = 1000;
	p.cur.e_ns = 3000;
	p.rec.e_ns = 2000;
	__T("less CPU at the same T", vs_watch_bad(&v, &p, 0.1));
	v.known = false;
	__T("unknown", !vs_watch_bad(&v, &p, 0.1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fix_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_gain_rolled_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_and_prune, setup, teardown),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
