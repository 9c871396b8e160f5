/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_OUTPUT_HOSTPOLL_H
#define VS_OUTPUT_HOSTPOLL_H

#include <stdio.h>

#include <jansson.h>

#include "analyze/hostpoll.h"
#include "diagnose/diagnose.h"
#include "output/svg.h"

/*
 * diagnose's host section (analyze/hostpoll.h): shared polling cores for
 * every queue measured. From a diagnosis: the plan, its text (nothing
 * with fewer than two queues) and its JSON ("host_polling"); from that
 * JSON, the report's summary line and its two charts against S (CPUs, and
 * the worst p98 with Dmax).
 */
int vs_hostpoll_from_diag(const struct vs_diagnosis *d, struct vs_hostpoll *hp);
void vs_hostpoll_print(FILE *f, const struct vs_diagnosis *d);
json_t *vs_hostpoll_json(const struct vs_diagnosis *d);	/* NULL: none */
void vs_hostpoll_summary(const json_t *hp, char *buf, size_t len);
/* *cpu and *p98 new charts (or NULL). */
void vs_hostpoll_charts(const json_t *hp, struct vs_chart **cpu,
			struct vs_chart **p98);

#endif
