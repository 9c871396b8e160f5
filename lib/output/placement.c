// SPDX-License-Identifier: GPL-2.0-only
/* The placement audit as text and JSON (see placement.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/units.h"
#include "output/diagnose.h"
#include "output/placement.h"

/* `text` after `lead`, folded under the text's first character. */
static void folded(FILE *f, int indent, const char *lead, const char *text)
{
	char line[1024];

	snprintf(line, sizeof(line), "%s%s", lead, text);
	vs_print_hanging(f, indent, (int)strlen(lead), line);
}

static void side_line(FILE *f, int indent, const char *what, const struct vs_place_side *s)
{
	char line[256];

	snprintf(line, sizeof(line), "%s %s (tid %d) on CPU %s, node %d [%s]", what, s->comm,
		 (int)s->tid, s->cpus, s->node, s->from);
	folded(f, indent + 2, "", line);
}

static const char *t_text(double ns, char *buf, size_t len)
{
	return vs_format_time(ns, buf, len);
}

void vs_placement_print(FILE *f, const struct vs_placement *pl, int indent)
{
	char line[512], a[VS_FMT_LEN], b[VS_FMT_LEN], c[VS_FMT_LEN], d[VS_FMT_LEN];
	char e[VS_FMT_LEN], g[VS_FMT_LEN];
	unsigned int i;

	if (!pl->known) {
		folded(f, indent, "placement: ", pl->why);
		for (i = 0; i < pl->n_notes; i++)
			folded(f, indent + 2, "", pl->notes[i]);
		return;
	}
	fprintf(f, "%*splacement:\n", indent, "");
	side_line(f, indent, !strcmp(pl->prod.role, "vcpu") ? "vCPU" : "producer", &pl->prod);
	side_line(f, indent, "consumer", &pl->cons);
	if (isfinite(pl->rt_ns) && pl->rt_unstable)
		snprintf(line, sizeof(line), "%s; cache-line round trip %s or %s (two modes)",
			 pl->relation, VS_TIME(pl->rt_low_ns), VS_TIME(pl->rt_high_ns));
	else if (isfinite(pl->rt_ns))
		snprintf(line, sizeof(line), "%s; cache-line round trip %s", pl->relation,
			 VS_TIME(pl->rt_ns));
	else
		snprintf(line, sizeof(line), "%s; round trip not measured", pl->relation);
	folded(f, indent + 2, "", line);
	for (i = 0; i < pl->n_notes; i++)
		folded(f, indent + 2, "", pl->notes[i]);
	for (i = 0; i < pl->n_advice; i++) {
		const struct vs_place_advice *x = &pl->advice[i];
		char lead[16];

		snprintf(lead, sizeof(lead), "%u. ", i + 1);
		if (x->a.irq)
			snprintf(line, sizeof(line), "%s irq %u = %s (now %s): %s", x->a.knob,
				 x->a.irq, x->a.value, x->a.current, x->a.why);
		else
			snprintf(line, sizeof(line), "%s tid %d = %s (now %s): %s", x->a.knob,
				 (int)x->a.tid, x->a.value, x->a.current, x->a.why);
		folded(f, indent + 2, lead, line);
		if (x->have_pred) {
			snprintf(line, sizeof(line), "model: T %s -> %s, E %s -> %s, D %s -> %s; %s",
				 t_text(x->cur.t_ns, a, sizeof(a)), t_text(x->pred.t_ns, b, sizeof(b)),
				 t_text(x->cur.e_ns, c, sizeof(c)), t_text(x->pred.e_ns, d, sizeof(d)),
				 t_text(x->cur.d_ns, e, sizeof(e)), t_text(x->pred.d_ns, g, sizeof(g)),
				 x->model);
			folded(f, indent + 5, "", line);
		} else {
			snprintf(line, sizeof(line), "model: %s", x->model);
			folded(f, indent + 5, "", line);
		}
		snprintf(line, sizeof(line), "libvirt: %s", x->a.libvirt);
		folded(f, indent + 5, "", line);
		snprintf(line, sizeof(line), "by hand: %s", x->a.qemu);
		folded(f, indent + 5, "", line);
	}
}

static json_t *side_json(const struct vs_place_side *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "tid", json_integer(s->tid));
	json_object_set_new(o, "comm", json_string(s->comm));
	json_object_set_new(o, "role", json_string(s->role));
	json_object_set_new(o, "known", json_boolean(s->known));
	json_object_set_new(o, "cpu", json_integer(s->cpu));
	json_object_set_new(o, "share", vs_json_num(s->known ? s->share : NAN));
	json_object_set_new(o, "cpus", json_string(s->cpus));
	json_object_set_new(o, "from", json_string(s->from));
	json_object_set_new(o, "node", json_integer(s->node));
	return o;
}

static json_t *pred_json(const struct vs_prediction *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "regime", json_string(vs_regime_name(p->regime)));
	json_object_set_new(o, "t_ns", vs_json_num(p->t_ns));
	json_object_set_new(o, "e_ns", vs_json_num(p->e_ns));
	json_object_set_new(o, "d_ns", vs_json_num(p->d_ns));
	return o;
}

json_t *vs_placement_json(const struct vs_placement *pl)
{
	json_t *o = json_object(), *notes = json_array(), *adv = json_array(), *modes;
	unsigned int i;

	if (!o || !notes || !adv) {
		json_decref(o);
		json_decref(notes);
		json_decref(adv);
		return NULL;
	}
	json_object_set_new(o, "known", json_boolean(pl->known));
	if (!pl->known)
		json_object_set_new(o, "why", json_string(pl->why));
	json_object_set_new(o, "producer", side_json(&pl->prod));
	json_object_set_new(o, "consumer", side_json(&pl->cons));
	json_object_set_new(o, "relation", json_string(pl->relation));
	json_object_set_new(o, "round_trip_ns", vs_json_num(pl->rt_ns));
	modes = pl->rt_unstable ? json_pack("[o,o]", vs_json_num(pl->rt_low_ns), vs_json_num(pl->rt_high_ns)) :
		json_null();
	json_object_set_new(o, "round_trip_modes_ns", modes);
	json_object_set_new(o, "memory_node", pl->mem_node >= 0 ? json_integer(pl->mem_node) :
			    json_null());
	json_object_set_new(o, "memory_share", vs_json_num(pl->mem_share));
	for (i = 0; i < pl->n_notes; i++)
		json_array_append_new(notes, json_string(pl->notes[i]));
	for (i = 0; i < pl->n_advice; i++) {
		const struct vs_place_advice *x = &pl->advice[i];
		json_t *a = json_object();

		json_object_set_new(a, "knob", json_string(x->a.knob));
		json_object_set_new(a, "pid", json_integer(x->a.pid));
		json_object_set_new(a, "tid", json_integer(x->a.tid));
		json_object_set_new(a, "irq", json_integer(x->a.irq));
		json_object_set_new(a, "role", json_string(x->a.role));
		json_object_set_new(a, "value", json_string(x->a.value));
		json_object_set_new(a, "current", json_string(x->a.current));
		json_object_set_new(a, "why", json_string(x->a.why));
		json_object_set_new(a, "qemu", json_string(x->a.qemu));
		json_object_set_new(a, "libvirt", json_string(x->a.libvirt));
		json_object_set_new(a, "model", json_string(x->model));
		if (x->have_pred)
			json_object_set_new(a, "predicted", json_pack("{s:o,s:o}",
					    "current", pred_json(&x->cur), "after", pred_json(&x->pred)));
		json_array_append_new(adv, a);
	}
	json_object_set_new(o, "notes", notes);
	json_object_set_new(o, "advice", adv);
	return o;
}
