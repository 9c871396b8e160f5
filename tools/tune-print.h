/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TOOLS_TUNE_PRINT_H
#define VS_TOOLS_TUNE_PRINT_H

#include <jansson.h>

#include "tune/apply.h"

/* The diff of a resolved profile: "KNOB TARGET OLD -> NEW" per action. */
void tune_print_changes(const struct vs_change *a, size_t n);
json_t *tune_changes_json(const struct vs_change *a, size_t n);
/* Word-wrapped at 78 columns, indented. */
void tune_print_wrapped(int indent, const char *text);
/* One line for a failed lock, the usual way. */
void tune_lock_error(int err, int holder);
#endif
