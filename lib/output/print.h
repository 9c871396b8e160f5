/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_OUTPUT_PRINT_H
#define VS_OUTPUT_PRINT_H

#include <stdio.h>

/* Word-wrapped at 78 columns: the first line at indent, the rest at
 * indent + hang (under the text of a labelled line). */
void vs_print_hanging(FILE *f, int indent, int hang, const char *text);

#endif
