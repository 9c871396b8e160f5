// SPDX-License-Identifier: GPL-2.0-only
/*
 * Halt polling advice (recommend.h): KVM's for the VM's vCPUs and the
 * guest's own (haltpoll's guest_halt_poll_ns), each picked with the hybrid
 * model (model/pick.h) on the side that waits, and C-states deeper than
 * Dmax allows.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/units.h"
#include "analyze/recommend.h"
#include "analyze/recommend-impl.h"
#include "model/pick.h"

/* Halt polling longer than this burns more CPU than a wake-up costs on
 * any host we know; the guest haltpoll driver's own default is 200 us. */
#define HALT_POLL_MAX_NS 400000.0
#define HALT_POLL_MIN_NS 50000.0
#define HALT_POLL_DEFAULT_NS 200000.0

static double round_up(double v, double step)
{
	return ceil(v / step) * step;
}

/* Where the model cannot pick (no verdict, parameters it rejects):
 * sized to the waits it must cover, long enough to catch the typical
 * wake-up, never beyond the cap. */
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

/*
 * A halt poll from the hybrid model: the smallest budget of the waiting
 * side whose T is within POLL_T_SLACK of the best any budget up to
 * HALT_POLL_MAX_NS gives, within Dmax, with the equal split's margin (the
 * verdict's waits are means) and KVM's 10 us steps. *hp is 0 where no
 * halt polling shortens T. false where the model cannot predict.
 */
static bool halt_poll_pick(const struct vs_verdict *v, enum vs_pick_side side,
			   double dmax_ns, double current_ns, struct vs_pick *k,
			   struct vs_prediction *at, double *hp)
{
	struct vs_pick_opts o = {
		.side = side, .p_max_ns = HALT_POLL_MAX_NS, .dmax_ns = dmax_ns,
		.t_slack = POLL_T_SLACK, .e_slack = POLL_E_SLACK, .current_ns = current_ns,
	};

	if (!v || !v->known || vs_pick_poll(&v->params, &o, k) ||
	    !isfinite(k->at_pick.t_ns) || !isfinite(k->at_pick.e_ns) ||
	    !isfinite(k->at_zero.t_ns) || !isfinite(k->at_zero.e_ns))
		return false;
	*at = k->at_pick;
	*hp = 0;
	if (k->p_ns <= 0)
		return true;
	*hp = fmin(round_up(k->p_ns * POLL_MARGIN, 10000), HALT_POLL_MAX_NS);
	if (vs_pick_predict_at(&v->params, side, *hp, at))
		*at = k->at_pick;
	return true;
}

/* "hybrid model, vCPU side: T a -> b (+n % items/s), CPU/item c -> d
 * (busy e)": the prediction at the pick against the halt poll in force
 * (none where it is unknown). */
static void halt_poll_why(char *buf, size_t len, const char *side, const struct vs_pick *k,
			  const struct vs_prediction *at)
{
	const struct vs_prediction *now = k->have_current ? &k->at_current : &k->at_zero;

	snprintf(buf, len, "hybrid model, %s side: T %s -> %s (%+.0f %% items/s), CPU/item %s -> %s (busy %s)",
		 side, VS_TIME(now->t_ns), VS_TIME(at->t_ns), 100 * (now->t_ns / at->t_ns - 1),
		 VS_TIME(now->e_ns), VS_TIME(at->e_ns), VS_TIME(k->strategy[VS_MECH_BUSY].e_ns));
}

void vs_reco_vcpu_halt_poll(const struct vs_verdict *v, const struct vs_reco_env *env,
			    struct vs_plan *plan, double wait_ns, const char *why)
{
	double hp = halt_poll_for_wait(wait_ns), current = NAN;
	struct vs_prediction at;
	struct vs_advice *a;
	struct vs_pick k;
	char model[200];

	if (!is_pcdev(env) && env->kvm_halt_poll_ns >= 0)
		current = (double)env->kvm_halt_poll_ns;
	if (halt_poll_pick(v, VS_PICK_PRODUCER, env->dmax_ns, current, &k, &at, &hp)) {
		if (k.have_current && k.current_right) {
			vs_reco_warn(plan, "kvm.halt_poll_ns %.0f is already right: the hybrid model (vCPU side) predicts the best T, %s, at CPU/item %s",
			     current, VS_TIME(k.at_current.t_ns), VS_TIME(k.at_current.e_ns));
			return;
		}
		if (hp == 0) {
			vs_reco_warn(plan, "no halt polling: the hybrid model predicts no shorter T from the vCPU polling (T %s without, %s polling up to %s)",
			     VS_TIME(k.at_zero.t_ns), VS_TIME(k.at_max.t_ns), VS_TIME(HALT_POLL_MAX_NS));
			return;
		}
		halt_poll_why(model, sizeof(model), "vCPU", &k, &at);
		why = model;
	}
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

/*
 * guest_halt_poll_ns, 0 now: the waits of the queue whose threads run in
 * this guest, on the side that waits (the same side as guest_wait_ns),
 * through the hybrid model; without such a queue, sized to the waits.
 */
static void guest_halt_poll(const struct vs_reco_env *env, struct vs_plan *plan)
{
	const struct vs_guest_info *g = env->guest;
	const struct vs_hostcosts *hc = env->hc;
	const struct vs_verdict *v = env->guest_verdict;
	enum vs_pick_side side = v && v->c_wait != VS_WAIT_NONE ? VS_PICK_CONSUMER :
				 VS_PICK_PRODUCER;
	double hp = halt_poll_for_wait(env->guest_wait_ns);
	char wake[96] = "idle vCPUs halt at once: every wake-up pays a VM exit and a host wake-up";
	char model[200] = "halt polling sized to the waits";
	struct vs_prediction at;
	struct vs_advice *a;
	struct vs_pick k;

	if (halt_poll_pick(v, side, env->dmax_ns, 0, &k, &at, &hp)) {
		if (hp == 0) {
			vs_reco_warn(plan, "guest_halt_poll_ns 0 is right: the hybrid model predicts no shorter T from idle vCPUs polling (T %s, %s polling up to %s)",
			     VS_TIME(k.at_zero.t_ns), VS_TIME(k.at_max.t_ns), VS_TIME(HALT_POLL_MAX_NS));
			return;
		}
		halt_poll_why(model, sizeof(model), side == VS_PICK_CONSUMER ? "consumer" : "producer",
			      &k, &at);
	}
	if (hc && isfinite(hc->wake_ns) && isfinite(hc->wake_polled_ns))
		snprintf(wake, sizeof(wake), "wake-up %s now, %s with the waiting CPU polling",
			 VS_TIME(hc->wake_ns), VS_TIME(hc->wake_polled_ns));
	a = vs_reco_action(plan, "guest.halt_poll_ns", 0, "",
		   g->guest_halt_poll_writable ? VS_APPLY_NOW : VS_APPLY_READONLY,
		   "%s: %s", wake, model);
	snprintf(a->value, sizeof(a->value), "%.0f", hp);
	snprintf(a->current, sizeof(a->current), "0");
	if (!g->guest_halt_poll_writable)
		vs_reco_warn(plan, "guest.halt_poll_ns is read-only here");
}

int vs_recommend_guest(const struct vs_reco_env *env, struct vs_plan *plan)
{
	const struct vs_guest_info *g = env->guest;
	struct vs_advice *a;
	unsigned int i;
	bool deep = false;

	if (!g || !g->is_guest)
		return 0;
	if (g->haltpoll_loaded && g->guest_halt_poll_ns == 0)
		guest_halt_poll(env, plan);
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
