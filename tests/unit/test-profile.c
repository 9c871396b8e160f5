// SPDX-License-Identifier: GPL-2.0-only
/* Profile and plan parsing, variables, and the tuning loop's decisions. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune/planfile.h"
#include "tune/profile.h"
#include "test.h"
#include "tune/loop.h"

static int parse(const char *text, enum vs_profile_kind kind, char *err, size_t len)
{
	struct vs_profile *p = NULL;
	int e = vs_profile_parse(text, strlen(text), kind, &p, err, len);

	vs_profile_free(p);
	return e;
}

#define HEAD "{\"format\":\"virtsync-profile\",\"version\":1,\"name\":\"t\",\"description\":\"d\","

static void test_shipped_profiles(void **state)
{
	const char *names[] = { "throughput-sleep", "notify-batch", "latency-poll",
				"energy", "host-default" };
	char path[256], err[256];
	size_t i;

	for (i = 0; i < 5; i++) {
		struct vs_profile *p;

		snprintf(path, sizeof(path), "profiles/%s.json", names[i]);
		if (vs_profile_load_file(path, VS_KIND_PROFILE, &p, err, sizeof(err)))
			fail_msg("%s: %s", path, err);
		__T("name matches the file", !strcmp(p->name, names[i]));
		__T("has steps", p->nsteps > 0);
		vs_profile_free(p);
	}
}

static void test_errors(void **state)
{
	char err[256];

	__T("malformed", parse("{", VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL &&
	    strstr(err, "line 1"));
	__T("not object", parse("[]", VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL);
	__T("wrong format", parse("{\"format\":\"x\",\"version\":1}", VS_KIND_PROFILE, err,
				  sizeof(err)) == -EINVAL && strstr(err, "format"));
	__T("plan is not a profile",
	    parse("{\"format\":\"virtsync-plan\",\"version\":1}", VS_KIND_PROFILE, err,
		  sizeof(err)) == -EINVAL);
	__T("unknown top key", parse(HEAD "\"stepz\":[]}", VS_KIND_PROFILE, err,
				     sizeof(err)) == -EINVAL && strstr(err, "stepz"));
	__T("no steps", parse(HEAD "\"steps\":[]}", VS_KIND_PROFILE, err, sizeof(err)) ==
	    -EINVAL);
	__T("unknown knob", parse(HEAD "\"steps\":[{\"knob\":\"x.y\",\"value\":1}]}",
				  VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL &&
	    strstr(err, "unknown knob 'x.y'"));
	__T("scope key", parse(HEAD "\"steps\":[{\"knob\":\"irq.affinity\",\"target\":{\"cpus\":\"0\"},\"value\":\"0\"}]}",
			       VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL &&
	    strstr(err, "does not apply"));
	__T("missing irq", parse(HEAD "\"steps\":[{\"knob\":\"irq.affinity\",\"value\":\"0\"}]}",
				 VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL &&
	    strstr(err, "needs 'irq'"));
	__T("traversal", parse(HEAD "\"steps\":[{\"knob\":\"netdev.gro_flush_timeout\",\"target\":{\"netdev\":\"../x\"},\"value\":1}]}",
			       VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL);
	__T("negative", parse(HEAD "\"steps\":[{\"knob\":\"guest.halt_poll_ns\",\"value\":-1}]}",
			      VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL);
	__T("float value", parse(HEAD "\"steps\":[{\"knob\":\"guest.halt_poll_ns\",\"value\":1.5}]}",
				 VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL);
	__T("duplicate key", parse(HEAD "\"steps\":[{\"knob\":\"guest.halt_poll_ns\",\"value\":1,\"value\":2}]}",
				   VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL);
	__T("control char", parse(HEAD "\"steps\":[{\"knob\":\"guest.halt_poll_ns\",\"value\":\"1\\n2\"}]}",
				  VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL);
	__T("embedded NUL", parse(HEAD "\"steps\":[{\"knob\":\"guest.halt_poll_ns\",\"value\":\"1\\u00002\"}]}",
				  VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL);
	__T("bad var name", parse(HEAD "\"variables\":{\"A\":1},\"steps\":[{\"knob\":\"guest.halt_poll_ns\",\"value\":1}]}",
				  VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL);
	__T("pid and name", parse(HEAD "\"steps\":[{\"knob\":\"thread.timerslack_ns\",\"target\":{\"pid\":1,\"name\":\"x\"},\"value\":1}]}",
				  VS_KIND_PROFILE, err, sizeof(err)) == -EINVAL);
	__T("good", !parse(HEAD "\"steps\":[{\"knob\":\"thread.timerslack_ns\",\"target\":{\"pid\":\"${pid}\",\"role\":\"vcpu\"},\"value\":1,\"why\":\"w\",\"optional\":true}]}",
			   VS_KIND_PROFILE, err, sizeof(err)));
}

static void test_vars(void **state)
{
	struct vs_var a[4], b[4];
	const struct vs_var *lists[2] = { a, b };
	size_t na = 0, nb = 0, counts[2];
	char out[64], err[128];

	__T("set", !vs_vars_set(a, &na, 4, "x", "1") && !vs_vars_set(b, &nb, 4, "x", "2") &&
	    !vs_vars_set(b, &nb, 4, "y", "3"));
	__T("override", !vs_vars_set(a, &na, 4, "x", "9") && na == 1);
	__T("bad name", vs_vars_set(a, &na, 4, "9x", "1") == -EINVAL);
	counts[0] = na;
	counts[1] = nb;
	__T("expand, first list wins",
	    !vs_vars_expand("a${x}b${y}", out, sizeof(out), lists, counts, 2, err, sizeof(err)) &&
	    !strcmp(out, "a9b3"));
	__T("unset", vs_vars_expand("${z}", out, sizeof(out), lists, counts, 2, err,
				    sizeof(err)) == -EINVAL && strstr(err, "${z}"));
	__T("unterminated", vs_vars_expand("${x", out, sizeof(out), lists, counts, 2, err,
					   sizeof(err)) == -EINVAL);
	__T("too long", vs_vars_expand("${x}${x}${x}", out, 3, lists, counts, 2, err,
				       sizeof(err)) == -EINVAL);
}

static void test_plan_roundtrip(void **state)
{
	struct vs_profile *p = vs_profile_new("latency", "unit test"), *q = NULL;
	struct vs_step st = { 0 };
	char *text, err[256];
	json_t *doc;

	__T("new", p != NULL);
	p->dmax_ns = 150000;
	st.knob = vs_knob_find("cpuidle.state_disable");
	snprintf(st.sel[VS_SEL_CPUS], sizeof(st.sel[0]), "1");
	snprintf(st.sel[VS_SEL_STATE], sizeof(st.sel[0]), "POLL");
	snprintf(st.value, sizeof(st.value), "1");
	snprintf(st.why, sizeof(st.why), "because");
	__T("add", !vs_profile_add_step(p, &st));
	doc = vs_planfile_to_json(p);
	text = json_dumps(doc, 0);
	if (vs_profile_parse(text, strlen(text), VS_KIND_PLAN, &q, err, sizeof(err)))
		fail_msg("re-parse: %s (%s)", err, text);
	__T("objective", !strcmp(q->objective, "latency"));
	__T("dmax", q->dmax_ns == 150000);
	__T("dmax variable", q->nvars == 1 && !strcmp(q->vars[0].name, "dmax") &&
	    !strcmp(q->vars[0].value, "150000"));
	__T("step", q->nsteps == 1 && q->steps[0].knob == st.knob &&
	    !strcmp(q->steps[0].sel[VS_SEL_STATE], "POLL") && !strcmp(q->steps[0].why, "because"));
	__T("bad regime", parse("{\"format\":\"virtsync-plan\",\"version\":1,\"objective\":\"cpu\",\"regime\":\"XX\",\"steps\":[{\"knob\":\"guest.halt_poll_ns\",\"value\":1}]}",
				VS_KIND_PLAN, err, sizeof(err)) == -EINVAL);
	__T("good plan", !parse("{\"format\":\"virtsync-plan\",\"version\":1,\"objective\":\"cpu\",\"regime\":\"nFC\",\"confidence\":0.5,\"predicted\":{\"T\":1},\"steps\":[{\"knob\":\"guest.halt_poll_ns\",\"value\":1}]}",
				VS_KIND_PLAN, err, sizeof(err)));
	free(text);
	json_decref(doc);
	vs_profile_free(p);
	vs_profile_free(q);
}

/* What diagnose and tune --save write: the run, its plan inside. */
static void test_plan_in_run(void **state)
{
	static const char plan[] = "{\"format\":\"virtsync-plan\",\"version\":1,"
		"\"objective\":\"throughput\",\"regime\":\"nFC\",\"steps\":"
		"[{\"knob\":\"guest.halt_poll_ns\",\"value\":50000}]}";
	struct vs_profile *q = NULL;
	char text[1024], err[256];

	(void)state;
	snprintf(text, sizeof(text), "{\"tool\":\"virtsync\",\"command\":\"diagnose\","
		 "\"queues\":[],\"plan\":%s}", plan);
	if (vs_profile_parse(text, strlen(text), VS_KIND_PLAN, &q, err, sizeof(err)))
		fail_msg("a run with its plan: %s", err);
	__T("the plan inside", q->nsteps == 1 && !strcmp(q->regime, "nFC") &&
	    !strcmp(q->steps[0].value, "50000"));
	vs_profile_free(q);
	__T("a run without a plan", parse("{\"tool\":\"virtsync\",\"command\":\"tune\","
					  "\"plan\":null}", VS_KIND_PLAN, err, sizeof(err)) ==
	    -EINVAL && strstr(err, "this tune run has no plan"));
	__T("the plan's own errors, named as in the file",
	    parse("{\"tool\":\"virtsync\",\"command\":\"diagnose\",\"plan\":"
		  "{\"format\":\"virtsync-plan\",\"version\":1,\"objective\":\"throughput\","
		  "\"steps\":[]}}", VS_KIND_PLAN, err, sizeof(err)) == -EINVAL &&
	    !strncmp(err, "plan.steps:", 11));
	__T("not a virtsync document", parse("{\"plan\":{}}", VS_KIND_PLAN, err, sizeof(err)) ==
	    -EINVAL && strstr(err, "format"));
	snprintf(text, sizeof(text), "{\"tool\":\"virtsync\",\"plan\":%s}", plan);
	__T("profiles do not look inside runs", parse(text, VS_KIND_PROFILE, err, sizeof(err)) ==
	    -EINVAL);
}

static void test_locate(void **state)
{
	char path[512];

	__T("traversal name", vs_profile_locate("a/../b", path, sizeof(path)) == -EINVAL);
	__T("dot name", vs_profile_locate(".hidden", path, sizeof(path)) == -EINVAL);
	__T("dotdot", vs_profile_locate("..", path, sizeof(path)) == -EINVAL);
	setenv("VIRTSYNC_PROFILE_DIR", "profiles", 1);
	__T("by name", !vs_profile_locate("energy", path, sizeof(path)) &&
	    !strcmp(path, "profiles/energy.json"));
	__T("missing", vs_profile_locate("nope", path, sizeof(path)) == -ENOENT);
	__T("explicit", !vs_profile_locate("./profiles/energy.json", path, sizeof(path)));
	unsetenv("VIRTSYNC_PROFILE_DIR");
}

static void test_decisions(void **state)
{
	struct vs_objective b = { 140e3, 300e3, NAN, 0 }, a = { 27e3, 80e3, NAN, 0 };
	char why[128];
	double gain;

	__T("poll window 4x", vs_wakeup_poll_window(34e3, 50000, 0) == 140000);
	__T("poll window floor", vs_wakeup_poll_window(5e3, 50000, 0) == 50000);
	__T("poll window cap", vs_wakeup_poll_window(400e3, 50000, 0) == 1000000);
	__T("poll window dmax", vs_wakeup_poll_window(100e3, 50000, 200e3) == 200000);
	__T("latency improved", vs_objective_improved(VS_GOAL_LATENCY, &b, &a, 0.1, 0,
						      &gain, why, sizeof(why)));
	__T_REL("gain", gain, 140.0 / 27 - 1, 1e-9);
	/* after/before, as the table's ratio column, and which way is better */
	__T(why, !strcmp(why, "median latency 0.19x (lower is better)"));
	__T("worse", !vs_objective_improved(VS_GOAL_LATENCY, &a, &b, 0.1, 0, &gain, why,
					    sizeof(why)));
	__T(why, strstr(why, "median latency 5.19x (lower is better), above the 0.91x"));
	__T("dmax violated", !vs_objective_improved(VS_GOAL_LATENCY, &b, &a, 0.1, 50e3,
						    &gain, why, sizeof(why)) &&
	    strstr(why, "dmax"));
	b.throughput = 1.81e6; b.cpu_ns_per_item = 895;
	a.throughput = 3.31e6; a.cpu_ns_per_item = 531;
	__T("throughput", vs_objective_improved(VS_GOAL_THROUGHPUT, &b, &a, 0.5, 0, &gain,
						why, sizeof(why)));
	__T(why, !strcmp(why, "throughput 1.83x (higher is better)"));
	a.throughput = 1.85e6;
	__T("cpu per item", vs_objective_improved(VS_GOAL_THROUGHPUT, &b, &a, 0.1, 0, &gain,
						  why, sizeof(why)));
	__T(why, !strcmp(why, "throughput 1.02x (higher is better), CPU per item 0.59x "
			 "(lower is better)"));
	a.cpu_ns_per_item = 890;
	__T("no gain", !vs_objective_improved(VS_GOAL_THROUGHPUT, &b, &a, 0.1, 0, &gain,
					      why, sizeof(why)));
	__T(why, strstr(why, "CPU per item 0.99x (lower is better): neither by the 10%"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_profiles),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_vars),
		cmocka_unit_test(test_plan_roundtrip),
		cmocka_unit_test(test_plan_in_run),
		cmocka_unit_test(test_locate),
		cmocka_unit_test(test_decisions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
