/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_LOOPKIND_H
#define VS_LOOPKIND_H

/*
 * Is a queue a request/response loop (one request at a time, the producer
 * waiting for each response, the consumer's wake-up on every item's path)
 * or a pipeline (the producer keeps other requests going while one is
 * served)? The consumer's poll budget is picked by a different model in
 * each case (lib/model/pick.h: struct vs_rr, or the pipeline's params).
 *
 * The consumer's waits per item cannot tell them apart: a deep guest queue
 * whose device serves every request before the next one arrives (QD16
 * under TCG on the test guest) has 1.0 of them, like QD1. Neither can
 * QEMU's mean inuse: sampled through QMP in the main loop it reads 0 there.
 * What does is the producer: a request/response producer has nothing to
 * do until its response comes, so it waits (a vCPU halts) about once per
 * item; a producer with more requests in flight moves several items per
 * wait.
 */

#include <stdbool.h>
#include <stddef.h>

#include "sources/measure.h"

/*
 * Items the producer moves per wait beyond which the loop is not
 * request/response: on the items it did not wait for, the consumer's
 * wake-up was hidden behind the producer's own work, and polling cannot
 * shorten those; once that is most of them the pipeline's model, which
 * hides it, is the closer one. Measured on the test guest under TCG at
 * load 11-12 (2026-12-03): QD16 3.8 items per vCPU wait; QD1 1.6 and, in
 * another window, 5.2 (there the responses came before the vCPU halted,
 * and no window helped QD1 at that load either: docs/real-guests.md).
 */
#define VS_LOOP_DEPTH_PER_WAIT 2.0

/* A mean in-flight count (QMP inuse) at or above which the queue is deep. */
#define VS_LOOP_DEEP_INFLIGHT 1.5

/*
 * true for a request/response loop. s: the window (NULL unknown);
 * inflight: the mean in-flight count, NaN unknown. The evidence, with its
 * figures, goes to why (may be NULL). Unknown evidence does not make a
 * queue deep: without it the loop is assumed, as the consumer's waits
 * suggest.
 */
bool vs_loop_is_rr(const struct vs_sample *s, double inflight, char *why, size_t len);

/*
 * Items the producer moved per wait over the window (its voluntary
 * switches, or a KVM vCPU's halts where the probes count them: a halt
 * that host halt polling ends without a switch is still a wait), NaN
 * where neither is known.
 */
double vs_loop_items_per_wait(const struct vs_sample *s);

#endif
