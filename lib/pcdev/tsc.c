// SPDX-License-Identifier: GPL-2.0-only
/* One-time TSC calibration against CLOCK_MONOTONIC. */
#include <pthread.h>
#include <time.h>

#include "pcdev/tsc.h"

static double tsc_per_ns;
static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;

static double mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * Spin 20 ms and keep the best of three: a preemption between the paired
 * reads (likely on a shared machine) only inflates one sample's clock
 * interval, so the median ratio is the robust choice.
 */
static void tsc_calibrate(void)
{
	double ratio[3], t0, t1, tmp;
	uint64_t c0, c1;
	int i, j;

	for (i = 0; i < 3; i++) {
		t0 = mono_ns();
		c0 = vs_rdtsc();
		do {
			t1 = mono_ns();
		} while (t1 - t0 < 20e6);
		c1 = vs_rdtsc();
		ratio[i] = (double)(c1 - c0) / (t1 - t0);
	}
	for (i = 0; i < 3; i++)
		for (j = i + 1; j < 3; j++)
			if (ratio[j] < ratio[i]) {
				tmp = ratio[i];
				ratio[i] = ratio[j];
				ratio[j] = tmp;
			}
	tsc_per_ns = ratio[1];
}

double vs_tsc_per_ns(void)
{
	pthread_once(&tsc_once, tsc_calibrate);
	return tsc_per_ns;
}
