// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync model --queues N: shared polling cores (lib/model/mq.h). For
 * given loads: throughput, CPU and p98 of one consumer per queue and of
 * S = 1..N shared pollers, the fewest pollers that meet --dmax, and how far
 * the loads may grow before one more poller is needed; --sim runs the
 * simulator next to the closed forms.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-mq.h"
#include "cmd.h"
#include "core/units.h"
#include "model/mq.h"
#include "model-mq.h"

enum {
	OPT_QUEUES = 0x300, OPT_POLLERS, OPT_RATE, OPT_BURST, OPT_WC, OPT_LEN,
	OPT_BATCH, OPT_VISIT, OPT_IDLE, OPT_WAKE, OPT_WAKE_MIN, OPT_WAKE_CPU, OPT_KICK_CPU,
	OPT_DMAX, OPT_SIM, OPT_SIM_TIME, OPT_SEED, OPT_END,
};

static struct {
	const char *arg[OPT_END - OPT_QUEUES];
	bool sim;
} mq;

static const char mq_doc[] =
"Shared polling cores: S pollers over N queues (ELVIS), against one consumer\n"
"per queue. For each S: throughput, CPUs (pollers and the producers' kicks),\n"
"the worst queue's p98 latency, and the load factor at which one more poller\n"
"is needed; the fewest pollers that meet --dmax.\n"
"\n"
"Synopsis: virtsync model --queues N [--pollers S] [--rate R[,R..]]\n"
"          [--burst B[,..]] [--wc T[,..]] [--visit T] [--idle T] [--wake T]\n"
"          [--dmax T] [--sim] [--json]\n"
"\n"
"Examples:\n"
"    virtsync model --queues 8 --rate 20k --wc 2us --dmax 100us\n"
"    virtsync model --queues 4 --rate 40k,5k --wc 5us,1us --pollers 2 --sim";

static const struct argp_option mq_opts[] = {
	{ "queues", OPT_QUEUES, "N", 0, "N queues (1..64)", 0 },
	{ "pollers", OPT_POLLERS, "S", 0, "details of S shared pollers (0: one "
	  "consumer per queue); without it every S", 0 },
	{ "rate", OPT_RATE, "R[,R..]", 0, "items per second per queue (10k)", 0 },
	{ "burst", OPT_BURST, "B[,B..]", 0, "items per arrival, a mean (8)", 0 },
	{ "wc", OPT_WC, "T[,T..]", 0, "work per item (2us)", 0 },
	{ "len", OPT_LEN, "L", 0, "ring length (256)", 0 },
	{ "batch", OPT_BATCH, "K", 0, "items per visit at most (64)", 0 },
	{ "visit", OPT_VISIT, "TIME", 0, "cost of a visit that finds nothing (10ns)", 0 },
	{ "idle", OPT_IDLE, "TIME", 0, "pollers block after this long idle "
	  "(200us; one consumer per queue: 0)", 0 },
	{ "wake", OPT_WAKE, "TIME", 0, "kick to running (20us)", 0 },
	{ "wake-min", OPT_WAKE_MIN, "TIME", 0, "the fixed part of a wake-up (0: "
	  "all exponential)", 0 },
	{ "wake-cpu", OPT_WAKE_CPU, "TIME", 0, "CPU of a block and wake-up (5us)", 0 },
	{ "kick-cpu", OPT_KICK_CPU, "TIME", 0, "CPU of a kick, producer side (15us)", 0 },
	{ "dmax", OPT_DMAX, "TIME", 0, "latency bound on every queue's p98", 0 },
	{ "sim", OPT_SIM, NULL, 0, "also run the simulator", 0 },
	{ "sim-time", OPT_SIM_TIME, "TIME", 0, "simulated time per poller (2s)", 0 },
	{ "seed", OPT_SEED, "N", 0, "simulator seed", 0 },
	{ 0 },
};

static error_t mq_parse(int key, char *arg, struct argp_state *state)
{
	if (key == OPT_SIM) {
		mq.sim = true;
		return 0;
	}
	if (key >= OPT_QUEUES && key < OPT_END) {
		mq.arg[key - OPT_QUEUES] = arg;
		return 0;
	}
	if (key == ARGP_KEY_ARG) {
		vs_err("unexpected argument '%s'", arg);
		return EINVAL;
	}
	return ARGP_ERR_UNKNOWN;
}

static const char *a(int key)
{
	return mq.arg[key - OPT_QUEUES];
}

static int build(struct vs_mq_params *p, double *dmax, int *pollers,
		 double *sim_ns, uint64_t *seed)
{
	double v[VS_MQ_MAX];
	unsigned int u[VS_MQ_MAX], i, n;
	uint64_t x;
	const char *why;
	int err;

	vs_mq_params_default(p);
	*dmax = NAN;
	*pollers = -1;
	*sim_ns = 2e9;
	*seed = 1;
	err = opt_uint("--queues", a(OPT_QUEUES), 1, VS_MQ_MAX, &p->n_queues);
	n = p->n_queues;
	if (!err && a(OPT_POLLERS)) {
		err = opt_uint("--pollers", a(OPT_POLLERS), 0, VS_MQ_MAX, &u[0]);
		if (!err && u[0] > n) {
			vs_err("--pollers: %u pollers for %u queues (at most one per queue)",
			       u[0], n);
			err = -EINVAL;
		}
		*pollers = (int)u[0];
	}
	if (!err && a(OPT_RATE) && !(err = bench_mq_parse_rates("--rate", a(OPT_RATE), v, n)))
		for (i = 0; i < n; i++)
			p->q[i].rate = v[i];
	if (!err && a(OPT_BURST) && !(err = bench_mq_parse_numbers("--burst", a(OPT_BURST), v, n)))
		for (i = 0; i < n; i++)
			p->q[i].burst = v[i];
	if (!err && a(OPT_WC) && !(err = bench_mq_parse_times("--wc", a(OPT_WC), v, n)))
		for (i = 0; i < n; i++)
			p->q[i].wc_ns = v[i];
	if (!err && a(OPT_LEN)) {
		err = opt_uint("--len", a(OPT_LEN), 2, 32768, &p->len);
		if (!err && (p->len & (p->len - 1))) {
			vs_err("--len: %s is not a power of two", a(OPT_LEN));
			err = -EINVAL;
		}
	}
	if (!err && a(OPT_BATCH))
		err = opt_uint("--batch", a(OPT_BATCH), 1, 32768, &p->batch);
	if (!err && a(OPT_VISIT))
		err = opt_time_in("--visit", a(OPT_VISIT), 0, 1e6, &p->visit_ns);
	if (!err && a(OPT_IDLE))
		err = opt_time_in("--idle", a(OPT_IDLE), 0, 3600e9, &p->idle_ns);
	if (!err && a(OPT_WAKE))
		err = opt_time_in("--wake", a(OPT_WAKE), 0, 1e9, &p->wake_ns);
	if (!err && a(OPT_WAKE_MIN))
		err = opt_time_in("--wake-min", a(OPT_WAKE_MIN), 0, 1e9, &p->wake_min_ns);
	if (!err && a(OPT_WAKE_CPU))
		err = opt_time_in("--wake-cpu", a(OPT_WAKE_CPU), 0, 1e9, &p->wake_cpu_ns);
	if (!err && a(OPT_KICK_CPU))
		err = opt_time_in("--kick-cpu", a(OPT_KICK_CPU), 0, 1e9, &p->kick_cpu_ns);
	if (!err && a(OPT_DMAX))
		err = opt_time_in("--dmax", a(OPT_DMAX), VS_DMAX_MIN_NS, VS_DMAX_MAX_NS, dmax);
	if (!err && a(OPT_SIM_TIME))
		err = opt_duration("--sim-time", a(OPT_SIM_TIME), 1e6, 3600e9, sim_ns);
	if (!err && a(OPT_SEED))
		err = opt_u64("--seed", a(OPT_SEED), 0, UINT64_MAX, seed);
	if (!err && (a(OPT_SIM_TIME) || a(OPT_SEED)) && !mq.sim) {
		vs_err("%s: only with --sim", a(OPT_SIM_TIME) ? "--sim-time" : "--seed");
		err = -EINVAL;
	}
	if (!err && vs_mq_params_validate(p, &why)) {
		vs_err("invalid parameters: %s", why);
		err = -EINVAL;
	}
	(void)x;
	return err;
}

/* The parameters of one shape: S pollers, or one consumer per queue
 * (whose idle budget is 0 unless --idle says). */
static struct vs_mq_params shape(const struct vs_mq_params *p, unsigned int s)
{
	struct vs_mq_params t = *p;

	t.n_pollers = s;
	if (!s && !a(OPT_IDLE))
		t.idle_ns = 0;
	return t;
}

static json_t *pred_json(const struct vs_mq_pred *pr, unsigned int n_queues,
			 double headroom)
{
	json_t *o = json_object(), *qs = json_array(), *ps = json_array();
	unsigned int i;

	json_object_set_new(o, "t_ops", vs_json_num(pr->t_ops));
	json_object_set_new(o, "cpu", vs_json_num(pr->cpu));
	json_object_set_new(o, "cpu_kicks", vs_json_num(pr->cpu_kicks));
	json_object_set_new(o, "p98_ns", vs_json_num(pr->p98_ns));
	json_object_set_new(o, "saturated_queues", json_integer(pr->n_saturated));
	if (!isnan(headroom))
		json_object_set_new(o, "headroom", vs_json_num(headroom));
	for (i = 0; i < n_queues; i++) {
		const struct vs_mq_queue_pred *q = &pr->q[i];

		json_array_append_new(qs, json_pack("{s:I,s:I,s:o,s:b,s:o,s:o,s:o,s:o}",
			"queue", (json_int_t)i, "poller", (json_int_t)q->poller,
			"t_ops", vs_json_num(q->t_ops), "saturated", q->saturated,
			"mean_ns", vs_json_num(q->mean_ns), "p50_ns", vs_json_num(q->p50_ns),
			"p98_ns", vs_json_num(q->p98_ns), "kicks_per_s", vs_json_num(q->kicks_per_s)));
	}
	for (i = 0; i < pr->n_pollers; i++) {
		const struct vs_mq_poller_pred *p = &pr->p[i];

		json_array_append_new(ps, json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:b}",
			"poller", (json_int_t)i, "queues", (json_int_t)p->n_queues,
			"rho", vs_json_num(p->rho), "util", vs_json_num(p->util),
			"blocked", vs_json_num(p->blocked), "cpu", vs_json_num(p->cpu),
			"blocks_per_s", vs_json_num(p->blocks_per_s),
			"cycle_ns", vs_json_num(p->cycle_ns), "saturated", p->saturated));
	}
	json_object_set_new(o, "queues", qs);
	json_object_set_new(o, "pollers", ps);
	return o;
}

static void row(const char *label, const struct vs_mq_pred *pr, double headroom,
		const struct vs_mq_pred *sim)
{
	char t[VS_FMT_LEN], p98[VS_FMT_LEN], s98[VS_FMT_LEN], st[VS_FMT_LEN];

	printf("%-11s %9s %6.2f %6.2f %9s %4u %8s",
	       label, vs_format_count(pr->t_ops, t, sizeof(t)), pr->cpu, pr->cpu_kicks,
	       vs_format_time(pr->p98_ns, p98, sizeof(p98)), pr->n_saturated,
	       isnan(headroom) ? "-" : (snprintf(st, sizeof(st), "x%.3g", headroom), st));
	if (sim)
		printf(" %6.2f %9s", sim->cpu, vs_format_time(sim->p98_ns, s98, sizeof(s98)));
	putchar('\n');
}

static double offered(const struct vs_mq_params *p)
{
	double r = 0;
	unsigned int i;

	for (i = 0; i < p->n_queues; i++)
		r += p->q[i].rate;
	return r;
}

static int simulate(const struct vs_mq_params *p, double sim_ns, uint64_t seed,
		    struct vs_mq_sim_result *r)
{
	struct vs_mq_sim_config c = { .p = *p, .sim_ns = sim_ns, .seed = seed };
	int err;

	if (c.p.len & (c.p.len - 1))
		return -EINVAL;
	err = vs_mq_sim(&c, r);
	if (err)
		vs_err("simulator: %s", strerror(-err));
	return err;
}

int model_queues(int argc, char **argv)
{
	static const struct argp_child children[] = {
		{ &vs_common_argp, 0, "Common options:", 0 },
		{ 0 },
	};
	const struct argp argp = { .options = mq_opts, .parser = mq_parse,
				   .doc = mq_doc, .children = children };
	struct vs_mq_params p, t;
	struct vs_mq_pred pr, need;
	struct vs_mq_sim_result *sim = NULL;
	unsigned int s, s_need = 0, first, last;
	double dmax, sim_ns, head;
	uint64_t seed;
	int pollers, err;
	json_t *doc = NULL, *shapes = NULL;
	char buf[VS_FMT_LEN], b2[VS_FMT_LEN];

	memset(&mq, 0, sizeof(mq));
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	if (build(&p, &dmax, &pollers, &sim_ns, &seed))
		return VS_EXIT_USAGE;
	if (mq.sim && !(sim = calloc(1, sizeof(*sim)))) {
		vs_err("out of memory");
		return VS_EXIT_FAIL;
	}
	first = pollers >= 0 ? (unsigned int)pollers : 0;
	last = pollers >= 0 ? (unsigned int)pollers : p.n_queues;
	if (vs_global.json) {
		doc = json_object();
		shapes = json_array();
		vs_json_add_meta(doc, argc, argv);
	} else {
		printf("%u queues, %.0f items/s offered, %s a visit, idle %s\n",
		       p.n_queues, offered(&p),
		       vs_format_time(p.visit_ns, buf, sizeof(buf)),
		       vs_format_time(p.idle_ns, b2, sizeof(b2)));
		printf("shape        items/s   cpus  kicks       p98  sat headroom%s\n",
		       sim ? " simcpu    simp98" : "");
	}
	for (s = first; s <= last; s++) {
		t = shape(&p, s);
		err = vs_mq_predict(&t, &pr);
		if (err) {
			vs_err("model: %s", strerror(-err));
			goto fail;
		}
		head = vs_mq_headroom(&t, dmax);
		if (sim && simulate(&t, sim_ns, seed, sim))
			goto fail;
		if (doc) {
			json_t *o = pred_json(&pr, p.n_queues, head);

			json_object_set_new(o, "pollers_asked", json_integer(s));
			json_object_set_new(o, "shape", json_string(s ? "shared-pollers" :
								     "per-queue"));
			if (sim) {
				json_t *so = pred_json(&sim->pred, p.n_queues, NAN);

				json_object_set_new(so, "events", json_integer((json_int_t)sim->events));
				json_object_set_new(so, "lost", json_integer((json_int_t)sim->lost));
				json_object_set_new(o, "sim", so);
			}
			json_array_append_new(shapes, o);
		} else {
			char label[24];

			if (s)
				snprintf(label, sizeof(label), "%u poller%s", s, s > 1 ? "s" : "");
			else
				snprintf(label, sizeof(label), "per-queue");
			row(label, &pr, head, sim ? &sim->pred : NULL);
		}
	}
	err = vs_mq_pollers_needed(&p, dmax, &s_need, &need);
	if (doc) {
		json_t *n = json_object();

		json_object_set_new(n, "pollers", s_need ? json_integer(s_need) : json_null());
		json_object_set_new(n, "dmax_ns", vs_json_num(dmax));
		if (s_need) {
			json_object_set_new(n, "cpu", vs_json_num(need.cpu));
			json_object_set_new(n, "p98_ns", vs_json_num(need.p98_ns));
		}
		json_object_set_new(doc, "queues", json_integer(p.n_queues));
		json_object_set_new(doc, "offered_ops", vs_json_num(offered(&p)));
		json_object_set_new(doc, "shapes", shapes);
		json_object_set_new(doc, "needed", n);
		vs_json_print(doc);
	} else if (s_need) {
		printf("pollers needed%s%s: %u (cpus %.2f, p98 %s)\n",
		       isnan(dmax) ? "" : " at dmax ",
		       isnan(dmax) ? "" : vs_format_time(dmax, buf, sizeof(buf)), s_need,
		       need.cpu, vs_format_time(need.p98_ns, b2, sizeof(b2)));
	} else {
		printf("pollers needed: none suffices (even %u pollers miss%s%s)\n",
		       p.n_queues, isnan(dmax) ? " the load" : " dmax ",
		       isnan(dmax) ? "" : vs_format_time(dmax, buf, sizeof(buf)));
	}
	free(sim);
	return VS_EXIT_OK;
fail:
	json_decref(doc);
	free(sim);
	return VS_EXIT_FAIL;
}
