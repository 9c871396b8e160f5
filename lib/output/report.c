// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output/report-impl.h"

#define MAX_INPUTS 256

struct input {
	char *name;
	json_t *doc;
	const char *kind;
	const char *host;
};

struct vs_report {
	struct input in[MAX_INPUTS];
	unsigned int n;
};

const char *vs_report_kind(const json_t *doc)
{
	const char *cmd = json_string_value(json_object_get(doc, "command"));

	if (json_object_get(doc, "sweep"))
		return "sweep";
	if (cmd)
		return cmd;
	/* Documents saved before "command" existed: tell them by shape. */
	if (json_object_get(doc, "mechanisms"))
		return "model";
	if (json_object_get(doc, "throughput_ops"))
		return "bench";
	return NULL;
}

struct vs_report *vs_report_new(void)
{
	return calloc(1, sizeof(struct vs_report));
}

void vs_report_free(struct vs_report *r)
{
	unsigned int i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->in[i].name);
		json_decref(r->in[i].doc);
	}
	free(r);
}

int vs_report_add(struct vs_report *r, const char *name, json_t *doc)
{
	const char *tool = json_string_value(json_object_get(doc, "tool"));
	const char *kind;

	if (!json_is_object(doc))
		return -EINVAL;
	/* a plan file of diagnose --save before runs were saved whole: its
	 * evidence is the run */
	if (json_is_object(json_object_get(doc, "evidence")) &&
	    !strcmp(str_or(doc, "format", ""), "virtsync-plan")) {
		doc = json_object_get(doc, "evidence");
		tool = json_string_value(json_object_get(doc, "tool"));
	}
	kind = vs_report_kind(doc);
	if ((tool && strcmp(tool, "virtsync")) || !kind)
		return -EINVAL;
	if (r->n >= MAX_INPUTS)
		return -ENOSPC;
	r->in[r->n].name = strdup(name);
	if (!r->in[r->n].name)
		return -ENOMEM;
	r->in[r->n].doc = json_incref(doc);
	r->in[r->n].kind = kind;
	r->in[r->n].host = str_or(doc, "host", "(unnamed host)");
	r->n++;
	return 0;
}

static void render_generic(struct out *o, const json_t *doc)
{
	rpt_kv_table(o, doc);
}

static const struct {
	const char *kind;
	const char *title;
	void (*render)(struct out *o, const json_t *doc);
} renderers[] = {
	{ "model", "Model", rpt_model },
	{ "sweep", "Sweep", rpt_sweep },
	{ "sleepcost", "Sleep cost", rpt_sleepcost },
	{ "idlelat", "Idle-state latency", rpt_idlelat },
	{ "bench", "Reference device", rpt_bench },
	{ "validate", "Validation", rpt_validate },
	{ "sim", "Simulation", rpt_sim },
	{ "diagnose", "Diagnosis", rpt_diagnose },
	{ "tune", "Tuning", rpt_tune },
	{ "topo", "Topology", rpt_topo },
};

static void render_input(struct out *o, const struct input *in)
{
	size_t i;

	if (o->fmt == VS_REPORT_HTML)
		fprintf(o->f, "<section class=\"input\" data-kind=\"%s\">\n", in->kind);
	rpt_heading(o, 3, in->name);
	{
		char line[512];

		snprintf(line, sizeof(line), "%s run, %s, kernel %s: %s", in->kind,
			 str_or(in->doc, "time", "time unknown"),
			 str_or(in->doc, "kernel", "?"), str_or(in->doc, "cmdline", ""));
		rpt_para(o, line);
	}
	for (i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++)
		if (!strcmp(renderers[i].kind, in->kind)) {
			renderers[i].render(o, in->doc);
			break;
		}
	if (i == sizeof(renderers) / sizeof(renderers[0]))
		render_generic(o, in->doc);
	if (o->fmt == VS_REPORT_HTML)
		fputs("</section>\n", o->f);
}

static const char css[] =
	"body{font-family:sans-serif;max-width:60em;margin:1em auto;color:#222}"
	"table{border-collapse:collapse;margin:.5em 0}"
	"td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
	"th{background:#f3f3f3}section.host{border-top:2px solid #0072B2;margin-top:2em}"
	"figure{margin:.5em 0}";

static int write_json(const struct vs_report *r, FILE *f)
{
	json_t *root = json_object(), *inputs = json_array();
	unsigned int i;
	int err;

	for (i = 0; i < r->n; i++)
		json_array_append_new(inputs, json_pack("{s:s,s:s,s:s,s:O}", "source", r->in[i].name,
							 "kind", r->in[i].kind, "host", r->in[i].host,
							 "data", r->in[i].doc));
	json_object_set_new(root, "report", json_string("virtsync"));
	json_object_set_new(root, "inputs", inputs);
	err = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	fputc('\n', f);
	return err ? -EIO : 0;
}

int vs_report_write(const struct vs_report *r, enum vs_report_format fmt, FILE *f)
{
	struct out o = { f, fmt };
	const char *hosts[MAX_INPUTS];
	unsigned int nh = 0, i, j;

	if (fmt == VS_REPORT_JSON)
		return write_json(r, f);
	for (i = 0; i < r->n; i++) {
		for (j = 0; j < nh && strcmp(hosts[j], r->in[i].host); j++)
			;
		if (j == nh)
			hosts[nh++] = r->in[i].host;
	}
	if (fmt == VS_REPORT_HTML)
		fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			"<title>virtsync report</title><style>%s</style></head><body>\n", css);
	rpt_heading(&o, 1, "virtsync report");
	{
		static const char *const cols[] = { "host", "inputs", "kinds" };

		rpt_table_begin(&o, cols, 3);
		for (j = 0; j < nh; j++) {
			char count[16], kinds[256] = "";
			unsigned int c = 0;

			for (i = 0; i < r->n; i++)
				if (!strcmp(r->in[i].host, hosts[j])) {
					c++;
					if (!strstr(kinds, r->in[i].kind) &&
					    strlen(kinds) + strlen(r->in[i].kind) + 3 < sizeof(kinds)) {
						if (*kinds)
							strcat(kinds, ", ");
						strcat(kinds, r->in[i].kind);
					}
				}
			snprintf(count, sizeof(count), "%u", c);
			rpt_table_row(&o, (const char *[]){ hosts[j], count, kinds }, 3);
		}
		rpt_table_end(&o);
	}
	for (j = 0; j < nh; j++) {
		if (fmt == VS_REPORT_HTML)
			fputs("<section class=\"host\">\n", f);
		rpt_heading(&o, 2, hosts[j]);
		for (i = 0; i < r->n; i++)
			if (!strcmp(r->in[i].host, hosts[j]))
				render_input(&o, &r->in[i]);
		if (fmt == VS_REPORT_HTML)
			fputs("</section>\n", f);
	}
	if (fmt == VS_REPORT_HTML)
		fputs("</body></html>\n", f);
	return ferror(f) ? -EIO : 0;
}
