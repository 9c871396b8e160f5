// SPDX-License-Identifier: GPL-2.0-only
/* The reference device's control file: create, watch, remove. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcdev/ctl.h"
#include "core/sysfs.h"
#include "pcdev/tsc.h"

void pcdev_ctl_from_mode(enum pcdev_mode m, double yc_ns, double busyloop_ns,
			 struct vs_pcdev_ctl *ctl)
{
	ctl->consumer_sleep_ns = 0;
	ctl->consumer_busyloop_ns = 0;
	switch (m) {
	case PCDEV_SLEEP:
		/* 0 would read back as notify: a zero sleep is 1 ns. */
		ctl->consumer_sleep_ns = yc_ns >= 1 ? (uint64_t)yc_ns : 1;
		break;
	case PCDEV_POLL:
		ctl->consumer_busyloop_ns = PCDEV_CTL_POLL_NS;
		break;
	case PCDEV_BUSYLOOP:
		ctl->consumer_busyloop_ns = busyloop_ns >= 1 ? (uint64_t)busyloop_ns : 1;
		break;
	case PCDEV_NOTIFY:
		break;
	}
}

enum pcdev_mode pcdev_ctl_consumer_mode(const struct vs_pcdev_ctl *ctl)
{
	if (ctl->consumer_sleep_ns)
		return PCDEV_SLEEP;
	if (ctl->consumer_busyloop_ns >= PCDEV_CTL_POLL_NS)
		return PCDEV_POLL;
	if (ctl->consumer_busyloop_ns)
		return PCDEV_BUSYLOOP;
	return PCDEV_NOTIFY;
}

int pcdev_ctl_open(struct pcdev_ctl_state *st, const struct vs_pcdev_ctl *init)
{
	char dir[512];
	int err;

	memset(st, 0, sizeof(*st));
	st->pid = getpid();
	st->cur = *init;
	err = vs_path(dir, sizeof(dir), "/run/virtsync");
	if (err)
		return err;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	err = vs_pcdev_ctl_write(st->pid, init);
	if (err)
		return err;
	/* Remember our own file so that only a rewrite counts as a change. */
	err = vs_pcdev_ctl_check(st->pid, &st->watch, &st->cur);
	if (err < 0) {
		vs_pcdev_ctl_remove(st->pid);
		return err;
	}
	st->period_tsc = vs_ns_to_tsc(PCDEV_CTL_PERIOD_NS);
	st->next_tsc = vs_rdtsc() + st->period_tsc;
	st->on = true;
	return 0;
}

int pcdev_ctl_poll(struct pcdev_ctl_state *st, uint64_t now_tsc)
{
	struct vs_pcdev_ctl ctl;
	int r;

	if (!st->on || now_tsc < st->next_tsc)
		return 0;
	st->next_tsc = now_tsc + st->period_tsc;
	r = vs_pcdev_ctl_check(st->pid, &st->watch, &ctl);
	/* A file being replaced or removed by hand: keep the values we run. */
	if (r <= 0)
		return 0;
	if (!memcmp(&ctl, &st->cur, sizeof(ctl)))
		return 0;
	st->cur = ctl;
	st->changes++;
	return 1;
}

void pcdev_ctl_close(struct pcdev_ctl_state *st)
{
	if (!st->on)
		return;
	vs_pcdev_ctl_remove(st->pid);
	st->on = false;
}
