/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_OUTPUT_BENCH_H
#define VS_OUTPUT_BENCH_H

#include <stdbool.h>

#include <jansson.h>

#include "model/model.h"
#include "pcdev/pcdev.h"

/*
 * A reference-device run as JSON: its configuration, what it measured and
 * the model's prediction from those measurements. The one form of `virtsync
 * bench --json` (the tool adds the common meta fields) and of diagnose's
 * "ground_truth". dmax_ns NaN: none; stopped: ended by a signal or its
 * owner before its run length. A new reference, NULL when out of memory.
 */
json_t *vs_bench_json(const struct pcdev_config *cfg, const struct pcdev_results *r,
		      const struct vs_prediction *model, double dmax_ns, bool stopped);

#endif
