// SPDX-License-Identifier: GPL-2.0-only
/* The device's side of its control file (lib/pcdev/ctl.h) on a temp root. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcdev/ctl.h"
#include "pcdev/tsc.h"
#include "test.h"

static void test_mode_mapping(void **state)
{
	struct vs_pcdev_ctl c;
	enum pcdev_mode m[] = { PCDEV_NOTIFY, PCDEV_SLEEP, PCDEV_POLL, PCDEV_BUSYLOOP };
	unsigned int i;

	(void)state;
	/* What a device writes at start maps back to the mode it runs. */
	for (i = 0; i < 4; i++) {
		memset(&c, 0xff, sizeof(c));
		c.halt_poll_ns = 7;
		pcdev_ctl_from_mode(m[i], 50000, 20000, &c);
		__T("round trip", pcdev_ctl_consumer_mode(&c) == m[i]);
		__T("halt poll untouched", c.halt_poll_ns == 7);
	}
	pcdev_ctl_from_mode(PCDEV_SLEEP, 0, 0, &c);
	__T("a zero sleep is still sleep", c.consumer_sleep_ns == 1);
	memset(&c, 0, sizeof(c));
	c.consumer_sleep_ns = 5;
	c.consumer_busyloop_ns = 9;
	__T("sleep wins over busyloop", pcdev_ctl_consumer_mode(&c) == PCDEV_SLEEP);
	c.consumer_sleep_ns = 0;
	__T("busyloop", pcdev_ctl_consumer_mode(&c) == PCDEV_BUSYLOOP);
	c.consumer_busyloop_ns = PCDEV_CTL_POLL_NS;
	__T("10 s busyloop is poll", pcdev_ctl_consumer_mode(&c) == PCDEV_POLL);
}

static void test_open_poll_close(void **state)
{
	char dir[] = "/tmp/vs-pcdev-ctl-XXXXXX", path[512];
	struct pcdev_ctl_state st;
	struct vs_pcdev_ctl init = { .halt_poll_ns = 100 }, w;

	(void)state;
	__T("tmpdir", mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/run", dir);
	__T("run dir", !mkdir(path, 0755));	/* /run exists on a host */
	setenv("VIRTSYNC_ROOT", dir, 1);
	pcdev_ctl_from_mode(PCDEV_NOTIFY, 0, 0, &init);
	__T("open", !pcdev_ctl_open(&st, &init) && st.on);
	__T("file exists", !vs_pcdev_ctl_path(getpid(), path, sizeof(path)) &&
	    !access(path, R_OK));
	__T("own file is no change", !pcdev_ctl_poll(&st, UINT64_MAX));
	w = init;
	w.consumer_sleep_ns = 123000;
	__T("rewrite", !vs_pcdev_ctl_write(getpid(), &w));
	/* Not due yet: a TSC compare only, the file is not looked at. */
	st.next_tsc = vs_rdtsc() + vs_ns_to_tsc(10e9);
	__T("not due", !pcdev_ctl_poll(&st, vs_rdtsc()));
	__T("due: change seen", pcdev_ctl_poll(&st, UINT64_MAX) == 1 &&
	    st.cur.consumer_sleep_ns == 123000 && st.changes == 1);
	__T("seen once", !pcdev_ctl_poll(&st, UINT64_MAX));
	/* The same values in a new file (rollback of a no-op) change nothing. */
	__T("rewrite same", !vs_pcdev_ctl_write(getpid(), &w));
	__T("same values: no change", !pcdev_ctl_poll(&st, UINT64_MAX) && st.changes == 1);
	pcdev_ctl_close(&st);
	__T("removed at close", access(path, F_OK) && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/run/virtsync", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/run", dir);
	rmdir(path);
	__T("tmpdir empty", !rmdir(dir));
	unsetenv("VIRTSYNC_ROOT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_mapping),
		cmocka_unit_test(test_open_poll_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
