/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PLACEMENT_H
#define VS_PLACEMENT_H

/*
 * The placement audit of one queue: where its producer (a vCPU) and its
 * consumer (vhost worker, iothread, the device's consumer) ran during the
 * window, their NUMA nodes and the cache they share, the measured round
 * trip between their CPUs, the node of the guest's memory, the affinity of
 * the VM's device and NIC interrupts and whether APICv/AVIC is on; then
 * advice as plan steps (thread.affinity, irq.affinity) with the model's
 * T/E/D before and after, the synchronization cost in the prediction taken
 * from the measured hand-off of a message between the CPUs (or the round
 * trips of virtsync topo), and the libvirt and QEMU form of each step.
 *
 * Pure: everything measured comes in (lib/sources/topo.h, c2c.h,
 * handoff.h, placement.h and the window's vs_sample), nothing is read here.
 *
 * The cases (seeds 001, 003, 004):
 *  - P and C share no cache (or sit on two nodes): move C next to P, on the
 *    CPU with the cheapest hand-off from P's CPU;
 *  - both spin and share one core (SMT siblings): move C off the core,
 *    keeping a shared cache (two spinning threads share the pipeline);
 *  - C runs on another node than the guest's memory: move it there
 *    (ELVIS: up to 30 % lost with the I/O core on the other socket);
 *  - a device or NIC interrupt lands on a CPU that shares no cache with
 *    C: steer it to C's CPU.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "analyze/classify.h"
#include "analyze/recommend.h"
#include "model/model.h"
#include "sources/c2c.h"
#include "sources/discover.h"
#include "sources/measure.h"
#include "sources/placement.h"
#include "sources/topo.h"

#define VS_PLACE_MAX_ADVICE	6
#define VS_PLACE_MAX_NOTES	12
#define VS_PLACE_MAX_PAIRS	8

struct vs_place_side {
	bool known;
	pid_t tid;
	char comm[32];
	char role[16];			/* "vcpu", "vhost", "iothread", ... */
	int cpu;			/* where it ran most, -1 unknown */
	double share;			/* of its events there */
	char cpus[64];			/* "1 (82%), 0 (18%)" */
	char from[32];			/* "BPF events", "stat every 50 ms" */
	int node;			/* -1 unknown */
};

/* The hand-off of one message between two CPUs, measured by the caller. */
struct vs_place_handoff {
	int a, b;			/* P's CPU, C's CPU */
	double ns;
};

struct vs_place_in {
	const struct vs_topo *topo;
	const struct vs_vm *vm;
	const struct vs_sample *sample;
	const struct vs_verdict *verdict;	/* NULL: no predictions */
	const struct vs_c2c *c2c;		/* NULL: no round trips */
	const char *c2c_from;			/* where the round trips came from */
	const struct vs_place_handoff *handoff;
	unsigned int n_handoff;
	const char *handoff_what;		/* "virtio split ring, batch 16" */
	const struct vs_mem_nodes *mem;		/* NULL: not read */
	const struct vs_irq_info *irqs;
	unsigned int n_irqs;
	const struct vs_virt_irq *virt;		/* NULL: not read */
};

struct vs_place_advice {
	struct vs_advice a;		/* the plan step, with QEMU/libvirt forms */
	bool have_pred;
	struct vs_prediction cur, pred;	/* the model now and after the step */
	char model[200];		/* what the prediction changed, and why */
};

struct vs_placement {
	bool known;			/* false: why says what was missing */
	char why[160];
	struct vs_place_side prod, cons;
	char relation[48];		/* of their main CPUs: "share L3", ... */
	double rt_ns;			/* round trip between them, NaN */
	bool rt_unstable;
	double rt_low_ns, rt_high_ns;
	int mem_node;			/* where most guest memory is, -1 */
	double mem_share;
	unsigned int n_notes;
	char notes[VS_PLACE_MAX_NOTES][200];
	unsigned int n_advice;
	struct vs_place_advice advice[VS_PLACE_MAX_ADVICE];
};

/*
 * The CPU pairs (P's CPU, C's CPU) whose hand-off cost and round trip the
 * audit uses: the current pair and the candidates for C. The caller
 * measures them (vs_handoff_measure, vs_c2c_measure with only_a/only_b)
 * and passes the results in. Returns how many, at most max.
 */
unsigned int vs_placement_pairs(const struct vs_topo *t, const struct vs_sample *s,
				const struct vs_mem_nodes *mem, int *a, int *b,
				unsigned int max);

/* -EINVAL on a NULL argument; 0 otherwise (out->known false with why). */
int vs_placement_audit(const struct vs_place_in *in, struct vs_placement *out);

#endif
