// SPDX-License-Identifier: GPL-2.0-only
#include <time.h>

#include "core/clock.h"

double vs_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}
