/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_CLOCK_H
#define VS_CLOCK_H

/* CLOCK_MONOTONIC in nanoseconds: every window and deadline is timed on it
 * (it never jumps with the wall clock). */
double vs_mono_ns(void);

#endif
