// SPDX-License-Identifier: GPL-2.0-only
/* Request/response loop or pipeline: see loopkind.h. */
#include <math.h>
#include <stdio.h>

#include "analyze/loopkind.h"

double vs_loop_items_per_wait(const struct vs_sample *s)
{
	double waits;

	if (!s || !s->prod.present || !(s->items_per_s > 0))
		return NAN;
	waits = s->prod.waits_per_s;
	/* Under KVM, halt polling can end a halt before the vCPU thread
	 * switches out: the halts are the guest's own waits. */
	if (isfinite(s->halts_per_s) && (!isfinite(waits) || s->halts_per_s > waits))
		waits = s->halts_per_s;
	if (!isfinite(waits) || waits < 0)
		return NAN;
	return waits > 0 ? s->items_per_s / waits : INFINITY;
}

bool vs_loop_is_rr(const struct vs_sample *s, double inflight, char *why, size_t len)
{
	double per_wait = vs_loop_items_per_wait(s);
	char buf[8];

	if (!why || !len) {
		why = buf;
		len = sizeof(buf);
	}
	if (isfinite(inflight) && inflight >= VS_LOOP_DEEP_INFLIGHT) {
		snprintf(why, len, "%.1f in flight", inflight);
		return false;
	}
	if (per_wait >= VS_LOOP_DEPTH_PER_WAIT) {
		if (isinf(per_wait))
			snprintf(why, len, "the producer never waited");
		else
			snprintf(why, len, "%.1f items per producer wait", per_wait);
		return false;
	}
	if (isfinite(per_wait))
		snprintf(why, len, "%.1f items per producer wait", per_wait);
	else
		snprintf(why, len, "producer's waits unknown");
	return true;
}
