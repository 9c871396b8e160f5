// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replays the fuzz corpus (tests/fuzz/corpus/) through the profile and plan
 * parsers once, the way tests/fuzz/fuzz-profile.c feeds them: first byte
 * picks the parser. Under `make check` this also runs with ASan/UBSan.
 * Files whose name starts with "profile-" or "plan-" are hand-written
 * documents whose verdict is known: they must parse, except the ones named
 * "-bad-", "-traversal" and "truncated".
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune/profile.h"
#include "test.h"

#define CORPUS "tests/fuzz/corpus"

static void test_corpus(void **state)
{
	struct dirent *de;
	size_t files = 0, known = 0;
	DIR *d = opendir(CORPUS);

	__T("corpus directory (run from the top of the tree)", d != NULL);
	while ((de = readdir(d))) {
		char path[512], err[256], *buf;
		struct vs_profile *p = NULL;
		enum vs_profile_kind kind;
		FILE *f;
		long len;
		int e;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", CORPUS, de->d_name);
		f = fopen(path, "rb");
		__T("open corpus file", f != NULL);
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		buf = malloc(len + 1);
		__T("read corpus file", buf && fread(buf, 1, len, f) == (size_t)len);
		fclose(f);
		files++;
		if (!len) {
			free(buf);
			continue;
		}
		kind = buf[0] & 1 ? VS_KIND_PLAN : VS_KIND_PROFILE;
		e = vs_profile_parse(buf + 1, len - 1, kind, &p, err, sizeof(err));
		__T("error leaves no profile", e ? p == NULL : p != NULL);
		__T("error has a message", !e || err[0]);
		if (!strncmp(de->d_name, "profile-", 8) || !strncmp(de->d_name, "plan-", 5)) {
			bool bad = strstr(de->d_name, "-bad-") ||
				   strstr(de->d_name, "-traversal");

			known++;
			if (bad != (e != 0))
				fail_msg("%s: parse returned %d (%s)", path, e, e ? err : "ok");
		}
		vs_profile_free(p);
		free(buf);
	}
	closedir(d);
	__T("corpus has files", files >= 10);
	__T("corpus has hand-written documents", known >= 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
