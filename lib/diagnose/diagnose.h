/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_DIAGNOSE_H
#define VS_DIAGNOSE_H

/*
 * The diagnosis as one library call: find what to measure, calibrate this
 * host's costs, start the reference device when there is nothing else,
 * measure every queue over one window, name each regime, recommend a plan
 * with the model's predictions, and size the halt polling of the guest this
 * runs in (paper Sec. 7). Nothing here prints; errors are -errno with the
 * reason in d->why.
 *
 * One call:
 *	struct vs_diag_opts o = VS_DIAG_OPTS_INIT;
 *	struct vs_diagnosis d;
 *	o.target = VS_DIAG_PID; o.pid = 4242;
 *	err = vs_diagnose(&o, &d);		// d is filled even on error
 *	...
 *	vs_diagnosis_free(&d);
 *
 * A caller that measures window after window (a `virtsync watch`) keeps
 * discovery, calibration, the device and the probes across windows:
 *	err = vs_diag_open(&o, &s, &d);		// environment, costs, processes
 *	while (!done)
 *		err = vs_diag_window(s, &d);	// replaces d's queues
 *	vs_diag_close(s, &d);			// device's ground truth into d
 *	vs_diagnosis_free(&d);
 * vs_diagnose() is exactly open, one window, close.
 *
 * Resources (the device's threads, BPF probes, the QMP connection) belong to
 * the session and are released by vs_diag_close() on every path: a failed
 * vs_diag_open() has released what it took. The strings in the options are
 * borrowed and must outlive the session.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "analyze/classify.h"
#include "analyze/placement.h"
#include "analyze/recommend.h"
#include "diagnose/device.h"
#include "sources/discover.h"
#include "sources/guest.h"
#include "sources/hostcost.h"
#include "sources/measure.h"
#include "sources/qmpstat.h"
#include "sources/vqueue.h"

#define VS_DIAG_MAX_VMS 8		/* processes measured in one window */
/* queues, once a QEMU's virtio devices are split into their rings */
#define VS_DIAG_MAX_QUEUES 32
#define VS_DIAG_WARMUP_NS 200e6		/* a started device runs this long first */
#define VS_DIAG_DEFAULT_PRESET "fc-example"

enum vs_diag_target {
	VS_DIAG_AUTO,		/* this host's VMs, else the reference device */
	VS_DIAG_HOST,		/* this host's VMs only (none: no queue) */
	VS_DIAG_PID,		/* one process: a KVM VM or a running device */
	VS_DIAG_QMP,		/* the QEMU serving a QMP socket, with its stats */
	VS_DIAG_DEVICE,		/* start the reference device with a preset */
};

enum vs_diag_phase {
	VS_DIAG_PHASE_FOUND,	/* environment and discovery known */
	VS_DIAG_PHASE_DEVICE,	/* costs known; the device is about to start */
	VS_DIAG_PHASE_WINDOW,	/* the window is about to open */
};

struct vs_diagnosis;

struct vs_diag_opts {
	enum vs_diag_target target;
	pid_t pid;		/* VS_DIAG_PID; with VS_DIAG_QMP: must match */
	const char *qmp;	/* VS_DIAG_QMP: the socket */
	const char *preset;	/* VS_DIAG_DEVICE (AUTO's fallback: fc-example) */
	const char *backend;	/* "kvm", "thread"; NULL: kvm where it works */
	double duration_ns;	/* the window, > 0 */
	double dmax_ns;		/* the plan's latency bound, > 0 */
	bool no_calibrate;	/* host costs NaN, "not measured" */
	/* The placement audit of every queue after the window (diagnose/
	 * placement.h): a few hand-off measurements per queue. */
	bool placement;
	bool no_probes;		/* no BPF probes */
	/* Host costs measured before (a second diagnosis of the same host):
	 * used as they are instead of calibrating again. */
	const struct vs_hostcosts *costs;
	/* Non-zero ends a window early (a signal handler's flag). */
	volatile sig_atomic_t *stop;
	/* Told as each phase begins, with what is known so far (to print
	 * progress); may be NULL. */
	void (*progress)(void *arg, enum vs_diag_phase phase,
			 const struct vs_diagnosis *d);
	void *progress_arg;
};

#define VS_DIAG_OPTS_INIT { .duration_ns = 5e9, .dmax_ns = 50e3 }

enum vs_diag_mode {
	VS_DIAG_MODE_PID,	/* the process asked for (--pid, --qmp) */
	VS_DIAG_MODE_HOST,	/* the VMs found on this host */
	VS_DIAG_MODE_EMBEDDED,	/* the reference device started for it */
};

/*
 * A QEMU's virtio devices over the window (lib/sources/vqueue): with QMP
 * (the socket of VS_DIAG_QMP, or one found on QEMU's command line) each
 * device is measured between its first vCPU and its own consumer thread
 * and every ring becomes a queue; without QMP the VM stays one queue and
 * its devices are only listed.
 */
struct vs_diag_vq {
	const struct vs_vm *vm;
	bool per_queue;
	char qmp_why[128];		/* why no QMP, "" with it */
	struct vs_vqset set;
	struct vs_sample dev_samples[VS_VQ_MAX_DEVICES];
	int err;
	struct vs_qmp *q;		/* during the session only */
	bool own_q;
};

/* One queue over the window. */
struct vs_diag_queue {
	const struct vs_vm *vm;		/* in d->found */
	/* a ring of a QEMU measured per virtqueue: its device set, device
	 * and ring; or (vq set, NULL, NULL) for a QEMU only listed */
	struct vs_diag_vq *vq;
	const struct vs_vdev *dev;
	const struct vs_vq *ring;
	int err;			/* -ENODATA: nothing to measure */
	struct vs_sample sample;
	struct vs_verdict verdict;	/* valid when !err */
	struct vs_plan plan;		/* the recommendation, when !err */
	/* Where the queue's threads, memory and interrupts are, and advice
	 * (opts.placement; placement.known false with why otherwise). */
	bool placed;
	struct vs_placement placement;
};

/* The reference device when the diagnosis started it. */
struct vs_diag_device {
	bool ran;
	pid_t pid;
	char preset[32];
	char backend[16];
	bool asked;			/* VS_DIAG_DEVICE, not AUTO's fallback */
	bool backend_asked;		/* o->backend given */
	char kvm_why[128];		/* "/dev/kvm works", or why not */
	/* Its own report (ground truth, not used by the diagnosis), filled
	 * by vs_diag_close(): have_report, else report_err says why not. */
	bool have_report;
	struct vs_refdev_report report;
	char report_err[160];
};

/* QEMU's own view over the window (VS_DIAG_QMP). */
struct vs_diag_qmp {
	char socket[108];
	pid_t pid;
	int named;			/* threads whose role QMP gave */
	int err;			/* of the window, 0 when it worked */
	int n_rows;
	struct vs_qmp_vcpu_row *rows;	/* per vCPU, over the window */
	int n_iothreads;
	struct vs_qmp_iothread *iothreads;	/* as of the window's end */
};

struct vs_diagnosis {
	int err;			/* of the last call, 0 when it worked */
	char why[256];			/* what failed, without a prefix */
	/* why is about the pid or socket given, and does not name it */
	bool about_target;
	/* ... which does not exist or is not diagnosable (a usage error:
	 * a wrong pid, a socket of another process) */
	bool target_refused;

	enum vs_diag_mode mode;
	double duration_ns, dmax_ns;
	struct vs_guest_info guest;
	int64_t kvm_halt_poll_ns;	/* -1 unknown */
	bool kvm_halt_poll_writable;
	bool calibrated;		/* hc measured (or given) */
	struct vs_hostcosts hc;
	struct vs_diag_device device;
	/* The processes measured, and (host mode that fell back to the
	 * device) the VMs seen that could not be measured. */
	struct vs_discovery *found;
	struct vs_discovery *unmeasured;
	unsigned int n_queues;
	struct vs_diag_queue *queues;	/* VS_DIAG_MAX_QUEUES slots */
	char probe_why[128];		/* why the probes gave nothing, "" */
	/* Inside a guest: its own counters over the window, and the advice
	 * for its halt polling and C-states. */
	struct vs_guest_rates guest_rates;
	struct vs_plan guest_plan;
	struct vs_diag_qmp *qmp;	/* NULL without VS_DIAG_QMP */
	/* per measured process: its virtio devices, NULL when not a QEMU
	 * with any (VS_DIAG_MAX_VMS slots) */
	struct vs_diag_vq **vqs;
	double elapsed_ns;		/* since vs_diag_open() */
};

struct vs_diag_session;

int vs_diagnose(const struct vs_diag_opts *o, struct vs_diagnosis *d);

/* -EINVAL bad options; -ESRCH / -ENOENT (target_refused): the pid is gone
 * or is neither a VM nor a device; -EXDEV (target_refused): the socket is
 * served by another pid than o->pid; otherwise what failed, in d->why. */
int vs_diag_open(const struct vs_diag_opts *o, struct vs_diag_session **s,
		 struct vs_diagnosis *d);
/* One window over every queue; d's queues, guest rates and advice are
 * replaced. -errno when the window could not be measured at all. */
int vs_diag_window(struct vs_diag_session *s, struct vs_diagnosis *d);
/* Stop the device (its report into d when d is not NULL), close the
 * probes and QMP, free s. NULL does nothing. */
void vs_diag_close(struct vs_diag_session *s, struct vs_diagnosis *d);
/*
 * For a caller that runs window after window over a host (`virtsync
 * watch`): look for the processes again, replace d's found VMs and queues,
 * and point the probes at them (loaded with the first VM found, then kept:
 * one BPF load for the session). Sessions that run the reference device or
 * follow a QMP socket keep what they have. -errno, the reason in d->why.
 */
int vs_diag_rediscover(struct vs_diag_session *s, struct vs_diagnosis *d);
/* The session's probes (borrowed; NULL until loaded): vs_probe_read() may be
 * called from another thread while a window measures. */
struct vs_probe *vs_diag_probe(struct vs_diag_session *s);

/* Free what d holds (not d itself). */
void vs_diagnosis_free(struct vs_diagnosis *d);

const char *vs_diag_mode_name(enum vs_diag_mode m);	/* "pid", "host", ... */

/* ---- the pipeline's rules, exposed for tests ---------------------------- */

/* VMs of d worth a window: a known I/O thread, item counters or a tap. */
unsigned int vs_diag_measurable(const struct vs_discovery *d);
/* Does this target run the reference device, given what the host has? */
bool vs_diag_wants_device(enum vs_diag_target t, const struct vs_discovery *host);
/* A process that ended inside the window leaves a short sample: keep the
 * verdict, trust it less (confidence times measured/window, below half the
 * window), and say so in its summary. */
void vs_diag_short_window(struct vs_verdict *v, double measured_ns, double window_ns);
/* The idle time per wait of the side that waits (the consumer, unless it
 * never waits): what the guest's halt polling is sized to. NaN when the
 * sample cannot tell. */
double vs_diag_guest_wait_ns(const struct vs_verdict *v, const struct vs_sample *s);
/* Sums over the vCPU rows of d->qmp. */
struct vs_diag_qmp_totals {
	double exits_per_s;
	uint64_t polls_ok, polls_fail, poll_ns, wait_ns;
};
void vs_diag_qmp_totals(const struct vs_diag_qmp *q, struct vs_diag_qmp_totals *t);

#endif
