/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_ANALYZE_RECOMMEND_IMPL_H
#define VS_ANALYZE_RECOMMEND_IMPL_H

/*
 * Shared by recommend.c (the regimes' strategies) and recommend-halt.c
 * (halt polling, the guest's own advice); nothing else includes it.
 */

#include <string.h>
#include <sys/types.h>

#include "analyze/recommend.h"

/* T within 1 % of the best any budget gives is the objective reached;
 * a budget in force within 5 % of the pick's CPU per item is right. */
#define POLL_T_SLACK 0.01
#define POLL_E_SLACK 0.05
/* The waits the equal-split pick covers are means of a window; the pick
 * is the foot of a step, so it is set this much above it to catch the
 * longer ones. A pick from the waits' own lengths needs none. */
#define POLL_MARGIN 1.25

/* A warning on the plan (dropped past VS_MAX_WARNINGS). */
void vs_reco_warn(struct vs_plan *plan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A knob change with its reason; past VS_MAX_ACTIONS a scratch advice that
 * no plan holds, so that callers need not check. */
struct vs_advice *vs_reco_action(struct vs_plan *plan, const char *knob,
				 pid_t pid, const char *role, enum vs_applies applies,
				 const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* KVM halt polling for the VM's vCPUs, picked with the hybrid model on
 * the producer's side (sized to wait_ns where the model cannot). */
void vs_reco_vcpu_halt_poll(const struct vs_verdict *v, const struct vs_reco_env *env,
			    struct vs_plan *plan, double wait_ns, const char *why);

static inline bool is_pcdev(const struct vs_reco_env *env)
{
	return env->vm && env->vm->kind == VS_VM_PCDEV;
}

static inline bool is_qemu(const struct vs_reco_env *env)
{
	return env->vm && env->vm->kind == VS_VM_QEMU;
}

/* A virtio-blk queue: its length is the device's queue-size. */
static inline bool is_blk(const struct vs_reco_env *env)
{
	return env->device_type && !strcmp(env->device_type, "virtio-blk");
}

#endif
