// SPDX-License-Identifier: GPL-2.0-only
/* vs_file_replace(): the one way virtsync replaces a file whole. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sysfs.h"
#include "test.h"

/* Entries in dir other than "." and "..". */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void test_replace(void **state)
{
	char dir[] = "/tmp/vs-sysfs.XXXXXX", path[64], tmp[80], buf[64];
	struct stat st;
	mode_t old_mask;

	(void)state;
	__T("tmpdir", mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/f", dir);
	__T("new file", !vs_file_replace(path, "one\n", 4, 0644, 0) &&
	    !vs_read_str(path, buf, sizeof(buf)) && !strcmp(buf, "one"));
	__T("replaced", !vs_file_replace_text(path, "two", 0600, VS_REPLACE_DURABLE) &&
	    !vs_read_str(path, buf, sizeof(buf)) && !strcmp(buf, "two"));
	__T("the text gets its newline", !stat(path, &st) && st.st_size == 4);
	__T("exactly the mode asked", (st.st_mode & 07777) == 0600);
	/* a temporary left by a crash, with another mode, and a umask that
	 * would take bits away: neither changes the result */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	__T("stale temporary", !vs_file_replace(tmp, "x", 1, 0600, 0));
	old_mask = umask(077);
	__T("over a stale temporary", !vs_file_replace(path, "3", 1, 0644, 0));
	umask(old_mask);
	__T("mode despite umask and stale temporary",
	    !stat(path, &st) && (st.st_mode & 07777) == 0644);
	__T("shared writers", !vs_file_replace(path, "4", 1, 0644, VS_REPLACE_SHARED) &&
	    !vs_read_str(path, buf, sizeof(buf)) && !strcmp(buf, "4"));
	/* the old predictable name is no longer ours: left as it was */
	__T("no temporary left, a planted X.tmp untouched", entries(dir) == 2 &&
	    !vs_read_str(tmp, buf, sizeof(buf)) && !strcmp(buf, "x"));
	unlink(tmp);
	snprintf(path, sizeof(path), "%s/none/f", dir);
	__T("missing directory: -ENOENT",
	    vs_file_replace(path, "5", 1, 0644, VS_REPLACE_DURABLE) == -ENOENT);
	__T("nothing written", entries(dir) == 1);
	snprintf(path, sizeof(path), "%s/f", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
