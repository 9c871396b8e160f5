// SPDX-License-Identifier: GPL-2.0-only
/*
 * Plans (lib/tune/planfile.h): profiles that a diagnosis wrote, and the step
 * each piece of its advice becomes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diagnose/diagnose.h"
#include "knobs/knobs.h"
#include "tune/planfile.h"

int vs_planfile_load(const char *path, struct vs_profile **out, char *err,
		      size_t errlen)
{
	return vs_profile_load_file(path, VS_KIND_PLAN, out, err, errlen);
}

struct vs_profile *vs_profile_new(const char *objective, const char *source)
{
	struct vs_profile *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->kind = VS_KIND_PLAN;
	p->dmax_ns = -1;
	snprintf(p->name, sizeof(p->name), "plan");
	snprintf(p->objective, sizeof(p->objective), "%s", objective);
	snprintf(p->source, sizeof(p->source), "%s", source);
	return p;
}

int vs_profile_add_step(struct vs_profile *plan, const struct vs_step *step)
{
	struct vs_step *s;

	if (plan->nsteps >= VS_PROFILE_MAX_STEPS)
		return -ENOSPC;
	s = realloc(plan->steps, (plan->nsteps + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	plan->steps = s;
	s[plan->nsteps++] = *step;
	return 0;
}

json_t *vs_planfile_to_json(const struct vs_profile *plan)
{
	json_t *doc = json_object(), *steps = json_array(), *vars = json_object();
	char stamp[64];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	int k;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(doc, "format", json_string("virtsync-plan"));
	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "objective", json_string(plan->objective));
	json_object_set_new(doc, "created", json_string(stamp));
	if (plan->source[0])
		json_object_set_new(doc, "source", json_string(plan->source));
	if (plan->regime[0])
		json_object_set_new(doc, "regime", json_string(plan->regime));
	if (plan->dmax_ns >= 0)
		json_object_set_new(doc, "dmax_ns", json_real(plan->dmax_ns));
	for (i = 0; i < plan->nvars; i++)
		if (strcmp(plan->vars[i].name, "dmax") || plan->dmax_ns < 0)
			json_object_set_new(vars, plan->vars[i].name,
					    json_string(plan->vars[i].value));
	if (json_object_size(vars))
		json_object_set_new(doc, "variables", vars);
	else
		json_decref(vars);
	for (i = 0; i < plan->nsteps; i++) {
		const struct vs_step *s = &plan->steps[i];
		json_t *js = json_object(), *t = json_object();

		json_object_set_new(js, "knob", json_string(s->knob->name));
		for (k = 0; k < VS_SEL_NKEYS; k++)
			if (s->sel[k][0])
				json_object_set_new(t, vs_sel_key_names[k], json_string(s->sel[k]));
		if (json_object_size(t))
			json_object_set_new(js, "target", t);
		else
			json_decref(t);
		json_object_set_new(js, "value", json_string(s->value));
		if (s->why[0])
			json_object_set_new(js, "why", json_string(s->why));
		if (s->optional)
			json_object_set_new(js, "optional", json_true());
		json_array_append_new(steps, js);
	}
	json_object_set_new(doc, "steps", steps);
	return doc;
}

int vs_advice_step(const struct vs_advice *a, struct vs_step *st)
{
	const size_t n = sizeof(st->sel[0]);

	memset(st, 0, sizeof(*st));
	if (a->applies != VS_APPLY_NOW)
		return -EOPNOTSUPP;
	st->knob = vs_knob_find(a->knob);
	if (!st->knob)
		return -ENOENT;
	if (a->pid && (st->knob->scope == VS_SCOPE_THREAD || st->knob->scope == VS_SCOPE_VM))
		snprintf(st->sel[VS_SEL_PID], n, "%d", (int)a->pid);
	if (a->tid && st->knob->scope == VS_SCOPE_THREAD)
		snprintf(st->sel[VS_SEL_TID], n, "%d", (int)a->tid);
	else if (a->role[0] && st->knob->scope == VS_SCOPE_THREAD)
		snprintf(st->sel[VS_SEL_ROLE], n, "%s", a->role);
	if (a->irq && st->knob->scope == VS_SCOPE_IRQ)
		snprintf(st->sel[VS_SEL_IRQ], n, "%u", a->irq);
	if (a->qmp[0] && st->knob->scope == VS_SCOPE_IOTHREAD) {
		snprintf(st->sel[VS_SEL_QMP], n, "%s", a->qmp);
		snprintf(st->sel[VS_SEL_IOTHREAD], n, "%s", a->iothread);
	}
	/* C-state advice names the state as "state NAME" in cpus */
	if (a->cpus[0] && !strncmp(a->cpus, "state ", 6) && st->knob->scope == VS_SCOPE_CSTATE)
		snprintf(st->sel[VS_SEL_STATE], n, "%s", a->cpus + 6);
	else if (a->cpus[0] && (st->knob->scope == VS_SCOPE_CPU ||
				st->knob->scope == VS_SCOPE_CSTATE))
		snprintf(st->sel[VS_SEL_CPUS], n, "%s", a->cpus);
	snprintf(st->value, sizeof(st->value), "%s", a->value);
	snprintf(st->why, sizeof(st->why), "%s", a->why);
	return 0;
}

static int add_advice(struct vs_profile *plan, const struct vs_plan *advice,
		      unsigned int *skipped)
{
	struct vs_step st;
	unsigned int i;
	int err;

	for (i = 0; i < advice->n_actions; i++) {
		if (vs_advice_step(&advice->actions[i], &st)) {
			(*skipped)++;
			continue;
		}
		err = vs_profile_add_step(plan, &st);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The placement audit's steps. Where the recommendation already pins the
 * queue's threads (busy polling, a short queue), its pinning is the plan's
 * and the audit's is left out (counted as skipped), so that no two steps
 * set one thread's affinity.
 */
static int add_placement(struct vs_profile *plan, const struct vs_diag_queue *q,
			 unsigned int *skipped)
{
	struct vs_step st;
	unsigned int i;
	bool pinned = false;
	int err;

	if (!q->placed || !q->placement.known)
		return 0;
	for (i = 0; i < q->plan.n_actions; i++)
		pinned |= !strcmp(q->plan.actions[i].knob, "thread.affinity");
	for (i = 0; i < q->placement.n_advice; i++) {
		const struct vs_advice *a = &q->placement.advice[i].a;

		if ((pinned && !strcmp(a->knob, "thread.affinity")) || vs_advice_step(a, &st)) {
			(*skipped)++;
			continue;
		}
		err = vs_profile_add_step(plan, &st);
		if (err)
			return err;
	}
	return 0;
}

int vs_profile_from_diagnosis(const struct vs_diagnosis *d, struct vs_profile **out,
			   double *confidence, unsigned int *skipped)
{
	struct vs_profile *plan = vs_profile_new("throughput", "diagnose");
	char dmax[32];
	unsigned int i;
	int err;

	*out = NULL;
	*confidence = -1;
	*skipped = 0;
	if (!plan)
		return -ENOMEM;
	plan->dmax_ns = d->dmax_ns;
	/* as a loaded plan: its Dmax is also ${dmax} */
	snprintf(dmax, sizeof(dmax), "%.0f", d->dmax_ns);
	err = vs_vars_set(plan->vars, &plan->nvars, VS_PROFILE_MAX_VARS, "dmax", dmax);
	for (i = 0; !err && i < d->n_queues; i++) {
		const struct vs_diag_queue *q = &d->queues[i];

		if (q->err || !q->plan.valid)
			continue;
		err = add_advice(plan, &q->plan, skipped);
		if (!err)
			err = add_placement(plan, q, skipped);
		if (q->verdict.confidence > *confidence) {
			*confidence = q->verdict.confidence;
			snprintf(plan->regime, sizeof(plan->regime), "%s",
				 vs_regime_name(q->verdict.regime));
		}
	}
	if (!err)
		err = add_advice(plan, &d->guest_plan, skipped);
	if (err) {
		vs_profile_free(plan);
		return err;
	}
	*out = plan;
	return 0;
}

int vs_profile_diagnose(const struct vs_diag_opts *o, struct vs_diagnosis *d,
			struct vs_profile **plan, char *why, size_t len)
{
	unsigned int skipped;
	double confidence;
	int e = vs_diagnose(o, d);

	if (e) {
		if (o->target == VS_DIAG_QMP)
			snprintf(why, len, "diagnose --qmp %s failed: %s", o->qmp, d->why);
		else
			snprintf(why, len, "diagnose --pid %d failed: %s", (int)o->pid, d->why);
		return e;
	}
	e = vs_profile_from_diagnosis(d, plan, &confidence, &skipped);
	if (e)
		snprintf(why, len, "diagnose's plan: %s", strerror(-e));
	return e;
}
