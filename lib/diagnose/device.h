/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_DIAG_DEVICE_H
#define VS_DIAG_DEVICE_H

/*
 * The reference device (lib/pcdev) started for diagnose and tune: the one
 * place that runs it on their behalf.
 *
 * It runs in threads of the calling process, not in a child: pcdev_run()
 * goes on a supervisor thread (all signals blocked, so SIGINT and SIGTERM
 * reach the caller's threads), which starts the backend's producer and
 * consumer threads. Why threads rather than a forked child with
 * PR_SET_PDEATHSIG:
 *  - nothing can outlive the caller: SIGKILL ends every thread at once, by
 *    the kernel, with no window between fork() and prctl() and no "the
 *    thread that forked has exited" surprise (the death signal follows the
 *    forking thread, not the process);
 *  - no fork() of a process that already has threads, BPF objects and a QMP
 *    socket (the child would inherit the socket and keep QEMU's one monitor
 *    connection open), and no exec of this binary;
 *  - the device's own report (its ground truth) arrives as the struct
 *    pcdev_run() filled, not as JSON parsed back from a pipe.
 * What it costs: the device's pid is the caller's (its counters file is
 * /run/virtsync/pcdev-<getpid()>.stats, so one device per process: a second
 * start is -EBUSY), and a bug in the device would take the caller down with
 * it (pcdev returns -errno; it has no exit path).
 *
 * What a killed run leaves (the counters and control files, a tune plan of
 * an older version) is removed by vs_refdev_sweep(), which the next start,
 * diagnosis and tune run call first.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "model/model.h"
#include "pcdev/pcdev.h"

struct vs_refdev_opts {
	const char *preset;		/* pcdev_config_preset() name */
	enum pcdev_backend backend;
	double run_ns;			/* upper bound of the run; 0: one day */
	bool pin;			/* P on CPU 0, C on CPU 1, where both exist */
	int rt_priority;		/* SCHED_FIFO priority of P and C, 0: none */
};

/* The device's own report over its whole run: the ground truth, never an
 * input of the diagnosis. */
struct vs_refdev_report {
	struct pcdev_config cfg;
	struct pcdev_results res;
	struct vs_prediction model;	/* lib/analyze/validate.h on res */
	double dmax_ns;			/* the preset's latency bound */
	bool stopped;			/* stopped before its run length */
};

struct vs_refdev;

/*
 * Start the device and return once it publishes its counters (up to 3 s).
 * -ENOENT unknown preset, -EINVAL bad configuration, -EBUSY a device already
 * runs in this process, -EACCES/-EROFS (from vs_refdev_publish_dir(),
 * before anything starts) it could not publish, -ETIMEDOUT it never
 * published; when the device failed to start, its own -errno.
 */
int vs_refdev_start(const struct vs_refdev_opts *o, struct vs_refdev **out);

/*
 * The directory the device publishes its counters in (/run/virtsync under
 * --root) into buf: 0 when this process may create files there (or create
 * it), else access(2)'s -errno (-EACCES for a user other than root).
 */
int vs_refdev_publish_dir(char *buf, size_t len);

/* The process that hosts it (getpid()): the pid to diagnose and tune. */
pid_t vs_refdev_pid(const struct vs_refdev *d);
const struct pcdev_config *vs_refdev_config(const struct vs_refdev *d);

/*
 * Stop it, wait for its threads, fill *rep (may be NULL) and free d (NULL
 * does nothing). Returns pcdev_run()'s result: 0, or the -errno of a run
 * that failed (then *rep holds what it got, res.note says why).
 */
int vs_refdev_stop(struct vs_refdev *d, struct vs_refdev_report *rep);

/*
 * Remove what dead runs left in /run/virtsync: pcdev-<pid>.stats and .ctl
 * (and their temporaries) and tune-plan-<pid>.json, where <pid> no longer
 * runs, or runs but started after the file was last written (a reused pid).
 * This process's own files are left alone. Returns how many were removed.
 */
int vs_refdev_sweep(void);

/* Can this process open /dev/kvm (the KVM backend)? why: "/dev/kvm works"
 * or the reason it cannot. */
bool vs_kvm_usable(char *why, size_t len);

#endif
