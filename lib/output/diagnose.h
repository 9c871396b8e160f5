/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_OUTPUT_DIAGNOSE_H
#define VS_OUTPUT_DIAGNOSE_H

#include <stdio.h>

#include <jansson.h>

#include "diagnose/diagnose.h"
#include "output/print.h"

/*
 * The diagnosis as text (under 80 columns) and as JSON. The text comes in
 * two parts: the lines of each phase as it begins (call it from the
 * diagnosis' progress hook, so that a user sees what is being measured
 * while it is), and the findings after the window.
 */
void vs_diag_print_phase(FILE *f, enum vs_diag_phase phase, const struct vs_diagnosis *d);
void vs_diag_print(FILE *f, const struct vs_diagnosis *d);

/* Add the diagnosis' fields to doc (a tool puts "command" and the common
 * meta fields first). -ENOMEM. */
int vs_diag_json_fill(json_t *doc, const struct vs_diagnosis *d);

#endif
