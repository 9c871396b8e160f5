/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_MODEL_H
#define VS_MODEL_H

/*
 * Closed-form producer/consumer model of the seed paper
 * (shared/seeds/000_2ca216a43be1e5f1.txt, Sections 2, 3 and 5.1). All times
 * are nanoseconds (the paper counts cycles; the algebra is the same).
 *
 * The rules the closed forms assume (lib/sim follows the same ones):
 *  - P publishes an item at the end of its Wp; C frees the item's slot at the
 *    end of its Wc. P starts an item only with a free slot, C only with a
 *    queued item. Looking at the queue is free; a look at the same instant
 *    as a publish/free sees it.
 *  - sleep: a party that cannot proceed sleeps max(Y, Yz) and pays Yz of CPU.
 *  - notify: after publishing the item that brings a blocked C's queue to kp
 *    items, P spends Np, and C starts Sc after that; after freeing the kc-th
 *    slot since P blocked, C spends Nc, and P starts Sp after that.
 *  - hybrid: a party that cannot proceed polls (spins, CPU) up to Pp (Pc);
 *    what it waits for within that ends the wait, else it blocks as with
 *    notify. Pp = Pc = 0 is notify, Pp, Pc -> infinity is busy
 *    (docs/hybrid.md has the derivation).
 *  - Wp == Wc is taken as the fast-consumer side of Tables 2 and 3, except
 *    that when only the producer-side inequality holds the pair also settles
 *    into lockstep (reported as sFP / nFP): the batch is then infinite.
 */

enum vs_mech {
	VS_MECH_BUSY,	/* both parties busy wait */
	VS_MECH_SLEEP,	/* both parties sleep for Yp / Yc */
	VS_MECH_NOTIFY,	/* both parties block and notify (kp / kc) */
	VS_MECH_HYBRID,	/* poll up to Pp / Pc, then block and notify */
	VS_MECH_COUNT,
};

enum vs_regime {
	VS_REGIME_BW,
	VS_REGIME_SFC,
	VS_REGIME_SFP,
	VS_REGIME_SLS,
	VS_REGIME_NFC,
	VS_REGIME_NFP,
	VS_REGIME_NSCS,
	VS_REGIME_NSPS,
	VS_REGIME_NSS,
	VS_REGIME_COUNT,
};

/* Paper Table 1. */
struct vs_params {
	unsigned int len;	/* L: queue slots */
	double wp, wc;		/* per-item work of P and C */
	unsigned int kp, kc;	/* notification thresholds */
	double np, nc;		/* cost to send a notification (P->C, C->P) */
	double sp, sc;		/* start-up cost after a notification */
	double yp, yc;		/* sleep lengths */
	double yz;		/* CPU cost of one sleep, also the shortest sleep */
	/*
	 * Poll budgets of the hybrid mechanism (not in the paper's Table 1):
	 * a party that cannot proceed busy-polls up to Pp (Pc), then blocks
	 * as with notifications: vhost's busyloop (poll-us), QEMU's iothread
	 * poll-max-ns, KVM and guest halt polling.
	 */
	double pp, pc;
};

/*
 * One mechanism's prediction. Fields that the regime does not define are
 * NaN (rendered as JSON null); INFINITY means unbounded (a batch with no
 * synchronization at all once started, or D with kp > 1). For sLS
 * t_lo_ns/t_hi_ns are the eq. 6/7 bounds, and t_ns is exact when Yp == Yc
 * and L |Wp - Wc| >= 4 max(Wp, Wc) (derived, see lib/model/model.c), else the
 * midpoint of the bounds (batch NaN). E follows from T exactly in sLS
 * (per item P sleeps (T - Wp)/Yp times, C (T - Wc)/Yc), so where T is the
 * midpoint e_ns is E at that T, a representative value, and e_lo_ns/e_hi_ns
 * are E at the T bounds; elsewhere they are NaN.
 */
struct vs_prediction {
	enum vs_mech mech;
	enum vs_regime regime;
	double t_ns;		/* average time between items (1/throughput) */
	double t_lo_ns, t_hi_ns;	/* bounds where T is only bounded */
	double e_ns;		/* CPU work per item, both parties */
	double e_lo_ns, e_hi_ns;	/* bounds where E is only bounded */
	double d_ns;		/* worst-case latency bound */
	double batch;		/* items per notification or per sleep */
};

const char *vs_mech_name(enum vs_mech m);	/* "busy", "sleep", "notify", "hybrid" */
const char *vs_regime_name(enum vs_regime r);		/* "BW", "sFC", ... */
int vs_regime_from_name(const char *name, enum vs_regime *r);	/* -EINVAL */

/* Fill Table 4's measured costs with L=256, kp=1, kc=3/4 L defaults; poll
 * budgets Pp = Pc = 32768 ns, QEMU's iothread poll-max-ns default. */
void vs_params_default(struct vs_params *p);

/*
 * Presets: "paper-costs" (Table 4), "fc-example" (Sec. 8.1), "fp-example"
 * (Sec. 8.2). -ENOENT for an unknown name.
 */
int vs_params_preset(const char *name, struct vs_params *p);
/* NULL-terminated list of preset names, for help text and errors. */
extern const char *const vs_preset_names[];
/* One line saying what a preset models (paper section), NULL if unknown. */
const char *vs_preset_summary(const char *name);

/*
 * -EINVAL when L is below 2 (one slot: P and C cannot overlap, which the
 * closed forms do not describe), kp or kc is 0 or exceeds L, or any time is negative
 * or not finite; *why (if non-NULL) then names the offending field.
 */
int vs_params_validate(const struct vs_params *p, const char **why);

int vs_model_predict(const struct vs_params *p, enum vs_mech m,
		     struct vs_prediction *out);

/* Every mechanism, out[VS_MECH_BUSY..VS_MECH_HYBRID]. */
int vs_model_predict_all(const struct vs_params *p,
			 struct vs_prediction out[VS_MECH_COUNT]);

/*
 * JSON renderings shared by `model`, `sim` and `bench` (jansson, new
 * references; NaN and infinities become null):
 *   params: {"len":..,"wp_ns":..,"wc_ns":..,"kp":..,"kc":..,"np_ns":..,
 *            "nc_ns":..,"sp_ns":..,"sc_ns":..,"yp_ns":..,"yc_ns":..,
 *            "yz_ns":..,"pp_ns":..,"pc_ns":..}
 *   prediction: {"regime":..,"T_ns":..,"E_ns":..,"D_ns":..,"batch":..,
 *                "T_lo_ns":..,"T_hi_ns":..,"E_lo_ns":..,"E_hi_ns":..}
 */
struct json_t;
struct json_t *vs_params_json(const struct vs_params *p);
struct json_t *vs_prediction_json(const struct vs_prediction *pr);

#endif
