// SPDX-License-Identifier: GPL-2.0-only
/* lib/core/safefile: what root refuses to open, replace or follow. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

static void plant(const char *name, bool as_link)
{
	char p[256];
	int fd;

	at(p, sizeof(p), name);
	if (as_link) {
		__T("plant a link", !symlink("/etc/hostname", p));
		return;
	}
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	__T("plant a file", fd >= 0 && !close(fd));
}

static bool there(const char *name)
{
	char p[256];
	struct stat st;

	at(p, sizeof(p), name);
	return !lstat(p, &st);
}

/* A pid that ran and is gone: a child's, reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (!pid)
		_exit(0);
	__T("fork", pid > 0 && waitpid(pid, NULL, 0) == pid);
	return pid;
}

/* The temporaries a killed run left (".BASE.PID.RANDOM.tmp", its pid
 * gone) are removed; a live writer's, our own, a link, other names and
 * another base's are not. */
static void test_sweep_temps(void **state)
{
	static const char hex[] = "0123456789abcdef";
	char dead[96], live[96], own[96], link[96], other[96], nobody[96];
	char legacy[96], nodot[96], p[256];
	const char *const names[] = { live, own, link, legacy, nodot, nobody };
	pid_t gone = dead_pid();
	int fd;

	(void)state;
	snprintf(dead, sizeof(dead), ".j.json.%d.%s.tmp", (int)gone, hex);
	snprintf(live, sizeof(live), ".j.json.%d.%s.tmp", (int)getppid(), hex);
	snprintf(own, sizeof(own), ".j.json.%d.%s.tmp", (int)getpid(), hex);
	snprintf(link, sizeof(link), ".l.json.%d.%s.tmp", (int)gone, hex);
	snprintf(other, sizeof(other), ".other.%d.%s.tmp", (int)gone, hex);
	snprintf(nobody, sizeof(nobody), ".n.json.%d.%s.tmp", (int)gone, hex);
	snprintf(legacy, sizeof(legacy), ".j.json.%s.tmp", hex);
	snprintf(nodot, sizeof(nodot), "j.json.%d.%s.tmp", (int)gone, hex);
	plant(dead, false);
	plant(live, false);
	plant(own, false);
	plant(link, true);
	plant(other, false);
	plant(legacy, false);
	plant(nodot, false);
	plant(nobody, false);
	at(p, sizeof(p), nobody);
	if (geteuid() == 0)
		__T("chown nobody", !chown(p, 65534, 65534));
	__T("base j.json: one removed", vs_safe_sweep_temps(dir, "j.json") == 1);
	__T("the dead run's temporary is gone", !there(dead));
	__T("a live writer's is kept", there(live));
	__T("our own is kept", there(own));
	__T("another base's is kept", there(other));
	__T("a name without a pid is kept", there(legacy));
	__T("a name without the dot is kept", there(nodot));
	if (geteuid() == 0) {
		__T("any base: one more", vs_safe_sweep_temps(dir, NULL) == 1);
		__T("another user's is kept", there(nobody));
	} else {
		/* the file is ours when not root: removed with the other */
		__T("any base: two more", vs_safe_sweep_temps(dir, NULL) == 2);
	}
	__T("the other base's goes with base NULL", !there(other));
	__T("a link is kept", there(link));
	__T("a missing directory has none", vs_safe_sweep_temps("/nonexistent-vs-dir", NULL) == 0);

	/* every vs_safe_replace() cleans its own file's leftovers, and only
	 * those: no flag asks for it */
	plant(dead, false);
	plant(other, false);
	at(p, sizeof(p), "j.json");
	__T("replace", !vs_safe_replace(p, "{}", 2, "\n", 0600, 0));
	__T("and the leftover is gone", !there(dead));
	__T("another base's leftover is kept", there(other));
	fd = open(p, O_RDONLY);
	__T("the file is there", fd >= 0 && !close(fd));
	unlink(p);
	at(p, sizeof(p), other);
	unlink(p);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		at(p, sizeof(p), names[i]);
		unlink(p);
	}
}

/* vs_safe_temp_dir(): a dead run's directory for the same target, holding
 * only files, goes; one holding a directory stays whole; the new one is
 * ours, empty, named for the target. The file sweep leaves directories. */
static void test_temp_dir(void **state)
{
	static const char hex[] = "0123456789abcdef";
	char dead[96], nested[96], p[256], q[256], named[256], want[96];
	pid_t gone = dead_pid();
	struct stat st;

	(void)state;
	snprintf(dead, sizeof(dead), ".e.%d.%s.tmp", (int)gone, hex);
	snprintf(nested, sizeof(nested), ".e.%d.0123456789abcdee.tmp", (int)gone);
	at(p, sizeof(p), dead);
	__T("mkdir dead", !mkdir(p, 0700));
	at(p, sizeof(p), nested);
	__T("mkdir nested", !mkdir(p, 0700));
	snprintf(q, sizeof(q), "%s/%s/sub", dir, nested);
	__T("mkdir nested/sub", !mkdir(q, 0700));
	snprintf(q, sizeof(q), "%s/%s/tuned.conf", dir, nested);
	__T("file in nested", !close(open(q, O_WRONLY | O_CREAT, 0600)));
	snprintf(q, sizeof(q), "%s/%s/tuned.conf", dir, dead);
	__T("file in dead", !close(open(q, O_WRONLY | O_CREAT, 0600)));

	__T("the file sweep leaves directories", vs_safe_sweep_temps(dir, "e") == 0 && there(dead));
	at(p, sizeof(p), "e");
	__T("temp dir", !vs_safe_temp_dir(p, 0700, named, sizeof(named)));
	__T("the dead run's directory is gone", !there(dead));
	snprintf(q, sizeof(q), "%s/%s/tuned.conf", dir, nested);
	__T("one holding a directory is kept whole", !lstat(q, &st));
	snprintf(want, sizeof(want), "%s/.e.%d.", dir, (int)getpid());
	__T("named for the target and this pid", !strncmp(named, want, strlen(want)));
	__T("an empty directory of ours", !lstat(named, &st) && S_ISDIR(st.st_mode) &&
	    st.st_uid == geteuid() && (st.st_mode & 0777) == 0700 && !rmdir(named));
	__T("too long a name", vs_safe_temp_dir(p, 0700, named, 8) == -ENAMETOOLONG && !named[0]);
	unlink(q);
	snprintf(q, sizeof(q), "%s/%s/sub", dir, nested);
	rmdir(q);
	at(p, sizeof(p), nested);
	rmdir(p);
}

/* Every confined helper, with a directory of the tree ("run") a link to a
 * directory outside it that holds a file of the same name: the outside
 * file is never read, listed, stat()ed, removed, and nothing is made
 * there. */
static void test_rooted_helpers(void **state)
{
	char root[128], out[128], p[256], q[256], buf[64];
	struct stat st;
	FILE *f;
	DIR *d;
	int fd;

	(void)state;
	at(root, sizeof(root), "root2");
	at(out, sizeof(out), "outside");
	__T("tree and outside", !mkdir(root, 0755) && !mkdir(out, 0755));
	snprintf(p, sizeof(p), "%s/file", out);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	__T("outside file", fd >= 0 && write(fd, "outside", 7) == 7 && !close(fd));
	snprintf(p, sizeof(p), "%s/run", root);
	__T("run -> outside (absolute)", !symlink(out, p));
	snprintf(p, sizeof(p), "%s/lnk", out);
	__T("a link outside", !symlink("file", p));
	setenv("VIRTSYNC_ROOT", root, 1);

	snprintf(p, sizeof(p), "%s/run/file", root);
	f = vs_fopen_rooted(p);
	__T("fopen through run: not the outside file", !f && errno == ENOENT);
	if (f)
		fclose(f);
	snprintf(q, sizeof(q), "%s/run", root);
	d = vs_opendir_rooted(q);
	__T("opendir of run: not the outside directory", !d && errno == ENOENT);
	if (d)
		closedir(d);
	__T("stat through run: -ENOENT", vs_stat_rooted(p, &st) == -ENOENT);
	__T("access through run: -ENOENT", vs_access_rooted(p, F_OK) == -ENOENT);
	__T("unlink through run: -ENOENT", vs_unlink_rooted(p) == -ENOENT);
	snprintf(q, sizeof(q), "%s/run/lnk", root);
	__T("readlink through run: -ENOENT",
	    vs_readlink_rooted(q, buf, sizeof(buf)) == -ENOENT);
	snprintf(q, sizeof(q), "%s/run/new", root);
	__T("mkdir through run: -ENOENT", vs_mkdir_rooted(q, 0755) == -ENOENT);
	snprintf(q, sizeof(q), "%s/run/a/b", root);
	__T("mkdir -p through run: refused", vs_mkdir_p(q, 0755) < 0);
	snprintf(q, sizeof(q), "%s/run", root);
	__T("a private dir at run: refused (a link)", vs_safe_private_dir(q, 0700) < 0);
	unsetenv("VIRTSYNC_ROOT");

	snprintf(p, sizeof(p), "%s/file", out);
	slurp(p, buf, sizeof(buf));
	__T("the outside file is there and unchanged", !strcmp(buf, "outside"));
	snprintf(p, sizeof(p), "%s/new", out);
	__T("nothing made outside", stat(p, &st) && errno == ENOENT);
	snprintf(p, sizeof(p), "%s/a", out);
	__T("nothing made outside (-p)", stat(p, &st) && errno == ENOENT);

	/* inside the tree they work, links resolved inside it */
	snprintf(p, sizeof(p), "%s/run", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sys/x", root);
	setenv("VIRTSYNC_ROOT", root, 1);
	__T("mkdir -p inside", !vs_mkdir_p(p, 0755));
	snprintf(p, sizeof(p), "%s/sys/x/v", root);
	fd = vs_open_rooted(p, O_WRONLY | O_CREAT, 0644);
	__T("create inside", fd >= 0 && write(fd, "42\n", 3) == 3 && !close(fd));
	snprintf(q, sizeof(q), "%s/sys/l", root);
	__T("an absolute link inside", !symlink("/sys/x/v", q));
	f = vs_fopen_rooted(q);
	__T("fopen follows it inside", f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "42\n"));
	if (f)
		fclose(f);
	__T("readlink gives its text", vs_readlink_rooted(q, buf, sizeof(buf)) == 8 &&
	    !strcmp(buf, "/sys/x/v"));
	__T("stat follows it inside", !vs_stat_rooted(q, &st) && S_ISREG(st.st_mode) &&
	    st.st_size == 3);
	__T("access W_OK", !vs_access_rooted(q, W_OK));
	snprintf(p, sizeof(p), "%s/sys/x", root);
	d = vs_opendir_rooted(p);
	__T("opendir inside", d != NULL);
	if (d)
		closedir(d);
	__T("unlink removes the link, not its target", !vs_unlink_rooted(q));
	snprintf(p, sizeof(p), "%s/sys/x/v", root);
	__T("the target stays", !stat(p, &st));
	unsetenv("VIRTSYNC_ROOT");
	unlink(p);
	snprintf(p, sizeof(p), "%s/sys/x", root);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/sys", root);
	rmdir(p);
	rmdir(root);
	snprintf(p, sizeof(p), "%s/lnk", out);
	unlink(p);
	snprintf(p, sizeof(p), "%s/file", out);
	unlink(p);
	rmdir(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_refuses),
		cmocka_unit_test(test_open_refuses),
		cmocka_unit_test(test_rooted),
		cmocka_unit_test(test_sweep_temps),
		cmocka_unit_test(test_temp_dir),
		cmocka_unit_test(test_rooted_helpers),
	};
	int rc;

	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
