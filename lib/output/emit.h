/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_OUTPUT_EMIT_H
#define VS_OUTPUT_EMIT_H

/*
 * One walk of a result struct, three outputs (iproute2's print_uint(PRINT_ANY,
 * key, fmt, value) is the model): the caller walks its struct once with
 * vs_emit_*() calls and the emitter, which holds the mode, turns each call
 * into a text line ("label: 1.5ms", lib/core/units.c's one formatter), a JSON
 * member (key: number, times in ns) or a Prometheus sample (prefix, the keys
 * of the enclosing objects and the key joined by '_'; times in seconds with
 * a _seconds suffix, as the exposition conventions ask). A field written
 * once therefore appears in all three or in none.
 *
 * Strings are text lines and JSON members; in Prometheus they become a label
 * on every sample of the object they are written in (and its children), so
 * "vm": "web1" names the series instead of being lost. Prometheus samples are
 * collected and written by vs_emit_finish() grouped by family, because the
 * exposition format wants a family's samples contiguous while a walk over
 * several VMs meets each family once per VM.
 *
 * Nothing is written to stdout on its own: text goes to the FILE* given, JSON
 * and Prometheus documents to it at vs_emit_finish(). Errors stick (the first
 * -errno is kept and later calls do nothing) and are returned by finish.
 */

#include <stdint.h>
#include <stdio.h>

enum vs_emit_mode {
	VS_EMIT_TEXT,
	VS_EMIT_JSON,
	VS_EMIT_PROM,
};

struct vs_emitter;

/* prom_prefix: the metric name prefix ("virtsync_stat"), used in PROM mode. */
struct vs_emitter *vs_emit_new(enum vs_emit_mode mode, FILE *out,
			       const char *prom_prefix);
/* Write the JSON or Prometheus document (nothing more for text), free. The
 * first error of the walk or of writing, -errno; NULL returns 0. */
int vs_emit_finish(struct vs_emitter *e);
enum vs_emit_mode vs_emit_mode(const struct vs_emitter *e);

/* An object (key NULL inside an array) and an array; text prints "label:"
 * and indents what follows. Close pairs with the last open. */
void vs_emit_open(struct vs_emitter *e, const char *key, const char *label);
void vs_emit_open_array(struct vs_emitter *e, const char *key, const char *label);
void vs_emit_close(struct vs_emitter *e);

/* A time in nanoseconds (NaN: not measured, "-" / null / NaN). */
void vs_emit_ns(struct vs_emitter *e, const char *key, const char *label, double ns);
/* A count that only grows (Prometheus counter: key must end in _total). */
void vs_emit_counter(struct vs_emitter *e, const char *key, const char *label,
		     uint64_t v);
/* A plain integer (gauge). */
void vs_emit_u64(struct vs_emitter *e, const char *key, const char *label, uint64_t v);
/* Events per second ("12.35k/s"). */
void vs_emit_rate(struct vs_emitter *e, const char *key, const char *label,
		  double per_s);
/* A fraction in [0, 1]: text "42.0%", JSON and Prometheus the fraction. */
void vs_emit_ratio(struct vs_emitter *e, const char *key, const char *label,
		   double r);
void vs_emit_str(struct vs_emitter *e, const char *key, const char *label,
		 const char *s);

/* First error so far, 0 when none. */
int vs_emit_error(const struct vs_emitter *e);

#endif
