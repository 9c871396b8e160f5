/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TOOLS_CMD_H
#define VS_TOOLS_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "core/sysfs.h"	/* VS_REPLACE_* for vs_replace_with() */

/*
 * A subcommand registers itself with one line at file scope:
 *   VS_COMMAND(model, 0, "closed-form predictions for given parameters");
 * tools/gen-commands.sh turns those lines into the dispatcher's table, and
 * the tool defines `int cmd_model(int argc, char **argv)` returning the exit
 * status (0 ok, 1 failure or environment, 2 usage).
 */
/* The prototype first keeps -Wmissing-prototypes quiet for the definition. */
#define VS_COMMAND(name, flags, summary) \
	int cmd_##name(int argc, char **argv); \
	int cmd_##name(int argc, char **argv)

enum vs_cmd_flags {
	VS_NEEDS_ROOT = 1 << 0,	/* refused before any work when not root */
};

enum vs_exit {
	VS_EXIT_OK = 0,
	VS_EXIT_FAIL = 1,
	VS_EXIT_USAGE = 2,
};

/* Options every subcommand honours; set by the dispatcher and by each tool's
 * own --json / -v so that both `virtsync --json model` and
 * `virtsync model --json` work. */
struct vs_global {
	bool json;
	bool json_pretty;
	int verbose;
	const char *argv0;
	int argc;		/* the whole command line, for JSON meta */
	char **argv;
	const char *cmd;
	bool complete;		/* `virtsync __complete CMD`: print, do nothing */
	bool parse_only;	/* `virtsync __parse CMD ARGS`: parse, exit 0 */
};
extern struct vs_global vs_global;

/*
 * Option value parsers for tools: on bad text they print one line naming
 * the option and the text, and return -EINVAL/-ERANGE (-EDOM for a time
 * without its unit); the caller exits 2. Every range error has one form,
 * "--gap: '2s' is out of range (1us to 1s)", with limits the parser takes.
 *
 * Times follow virtsync(8), TIMES: ns, us, ms, s, m (min), h; only 0 goes
 * without a unit. opt_time() takes any time from 0, opt_time_in() one in
 * [min_ns, max_ns]; opt_duration() is for run lengths (--duration,
 * --interval, --sim-time): its hint for a bare number is seconds ("write
 * 2s"). opt_time_unit() names the unit the hint suggests (NULL: ns or us).
 */
int opt_time(const char *opt, const char *text, double *ns);
/* Every --dmax takes the same range: a latency bound below 1us cannot be
 * met by a wake-up on any host, and 0 would mean "no bound". */
#define VS_DMAX_MIN_NS 1e3
#define VS_DMAX_MAX_NS 3600e9
int opt_time_in(const char *opt, const char *text, double min_ns,
		double max_ns, double *ns);
int opt_duration(const char *opt, const char *text, double min_ns,
		 double max_ns, double *ns);
int opt_time_unit(const char *opt, const char *text, double min_ns,
		  double max_ns, const char *unit, double *ns);
int opt_u64(const char *opt, const char *text, uint64_t min, uint64_t max,
	    uint64_t *out);
int opt_uint(const char *opt, const char *text, unsigned int min,
	     unsigned int max, unsigned int *out);
/* A string option that must not be empty (a path, a command): *out = text,
 * or one line naming `what` and -EINVAL. */
int opt_nonempty(const char *opt, const char *text, const char *what, const char **out);
/* --save FILE checked before any work (lib/core/json.h): 0, or the exit
 * status after one line naming what is wrong (2 a bad path, 1 denied). */
int opt_save_check(const char *opt, const char *path);
int opt_double(const char *opt, const char *text, double min, double max,
	       double *out);

/*
 * The options several commands share (tools/options.c, virtsync(8) SHARED
 * OPTIONS): a command that takes one takes it with this name, short form,
 * value and default. value is "" (a flag), "=ARG" or "[=ARG]" (optional);
 * dflt "" where each command states its own; words the values it takes.
 */
struct vs_shared_option {
	const char *name;
	int short_key;
	const char *value;
	const char *dflt;
	const char *words;
};
extern const struct vs_shared_option vs_shared_options[];
const struct vs_shared_option *vs_shared_option(const char *name);
/* One line each: --name, -x or "-", value or "-", default or "-", tabs. */
void vs_shared_options_print(FILE *out);
/* `virtsync __complete CMD`: CMD's argp tree as completion words (set
 * vs_global.complete; the common child prints at ARGP_KEY_INIT, exits 0).
 * `virtsync __parse CMD ARGS` (vs_global.parse_only): the common child
 * exits 0 at ARGP_KEY_SUCCESS, after every option value and every
 * ARGP_KEY_END rule of CMD passed; a usage error exits 2 as it would. */
struct argp;
void vs_complete_print(const char *cmd, const struct argp *root);

/*
 * How a side waits, one vocabulary for bench, sim and validate: notify
 * (block until notified), sleep, poll (busy wait), hybrid (poll, then
 * block). The old words busy (poll) and busyloop (hybrid) still parse.
 */
enum vs_wait_word { VS_WAITWORD_NOTIFY, VS_WAITWORD_SLEEP, VS_WAITWORD_POLL, VS_WAITWORD_HYBRID };
int opt_wait_mode(const char *opt, const char *text, enum vs_wait_word *mode);


/*
 * Table cells in static buffers, eight live at once (enough for one
 * printf): a compact number (integers from 100 to 1e10, else 4
 * significant digits) and a time with its unit; "-" for NaN.
 */
const char *vs_cell_num(double v);
const char *vs_cell_time(double ns);

/* Print an error line "virtsync <cmd>: ..." to stderr. */
void vs_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Debug line, only with -v. */
void vs_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Dump a JSON document to stdout (compact or pretty), newline-terminated;
 * takes the reference. Returns 0 or -EIO. */
int vs_json_print(json_t *doc);

/* vs_json_num(): lib/core/json.h */
#include "core/json.h"

/*
 * argp child every subcommand includes, for -j/--json[=pretty] and -v:
 *   static const struct argp_child children[] = {
 *	{ &vs_common_argp, 0, "Common options:", 0 }, { 0 } };
 */
struct argp;
extern const struct argp vs_common_argp;

/*
 * Progress line on stderr for long work (sweeps, validate, tune): shown
 * only once the work has run 2 s, only when stderr is a terminal, never in
 * --json mode. vs_progress_done() erases it.
 */
struct vs_progress {
	double start_s;
	int shown;
	const char *label;
};
void vs_progress_begin(struct vs_progress *p, const char *label);
void vs_progress_update(struct vs_progress *p, unsigned long done,
			unsigned long total);
void vs_progress_done(struct vs_progress *p);

/*
 * Ctrl-C and SIGTERM end long runs cleanly (partial results printed, state
 * restored) instead of killing the process. vs_stop_on_signals() installs
 * one handler for both, without SA_RESTART so sleeps and reads end at once;
 * it returns the flag so lib loops that poll a stop flag get it passed in.
 */
#include <signal.h>
volatile sig_atomic_t *vs_stop_on_signals(void);
volatile sig_atomic_t *vs_stop_flag(void);
bool vs_stop_requested(void);
/* SIGHUP too, for runs that change the machine and must restore it when
 * their terminal goes away (idlelat). */
void vs_stop_on_hangup(void);

/* Add common "meta" fields (tool, command, version, host, kernel, cmdline,
 * time): `virtsync report` tells inputs apart by "command" and hosts by
 * "host", so every saved JSON document should carry them. */
void vs_json_add_meta(json_t *doc, int argc, char **argv);
/*
 * One interval's JSON document from one walk through the emitter
 * (lib/output/emit.h): the vs_json_add_meta() envelope, then what walk()
 * writes, printed by vs_json_print(). A failure is said on stderr; the
 * first -errno is returned.
 */
struct vs_emitter;
int vs_json_print_walk(int (*walk)(struct vs_emitter *e, const void *ctx),
		       const void *ctx, int argc, char **argv);

/* vs_mono_ns(), vs_median(): lib/core; vs_kvm_usable(): lib/diagnose/device.h */
#include "core/clock.h"
#include "core/latstats.h"
/* A latency summary as JSON: n, mean_ns, p50_ns, p90_ns, p99_ns, min_ns,
 * max_ns (null where there were no samples). */
json_t *vs_latstats_json(const struct vs_latstats *st);
/* Replace the file at path, whole or not at all (lib's vs_file_replace(),
 * VS_REPLACE_* flags), with what fill() writes to the stream it is given;
 * fill returns 0 or -errno. */
int vs_replace_with(const char *path, mode_t mode, unsigned int flags,
		    int (*fill)(FILE *f, const void *arg), const void *arg);

#endif
