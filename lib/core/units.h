/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_UNITS_H
#define VS_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Times, one vocabulary for every command (virtsync(8), TIMES): a number
 * with one of the units ns, us, ms, s, m (or min), h: "300ns", "2us",
 * "1.5ms", "1s", "2m", "1h". Only 0 may stand without a unit.
 * vs_parse_time_ns() returns -EDOM for a unit-less number other than 0
 * (the caller says which unit was probably meant), -EINVAL for text that
 * is no time (negative, empty, blanks, signs, exponents, unknown units),
 * -ERANGE above VS_TIME_MAX_NS.
 */
#define VS_TIME_MAX_NS 1e15	/* about 277h */
int vs_parse_time_ns(const char *text, double *ns);

/* Unsigned integer in [min, max], decimal or 0x-hex, nothing trailing. */
int vs_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* Finite double in [min, max], nothing trailing. */
int vs_parse_double(const char *text, double min, double max, double *out);

/*
 * The one time and rate formatter of every output (tools and lib/output):
 * four significant digits, trailing zeros dropped, the unit chosen by
 * magnitude, so that what is printed parses back as a time: "300ns",
 * "2.001us", "1.5ms", "12.35s", "1.5m", "2h". NaN prints "-", an infinite
 * time "inf". VS_FMT_LEN bytes always suffice.
 */
#define VS_FMT_LEN 24
const char *vs_format_time(double ns, char *buf, size_t len);
/* vs_format_time() into a buffer of its own (a compound literal, alive to
 * the end of the enclosing block), so that one printf can show several
 * times: printf("T %s -> %s", VS_TIME(t0), VS_TIME(t1)). */
#define VS_TIME(ns) vs_format_time((ns), (char[VS_FMT_LEN]){ 0 }, VS_FMT_LEN)
/* Events per second: "950/s", "12.35k/s", "1.234M/s", "2.5G/s". */
const char *vs_format_rate(double per_s, char *buf, size_t len);
/* The same number without "/s", for columns whose header names the unit. */
const char *vs_format_count(double v, char *buf, size_t len);

#endif
