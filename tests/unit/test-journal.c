// SPDX-License-Identifier: GPL-2.0-only
/* The journal's file format and the resolver, on temporary and fixture
 * trees. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tune/journal.h"
#include "tune/planfile.h"
#include "test.h"
#include "tune/apply.h"

static char root[64];

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/vs-journal.XXXXXX");
	char run[96];

	if (!mkdtemp(root))
		return -1;
	/* a fake root has no /run; the journal creates only virtsync/ */
	snprintf(run, sizeof(run), "%s/run", root);
	if (mkdir(run, 0755))
		return -1;
	setenv("VIRTSYNC_ROOT", root, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	unsetenv("VIRTSYNC_ROOT");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) ? -1 : 0;
}

static void test_roundtrip(void **state)
{
	struct vs_journal *j, *k;
	struct vs_jentry e = { 0 }, got;
	char path[256];
	struct stat st;
	size_t idx;
	int apply;

	__T("load empty", !vs_journal_load(&j) && vs_journal_count(j) == 0 &&
	    !vs_journal_active(j));
	__T("begin", !vs_journal_begin(j, "unit", &apply) && apply == 0);
	snprintf(e.knob, sizeof(e.knob), "guest.halt_poll_ns");
	snprintf(e.old, sizeof(e.old), "0");
	snprintf(e.new, sizeof(e.new), "200000");
	snprintf(e.label, sizeof(e.label), "global");
	e.status = VS_J_PENDING;
	__T("add", !vs_journal_add(j, &e, &idx) && idx == 0);
	snprintf(path, sizeof(path), "%s/run/virtsync/journal.json", root);
	__T("mode 0600", !stat(path, &st) && (st.st_mode & 0777) == 0600);
	__T("reload sees pending", !vs_journal_load(&k) && vs_journal_count(k) == 1 &&
	    !vs_journal_get(k, 0, &got) && got.status == VS_J_PENDING &&
	    !strcmp(got.new, "200000") && vs_journal_active(k));
	vs_journal_free(k);
	__T("done with note", !vs_journal_set(j, 0, VS_J_DONE, "n"));
	__T("restored", !vs_journal_set(j, 0, VS_J_RESTORED, NULL));
	__T("inactive", !vs_journal_active(j));
	__T("next begin starts afresh", !vs_journal_begin(j, "again", &apply) &&
	    apply == 0 && vs_journal_count(j) == 0);
	vs_journal_free(j);
}

static void test_corrupt(void **state)
{
	struct vs_journal *j;
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/run/virtsync/journal.json", root);
	f = fopen(path, "w");
	__T("write junk", f && fputs("{\"format\":\"other\"}", f) >= 0);
	fclose(f);
	__T("refused", vs_journal_load(&j) == -EBADMSG);
	f = fopen(path, "w");
	fputs("{\"format\":\"virtsync-journal\",\"applies\":[],\"entries\":[{\"knob\":1}]}", f);
	fclose(f);
	__T("bad entry refused", vs_journal_load(&j) == -EBADMSG);
	remove(path);
}

static void test_resolve_chain(void **state)
{
	const char *text =
		"{\"format\":\"virtsync-profile\",\"version\":1,\"name\":\"t\",\"description\":\"d\","
		"\"steps\":[{\"knob\":\"guest.halt_poll_ns\",\"value\":\"${dmax}\"},"
		"{\"knob\":\"guest.halt_poll_ns\",\"value\":5},"
		"{\"knob\":\"cpufreq.governor\",\"value\":\"powersave\",\"target\":{\"cpus\":\"${cpus}\"}},"
		"{\"knob\":\"kvm.halt_poll_ns\",\"value\":1,\"optional\":true}]}";
	struct vs_profile *p;
	struct vs_change *a;
	struct vs_var v[1];
	size_t n, nv = 0;
	char err[256];

	setenv("VIRTSYNC_ROOT", "tests/fixtures/host1", 1);
	__T("parse", !vs_profile_parse(text, strlen(text), VS_KIND_PROFILE, &p, err,
				       sizeof(err)));
	vs_vars_set(v, &nv, 1, "dmax", "70000");
	if (vs_apply_resolve(p, v, nv, &a, &n, err, sizeof(err)))
		fail_msg("resolve: %s", err);
	__T("5 actions (2 + 2 CPUs + 1 skipped)", n == 5);
	__T("dmax from --set", !strcmp(a[0].new, "70000") && !strcmp(a[0].old, "0"));
	__T("second step starts from the first's value", !strcmp(a[1].old, "70000") &&
	    !strcmp(a[1].new, "5"));
	__T("cpus expanded", !strcmp(a[2].inst, "cpu0") && !strcmp(a[3].inst, "cpu1"));
	__T("read-only optional step skipped", a[4].skip && strstr(a[4].why, "read-only"));
	free(a);
	vs_profile_free(p);
	setenv("VIRTSYNC_ROOT", root, 1);
}

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		fail_msg("cannot write %s", path);
}

/* A rollback between resolve (which reads the old values) and the lock
 * that vs_apply_changes() runs under changes the live value: the journal
 * must hold what is there when the lock is held, not what resolve saw, or
 * the original is lost for good (watch --tune and tune resolve first). */
static void test_old_read_under_lock(void **state)
{
	const char *text =
		"{\"format\":\"virtsync-profile\",\"version\":1,\"name\":\"t\",\"description\":\"d\","
		"\"steps\":[{\"knob\":\"guest.halt_poll_ns\",\"value\":5},"
		"{\"knob\":\"guest.halt_poll_ns\",\"value\":6}]}";
	const char *param = "sys/module/haltpoll/parameters/guest_halt_poll_ns";
	struct vs_apply_result r;
	struct vs_profile *p;
	struct vs_change *a;
	struct vs_journal *j;
	struct vs_jentry e;
	char err[256], dir[128];
	size_t n;

	snprintf(dir, sizeof(dir), "%s/sys/module/haltpoll/parameters", root);
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "mkdir -p %s %s/sys/devices/system/cpu && "
			 "cp /sys/devices/system/cpu/online %s/sys/devices/system/cpu/", dir,
			 root, root);
		__T("mkdir", !system(cmd));
	}
	put(param, "123456\n");
	__T("parse", !vs_profile_parse(text, strlen(text), VS_KIND_PROFILE, &p, err,
				       sizeof(err)));
	if (vs_apply_resolve(p, NULL, 0, &a, &n, err, sizeof(err)))
		fail_msg("resolve: %s", err);
	__T("resolve saw 123456", n == 2 && !strcmp(a[0].old, "123456"));
	put(param, "0\n");	/* the rollback that ran before our lock */
	__T("load", !vs_journal_load(&j));
	if (vs_apply_changes(j, "unit", a, n, &r, err, sizeof(err)))
		fail_msg("apply: %s", err);
	__T("two entries", vs_journal_count(j) == 2);
	__T("journaled the value under the lock", !vs_journal_get(j, 0, &e) &&
	    !strcmp(e.old, "0") && !strcmp(e.new, "5"));
	__T("the chain is kept", !vs_journal_get(j, 1, &e) && !strcmp(e.old, "5"));
	vs_journal_free(j);
	free(a);

	/* someone set the value we want meanwhile: nothing to journal */
	put(param, "123456\n");
	if (vs_apply_resolve(p, NULL, 0, &a, &n, err, sizeof(err)))
		fail_msg("resolve: %s", err);
	put(param, "5\n");
	__T("load", !vs_journal_load(&j));
	__T("apply", !vs_apply_changes(j, "unit", a, n, &r, err, sizeof(err)));
	__T("the first step is no change now, the second one is",
	    vs_journal_count(j) == r.first + 1 && !vs_journal_get(j, r.first, &e) &&
	    !strcmp(e.old, "5") && !strcmp(e.new, "6") && r.written == 1);
	vs_journal_free(j);
	free(a);
	vs_profile_free(p);
	snprintf(dir, sizeof(dir), "%s/run/virtsync/journal.json", root);
	remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_resolve_chain),
		cmocka_unit_test(test_old_read_under_lock),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
