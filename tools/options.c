// SPDX-License-Identifier: GPL-2.0-only
/*
 * The options several commands share, one row each: virtsync(8), SHARED
 * OPTIONS, is this table, and tests/integration/shared-options.sh holds
 * every command's --help to it (`virtsync __options` prints it).
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

/* name, short (0: none), value as --help shows it, default ("": each
 * command states its own), the words it takes (NULL: free text) */
const struct vs_shared_option vs_shared_options[] = {
	{ "help", '?', "", "", NULL },
	{ "version", 'V', "", "", NULL },
	{ "json", 'j', "[=pretty]", "", "pretty" },
	{ "verbose", 'v', "", "", NULL },
	{ "pid", 'p', "=PID", "", NULL },
	{ "count", 'c', "=N", "until stopped", NULL },
	{ "interval", 'i', "=TIME", "1s", NULL },
	{ "duration", 'd', "=TIME", "", NULL },
	{ "cpu", 'C', "=N", "", NULL },
	{ "samples", 'n', "=N", "", NULL },
	{ "sweep", 's', "=P=START:END:STEP", "", NULL },
	{ "threads", 't', "", "", NULL },
	{ "mode", 'm', "=MODE", "", "notify sleep poll hybrid" },
	{ "p-mode", 0, "=MODE", "", "notify sleep poll hybrid" },
	{ "c-mode", 0, "=MODE", "", "notify sleep poll hybrid" },
	{ "sleep", 'y', "=TIME", "", NULL },
	{ "quick", 'q', "", "", NULL },
	{ "output", 'o', "=FILE", "", NULL },
	{ "backend", 0, "=NAME", "thread", "thread kvm" },
	{ "dmax", 0, "=TIME", "50us", NULL },
	{ "rt", 0, "[=PRIO]", "", NULL },
	{ "repeats", 0, "=N", "", NULL },
	{ "preset", 0, "=NAME", "", "paper-costs fc-example fp-example" },
	{ "workload", 0, "=PRESET", "", "wakeup fc-example fp-example fc-tune" },
	{ "len", 0, "=N", "", NULL },
	{ "wp", 0, "=TIME", "", NULL },
	{ "wc", 0, "=TIME", "", NULL },
	{ "kp", 0, "=N", "", NULL },
	{ "kc", 0, "=N", "", NULL },
	{ "pin", 0, "=P,C", "", NULL },
	{ "timerslack", 0, "=TIME", "", NULL },
	{ "qmp", 0, "=SOCKET", "", NULL },
	{ "save", 0, "=FILE", "", NULL },
	{ "plan", 0, "=FILE", "", NULL },
	{ "cpus", 0, "=LIST", "", NULL },
	{ "set", 0, "=NAME=VALUE", "", NULL },
	{ "min-gain", 0, "=PCT", "10", NULL },
	{ "no-calibrate", 0, "", "", NULL },
	{ "csv", 0, "", "", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};

const struct vs_shared_option *vs_shared_option(const char *name)
{
	const struct vs_shared_option *o;

	for (o = vs_shared_options; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

void vs_shared_options_print(FILE *out)
{
	const struct vs_shared_option *o;

	for (o = vs_shared_options; o->name; o++)
		fprintf(out, "--%s\t%s%c\t%s\t%s\n", o->name, o->short_key ? "-" : "",
			o->short_key ? o->short_key : '-', *o->value ? o->value : "-",
			*o->dflt ? o->dflt : "-");
}

/* The old words stay accepted (scripts use them), never offered. */
static const struct {
	const char *word;
	enum vs_wait_word mode;
} wait_words[] = {
	{ "notify", VS_WAITWORD_NOTIFY },
	{ "sleep", VS_WAITWORD_SLEEP },
	{ "poll", VS_WAITWORD_POLL },
	{ "hybrid", VS_WAITWORD_HYBRID },
	{ "busy", VS_WAITWORD_POLL },	/* sim's old word */
	{ "busyloop", VS_WAITWORD_HYBRID },	/* bench's and validate's old word */
};

int opt_wait_mode(const char *opt, const char *text, enum vs_wait_word *mode)
{
	size_t i;

	for (i = 0; text && i < sizeof(wait_words) / sizeof(wait_words[0]); i++)
		if (!strcmp(text, wait_words[i].word)) {
			*mode = wait_words[i].mode;
			return 0;
		}
	vs_err("%s: unknown mode '%s' (notify, sleep, poll or hybrid)", opt,
	       text ? text : "");
	return -EINVAL;
}

/*
 * Completion (tools/completion/virtsync.bash asks `virtsync __complete
 * CMD`): the options of the very argp tree the command parses with, one a
 * line, "--name" plus "=" (takes a value) or "[=]" (optional), a tab and
 * the words the value takes ("@file" for a path). "@args" lines are the
 * words a command takes as arguments. Nothing is scraped from --help.
 */
static const struct {
	const char *cmd, *opt, *words;
} command_words[] = {
	{ "bench", "preset", "fc-example fp-example fc-tune" },
	{ "bench", "ring", "virtio slots" },
	{ "diagnose", "workload", "fc-example fp-example fc-tune" },
	{ "tune", "goal", "throughput latency" },
	{ "report", "format", "html md json" },
	{ "stat", "attach", "auto tp_btf raw_tp perf" },
	{ "stat", "probes", "kvm sched sleep" },
	{ "sim", "poll-adapt", "fixed qemu kvm" },
	{ "idlelat", "governor", "@governor" },
	{ "validate", "@args", "sleep notify hybrid all" },
	{ "profiles", "@args", "list show knobs" },
	{ "apply", "@args", "@profile" },
	{ "export", "@args", "@profile" },
};

static const char *value_words(const char *cmd, const struct argp_option *o)
{
	const struct vs_shared_option *s;
	size_t i;

	for (i = 0; i < sizeof(command_words) / sizeof(command_words[0]); i++)
		if (!strcmp(command_words[i].cmd, cmd) && !strcmp(command_words[i].opt, o->name))
			return command_words[i].words;
	s = vs_shared_option(o->name);
	if (s && s->words)
		return s->words;
	if (o->arg && (strstr(o->arg, "FILE") || strstr(o->arg, "DIR") ||
		       strstr(o->arg, "SOCKET") || strstr(o->arg, "PATH")))
		return "@file";
	return "";
}

static void print_options(const char *cmd, const struct argp *argp)
{
	const struct argp_option *o;
	const struct argp_child *c;
	const char *arg = NULL;
	int flags = 0;

	for (o = argp->options; o && (o->name || o->key || o->doc); o++) {
		if (!(o->flags & OPTION_ALIAS)) {
			arg = o->arg;
			flags = o->flags;
		}
		if (!o->name || ((o->flags | flags) & OPTION_HIDDEN))
			continue;
		printf("--%s%s\t%s\n", o->name,
		       !arg ? "" : (flags & OPTION_ARG_OPTIONAL) ? "[=]" : "=",
		       arg ? value_words(cmd, o->flags & OPTION_ALIAS ? o : o) : "");
	}
	for (c = argp->children; c && c->argp; c++)
		print_options(cmd, c->argp);
}

void vs_complete_print(const char *cmd, const struct argp *root)
{
	size_t i;

	print_options(cmd, root);
	/* argp's own, where the command does not list them itself */
	printf("--help\t\n--usage\t\n--version\t\n");
	for (i = 0; i < sizeof(command_words) / sizeof(command_words[0]); i++)
		if (!strcmp(command_words[i].cmd, cmd) && !strcmp(command_words[i].opt, "@args"))
			printf("@args\t%s\n", command_words[i].words);
}
