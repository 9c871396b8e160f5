/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_REPORT_H
#define VS_REPORT_H

/*
 * One report from the saved JSON of several virtsync runs (diagnose, bench,
 * validate, model, sim, sleepcost, idlelat, stat, tune, topo), possibly from
 * several hosts: a self-contained HTML page with inline SVG, Markdown, or
 * a JSON summary.
 */

#include <stdio.h>
#include <jansson.h>

enum vs_report_format {
	VS_REPORT_HTML,
	VS_REPORT_MD,
	VS_REPORT_JSON,
};

struct vs_report;

struct vs_report *vs_report_new(void);
void vs_report_free(struct vs_report *r);

/*
 * Add one input document (a new reference is taken). `name` is shown as
 * its source. -EINVAL if it is not a virtsync document (no "tool" member
 * equal to "virtsync", and no shape that a virtsync command produces).
 */
int vs_report_add(struct vs_report *r, const char *name, json_t *doc);

/* The kind an input was recognised as ("model", "sweep", "bench", ...). */
const char *vs_report_kind(const json_t *doc);

int vs_report_write(const struct vs_report *r, enum vs_report_format fmt,
		    FILE *out);

#endif
