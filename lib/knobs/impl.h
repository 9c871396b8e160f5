/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_KNOBS_IMPL_H
#define VS_KNOBS_IMPL_H

/* Helpers for the knob implementations in lib/knobs/ only. */
#include <stdio.h>

#include "knobs/knobs.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* Is the file writable at all? Root passes access(W_OK) on a 0444 file, so
 * look at the mode bits the kernel exposes for read-only parameters. */
int knob_file_writable(const char *path);

/* Unsigned decimal value in [min, max] into canon. */
int knob_canon_u64(const char *val, uint64_t min, uint64_t max, char *canon,
		   size_t len, char *why, size_t whylen);

/* Validate a u64 value for a file knob whose path is known. */
int knob_validate_file_u64(const char *path, const char *val, uint64_t min,
			   uint64_t max, char *canon, size_t len, char *why,
			   size_t whylen);

int knob_cpu_inst(const char *inst, unsigned int *cpu);

#endif
