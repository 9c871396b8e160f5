/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_UNITS_H
#define VS_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a time: "300ns", "2us", "1.5ms", "1s" or a plain number of
 * nanoseconds. Negative, empty, non-finite, whitespace or unknown units
 * return -EINVAL; values above 1e15 ns (~11.6 days) return -ERANGE.
 */
int vs_parse_time_ns(const char *text, double *ns);

/* Unsigned integer in [min, max], decimal or 0x-hex, nothing trailing. */
int vs_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* Finite double in [min, max], nothing trailing. */
int vs_parse_double(const char *text, double min, double max, double *out);

/* "1.50us"-style rendering with the unit chosen by magnitude. */
const char *vs_format_time(double ns, char *buf, size_t len);

#endif
