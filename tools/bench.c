// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync bench: drive the reference producer/consumer device (lib/pcdev)
 * and print what it measured next to what lib/model predicts from those
 * measurements.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-mq.h"
#include "cmd.h"
#include "analyze/validate.h"
#include "output/bench.h"
#include "pcdev/pcdev.h"
#include "core/units.h"

/* Each option is applied over the preset, whatever the order given. */
enum {
	OPT_BACKEND = 1000, OPT_MODE, OPT_P_MODE, OPT_C_MODE, OPT_WP, OPT_WC,
	OPT_LEN, OPT_KP, OPT_KC, OPT_SLEEP, OPT_YP, OPT_YC, OPT_BUSYLOOP,
	OPT_SLACK, OPT_DURATION, OPT_ITEMS, OPT_PIN, OPT_HALT_POLL,
	OPT_PRESET, OPT_TRACE, OPT_DMAX, OPT_RT, OPT_RING,
	OPT_QUEUES, OPT_POLLERS, OPT_RATE, OPT_BURST, OPT_BATCH, OPT_IDLE,
	OPT_STARVE, OPT_PIN_POLLERS, OPT_PIN_PRODUCERS, OPT_SEED, OPT_COUNT,
};

static struct env {
	const char *arg[OPT_COUNT - OPT_BACKEND];	/* raw text per option */
} env;

/* Shorter runs measure start-up, not the device (virtsync-bench(8)). */
#define BENCH_MIN_RUN_NS 10e6

static const char bench_doc[] =
"Run the reference virtio producer/consumer device and report throughput,\n"
"CPU per item, latency, notifications and the measured model parameters.\n"
"\n"
"Synopsis: virtsync bench [--backend thread|kvm] [--ring virtio|slots]\n"
"                         [--mode MODE] [--wp T] [--wc T] [--pin P,C]\n"
"                         [--len N] [--kp N] [--kc N] [--sleep T] [--json]\n"
"                         [--preset NAME] [--duration T] [--trace FILE]\n"
"\n"
"MODE is notify, sleep, poll or hybrid, for both sides (--mode) or one\n"
"(--p-mode, --c-mode).\n"
"\n"
"Examples:\n"
"    virtsync bench --mode notify --wp 3us --wc 2us   # fast consumer\n"
"    virtsync bench --preset fc-example --mode sleep  # Sec. 8.1, sleeping\n"
"    virtsync bench --mode poll --wp 0 --wc 0 --pin 0,1  # data-path ceiling\n"
"    virtsync bench --backend kvm --duration 2s --json\n"
"    virtsync bench --ring slots --mode poll --wp 0 --wc 0 --pin 0,1 # Fip-see";

static const struct argp_option bench_options[] = {
	{ "backend", OPT_BACKEND, "NAME", 0, "thread or kvm (default thread)", 0 },
	{ "ring", OPT_RING, "LAYOUT", 0, "virtio (split ring, default) or slots "
	  "(Fip-see: a flag per 64-byte slot, no shared index; thread backend)", 0 },
	{ "mode", 'm', "MODE", 0, "notify, sleep, poll or hybrid, both sides", 0 },
	{ "p-mode", OPT_P_MODE, "MODE", 0, "the producer's mode", 0 },
	{ "c-mode", OPT_C_MODE, "MODE", 0, "the consumer's mode", 0 },
	{ "wp", OPT_WP, "TIME", 0, "producer work per item (PAUSE spin)", 0 },
	{ "wc", OPT_WC, "TIME", 0, "consumer work per item", 0 },
	{ "len", OPT_LEN, "N", 0, "queue length, a power of two 2..32768", 0 },
	{ "kp", OPT_KP, "N", 0, "kick when N items are queued (default 1)", 0 },
	{ "kc", OPT_KC, "N", 0, "interrupt when N slots are free (3/4 L)", 0 },
	{ "sleep", 'y', "TIME", 0, "sleep length of both sides (Yp = Yc)", 0 },
	{ "yp", OPT_YP, "TIME", 0, "producer sleep length", 0 },
	{ "yc", OPT_YC, "TIME", 0, "consumer sleep length", 0 },
	{ "busyloop", OPT_BUSYLOOP, "TIME", 0, "hybrid mode: poll this long, then block", 0 },
	{ "timerslack", OPT_SLACK, "TIME", 0, "timer slack of both threads", 0 },
	{ "duration", 'd', "TIME", 0, "run length, 10ms to 1h (default 1s)", 0 },
	{ "items", OPT_ITEMS, "N", 0, "stop after N items", 0 },
	{ "pin", OPT_PIN, "P,C", 0, "pin producer and consumer to CPUs P and C", 0 },
	{ "halt-poll", OPT_HALT_POLL, "TIME", 0,
	  "kvm backend: the VM's halt polling (KVM_CAP_HALT_POLL); with "
	  "--queues a list, one per queue's VM", 0 },
	{ "preset", OPT_PRESET, "NAME", 0, "fc-example or fp-example (Sec. 8)", 0 },
	{ "trace", OPT_TRACE, "FILE", 0, "write the Sec. 4.2.1 event trace", 0 },
	{ "dmax", OPT_DMAX, "TIME", 0, "latency bound to check p98 against", 0 },
	{ "rt", OPT_RT, "PRIO", OPTION_ARG_OPTIONAL,
	  "run P and C SCHED_FIFO (priority 10, or PRIO; 0 off)", 0 },
	{ NULL, 0, NULL, 0, "Many queues (thread backend, or kvm: a VM per "
	  "queue; --wp, --wc take a list per queue there):", 1 },
	{ "queues", OPT_QUEUES, "N", 0, "N queues, each with its own rate-driven "
	  "producer", 1 },
	{ "pollers", OPT_POLLERS, "S", 0, "S shared pollers serve them (0, the "
	  "default: one consumer per queue)", 1 },
	{ "rate", OPT_RATE, "R[,R..]", 0, "items per second offered per queue "
	  "(default 10k; the last value repeats)", 1 },
	{ "burst", OPT_BURST, "B[,B..]", 0, "items per producer wake-up (default 8)", 1 },
	{ "batch", OPT_BATCH, "K", 0, "most items a poller takes per visit (64)", 1 },
	{ "idle", OPT_IDLE, "TIME", 0, "poll this long without work, then block "
	  "(pollers 200us, own consumers 0)", 1 },
	{ "starve", OPT_STARVE, "TIME", 0, "a wait above this is a starvation "
	  "event (1ms)", 1 },
	{ "pin-pollers", OPT_PIN_POLLERS, "CPU[,CPU..]", 0, "pin the pollers "
	  "(cycled)", 1 },
	{ "pin-producers", OPT_PIN_PRODUCERS, "CPU", 0, "pin every producer to CPU", 1 },
	{ "seed", OPT_SEED, "N", 0, "the producers' phases (default 1)", 1 },
	{ 0 },
};

static error_t bench_parse(int key, char *arg, struct argp_state *state)
{
	if (key == OPT_RT && !arg)
		arg = (char *)"10";
	/* the shared short forms (virtsync(8), SHARED OPTIONS) */
	if (key == 'm')
		key = OPT_MODE;
	else if (key == 'y')
		key = OPT_SLEEP;
	else if (key == 'd')
		key = OPT_DURATION;
	if (key >= OPT_BACKEND && key < OPT_COUNT) {
		env.arg[key - OPT_BACKEND] = arg;
		return 0;
	}
	if (key == ARGP_KEY_ARG) {
		vs_err("unexpected argument '%s'", arg);
		return EINVAL;
	}
	return ARGP_ERR_UNKNOWN;
}

static const char *opt(int key)
{
	return env.arg[key - OPT_BACKEND];
}

static int parse_mode(const char *name, const char *text, enum pcdev_mode *m)
{
	static const enum pcdev_mode of_wait[] = {
		[VS_WAITWORD_NOTIFY] = PCDEV_NOTIFY, [VS_WAITWORD_SLEEP] = PCDEV_SLEEP,
		[VS_WAITWORD_POLL] = PCDEV_POLL, [VS_WAITWORD_HYBRID] = PCDEV_BUSYLOOP,
	};
	enum vs_wait_word w;

	if (opt_wait_mode(name, text, &w))
		return -EINVAL;
	*m = of_wait[w];
	return 0;
}

static int parse_time(int key, const char *name, double *ns)
{
	return opt(key) ? opt_time(name, opt(key), ns) : 0;
}

static int parse_pin(const char *text, struct pcdev_config *cfg)
{
	unsigned int p, c;
	char tail;

	if (sscanf(text, "%u,%u%c", &p, &c, &tail) != 2 || p > 4095 || c > 4095) {
		vs_err("--pin: '%s' is not two CPU numbers P,C", text);
		return -EINVAL;
	}
	cfg->pin_p = (int)p;
	cfg->pin_c = (int)c;
	return 0;
}

/* Options onto cfg: preset first, then every explicit value. */
static int build_config(struct pcdev_config *cfg, double *dmax)
{
	uint64_t u;
	double y;
	int err = 0;

	pcdev_config_default(cfg);
	*dmax = NAN;
	if (opt(OPT_PRESET)) {
		if (pcdev_config_preset(opt(OPT_PRESET), cfg, dmax)) {
			vs_err("--preset: unknown preset '%s' (fc-example, fp-example, fc-tune)",
			       opt(OPT_PRESET));
			return -EINVAL;
		}
	}
	if (opt(OPT_BACKEND)) {
		if (!strcmp(opt(OPT_BACKEND), "thread"))
			cfg->backend = PCDEV_BACKEND_THREAD;
		else if (!strcmp(opt(OPT_BACKEND), "kvm"))
			cfg->backend = PCDEV_BACKEND_KVM;
		else {
			vs_err("--backend: unknown backend '%s' (thread, kvm)",
			       opt(OPT_BACKEND));
			return -EINVAL;
		}
	}
	if (opt(OPT_RING) && pcdev_ring_from_name(opt(OPT_RING), &cfg->ring)) {
		vs_err("--ring: unknown layout '%s' (virtio, slots)", opt(OPT_RING));
		return -EINVAL;
	}
	if (cfg->ring == PCDEV_RING_SLOTS && cfg->backend != PCDEV_BACKEND_THREAD) {
		vs_err("--ring slots: thread backend only (the kvm guest drives the virtio ring)");
		return -EINVAL;
	}
	if (cfg->ring == PCDEV_RING_SLOTS && opt(OPT_TRACE)) {
		vs_err("--ring slots: no --trace on this layout");
		return -EINVAL;
	}
	if (opt(OPT_MODE)) {
		err = parse_mode("--mode", opt(OPT_MODE), &cfg->p_mode);
		cfg->c_mode = cfg->p_mode;
	}
	if (!err && opt(OPT_P_MODE))
		err = parse_mode("--p-mode", opt(OPT_P_MODE), &cfg->p_mode);
	if (!err && opt(OPT_C_MODE))
		err = parse_mode("--c-mode", opt(OPT_C_MODE), &cfg->c_mode);
	if (!err)
		err = parse_time(OPT_WP, "--wp", &cfg->wp_ns);
	if (!err)
		err = parse_time(OPT_WC, "--wc", &cfg->wc_ns);
	if (!err && opt(OPT_LEN)) {
		err = opt_uint("--len", opt(OPT_LEN), 2, 32768, &cfg->len);
		if (!err && (cfg->len & (cfg->len - 1))) {
			vs_err("--len: %s is not a power of two (2, 4, ... 32768)",
			       opt(OPT_LEN));
			err = -EINVAL;
		}
		/* kc follows L unless given: virtio's 3/4 L. */
		if (!err && !opt(OPT_KC))
			cfg->kc = cfg->len * 3 / 4 ? cfg->len * 3 / 4 : 1;
		if (!err && !opt(OPT_KP) && cfg->kp > cfg->len)
			cfg->kp = 1;
	}
	if (!err && opt(OPT_KP))
		err = opt_uint("--kp", opt(OPT_KP), 1, 32768, &cfg->kp);
	if (!err && opt(OPT_KC))
		err = opt_uint("--kc", opt(OPT_KC), 1, 32768, &cfg->kc);
	if (!err && cfg->kp > cfg->len) {
		vs_err("--kp: %u exceeds the queue length %u", cfg->kp, cfg->len);
		err = -EINVAL;
	}
	if (!err && cfg->kc > cfg->len) {
		vs_err("--kc: %u exceeds the queue length %u", cfg->kc, cfg->len);
		err = -EINVAL;
	}
	if (!err && opt(OPT_SLEEP)) {
		err = opt_time("--sleep", opt(OPT_SLEEP), &y);
		cfg->yp_ns = cfg->yc_ns = y;
	}
	if (!err)
		err = parse_time(OPT_YP, "--yp", &cfg->yp_ns);
	if (!err)
		err = parse_time(OPT_YC, "--yc", &cfg->yc_ns);
	if (!err)
		err = parse_time(OPT_BUSYLOOP, "--busyloop", &cfg->busyloop_ns);
	if (!err)
		err = parse_time(OPT_SLACK, "--timerslack", &cfg->timerslack_ns);
	if (!err && opt(OPT_DURATION))
		err = opt_duration("--duration", opt(OPT_DURATION), BENCH_MIN_RUN_NS,
				   3600e9, &cfg->duration_ns);
	if (!err && opt(OPT_DMAX))
		err = opt_time_in("--dmax", opt(OPT_DMAX), VS_DMAX_MIN_NS,
				  VS_DMAX_MAX_NS, dmax);
	if (!err && opt(OPT_ITEMS)) {
		err = opt_u64("--items", opt(OPT_ITEMS), 1, UINT64_MAX, &cfg->items);
		/* --items alone: run until that many, however long. */
		if (!err && !opt(OPT_DURATION))
			cfg->duration_ns = 0;
	}
	if (!err && opt(OPT_HALT_POLL)) {
		err = opt_time_in("--halt-poll", opt(OPT_HALT_POLL), 0,
				  UINT32_MAX, &y);
		cfg->halt_poll_ns = (int64_t)y;
	}
	if (!err && opt(OPT_HALT_POLL) && cfg->backend != PCDEV_BACKEND_KVM) {
		vs_err("--halt-poll: only with --backend kvm (the thread "
		       "backend has no vCPU)");
		err = -EINVAL;
	}
	if (!err && opt(OPT_PIN))
		err = parse_pin(opt(OPT_PIN), cfg);
	if (!err && opt(OPT_RT)) {
		err = opt_u64("--rt", opt(OPT_RT), 0, 98, &u);
		cfg->rt_priority = (int)u;
	}
	if (!err && !cfg->duration_ns && !cfg->items) {
		vs_err("--duration: must be above 0 unless --items is given");
		err = -EINVAL;
	}
	if (!err && (!pcdev_cpu_available(cfg->pin_p) ||
		     !pcdev_cpu_available(cfg->pin_c))) {
		vs_err("--pin: %s: CPU %d does not exist or is not available here",
		       opt(OPT_PIN), pcdev_cpu_available(cfg->pin_p) ?
		       cfg->pin_c : cfg->pin_p);
		err = -EINVAL;
	}
	if (!err && cfg->rt_priority && cfg->pin_p >= 0 && cfg->pin_p == cfg->pin_c &&
	    (cfg->p_mode == PCDEV_POLL || cfg->c_mode == PCDEV_POLL ||
	     cfg->p_mode == PCDEV_BUSYLOOP || cfg->c_mode == PCDEV_BUSYLOOP)) {
		vs_err("--pin %s with --rt: a real-time side that polls never lets "
		       "the other run on the same CPU", opt(OPT_PIN));
		err = -EINVAL;
	}
	cfg->trace_path = opt(OPT_TRACE);
	return err;
}

static const char *regime_or_dash(const struct vs_prediction *m)
{
	return m->regime < VS_REGIME_COUNT ? vs_regime_name(m->regime) : "-";
}

/* "prefix text" folded at word boundaries to 80 columns. */
static void print_wrapped(const char *prefix, const char *text)
{
	size_t indent = strlen(prefix), col = indent, w;
	const char *p = text;

	fputs(prefix, stdout);
	while (*p) {
		while (*p == ' ')
			p++;
		w = strcspn(p, " ");
		if (!w)
			break;
		if (col > indent && col + 1 + w > 80) {
			printf("\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			putchar(' ');
			col++;
		}
		fwrite(p, 1, w, stdout);
		col += w;
		p += w;
	}
	putchar('\n');
}

static void print_text(const struct pcdev_config *cfg,
		       const struct pcdev_results *r, const struct vs_prediction *model,
		       double dmax)
{
	const struct pcdev_latency *l = &r->latency;
	const struct pcdev_measured *m = &r->measured;
	char a[32], b[32];
	unsigned int i;

	printf("%s backend%s, P %s / C %s, L %u kp %u kc %u, Wp %s Wc %s\n",
	       pcdev_backend_name(cfg->backend),
	       cfg->ring == PCDEV_RING_SLOTS ? " on slots" : "",
	       pcdev_mode_name(cfg->p_mode),
	       pcdev_mode_name(cfg->c_mode), cfg->len, cfg->kp, cfg->kc,
	       vs_format_time(cfg->wp_ns, a, sizeof(a)),
	       vs_format_time(cfg->wc_ns, b, sizeof(b)));
	printf("items %llu in %s%s\n", (unsigned long long)r->items,
	       vs_format_time(r->elapsed_ns, a, sizeof(a)),
	       vs_stop_requested() ? " (stopped by signal: results so far)" : "");
	printf("throughput_ops %-12s T_ns %-10s E_ns %-10s batch %s\n",
	       vs_cell_num(r->throughput_ops), vs_cell_num(r->t_ns), vs_cell_num(r->e_ns), vs_cell_num(r->batch));
	printf("cpu            producer %-8s consumer %s\n",
	       vs_cell_num(r->cpu_producer), vs_cell_num(r->cpu_consumer));
	printf("kicks %llu  interrupts %llu  spurious %llu\n",
	       (unsigned long long)r->kicks, (unsigned long long)r->interrupts,
	       (unsigned long long)r->spurious);
	printf("sleeps %llu (P %llu, C %llu)  blocks P %llu, C %llu\n",
	       (unsigned long long)(r->sleeps_p + r->sleeps_c),
	       (unsigned long long)r->sleeps_p, (unsigned long long)r->sleeps_c,
	       (unsigned long long)r->blocks_p, (unsigned long long)r->blocks_c);
	printf("latency        p50 %s  p95 %s  p98 %s  p99 %s  max %s\n",
	       vs_cell_time(l->p50), vs_cell_time(l->p95), vs_cell_time(l->p98),
	       vs_cell_time(l->p99), vs_cell_time(l->max));
	if (!isnan(dmax))
		printf("dmax           %s: p98 %s\n", vs_cell_time(dmax),
		       l->p98 <= dmax ? "within" : "EXCEEDS");
	printf("measured (ns)  wp %s  wc %s  np %s  nc %s\n",
	       vs_cell_num(m->wp), vs_cell_num(m->wc), vs_cell_num(m->np), vs_cell_num(m->nc));
	printf("               sp %s  sc %s  yp %s  yc %s  yz %s\n",
	       vs_cell_num(m->sp), vs_cell_num(m->sc), vs_cell_num(m->yp), vs_cell_num(m->yc), vs_cell_num(m->yz));
	printf("model (%s)%*s regime %s  T_ns %s  E_ns %s  D_ns %s  batch %s\n",
	       vs_mech_name(model->mech),
	       (int)(7 - strlen(vs_mech_name(model->mech))), "",
	       regime_or_dash(model), vs_cell_num(model->t_ns), vs_cell_num(model->e_ns),
	       vs_cell_num(model->d_ns), vs_cell_num(model->batch));
	for (i = 0; i < r->n_kvm_stats; i++)
		printf("kvm_stats      %-32s %llu\n", r->kvm_stats[i].name,
		       (unsigned long long)r->kvm_stats[i].value);
	if (r->note[0])
		print_wrapped("note: ", r->note);
}

static void print_json(const struct pcdev_config *cfg,
		       const struct pcdev_results *r, const struct vs_prediction *model,
		       double dmax, int argc, char **argv)
{
	json_t *doc = json_object(), *run = vs_bench_json(cfg, r, model, dmax, vs_stop_requested());

	vs_json_add_meta(doc, argc, argv);
	if (run)
		json_object_update(doc, run);
	json_decref(run);
	vs_json_print(doc);
}

/* The multi-queue options given without --queues, or NULL. */
static const char *multi_queue_option(void)
{
	static const struct { int key; const char *name; } o[] = {
		{ OPT_POLLERS, "--pollers" }, { OPT_RATE, "--rate" },
		{ OPT_BURST, "--burst" }, { OPT_BATCH, "--batch" },
		{ OPT_IDLE, "--idle" }, { OPT_STARVE, "--starve" },
		{ OPT_PIN_POLLERS, "--pin-pollers" },
		{ OPT_PIN_PRODUCERS, "--pin-producers" }, { OPT_SEED, "--seed" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(o) / sizeof(o[0]); i++)
		if (opt(o[i].key))
			return o[i].name;
	return NULL;
}

static int bench_queues(int argc, char **argv)
{
	static const struct { int key; const char *name; } single[] = {
		{ OPT_MODE, "--mode" }, { OPT_P_MODE, "--p-mode" },
		{ OPT_C_MODE, "--c-mode" }, { OPT_KP, "--kp" }, { OPT_KC, "--kc" },
		{ OPT_SLEEP, "--sleep" }, { OPT_YP, "--yp" }, { OPT_YC, "--yc" },
		{ OPT_BUSYLOOP, "--busyloop" }, { OPT_SLACK, "--timerslack" },
		{ OPT_ITEMS, "--items" }, { OPT_PIN, "--pin" },
		{ OPT_PRESET, "--preset" },
		{ OPT_TRACE, "--trace" },
	};
	struct bench_mq_args a = {
		.queues = opt(OPT_QUEUES), .pollers = opt(OPT_POLLERS),
		.rate = opt(OPT_RATE), .burst = opt(OPT_BURST), .wp = opt(OPT_WP),
		.wc = opt(OPT_WC), .len = opt(OPT_LEN), .batch = opt(OPT_BATCH),
		.idle = opt(OPT_IDLE), .starve = opt(OPT_STARVE),
		.duration = opt(OPT_DURATION), .pin_pollers = opt(OPT_PIN_POLLERS),
		.pin_producers = opt(OPT_PIN_PRODUCERS), .rt = opt(OPT_RT),
		.dmax = opt(OPT_DMAX), .backend = opt(OPT_BACKEND),
		.ring = opt(OPT_RING), .seed = opt(OPT_SEED),
		.halt_poll = opt(OPT_HALT_POLL),
	};
	unsigned int i;

	for (i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		if (opt(single[i].key)) {
			a.single_only = single[i].name;
			break;
		}
	return bench_mq(&a, argc, argv);
}

VS_COMMAND(bench, 0, "run the reference producer/consumer device")
{
	static const struct argp_child children[] = {
		{ &vs_common_argp, 0, "Common options:", 0 },
		{ 0 },
	};
	const struct argp argp = {
		.options = bench_options,
		.parser = bench_parse,
		.doc = bench_doc,
		.children = children,
	};
	struct pcdev_config cfg;
	struct pcdev_results *res;
	double dmax;
	int err;

	memset(&env, 0, sizeof(env));
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return VS_EXIT_USAGE;
	if (opt(OPT_QUEUES))
		return bench_queues(argc, argv);
	if (!opt(OPT_QUEUES) && multi_queue_option()) {
		vs_err("%s: only with --queues", multi_queue_option());
		return VS_EXIT_USAGE;
	}
	if (build_config(&cfg, &dmax))
		return VS_EXIT_USAGE;
	cfg.dmax_ns = isnan(dmax) ? 0 : dmax;	/* published for tune --pid */
	if (cfg.backend == PCDEV_BACKEND_KVM && bench_kvm_usable())
		return VS_EXIT_FAIL;
	res = calloc(1, sizeof(*res));
	if (!res) {
		vs_err("out of memory");
		return VS_EXIT_FAIL;
	}
	vs_stop_on_signals();
	cfg.stop = vs_stop_flag();
	err = pcdev_run(&cfg, res);
	if (err == -EPERM && cfg.rt_priority) {
		bench_rt_error(err);
	} else if (err == -ENOTSUP) {
		vs_err("--backend %s: not available in this build (the KVM "
		       "backend, lib/pcdev/kvm.c, is not built in)",
		       pcdev_backend_name(cfg.backend));
	} else if (err == -EINVAL) {
		const char *why = NULL;

		pcdev_config_validate(&cfg, &why);
		vs_err("invalid configuration: %s", why ? why : strerror(-err));
	} else if (err && cfg.trace_path && (err == -ENOENT || err == -EACCES ||
					     err == -EROFS || err == -EISDIR)) {
		vs_err("--trace: cannot write '%s': %s", cfg.trace_path,
		       strerror(-err));
	} else if (err) {
		vs_err("%s backend failed: %s%s%s", pcdev_backend_name(cfg.backend),
		       strerror(-err), res->note[0] ? ": " : "", res->note);
	} else if (!res->items) {
		/* A rate of nothing is no figure: say so instead. */
		vs_err("no item went through the queue in %s; nothing to report "
		       "(give a longer --duration)",
		       vs_format_time(res->elapsed_ns, (char[VS_FMT_LEN]){ 0 },
				      VS_FMT_LEN));
		err = -ENODATA;
	} else {
		struct vs_prediction model;

		pcdev_model_predict(&cfg, res, &model);
		if (vs_global.json)
			print_json(&cfg, res, &model, dmax, argc, argv);
		else
			print_text(&cfg, res, &model, dmax);
	}
	/* The run's figures stand; only observers (stat, tune --pid) missed
	 * them. */
	if (res->publish_failures)
		vs_err("counters not published under /run/virtsync: %u of %u writes "
		       "failed, the first with: %s, ignoring", res->publish_failures,
		       res->publishes, strerror(-res->publish_err));
	free(res);
	return err ? (err == -EINVAL ? VS_EXIT_USAGE : VS_EXIT_FAIL) : VS_EXIT_OK;
}
