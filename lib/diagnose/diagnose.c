// SPDX-License-Identifier: GPL-2.0-only
/* The diagnosis pipeline (diagnose.h). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/units.h"
#include "core/clock.h"
#include "core/errmsg.h"
#include "core/safefile.h"
#include "core/sysfs.h"
#include "diagnose/diagnose.h"
#include "diagnose/placement.h"
#include "diagnose/qmp.h"
#include "diagnose/vq.h"
#include "sources/probe.h"

struct vs_diag_session {
	struct vs_diag_opts o;
	bool embedded;
	struct vs_refdev *dev;
	double t_dev;			/* when the device published */
	struct vs_probe *probe;
	struct vs_diag_qmp_conn *qmp;
	pid_t qmp_pid;
	unsigned int n_vms;		/* processes measured in each window */
	struct vs_diag_place_ctx place;	/* with opts.placement */
	/* The topology recommendations pin by, read at the first conclusion
	 * (the placement audit's when it runs); NULL when unreadable. */
	struct vs_topo *topo;
	bool topo_read;
	double t_open;
	volatile sig_atomic_t never;	/* the stop flag when o.stop is NULL */
};

const char *vs_diag_mode_name(enum vs_diag_mode m)
{
	switch (m) {
	case VS_DIAG_MODE_PID: return "pid";
	case VS_DIAG_MODE_HOST: return "host";
	case VS_DIAG_MODE_EMBEDDED: return "embedded";
	}
	return "?";
}

/* ---- rules ------------------------------------------------------------ */

/* VMs with neither a known I/O thread nor item counters (a paused VMM,
 * threads not named) cannot be measured. */
unsigned int vs_diag_measurable(const struct vs_discovery *d)
{
	unsigned int i, n = 0;

	for (i = 0; d && i < d->n_vms; i++) {
		const struct vs_thread *p, *c;

		vs_measure_pick_threads(&d->vms[i], &p, &c);
		if (p || c || d->vms[i].has_stats || d->vms[i].n_taps)
			n++;
	}
	return n;
}

bool vs_diag_wants_device(enum vs_diag_target t, const struct vs_discovery *host)
{
	switch (t) {
	case VS_DIAG_DEVICE:
		return true;
	case VS_DIAG_AUTO:
		return !vs_diag_measurable(host);
	default:
		return false;
	}
}

void vs_diag_short_window(struct vs_verdict *v, double measured_ns, double window_ns)
{
	size_t used;

	if (!v->known || !(window_ns > 0) || !(measured_ns < 0.5 * window_ns))
		return;
	used = strlen(v->summary);
	v->confidence *= measured_ns > 0 ? measured_ns / window_ns : 0;
	snprintf(v->summary + used, sizeof(v->summary) - used,
		 " (the process stopped after %s of the %s window)",
		 VS_TIME(measured_ns), VS_TIME(window_ns));
}

double vs_diag_guest_wait_ns(const struct vs_verdict *v, const struct vs_sample *s)
{
	const struct vs_thread_sample *t;
	double y;

	if (!v->known)
		return NAN;
	t = v->c_wait != VS_WAIT_NONE ? &s->cons : &s->prod;
	y = (1 - t->cpu) / t->waits_per_s * 1e9;
	return isfinite(y) && y > 0 ? y : NAN;
}

/* ---- open ------------------------------------------------------------- */

static void progress(const struct vs_diag_session *s, enum vs_diag_phase ph,
		     const struct vs_diagnosis *d)
{
	if (s->o.progress)
		s->o.progress(s->o.progress_arg, ph, d);
}

static int check_opts(const struct vs_diag_opts *o, struct vs_diagnosis *d)
{
	if (!(o->duration_ns > 0) || !(o->dmax_ns > 0))
		return vs_errf(d->why, sizeof(d->why), -EINVAL,
			       "the window and Dmax must be above 0");
	switch (o->target) {
	case VS_DIAG_PID:
		if (o->pid <= 0)
			return vs_errf(d->why, sizeof(d->why), -EINVAL, "no pid given");
		break;
	case VS_DIAG_QMP:
		if (!o->qmp || !*o->qmp)
			return vs_errf(d->why, sizeof(d->why), -EINVAL, "no QMP socket given");
		break;
	case VS_DIAG_AUTO:
	case VS_DIAG_HOST:
	case VS_DIAG_DEVICE:
		break;
	default:
		return vs_errf(d->why, sizeof(d->why), -EINVAL, "unknown target");
	}
	if (o->backend && strcmp(o->backend, "kvm") && strcmp(o->backend, "thread"))
		return vs_errf(d->why, sizeof(d->why), -EINVAL,
			       "unknown backend '%.40s' (kvm, thread)", o->backend);
	return 0;
}

/*
 * The --qmp peer stopped answering as QMP (a deadline, an event flood, a
 * closed connection). The operator named the QEMU by its QMP socket and
 * asked for what QMP gives (the thread map, query-stats): a verdict
 * without them, exit 0, is one that a script cannot tell from a complete
 * one. So the diagnosis fails, on the target, saying what the peer did and
 * how to diagnose the process without QMP. (A peer that answers but has no
 * KVM statistics, QEMU before 7.1 or TCG, is a working peer: the qmp
 * source is then marked missing, with why, and the verdict stands.)
 */
static int qmp_unusable(struct vs_diag_session *s, struct vs_diagnosis *d, int err,
			const char *doing)
{
	d->about_target = true;
	return vs_errf(d->why, sizeof(d->why), err, "%s, while %s (diagnose --pid %d goes "
		       "without QMP)", vs_qmp_strerror(err), doing, (int)s->qmp_pid);
}

static int discover(struct vs_diag_session *s, pid_t pid, struct vs_diagnosis *d)
{
	int err;

	if (s->o.target == VS_DIAG_DEVICE)
		return 0;
	err = vs_discover(pid, d->found);
	if (!pid && err)
		return vs_errf(d->why, sizeof(d->why), err, "cannot scan /proc: %s",
			       strerror(-err));
	if (err) {
		d->about_target = true;
		d->target_refused = err == -ESRCH || err == -ENOENT;
	}
	if (err == -ESRCH)
		return vs_errf(d->why, sizeof(d->why), err, "no such process");
	if (err == -ENOENT)
		return vs_errf(d->why, sizeof(d->why), err,
			       "not a KVM VM (no anon_inode:kvm-vm fd) nor a reference "
			       "device (no /run/virtsync/pcdev-PID.stats)");
	if (err)
		return vs_errf(d->why, sizeof(d->why), err, "cannot inspect /proc/%d: %s",
			       (int)pid, strerror(-err));
	if (s->qmp && d->found->n_vms) {
		err = vs_diag_qmp_roles(s->qmp, &d->found->vms[0]);
		if (err < 0)
			return qmp_unusable(s, d, err, "naming its threads");
	}
	return 0;
}

static void calibrate(const struct vs_diag_opts *o, struct vs_diagnosis *d)
{
	struct vs_hostcosts *hc = &d->hc;

	if (o->costs) {
		*hc = *o->costs;
		d->calibrated = true;
	} else if (!o->no_calibrate) {
		struct vs_hostcost_opts ho = { .rounds = 60, .polled = true, .yz = true };

		vs_hostcosts_measure(&ho, hc);
		d->calibrated = true;
	} else {
		memset(hc, 0, sizeof(*hc));
		hc->notify_ns = hc->wake_ns = hc->wake_polled_ns = hc->yz_ns = NAN;
		snprintf(hc->notify_from, sizeof(hc->notify_from), "not measured (--no-calibrate)");
		snprintf(hc->wake_from, sizeof(hc->wake_from), "not measured (--no-calibrate)");
		snprintf(hc->yz_from, sizeof(hc->yz_from), "not measured (--no-calibrate)");
	}
}

static int start_device(struct vs_diag_session *s, struct vs_diagnosis *d)
{
	struct vs_diag_device *dev = &d->device;
	struct vs_refdev_opts ro = { 0 };
	bool kvm_ok = vs_kvm_usable(dev->kvm_why, sizeof(dev->kvm_why));
	int err;

	snprintf(dev->preset, sizeof(dev->preset), "%s",
		 s->o.preset ? s->o.preset : VS_DIAG_DEFAULT_PRESET);
	if (s->o.backend && !strcmp(s->o.backend, "kvm") && !kvm_ok)
		return vs_errf(d->why, sizeof(d->why), -ENODEV, "backend kvm: %s",
			       dev->kvm_why);
	snprintf(dev->backend, sizeof(dev->backend), "%s",
		 s->o.backend ? s->o.backend : "thread");	/* virtsync(8): one default */
	dev->asked = s->o.target == VS_DIAG_DEVICE;
	dev->backend_asked = s->o.backend != NULL;
	progress(s, VS_DIAG_PHASE_DEVICE, d);

	ro.preset = dev->preset;
	ro.backend = strcmp(dev->backend, "kvm") ? PCDEV_BACKEND_THREAD : PCDEV_BACKEND_KVM;
	err = vs_refdev_start(&ro, &s->dev);
	if (err == -EACCES || err == -EPERM || err == -EROFS) {
		char dir[512];

		vs_refdev_publish_dir(dir, sizeof(dir));
		return vs_errf(d->why, sizeof(d->why), err,
			       "cannot start the reference device: it publishes its counters "
			       "in %s, which uid %d cannot write (%s); run diagnose as root",
			       dir, (int)getuid(), strerror(-err));
	}
	if (err)
		return vs_errf(d->why, sizeof(d->why), err,
			       "cannot start the reference device: %s",
			       err == -ENOENT ? "unknown preset" : strerror(-err));
	dev->ran = true;
	dev->pid = vs_refdev_pid(s->dev);
	s->t_dev = vs_mono_ns();
	err = vs_discover(dev->pid, d->found);
	if (err)
		return vs_errf(d->why, sizeof(d->why), err,
			       "the reference device (pid %d) is not visible: %s",
			       (int)dev->pid, strerror(-err));
	return 0;
}

/* The probes count from their opening: open them right before the
 * window (each window then reads them before and after). */
static void open_probes(struct vs_diag_session *s, struct vs_diagnosis *d)
{
	struct vs_probe_opts po = { .flags = VS_PROBE_ALL, .attach = VS_ATTACH_AUTO };
	pid_t pids[VS_DIAG_MAX_QUEUES];
	unsigned int i, n = d->found->n_vms < VS_DIAG_MAX_QUEUES ? d->found->n_vms :
				 VS_DIAG_MAX_QUEUES;
	int err;

	if (s->o.no_probes) {
		snprintf(d->probe_why, sizeof(d->probe_why), "--no-probes");
		return;
	}
	if (!n)
		return;
	for (i = 0; i < n; i++)
		pids[i] = d->found->vms[i].pid;
	po.pids = pids;
	po.n_pids = n;
	err = vs_probe_open(&po, &s->probe);
	if (err) {
		s->probe = NULL;
		snprintf(d->probe_why, sizeof(d->probe_why), "cannot load: %s", strerror(-err));
	}
}

int vs_diag_open(const struct vs_diag_opts *o, struct vs_diag_session **out,
		 struct vs_diagnosis *d)
{
	struct vs_diag_session *s;
	char path[512];
	pid_t pid = 0;
	int err;

	*out = NULL;
	memset(d, 0, sizeof(*d));
	d->kvm_halt_poll_ns = -1;
	if (!o)
		return d->err = -EINVAL;
	err = check_opts(o, d);
	if (err)
		return d->err = err;
	s = calloc(1, sizeof(*s));
	d->found = calloc(1, sizeof(*d->found));
	d->unmeasured = calloc(1, sizeof(*d->unmeasured));
	d->queues = calloc(VS_DIAG_MAX_QUEUES, sizeof(*d->queues));
	if (!s || !d->found || !d->unmeasured || !d->queues) {
		free(s);
		vs_diagnosis_free(d);
		return d->err = vs_errf(d->why, sizeof(d->why), -ENOMEM, "out of memory");
	}
	s->o = *o;
	if (!s->o.stop)
		s->o.stop = &s->never;
	s->t_open = vs_mono_ns();
	d->duration_ns = o->duration_ns;
	d->dmax_ns = o->dmax_ns;
	/* a killed run's files would pass for a device, and a reused pid
	 * for that device */
	vs_refdev_sweep();

	if (o->target == VS_DIAG_QMP) {
		pid_t qpid;

		err = vs_diag_qmp_connect(o->qmp, &s->qmp, &qpid);
		if (err) {
			d->about_target = true;
			vs_errf(d->why, sizeof(d->why), err, "%s",
				err == -EPROTO ? "not a QMP socket" : vs_qmp_strerror(err));
			goto fail;
		}
		if (o->pid && o->pid != qpid) {
			d->about_target = d->target_refused = true;
			err = vs_errf(d->why, sizeof(d->why), -EXDEV,
				      "belongs to pid %d, not to the pid given (%d)",
				      (int)qpid, (int)o->pid);
			goto fail;
		}
		pid = s->qmp_pid = qpid;
	} else if (o->target == VS_DIAG_PID) {
		pid = o->pid;
	}
	vs_guest_detect(&d->guest);
	if (!vs_path(path, sizeof(path), "/sys/module/kvm/parameters/halt_poll_ns")) {
		vs_read_s64(path, &d->kvm_halt_poll_ns);
		d->kvm_halt_poll_writable = d->kvm_halt_poll_ns >= 0 &&
					    !vs_access_rooted(path, W_OK);
	}

	err = discover(s, pid, d);
	if (err)
		goto fail;
	s->embedded = vs_diag_wants_device(o->target, d->found);
	if (s->embedded && o->target == VS_DIAG_AUTO && d->found->n_vms)
		*d->unmeasured = *d->found;
	d->mode = pid ? VS_DIAG_MODE_PID : s->embedded ? VS_DIAG_MODE_EMBEDDED :
		  VS_DIAG_MODE_HOST;
	progress(s, VS_DIAG_PHASE_FOUND, d);

	/* Costs first, on a quiet machine when the device is ours. */
	calibrate(o, d);
	if (s->embedded) {
		err = start_device(s, d);
		if (err)
			goto fail;
	}
	d->n_queues = s->n_vms = d->found->n_vms < VS_DIAG_MAX_VMS ? d->found->n_vms :
				  VS_DIAG_MAX_VMS;
	/* A QEMU with virtio devices is measured per virtqueue. */
	d->vqs = calloc(VS_DIAG_MAX_VMS, sizeof(*d->vqs));
	for (unsigned int i = 0; d->vqs && i < s->n_vms; i++)
		d->vqs[i] = vs_diag_vq_open(&d->found->vms[i],
					    s->qmp && d->found->vms[i].pid == s->qmp_pid ?
					    vs_diag_qmp_session(s->qmp) : NULL);
	open_probes(s, d);
	if (o->placement) {
		err = vs_diag_place_open(&s->place);
		if (err) {
			vs_errf(d->why, sizeof(d->why), err, "placement: out of memory");
			goto fail;
		}
	}
	d->elapsed_ns = vs_mono_ns() - s->t_open;
	*out = s;
	return 0;

fail:
	d->err = err;
	vs_diag_close(s, NULL);
	return err;
}

/* ---- one window ------------------------------------------------------- */

struct measure_job {
	struct vs_diag_queue *q;
	double duration_ns;
	volatile sig_atomic_t *stop;
};

static void *measure_thread(void *arg)
{
	struct measure_job *j = arg;

	if (j->q->vq && j->q->vq->per_queue) {
		vs_diag_vq_measure(j->q->vq, j->duration_ns, j->stop);
		j->q->err = j->q->vq->err;
		return NULL;
	}
	j->q->err = vs_measure(j->q->vm, j->duration_ns, j->stop, &j->q->sample);
	return NULL;
}

static void measure_queues(struct vs_diag_session *s, struct vs_diagnosis *d)
{
	struct measure_job jobs[VS_DIAG_MAX_QUEUES];
	pthread_t th[VS_DIAG_MAX_QUEUES];
	bool started[VS_DIAG_MAX_QUEUES];
	unsigned int i;

	for (i = 0; i < d->n_queues; i++) {
		jobs[i].q = &d->queues[i];
		jobs[i].duration_ns = s->o.duration_ns;
		jobs[i].stop = s->o.stop;
		started[i] = !pthread_create(&th[i], NULL, measure_thread, &jobs[i]);
		if (!started[i])
			measure_thread(&jobs[i]);
	}
	for (i = 0; i < d->n_queues; i++)
		if (started[i])
			pthread_join(th[i], NULL);
}

static void apply_probes(struct vs_diag_session *s, struct vs_diagnosis *d,
			 struct vs_probe_snapshot *before, bool have_before)
{
	struct vs_probe_snapshot after;
	unsigned int i;
	int err;

	if (!s->probe)
		goto sources;
	if (!have_before) {
		snprintf(d->probe_why, sizeof(d->probe_why), "read failed");
		goto sources;
	}
	err = vs_probe_read(s->probe, &after);
	if (err) {
		snprintf(d->probe_why, sizeof(d->probe_why), "read failed: %s", strerror(-err));
		goto sources;
	}
	vs_probe_snapshot_sub(&after, before);
	for (i = 0; i < d->n_queues; i++) {
		struct vs_diag_queue *q = &d->queues[i];

		if (q->err)
			continue;
		if (q->vq && q->vq->per_queue)
			vs_diag_vq_attribute(q->vq, &after, NULL);
		else
			vs_sample_apply_probe(&q->sample, q->vm, &after);
	}
	vs_probe_snapshot_free(&after);
	return;
sources:
	for (i = 0; i < d->n_queues; i++) {
		struct vs_diag_queue *q = &d->queues[i];

		if (q->err)
			continue;
		if (q->vq && q->vq->per_queue)
			vs_diag_vq_attribute(q->vq, NULL, d->probe_why[0] ? d->probe_why :
					     "not loaded");
		else if (d->probe_why[0])
			vs_sample_source(&q->sample, "bpf-probes", false, "%s", d->probe_why);
	}
}

static void conclude(struct vs_diag_session *s, struct vs_diagnosis *d)
{
	struct vs_qmp_iothread *io = NULL;
	struct vs_reco_env renv;
	unsigned int i;
	int n;

	memset(&renv, 0, sizeof(renv));
	renv.dmax_ns = d->dmax_ns;
	renv.guest = &d->guest;
	renv.hc = &d->hc;
	renv.kvm_halt_poll_ns = d->kvm_halt_poll_ns;
	renv.kvm_halt_poll_writable = d->kvm_halt_poll_writable;
	renv.guest_wait_ns = NAN;
	if (!s->topo_read && !s->place.topo) {
		s->topo_read = true;
		s->topo = calloc(1, sizeof(*s->topo));
		if (s->topo && vs_topo_read(s->topo)) {
			free(s->topo);
			s->topo = NULL;
		}
	}
	renv.topo = s->place.topo ? s->place.topo : s->topo;
	for (i = 0; i < d->n_queues; i++) {
		struct vs_diag_queue *q = &d->queues[i];
		double y;

		if (q->err)
			continue;
		vs_classify(&q->sample, &d->hc, &q->verdict);
		vs_diag_short_window(&q->verdict, q->sample.duration_ns, d->duration_ns);
		renv.vm = q->vm;
		renv.consumer_tid = q->sample.cons.present ? q->sample.cons.tid : 0;
		renv.qmp_socket = NULL;
		renv.iothreads = NULL;
		renv.n_iothreads = 0;
		if (d->qmp && q->vm->pid == s->qmp_pid && d->qmp->n_iothreads > 0) {
			renv.qmp_socket = s->o.qmp;
			renv.iothreads = d->qmp->iothreads;
			renv.n_iothreads = d->qmp->n_iothreads;
		} else if (q->vq && q->vq->q) {
			/* the queue's own QMP session: also where the session's
			 * window read no iothreads (query-stats fails under TCG) */
			free(io);
			io = NULL;
			n = vs_qmp_iothreads(q->vq->q, &io);
			renv.iothreads = n > 0 ? io : NULL;
			renv.n_iothreads = n > 0 ? n : 0;
			renv.qmp_socket = d->qmp && q->vm->pid == s->qmp_pid ? s->o.qmp :
					  q->vm->qmp_socket;
		}
		renv.ncpus = q->sample.ncpus;
		renv.other_busy_cpus = q->sample.other_busy_cpus;
		renv.sample = &q->sample;
		renv.inflight = q->ring ? q->ring->inflight : NAN;
		renv.device_type = q->dev ? q->dev->type : NULL;
		vs_recommend(&q->verdict, &renv, &q->plan);
		/* The waits of the threads that run inside this guest size its
		 * halt polling. */
		y = d->guest.is_guest ? vs_diag_guest_wait_ns(&q->verdict, &q->sample) : NAN;
		if (isfinite(y)) {
			renv.guest_wait_ns = y;
			renv.guest_verdict = &q->verdict;
		}
	}
	free(io);
	renv.vm = NULL;
	vs_recommend_guest(&renv, &d->guest_plan);
}

int vs_diag_window(struct vs_diag_session *s, struct vs_diagnosis *d)
{
	struct vs_guest_counters ga, gb;
	struct vs_probe_snapshot before;
	bool have_before = false;
	double t0, since_dev;
	unsigned int i;
	int qerr = 0;

	if (!s || !d)
		return -EINVAL;
	d->n_queues = s->n_vms;
	for (i = 0; i < d->n_queues; i++) {
		memset(&d->queues[i], 0, sizeof(d->queues[i]));
		d->queues[i].vm = &d->found->vms[i];
		d->queues[i].vq = d->vqs ? d->vqs[i] : NULL;
	}
	memset(&d->guest_rates, 0, sizeof(d->guest_rates));
	memset(&d->guest_plan, 0, sizeof(d->guest_plan));
	progress(s, VS_DIAG_PHASE_WINDOW, d);

	/* A device we started reaches its steady state first. */
	since_dev = vs_mono_ns() - s->t_dev;
	if (s->dev && since_dev < VS_DIAG_WARMUP_NS)
		usleep((useconds_t)((VS_DIAG_WARMUP_NS - since_dev) / 1e3));

	if (s->probe)
		have_before = !vs_probe_read(s->probe, &before);
	vs_guest_counters_read(&ga);
	t0 = vs_mono_ns();
	if (s->qmp)
		vs_diag_qmp_begin(s->qmp);
	measure_queues(s, d);
	if (s->qmp) {
		if (!d->qmp)
			d->qmp = calloc(1, sizeof(*d->qmp));
		if (d->qmp) {
			vs_diag_qmp_end(s->qmp, d->qmp);
			if (d->n_queues)
				vs_diag_qmp_source(d->qmp, &d->queues[0].sample);
			for (i = 0; i < d->n_queues; i++) {
				struct vs_diag_vq *v = d->queues[i].vq;

				for (unsigned int k = 0; v && v->per_queue &&
				     d->queues[i].vm->pid == s->qmp_pid && k < v->set.n_devs; k++)
					vs_diag_qmp_source(d->qmp, &v->dev_samples[k]);
			}
		}
	}
	apply_probes(s, d, &before, have_before);
	if (have_before)
		vs_probe_snapshot_free(&before);
	d->n_queues = vs_diag_vq_split(d->queues, d->n_queues, VS_DIAG_MAX_QUEUES);
	vs_guest_counters_read(&gb);
	vs_guest_rates(&ga, &gb, (vs_mono_ns() - t0) / 1e9, &d->guest_rates);
	/* the peer stopped answering during the window (or its virtqueues'
	 * queries): its figures are not there, and the run fails as at open */
	qerr = s->qmp ? vs_qmp_broken(vs_diag_qmp_session(s->qmp)) : 0;
	if (qerr)
		return d->err = qmp_unusable(s, d, qerr, "reading its statistics");

	conclude(s, d);
	for (i = 0; s->o.placement && i < d->n_queues; i++)
		if (!d->queues[i].err) {
			vs_diag_place_queue(&s->place, &d->queues[i]);
			d->queues[i].placed = true;
		}
	d->elapsed_ns = vs_mono_ns() - s->t_open;
	d->err = 0;
	return 0;
}

/* ---- a long-running caller ------------------------------------------- */

int vs_diag_rediscover(struct vs_diag_session *s, struct vs_diagnosis *d)
{
	static const pid_t none = 0;
	pid_t pids[VS_DIAG_MAX_QUEUES];
	unsigned int i, n;
	int err;

	if (!s || !d)
		return -EINVAL;
	/* The device this session runs is its one queue, and a --qmp target
	 * keeps the thread roles QMP gave it. */
	if (s->embedded || s->o.target == VS_DIAG_DEVICE || s->o.target == VS_DIAG_QMP)
		return 0;
	err = discover(s, s->o.target == VS_DIAG_PID ? s->o.pid : 0, d);
	if (err)
		return d->err = err;
	n = d->found->n_vms < VS_DIAG_MAX_QUEUES ? d->found->n_vms : VS_DIAG_MAX_QUEUES;
	d->n_queues = n;
	for (i = 0; i < n; i++) {
		memset(&d->queues[i], 0, sizeof(d->queues[i]));
		d->queues[i].vm = &d->found->vms[i];
		pids[i] = d->found->vms[i].pid;
	}
	/* The probes load once, with the first VM; after that only their
	 * in-kernel target set changes (an empty set still filters). */
	if (!s->probe) {
		if (n)
			open_probes(s, d);
		return 0;
	}
	err = vs_probe_set_targets(s->probe, n ? pids : &none, n ? n : 1);
	if (err)
		return d->err = vs_errf(d->why, sizeof(d->why), err,
					"cannot set the probes' targets: %s", strerror(-err));
	return 0;
}

struct vs_probe *vs_diag_probe(struct vs_diag_session *s)
{
	return s ? s->probe : NULL;
}

/* ---- close ------------------------------------------------------------ */

void vs_diag_close(struct vs_diag_session *s, struct vs_diagnosis *d)
{
	if (!s)
		return;
	vs_probe_close(s->probe);
	for (unsigned int i = 0; d && d->vqs && i < VS_DIAG_MAX_VMS; i++)
		vs_diag_vq_disconnect(d->vqs[i]);
	vs_diag_qmp_disconnect(s->qmp);
	vs_diag_place_close(&s->place);
	free(s->topo);
	s->topo = NULL;
	if (s->dev) {
		struct vs_refdev_report rep;
		int err = vs_refdev_stop(s->dev, &rep);

		if (d && !err) {
			d->device.report = rep;
			d->device.have_report = true;
		} else if (d) {
			snprintf(d->device.report_err, sizeof(d->device.report_err),
				 "the device failed: %s%s%.100s", strerror(-err),
				 rep.res.note[0] ? ": " : "", rep.res.note);
		}
	}
	if (d)
		d->elapsed_ns = vs_mono_ns() - s->t_open;
	free(s);
}

void vs_diagnosis_free(struct vs_diagnosis *d)
{
	if (!d)
		return;
	free(d->found);
	free(d->unmeasured);
	free(d->queues);
	for (unsigned int i = 0; d->vqs && i < VS_DIAG_MAX_VMS; i++)
		vs_diag_vq_free(d->vqs[i]);
	free(d->vqs);
	d->vqs = NULL;
	vs_diag_qmp_free(d->qmp);
	free(d->qmp);
	d->found = d->unmeasured = NULL;
	d->queues = NULL;
	d->qmp = NULL;
	d->n_queues = 0;
}

int vs_diagnose(const struct vs_diag_opts *o, struct vs_diagnosis *d)
{
	struct vs_diag_session *s;
	int err = vs_diag_open(o, &s, d);

	if (err)
		return err;
	err = vs_diag_window(s, d);
	vs_diag_close(s, d);
	return d->err = err;
}
