/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PROM_H
#define VS_PROM_H

/*
 * Prometheus text exposition (format 0.0.4), built in memory:
 *
 *	struct vs_prom *p = vs_prom_new();
 *	vs_prom_family(p, "virtsync_kicks_total", VS_PROM_COUNTER, "...");
 *	vs_prom_sample(p, labels, n, 4242);
 *	err = vs_prom_error(p);			// first error, or 0
 *	text = vs_prom_text(p, &len);
 *	vs_prom_free(p);
 *
 * The writer enforces what the format and Prometheus' naming conventions
 * require, so a caller cannot produce a document a scraper rejects:
 * metric and label names match [a-zA-Z_:][a-zA-Z0-9_:]* (labels without
 * ':' and not starting "__"), a counter's name ends in _total, every family
 * has HELP and TYPE and its samples are contiguous (a second family of the
 * same name is refused), label values escape \, " and newline, HELP text
 * escapes \ and newline, values are NaN, +Inf, -Inf or a number with 17
 * significant digits. The first error sticks: later calls do nothing.
 */

#include <stddef.h>

/* What a scrape's Content-Type says for this format. */
#define VS_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum vs_prom_type {
	VS_PROM_COUNTER,
	VS_PROM_GAUGE,
	VS_PROM_UNTYPED,
	VS_PROM_SUMMARY,	/* quantile samples, then _sum and _count */
	VS_PROM_HISTOGRAM,	/* _bucket{le} samples, _sum and _count */
};

struct vs_prom_label {
	const char *name;
	const char *value;
};

struct vs_prom;

struct vs_prom *vs_prom_new(void);
void vs_prom_free(struct vs_prom *p);	/* NULL does nothing */
/* Forget the text and the families written, keep the memory. */
void vs_prom_reset(struct vs_prom *p);

/* Start a family (HELP and TYPE lines). -EINVAL for a bad name, a counter
 * without _total or an empty help; -EEXIST for a family already written. */
int vs_prom_family(struct vs_prom *p, const char *name, enum vs_prom_type type,
		   const char *help);
/* One sample of the current family, with n labels (n may be 0). -EINVAL
 * for a bad label name, a duplicate label name, or no family started. */
int vs_prom_sample(struct vs_prom *p, const struct vs_prom_label *labels,
		   unsigned int n, double value);

/* A summary's NAME_sum or NAME_count sample (suffix "_sum", "_count"), or
 * a histogram's, which also has NAME_bucket (its le label the caller's). */
int vs_prom_sample_suffix(struct vs_prom *p, const char *suffix,
			  const struct vs_prom_label *labels, unsigned int n,
			  double value);

/* First error of any call (-errno), 0 when none. */
int vs_prom_error(const struct vs_prom *p);
/* The document so far, NUL-terminated; *len without the NUL. */
const char *vs_prom_text(const struct vs_prom *p, size_t *len);

/*
 * `virtsync watch`'s families (lib/tune/watch.h): per queue (labels vm,
 * pid, device, queue) its windows, regime as an info series, confidence,
 * rates, threads' CPU and waits, T/E/D measured and predicted, knobs in
 * force and recommended, and the tuner's state and events.
 */
struct vs_watch;
struct vs_httpd_stats;
struct vs_emitter;
/* The walks behind them, through the emitter (output/emit.h). */
int vs_emit_watch(struct vs_emitter *e, const struct vs_watch *w, double window_s,
		  const char *version);
int vs_emit_httpd(struct vs_emitter *e, const struct vs_httpd_stats *st);
int vs_prom_watch(struct vs_prom *p, const struct vs_watch *w, double window_s,
		  const char *version);
/* The metrics server's own counts (lib/output/httpd.h). */
int vs_prom_httpd(struct vs_prom *p, const struct vs_httpd_stats *st);

/* Name checks, exposed for tests. */
int vs_prom_metric_name_ok(const char *name);
int vs_prom_label_name_ok(const char *name);

#endif
