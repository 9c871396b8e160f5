// SPDX-License-Identifier: GPL-2.0-only
/* Knob helpers and knob validation against the fixture tree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knobs/knobs.h"
#include "pcdev/ctlfile.h"
#include "test.h"

static void test_cpulist(void **state)
{
	uint64_t m;
	char buf[64];

	__T("parse 0-3,6", !vs_cpulist_parse("0-3,6", &m) && m == 0x4f);
	__T("format", !vs_cpulist_format(m, buf, sizeof(buf)) && !strcmp(buf, "0-3,6"));
	__T("0,1 canonical 0-1", !vs_cpulist_parse("0,1", &m) &&
	    !vs_cpulist_format(m, buf, sizeof(buf)) && !strcmp(buf, "0-1"));
	__T("single", !vs_cpulist_parse("5", &m) && m == 0x20);
	__T("empty", vs_cpulist_parse("", &m) == -EINVAL);
	__T("reversed", vs_cpulist_parse("3-1", &m) == -EINVAL);
	__T("trailing comma", vs_cpulist_parse("1,", &m) == -EINVAL);
	__T("junk", vs_cpulist_parse("1x", &m) == -EINVAL);
	__T("sign", vs_cpulist_parse("-1", &m) == -EINVAL);
	__T("too big", vs_cpulist_parse("64", &m) == -ERANGE);
}

static void test_names(void **state)
{
	int tid;
	uint64_t start;

	__T("eth0", vs_safe_name("eth0", 15));
	__T("dotdot", !vs_safe_name("..", 15));
	__T("slash", !vs_safe_name("a/b", 15));
	__T("long", !vs_safe_name("abcdefghijklmnop", 15));
	__T("empty", !vs_safe_name("", 15));
	__T("thread inst", !vs_thread_inst_parse("12@345", &tid, &start) &&
	    tid == 12 && start == 345);
	__T("thread inst junk", vs_thread_inst_parse("12@345x", &tid, &start));
	__T("thread inst neg", vs_thread_inst_parse("-1@3", &tid, &start));
}

static void test_validate_fixture(void **state)
{
	const struct vs_knob_ops *k;
	char canon[VS_KNOB_VAL_MAX], why[VS_KNOB_WHY_MAX], val[VS_KNOB_VAL_MAX];
	char inst[VS_KNOB_INST_MAX];

	setenv("VIRTSYNC_ROOT", "tests/fixtures/host1", 1);
	k = vs_knob_find("guest.halt_poll_ns");
	__T("guest knob", k && k->scope == VS_SCOPE_GLOBAL);
	__T("valid", !k->validate("", "200000", canon, sizeof(canon), why, sizeof(why)) &&
	    !strcmp(canon, "200000"));
	__T("too big", k->validate("", "4294967296", canon, sizeof(canon), why,
				   sizeof(why)) == -ERANGE && strstr(why, "out of range"));
	__T("not a number", k->validate("", "12abc", canon, sizeof(canon), why,
					sizeof(why)) == -EINVAL);
	__T("global takes no target", k->validate("cpu0", "1", canon, sizeof(canon),
						  why, sizeof(why)) == -EINVAL);
	__T("read", !k->read("", val, sizeof(val)) && !strcmp(val, "0"));

	k = vs_knob_find("kvm.halt_poll_ns");
	__T("kvm read-only", k->validate("", "1", canon, sizeof(canon), why,
					 sizeof(why)) == -EROFS);
	__T("offers vm.halt_poll_ns", strstr(why, "vm.halt_poll_ns") != NULL);

	k = vs_knob_find("guest.halt_poll_allow_shrink");
	__T("bool canon", !k->validate("", "0", canon, sizeof(canon), why, sizeof(why)) &&
	    !strcmp(canon, "N"));
	__T("bool bad", k->validate("", "maybe", canon, sizeof(canon), why, sizeof(why)) ==
	    -EINVAL);

	k = vs_knob_find("cpuidle.state_disable");
	__T("cstate ok", !k->validate("cpu1/state1", "1", canon, sizeof(canon), why,
				      sizeof(why)));
	__T("cstate missing", k->validate("cpu1/state7", "1", canon, sizeof(canon), why,
					  sizeof(why)) == -ENOENT);
	__T("cstate bad inst", k->validate("cpu1/../state1", "1", canon, sizeof(canon),
					   why, sizeof(why)) == -EINVAL);

	k = vs_knob_find("irq.affinity");
	__T("irq canon", !k->validate("24", "1,0", canon, sizeof(canon), why, sizeof(why)) &&
	    !strcmp(canon, "0-1"));
	__T("irq offline cpu", k->validate("24", "5", canon, sizeof(canon), why,
					   sizeof(why)) == -ERANGE);

	k = vs_knob_find("cpufreq.governor");
	__T("gov ok", !k->validate("cpu0", "powersave", canon, sizeof(canon), why,
				   sizeof(why)));
	__T("gov unknown", k->validate("cpu0", "turbo", canon, sizeof(canon), why,
				       sizeof(why)) == -EINVAL);

	k = vs_knob_find("netdev.gro_flush_timeout");
	__T("netdev traversal", k->validate("../eth0", "1", canon, sizeof(canon), why,
					    sizeof(why)) == -EINVAL);

	k = vs_knob_find("thread.timerslack_ns");
	__T("thread inst", !vs_thread_inst_make(4244, inst, sizeof(inst)) &&
	    !strcmp(inst, "4244@13244"));
	__T("slack ok", !k->validate(inst, "1", canon, sizeof(canon), why, sizeof(why)));
	__T("slack 0 refused", k->validate(inst, "0", canon, sizeof(canon), why,
					   sizeof(why)) == -ERANGE);
	__T("reused tid", k->validate("4244@1", "1", canon, sizeof(canon), why,
				      sizeof(why)) == -ESRCH);
	/* SCHED_FIFO (policy 1 in /proc/4245/stat, comm with a ')'): the
	 * kernel keeps a real-time thread's slack at 0 whatever is written */
	__T("rt thread inst", !vs_thread_inst_make(4245, inst, sizeof(inst)));
	__T("rt slack is 0", !k->validate(inst, "1", canon, sizeof(canon), why, sizeof(why)) &&
	    !strcmp(canon, "0"));
	__T("rt slack still range-checked", k->validate(inst, "0", canon, sizeof(canon), why,
							sizeof(why)) == -ERANGE);
	__T("thread inst again", !vs_thread_inst_make(4244, inst, sizeof(inst)));
	k = vs_knob_find("thread.affinity");
	__T("affinity refused on fixtures", k->validate(inst, "0", canon, sizeof(canon),
							why, sizeof(why)) == -EOPNOTSUPP);

	k = vs_knob_find("pcdev.consumer_sleep_ns");
	__T("pcdev read", !k->read("4242", val, sizeof(val)) && !strcmp(val, "1000"));
	__T("pcdev absent", k->validate("4243", "1", canon, sizeof(canon), why,
					sizeof(why)) == -ENOENT);
	unsetenv("VIRTSYNC_ROOT");
}

static void test_pcdev_ctl_watch(void **state)
{
	char dir[] = "/tmp/vs-ctl.XXXXXX", sub[64];
	struct vs_pcdev_ctl_watch w = { 0 };
	struct vs_pcdev_ctl c = { 1, 2, 3 }, got;

	__T("tmpdir", mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/run/virtsync", dir);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "mkdir -p %s", sub);
		__T("mkdir -p", system(cmd) == 0);
	}
	setenv("VIRTSYNC_ROOT", dir, 1);
	__T("absent", vs_pcdev_ctl_check(77, &w, &got) == -ENOENT);
	__T("write", !vs_pcdev_ctl_write(77, &c));
	__T("first check sees it", vs_pcdev_ctl_check(77, &w, &got) == 1 &&
	    got.halt_poll_ns == 1 && got.consumer_busyloop_ns == 2 &&
	    got.consumer_sleep_ns == 3);
	__T("unchanged", vs_pcdev_ctl_check(77, &w, &got) == 0);
	c.consumer_sleep_ns = 9;
	__T("rewrite", !vs_pcdev_ctl_write(77, &c));
	__T("change seen (new inode)", vs_pcdev_ctl_check(77, &w, &got) == 1 &&
	    got.consumer_sleep_ns == 9);
	__T("remove", !vs_pcdev_ctl_remove(77));
	unsetenv("VIRTSYNC_ROOT");
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		__T("cleanup", system(cmd) == 0);
	}
}

static void test_pcdev_ctl_parse(void **state)
{
	struct vs_pcdev_ctl c;

	__T("parse", !vs_pcdev_ctl_parse("# x\nhalt_poll_ns=5\nconsumer_sleep_ns=7\nfuture_key=1\n",
					 &c) && c.halt_poll_ns == 5 && c.consumer_sleep_ns == 7);
	__T("bad value", vs_pcdev_ctl_parse("halt_poll_ns=-1\n", &c) == -EINVAL);
	__T("junk", vs_pcdev_ctl_parse("halt_poll_ns=1 2\n", &c) == -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_validate_fixture),
		cmocka_unit_test(test_pcdev_ctl_parse),
		cmocka_unit_test(test_pcdev_ctl_watch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
