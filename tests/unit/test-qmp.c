// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/qmp against a real QEMU started paused (-S) with KVM: guests cannot
 * run on the project's nested machines, but QMP and query-stats answer.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "sources/qmp.h"

static pid_t qemu_pid;
static char sock_path[64];

static int start_qemu(void **state)
{
	char qmp_arg[128];
	int i;

	if (access("/dev/kvm", R_OK | W_OK) || access("/usr/bin/qemu-system-x86_64", X_OK))
		return 0;	/* the tests skip() themselves */
	snprintf(sock_path, sizeof(sock_path), "/tmp/vs-qmp-%d.sock", getpid());
	snprintf(qmp_arg, sizeof(qmp_arg), "unix:%s,server=on,wait=off", sock_path);
	qemu_pid = fork();
	if (qemu_pid == 0) {
		/* A crash of this test (a sanitizer abort skips the group
		 * teardown) must not leave QEMU running. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* QEMU warns about CPUID features the nested host lacks. */
		if (!freopen("/dev/null", "w", stderr))
			_exit(127);
		execl("/usr/bin/qemu-system-x86_64", "qemu-system-x86_64",
		      "-enable-kvm", "-S", "-display", "none", "-nodefaults",
		      "-m", "32", "-smp", "2", "-object", "iothread,id=io0",
		      "-qmp", qmp_arg, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && access(sock_path, F_OK); i++)
		usleep(20000);
	return 0;
}

static int stop_qemu(void **state)
{
	if (qemu_pid > 0) {
		kill(qemu_pid, SIGTERM);
		waitpid(qemu_pid, NULL, 0);
	}
	unlink(sock_path);
	return 0;
}

static struct vs_qmp *connect_or_skip(void)
{
	struct vs_qmp *q = NULL;
	int err, i;

	if (qemu_pid <= 0)
		__SKIP("needs /dev/kvm and qemu-system-x86_64");
	/* QEMU binds the socket before it listens: retry a refused connect
	 * for a while on a loaded machine. */
	for (i = 0; i < 250; i++) {
		q = vs_qmp_open(sock_path, 5000, &err);
		if (q || (err != -ECONNREFUSED && err != -ENOENT))
			break;
		usleep(20000);
	}
	if (!q)
		fail_msg("vs_qmp_open(%s): %s", sock_path, strerror(-err));
	return q;
}

static void test_threads(void **state)
{
	struct vs_qmp *q = connect_or_skip();
	struct vs_qmp_vcpu *cpus;
	struct vs_qmp_iothread *its;
	char path[64];
	int n;

	__T("version", vs_qmp_qemu_version(q) >= 10000);
	n = vs_qmp_vcpus(q, &cpus);
	__T("two vcpus", n == 2);
	__T("vcpu 1", cpus[1].cpu_index == 1 && cpus[1].thread_id > 0);
	/* The thread ids are real host threads of the QEMU process. */
	snprintf(path, sizeof(path), "/proc/%d/task/%d", qemu_pid, cpus[0].thread_id);
	__T("vcpu thread exists", access(path, F_OK) == 0);
	free(cpus);
	n = vs_qmp_iothreads(q, &its);
	__T("one iothread", n == 1 && !strcmp(its[0].id, "io0") && its[0].thread_id > 0);
	free(its);
	vs_qmp_close(q);
}

static void test_stats(void **state)
{
	struct vs_qmp *q = connect_or_skip();
	struct vs_qmp_vcpu_stats *st;
	int n = vs_qmp_vcpu_stats(q, &st);

	if (n == -ENOTSUP) {
		vs_qmp_close(q);
		__SKIP("this QEMU has no query-stats (needs 7.1 with KVM)");
	}
	__T("stats for each vcpu", n == 2);
	__T("qom path", strstr(st[0].qom_path, "/machine/") == st[0].qom_path);
	/* A paused guest never ran: no exits, no halts. */
	__T("paused: no exits", st[0].exits == 0 && st[0].halt_wait_ns == 0);
	free(st);
	vs_qmp_close(q);
}

static void test_poll_max_ns(void **state)
{
	struct vs_qmp *q = connect_or_skip();
	int64_t ns = -1;

	__T("get", vs_qmp_iothread_get_poll_max_ns(q, "io0", &ns) == 0 && ns >= 0);
	__T("set", vs_qmp_iothread_set_poll_max_ns(q, "io0", 50000) == 0);
	__T("read back", vs_qmp_iothread_get_poll_max_ns(q, "io0", &ns) == 0 && ns == 50000);
	__T("unknown iothread", vs_qmp_iothread_set_poll_max_ns(q, "nope", 1) == -ENOENT);
	__T("error kept", strstr(vs_qmp_last_error(q), "DeviceNotFound") != NULL);
	__T("no traversal", vs_qmp_iothread_set_poll_max_ns(q, "../machine", 1) == -EINVAL);
	__T("negative", vs_qmp_iothread_set_poll_max_ns(q, "io0", -5) == -EINVAL);
	vs_qmp_close(q);
}

static void test_not_qmp(void **state)
{
	int err = 0;

	__T("missing socket", !vs_qmp_open("/nonexistent/qmp.sock", 100, &err) &&
				      err == -ENOENT);
}

/* Read one line (a command) from fd: 0, or -1 at its end. */
static int peer_line(int fd)
{
	char c;

	for (;;) {
		if (read(fd, &c, 1) != 1)
			return -1;
		if (c == '\n')
			return 0;
	}
}

static void peer_say(int fd, const char *line)
{
	if (write(fd, line, strlen(line)) < 0)
		_exit(1);
}

/*
 * A peer that answers its first command late (after the client's deadline)
 * and its second at once: a client that went on after the deadline would
 * read the late reply as the second command's.
 */
static void test_out_of_step(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vs_qmp *q;
	json_t *ret = NULL;
	int srv, err = 0;
	pid_t pid;

	(void)state;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/vs-qmp-late-%d.sock", getpid());
	unlink(sa.sun_path);
	srv = socket(AF_UNIX, SOCK_STREAM, 0);
	__T("listen", srv >= 0 && !bind(srv, (struct sockaddr *)&sa, sizeof(sa)) &&
		      !listen(srv, 4));
	pid = fork();
	if (!pid) {
		int c = accept(srv, NULL, NULL);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (c < 0)
			_exit(1);
		peer_say(c, "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 9, "
			 "\"minor\": 0, \"micro\": 0}}, \"capabilities\": []}}\r\n");
		if (peer_line(c))		/* qmp_capabilities */
			_exit(1);
		peer_say(c, "{\"return\": {}}\r\n");
		if (peer_line(c))		/* the first command: late */
			_exit(1);
		usleep(400000);
		peer_say(c, "{\"return\": \"late\"}\r\n");
		while (!peer_line(c))
			peer_say(c, "{\"return\": \"second\"}\r\n");
		_exit(0);
	}
	__T("fork", pid > 0);
	q = vs_qmp_open(sa.sun_path, 200, &err);
	__T("open", q != NULL);
	__T("in step after the open", vs_qmp_broken(q) == 0);
	__T("first: past the deadline", vs_qmp_execute(q, "first", NULL, &ret) == -ETIMEDOUT);
	__T("out of step now", vs_qmp_broken(q) == -ETIMEDOUT);
	usleep(600000);		/* the late reply is in the socket now */
	err = vs_qmp_execute(q, "second", NULL, &ret);
	__T("second: the late reply is not taken for its own", err == -ETIMEDOUT);
	if (!err)
		json_decref(ret);
	vs_qmp_close(q);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(srv);
	unlink(sa.sun_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_poll_max_ns),
		cmocka_unit_test(test_not_qmp),
		cmocka_unit_test(test_out_of_step),
	};

	return cmocka_run_group_tests(tests, start_qemu, stop_qemu);
}
