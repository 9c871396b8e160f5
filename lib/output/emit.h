/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_OUTPUT_EMIT_H
#define VS_OUTPUT_EMIT_H

/*
 * One walk of a result struct, three outputs (iproute2's print_uint(PRINT_ANY,
 * key, fmt, value) is the model): the caller walks its struct once with
 * vs_emit_*() calls and the emitter, which holds the mode, turns each call
 * into a text line ("label: 1.5ms", lib/core/units.c's one formatter), a JSON
 * member (key: value in the key's unit) or a Prometheus sample. A field
 * written once therefore appears in all three or in none.
 *
 * Prometheus names are the prefix, the keys of the enclosing objects and the
 * key joined by '_', in base units as the exposition conventions ask: the
 * JSON key's unit tag gives way to the Prometheus one ("mean_ns" ->
 * "mean_seconds", "per_s" -> "per_second", "_pct" -> "_ratio" and the value
 * divided by 100, an object key's "_ns" is dropped), a counter ends in
 * "_total". The key of a series array (vs_emit_open_series(): the VMs) is
 * left out, its elements being told apart by their labels; the members of a
 * map (vs_emit_open_map()) are one family, the member's key a label.
 *
 * Strings and ids are text lines and JSON members; in Prometheus they become
 * a label on every sample written after them in their object (and its
 * children), so "vm": "web1" names the series instead of being lost.
 * Prometheus samples are collected and written by vs_emit_finish() grouped
 * by family, because the exposition format wants a family's samples
 * contiguous while a walk over several VMs meets each family once per VM.
 *
 * Nothing is written to stdout on its own: text goes to the FILE* given, JSON
 * and Prometheus documents to it at vs_emit_finish() (or JSON into the
 * caller's object, vs_emit_new_json()). Errors stick (the first -errno is
 * kept and later calls do nothing) and are returned by finish.
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
/* JSON mode, the members going into the caller's object `into` (which
 * keeps its reference; finish writes nothing), so that the caller can add
 * its envelope and print the document its own way. */
struct json_t;
struct vs_emitter *vs_emit_new_json(struct json_t *into);
/* PROM mode, the families written at finish into the caller's document
 * (after what it holds: several walks make one scrape). */
struct vs_prom;
struct vs_emitter *vs_emit_new_prom(struct vs_prom *into, const char *prom_prefix);

/* An object (key NULL inside an array) and an array; text prints "label:"
 * and indents what follows. Close pairs with the last open. */
void vs_emit_open(struct vs_emitter *e, const char *key, const char *label);
void vs_emit_open_array(struct vs_emitter *e, const char *key, const char *label);
/* An array of the walk's subjects (VMs): its key is not part of the
 * Prometheus names, the elements' labels (pid, name) tell them apart. */
void vs_emit_open_series(struct vs_emitter *e, const char *key, const char *label);
/* An object whose member keys are values of one dimension (exit reasons,
 * counter names): in Prometheus one family named by `key`, each member a
 * sample labelled label_name="member key". */
void vs_emit_open_map(struct vs_emitter *e, const char *key, const char *label,
		      const char *label_name);
void vs_emit_close(struct vs_emitter *e);

/* A time in nanoseconds (NaN: not measured, "-" / null / NaN). Text
 * prints what lib/core/units.c parses back. */
void vs_emit_ns(struct vs_emitter *e, const char *key, const char *label, double ns);
/* The same from an integer, which JSON keeps an integer (a knob's ns). */
void vs_emit_ns_int(struct vs_emitter *e, const char *key, const char *label,
		    uint64_t ns);
/* A time in seconds (key ends in _s in JSON). */
void vs_emit_seconds(struct vs_emitter *e, const char *key, const char *label,
		     double s);
/* A count that only grows (Prometheus counter, _total added if missing). */
void vs_emit_counter(struct vs_emitter *e, const char *key, const char *label,
		     uint64_t v);
/* Nanoseconds that only grow (time spent polling): a JSON integer, a
 * Prometheus counter in seconds ("poll_ns" -> "poll_seconds_total"). */
void vs_emit_ns_counter(struct vs_emitter *e, const char *key, const char *label,
			uint64_t ns);
/* A plain integer (gauge). */
void vs_emit_u64(struct vs_emitter *e, const char *key, const char *label, uint64_t v);
/* Events per second ("12.35k/s"). */
void vs_emit_rate(struct vs_emitter *e, const char *key, const char *label,
		  double per_s);
/* A fraction in [0, 1]: text "42.0%", JSON and Prometheus the fraction. */
void vs_emit_ratio(struct vs_emitter *e, const char *key, const char *label,
		   double r);
/* Any other number (a knob's value): a Prometheus gauge. */
void vs_emit_num(struct vs_emitter *e, const char *key, const char *label, double v);
/* A percentage (0..100, key ends in _pct): Prometheus takes the ratio. */
void vs_emit_pct(struct vs_emitter *e, const char *key, const char *label,
		 double pct);
/* true/false: text yes/no, JSON boolean, Prometheus 1/0. */
void vs_emit_bool(struct vs_emitter *e, const char *key, const char *label, int b);
void vs_emit_str(struct vs_emitter *e, const char *key, const char *label,
		 const char *s);
/* An identifier (pid, tid): a JSON integer, a Prometheus label. */
void vs_emit_id(struct vs_emitter *e, const char *key, const char *label,
		long long id);
/*
 * A log2 histogram of nanoseconds: slot i counts values in [2^(i-1), 2^i)
 * (slot 0: [0, 1)), the last slot everything above. JSON keeps stat's shape
 * {"unit": "nsecs", "buckets": [{"low", "high", "count"}]} with the
 * non-empty slots (high null for the last, open one); Prometheus a histogram family in seconds (_bucket{le}
 * cumulative up to +Inf, _sum where sum_ns is finite, _count); text one line
 * per non-empty slot.
 */
void vs_emit_hist(struct vs_emitter *e, const char *key, const char *label,
		  const uint64_t *slot, unsigned int n, double sum_ns);

/* First error so far, 0 when none. */
int vs_emit_error(const struct vs_emitter *e);

#endif
