// SPDX-License-Identifier: GPL-2.0-only
/* sleepcost: Yz and knee from the points, option checks, the Yz cache. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "sources/sleepcost.h"

static char root[] = "/tmp/vs-sleepcost-XXXXXX";

static int setup(void **state)
{
	if (!mkdtemp(root))
		return -1;
	setenv("VIRTSYNC_ROOT", root, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	unsetenv("VIRTSYNC_ROOT");
	return system(cmd) ? -1 : 0;
}

static void test_summarize(void **state)
{
	struct vs_sleepcost_point pts[4] = {
		/* busy for the whole sleep: below Yz the CPU never idles */
		{ .nominal_ns = 1e3, .eff = { .mean = 40e3, .p50 = 26e3 },
		  .cost_ns = 40e3 },
		{ .nominal_ns = 1e4, .eff = { .mean = 30e3 }, .cost_ns = 20e3 },
		{ .nominal_ns = 1e5, .eff = { .mean = 140e3 }, .cost_ns = 30e3 },
		{ .nominal_ns = 1e6, .eff = { .mean = 1.04e6 }, .cost_ns = 30e3 },
	};
	struct vs_sleepcost_pass p = { .npoints = 4, .points = pts };

	vs_sleepcost_pass_summarize(&p);
	/* The median: a preempted sleep does not move it. */
	__T_REL("Yz is the shortest effective sleep", p.yz_ns, 26e3, 1e-12);
	__T_REL("its cost", p.yz_cost_ns, 40e3, 1e-12);
	/* 20 of 30 us is not below half; 30 of 140 is. */
	__T_REL("knee", p.knee_nominal_ns, 1e5, 1e-12);
	__T_REL("knee cost", p.knee_cost_ns, 30e3, 1e-12);
	pts[2].cost_ns = pts[3].cost_ns = 2e6;
	vs_sleepcost_pass_summarize(&p);
	__T("no knee", isnan(p.knee_nominal_ns));
	p.npoints = 0;
	vs_sleepcost_pass_summarize(&p);
	__T("no points", isnan(p.yz_ns));
}

static void test_opts(void **state)
{
	struct vs_sleepcost_opts o;
	const char *what = NULL;

	vs_sleepcost_opts_default(&o, false);
	__T("default ok", vs_sleepcost_opts_check(&o, &what) == 0 && !what);
	__T("default range", o.min_ns == 1e3 && o.max_ns == 1e6 && o.steps == 7);
	o.max_ns = 500;
	__T("max < min", vs_sleepcost_opts_check(&o, &what) == -EINVAL &&
			 !strcmp(what, "max"));
	vs_sleepcost_opts_default(&o, true);
	o.min_ns = 0;
	__T("min 0", vs_sleepcost_opts_check(&o, &what) == -EINVAL &&
		     !strcmp(what, "min"));
	vs_sleepcost_opts_default(&o, true);
	o.duration_ns = 10;
	__T("tiny duration", vs_sleepcost_opts_check(&o, &what) == -EINVAL &&
			     !strcmp(what, "duration"));
	o.samples = 10;
	__T("samples replace duration", vs_sleepcost_opts_check(&o, NULL) == 0);
}

static void test_cache(void **state)
{
	struct vs_yz a = { 0 }, b;
	struct utsname u;
	char path[512];
	FILE *f;

	__T("no cache yet", vs_sleepcost_cache_read(&b) == -ENOENT);
	__T("uname", uname(&u) == 0);
	a.yz_ns = 26000;
	a.yz_slack_ns = 80000;
	a.yz_cost_ns = 25000;
	a.slack_ns = 50000;
	a.cpu = 1;
	a.time = (int64_t)time(NULL);
	snprintf(a.kernel, sizeof(a.kernel), "%s", u.release);
	snprintf(a.source, sizeof(a.source), "cpuidle");
	__T("write", vs_sleepcost_cache_write(&a) == 0);
	__T("read", vs_sleepcost_cache_read(&b) == 0);
	__T("same", b.yz_ns == 26000 && b.yz_slack_ns == 80000 &&
		    b.slack_ns == 50000 && b.cpu == 1 && b.time == a.time &&
		    !strcmp(b.kernel, u.release) && !strcmp(b.source, "cpuidle"));
	__T("fresh: from the cache", vs_sleepcost_yz_cached(60, &b) == 0 &&
				     b.from_cache && b.yz_ns == 26000);

	/* Another kernel's figure is not this kernel's. */
	snprintf(a.kernel, sizeof(a.kernel), "0.0.0-other");
	a.yz_ns = 1;
	__T("write other", vs_sleepcost_cache_write(&a) == 0);
	__T("remeasured", vs_sleepcost_yz_cached(3600, &b) == 0 && !b.from_cache);
	/* A real quick run: a sleep takes longer than nothing. */
	__T("measured yz", b.yz_ns > 1000 && b.yz_slack_ns > 0);
	__T("written back", vs_sleepcost_cache_read(&a) == 0 &&
			    !strcmp(a.kernel, u.release) && a.yz_ns == b.yz_ns);

	snprintf(path, sizeof(path), "%s/run/virtsync/yz.json", root);
	f = fopen(path, "w");
	__T("fopen", f != NULL);
	fputs("{\"version\": 1, \"time\": \"yesterday\"}", f);
	fclose(f);
	__T("malformed", vs_sleepcost_cache_read(&b) == -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summarize),
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
