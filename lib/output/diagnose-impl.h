/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_OUTPUT_DIAGNOSE_IMPL_H
#define VS_OUTPUT_DIAGNOSE_IMPL_H

#include <stdio.h>

#include <jansson.h>

#include "diagnose/diagnose.h"

/* Inside output/diagnose: one queue's result, and a plan's advice and
 * warnings (a queue's and the guest's), for diagnose.c's walk of the run. */
json_t *vs_diag_queue_json(const struct vs_diag_queue *q);
void vs_diag_queue_print(FILE *f, const struct vs_diag_queue *q);
json_t *vs_diag_advice_json(const struct vs_plan *pl);
json_t *vs_diag_warnings_json(const struct vs_plan *pl);

#endif
