// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
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
		{ "1s", 1e9 }, { "0", 0 }, { "0.0", 0 }, { "0.5us", 500 },
		{ "2.ns", 2 }, { "2m", 120e9 }, { "2min", 120e9 },
		{ "1.5h", 5400e9 }, { "0s", 0 },
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
		"inf", "nan", "0x10", "+5", "5usx", "us", ".", "1..2", "5mn",
		"5mins", "5US", "1d", "5M",
	};
	size_t i;
	double ns = 42;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		__T(bad[i], vs_parse_time_ns(bad[i], &ns) == -EINVAL);
	__T("NULL", vs_parse_time_ns(NULL, &ns) == -EINVAL);
	/* A bare number was nanoseconds once, silently: now it is refused
	 * so that the tool can say which unit it needs. */
	__T("bare 2", vs_parse_time_ns("2", &ns) == -EDOM);
	__T("bare 750", vs_parse_time_ns("750", &ns) == -EDOM);
	__T("bare 2.", vs_parse_time_ns("2.", &ns) == -EDOM);
	__T("untouched on error", ns == 42);
	__T("too large", vs_parse_time_ns("2000000s", &ns) == -ERANGE);
	__T("300h too large", vs_parse_time_ns("300h", &ns) == -ERANGE);
}

/* What is printed parses back, with four significant digits. */
static void test_time_format(void **state)
{
	static const struct {
		double ns;
		const char *text;
	} cases[] = {
		{ 0, "0ns" }, { 300, "300ns" }, { 0.5, "0.5ns" },
		{ 999.96, "1us" }, { 2001, "2.001us" }, { 2000, "2us" },
		{ 1.5e6, "1.5ms" }, { 12345678, "12.35ms" }, { 1e9, "1s" },
		{ 59.9e9, "59.9s" }, { 90e9, "1.5m" }, { 600e9, "10m" },
		{ 3600e9, "1h" }, { 3.6e14, "100h" }, { 1e17, "27778h" }, { -1500, "-1.5us" },
	};
	char buf[VS_FMT_LEN];
	size_t i;
	double back;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vs_format_time(cases[i].ns, buf, sizeof(buf));
		__T(cases[i].text, !strcmp(buf, cases[i].text));
		if (cases[i].ns > 0 && cases[i].ns <= VS_TIME_MAX_NS) {
			__T(buf, vs_parse_time_ns(buf, &back) == 0);
			__T_REL(buf, back, cases[i].ns, 1e-3);
		}
	}
	__T("NaN", !strcmp(vs_format_time(NAN, buf, sizeof(buf)), "-"));
	__T("inf", !strcmp(vs_format_time(INFINITY, buf, sizeof(buf)), "inf"));
}

/* Every time the formatter prints, across the whole range the parser takes
 * (odd mantissas at every magnitude and unit boundary), parses back to the
 * value within the four significant digits it keeps. */
static void test_time_round_trip(void **state)
{
	static const double mant[] = {
		1, 1.0004, 1.2345, 1.5, 2.001, 3.14159, 5.5555, 9.9994, 9.9996,
	};
	char buf[VS_FMT_LEN];
	double decade, ns, back;
	unsigned int n = 0;
	size_t i;

	for (decade = 0.01; decade < VS_TIME_MAX_NS; decade *= 10)
		for (i = 0; i < sizeof(mant) / sizeof(mant[0]); i++) {
			ns = decade * mant[i];
			if (ns > VS_TIME_MAX_NS)
				continue;
			vs_format_time(ns, buf, sizeof(buf));
			__T(buf, vs_parse_time_ns(buf, &back) == 0);
			__T_REL(buf, back, ns, 5e-4);
			n++;
		}
	/* the unit boundaries, where the rounding picks the larger unit */
	for (ns = 59.99e9; ns < 60.01e9; ns += 1e6) {
		vs_format_time(ns, buf, sizeof(buf));
		__T(buf, vs_parse_time_ns(buf, &back) == 0);
		__T_REL(buf, back, ns, 5e-4);
	}
	__T("cases", n > 100);
}

static void test_rate_format(void **state)
{
	char buf[VS_FMT_LEN];

	__T("950/s", !strcmp(vs_format_rate(950, buf, sizeof(buf)), "950/s"));
	__T("0/s", !strcmp(vs_format_rate(0, buf, sizeof(buf)), "0/s"));
	__T("12.35k/s", !strcmp(vs_format_rate(12346, buf, sizeof(buf)), "12.35k/s"));
	__T("1k/s", !strcmp(vs_format_rate(999.96, buf, sizeof(buf)), "1k/s"));
	__T("1.234M/s", !strcmp(vs_format_rate(1234000, buf, sizeof(buf)), "1.234M/s"));
	__T("9G/s", !strcmp(vs_format_rate(9e9, buf, sizeof(buf)), "9G/s"));
	__T("NaN", !strcmp(vs_format_rate(NAN, buf, sizeof(buf)), "-"));
	__T("count", !strcmp(vs_format_count(4200, buf, sizeof(buf)), "4.2k"));
	__T("small", !strcmp(vs_format_count(0.25, buf, sizeof(buf)), "0.25"));
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
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_round_trip),
		cmocka_unit_test(test_rate_format),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_path_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
