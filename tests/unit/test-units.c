// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "core/units.h"
#include "core/sysfs.h"

static void test_time_accepts(void **state)
{
	static const struct {
		const char *text;
		double ns;
	} good[] = {
		{ "300ns", 300 }, { "2us", 2000 }, { "1.5ms", 1.5e6 },
		{ "1s", 1e9 }, { "0", 0 }, { "750", 750 }, { "0.5us", 500 },
		{ "2.", 2 },
	};
	size_t i;
	double ns;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ns = -1;
		__T(good[i].text, vs_parse_time_ns(good[i].text, &ns) == 0);
		__T_REL(good[i].text, ns, good[i].ns, 1e-12);
	}
}

static void test_time_refuses(void **state)
{
	static const char *const bad[] = {
		"abc", "-5us", "5 parsecs", "", " 5us", "5us ", "5 us", "1e3",
		"inf", "nan", "0x10", "+5", "5usx", "us", ".", "1..2", "5m",
		"5min", "5US",
	};
	size_t i;
	double ns = 42;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		__T(bad[i], vs_parse_time_ns(bad[i], &ns) == -EINVAL);
	__T("NULL", vs_parse_time_ns(NULL, &ns) == -EINVAL);
	__T("untouched on error", ns == 42);
	__T("too large", vs_parse_time_ns("2000000s", &ns) == -ERANGE);
}

static void test_u64(void **state)
{
	uint64_t v;

	__T("512", vs_parse_u64("512", 1, 32768, &v) == 0 && v == 512);
	__T("0 below min", vs_parse_u64("0", 1, 10, &v) == -ERANGE);
	__T("negative", vs_parse_u64("-1", 0, 10, &v) == -EINVAL);
	__T("junk", vs_parse_u64("12a", 0, 100, &v) == -EINVAL);
	__T("empty", vs_parse_u64("", 0, 100, &v) == -EINVAL);
	__T("overflow", vs_parse_u64("99999999999999999999", 0, UINT64_MAX, &v) == -ERANGE);
}

static void test_path_root(void **state)
{
	char dir[] = "/tmp/vs-unit-XXXXXX", path[256], buf[64];
	uint64_t v;

	__T("mkdtemp", mkdtemp(dir) != NULL);
	setenv("VIRTSYNC_ROOT", dir, 1);
	__T("vs_path", vs_path(path, sizeof(path), "/knob") == 0);
	__T("write", vs_write_u64(path, 200000) == -ENOENT);
	__T("create", fclose(fopen(path, "w")) == 0);
	__T("empty is ENODATA", vs_read_str(path, buf, sizeof(buf)) == -ENODATA);
	__T("write", vs_write_u64(path, 200000) == 0);
	__T("read back", vs_read_u64(path, &v) == 0 && v == 200000);
	__T("tiny buffer", vs_path(path, 4, "/sys/module") == -ENAMETOOLONG);
	unlink(dir[0] ? (vs_path(path, sizeof(path), "/knob"), path) : path);
	rmdir(dir);
	unsetenv("VIRTSYNC_ROOT");
	__T("live root", vs_path(path, sizeof(path), "/sys/%s", "x") == 0 &&
			 !strcmp(path, "/sys/x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_accepts),
		cmocka_unit_test(test_time_refuses),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_path_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
