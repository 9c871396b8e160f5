// SPDX-License-Identifier: GPL-2.0-only
/* Table cells: cut with a mark, padded by characters, UTF-8 kept whole. */
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "output/print.h"

#define ELL "\xe2\x80\xa6"

static void test_fits(void **state)
{
	char buf[64];

	__T("padded to 8", !strcmp(vs_fit("vs-vhost", 10, buf, sizeof(buf)), "vs-vhost  "));
	__T("exact width, no mark", !strcmp(vs_fit("vs-vcpu0", 8, buf, sizeof(buf)), "vs-vcpu0"));
	__T("cut is unpadded", !strcmp(vs_cut("global", 22, buf, sizeof(buf)), "global"));
	__T("empty", !strcmp(vs_fit("", 3, buf, sizeof(buf)), "   "));
	__T("NULL", !strcmp(vs_fit(NULL, 2, buf, sizeof(buf)), "  "));
}

static void test_cuts_with_mark(void **state)
{
	char buf[64];

	/* the row issue 13 showed as "tid 22713 (vs-consumer" */
	__T("tid label", !strcmp(vs_fit("tid 22713 (vs-consumer)", 22, buf, sizeof(buf)),
				 "tid 22713 (vs-consume" ELL));
	__T("one over", !strcmp(vs_cut("abcdef", 5, buf, sizeof(buf)), "abcd" ELL));
	__T("width 1", !strcmp(vs_fit("abc", 1, buf, sizeof(buf)), ELL));
	__T("width 0", !strcmp(vs_fit("abc", 0, buf, sizeof(buf)), ""));
}

/* Width counts characters, not bytes: "é" is two bytes and one column. */
static void test_utf8(void **state)
{
	char buf[64];

	__T("fits by characters", !strcmp(vs_fit("caf\xc3\xa9", 5, buf, sizeof(buf)),
					  "caf\xc3\xa9 "));
	__T("multibyte not split", !strcmp(vs_cut("\xc3\xa9\xc3\xa9\xc3\xa9", 2, buf,
						  sizeof(buf)), "\xc3\xa9" ELL));
	__T("4-byte kept", !strcmp(vs_cut("\xf0\x9f\x90\xa7xyz", 3, buf, sizeof(buf)),
				   "\xf0\x9f\x90\xa7x" ELL));
	/* a lead byte without its continuation is one character, not three
	 * bytes swallowed past the terminator */
	__T("broken sequence", !strcmp(vs_fit("a\xe2", 3, buf, sizeof(buf)), "a\xe2 "));
	__T("stray continuation", !strcmp(vs_cut("\x80\x80\x80x", 3, buf, sizeof(buf)),
					  "\x80\x80" ELL));
}

/* A buffer too small gives a shorter cell, terminated, never an overrun. */
static void test_small_buffer(void **state)
{
	char buf[8];
	size_t n;

	memset(buf, 'X', sizeof(buf));
	vs_fit("abcdefghijkl", 20, buf, 6);
	n = strlen(buf);
	__T("terminated inside", n < 6);
	__T("bytes after untouched", buf[6] == 'X' && buf[7] == 'X');
	__T("zero length", !strcmp(vs_fit("abc", 3, buf, 0), ""));
	__T("room for one byte", !strcmp(vs_fit("abc", 3, buf, 1), ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_cuts_with_mark),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
