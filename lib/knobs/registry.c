// SPDX-License-Identifier: GPL-2.0-only
/* The table of knobs. */
#include <errno.h>
#include <string.h>

#include "knobs/knobs.h"

#define K(id) extern const struct vs_knob_ops vs_knob_##id;
#define KNOB_LIST                                                             \
	K(kvm_halt_poll_ns) K(kvm_halt_poll_ns_grow) K(kvm_halt_poll_ns_shrink)  \
	K(kvm_halt_poll_ns_grow_start) K(vm_halt_poll_ns)                         \
	K(guest_halt_poll_ns) K(guest_halt_poll_grow) K(guest_halt_poll_shrink)  \
	K(guest_halt_poll_grow_start) K(guest_halt_poll_allow_shrink)             \
	K(thread_timerslack_ns) K(thread_affinity) K(irq_affinity)               \
	K(cpuidle_state_disable) K(cpufreq_governor)                              \
	K(pmqos_cpu_dma_latency_us) K(net_busy_poll) K(net_busy_read)             \
	K(netdev_napi_defer_hard_irqs) K(netdev_gro_flush_timeout)                \
	K(pcdev_consumer_busyloop_ns) K(pcdev_consumer_sleep_ns)                \
	K(iothread_poll_max_ns)
KNOB_LIST
#undef K

#define K(id) &vs_knob_##id,
const struct vs_knob_ops *const vs_knobs[] = { KNOB_LIST NULL };
#undef K

const struct vs_knob_ops *vs_knob_find(const char *name)
{
	size_t i;

	for (i = 0; vs_knobs[i]; i++)
		if (!strcmp(vs_knobs[i]->name, name))
			return vs_knobs[i];
	return NULL;
}

bool vs_knob_unreachable(const struct vs_knob_ops *k, int err)
{
	/* the transport errors of lib/sources/qmp.c */
	return k && k->scope == VS_SCOPE_IOTHREAD &&
	       (err == -ETIMEDOUT || err == -EOVERFLOW || err == -EPROTO ||
		err == -EMSGSIZE || err == -ECONNRESET);
}

const char *vs_knob_scope_name(enum vs_knob_scope scope)
{
	switch (scope) {
	case VS_SCOPE_GLOBAL: return "global";
	case VS_SCOPE_CPU: return "cpu";
	case VS_SCOPE_CSTATE: return "cpu idle state";
	case VS_SCOPE_THREAD: return "thread";
	case VS_SCOPE_VM: return "vm";
	case VS_SCOPE_IRQ: return "irq";
	case VS_SCOPE_NETDEV: return "netdev";
	case VS_SCOPE_IOTHREAD: return "iothread";
	}
	return "?";
}
