// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kvm backend in-process: the embedded guest boots in a real VM, kicks,
 * takes interrupts and halts; every item is accounted for; and the run
 * leaves no file descriptor, thread or counters file behind, also when it is
 * stopped through cfg->stop. Skips where /dev/kvm is not usable.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "pcdev/pcdev.h"

static struct pcdev_results res;

static int count_dir(const char *path)
{
	struct dirent *e;
	DIR *dir = opendir(path);
	int n = 0;

	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

static bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("SKIP: /dev/kvm: %s\n", strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

static uint64_t stat_of(const char *name)
{
	unsigned int i;

	for (i = 0; i < res.n_kvm_stats; i++)
		if (!strcmp(res.kvm_stats[i].name, name))
			return res.kvm_stats[i].value;
	fail_msg("KVM stat %s missing", name);
	return 0;
}

static void small_config(struct pcdev_config *cfg)
{
	pcdev_config_default(cfg);
	cfg->backend = PCDEV_BACKEND_KVM;
	cfg->len = 4;
	cfg->kp = 1;
	cfg->kc = 1;
	cfg->wp_ns = 0;
	/* C far slower than the emulated P (tens of us per item): P finds
	 * the ring full and halts for an interrupt every item. */
	cfg->wc_ns = 200000;
	cfg->publish = false;
}

static void test_boot_and_account(void **state)
{
	struct pcdev_config cfg;
	int fds, tasks, err;

	if (!kvm_usable())
		skip();
	small_config(&cfg);
	cfg.items = 300;
	cfg.duration_ns = 60e9;
	fds = count_dir("/proc/self/fd");
	tasks = count_dir("/proc/self/task");
	err = pcdev_run(&cfg, &res);
	__T(res.note, err == 0);
	__T("items", res.items == 300);
	__T("interrupts", res.interrupts > 0);
	__T("guest halted", stat_of("halt_exits") > 0);
	__T("KVM injected", stat_of("irq_injections") > 0);
	__T("produced == consumed", !strstr(res.note, "produced"));
	__T("in order", !strstr(res.note, "out of order"));
	__T("latency", res.latency.p50 > 0 && res.latency.max >= res.latency.p50);
	__T("Wp measured", isfinite(res.measured.wp) && res.measured.wp > 0);
	__T("fd leak", count_dir("/proc/self/fd") == fds);
	__T("thread leak", count_dir("/proc/self/task") == tasks);

	/* Kicks need a consumer that empties the ring and waits: with the slow
	 * C above the ring never empties after the start, so whether the first
	 * items were kicked depended on which thread ran first (a sanitizer
	 * build lost that race). A fast C waits for a kick after each item. */
	small_config(&cfg);
	cfg.wc_ns = 1000;
	cfg.items = 300;
	cfg.duration_ns = 60e9;
	err = pcdev_run(&cfg, &res);
	__T(res.note, err == 0);
	__T("items, fast consumer", res.items == 300);
	__T("kicks", res.kicks > 0);
	__T("fd leak, fast consumer", count_dir("/proc/self/fd") == fds);
}

static volatile sig_atomic_t stop_flag;

static void *stop_later(void *arg)
{
	usleep(300000);
	stop_flag = 1;
	return NULL;
}

/* cfg->stop while the guest runs: the run ends early with results. */
static void test_stop(void **state)
{
	struct pcdev_config cfg;
	pthread_t t;
	int fds, err;

	if (!kvm_usable())
		skip();
	small_config(&cfg);
	cfg.duration_ns = 60e9;
	cfg.stop = &stop_flag;
	fds = count_dir("/proc/self/fd");
	pthread_create(&t, NULL, stop_later, NULL);
	err = pcdev_run(&cfg, &res);
	pthread_join(t, NULL);
	__T(res.note, err == 0);
	__T("stopped early", res.elapsed_ns < 10e9);
	__T("items", res.items > 0 && !strstr(res.note, "produced"));
	__T("fd leak", count_dir("/proc/self/fd") == fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_and_account),
		cmocka_unit_test(test_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
