// SPDX-License-Identifier: GPL-2.0-only
/*
 * Closed forms of the producer/consumer model (seed paper Sections 2, 3 and
 * 5.1). The system being modelled, exactly (the simulator implements the
 * same rules, so the two can be compared to the nanosecond):
 *
 *  - P works Wp on an item and publishes it at the end of Wp; C works Wc
 *    on the item at the head and frees its slot at the end of Wc. A party
 *    starts an item only if an item (C) or a free slot (P) is there.
 *  - Looking at the queue costs nothing. A party that looks at the same
 *    instant as the other publishes/frees sees the change.
 *  - busy: the party that cannot proceed spins (costs CPU).
 *  - sleep: it sleeps max(Y, Yz) (Yz is the shortest sleep, paper Sec. 2),
 *    paying Yz of CPU per sleep, then looks again.
 *  - notify: C blocks on an empty queue; P, after publishing the item that
 *    brings a blocked C's queue to kp items, notifies (Np of P's time) and C
 *    starts working Sc after the end of Np. P blocks on a full queue; C,
 *    after freeing the kc-th slot since P blocked, notifies (Nc of C's time)
 *    and P starts Sp after the end of Nc. Blocking costs nothing.
 *  - hybrid: a party that cannot proceed first spins up to Pp (P) or Pc
 *    (C); a publish or free within that ends the wait (seen at the instant
 *    it happens), else it blocks as with notify.
 *
 * E counts CPU work of both parties per item: processing, spinning, Yz per
 * sleep, N and S per notification.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "model/model.h"

/* Floors of ratios that are whole numbers on paper (e.g. 104600/100) must
 * not fall one short through rounding. */
#define VS_FLOOR_EPS 1e-9

static void prediction_init(struct vs_prediction *out, enum vs_mech m)
{
	out->mech = m;
	out->regime = VS_REGIME_COUNT;
	out->t_ns = out->t_lo_ns = out->t_hi_ns = NAN;
	out->e_ns = out->e_lo_ns = out->e_hi_ns = NAN;
	out->d_ns = out->batch = NAN;
}

/* Sleep CPU per item; free sleeps (Yz = 0) cost nothing however many. */
static double sleep_cost(double yz, double batch)
{
	return yz > 0 ? yz / batch : 0;
}

static double floor_eps(double x)
{
	return floor(x + VS_FLOOR_EPS * (fabs(x) > 1 ? fabs(x) : 1));
}

/* Sec. 2.1, eq. 1. */
static void busy_predict(const struct vs_params *p, struct vs_prediction *out)
{
	out->regime = VS_REGIME_BW;
	out->t_ns = fmax(p->wp, p->wc);
	out->e_ns = p->wp + p->wc + fabs(p->wp - p->wc);
	/* Wp == Wc: the queue never builds up, as with a fast consumer. */
	if (p->wc <= p->wp)
		out->d_ns = 2 * p->wp + p->wc;
	else
		out->d_ns = (p->len + 1) * p->wc;
}

/*
 * Sec. 2.2.3, eq. 6: the largest batch C can serve between two sleeps
 * (Wc < Wp; swap the roles for Wp < Wc). C wakes with L items queued and P
 * restarts at the first free slot (Wc); P's item L+j is ready at
 * Wc + j Wp and C wants it at (L+j-1) Wc, so C keeps going while
 * j (Wp - Wc) <= (L-2) Wc. The paper writes ceil(((L-1)Wc - Wp)/(Wp - Wc)),
 * one less where the ratio is whole; the larger value keeps eq. 6 a bound.
 */
static double sls_extra_batch(unsigned int len, double fast, double slow)
{
	double m;

	if (len < 2)
		return 0;
	m = floor_eps((len - 2) * fast / (slow - fast));
	return m > 0 ? m : 0;
}

/*
 * E in a sleeping regime from T: a party that sleeps is always either
 * working or sleeping (looking is free), so per item P sleeps
 * (T - Wp) / Yp' times and C (T - Wc) / Yc' times (Y' = max(Y, Yz)), each
 * sleep costing Yz. Exact where T is; increasing in T, so T's bounds give
 * E's. (With Yp = Yc it is the staircase's Wp + Wc + Yz / batch.)
 */
static double sls_energy(const struct vs_params *p, double yp, double yc,
			 double t)
{
	return p->wp + p->wc + p->yz * ((t - p->wp) / yp + (t - p->wc) / yc);
}

/*
 * sLS with Yp = Yc = Y (Sec. 5.1), derived from the time diagrams and
 * checked against an event-by-event simulation of the rules above. Shown
 * for Wc < Wp; Wp < Wc is the mirror image (slow/fast swapped, the same
 * numbers). d = Wp - Wc.
 * The slow party P always wakes to an empty queue and works until the queue
 * is full; C wakes delta after P. Two kinds of P cycle:
 *  - delta > L Wp - Wc: C wakes after P filled the queue. P makes L items,
 *    sleeps; C drains them, sleeps once. Next delta = delta - L d.
 *  - otherwise C wakes while P works, catches it up after
 *    i = floor((delta - Wp)/d) + 1 items and sleeps; P fills the queue during
 *    that sleep (L + i items), and C sleeps a second time. Next delta =
 *    Y - L d + Wc + d f, f = frac((delta - Wp)/d).
 * A super-cycle is one cycle of the second kind and then k - 1 of the first,
 *   k(f) = max(0, ceil((Y - Y1 + d f) / (L d))),  Y1 = L Wp - 2 Wc
 * (k = 0: P never fills the queue, only C sleeps). Each party's time is
 * work plus sleeps (P: n Wp + k Y, C: n Wc + (k+1) Y), so a super-cycle moves
 * n = Y/d items and T = Wp + d k. The phase f advances by Y/d (mod 1) per
 * super-cycle, starting from f0 = frac((Y - Wp)/d) after a cold start, so
 *   T = Wp + d mean(k(f_s)),  batch = Y / (d (2 mean(k) + 1)).
 * This is the paper's staircase (Fig. 6: T grows by Wp - Wc each time Y
 * grows by L (Wp - Wc)); within d of a step the phase sequence mixes the two
 * levels. It needs C to finish its L items before P wakes: L d well above
 * Wp; below 4 Wp only the bounds are known (midpoint).
 */
#define SLS_PHASES 2520	/* a multiple of every phase period up to 10 */

static int sls_equal_sleeps(const struct vs_params *p, double y,
			    struct vs_prediction *out)
{
	double slow = fmax(p->wp, p->wc), fast = fmin(p->wp, p->wc);
	double d = slow - fast, L = p->len, y1, f, k, ksum = 0;
	int s;

	if (d <= 0) {
		/* equal speeds: from a cold start the two alternate whole
		 * queues, each sleeping once per L items (eq. 7 is exact) */
		out->t_ns = out->t_hi_ns;
		out->batch = L / 2;
		out->e_ns = p->wp + p->wc + sleep_cost(p->yz, out->batch);
		return 0;
	}
	if (L * d < 4 * slow)
		return -ERANGE;
	y1 = L * slow - 2 * fast;
	for (s = 0; s < SLS_PHASES; s++) {
		f = fmod((s + 1) * y - slow, d) / d;
		if (f < 0)
			f += 1;
		k = ceil((y - y1 + d * f) / (L * d) - VS_FLOOR_EPS);
		ksum += k > 0 ? k : 0;
	}
	k = ksum / SLS_PHASES;
	out->t_ns = fmin(fmax(slow + k * d, out->t_lo_ns), out->t_hi_ns);
	out->batch = y / (d * (2 * k + 1));
	out->e_ns = p->wp + p->wc + sleep_cost(p->yz, out->batch);
	return 0;
}

static void sleep_predict(const struct vs_params *p, struct vs_prediction *out)
{
	double yp = fmax(p->yp, p->yz), yc = fmax(p->yc, p->yz);
	double wp = p->wp, wc = p->wc, L = p->len;
	/*
	 * Table 2: can the queue absorb the fast party's sleep? ">=" where
	 * the paper has ">": with the look-sees-publish rule P still finds
	 * the slot C frees at the very instant P fills the queue.
	 */
	int fc_ok = (L - 1) * wp - wc >= yc;
	int fp_ok = (L - 1) * wc - wp >= yp;
	double d_idle = yp + wp + yc + wc;	/* eq. 2 */

	if (wc < wp)
		out->regime = fc_ok ? VS_REGIME_SFC : VS_REGIME_SLS;
	else if (wc > wp)
		out->regime = fp_ok ? VS_REGIME_SFP : VS_REGIME_SLS;
	else	/* lockstep once one sleep is absorbed: no sleeps at all */
		out->regime = fc_ok ? VS_REGIME_SFC :
			      fp_ok ? VS_REGIME_SFP : VS_REGIME_SLS;

	switch (out->regime) {
	case VS_REGIME_SFC:
		/* eq. 3-4: C's time is all work or sleep, n Wp = n Wc + h Yc */
		out->batch = wp > wc ? yc / (wp - wc) : INFINITY;
		out->t_ns = wp;
		out->e_ns = wp + wc + sleep_cost(p->yz, out->batch);
		out->d_ns = fmax(d_idle, 2 * wp + yc + wc);
		break;
	case VS_REGIME_SFP:
		/* the mirror of sFC; eq. 5 for D */
		out->batch = wc > wp ? yp / (wc - wp) : INFINITY;
		out->t_ns = wc;
		out->e_ns = wp + wc + sleep_cost(p->yz, out->batch);
		out->d_ns = fmax(d_idle, (L + 1) * wc);
		break;
	default: {
		double m;

		/* eq. 6 lower bound, eq. 7 upper bound */
		if (wc < wp) {
			m = sls_extra_batch(p->len, wc, wp);
			out->t_lo_ns = fmax(wp, wc + yc / (L + m));
		} else {
			m = sls_extra_batch(p->len, wp, wc);
			out->t_lo_ns = fmax(wc, wp + yp / (L + m));
		}
		out->t_hi_ns = fmax(wp + yp / L, wc + yc / L);
		if (out->t_hi_ns < out->t_lo_ns)
			out->t_hi_ns = out->t_lo_ns;
		if (yp != yc || sls_equal_sleeps(p, yc, out)) {
			/* no closed form (Sec. 2.2.3): representative value */
			out->t_ns = (out->t_lo_ns + out->t_hi_ns) / 2;
			/*
			 * Not eq. 8: its "slow party's largest batch 2L + m"
			 * fails next to the sFP/sFC border, where the slow
			 * party sleeps rarely (simulated L=26 Wp=424 Wc=2924:
			 * E below eq. 8). Instead E follows from T exactly,
			 * see sls_energy(), so T's bounds bound E.
			 */
			out->e_ns = sls_energy(p, yp, yc, out->t_ns);
			out->e_lo_ns = sls_energy(p, yp, yc, out->t_lo_ns);
			out->e_hi_ns = sls_energy(p, yp, yc, out->t_hi_ns);
		}
		/*
		 * Eq. 10 for every Yp, Yc. Not eq. 11 (2Y + Wp + Wc) when
		 * Yp = Yc: its "hp = hc = 1" does not hold, a party can sleep
		 * twice while the request waits, and the simulator exceeds
		 * it (L=5 Wp=170 Wc=2689 Y=40251: 94168 > 83361).
		 */
		out->d_ns = fmax(2 * yc + yp + wp + 2 * wc, d_idle);
		break;
	}
	}
}

static void notify_predict(const struct vs_params *p, struct vs_prediction *out)
{
	double wp = p->wp, wc = p->wc, L = p->len, kp = p->kp, kc = p->kc;
	double np = p->np, nc = p->nc, sp = p->sp, sc = p->sc;
	/* Table 3: does the queue absorb C's (A) / P's (B) start-up?
	 * (">=" for the same reason as in Table 2) */
	int a = (L - kp) * wp - wc >= sc;
	int b = (L - kc) * wc - wp >= sp;
	/* eq. 17 (kp = 1): bound for the short-queue regimes */
	double d_short = 2 * wp + (kc + 1) * wc + 2 * sc + nc + np + sp;
	double m, cycle;

	if (wc < wp)
		out->regime = a ? VS_REGIME_NFC : b ? VS_REGIME_NSCS : VS_REGIME_NSS;
	else if (wc > wp)
		out->regime = b ? VS_REGIME_NFP : a ? VS_REGIME_NSPS : VS_REGIME_NSS;
	else	/* Wp == Wc: once started the pair runs in lockstep */
		out->regime = a ? VS_REGIME_NFC : b ? VS_REGIME_NFP : VS_REGIME_NSS;

	switch (out->regime) {
	case VS_REGIME_NFC:
		/* Sec. 2.3.1, eq. 12-13 */
		out->batch = wp > wc ?
			kp + floor_eps((sc + (kp - 1) * wc) / (wp - wc)) : INFINITY;
		out->t_ns = wp + np / out->batch;
		out->e_ns = wp + wc + (np + sc) / out->batch;
		out->d_ns = 2 * wp + 2 * np + sc + wc;
		break;
	case VS_REGIME_NFP:
		/*
		 * Omitted by the paper; the mirror of nFC. After C's
		 * notification ends (t = 0) kc slots are free and C frees one
		 * every Wc; P works from Sp on and wants slot kc+j at
		 * Sp + (kc+j-1) Wp, which C frees at j Wc. P stops once
		 * j (Wc - Wp) > Sp + (kc-1) Wp, so
		 *   b = kc + floor((Sp + (kc-1) Wp) / (Wc - Wp)).
		 * C never waits (Table 3), sends one Nc per b items:
		 *   T = Wc + Nc/b,  E = Wp + Wc + (Nc + Sp)/b.
		 * Sec. 8.2 (Sp 28us, Wp 200, Wc 300, kc 384): 384 + 1046 =
		 * 1430; the paper's 1429 counts the exact tie at j = 1046
		 * (slot freed the instant P wants it) as a miss.
		 */
		out->batch = wc > wp ?
			kc + floor_eps((sp + (kc - 1) * wp) / (wc - wp)) : INFINITY;
		out->t_ns = wc + nc / out->batch;
		out->e_ns = wp + wc + (nc + sp) / out->batch;
		/*
		 * Eq. 14 has 2 Wp + L Wc, which the simulator exceeds when
		 * Wc is large against Wp. From the diagram: the request is
		 * taken when P starts the previous item at t = 0. If P then
		 * blocks at Wp the queue is full and C freed nothing since
		 * t = 0, so C started its current item by t = 0: the L items
		 * then queued are done by L Wc, the request by (L+1) Wc. If
		 * P does not block it takes the request's slot at Wp with at
		 * most L - 1 items ahead, C done by Wp + L Wc <= (L+1) Wc.
		 * C never waits (Table 3); it sends its notifications in
		 * between, the first kc slots after P blocked, then one per
		 * batch: 1 + floor((L - kc) / b) of them, as in eq. 14.
		 */
		out->d_ns = (L + 1) * wc +
			    nc * (1 + floor_eps((L - kc) / out->batch));
		break;
	case VS_REGIME_NSCS:
		/*
		 * Sec. 2.3.3, derived from its diagram. Cycle start: P
		 * publishes the kp-th item to a blocked C and notifies (Np).
		 * C starts Sc later; P meanwhile fills the queue and blocks
		 * (Table 3). C frees kc slots and notifies (Nc); P starts Sp
		 * later and, C being faster, C drains the queue m items after
		 * P restarted, eq. 15:
		 *   m = floor(((L-kc-1) Wc - Sp) / (Wp - Wc)).
		 * P then publishes kp more items to the blocked C: next cycle.
		 *   T = (Np + Sc + kc Wc + Nc + Sp + (m + kp) Wp) / (L + m)
		 *   E = Wp + Wc + (Np + Sc + Nc + Sp) / (L + m)
		 */
		/* (only reached with Wc < Wp, see above) */
		m = floor_eps(((L - kc - 1) * wc - sp) / (wp - wc));
		if (m < 0)
			m = 0;
		cycle = np + sc + kc * wc + nc + sp + (m + kp) * wp;
		out->t_ns = cycle / (L + m);
		out->e_ns = wp + wc + (np + sc + nc + sp) / (L + m);
		out->batch = L + m;
		/*
		 * eq. 17, which the paper says also holds here; but P restarts
		 * before C drains the queue, so the request can also wait
		 * behind the whole queue after C's start-up and notification.
		 */
		out->d_ns = fmax(d_short, 2 * wp + sc + nc + (L + 1) * wc);
		break;
	case VS_REGIME_NSPS:
		/*
		 * The mirror of nSCS (Sec. 2.3.4). Cycle start: C frees the
		 * kc-th slot for a blocked P and notifies (Nc). C drains the
		 * L - kc items and blocks before P, starting Sp later,
		 * publishes; P publishes kp items, notifies (Np), C starts Sc
		 * later; P, faster, fills the queue m items after C started:
		 *   m = floor(((L-kp-1) Wp - Sc) / (Wc - Wp))
		 * and blocks; C frees kc more slots: next cycle.
		 *   T = (Nc + Sp + kp Wp + Np + Sc + (m + kc) Wc) / (L + m)
		 *   E = Wp + Wc + (Np + Sc + Nc + Sp) / (L + m)
		 */
		m = floor_eps(((L - kp - 1) * wp - sc) / (wc - wp));
		if (m < 0)
			m = 0;
		cycle = nc + sp + kp * wp + np + sc + (m + kc) * wc;
		out->t_ns = cycle / (L + m);
		out->e_ns = wp + wc + (np + sc + nc + sp) / (L + m);
		out->batch = L + m;
		out->d_ns = d_short;
		break;
	default:
		/*
		 * Sec. 2.3.5, eq. 16: each cycle moves exactly L items; P and
		 * C alternate, so the cycle is the serial sum
		 *   kp Wp + Np + Sc + kc Wc + Nc + Sp
		 * (the other L - kp and L - kc items overlap the start-ups).
		 */
		cycle = kp * wp + np + sc + kc * wc + nc + sp;
		out->t_ns = cycle / L;
		out->e_ns = wp + wc + (np + sp + nc + sc) / L;
		out->batch = L;
		out->d_ns = d_short;
		break;
	}
	/* A lone request with kp > 1 waits for kp - 1 later ones before P
	 * notifies a blocked C: no bound where C blocks. */
	if (p->kp > 1 && out->regime != VS_REGIME_NFP)
		out->d_ns = INFINITY;
}

/*
 * Hybrid, poll then block (docs/hybrid.md derives each case and shows the
 * time diagrams). Fast consumer shown (Wc <= Wp); a fast producer is the
 * mirror image (P <-> C, Wp <-> Wc, kp <-> kc, Np <-> Nc, Sp <-> Sc, free
 * slots <-> queued items). g = Wp - Wc is the gap C sees after each item
 * once it has caught up with P.
 *  - Pc >= g: the poll spans every gap, C never blocks again once it has
 *    caught up: busy waiting (BW), E = Wp + Wc + g.
 *  - queue absorbs Sc (Table 3's first inequality): nFC's cycle. C catches
 *    up after b items with the next one delta = (q+1) g - Sc - (kp-1) Wc
 *    away (q = b - kp); if delta <= Pc the poll catches it, C serves one
 *    more item, then the gap is g > Pc and it blocks: b' = b + 1. C's CPU
 *    per cycle gains the failed poll Pc and the successful delta.
 *  - queue does not absorb Sc: P finds it full w = Sc + Wc - (L-kp) Wp
 *    before C frees the first slot. Pp >= w: P polls through, never
 *    blocks; C then catches up after b = L + floor((L-2) Wc / g) items, the
 *    next delta = (q+1) g - (L-2) Wc away, and T = Wp + (Np + w) / b'.
 *    Pp < w: P blocks after Pp (before C frees anything, so kc counts as
 *    with notify) and the cycle is nSCS's or nSS's, where C's poll may
 *    again catch one more item at the end of its drain.
 * Pp = Pc = 0 is exactly notify; large Pp, Pc make it BW.
 */
static void hybrid_fast_side(const struct vs_params *p, int fc,
			     struct vs_prediction *out)
{
	/* The fast side's and the slow side's values (FC: C fast, P slow). */
	double wf = fc ? p->wc : p->wp, ws = fc ? p->wp : p->wc;
	double kf = fc ? p->kp : p->kc, ks = fc ? p->kc : p->kp;
	double nf = fc ? p->np : p->nc, ns = fc ? p->nc : p->np;
	double sf = fc ? p->sc : p->sp, ss = fc ? p->sp : p->sc;
	double pf = fc ? p->pc : p->pp, ps = fc ? p->pp : p->pc;
	double L = p->len, g = ws - wf, w, q, b, delta, m, cycle, x;
	int caught;

	/* The wait of the slow side for the fast side's start-up. */
	w = sf + wf - (L - kf) * ws;
	if (w <= 0 || ps >= w) {
		if (w <= 0) {
			/* nFC (nFP): the slow side never waits */
			q = floor_eps((sf + (kf - 1) * wf) / g);
			b = kf + q;
			delta = (q + 1) * g - sf - (kf - 1) * wf;
		} else {
			/* the slow side polls through the start-up */
			q = floor_eps((L - 2) * wf / g);
			b = L + q;
			delta = (q + 1) * g - (L - 2) * wf;
		}
		/* delta <= g: a poll that spans g catches up for good */
		if (pf >= g) {
			busy_predict(p, out);
			return;
		}
		caught = delta <= pf;
		b += caught;
		out->batch = b;
		if (w <= 0) {
			out->regime = fc ? VS_REGIME_NFC : VS_REGIME_NFP;
			out->t_ns = ws + nf / b;
			out->e_ns = p->wp + p->wc +
				    (nf + sf + pf + (caught ? delta : 0)) / b;
		} else {
			out->regime = fc ? VS_REGIME_NSCS : VS_REGIME_NSPS;
			out->t_ns = ws + (nf + w) / b;
			out->e_ns = p->wp + p->wc +
				    (nf + sf + w + pf + (caught ? delta : 0)) / b;
		}
		return;
	}
	/* The slow side blocks after polling ps. */
	x = (L - ks - 1) * wf - ss;	/* Table 3's other inequality, shifted */
	if (x >= g) {
		/* nSCS (nSPS): the fast side drains m items after the slow
		 * side restarts, its poll may catch one more (delta <= g) */
		if (pf >= g) {
			busy_predict(p, out);
			return;
		}
		out->regime = fc ? VS_REGIME_NSCS : VS_REGIME_NSPS;
		m = floor_eps(x / g);
		delta = (m + 1) * g - x;
		caught = delta <= pf;
		m += caught;
		cycle = nf + sf + ks * wf + ns + ss + (m + kf) * ws;
		out->batch = L + m;
		out->t_ns = cycle / (L + m);
		out->e_ns = p->wp + p->wc + (nf + sf + ns + ss + ps + pf +
					     (caught ? delta : 0)) / (L + m);
		return;
	}
	/*
	 * nSS: the fast side drains the queue before the slow side restarts;
	 * its poll catches the slow side's first item if that comes within
	 * pf (then it is caught up for good when pf >= g, else it blocks
	 * after that one item).
	 */
	delta = ss + ws - (L - ks) * wf;
	caught = delta <= pf;
	if (caught && pf >= g) {
		busy_predict(p, out);
		return;
	}
	out->regime = VS_REGIME_NSS;
	cycle = kf * ws + nf + sf + ks * wf + ns + ss + (caught ? ws : 0);
	out->batch = L + caught;
	out->t_ns = cycle / (L + caught);
	out->e_ns = p->wp + p->wc + (nf + sf + ns + ss + ps + pf +
				     (caught ? delta : 0)) / (L + caught);
}

/*
 * From a cold start (both parties look at the empty queue at t = 0, as the
 * simulator and the device start), does C's first poll, still without any
 * start-up cost, lead straight to busy waiting? A hybrid pair can settle in
 * either of two steady states, polling or the notification cycle: which one
 * depends on how it started (docs/hybrid.md).
 *  - C catches P's first item (Pc >= Wp). With a fast consumer every gap
 *    after that is g = Wp - Wc < Wp <= Pc: busy waiting.
 *  - With a fast producer C works from Wp on; P fills the queue and waits
 *    Wc - (L-1) Wp for C's first free; if its poll covers that and every
 *    later gap Wc - Wp, it is busy waiting too. Otherwise P blocks and
 *    the notification cycle follows, as derived for the steady state.
 */
static bool hybrid_cold_start_polls(const struct vs_params *p)
{
	if (p->pc < p->wp)
		return false;
	if (p->wc <= p->wp)
		return true;
	return p->pp >= p->wc - p->wp &&
	       p->pp >= p->wc - (p->len - 1) * p->wp;
}

static void hybrid_predict(const struct vs_params *p, struct vs_prediction *out)
{
	double d_short = 2 * p->wp + (p->kc + 1) * p->wc + 2 * p->sc + p->nc +
			 p->np + p->sp;

	if (p->pp == 0 && p->pc == 0) {
		notify_predict(p, out);
		return;
	}
	if (hybrid_cold_start_polls(p))
		busy_predict(p, out);
	else
		hybrid_fast_side(p, p->wc <= p->wp, out);
	/*
	 * D: busy's where polling spans every gap; where a side blocks,
	 * notify's bound for the regime (polling only shortens the waits it
	 * covers), with the larger batch in nFP's count of notifications.
	 */
	switch (out->regime) {
	case VS_REGIME_BW:
		return;
	case VS_REGIME_NFC:
		out->d_ns = 2 * p->wp + 2 * p->np + p->sc + p->wc;
		break;
	case VS_REGIME_NFP:
		out->d_ns = (p->len + 1) * p->wc +
			    p->nc * (1 + floor_eps((p->len - p->kc) / out->batch));
		break;
	case VS_REGIME_NSCS:
		out->d_ns = fmax(d_short, 2 * p->wp + p->sc + p->nc +
				 (p->len + 1) * p->wc);
		break;
	default:
		out->d_ns = d_short;
		break;
	}
	/* kp > 1: a lone request waits for later ones where C blocks. */
	if (p->kp > 1 && out->regime != VS_REGIME_NFP)
		out->d_ns = INFINITY;
}

int vs_model_predict(const struct vs_params *p, enum vs_mech m,
		     struct vs_prediction *out)
{
	int err;

	if (!out)
		return -EINVAL;
	err = vs_params_validate(p, NULL);
	if (err)
		return err;
	prediction_init(out, m);
	switch (m) {
	case VS_MECH_BUSY:
		busy_predict(p, out);
		return 0;
	case VS_MECH_SLEEP:
		sleep_predict(p, out);
		return 0;
	case VS_MECH_NOTIFY:
		notify_predict(p, out);
		return 0;
	case VS_MECH_HYBRID:
		hybrid_predict(p, out);
		out->mech = VS_MECH_HYBRID;
		return 0;
	default:
		return -EINVAL;
	}
}

int vs_model_predict_all(const struct vs_params *p,
			 struct vs_prediction out[VS_MECH_COUNT])
{
	int m, err;

	for (m = 0; m < VS_MECH_COUNT; m++) {
		err = vs_model_predict(p, (enum vs_mech)m, &out[m]);
		if (err)
			return err;
	}
	return 0;
}
