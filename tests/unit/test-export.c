// SPDX-License-Identifier: GPL-2.0-only
/* lib/export: every knob has a place in a tuned profile; expansion follows
 * apply's variables; values that could break a file or a shell word are
 * refused; an export to a directory is all or nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "output/export.h"
#include "knobs/knobs.h"
#include "tune/profile.h"

static void test_every_knob_maps(void **state)
{
	size_t i;

	for (i = 0; vs_knobs[i]; i++)
		__T(vs_knobs[i]->name, vs_export_knob_section(vs_knobs[i]) != NULL);
}

static struct vs_profile *parse(const char *text)
{
	struct vs_profile *p = NULL;
	char err[256];

	if (vs_profile_parse(text, strlen(text), VS_KIND_PROFILE, &p, err, sizeof(err)))
		fail_msg("profile does not parse: %s", err);
	return p;
}

static const char good[] =
	"{\"format\":\"virtsync-profile\",\"version\":1,\"name\":\"t\","
	"\"description\":\"Poll ${dmax} ns. Second sentence.\","
	"\"variables\":{\"slack\":5},"
	"\"steps\":[{\"knob\":\"guest.halt_poll_ns\",\"value\":\"${dmax}\"},"
	"{\"knob\":\"thread.timerslack_ns\",\"target\":{\"pid\":\"${pid}\",\"role\":\"vhost\"},"
	"\"value\":\"${slack}\"}]}";

static void test_expand_like_apply(void **state)
{
	struct vs_profile *p = parse(good);
	struct vs_var vars[2];
	struct vs_export *x = NULL;
	size_t n = 0;
	char err[256], *conf = NULL;

	__T("no pid: refused", vs_export_build(p, "profile t", NULL, NULL, 0, &x, err,
					       sizeof(err)) == -EINVAL && !x);
	__T("names the variable", strstr(err, "${pid}"));
	vs_vars_set(vars, &n, 2, "pid", "42");
	vs_vars_set(vars, &n, 2, "dmax", "1234");
	__T("builds", !vs_export_build(p, "profile t", NULL, vars, n, &x, err, sizeof(err)));
	__T("command line wins over the built-in", !strcmp(x->steps[0].value, "1234"));
	__T("profile variable", !strcmp(x->steps[1].value, "5"));
	__T("target expanded", !strcmp(x->steps[1].sel[VS_SEL_PID], "42"));
	__T("conf", !vs_export_tuned_conf(x, &conf));
	__T("summary: first sentence, expanded",
	    strstr(conf, "summary=virtsync profile t: Poll 1234 ns\n"));
	__T("sysfs key", strstr(conf, "/sys/module/haltpoll/parameters/guest_halt_poll_ns=1234\n"));
	free(conf);
	vs_export_free(x);
	vs_profile_free(p);
}

static void test_refuses_shell_words(void **state)
{
	static const char *const bad[] = { "1;reboot", "$(id)", "1 2", "a'b" };
	struct vs_profile *p = parse(good);
	struct vs_var vars[2];
	struct vs_export *x = NULL;
	size_t i, n = 0;
	char err[256];

	vs_vars_set(vars, &n, 2, "pid", "42");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t m = n;

		vs_vars_set(vars, &m, 2, "dmax", bad[i]);
		__T(bad[i], vs_export_build(p, "profile t", NULL, vars, m, &x, err,
					    sizeof(err)) == -EINVAL && !x);
	}
	vs_profile_free(p);
}

static void test_dir_all_or_nothing(void **state)
{
	struct vs_profile *p = parse(good);
	struct vs_var vars[1];
	struct vs_export *x = NULL;
	char dir[] = "/tmp/vs-export-XXXXXX", sub[64], file[96], err[256];
	struct stat st;
	size_t n = 0;

	vs_vars_set(vars, &n, 1, "pid", "42");
	__T("builds", !vs_export_build(p, "profile t", NULL, vars, n, &x, err, sizeof(err)));
	__T("mkdtemp", mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/t", dir);
	__T("export", !vs_export_tuned(x, sub, err, sizeof(err)));
	snprintf(file, sizeof(file), "%s/script.sh", sub);
	__T("script executable", !stat(file, &st) && (st.st_mode & 0777) == 0755);
	__T("again: replaces", !vs_export_tuned(x, sub, err, sizeof(err)));
	snprintf(file, sizeof(file), "%s/other", sub);
	fclose(fopen(file, "w"));
	__T("foreign file: refused", vs_export_tuned(x, sub, err, sizeof(err)) == -EEXIST);
	unlink(file);
	snprintf(file, sizeof(file), "%s/tuned.conf", sub);
	unlink(file);
	snprintf(file, sizeof(file), "%s/script.sh", sub);
	unlink(file);
	__T("nothing else left", !rmdir(sub) && !rmdir(dir));
	vs_export_free(x);
	vs_profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_knob_maps),
		cmocka_unit_test(test_expand_like_apply),
		cmocka_unit_test(test_refuses_shell_words),
		cmocka_unit_test(test_dir_all_or_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
