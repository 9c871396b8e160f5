// SPDX-License-Identifier: GPL-2.0-only
/* Helpers shared by the subcommands: option values, messages, JSON. */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "core/sysfs.h"
#include "core/units.h"
#include "output/emit.h"

struct vs_global vs_global;

void vs_err(const char *fmt, ...)
{
	va_list ap;

	if (vs_global.cmd)
		fprintf(stderr, "virtsync %s: ", vs_global.cmd);
	else
		fprintf(stderr, "virtsync: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char *next_cell(void)
{
	static char cells[8][32];
	static unsigned int slot;

	return cells[slot++ % 8];
}

const char *vs_cell_num(double v)
{
	char *b;

	if (isnan(v))
		return "-";
	if (isinf(v))
		return "inf";
	b = next_cell();
	if (fabs(v) >= 100 && fabs(v) < 1e10)
		snprintf(b, 32, "%.0f", v);
	else
		snprintf(b, 32, "%.4g", v);
	return b;
}

const char *vs_cell_time(double ns)
{
	return vs_format_time(ns, next_cell(), 32);
}

json_t *vs_latstats_json(const struct vs_latstats *st)
{
	json_t *o = json_object();

	json_object_set_new(o, "n", json_integer((json_int_t)st->n));
	json_object_set_new(o, "mean_ns", vs_json_num(st->mean));
	json_object_set_new(o, "p50_ns", vs_json_num(st->p50));
	json_object_set_new(o, "p90_ns", vs_json_num(st->p90));
	json_object_set_new(o, "p99_ns", vs_json_num(st->p99));
	json_object_set_new(o, "min_ns", vs_json_num(st->min));
	json_object_set_new(o, "max_ns", vs_json_num(st->max));
	return o;
}

void vs_dbg(const char *fmt, ...)
{
	va_list ap;

	if (!vs_global.verbose)
		return;
	fprintf(stderr, "debug: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Limits print as times the parser takes back ("1ms", "10m", "1h"). */
static void time_range_error(const char *opt, const char *text, double min_ns,
			     double max_ns)
{
	char lo[VS_FMT_LEN], hi[VS_FMT_LEN];

	vs_err("%s: '%s' is out of range (%s to %s)", opt, text,
	       vs_format_time(min_ns, lo, sizeof(lo)),
	       vs_format_time(max_ns, hi, sizeof(hi)));
}

int opt_time_unit(const char *opt, const char *text, double min_ns,
		  double max_ns, const char *unit, double *ns)
{
	double v;
	int err = vs_parse_time_ns(text, &v);

	if (err == -EDOM && unit)
		vs_err("%s: '%s' needs a unit (write %s%s)", opt, text, text, unit);
	else if (err == -EDOM)
		vs_err("%s: '%s' needs a unit (write %sns or %sus)", opt, text,
		       text, text);
	else if (err == -ERANGE)
		time_range_error(opt, text, min_ns, max_ns);
	else if (err)
		vs_err("%s: '%s' is not a time (write 300ns, 2us, 1.5ms, 1s, 2m or 1h)",
		       opt, text ? text : "");
	if (err)
		return err;
	if (v < min_ns || v > max_ns) {
		time_range_error(opt, text, min_ns, max_ns);
		return -ERANGE;
	}
	*ns = v;
	return 0;
}

int opt_time(const char *opt, const char *text, double *ns)
{
	return opt_time_unit(opt, text, 0, VS_TIME_MAX_NS, NULL, ns);
}

int opt_time_in(const char *opt, const char *text, double min_ns,
		double max_ns, double *ns)
{
	return opt_time_unit(opt, text, min_ns, max_ns, NULL, ns);
}

int opt_duration(const char *opt, const char *text, double min_ns,
		 double max_ns, double *ns)
{
	return opt_time_unit(opt, text, min_ns, max_ns, "s", ns);
}

int opt_u64(const char *opt, const char *text, uint64_t min, uint64_t max,
	    uint64_t *out)
{
	int err = vs_parse_u64(text, min, max, out);

	if (err == -ERANGE)
		vs_err("%s: '%s' is out of range (%llu to %llu)", opt, text,
		       (unsigned long long)min, (unsigned long long)max);
	else if (err)
		vs_err("%s: '%s' is not a non-negative integer", opt,
		       text ? text : "");
	return err;
}

int opt_uint(const char *opt, const char *text, unsigned int min,
	     unsigned int max, unsigned int *out)
{
	uint64_t v;
	int err = opt_u64(opt, text, min, max, &v);

	if (!err)
		*out = (unsigned int)v;
	return err;
}

int opt_double(const char *opt, const char *text, double min, double max,
	       double *out)
{
	int err = vs_parse_double(text, min, max, out);

	if (err == -ERANGE)
		vs_err("%s: '%s' is out of range (%g to %g)", opt, text, min, max);
	else if (err)
		vs_err("%s: '%s' is not a number", opt, text ? text : "");
	return err;
}

int vs_json_print(json_t *doc)
{
	size_t flags = JSON_REAL_PRECISION(10) | JSON_PRESERVE_ORDER;
	int err;

	if (vs_global.json_pretty)
		flags |= JSON_INDENT(2);
	else
		flags |= JSON_COMPACT;
	err = json_dumpf(doc, stdout, flags);
	json_decref(doc);
	if (err)
		return -EIO;
	fputc('\n', stdout);
	return fflush(stdout) ? -EIO : 0;
}

int vs_json_print_walk(int (*walk)(struct vs_emitter *e, const void *ctx),
		       const void *ctx, int argc, char **argv)
{
	json_t *doc = json_object();
	struct vs_emitter *e = doc ? vs_emit_new_json(doc) : NULL;
	int err;

	if (!e) {
		json_decref(doc);
		vs_err("cannot build the JSON document: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	vs_json_add_meta(doc, argc, argv);
	walk(e, ctx);
	err = vs_emit_finish(e);	/* the walk's first error */
	if (err) {
		json_decref(doc);
		vs_err("cannot build the JSON document: %s", strerror(-err));
		return err;
	}
	err = vs_json_print(doc);
	if (err)
		vs_err("cannot write the JSON document: %s", strerror(-err));
	return err;
}

void vs_json_add_meta(json_t *doc, int argc, char **argv)
{
	char cmdline[1024] = "", stamp[64], host[256] = "";
	struct utsname u;
	size_t off = 0;
	time_t now = time(NULL);
	struct tm tm;
	int i;

	/* The dispatcher's full command line beats the subcommand's view. */
	if (vs_global.argv) {
		argc = vs_global.argc;
		argv = vs_global.argv;
	}
	for (i = 0; i < argc && off < sizeof(cmdline) - 1; i++)
		off += snprintf(cmdline + off, sizeof(cmdline) - off, "%s%s",
				i ? " " : "", argv[i]);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(doc, "tool", json_string("virtsync"));
	if (vs_global.cmd)
		json_object_set_new(doc, "command", json_string(vs_global.cmd));
	json_object_set_new(doc, "version", json_string(VS_VERSION));
	if (!gethostname(host, sizeof(host) - 1))
		json_object_set_new(doc, "host", json_string(host));
	if (!uname(&u))
		json_object_set_new(doc, "kernel", json_string(u.release));
	json_object_set_new(doc, "cmdline", json_string(cmdline));
	json_object_set_new(doc, "time", json_string(stamp));
}

static const struct argp_option common_options[] = {
	{ "json", 'j', "pretty", OPTION_ARG_OPTIONAL,
	  "JSON output (pretty-printed with =pretty)", 0 },
	{ "verbose", 'v', NULL, 0, "Debug output on stderr", 0 },
	{ 0 },
};

static error_t common_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case ARGP_KEY_INIT:
		/* getopt's own line names a bad option ("unrecognized option
		 * '--x'"); argp would add a second ("Try ... --help") on this
		 * stream. Without it argp returns the error and the command
		 * exits 2 with that one line. --help writes to out_stream. */
		state->err_stream = NULL;
		/* every command has this child: the whole tree is at hand */
		if (vs_global.complete) {
			vs_complete_print(vs_global.cmd, state->root_argp);
			exit(fflush(stdout) ? VS_EXIT_FAIL : VS_EXIT_OK);
		}
		return ARGP_ERR_UNKNOWN;
	case ARGP_KEY_SUCCESS:
		/* after every group's ARGP_KEY_END: the command line is valid */
		if (vs_global.parse_only)
			exit(VS_EXIT_OK);
		return ARGP_ERR_UNKNOWN;
	case 'j':
		if (arg && strcmp(arg, "pretty")) {
			vs_err("--json: unknown format '%s' (only 'pretty')", arg);
			return EINVAL;
		}
		vs_global.json = true;
		vs_global.json_pretty = arg != NULL;
		return 0;
	case 'v':
		vs_global.verbose++;
		return 0;
	case ARGP_KEY_ARG:
		/* no group took it: argp's "Too many arguments" went to the
		 * stream silenced above */
		vs_err("unexpected argument '%s'", arg);
		return EINVAL;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp vs_common_argp = {
	.options = common_options,
	.parser = common_parse,
};

static double monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void vs_progress_begin(struct vs_progress *p, const char *label)
{
	p->start_s = monotonic_s();
	p->shown = 0;
	p->label = label;
}

void vs_progress_update(struct vs_progress *p, unsigned long done,
			unsigned long total)
{
	double el = monotonic_s() - p->start_s;

	if (vs_global.json || el < 2.0 || !isatty(STDERR_FILENO))
		return;
	if (total)
		fprintf(stderr, "\r\033[K%s: %lu/%lu (%.0f%%), %s", p->label, done,
			total, 100.0 * done / total, VS_TIME(floor(el) * 1e9));
	else
		fprintf(stderr, "\r\033[K%s: %lu, %s", p->label, done, VS_TIME(floor(el) * 1e9));
	p->shown = 1;
}

void vs_progress_done(struct vs_progress *p)
{
	if (p->shown)
		fprintf(stderr, "\r\033[K");
	p->shown = 0;
}

static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void catch_stop(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;	/* no SA_RESTART: sleeps end at once */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

volatile sig_atomic_t *vs_stop_on_signals(void)
{
	catch_stop(SIGINT);
	catch_stop(SIGTERM);
	return &stop_flag;
}

void vs_stop_on_hangup(void)
{
	catch_stop(SIGHUP);
}

volatile sig_atomic_t *vs_stop_flag(void)
{
	return &stop_flag;
}

bool vs_stop_requested(void)
{
	return stop_flag != 0;
}

int opt_save_check(const char *opt, const char *path)
{
	char err[512];
	int e = vs_json_save_check(path, err, sizeof(err));

	if (!e)
		return VS_EXIT_OK;
	vs_err("%s: %s", opt, err);
	return e == -EACCES || e == -EROFS || e == -EPERM ? VS_EXIT_FAIL : VS_EXIT_USAGE;
}

int opt_nonempty(const char *opt, const char *text, const char *what, const char **out)
{
	if (!text || !*text) {
		vs_err("%s: empty %s", opt, what);
		return -EINVAL;
	}
	*out = text;
	return 0;
}

int vs_replace_with(const char *path, mode_t mode, unsigned int flags,
		    int (*fill)(FILE *f, const void *arg), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return -errno;
	err = fill(f, arg);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (!err)
		err = vs_file_replace(path, buf, len, mode, flags);
	free(buf);
	return err;
}
