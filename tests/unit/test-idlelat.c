// SPDX-License-Identifier: GPL-2.0-only
/* idlelat's restore file (parse, render, replay) and the sysfs side of the
 * cpuidle states, on a fixture tree under VIRTSYNC_ROOT. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "sources/idlelat.h"
#include "core/sysfs.h"

static char root[] = "/tmp/vs-idlelat-XXXXXX";

static void put(const char *rel, const char *text)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	__T("mkdir", system(cmd) == 0);
	f = fopen(path, "w");
	__T("fopen", f != NULL);
	fputs(text, f);
	fclose(f);
}

static int get_u(const char *rel)
{
	char path[512];
	uint64_t v;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	if (vs_read_u64(path, &v))
		return -1;
	return (int)v;
}

static int setup(void **state)
{
	static const char *const names[] = { "POLL", "C1", "C6" };
	static const char *const lat[] = { "0", "2", "133" };
	char rel[256];
	int s;

	if (!mkdtemp(root))
		return -1;
	setenv("VIRTSYNC_ROOT", root, 1);
	put("/sys/devices/system/cpu/online", "0-1\n");
	put("/sys/devices/system/cpu/cpuidle/current_governor", "haltpoll\n");
	put("/sys/devices/system/cpu/cpuidle/current_driver", "intel_idle\n");
	put("/sys/devices/system/cpu/cpuidle/available_governors",
	    "ladder menu haltpoll \n");
	for (s = 0; s < 3; s++) {
#define ST(f) (snprintf(rel, sizeof(rel), \
	"/sys/devices/system/cpu/cpu1/cpuidle/state%d/%s", s, f), rel)
		put(ST("name"), names[s]);
		put(ST("desc"), "fixture state");
		put(ST("latency"), lat[s]);
		put(ST("disable"), "0\n");
		put(ST("usage"), "100\n");
		put(ST("time"), "5000\n");
#undef ST
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	unsetenv("VIRTSYNC_ROOT");
	return system(cmd) ? -1 : 0;
}

static const char good[] =
	"{\"version\": 1, \"tool\": \"virtsync idlelat\", \"pid\": 4242,"
	" \"time\": 1700000000, \"kernel\": \"6.1.0-18-amd64\","
	" \"governor\": \"haltpoll\","
	" \"states\": [{\"cpu\": 1, \"state\": 0, \"name\": \"POLL\", \"disable\": 0},"
	"  {\"cpu\": 1, \"state\": 2, \"name\": \"C6\", \"disable\": 1}]}";

static void test_parse_good(void **state)
{
	struct vs_idle_restore *r = calloc(1, sizeof(*r));

	__T("parse", vs_idle_restore_parse(good, r) == 0);
	__T("pid", r->pid == 4242);
	__T("time", r->time == 1700000000);
	__T("kernel", !strcmp(r->kernel, "6.1.0-18-amd64"));
	__T("governor", !strcmp(r->governor, "haltpoll"));
	__T("n", r->n == 2);
	__T("e0", r->e[0].cpu == 1 && r->e[0].state == 0 && r->e[0].disable == 0);
	__T("e0 name", !strcmp(r->e[0].name, "POLL"));
	__T("e1", r->e[1].cpu == 1 && r->e[1].state == 2 && r->e[1].disable == 1);
	/* Without a governor key the governor is left alone. */
	__T("no governor", vs_idle_restore_parse(
		"{\"version\":1,\"states\":[]}", r) == 0 && !r->governor[0] &&
		r->n == 0);
	free(r);
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"{\"version\": 2, \"states\": []}",
		"{\"states\": []}",
		"{\"version\": 1}",
		"{\"version\": 1, \"states\": {}}",
		"{\"version\": 1, \"states\": [1]}",
		"{\"version\": 1, \"states\": [{\"cpu\": 1, \"state\": 0}]}",
		"{\"version\": 1, \"states\": [{\"cpu\": 1, \"state\": 0, \"disable\": 2}]}",
		"{\"version\": 1, \"states\": [{\"cpu\": -1, \"state\": 0, \"disable\": 0}]}",
		"{\"version\": 1, \"states\": [{\"cpu\": 1, \"state\": 99, \"disable\": 0}]}",
		"{\"version\": 1, \"states\": [{\"cpu\": \"1\", \"state\": 0, \"disable\": 0}]}",
		"{\"version\": 1, \"governor\": \"../../x\", \"states\": []}",
		"{\"version\": 1, \"governor\": \"\", \"states\": []}",
		"{\"version\": 1, \"governor\": 3, \"states\": []}",
	};
	struct vs_idle_restore *r = calloc(1, sizeof(*r));
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		__T(bad[i], vs_idle_restore_parse(bad[i], r) == -EINVAL);
		__T("nothing left to replay", r->n == 0 && !r->governor[0]);
	}
	__T("NULL", vs_idle_restore_parse(NULL, r) == -EINVAL);
	free(r);
}

static void test_format_roundtrip(void **state)
{
	struct vs_idle_restore *a = calloc(1, sizeof(*a));
	struct vs_idle_restore *b = calloc(1, sizeof(*b));
	char *text = NULL;

	__T("parse", vs_idle_restore_parse(good, a) == 0);
	__T("format", vs_idle_restore_format(a, &text) == 0);
	__T("reparse", vs_idle_restore_parse(text, b) == 0);
	__T("same", !memcmp(a, b, sizeof(*a)));
	free(text);
	free(a);
	free(b);
}

static void test_states_fixture(void **state)
{
	struct vs_idle_state st[VS_IDLE_MAX_STATES];
	unsigned int n;
	uint64_t u, t;

	__T("read", vs_idle_states_read(1, st, VS_IDLE_MAX_STATES, &n) == 0);
	__T("three", n == 3);
	__T("poll", st[0].is_poll && !st[1].is_poll);
	__T("C6 latency", st[2].latency_us == 133 && !strcmp(st[2].name, "C6"));
	__T("no states on cpu0", vs_idle_states_read(0, st, 16, &n) == 0 && n == 0);
	__T("set", vs_idle_state_set_disabled(1, 2, 1) == 0);
	__T("get", vs_idle_state_get_disabled(1, 2) == 1);
	__T("file", get_u("/sys/devices/system/cpu/cpu1/cpuidle/state2/disable") == 1);
	__T("clear", vs_idle_state_set_disabled(1, 2, 0) == 0);
	__T("counters", vs_idle_state_counters(1, 1, &u, &t) == 0 &&
			u == 100 && t == 5000);
	__T("governor available", vs_idle_governor_available("menu") == 1);
	__T("governor unknown", vs_idle_governor_available("men") == 0);
}

/* What a killed run leaves: a restore file and changed flags. */
static void test_replay(void **state)
{
	struct vs_idle_restore *r = calloc(1, sizeof(*r));
	struct vs_idle_restore *left = calloc(1, sizeof(*left));
	char path[512];
	int lock, lock2;

	r->pid = 99999;
	r->time = 1700000000;
	strcpy(r->governor, "haltpoll");
	r->n = 3;
	for (unsigned int i = 0; i < 3; i++) {
		r->e[i].cpu = 1;
		r->e[i].state = i;
		r->e[i].disable = 0;
	}
	__T("write", vs_idle_restore_write(r) == 0);
	vs_idle_state_set_disabled(1, 0, 1);
	vs_idle_state_set_disabled(1, 2, 1);
	vs_idle_governor_write("menu");

	lock = vs_idlelat_lock();
	__T("lock", lock >= 0);
	lock2 = vs_idlelat_lock();
	__T("second lock busy", lock2 == -EBUSY);
	__T("replay", vs_idlelat_replay(left) == 4);
	__T("left pid", left->pid == 99999 && left->n == 3);
	__T("state0 back", get_u("/sys/devices/system/cpu/cpu1/cpuidle/state0/disable") == 0);
	__T("state2 back", get_u("/sys/devices/system/cpu/cpu1/cpuidle/state2/disable") == 0);
	{
		char gov[32];

		__T("governor back", vs_idle_governor_read(gov, sizeof(gov)) == 0 &&
				     !strcmp(gov, "haltpoll"));
	}
	snprintf(path, sizeof(path), "%s/run/virtsync/idlelat-restore.json", root);
	__T("file removed", access(path, F_OK) != 0);
	__T("nothing left", vs_idlelat_replay(NULL) == 0);
	vs_idlelat_unlock(lock);
	lock = vs_idlelat_lock();
	__T("lock free again", lock >= 0);
	vs_idlelat_unlock(lock);

	/* A state that vanished (CPU unplugged) does not block the rest. */
	r->e[1].cpu = 7;
	r->governor[0] = '\0';
	vs_idle_state_set_disabled(1, 2, 1);
	__T("write 2", vs_idle_restore_write(r) == 0);
	__T("replay skips missing", vs_idlelat_replay(NULL) == 2);
	__T("state2 back", get_u("/sys/devices/system/cpu/cpu1/cpuidle/state2/disable") == 0);
	__T("file removed 2", access(path, F_OK) != 0);

	/* A corrupt file is reported, and kept for a human to look at. */
	put("/run/virtsync/idlelat-restore.json", "{\"version\": 1, \"sta");
	__T("corrupt", vs_idlelat_replay(NULL) == -EINVAL);
	__T("corrupt kept", access(path, F_OK) == 0);
	unlink(path);
	free(r);
	free(left);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_states_fixture),
		cmocka_unit_test(test_replay),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
