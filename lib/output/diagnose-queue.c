// SPDX-License-Identifier: GPL-2.0-only
/* One queue of a diagnosis (its sample, verdict and plan) as JSON and as
 * text; the run around it is diagnose.c's. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/units.h"
#include "output/diagnose-impl.h"
#include "output/placement.h"
#include "output/print.h"

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

json_t *vs_diag_advice_json(const struct vs_plan *pl)
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

json_t *vs_diag_warnings_json(const struct vs_plan *pl)
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

/* Where the guest kicks this queue under KVM (every address mapped to it,
 * both transports while the guest's is not known), and where from. */
static json_t *notify_json(const struct vs_vqset *vs, const struct vs_vdev *d,
			   const struct vs_vq *r)
{
	json_t *o = json_object(), *arr = json_array();
	unsigned int dev = (unsigned int)(d - vs->devs), i;
	char buf[48];

	for (i = 0; i < vs->notify.n; i++) {
		const struct vs_notify_entry *e = &vs->notify.e[i];

		if (e->dev != dev || e->queue != r->index)
			continue;
		vs_notify_entry_str(e, buf, sizeof(buf));
		json_array_append_new(arr, json_string(buf));
	}
	json_object_set_new(o, "addresses", arr);
	json_object_set_new(o, "from", json_string(d->notify_from));
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
	json_object_set_new(jq, "notify", notify_json(vs, d, r));
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

json_t *vs_diag_queue_json(const struct vs_diag_queue *q)
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
	json_object_set_new(jr, "actions", vs_diag_advice_json(pl));
	json_object_set_new(jr, "warnings", vs_diag_warnings_json(pl));
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

/* The queue's kick addresses under KVM (queue.notify in the JSON), on
 * one labelled line that wraps under its text. */
static void print_notify_line(FILE *f, const struct vs_diag_queue *q)
{
	const struct vs_vqset *vs = &q->vq->set;
	unsigned int dev = (unsigned int)(q->dev - vs->devs), i, n = 0;
	char line[400], buf[48];
	size_t at;

	at = (size_t)snprintf(line, sizeof(line), "notify   ");
	for (i = 0; i < vs->notify.n && at < sizeof(line); i++) {
		const struct vs_notify_entry *e = &vs->notify.e[i];

		if (e->dev != dev || e->queue != q->ring->index)
			continue;
		vs_notify_entry_str(e, buf, sizeof(buf));
		at += (size_t)snprintf(line + at, sizeof(line) - at, "%s%s", n++ ? ", " : "", buf);
	}
	if (at < sizeof(line))
		snprintf(line + at, sizeof(line) - at, "%s%s%s", n ? " (" : "none: ",
			 q->dev->notify_from[0] ? q->dev->notify_from : "not mapped", n ? ")" : "");
	vs_print_hanging(f, 2, 9, line);
}

static void print_thread_line(FILE *f, const char *label, const struct vs_thread_sample *t,
			      enum vs_wait_kind w)
{
	char r[24], rd[24], comm[4 * 12 + 4];

	if (!t->present) {
		fprintf(f, "  %-8s not measured\n", label);
		return;
	}
	fprintf(f, "  %-8s %s CPU %3.0f%%  waits %-9s runq %-8s -> %s\n", label,
	       vs_fit(t->comm, 12, comm, sizeof(comm)), t->cpu * 100, vs_format_rate(t->waits_per_s, r, sizeof(r)),
	       vs_format_time(t->run_delay_ns, rd, sizeof(rd)), vs_wait_name(w));
}

/*
 * "Queue: WHO (ROLE, on CONSUMER) (HOW MEASURED)" on one line when it fits
 * the width of the rest of the report. A real guest's device, queue and
 * consumer make it longer, and then the consumer and the measurement go on
 * a line of their own under it.
 */
static void print_queue_header(FILE *f, const struct vs_diag_queue *q)
{
	const struct vs_sample *s = &q->sample;
	char who[160], on[80] = "", how[120], line[400];
	int n = 0;

	if (q->dev) {
		snprintf(who, sizeof(who), "Queue: pid %d %s, %s %s queue %u", (int)q->vm->pid,
			 q->vm->comm, q->dev->type, q->dev->id, q->ring->index);
		snprintf(on, sizeof(on), "on %s %s", vs_vq_consumer_name(q->dev->cons_kind),
			 q->dev->cons_comm[0] ? q->dev->cons_comm : "?");
	} else {
		snprintf(who, sizeof(who), "Queue: pid %d %s", (int)q->vm->pid, q->vm->comm);
	}
	if (s->backend[0])
		n += snprintf(how + n, sizeof(how) - n, "%s backend, ", s->backend);
	if (s->len && n < (int)sizeof(how))
		n += snprintf(how + n, sizeof(how) - n, "L %u, ", s->len);
	if (n < (int)sizeof(how))
		snprintf(how + n, sizeof(how) - n, "%s", VS_TIME(s->duration_ns));

	if (q->dev)
		snprintf(line, sizeof(line), "%s (%s, %s) (%s)", who, q->ring->role, on, how);
	else
		snprintf(line, sizeof(line), "%s (%s)", who, how);
	if (!q->dev || strlen(line) <= VS_PRINT_WIDTH)
		fprintf(f, "\n%s\n", line);
	else
		fprintf(f, "\n%s (%s)\n  %s; %s\n", who, q->ring->role, on, how);
}

void vs_diag_queue_print(FILE *f, const struct vs_diag_queue *q)
{
	const struct vs_sample *s = &q->sample;
	const struct vs_verdict *v = &q->verdict;
	const struct vs_plan *pl = &q->plan;
	char a[24], b[24], c[24], line[400];
	unsigned int i;

	print_queue_header(f, q);
	if (q->err == -ENODATA) {
		vs_print_hanging(f, 2, 0, "not measured: no I/O thread identified and no public item counters (name QEMU's threads with -name ...,debug-threads=on; kicks and interrupts per VM: virtsync stat)");
		return;
	} else if (q->err) {
		fprintf(f, "  not measured: %s\n", strerror(-q->err));
		return;
	}
	fprintf(f, "  items %s  kicks %s  interrupts %s\n",
	       vs_format_rate(s->items_per_s, a, sizeof(a)), vs_format_rate(s->kicks_per_s, b, sizeof(b)),
	       vs_format_rate(s->irqs_per_s, c, sizeof(c)));
	if (q->dev)
		print_notify_line(f, q);
	print_thread_line(f, "producer", &s->prod, v->p_wait);
	print_thread_line(f, "consumer", &s->cons, v->c_wait);

	if (!v->known) {
		fprintf(f, "Verdict: none\n");
		vs_print_hanging(f, 2, 0, v->summary);
		return;
	}
	fprintf(f, "Verdict: %s  (%s mechanism, fast %s, confidence %.2f)\n",
	       vs_regime_name(v->regime), vs_mech_name(v->mech), vs_fast_name(v->fast),
	       v->confidence);
	vs_print_hanging(f, 2, 0, v->summary);
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
	vs_print_hanging(f, 2, 0, pl->summary);
	print_pred_row(f, "current", pl->have_cur, pl->cur_mech, &pl->cur);
	print_pred_row(f, "recommended", pl->have_rec, pl->rec_mech, &pl->rec);
	for (i = 0; i < pl->n_actions; i++) {
		const struct vs_advice *ac = &pl->actions[i];

		snprintf(line, sizeof(line), "%s = %s%s%s%s%s [%s]", ac->knob, ac->value,
			 ac->current[0] ? " (now " : "", ac->current,
			 ac->current[0] ? ")" : "", ac->role[0] ? "" : "",
			 vs_applies_name(ac->applies));
		vs_print_hanging(f, 2, 0, line);
		if (ac->role[0] || ac->cpus[0]) {
			snprintf(line, sizeof(line), "target: %s%s%s", ac->role,
				 ac->role[0] && ac->cpus[0] ? ", " : "", ac->cpus);
			vs_print_hanging(f, 6, 0, line);
		}
		vs_print_hanging(f, 6, 0, ac->why);
		if (ac->qemu[0]) {
			snprintf(line, sizeof(line), "%s %s",
				 q->vm->kind == VS_VM_QEMU ? "QEMU:" : "restart as:", ac->qemu);
			vs_print_hanging(f, 6, 0, line);
		}
		if (ac->libvirt[0]) {
			snprintf(line, sizeof(line), "libvirt: %s", ac->libvirt);
			vs_print_hanging(f, 6, 0, line);
		}
	}
	for (i = 0; i < pl->n_warnings; i++) {
		snprintf(line, sizeof(line), "warning: %s", pl->warnings[i]);
		vs_print_hanging(f, 2, 9, line);
	}
	if (q->placed)
		vs_placement_print(f, &q->placement, 0);
}
