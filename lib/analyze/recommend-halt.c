// SPDX-License-Identifier: GPL-2.0-only
/*
 * Halt polling advice (recommend.h): KVM's for the VM's vCPUs, sized to the
 * waits it must cover, and the guest's own (haltpoll's guest_halt_poll_ns,
 * C-states deeper than Dmax allows).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/units.h"
#include "analyze/recommend.h"
#include "analyze/recommend-impl.h"

/* Halt polling longer than this burns more CPU than a wake-up costs on
 * any host we know; the guest haltpoll driver's own default is 200 us. */
#define HALT_POLL_MAX_NS 400000.0
#define HALT_POLL_MIN_NS 50000.0
#define HALT_POLL_DEFAULT_NS 200000.0

static double round_up(double v, double step)
{
	return ceil(v / step) * step;
}

/* Halt polling sized to the waits it must cover: long enough to catch the
 * typical wake-up, never beyond the cap. */
static double halt_poll_for_wait(double wait_ns)
{
	double v;

	if (!isfinite(wait_ns) || wait_ns <= 0)
		return HALT_POLL_DEFAULT_NS;
	v = round_up(wait_ns * 1.25, 10000);
	if (v < HALT_POLL_MIN_NS)
		v = HALT_POLL_MIN_NS;
	if (v > HALT_POLL_MAX_NS)
		v = HALT_POLL_MAX_NS;
	return v;
}

void vs_reco_vcpu_halt_poll(const struct vs_verdict *v, const struct vs_reco_env *env,
			    struct vs_plan *plan, double wait_ns, const char *why)
{
	double hp = halt_poll_for_wait(wait_ns);
	struct vs_advice *a;

	if (is_pcdev(env) && env->vm->kvm) {
		a = vs_reco_action(plan, "vm.halt_poll_ns", env->vm->pid, "", VS_APPLY_NOW,
			   "%s", why);
		snprintf(a->value, sizeof(a->value), "%.0f", hp);
	} else if (env->vm && env->vm->kvm) {
		/* KVM_CAP_HALT_POLL is only reachable through the VM fd the VMM
		 * holds; QEMU offers no option for it, so the host-wide module
		 * parameter is the knob, applied to VMs created afterwards. */
		a = vs_reco_action(plan, "kvm.halt_poll_ns", 0, "",
			   env->kvm_halt_poll_writable ? VS_APPLY_RESTART : VS_APPLY_READONLY,
			   "%s (per-VM halt polling cannot change on a running QEMU VM)", why);
		snprintf(a->value, sizeof(a->value), "%.0f", hp);
		if (env->kvm_halt_poll_ns >= 0)
			snprintf(a->current, sizeof(a->current), "%lld",
				 (long long)env->kvm_halt_poll_ns);
		snprintf(a->qemu, sizeof(a->qemu),
			 "no QEMU option: echo %.0f > /sys/module/kvm/parameters/halt_poll_ns, then restart the VM",
			 hp);
		snprintf(a->libvirt, sizeof(a->libvirt),
			 "no domain XML element: set the module parameter on the host, then restart the domain");
		if (!env->kvm_halt_poll_writable)
			vs_reco_warn(plan, "kvm.halt_poll_ns is read-only on this host: halt polling cannot be changed here");
	}
	(void)v;
	vs_reco_warn(plan, "a guest using cpuidle-haltpoll turns host halt polling off for its vCPUs (MSR_KVM_POLL_CONTROL): tune guest_halt_poll_ns inside it instead");
}

int vs_recommend_guest(const struct vs_reco_env *env, struct vs_plan *plan)
{
	const struct vs_guest_info *g = env->guest;
	const struct vs_hostcosts *hc = env->hc;
	struct vs_advice *a;
	unsigned int i;
	bool deep = false;

	if (!g || !g->is_guest)
		return 0;
	if (g->haltpoll_loaded && g->guest_halt_poll_ns == 0) {
		double hp = halt_poll_for_wait(env->guest_wait_ns);

		a = vs_reco_action(plan, "guest.halt_poll_ns", 0, "",
			   g->guest_halt_poll_writable ? VS_APPLY_NOW : VS_APPLY_READONLY,
			   "idle vCPUs halt at once: every wake-up pays a VM exit and a host wake-up");
		if (hc && isfinite(hc->wake_ns) && isfinite(hc->wake_polled_ns))
			snprintf(a->why, sizeof(a->why),
				 "wake-up %s now, %s with the waiting CPU polling: halt polling sized to the waits",
				 VS_TIME(hc->wake_ns), VS_TIME(hc->wake_polled_ns));
		snprintf(a->value, sizeof(a->value), "%.0f", hp);
		snprintf(a->current, sizeof(a->current), "0");
		if (!g->guest_halt_poll_writable)
			vs_reco_warn(plan, "guest.halt_poll_ns is read-only here");
	}
	if (!strcmp(g->cpuidle_driver, "haltpoll"))
		vs_reco_warn(plan, "cpuidle-haltpoll is active: it turns the host's halt polling off for this guest, so guest_halt_poll_ns is the only polling%s",
		     g->guest_halt_poll_ns == 0 ? " (and it is 0: nobody polls)" : "");
	for (i = 0; i < g->n_cstates; i++)
		if (g->cstates[i].latency_us * 1000.0 > env->dmax_ns / 4 &&
		    !g->cstates[i].disabled)
			deep = true;
	if (deep) {
		for (i = 0; i < g->n_cstates; i++) {
			if (g->cstates[i].latency_us * 1000.0 <= env->dmax_ns / 4 ||
			    g->cstates[i].disabled)
				continue;
			a = vs_reco_action(plan, "cpuidle.state_disable", 0, "", VS_APPLY_NOW,
				   "C-state %s exits in %s, more than Dmax/4",
				   g->cstates[i].name, VS_TIME(g->cstates[i].latency_us * 1000.0));
			snprintf(a->value, sizeof(a->value), "1");
			snprintf(a->cpus, sizeof(a->cpus), "state %s", g->cstates[i].name);
		}
	}
	return 0;
}
