// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the simulator is given (sim.h): its random numbers, the names of
 * its variables, distributions and poll-window policies, the poll window's
 * adaptation, and the configuration with its defaults and checks. The run
 * itself is sim.c.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/sim.h"

/* ---- PRNG: xoshiro256** seeded through splitmix64 (Blackman, Vigna) ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void vs_rng_seed(struct vs_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
	r->has_spare = false;
	r->spare = 0;
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t vs_rng_next(struct vs_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double vs_rng_uniform(struct vs_rng *r)
{
	return (double)(vs_rng_next(r) >> 11) * 0x1.0p-53;
}

double vs_rng_exp(struct vs_rng *r)
{
	/* 1 - u is in (0, 1], so the log is finite. */
	return -log(1.0 - vs_rng_uniform(r));
}

double vs_rng_normal(struct vs_rng *r)
{
	/* Marsaglia's polar method: two values per accepted pair, the second
	 * kept in the generator state (so a seed still fixes the sequence). */
	double u, v, q, f;

	if (r->has_spare) {
		r->has_spare = false;
		return r->spare;
	}
	do {
		u = 2.0 * vs_rng_uniform(r) - 1.0;
		v = 2.0 * vs_rng_uniform(r) - 1.0;
		q = u * u + v * v;
	} while (q >= 1.0 || q == 0.0);
	f = sqrt(-2.0 * log(q) / q);
	r->spare = v * f;
	r->has_spare = true;
	return u * f;
}

/* ---- names ---- */

static const char *const var_names[VS_SIM_VAR_COUNT] = {
	[VS_SIM_WP] = "wp", [VS_SIM_WC] = "wc", [VS_SIM_NP] = "np",
	[VS_SIM_NC] = "nc", [VS_SIM_SP] = "sp", [VS_SIM_SC] = "sc",
	[VS_SIM_YP] = "yp", [VS_SIM_YC] = "yc",
};

static const char *const dist_names[] = {
	[VS_DIST_CONST] = "const", [VS_DIST_NORMAL] = "normal",
	[VS_DIST_EXP] = "exp",
};

const char *vs_sim_var_name(enum vs_sim_var v)
{
	return (unsigned int)v < VS_SIM_VAR_COUNT ? var_names[v] : "?";
}

int vs_sim_var_from_name(const char *name, enum vs_sim_var *v)
{
	int i;

	for (i = 0; i < VS_SIM_VAR_COUNT; i++)
		if (name && !strcmp(name, var_names[i])) {
			*v = i;
			return 0;
		}
	return -EINVAL;
}

const char *vs_dist_name(enum vs_dist_kind k)
{
	return (unsigned int)k <= VS_DIST_EXP ? dist_names[k] : "?";
}

int vs_dist_from_name(const char *name, enum vs_dist_kind *k)
{
	int i;

	for (i = 0; i <= VS_DIST_EXP; i++)
		if (name && !strcmp(name, dist_names[i])) {
			*k = i;
			return 0;
		}
	return -EINVAL;
}

static const char *const adapt_names[VS_POLL_ADAPT_COUNT] = {
	[VS_POLL_FIXED] = "fixed", [VS_POLL_QEMU] = "qemu",
	[VS_POLL_KVM] = "kvm",
};

const char *vs_poll_adapt_name(enum vs_poll_adapt k)
{
	return (unsigned int)k < VS_POLL_ADAPT_COUNT ? adapt_names[k] : "?";
}

int vs_poll_adapt_from_name(const char *name, enum vs_poll_adapt *k)
{
	int i;

	for (i = 0; i < VS_POLL_ADAPT_COUNT; i++)
		if (name && !strcmp(name, adapt_names[i])) {
			*k = i;
			return 0;
		}
	return -EINVAL;
}

/* The documented defaults: QEMU grows a window from 0 to 4 us, KVM's
 * halt_poll_ns_grow_start is 10 us; both double and reset to 0. */
#define QEMU_POLL_START_NS	4000
#define KVM_POLL_START_NS	10000

double vs_poll_adapt_next(const struct vs_poll_ctl *ctl, double max_ns,
			  double window, double waited)
{
	double start, v;

	if (ctl->kind == VS_POLL_FIXED)
		return max_ns;
	start = ctl->start_ns > 0 ? ctl->start_ns :
		ctl->kind == VS_POLL_KVM ? KVM_POLL_START_NS : QEMU_POLL_START_NS;
	if (waited <= window)
		return window;		/* the window fitted: keep it */
	if (waited > max_ns) {
		/* longer than polling may ever take: poll less */
		v = ctl->shrink > 0 ? window / ctl->shrink : 0;
		if (ctl->kind == VS_POLL_KVM && v < start)
			v = 0;
		return v;
	}
	if (window >= max_ns)
		return window;
	/* longer than the window, shorter than the maximum: poll longer */
	v = window > 0 ? window * (ctl->grow > 0 ? ctl->grow : 2) : start;
	if (v < start)
		v = start;
	return v < max_ns ? v : max_ns;
}

int vs_sim_mode_from_name(const char *name, enum vs_mech *m)
{
	int i;

	for (i = 0; i < VS_MECH_COUNT; i++)
		if (name && !strcmp(name, vs_mech_name(i))) {
			*m = i;
			return 0;
		}
	return -EINVAL;
}

double *vs_sim_var_field(struct vs_params *p, enum vs_sim_var v)
{
	switch (v) {
	case VS_SIM_WP: return &p->wp;
	case VS_SIM_WC: return &p->wc;
	case VS_SIM_NP: return &p->np;
	case VS_SIM_NC: return &p->nc;
	case VS_SIM_SP: return &p->sp;
	case VS_SIM_SC: return &p->sc;
	case VS_SIM_YP: return &p->yp;
	case VS_SIM_YC: return &p->yc;
	default: return NULL;
	}
}

void vs_sim_config_default(struct vs_sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	vs_params_default(&cfg->p);
	cfg->p_mode = VS_MECH_NOTIFY;
	cfg->c_mode = VS_MECH_NOTIFY;
	cfg->recheck_ns = 20;
	cfg->items = 200000;
	cfg->warmup_items = UINT64_MAX;
	cfg->seed = 1;
}

int vs_sim_config_validate(const struct vs_sim_config *cfg, const char **why)
{
	const char *dummy;
	int i, err;

	if (!why)
		why = &dummy;
	err = vs_params_validate(&cfg->p, why);
	if (err)
		return err;
	if ((unsigned int)cfg->p_mode >= VS_MECH_COUNT) {
		*why = "p-mode";
		return -EINVAL;
	}
	if ((unsigned int)cfg->c_mode >= VS_MECH_COUNT) {
		*why = "c-mode";
		return -EINVAL;
	}
	if ((unsigned int)cfg->poll_p.kind >= VS_POLL_ADAPT_COUNT ||
	    (unsigned int)cfg->poll_c.kind >= VS_POLL_ADAPT_COUNT ||
	    !(cfg->poll_p.grow >= 0) || !(cfg->poll_c.grow >= 0) ||
	    !(cfg->poll_p.shrink >= 0) || !(cfg->poll_c.shrink >= 0) ||
	    !(cfg->poll_p.start_ns >= 0) || !(cfg->poll_c.start_ns >= 0) ||
	    !isfinite(cfg->poll_p.grow + cfg->poll_c.grow + cfg->poll_p.shrink +
		      cfg->poll_c.shrink + cfg->poll_p.start_ns +
		      cfg->poll_c.start_ns)) {
		*why = "poll-adapt";
		return -EINVAL;
	}
	for (i = 0; i < VS_SIM_VAR_COUNT; i++) {
		if ((unsigned int)cfg->dist[i].kind > VS_DIST_EXP ||
		    !isfinite(cfg->dist[i].sigma) || cfg->dist[i].sigma < 0) {
			*why = var_names[i];
			return -EINVAL;
		}
	}
	if (!isfinite(cfg->arrival_rate) || cfg->arrival_rate < 0) {
		*why = "arrival-rate";
		return -EINVAL;
	}
	if (!isfinite(cfg->recheck_ns) || cfg->recheck_ns < 0) {
		*why = "recheck";
		return -EINVAL;
	}
	if (!isfinite(cfg->sim_time_ns) || cfg->sim_time_ns < 0 ||
	    (cfg->sim_time_ns == 0 && cfg->items == 0)) {
		*why = cfg->sim_time_ns ? "sim-time" : "items";
		return -EINVAL;
	}
	return 0;
}
