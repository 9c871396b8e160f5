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
#include "output/placement.h"

#define WIDTH 78


void vs_print_hanging(FILE *f, int indent, int hang, const char *text)
{
	const char *p = text;
	int avail = WIDTH - indent;

	while (*p) {
		int n = (int)strlen(p), cut;

		if (n > avail) {
			for (cut = avail; cut > 0 && p[cut] != ' '; cut--)
				;
			if (cut == 0)
				cut = avail;
			n = cut;
		}
		fprintf(f, "%*s%.*s\n", indent, "", n, p);
		p += n;
		while (*p == ' ')
			p++;
		if (hang) {
			indent += hang;
			avail -= hang;
			hang = 0;
		}
	}
}

static void print_wrapped(FILE *f, int indent, const char *text)
{
	vs_print_hanging(f, indent, 0, text);
}

static json_t *thread_json(const struct vs_thread_sample *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "present", json_boolean(t->present));
	json_object_set_new(o, "tid", json_integer(t->tid));
	json_object_set_new(o, "comm", json_string(t->comm));
	json_object_set_new(o, "role", json_string(vs_role_name(t->role)));
	json_object_set_new(o, "cpu", vs_json_num(t->cpu));
	json_object_set_new(o, "waits_per_s", vs_json_num(t->waits_per_s));
	json_object_set_new(o, "preempts_per_s", vs_json_num(t->preempts_per_s));
	json_object_set_new(o, "run_delay_ns", vs_json_num(t->run_delay_ns));
	json_object_set_new(o, "samples", json_integer(t->n_samples));
	json_object_set_new(o, "frac_running", vs_json_num(t->frac_running));
	json_object_set_new(o, "frac_sleep", vs_json_num(t->frac_sleep));
	json_object_set_new(o, "frac_wait", vs_json_num(t->frac_wait));
	json_object_set_new(o, "wakeups_per_s", vs_json_num(t->wakeups_per_s));
	json_object_set_new(o, "wake_lat_ns", vs_json_num(t->wake_lat_ns));
	json_object_set_new(o, "sleeps_per_s", vs_json_num(t->sleeps_per_s));
	return o;
}

static json_t *pred_json(bool have, enum vs_mech m, const struct vs_prediction *p)
{
	json_t *o;

	if (!have)
		return json_null();
	o = json_object();
	json_object_set_new(o, "mechanism", json_string(vs_mech_name(m)));
	json_object_set_new(o, "regime", json_string(vs_regime_name(p->regime)));
	json_object_set_new(o, "T_ns", vs_json_num(p->t_ns));
	json_object_set_new(o, "E_ns", vs_json_num(p->e_ns));
	json_object_set_new(o, "D_ns", vs_json_num(p->d_ns));
	json_object_set_new(o, "batch", vs_json_num(p->batch));
	return o;
}

static json_t *actions_json(const struct vs_plan *pl)
{
	json_t *arr = json_array();
	unsigned int i;

	for (i = 0; i < pl->n_actions; i++) {
		const struct vs_advice *a = &pl->actions[i];
		json_t *o = json_object();

		json_object_set_new(o, "knob", json_string(a->knob));
		if (a->pid)
			json_object_set_new(o, "pid", json_integer(a->pid));
		if (a->role[0])
			json_object_set_new(o, "role", json_string(a->role));
		if (a->cpus[0])
			json_object_set_new(o, "cpus", json_string(a->cpus));
		json_object_set_new(o, "value", json_string(a->value));
		json_object_set_new(o, "current", a->current[0] ? json_string(a->current)
								: json_null());
		json_object_set_new(o, "applies", json_string(vs_applies_name(a->applies)));
		json_object_set_new(o, "why", json_string(a->why));
		if (a->qemu[0])
			json_object_set_new(o, "qemu", json_string(a->qemu));
		if (a->libvirt[0])
			json_object_set_new(o, "libvirt", json_string(a->libvirt));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *warnings_json(const struct vs_plan *pl)
{
	json_t *arr = json_array();
	unsigned int i;

	for (i = 0; i < pl->n_warnings; i++)
		json_array_append_new(arr, json_string(pl->warnings[i]));
	return arr;
}

static json_t *figure_json(const struct vs_vq_figure *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "per_s", vs_json_num(f->per_s));
	json_object_set_new(o, "source", f->source[0] ? json_string(f->source) : json_null());
	json_object_set_new(o, "note", json_string(f->note));
	return o;
}

/* The ring of a queue measured per virtqueue, and its device. */
static void vq_json(json_t *o, const struct vs_diag_queue *q)
{
	const struct vs_vqset *vs = &q->vq->set;
	const struct vs_vdev *d = q->dev;
	const struct vs_vq *r = q->ring;
	json_t *jd = json_object(), *jq = json_object();

	json_object_set_new(jd, "type", json_string(d->type));
	json_object_set_new(jd, "id", json_string(d->id));
	json_object_set_new(jd, "qom_path", json_string(d->qom_path));
	json_object_set_new(jd, "iothread", d->iothread[0] ? json_string(d->iothread) : json_null());
	json_object_set_new(jd, "vhost", json_boolean(d->vhost));
	json_object_set_new(jd, "consumer", json_string(vs_vq_consumer_name(d->cons_kind)));
	json_object_set_new(jd, "consumer_tid", d->cons_tid ? json_integer(d->cons_tid)
							    : json_null());
	json_object_set_new(jd, "queues_from", json_string(vs->from));
	json_object_set_new(jd, "queues_assumed", json_boolean(d->queues_assumed));
	json_object_set_new(o, "device", jd);
	json_object_set_new(jq, "index", json_integer(r->index));
	json_object_set_new(jq, "role", json_string(r->role));
	json_object_set_new(jq, "size", r->size ? json_integer(r->size) : json_null());
	json_object_set_new(jq, "active", json_boolean(r->active));
	json_object_set_new(jq, "items", figure_json(&r->items));
	json_object_set_new(jq, "kicks", figure_json(&r->kicks));
	json_object_set_new(jq, "interrupts", figure_json(&r->irqs));
	json_object_set_new(jq, "inflight", vs_json_num(r->inflight));
	json_object_set_new(jq, "qmp_samples", json_integer(r->n_samples));
	/* the raw window, so that another reader of QEMU's indices can check
	 * the rate over the same interval */
	json_object_set_new(jq, "used_total", json_integer((json_int_t)r->used));
	json_object_set_new(jq, "window_first_ns", json_integer((json_int_t)vs->t0_ns));
	json_object_set_new(jq, "window_last_ns", json_integer((json_int_t)vs->tlast_ns));
	json_object_set_new(jq, "vcpu_wake_ns", vs_json_num(vs->vcpu_wake_ns));
	json_object_set_new(jq, "vcpu_cpu_per_item_ns", vs_json_num(vs->vcpu_cpu_per_item_ns));
	json_object_set_new(jq, "guest_costs_from", json_string(vs->costs_from));
	json_object_set_new(o, "queue", jq);
}

/* A QEMU measured as one queue: its virtio devices from the command line. */
static void vq_list_json(json_t *o, const struct vs_diag_vq *v)
{
	json_t *devs = json_array();
	unsigned int d, k;

	for (d = 0; d < v->set.n_devs; d++) {
		const struct vs_vdev *dv = &v->set.devs[d];
		json_t *jd = json_object(), *roles = json_array();

		json_object_set_new(jd, "type", json_string(dv->type));
		json_object_set_new(jd, "id", json_string(dv->id));
		json_object_set_new(jd, "iothread", dv->iothread[0] ? json_string(dv->iothread)
								    : json_null());
		json_object_set_new(jd, "consumer", json_string(vs_vq_consumer_name(dv->cons_kind)));
		for (k = 0; k < dv->n_vqs; k++)
			json_array_append_new(roles, json_string(dv->vqs[k].role));
		json_object_set_new(jd, "queues", roles);
		json_object_set_new(jd, "queues_assumed", json_boolean(dv->queues_assumed));
		json_array_append_new(devs, jd);
	}
	json_object_set_new(o, "virtio_devices", devs);
	json_object_set_new(o, "virtio_devices_from", json_string(v->set.from));
	json_object_set_new(o, "virtio_queues_not_measured", json_string(v->qmp_why));
}

static json_t *queue_json(const struct vs_diag_queue *q)
{
	const struct vs_sample *s = &q->sample;
	const struct vs_verdict *v = &q->verdict;
	const struct vs_plan *pl = &q->plan;
	json_t *o = json_object(), *js = json_object(), *jv = json_object();
	json_t *jr = json_object(), *arr;
	unsigned int i;

	json_object_set_new(o, "pid", json_integer(q->vm->pid));
	json_object_set_new(o, "name", json_string(q->vm->comm));
	json_object_set_new(o, "kind", json_string(vs_vm_kind_name(q->vm->kind)));
	if (q->dev)
		vq_json(o, q);
	else if (q->vq)
		vq_list_json(o, q->vq);
	json_object_set_new(js, "duration_ns", vs_json_num(s->duration_ns));
	json_object_set_new(js, "items_per_s", vs_json_num(s->items_per_s));
	json_object_set_new(js, "kicks_per_s", vs_json_num(s->kicks_per_s));
	json_object_set_new(js, "interrupts_per_s", vs_json_num(s->irqs_per_s));
	json_object_set_new(js, "len", s->len ? json_integer(s->len) : json_null());
	json_object_set_new(js, "backend", json_string(s->backend));
	json_object_set_new(js, "producer", thread_json(&s->prod));
	json_object_set_new(js, "consumer", thread_json(&s->cons));
	json_object_set_new(js, "other_busy_cpus", vs_json_num(s->other_busy_cpus));
	json_object_set_new(js, "halts_per_s", vs_json_num(s->halts_per_s));
	json_object_set_new(js, "halts_polled_per_s", vs_json_num(s->halts_polled_per_s));
	json_object_set_new(js, "kicks_from_probes", json_boolean(s->kicks_from_probes));
	json_object_set_new(js, "interrupts_from_probes", json_boolean(s->irqs_from_probes));
	json_object_set_new(o, "sample", js);

	json_object_set_new(jv, "known", json_boolean(v->known));
	json_object_set_new(jv, "regime", v->known ? json_string(vs_regime_name(v->regime))
						   : json_null());
	json_object_set_new(jv, "mechanism", v->known ? json_string(vs_mech_name(v->mech))
						      : json_null());
	json_object_set_new(jv, "fast", json_string(vs_fast_name(v->fast)));
	json_object_set_new(jv, "producer_wait", json_string(vs_wait_name(v->p_wait)));
	json_object_set_new(jv, "consumer_wait", json_string(vs_wait_name(v->c_wait)));
	json_object_set_new(jv, "confidence", vs_json_num(v->confidence));
	json_object_set_new(jv, "kicks_per_item", vs_json_num(v->kicks_per_item));
	json_object_set_new(jv, "interrupts_per_item", vs_json_num(v->irqs_per_item));
	json_object_set_new(jv, "summary", json_string(v->summary));
	arr = json_array();
	for (i = 0; i < v->n_ineq; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "expr", json_string(v->ineq[i].expr));
		json_object_set_new(e, "lhs", vs_json_num(v->ineq[i].lhs));
		json_object_set_new(e, "rhs", vs_json_num(v->ineq[i].rhs));
		json_object_set_new(e, "holds", v->ineq[i].known ?
				    json_boolean(v->ineq[i].holds) : json_null());
		json_array_append_new(arr, e);
	}
	json_object_set_new(jv, "inequalities", arr);
	arr = json_array();
	for (i = 0; i < v->n_est; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "name", json_string(v->est[i].name));
		json_object_set_new(e, "value", vs_json_num(v->est[i].value));
		json_object_set_new(e, "unit", json_string(v->est[i].unit));
		json_object_set_new(e, "from", json_string(v->est[i].from));
		json_array_append_new(arr, e);
	}
	json_object_set_new(jv, "estimates", arr);
	json_object_set_new(o, "verdict", jv);

	json_object_set_new(jr, "summary", json_string(pl->summary));
	json_object_set_new(jr, "dmax_ns", vs_json_num(pl->dmax_ns));
	json_object_set_new(jr, "y_ns", vs_json_num(pl->y_ns));
	json_object_set_new(jr, "current", pred_json(pl->have_cur, pl->cur_mech, &pl->cur));
	json_object_set_new(jr, "recommended", pred_json(pl->have_rec, pl->rec_mech, &pl->rec));
	json_object_set_new(jr, "actions", actions_json(pl));
	json_object_set_new(jr, "warnings", warnings_json(pl));
	json_object_set_new(o, "recommendation", jr);
	if (q->placed)
		json_object_set_new(o, "placement", vs_placement_json(&q->placement));

	arr = json_array();
	for (i = 0; i < s->n_sources; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "name", json_string(s->sources[i].name));
		json_object_set_new(e, "used", json_boolean(s->sources[i].used));
		json_object_set_new(e, "detail", json_string(s->sources[i].detail));
		json_array_append_new(arr, e);
	}
	json_object_set_new(o, "sources", arr);
	return o;
}

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
		print_wrapped(f, 2, line);
		for (j = 0; j < vm->n_threads; j++)
			fprintf(f, "    tid %-7d %-16s %s\n", (int)vm->threads[j].tid,
			       vm->threads[j].comm, vs_role_name(vm->threads[j].role));
		for (j = 0; j < vm->n_taps; j++)
			fprintf(f, "    tap %s\n", vm->taps[j]);
		if (vm->has_stats) {
			snprintf(line, sizeof(line), "counters %s", vm->stats_path);
			print_wrapped(f, 4, line);
		}
		if (vm->vcpu_threads_unknown)
			print_wrapped(f, 4, "vCPU threads are not named and none was caught in ioctl(KVM_RUN): /proc cannot tell which thread runs a vCPU");
		if (vm->vcpus_from_syscall)
			print_wrapped(f, 4, "vCPU threads found blocked in ioctl(vcpu fd, KVM_RUN)");
	}
	if (d->n_skipped)
		fprintf(f, "  (%u processes could not be inspected: permission denied)\n",
		       d->n_skipped);
}

static void print_pred_row(FILE *f, const char *label, bool have, enum vs_mech m,
			   const struct vs_prediction *p)
{
	char t[24], e[24], dd[24];

	if (!have) {
		fprintf(f, "  %-13s (model has no prediction for these parameters)\n", label);
		return;
	}
	fprintf(f, "  %-13s %-6s %-5s T %-10s E %-10s D %s\n", label, vs_mech_name(m),
	       vs_regime_name(p->regime), vs_format_time(p->t_ns, t, sizeof(t)),
	       vs_format_time(p->e_ns, e, sizeof(e)), vs_format_time(p->d_ns, dd, sizeof(dd)));
}

static void print_thread_line(FILE *f, const char *label, const struct vs_thread_sample *t,
			      enum vs_wait_kind w)
{
	char r[24], rd[24];

	if (!t->present) {
		fprintf(f, "  %-8s not measured\n", label);
		return;
	}
	fprintf(f, "  %-8s %-12.12s CPU %3.0f%%  waits %-9s runq %-8s -> %s\n", label,
	       t->comm, t->cpu * 100, vs_format_rate(t->waits_per_s, r, sizeof(r)),
	       vs_format_time(t->run_delay_ns, rd, sizeof(rd)), vs_wait_name(w));
}

static void print_queue(FILE *f, const struct vs_diag_queue *q)
{
	const struct vs_sample *s = &q->sample;
	const struct vs_verdict *v = &q->verdict;
	const struct vs_plan *pl = &q->plan;
	char a[24], b[24], c[24], line[400];
	unsigned int i;

	if (q->dev)
		fprintf(f, "\nQueue: pid %d %s, %s %s queue %u (%s, on %s %s) (", (int)q->vm->pid,
			q->vm->comm, q->dev->type, q->dev->id, q->ring->index, q->ring->role,
			vs_vq_consumer_name(q->dev->cons_kind),
			q->dev->cons_comm[0] ? q->dev->cons_comm : "?");
	else
		fprintf(f, "\nQueue: pid %d %s (", (int)q->vm->pid, q->vm->comm);
	if (s->backend[0])
		fprintf(f, "%s backend, ", s->backend);
	if (s->len)
		fprintf(f, "L %u, ", s->len);
	fprintf(f, "%.2f s)\n", s->duration_ns / 1e9);
	if (q->err == -ENODATA) {
		print_wrapped(f, 2, "not measured: no I/O thread identified and no public item counters (name QEMU's threads with -name ...,debug-threads=on; kicks and interrupts per VM: virtsync stat)");
		return;
	} else if (q->err) {
		fprintf(f, "  not measured: %s\n", strerror(-q->err));
		return;
	}
	fprintf(f, "  items %s  kicks %s  interrupts %s\n",
	       vs_format_rate(s->items_per_s, a, sizeof(a)), vs_format_rate(s->kicks_per_s, b, sizeof(b)),
	       vs_format_rate(s->irqs_per_s, c, sizeof(c)));
	print_thread_line(f, "producer", &s->prod, v->p_wait);
	print_thread_line(f, "consumer", &s->cons, v->c_wait);

	if (!v->known) {
		fprintf(f, "Verdict: none\n");
		print_wrapped(f, 2, v->summary);
		return;
	}
	fprintf(f, "Verdict: %s  (%s mechanism, fast %s, confidence %.2f)\n",
	       vs_regime_name(v->regime), vs_mech_name(v->mech), vs_fast_name(v->fast),
	       v->confidence);
	print_wrapped(f, 2, v->summary);
	if (v->n_ineq) {
		fprintf(f, "  Evidence (Table %d):\n", v->mech == VS_MECH_SLEEP ? 2 : 3);
		for (i = 0; i < v->n_ineq; i++) {
			const struct vs_inequality *qq = &v->ineq[i];

			fprintf(f, "    %-20s %10s vs %-10s %s\n", qq->expr,
			       vs_format_time(qq->lhs, a, sizeof(a)), vs_format_time(qq->rhs, b, sizeof(b)),
			       !qq->known ? "unknown" : qq->holds ? "holds" : "fails");
		}
	}
	fprintf(f, "  Estimates:\n");
	for (i = 0; i < v->n_est; i++) {
		const struct vs_estimate *e = &v->est[i];

		if (!strcmp(e->unit, "ns"))
			vs_format_time(e->value, a, sizeof(a));
		else if (isfinite(e->value))
			snprintf(a, sizeof(a), "%.4g", e->value);
		else
			snprintf(a, sizeof(a), "-");
		snprintf(line, sizeof(line), "%-8s %-9s %s", e->name, a, e->from);
		vs_print_hanging(f, 4, 19, line);
	}
	fprintf(f, "Recommendation (Dmax %s):\n", vs_format_time(pl->dmax_ns, a, sizeof(a)));
	print_wrapped(f, 2, pl->summary);
	print_pred_row(f, "current", pl->have_cur, pl->cur_mech, &pl->cur);
	print_pred_row(f, "recommended", pl->have_rec, pl->rec_mech, &pl->rec);
	for (i = 0; i < pl->n_actions; i++) {
		const struct vs_advice *ac = &pl->actions[i];

		snprintf(line, sizeof(line), "%s = %s%s%s%s%s [%s]", ac->knob, ac->value,
			 ac->current[0] ? " (now " : "", ac->current,
			 ac->current[0] ? ")" : "", ac->role[0] ? "" : "",
			 vs_applies_name(ac->applies));
		print_wrapped(f, 2, line);
		if (ac->role[0] || ac->cpus[0]) {
			snprintf(line, sizeof(line), "target: %s%s%s", ac->role,
				 ac->role[0] && ac->cpus[0] ? ", " : "", ac->cpus);
			print_wrapped(f, 6, line);
		}
		print_wrapped(f, 6, ac->why);
		if (ac->qemu[0]) {
			snprintf(line, sizeof(line), "%s %s",
				 q->vm->kind == VS_VM_QEMU ? "QEMU:" : "restart as:", ac->qemu);
			print_wrapped(f, 6, line);
		}
		if (ac->libvirt[0]) {
			snprintf(line, sizeof(line), "libvirt: %s", ac->libvirt);
			print_wrapped(f, 6, line);
		}
	}
	for (i = 0; i < pl->n_warnings; i++) {
		snprintf(line, sizeof(line), "warning: %s", pl->warnings[i]);
		vs_print_hanging(f, 2, 9, line);
	}
	if (q->placed)
		vs_placement_print(f, &q->placement, 0);
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
		json_object_set_new(v, "halt_wait_p50_ns_at_most",
				    vs_json_num(r->wait_hist_fits ?
						vs_qmp_hist_quantile(r->wait_hist, 0.5) : NAN));
		json_object_set_new(v, "halt_wait_hist_fits_total", json_boolean(r->wait_hist_fits));
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
		       "    polling %.1f ms, waiting %.1f ms%s in %.2f s\n", r->cpu_index,
		       r->thread_id, r->exits_per_s, (unsigned long long)r->polls_ok,
		       (unsigned long long)r->polls_fail, pct,
		       (r->poll_ok_ns + r->poll_fail_ns) / 1e6, r->wait_ns / 1e6, wait, r->secs);
	}
	for (i = 0; i < d->n_iothreads; i++)
		fprintf(f, "  iothread %.40s (tid %d): poll-max-ns %lld\n", d->iothreads[i].id,
		       d->iothreads[i].thread_id, (long long)d->iothreads[i].poll_max_ns);
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
	print_wrapped(f, 2, line);
}

/* Why the device runs on its backend, in the tool's words. */
static const char *backend_reason(const struct vs_diag_device *dev, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", dev->backend_asked ? "--backend given; " : "", dev->kvm_why);
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
	print_wrapped(f, 0, line);
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
		fprintf(f, "Measuring for %.1f s ...\n", d->duration_ns / 1e9);
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
		print_wrapped(f, 2, line);
	}
	for (i = 0; i < gp->n_actions; i++) {
		const struct vs_advice *ac = &gp->actions[i];

		snprintf(line, sizeof(line), "%s = %s (now %s) [%s]: %s", ac->knob, ac->value,
			 ac->current[0] ? ac->current : "?", vs_applies_name(ac->applies),
			 ac->why);
		print_wrapped(f, 2, line);
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
		print_wrapped(f, 2, dev->report_err);
		return;
	}
	snprintf(line, sizeof(line),
		 "configured P %s / C %s, L %u; measured %.0f items/s; bench's model on its private measurements: %s (%s)",
		 pcdev_mode_name(r->cfg.p_mode), pcdev_mode_name(r->cfg.c_mode), r->cfg.len,
		 r->res.throughput_ops, r->model.regime < VS_REGIME_COUNT ?
		 vs_regime_name(r->model.regime) : "?", vs_mech_name(r->model.mech));
	print_wrapped(f, 2, line);
}

void vs_diag_print(FILE *f, const struct vs_diagnosis *d)
{
	unsigned int i;

	for (i = 0; i < d->n_queues; i++)
		print_queue(f, &d->queues[i]);
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
	json_object_set_new(g, "actions", actions_json(&d->guest_plan));
	json_object_set_new(g, "warnings", warnings_json(&d->guest_plan));
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
		json_array_append_new(arr, queue_json(&d->queues[i]));
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
