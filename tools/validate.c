// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync validate: the paper's Sec. 5 validation on the reference device.
 * Runs the Fig. 6/7 sleep sweep and the Fig. 8 notification sweep on the
 * thread backend, feeds lib/model each run's measured parameters and
 * reports model against measurement (text, JSON, or a CSV/JSON file).
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "analyze/validate.h"
#include "model/sweep.h"
#include "core/units.h"

enum {
	OPT_QUICK = 1000, OPT_DURATION, OPT_PIN, OPT_SLACK, OPT_SWEEP,
	OPT_MODE, OPT_WP, OPT_WC, OPT_LEN, OPT_KP, OPT_KC, OPT_SLEEP,
	OPT_MAX_ERR, OPT_RT, OPT_REPEAT, OPT_OUTPUT = 'o',
};

static struct env {
	bool quick;
	const char *which[3];
	unsigned int n_which;
	const char *duration, *pin, *slack, *sweep, *mode, *wp, *wc, *len;
	const char *kp, *kc, *sleep, *max_err, *output, *rt, *repeat;
} env;

static const char validate_doc[] =
"Validate the model against the reference device (paper Sec. 5): the\n"
"Fig. 6/7 sleep sweep and the Fig. 8 notification sweep (the default), and\n"
"the poll-then-block sweep of the consumer's busy-loop budget (hybrid), on\n"
"the thread backend, with the model fed each run's measured parameters.\n"
"\n"
"Synopsis: virtsync validate [sleep|notify|hybrid|all] [--quick] [--duration T]\n"
"                            [--pin P,C] [-o FILE.csv|FILE.json] [--json]\n"
"          virtsync validate --sweep PARAM=START:END:STEP [--mode M]\n"
"                            [--wp T]...\n"
"\n"
"Exit status 1 when the median |model T - measured T| / measured T of a\n"
"sweep exceeds --max-err (10 %).\n"
"\n"
"Examples:\n"
"    virtsync validate -o validate.csv   # both sweeps, 3 runs of 0.5s a point\n"
"    virtsync validate notify --quick --json\n"
"    virtsync validate hybrid --pin 0,1          # busy-loop budget 0-120us\n"
"    virtsync validate --sweep wc=1us:4us:500ns --mode notify --wp 2us";

static const struct argp_option validate_options[] = {
	{ "quick", 'q', NULL, 0, "5 points per sweep, 3 runs of 0.25s", 0 },
	{ "duration", 'd', "TIME", 0,
	  "length of one run, 10ms to 1h (default 0.5s, --quick 0.25s)", 0 },
	{ "repeats", OPT_REPEAT, "N", 0, "runs per point, the fastest counts (default 3)", 0 },
	{ "pin", OPT_PIN, "P,C", 0, "pin producer and consumer", 0 },
	{ "timerslack", OPT_SLACK, "TIME", 0, "timer slack of both sides (default 1ns)", 0 },
	{ "sweep", 's', "P=START:END:STEP", 0, "custom sweep of parameter P", 0 },
	{ "mode", 'm', "MODE", 0, "custom sweep: notify, sleep, poll or hybrid", 0 },
	{ "wp", OPT_WP, "TIME", 0, "custom sweep: Wp", 0 },
	{ "wc", OPT_WC, "TIME", 0, "custom sweep: Wc", 0 },
	{ "len", OPT_LEN, "N", 0, "custom sweep: queue length", 0 },
	{ "kp", OPT_KP, "N", 0, "custom sweep: kp", 0 },
	{ "kc", OPT_KC, "N", 0, "custom sweep: kc", 0 },
	{ "sleep", 'y', "TIME", 0, "custom sweep: Yp = Yc", 0 },
	{ "rt", OPT_RT, "PRIO", OPTION_ARG_OPTIONAL,
	  "SCHED_FIFO priority of P and C (default 10; 0 off)", 0 },
	{ "max-err", OPT_MAX_ERR, "PCT", 0, "median error limit (default 10)", 0 },
	{ "output", OPT_OUTPUT, "FILE", 0, "write points as CSV (or JSON: .json)", 0 },
	{ 0 },
};

static error_t validate_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'q': env.quick = true; break;
	case 'd': env.duration = arg; break;
	case OPT_PIN: env.pin = arg; break;
	case OPT_SLACK: env.slack = arg; break;
	case 's': env.sweep = arg; break;
	case 'm': env.mode = arg; break;
	case OPT_WP: env.wp = arg; break;
	case OPT_WC: env.wc = arg; break;
	case OPT_LEN: env.len = arg; break;
	case OPT_KP: env.kp = arg; break;
	case OPT_KC: env.kc = arg; break;
	case 'y': env.sleep = arg; break;
	case OPT_MAX_ERR: env.max_err = arg; break;
	case OPT_OUTPUT: env.output = arg; break;
	case OPT_RT: env.rt = arg ? arg : "10"; break;
	case OPT_REPEAT: env.repeat = arg; break;
	case ARGP_KEY_ARG:
		if (strcmp(arg, "sleep") && strcmp(arg, "notify") &&
		    strcmp(arg, "hybrid") && strcmp(arg, "all")) {
			vs_err("unknown sweep '%s' (sleep, notify, hybrid, all)", arg);
			return EINVAL;
		}
		if (env.n_which >= 3) {
			vs_err("at most three sweeps");
			return EINVAL;
		}
		env.which[env.n_which++] = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int parse_base(struct pcdev_config *cfg, double *max_err,
		      unsigned int *repeats)
{
	unsigned int p, c;
	char tail;
	double y;
	int err = 0;

	pcdev_config_default(cfg);
	cfg->timerslack_ns = 1;	/* the paper removes the slack (Sec. 4.3) */
	cfg->duration_ns = env.quick ? 0.25e9 : 0.5e9;
	*repeats = 3;
	cfg->publish = false;
	/* Real-time sides: see pcdev_config.rt_priority and the man page. */
	cfg->rt_priority = 10;
	*max_err = 10;
	/* Below 10ms a run measures its own start-up: the model would be
	 * compared with noise (an error of 1798287.5 % at 2ns). */
	if (env.duration)
		err = opt_duration("--duration", env.duration, 10e6, 3600e9,
				   &cfg->duration_ns);
	if (!err && env.slack)
		err = opt_time("--timerslack", env.slack, &cfg->timerslack_ns);
	if (!err && env.rt) {
		uint64_t prio;

		err = opt_u64("--rt", env.rt, 0, 98, &prio);
		cfg->rt_priority = (int)prio;
	}
	if (!err && env.repeat)
		err = opt_uint("--repeats", env.repeat, 1, 100, repeats);
	if (!err && env.max_err)
		err = opt_double("--max-err", env.max_err, 0, 1000, max_err);
	if (!err && env.pin) {
		if (sscanf(env.pin, "%u,%u%c", &p, &c, &tail) != 2 || p > 4095 || c > 4095) {
			vs_err("--pin: '%s' is not two CPU numbers P,C", env.pin);
			return -EINVAL;
		}
		cfg->pin_p = (int)p;
		cfg->pin_c = (int)c;
		if (!pcdev_cpu_available(cfg->pin_p) || !pcdev_cpu_available(cfg->pin_c)) {
			vs_err("--pin: %s: CPU %u does not exist or is not available here",
			       env.pin, pcdev_cpu_available(cfg->pin_p) ? c : p);
			return -EINVAL;
		}
	}
	if (!err && env.mode) {
		static const enum pcdev_mode of_wait[] = {
			[VS_WAITWORD_NOTIFY] = PCDEV_NOTIFY, [VS_WAITWORD_SLEEP] = PCDEV_SLEEP,
			[VS_WAITWORD_POLL] = PCDEV_POLL, [VS_WAITWORD_HYBRID] = PCDEV_BUSYLOOP,
		};
		enum vs_wait_word w;

		if (opt_wait_mode("--mode", env.mode, &w))
			return -EINVAL;
		cfg->p_mode = cfg->c_mode = of_wait[w];
	}
	if (!err && env.wp)
		err = opt_time("--wp", env.wp, &cfg->wp_ns);
	if (!err && env.wc)
		err = opt_time("--wc", env.wc, &cfg->wc_ns);
	if (!err && env.len) {
		err = opt_uint("--len", env.len, 2, 32768, &cfg->len);
		if (!err && (cfg->len & (cfg->len - 1))) {
			vs_err("--len: %s is not a power of two (2, 4, ... 32768)", env.len);
			err = -EINVAL;
		}
		if (!err)
			cfg->kc = cfg->len * 3 / 4;
	}
	if (!err && env.kp)
		err = opt_uint("--kp", env.kp, 1, cfg->len, &cfg->kp);
	if (!err && env.kc)
		err = opt_uint("--kc", env.kc, 1, cfg->len, &cfg->kc);
	if (!err && env.sleep) {
		err = opt_time("--sleep", env.sleep, &y);
		cfg->yp_ns = cfg->yc_ns = y;
	}
	return err;
}

static int make_custom(const struct pcdev_config *base, struct pcdev_vsweep *sw)
{
	struct vs_sweep spec;
	const char *why = NULL;
	double *vals;
	unsigned int i;
	int err;

	err = vs_sweep_parse(env.sweep, &spec, &why);
	if (err) {
		vs_err("--sweep: '%s': %s", env.sweep, why ? why : strerror(-err));
		return -EINVAL;
	}
	if (spec.npoints > 1000) {
		vs_err("--sweep: '%s': %u points, at most 1000", env.sweep, spec.npoints);
		return -EINVAL;
	}
	vals = calloc(spec.npoints, sizeof(double));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < spec.npoints; i++)
		vals[i] = vs_sweep_value(&spec, i);
	err = pcdev_vsweep_custom(spec.field->name, vals, spec.npoints, base, sw);
	free(vals);
	if (err == -EINVAL)
		vs_err("--sweep: '%s': %s is a cost of this machine, not a device "
		       "setting (len, kp, kc, wp, wc, yp, yc, y, busyloop, poll)", env.sweep,
		       spec.field->name);
	for (i = 0; !err && i < sw->n; i++) {
		const char *w;

		if (pcdev_config_validate(&sw->pt[i].cfg, &w)) {
			vs_err("--sweep: '%s': point %g: %s", env.sweep, sw->pt[i].x, w);
			err = -EINVAL;
		}
	}
	return err;
}

static const char *fmt_x(const struct pcdev_vsweep *sw, double x, char *buf,
			 size_t len)
{
	if (!strcmp(sw->x_name, "len") || !strcmp(sw->x_name, "kp") ||
	    !strcmp(sw->x_name, "kc"))
		snprintf(buf, len, "%.0f", x);
	else
		vs_format_time(x, buf, len);
	return buf;
}

static const char *pt_regime(const struct pcdev_vpoint *pt)
{
	return pt->model.regime < VS_REGIME_COUNT ?
	       vs_regime_name(pt->model.regime) : "-";
}

static double pt_batch(const struct pcdev_vpoint *pt)
{
	return pcdev_vpoint_batch(pt);
}

static void print_header(const struct pcdev_vsweep *sw)
{
	const struct pcdev_config *c = &sw->pt[0].cfg;
	char a[32], b[32];

	printf("%s sweep%s: P %s / C %s, L %u kp %u kc %u, Wp %s Wc %s\n",
	       sw->name, !strcmp(sw->name, "sleep") ? " (Fig. 6/7)" :
	       !strcmp(sw->name, "notify") ? " (Fig. 8)" :
	       !strcmp(sw->name, "hybrid") ? " (poll then block)" : "",
	       pcdev_mode_name(c->p_mode), pcdev_mode_name(c->c_mode),
	       c->len, c->kp, c->kc,
	       !strcmp(sw->x_name, "wp") ? "swept" : vs_format_time(c->wp_ns, a, sizeof(a)),
	       !strcmp(sw->x_name, "wc") ? "swept" : vs_format_time(c->wc_ns, b, sizeof(b)));
	printf("%8s %10s %10s %6s %-6s %9s %9s %10s\n", sw->x_name, "T_ns",
	       "model_T", "err%", "regime", "batch", "model_b", "p98_ns");
}

static void print_point(const struct pcdev_vsweep *sw, unsigned int i)
{
	const struct pcdev_vpoint *pt = &sw->pt[i];
	char x[32];

	printf("%8s %10.1f %10.1f %6.1f %-6s %9.1f %9.1f %10.0f\n",
	       fmt_x(sw, pt->x, x, sizeof(x)), pt->res.t_ns, pt->model.t_ns,
	       pt->t_err * 100, pt_regime(pt), pt_batch(pt), pt->model.batch,
	       pt->res.latency.p98);
	fflush(stdout);
}

static void print_summary(const struct pcdev_vsweep *sw, double max_err)
{
	const struct pcdev_vpoint *w = &sw->pt[sw->worst];
	const struct pcdev_measured *m = &w->res.measured;
	char x[32];

	printf("median |T error| %.1f %% (limit %.0f %%): %s\n",
	       sw->median_err * 100, max_err,
	       sw->median_err * 100 <= max_err ? "ok" : "FAILED");
	if (isnan(sw->worst_err))
		return;
	printf("worst %.1f %% at %s %s, regime %s: measured wp %s wc %s\n",
	       sw->worst_err * 100, sw->x_name, fmt_x(sw, w->x, x, sizeof(x)),
	       pt_regime(w), VS_TIME(m->wp), VS_TIME(m->wc));
	printf("  np %s nc %s sp %s sc %s yp %s yc %s\n\n",
	       VS_TIME(m->np), VS_TIME(m->nc), VS_TIME(m->sp), VS_TIME(m->sc),
	       VS_TIME(m->yp), VS_TIME(m->yc));
}

static json_t *point_json(const struct pcdev_vpoint *pt)
{
	const struct pcdev_measured *m = &pt->res.measured;
	json_t *o = json_object(), *mm = json_object();

	json_object_set_new(o, "x", vs_json_num(pt->x));
	json_object_set_new(o, "items", json_integer((json_int_t)pt->res.items));
	json_object_set_new(o, "T_ns", vs_json_num(pt->res.t_ns));
	json_object_set_new(o, "model_T_ns", vs_json_num(pt->model.t_ns));
	json_object_set_new(o, "t_err", vs_json_num(pt->t_err));
	json_object_set_new(o, "regime", json_string(pt_regime(pt)));
	json_object_set_new(o, "batch", vs_json_num(pt_batch(pt)));
	json_object_set_new(o, "model_batch", vs_json_num(pt->model.batch));
	json_object_set_new(o, "batch_err", vs_json_num(pt->batch_err));
	json_object_set_new(o, "E_ns", vs_json_num(pt->res.e_ns));
	json_object_set_new(o, "model_E_ns", vs_json_num(pt->model.e_ns));
	json_object_set_new(o, "p98_ns", vs_json_num(pt->res.latency.p98));
	json_object_set_new(o, "spurious", json_integer((json_int_t)pt->res.spurious));
	json_object_set_new(mm, "wp", vs_json_num(m->wp));
	json_object_set_new(mm, "wc", vs_json_num(m->wc));
	json_object_set_new(mm, "np", vs_json_num(m->np));
	json_object_set_new(mm, "nc", vs_json_num(m->nc));
	json_object_set_new(mm, "sp", vs_json_num(m->sp));
	json_object_set_new(mm, "sc", vs_json_num(m->sc));
	json_object_set_new(mm, "yp", vs_json_num(m->yp));
	json_object_set_new(mm, "yc", vs_json_num(m->yc));
	json_object_set_new(mm, "yz", vs_json_num(m->yz));
	json_object_set_new(o, "measured", mm);
	return o;
}

static json_t *sweep_json(const struct pcdev_vsweep *sw, unsigned int n_done,
			  double max_err)
{
	json_t *o = json_object(), *pts = json_array();
	const struct pcdev_config *c = &sw->pt[0].cfg;
	unsigned int i;

	json_object_set_new(o, "name", json_string(sw->name));
	json_object_set_new(o, "x", json_string(sw->x_name));
	json_object_set_new(o, "p_mode", json_string(pcdev_mode_name(c->p_mode)));
	json_object_set_new(o, "c_mode", json_string(pcdev_mode_name(c->c_mode)));
	json_object_set_new(o, "len", json_integer(c->len));
	json_object_set_new(o, "kp", json_integer(c->kp));
	json_object_set_new(o, "kc", json_integer(c->kc));
	json_object_set_new(o, "wp_ns", vs_json_num(c->wp_ns));
	json_object_set_new(o, "wc_ns", vs_json_num(c->wc_ns));
	json_object_set_new(o, "points_run", json_integer(n_done));
	json_object_set_new(o, "runs_per_point", json_integer(sw->repeats));
	json_object_set_new(o, "run_ns", vs_json_num(c->duration_ns));
	json_object_set_new(o, "median_t_err", vs_json_num(sw->median_err));
	json_object_set_new(o, "worst_t_err", vs_json_num(sw->worst_err));
	json_object_set_new(o, "worst_x", n_done ? vs_json_num(sw->pt[sw->worst].x) :
					json_null());
	json_object_set_new(o, "ok", json_boolean(sw->median_err * 100 <= max_err));
	for (i = 0; i < n_done; i++)
		json_array_append_new(pts, point_json(&sw->pt[i]));
	json_object_set_new(o, "points", pts);
	return o;
}

static int write_csv(FILE *f, const struct pcdev_vsweep *sws, unsigned int nsw,
		     const unsigned int *done)
{
	unsigned int s, i;

	fprintf(f, "sweep,x_name,x,p_mode,c_mode,len,kp,kc,wp_ns,wc_ns,yp_ns,yc_ns,"
		   "items,T_ns,model_T_ns,t_err,regime,batch,model_batch,batch_err,"
		   "E_ns,model_E_ns,p98_ns,spurious,m_wp,m_wc,m_np,m_nc,m_sp,m_sc,"
		   "m_yp,m_yc,m_yz\n");
	for (s = 0; s < nsw; s++) {
		for (i = 0; i < done[s]; i++) {
			const struct pcdev_vpoint *pt = &sws[s].pt[i];
			const struct pcdev_config *c = &pt->cfg;
			const struct pcdev_measured *m = &pt->res.measured;

			fprintf(f, "%s,%s,%.6g,%s,%s,%u,%u,%u,%.6g,%.6g,%.6g,%.6g,"
				   "%llu,%.6g,%.6g,%.6g,%s,%.6g,%.6g,%.6g,%.6g,%.6g,"
				   "%.6g,%llu,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,"
				   "%.6g\n",
				sws[s].name, sws[s].x_name, pt->x,
				pcdev_mode_name(c->p_mode), pcdev_mode_name(c->c_mode),
				c->len, c->kp, c->kc, c->wp_ns, c->wc_ns, c->yp_ns,
				c->yc_ns, (unsigned long long)pt->res.items,
				pt->res.t_ns, pt->model.t_ns, pt->t_err,
				pt_regime(pt), pt_batch(pt), pt->model.batch,
				pt->batch_err, pt->res.e_ns, pt->model.e_ns,
				pt->res.latency.p98,
				(unsigned long long)pt->res.spurious, m->wp, m->wc,
				m->np, m->nc, m->sp, m->sc, m->yp, m->yc, m->yz);
		}
	}
	return ferror(f) ? -EIO : 0;
}

struct output {
	json_t *doc;
	const struct pcdev_vsweep *sws;
	unsigned int nsw;
	const unsigned int *done;
	bool as_json;
};

static int fill_output(FILE *f, const void *arg)
{
	const struct output *o = arg;

	if (o->as_json)
		return json_dumpf(o->doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				  JSON_REAL_PRECISION(10)) ? -EIO : 0;
	return write_csv(f, o->sws, o->nsw, o->done);
}

/* The output file, whole or none: JSON for a .json name, else CSV. */
static int write_output(const char *path, json_t *doc,
			const struct pcdev_vsweep *sws, unsigned int nsw,
			const unsigned int *done)
{
	size_t plen = strlen(path);
	const struct output o = { doc, sws, nsw, done,
				  plen > 5 && !strcmp(path + plen - 5, ".json") };

	return vs_replace_with(path, 0644, VS_REPLACE_SHARED, fill_output, &o);
}

/* Can the output file be created? Checked before the long runs. */
static int probe_output(const char *path)
{
	char err[512];

	/* no probe file: a predictable name is one someone can plant */
	return vs_json_save_check(path, err, sizeof(err));
}

VS_COMMAND(validate, 0, "check the model against the reference device (Sec. 5)")
{
	static const struct argp_child children[] = {
		{ &vs_common_argp, 0, "Common options:", 0 },
		{ 0 },
	};
	const struct argp argp = {
		.options = validate_options,
		.parser = validate_parse,
		.doc = validate_doc,
		.children = children,
	};
	struct pcdev_vsweep sws[3];
	unsigned int done[3] = { 0, 0, 0 }, nsw = 0, s, i, ran = 0, total;
	struct vs_progress progress;
	struct pcdev_config base;
	unsigned int repeats;
	double max_err;
	json_t *doc, *arr;
	bool all_ok = true;
	int err = 0;

	memset(&env, 0, sizeof(env));
	memset(sws, 0, sizeof(sws));
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	if (parse_base(&base, &max_err, &repeats))
		return VS_EXIT_USAGE;
	if (env.sweep && env.n_which) {
		vs_err("--sweep: give either a custom sweep or built-in ones, not both");
		return VS_EXIT_USAGE;
	}
	if (env.output) {
		err = probe_output(env.output);
		if (err) {
			vs_err("-o: cannot write '%s': %s", env.output, strerror(-err));
			return VS_EXIT_FAIL;
		}
	}
	if (env.sweep) {
		if (make_custom(&base, &sws[0]))
			return VS_EXIT_USAGE;
		nsw = 1;
	} else {
		bool want_sleep = !env.n_which, want_notify = !env.n_which;
		bool want_hybrid = false;

		for (i = 0; i < env.n_which; i++) {
			bool all = !strcmp(env.which[i], "all");

			want_sleep |= all || !strcmp(env.which[i], "sleep");
			want_notify |= all || !strcmp(env.which[i], "notify");
			want_hybrid |= all || !strcmp(env.which[i], "hybrid");
		}
		if (want_sleep)
			err = pcdev_vsweep_builtin("sleep", env.quick, &base, &sws[nsw++]);
		if (!err && want_notify)
			err = pcdev_vsweep_builtin("notify", env.quick, &base, &sws[nsw++]);
		if (!err && want_hybrid)
			err = pcdev_vsweep_builtin("hybrid", env.quick, &base, &sws[nsw++]);
		if (err) {
			vs_err("cannot set up the sweeps: %s", strerror(-err));
			goto out;
		}
	}

	for (s = 0; s < nsw; s++)
		sws[s].repeats = repeats;
	vs_stop_on_signals();
	for (s = 0, total = 0; s < nsw; s++)
		total += sws[s].n;
	vs_progress_begin(&progress, "validate");
	for (s = 0; s < nsw && !vs_stop_requested(); s++) {
		if (!vs_global.json)
			print_header(&sws[s]);
		for (i = 0; i < sws[s].n && !vs_stop_requested(); i++) {
			sws[s].pt[i].cfg.stop = vs_stop_flag();
			vs_progress_update(&progress, ran, total);
			err = pcdev_vsweep_run_point(&sws[s], i);
			vs_progress_done(&progress);
			ran++;
			if (err) {
				vs_err("%s sweep, point %u: %s%s", sws[s].name, i + 1,
				       strerror(-err), err == -EPERM ?
				       " (SCHED_FIFO needs root; --rt 0 runs without)" : "");
				goto out;
			}
			/* A point cut short by a signal is not a measurement. */
			if (vs_stop_requested())
				break;
			done[s] = i + 1;
			if (!vs_global.json)
				print_point(&sws[s], i);
		}
		pcdev_vsweep_summarize(&sws[s], done[s]);
		if (!vs_global.json && done[s])
			print_summary(&sws[s], max_err);
		if (!(sws[s].median_err * 100 <= max_err))
			all_ok = false;
	}
	doc = json_object();
	vs_json_add_meta(doc, argc, argv);
	json_object_set_new(doc, "max_err_pct", json_real(max_err));
	json_object_set_new(doc, "stopped_by_signal", json_boolean(vs_stop_requested()));
	arr = json_array();
	for (s = 0; s < nsw; s++)
		json_array_append_new(arr, sweep_json(&sws[s], done[s], max_err));
	json_object_set_new(doc, "sweeps", arr);
	if (env.output) {
		err = write_output(env.output, doc, sws, nsw, done);
		if (err)
			vs_err("-o: cannot write '%s': %s", env.output, strerror(-err));
	}
	if (vs_global.json)
		vs_json_print(doc);
	else
		json_decref(doc);
	if (vs_stop_requested())
		vs_err("stopped by a signal: the sweeps are incomplete");
out:
	for (s = 0; s < nsw; s++)
		pcdev_vsweep_free(&sws[s]);
	if (err)
		return VS_EXIT_FAIL;
	return all_ok && !vs_stop_requested() ? VS_EXIT_OK : VS_EXIT_FAIL;
}
