/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_DIAG_PLACEMENT_H
#define VS_DIAG_PLACEMENT_H

/*
 * The placement audit inside a diagnosis: after the window, for each queue,
 * read where the guest's memory is, the VM's device and NIC interrupts and
 * APICv/AVIC, take the round trips between the CPUs concerned from the
 * cached matrix of `virtsync topo` (else measure those pairs now, about
 * 0.2 s), measure the hand-off of one message on the current pair of CPUs
 * and on each candidate (the virtio layout at the queue's batch, a few ms
 * each), and run analyze/placement. The topology is read once per session.
 */

#include "analyze/placement.h"
#include "sources/c2c.h"
#include "sources/topo.h"

struct vs_diag_queue;

/* What a session keeps for every window. */
struct vs_diag_place_ctx {
	struct vs_topo *topo;		/* NULL: topology unreadable */
	char topo_why[96];
	bool have_cache;
	struct vs_c2c cache;		/* /run/virtsync/c2c.json, if fresh */
};

/* A cached matrix older than this is measured again, for the pairs needed. */
#define VS_DIAG_C2C_MAX_AGE_S 3600

int vs_diag_place_open(struct vs_diag_place_ctx *c);
void vs_diag_place_close(struct vs_diag_place_ctx *c);

/* Audit q (measured, with its verdict) into q->placement. */
void vs_diag_place_queue(struct vs_diag_place_ctx *c, struct vs_diag_queue *q);

#endif
