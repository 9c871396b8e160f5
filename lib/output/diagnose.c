// SPDX-License-Identifier: GPL-2.0-only
/* The diagnosis as text and JSON (diagnose.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/units.h"
#include "output/bench.h"
#include "output/diagnose.h"
#include "output/hostpoll.h"
#include "output/diagnose-impl.h"
#include "output/placement.h"
#include "output/print.h"

static json_t *vm_json(const struct vs_vm *vm)
{
	json_t *o = json_object(), *arr = json_array();
	unsigned int i;

	json_object_set_new(o, "pid", json_integer(vm->pid));
	json_object_set_new(o, "comm", json_string(vm->comm));
	json_object_set_new(o, "kind", json_string(vs_vm_kind_name(vm->kind)));
	json_object_set_new(o, "kvm", json_boolean(vm->kvm));
	json_object_set_new(o, "vcpu_fds", json_integer(vm->n_vcpu_fds));
	json_object_set_new(o, "accel", vm->accel[0] ? json_string(vm->accel) : json_null());
	json_object_set_new(o, "qmp_socket", vm->qmp_socket[0] ? json_string(vm->qmp_socket)
							       : json_null());
	json_object_set_new(o, "stats_file", vm->has_stats ? json_string(vm->stats_path)
							   : json_null());
	json_object_set_new(o, "vcpu_threads_unknown", json_boolean(vm->vcpu_threads_unknown));
	json_object_set_new(o, "vcpus_from_syscall", json_boolean(vm->vcpus_from_syscall));
	for (i = 0; i < vm->n_threads; i++) {
		json_t *t = json_object();

		json_object_set_new(t, "tid", json_integer(vm->threads[i].tid));
		json_object_set_new(t, "comm", json_string(vm->threads[i].comm));
		json_object_set_new(t, "role", json_string(vs_role_name(vm->threads[i].role)));
		if (vm->threads[i].vcpu_index >= 0)
			json_object_set_new(t, "vcpu", json_integer(vm->threads[i].vcpu_index));
		json_array_append_new(arr, t);
	}
	json_object_set_new(o, "threads", arr);
	arr = json_array();
	for (i = 0; i < vm->n_taps; i++)
		json_array_append_new(arr, json_string(vm->taps[i]));
	json_object_set_new(o, "taps", arr);
	return o;
}

static void print_discovery(FILE *f, const struct vs_discovery *d)
{
	unsigned int i, j;

	for (i = 0; i < d->n_vms; i++) {
		const struct vs_vm *vm = &d->vms[i];
		char line[160];

		if (vm->kind == VS_VM_QEMU && !vm->kvm)
			snprintf(line, sizeof(line), "pid %d %s: QEMU VM (%s, no KVM)%s%s",
				 (int)vm->pid, vm->comm,
				 vm->accel[0] ? vm->accel : "accelerator unknown",
				 vm->qmp_socket[0] ? ", QMP " : "", vm->qmp_socket);
		else
			snprintf(line, sizeof(line), "pid %d %s: %s%s, %u vCPU fd%s%s%s",
				 (int)vm->pid, vm->comm,
				 vm->kind == VS_VM_PCDEV ? "reference device" :
				 vm->kind == VS_VM_QEMU ? "QEMU VM" : "KVM VM",
				 vm->kvm ? " (KVM)" : "", vm->n_vcpu_fds,
				 vm->n_vcpu_fds == 1 ? "" : "s",
				 vm->qmp_socket[0] ? ", QMP " : "", vm->qmp_socket);
		vs_print_hanging(f, 2, 0, line);
		for (j = 0; j < vm->n_threads; j++)
			fprintf(f, "    tid %-7d %-16s %s\n", (int)vm->threads[j].tid,
			       vm->threads[j].comm, vs_role_name(vm->threads[j].role));
		for (j = 0; j < vm->n_taps; j++)
			fprintf(f, "    tap %s\n", vm->taps[j]);
		if (vm->has_stats) {
			snprintf(line, sizeof(line), "counters %s", vm->stats_path);
			vs_print_hanging(f, 4, 0, line);
		}
		if (vm->vcpu_threads_unknown)
			vs_print_hanging(f, 4, 0, "vCPU threads are not named and none was caught in ioctl(KVM_RUN): /proc cannot tell which thread runs a vCPU");
		if (vm->vcpus_from_syscall)
			vs_print_hanging(f, 4, 0, "vCPU threads found blocked in ioctl(vcpu fd, KVM_RUN)");
	}
	if (d->n_skipped)
		fprintf(f, "  (%u processes could not be inspected: permission denied)\n",
		       d->n_skipped);
}

static void sources_text(FILE *f, const struct vs_diagnosis *d)
{
	const struct vs_hostcosts *hc = &d->hc;
	const struct vs_diag_queue *q0 = d->n_queues ? &d->queues[0] : NULL;
	char line[300];
	unsigned int i;

	fprintf(f, "\nSources:\n");
	for (i = 0; q0 && i < q0->sample.n_sources; i++) {
		const struct vs_source *s = &q0->sample.sources[i];

		snprintf(line, sizeof(line), "%-5s %s: %s", s->used ? "used" : "n/a",
			 s->name, s->detail);
		vs_print_hanging(f, 2, 6, line);
	}
	if (d->calibrated) {
		snprintf(line, sizeof(line), "used  wake-up: %s", hc->wake_from);
		vs_print_hanging(f, 2, 6, line);
		snprintf(line, sizeof(line), "used  notification cost: %s", hc->notify_from);
		vs_print_hanging(f, 2, 6, line);
		snprintf(line, sizeof(line), "%-5s Yz: %s", isfinite(hc->yz_ns) ? "used" : "n/a",
			 hc->yz_from);
		vs_print_hanging(f, 2, 6, line);
	} else {
		vs_print_hanging(f, 2, 6, "n/a   wake-up, notification cost, Yz: --no-calibrate");
	}
	if (d->guest.is_guest)
		vs_print_hanging(f, 2, 6, "used  guest: /proc/interrupts, /proc/diskstats, /proc/net/dev, "
				 "cpuidle and haltpoll parameters");
}

static json_t *qmp_json(const struct vs_diag_qmp *d)
{
	json_t *o = json_object(), *arr = json_array();
	struct vs_diag_qmp_totals t;
	int i;

	json_object_set_new(o, "socket", json_string(d->socket));
	json_object_set_new(o, "pid", json_integer(d->pid));
	json_object_set_new(o, "threads_named", json_integer(d->named));
	json_object_set_new(o, "error", d->err ? json_string(strerror(-d->err)) : json_null());
	for (i = 0; i < d->n_rows; i++) {
		const struct vs_qmp_vcpu_row *r = &d->rows[i];
		json_t *v = json_object();

		json_object_set_new(v, "cpu_index", json_integer(r->cpu_index));
		json_object_set_new(v, "thread_id", json_integer(r->thread_id));
		json_object_set_new(v, "exits_per_s", vs_json_num(r->exits_per_s));
		json_object_set_new(v, "halt_exits_per_s", vs_json_num(r->halt_exits_per_s));
		json_object_set_new(v, "halt_polls_succeeded", json_integer(r->polls_ok));
		json_object_set_new(v, "halt_polls_failed", json_integer(r->polls_fail));
		json_object_set_new(v, "halt_poll_success_pct", vs_json_num(r->poll_ok_pct));
		json_object_set_new(v, "halt_poll_success_ns", json_integer(r->poll_ok_ns));
		json_object_set_new(v, "halt_poll_fail_ns", json_integer(r->poll_fail_ns));
		json_object_set_new(v, "halt_wait_ns", json_integer(r->wait_ns));
		json_object_set_new(v, "halt_wait_p50_at_most_ns",
				    vs_json_num(r->wait_hist_fits ?
						vs_qmp_hist_quantile(r->wait_hist, 0.5) : NAN));
		json_object_set_new(v, "halt_wait_hist_fits", json_boolean(r->wait_hist_fits));
		json_object_set_new(v, "halt_wait_hist", vs_qmp_hist_json(r->wait_hist));
		json_object_set_new(v, "halt_poll_success_hist", vs_qmp_hist_json(r->poll_ok_hist));
		json_object_set_new(v, "halt_poll_fail_hist", vs_qmp_hist_json(r->poll_fail_hist));
		json_array_append_new(arr, v);
	}
	json_object_set_new(o, "vcpus", arr);
	vs_diag_qmp_totals(d, &t);
	json_object_set_new(o, "halt_poll_success_pct", t.polls_ok + t.polls_fail ?
			    vs_json_num(100.0 * t.polls_ok / (t.polls_ok + t.polls_fail)) :
			    json_null());
	arr = json_array();
	for (i = 0; i < d->n_iothreads; i++) {
		json_t *io = json_object();

		json_object_set_new(io, "id", json_string(d->iothreads[i].id));
		json_object_set_new(io, "thread_id", json_integer(d->iothreads[i].thread_id));
		json_object_set_new(io, "poll_max_ns", json_integer(d->iothreads[i].poll_max_ns));
		json_array_append_new(arr, io);
	}
	json_object_set_new(o, "iothreads", arr);
	return o;
}

static void qmp_print(FILE *f, const struct vs_diag_qmp *d)
{
	int i;

	fprintf(f, "\nQEMU's own statistics (QMP query-stats, pid %d):\n", (int)d->pid);
	if (d->err || !d->n_rows) {
		fprintf(f, "  not available: %s\n", d->err ? vs_qmp_strerror(d->err) : "no vCPU rows");
		return;
	}
	for (i = 0; i < d->n_rows; i++) {
		const struct vs_qmp_vcpu_row *r = &d->rows[i];
		double p50 = r->wait_hist_fits ? vs_qmp_hist_quantile(r->wait_hist, 0.5) : NAN;
		char pct[16], wait[48] = "", med[32];

		if (isfinite(p50))
			snprintf(wait, sizeof(wait), " (median wait <= %s)",
				 vs_format_time(p50, med, sizeof(med)));
		if (isnan(r->poll_ok_pct))
			snprintf(pct, sizeof(pct), "-");
		else
			snprintf(pct, sizeof(pct), "%.0f%%", r->poll_ok_pct);
		fprintf(f, "  vCPU %d (tid %d): %.0f exits/s, halt polls %llu ok %llu failed (%s),\n"
		       "    polling %s, waiting %s%s in %s\n", r->cpu_index,
		       r->thread_id, r->exits_per_s, (unsigned long long)r->polls_ok,
		       (unsigned long long)r->polls_fail, pct,
		       VS_TIME((double)(r->poll_ok_ns + r->poll_fail_ns)), VS_TIME((double)r->wait_ns),
		       wait, VS_TIME(r->secs * 1e9));
	}
	for (i = 0; i < d->n_iothreads; i++) {
		char id[4 * 40 + 4];

		fprintf(f, "  iothread %s (tid %d): poll-max-ns %lld\n",
			vs_cut(d->iothreads[i].id, 40, id, sizeof(id)),
			d->iothreads[i].thread_id, (long long)d->iothreads[i].poll_max_ns);
	}
}

/* ---- as each phase begins ------------------------------------------------ */

static void print_environment(FILE *f, const struct vs_diagnosis *d)
{
	const struct vs_guest_info *g = &d->guest;
	char line[200];

	fprintf(f, "virtsync diagnose: %s\n", g->is_guest ?
		"this machine is a KVM guest itself" : "KVM host");
	if (!g->is_guest)
		return;
	snprintf(line, sizeof(line), "(%s%s%s; cpuidle driver %s; guest_halt_poll_ns %lld)",
		 g->cpuid_hv ? "CPUID hypervisor bit" : "",
		 g->cpuid_hv && g->cpuinfo_hv ? ", " : "",
		 g->cpuinfo_hv ? "cpuinfo flag" : "",
		 g->cpuidle_driver[0] ? g->cpuidle_driver : "none",
		 (long long)g->guest_halt_poll_ns);
	vs_print_hanging(f, 2, 0, line);
}

/* Why the device runs on its backend, in the tool's words. */
static const char *backend_reason(const struct vs_diag_device *dev, char *buf, size_t len)
{
	if (dev->backend_asked)
		snprintf(buf, len, "--backend given; %s", dev->kvm_why);
	else	/* thread unless asked: virtsync(8), SHARED OPTIONS */
		snprintf(buf, len, "the default; for --backend kvm: %s", dev->kvm_why);
	return buf;
}

static void print_device_start(FILE *f, const struct vs_diagnosis *d)
{
	char why[160];
	const struct vs_discovery *u = d->unmeasured;
	char line[300];

	if (u && u->n_vms) {
		fprintf(f, "Found %u VM%s without an identifiable I/O thread or item counters:\n",
			u->n_vms, u->n_vms == 1 ? "" : "s");
		print_discovery(f, u);
	}
	snprintf(line, sizeof(line),
		 "%s: running the reference device (preset %s, %s backend: %s)",
		 d->device.asked ? "--workload given" :
		 u && u->n_vms ? "no measurable VM" : "no VM on this host",
		 d->device.preset, d->device.backend,
		 backend_reason(&d->device, why, sizeof(why)));
	vs_print_hanging(f, 0, 0, line);
}

void vs_diag_print_phase(FILE *f, enum vs_diag_phase phase, const struct vs_diagnosis *d)
{
	switch (phase) {
	case VS_DIAG_PHASE_FOUND:
		print_environment(f, d);
		break;
	case VS_DIAG_PHASE_DEVICE:
		print_device_start(f, d);
		break;
	case VS_DIAG_PHASE_WINDOW:
		fprintf(f, "Found %u process%s:\n", d->found->n_vms,
			d->found->n_vms == 1 ? "" : "es");
		print_discovery(f, d->found);
		fprintf(f, "Measuring for %s ...\n", VS_TIME(d->duration_ns));
		break;
	}
	fflush(f);
}

/* ---- after the window ---------------------------------------------------- */

static void print_guest(FILE *f, const struct vs_diagnosis *d)
{
	const struct vs_guest_rates *gr = &d->guest_rates;
	const struct vs_plan *gp = &d->guest_plan;
	char a[24], b[24], line[300];
	unsigned int i, shown = 0;

	fprintf(f, "\nInside this guest:\n");
	for (i = 0; i < gr->n_vqs; i++) {
		if (gr->vqs[i].per_s < 0.5)
			continue;
		fprintf(f, "  %-24s %s interrupts\n", gr->vqs[i].name,
			vs_format_rate(gr->vqs[i].per_s, a, sizeof(a)));
		shown++;
	}
	if (!shown)
		fprintf(f, "  no virtqueue interrupts during the window\n");
	fprintf(f, "  disk %s requests, net %s packets\n",
		vs_format_rate(gr->have_disk ? gr->disk_ios_per_s : NAN, a, sizeof(a)),
		vs_format_rate(gr->have_net ? gr->net_packets_per_s : NAN, b, sizeof(b)));
	if (isfinite(d->hc.wake_ns)) {
		snprintf(line, sizeof(line),
			 "thread wake-up: %s as configured, %s with the CPUs kept out of idle (what halt polling gives)",
			 vs_format_time(d->hc.wake_ns, a, sizeof(a)),
			 vs_format_time(d->hc.wake_polled_ns, b, sizeof(b)));
		vs_print_hanging(f, 2, 0, line);
	}
	for (i = 0; i < gp->n_actions; i++) {
		const struct vs_advice *ac = &gp->actions[i];

		snprintf(line, sizeof(line), "%s = %s (now %s) [%s]: %s", ac->knob, ac->value,
			 ac->current[0] ? ac->current : "?", vs_applies_name(ac->applies),
			 ac->why);
		vs_print_hanging(f, 2, 0, line);
	}
	for (i = 0; i < gp->n_warnings; i++) {
		snprintf(line, sizeof(line), "warning: %s", gp->warnings[i]);
		vs_print_hanging(f, 2, 9, line);
	}
}

static void print_truth(FILE *f, const struct vs_diag_device *dev)
{
	const struct vs_refdev_report *r = &dev->report;
	char line[400];

	fprintf(f, "\nGround truth (the device's own report, not used above):\n");
	if (!dev->have_report) {
		vs_print_hanging(f, 2, 0, dev->report_err);
		return;
	}
	snprintf(line, sizeof(line),
		 "configured P %s / C %s, L %u; measured %.0f items/s; bench's model on its private measurements: %s (%s)",
		 pcdev_mode_name(r->cfg.p_mode), pcdev_mode_name(r->cfg.c_mode), r->cfg.len,
		 r->res.throughput_ops, r->model.regime < VS_REGIME_COUNT ?
		 vs_regime_name(r->model.regime) : "?", vs_mech_name(r->model.mech));
	vs_print_hanging(f, 2, 0, line);
}

void vs_diag_print(FILE *f, const struct vs_diagnosis *d)
{
	unsigned int i;

	for (i = 0; i < d->n_queues; i++)
		vs_diag_queue_print(f, &d->queues[i]);
	if (d->qmp)
		qmp_print(f, d->qmp);
	if (d->guest.is_guest)
		print_guest(f, d);
	if (d->device.ran)
		print_truth(f, &d->device);
	vs_hostpoll_print(f, d);
	sources_text(f, d);
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *environment_json(const struct vs_diagnosis *d)
{
	const struct vs_guest_info *g = &d->guest;
	json_t *e = json_object();

	json_object_set_new(e, "guest", json_boolean(g->is_guest));
	json_object_set_new(e, "cpuid_hypervisor", json_boolean(g->cpuid_hv));
	json_object_set_new(e, "cpuidle_driver", json_string(g->cpuidle_driver));
	json_object_set_new(e, "guest_halt_poll_ns", g->guest_halt_poll_ns >= 0 ?
			    json_integer(g->guest_halt_poll_ns) : json_null());
	json_object_set_new(e, "kvm_halt_poll_ns", d->kvm_halt_poll_ns >= 0 ?
			    json_integer(d->kvm_halt_poll_ns) : json_null());
	json_object_set_new(e, "kvm_halt_poll_writable", json_boolean(d->kvm_halt_poll_writable));
	json_object_set_new(e, "ncpus", json_integer(d->n_queues ? d->queues[0].sample.ncpus : 0));
	return e;
}

static json_t *hostcosts_json(const struct vs_hostcosts *hc)
{
	json_t *h = json_object();

	json_object_set_new(h, "notify_ns", vs_json_num(hc->notify_ns));
	json_object_set_new(h, "wake_ns", vs_json_num(hc->wake_ns));
	json_object_set_new(h, "wake_polled_ns", vs_json_num(hc->wake_polled_ns));
	json_object_set_new(h, "yz_ns", vs_json_num(hc->yz_ns));
	json_object_set_new(h, "notify_from", json_string(hc->notify_from));
	json_object_set_new(h, "wake_from", json_string(hc->wake_from));
	json_object_set_new(h, "yz_from", json_string(hc->yz_from));
	return h;
}

static json_t *vms_json(const struct vs_discovery *disc)
{
	json_t *arr = json_array();
	unsigned int i;

	for (i = 0; disc && i < disc->n_vms; i++)
		json_array_append_new(arr, vm_json(&disc->vms[i]));
	return arr;
}

static json_t *guest_json(const struct vs_diagnosis *d)
{
	const struct vs_guest_rates *gr = &d->guest_rates;
	json_t *g = json_object(), *arr = json_array();
	unsigned int i;

	for (i = 0; i < gr->n_vqs; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "name", json_string(gr->vqs[i].name));
		json_object_set_new(e, "per_s", json_real(gr->vqs[i].per_s));
		json_array_append_new(arr, e);
	}
	json_object_set_new(g, "interrupts", arr);
	json_object_set_new(g, "disk_ios_per_s", gr->have_disk ?
			    json_real(gr->disk_ios_per_s) : json_null());
	json_object_set_new(g, "net_packets_per_s", gr->have_net ?
			    json_real(gr->net_packets_per_s) : json_null());
	json_object_set_new(g, "actions", vs_diag_advice_json(&d->guest_plan));
	json_object_set_new(g, "warnings", vs_diag_warnings_json(&d->guest_plan));
	return g;
}

static json_t *truth_json(const struct vs_diag_device *dev)
{
	const struct vs_refdev_report *r = &dev->report;

	if (!dev->have_report)
		return json_null();
	return vs_bench_json(&r->cfg, &r->res, &r->model, r->dmax_ns, r->stopped);
}

int vs_diag_json_fill(json_t *doc, const struct vs_diagnosis *d)
{
	json_t *arr;
	unsigned int i;

	json_object_set_new(doc, "mode", json_string(vs_diag_mode_name(d->mode)));
	json_object_set_new(doc, "duration_ns", json_real(d->duration_ns));
	json_object_set_new(doc, "dmax_ns", json_real(d->dmax_ns));
	json_object_set_new(doc, "environment", environment_json(d));
	json_object_set_new(doc, "host_costs", hostcosts_json(&d->hc));
	if (d->device.ran) {
		json_t *o = json_object();
		char why[160];

		json_object_set_new(o, "pid", json_integer(d->device.pid));
		json_object_set_new(o, "preset", json_string(d->device.preset));
		json_object_set_new(o, "backend", json_string(d->device.backend));
		json_object_set_new(o, "backend_reason", json_string(backend_reason(&d->device, why,
									      sizeof(why))));
		json_object_set_new(doc, "device", o);
	}
	json_object_set_new(doc, "vms", vms_json(d->found));
	json_object_set_new(doc, "unmeasurable_vms", vms_json(d->unmeasured));
	arr = json_array();
	for (i = 0; i < d->n_queues; i++)
		json_array_append_new(arr, vs_diag_queue_json(&d->queues[i]));
	json_object_set_new(doc, "queues", arr);
	if (d->guest.is_guest)
		json_object_set_new(doc, "guest", guest_json(d));
	if (d->device.ran)
		json_object_set_new(doc, "ground_truth", truth_json(&d->device));
	if (d->qmp)
		json_object_set_new(doc, "qmp", qmp_json(d->qmp));
	if ((arr = vs_hostpoll_json(d)))
		json_object_set_new(doc, "host_polling", arr);
	json_object_set_new(doc, "elapsed_ns", json_real(d->elapsed_ns));
	return json_object_size(doc) ? 0 : -ENOMEM;
}
