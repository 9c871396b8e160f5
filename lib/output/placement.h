/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_OUTPUT_PLACEMENT_H
#define VS_OUTPUT_PLACEMENT_H

/*
 * The placement audit of a queue (analyze/placement.h) as text (under 80
 * columns, long lines folded under their start) and as JSON, from one walk
 * each: what the diagnosis prints and saves.
 */

#include <stdio.h>

#include <jansson.h>

#include "analyze/placement.h"

/* Text, each line starting with `indent` spaces. */
void vs_placement_print(FILE *f, const struct vs_placement *pl, int indent);

/* {"known", "why", "producer", "consumer", "relation", "round_trip_ns",
 * "round_trip_modes_ns", "memory_node", "memory_share", "notes",
 * "advice": [{"knob", "pid", "tid", "irq", "role", "value", "current",
 * "why", "qemu", "libvirt", "model", "predicted": {"current", "after"}}]};
 * NULL on allocation failure. */
json_t *vs_placement_json(const struct vs_placement *pl);

#endif
