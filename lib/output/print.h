/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_OUTPUT_PRINT_H
#define VS_OUTPUT_PRINT_H

#include <stddef.h>
#include <stdio.h>

/* The width of a line of text output, under a terminal's 80 columns. */
#define VS_PRINT_WIDTH 78

/* Word-wrapped at VS_PRINT_WIDTH: the first line at indent, the rest at
 * indent + hang (under the text of a labelled line). */
void vs_print_hanging(FILE *f, int indent, int hang, const char *text);

/*
 * Text in a column `width` characters wide, the one way every table cuts:
 * s itself when it fits, else its first width - 1 characters and an
 * ellipsis (U+2026), so that a cut name reads as cut (printf's "%.20s"
 * cut silently). A character is a UTF-8 code point; a multibyte one is
 * never split. vs_fit() also pads with spaces to exactly width, which
 * printf's "%-20s" cannot do for UTF-8 (it counts bytes); vs_cut() does not
 * pad (the last column of a line). A buf of 4 * width + 4 bytes always
 * suffices; a smaller one gets a shorter result, never an overrun.
 * Both return buf ("" for a NULL s).
 */
const char *vs_fit(const char *s, size_t width, char *buf, size_t len);
const char *vs_cut(const char *s, size_t width, char *buf, size_t len);

#endif
