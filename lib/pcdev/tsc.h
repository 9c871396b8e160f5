/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_TSC_H
#define VS_PCDEV_TSC_H

/*
 * TSC time base of the reference device. Item stamps, emulated work (Wp, Wc)
 * and every measured interval use the TSC: it is cheap to read (about 10 ns
 * here, no syscall), constant-rate and consistent across CPUs (constant_tsc,
 * nonstop_tsc). The frequency is calibrated once against CLOCK_MONOTONIC.
 */

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t vs_rdtsc(void)
{
	return __rdtsc();
}

static inline void vs_cpu_relax(void)
{
	_mm_pause();
}
#else
#error "the reference device needs an x86 TSC"
#endif

/* Ticks per nanosecond, calibrated on first use (thread-safe, ~20 ms). */
double vs_tsc_per_ns(void);

static inline uint64_t vs_ns_to_tsc(double ns)
{
	return ns <= 0 ? 0 : (uint64_t)(ns * vs_tsc_per_ns() + 0.5);
}

static inline double vs_tsc_to_ns(uint64_t ticks)
{
	return (double)ticks / vs_tsc_per_ns();
}

/* Busy wait with PAUSE until the TSC reaches `deadline`; returns the TSC
 * read last, which the caller may use as "now". */
static inline uint64_t vs_tsc_spin_until(uint64_t deadline)
{
	uint64_t now;

	while ((now = vs_rdtsc()) < deadline)
		vs_cpu_relax();
	return now;
}

#endif
