// SPDX-License-Identifier: GPL-2.0-only
/* lib/core/safefile: what root refuses to open, replace or follow. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/safefile.h"
#include "core/sysfs.h"
#include "test.h"

static char dir[] = "/tmp/vs-safefile.XXXXXX";

static void at(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

static void test_replace_refuses(void **state)
{
	char victim[128], link[128], fifo[128], buf[64];
	int fd;

	(void)state;
	at(victim, sizeof(victim), "victim");
	at(link, sizeof(link), "out");
	at(fifo, sizeof(fifo), "fifo");
	fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	__T("victim", fd >= 0 && write(fd, "secret", 6) == 6 && !close(fd));
	__T("symlink", !symlink(victim, link));
	__T("replace through a symlink: -ELOOP",
	    vs_safe_replace(link, "x", 1, "", 0644, 0) == -ELOOP);
	slurp(victim, buf, sizeof(buf));
	__T("the link's target is untouched", !strcmp(buf, "secret"));
	__T("fifo", !mkfifo(fifo, 0600));
	__T("replace a FIFO: -EINVAL", vs_safe_replace(fifo, "x", 1, "", 0644, 0) == -EINVAL);
	unlink(link);
	unlink(fifo);
	unlink(victim);
}

static void test_open_refuses(void **state)
{
	char file[128], link[128], fifo[128];
	int fd;

	(void)state;
	at(file, sizeof(file), "state");
	at(link, sizeof(link), "lock");
	at(fifo, sizeof(fifo), "journal");
	fd = vs_safe_open_state(file, 0600);
	__T("a new state file", fd >= 0);
	close(fd);
	__T("symlink", !symlink(file, link));
	__T("state file through a symlink: -ELOOP", vs_safe_open_state(link, 0600) == -ELOOP);
	__T("private read through a symlink: -ELOOP",
	    vs_safe_open_read(link, VS_SAFE_PRIVATE) == -ELOOP);
	__T("fifo", !mkfifo(fifo, 0600));
	/* would block forever in open(2) without O_NONBLOCK */
	__T("reading a FIFO: -EINVAL, at once", vs_safe_open_read(fifo, 0) == -EINVAL);
	__T("a FIFO as state: -EINVAL", vs_safe_open_state(fifo, 0600) == -EINVAL);
	__T("writable by others", !chmod(file, 0666));
	__T("trusted input writable by others: -EPERM",
	    vs_safe_open_read(file, VS_SAFE_TRUSTED) == -EPERM);
	__T("private state writable by others: -EPERM", vs_safe_open_state(file, 0600) == -EPERM);
	__T("back to 0644", !chmod(file, 0644));
	fd = vs_safe_open_read(file, VS_SAFE_TRUSTED);
	__T("ours and 0644: trusted", fd >= 0);
	close(fd);
	if (geteuid() == 0) {
		__T("chown nobody", !chown(file, 65534, 65534));
		__T("another user's plan: -EPERM",
		    vs_safe_open_read(file, VS_SAFE_TRUSTED) == -EPERM);
		__T("another user's state: -EPERM", vs_safe_open_state(file, 0600) == -EPERM);
	}
	unlink(link);
	unlink(fifo);
	unlink(file);
}

/* Under VIRTSYNC_ROOT a symlink in the tree to an absolute path resolves
 * inside the tree, never to the host's file. */
static void test_rooted(void **state)
{
	char root[128], p[256], buf[64];
	int fd;

	(void)state;
	at(root, sizeof(root), "root");
	snprintf(p, sizeof(p), "%s/etc", root);
	__T("tree", !mkdir(root, 0755) && !mkdir(p, 0755));
	snprintf(p, sizeof(p), "%s/etc/hostname", root);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	__T("tree's hostname", fd >= 0 && write(fd, "inside", 6) == 6 && !close(fd));
	snprintf(p, sizeof(p), "%s/knob", root);
	__T("link to /etc/hostname", !symlink("/etc/hostname", p));
	setenv("VIRTSYNC_ROOT", root, 1);
	__T("read through the link", !vs_read_str(p, buf, sizeof(buf)));
	__T("resolved inside the tree", !strcmp(buf, "inside"));
	snprintf(p, sizeof(p), "%s/up", root);
	__T("link to ../..", !symlink("../../../../../../etc/hostname", p));
	__T("'..' stops at the root", !vs_read_str(p, buf, sizeof(buf)) && !strcmp(buf, "inside"));
	unsetenv("VIRTSYNC_ROOT");
	unlink(p);
	snprintf(p, sizeof(p), "%s/knob", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/etc/hostname", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/etc", root);
	rmdir(p);
	rmdir(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_refuses),
		cmocka_unit_test(test_open_refuses),
		cmocka_unit_test(test_rooted),
	};
	int rc;

	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
