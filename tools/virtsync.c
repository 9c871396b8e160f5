// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync: measure and tune producer/consumer synchronization on KVM hosts.
 * This file is the dispatcher: global options, then a table of subcommands
 * (generated from the VS_COMMAND() lines of the tools, cpupower-style).
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "core/procfs.h"

struct vs_cmd_entry {
	const char *name;
	int (*fn)(int argc, char **argv);
	unsigned int flags;
	const char *summary;
};

#define VS_CMD(n, f, s) int cmd_##n(int argc, char **argv);
#include "commands.h"
#undef VS_CMD

static const struct vs_cmd_entry commands[] = {
#define VS_CMD(n, f, s) { #n, cmd_##n, (f), (s) },
#include "commands.h"
#undef VS_CMD
	{ NULL, NULL, 0, NULL },
};

const char *argp_program_version = "virtsync " VS_VERSION;
const char *argp_program_bug_address = NULL;

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"Usage: virtsync [-v] [--json[=pretty]] [--root DIR] COMMAND [ARGS]\n"
		"       virtsync help COMMAND | --help | --version\n\n"
		"Measure and tune how virtqueue producers and consumers synchronize\n"
		"on a KVM host (kicks, interrupts, sleeping, busy polling).\n\n"
		"Commands:\n");
	for (i = 0; commands[i].name; i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\nGlobal options:\n"
		"  -j, --json[=pretty]  JSON output\n"
		"  -v, --verbose        debug output on stderr\n"
		"      --root DIR       read and write sysfs/procfs under DIR (tests)\n\n"
		"Examples:\n"
		"  virtsync model --preset fc-example\n"
		"  virtsync help model\n");
}

static const struct vs_cmd_entry *find_command(const char *name)
{
	size_t i;

	for (i = 0; commands[i].name; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* `virtsync help CMD` shows the man page: the build tree's when run from
 * there (../man relative to .output/virtsync, which is the one that matches
 * this binary), else the installed one, else the command's own --help. */
static int show_help(const char *name)
{
	const struct vs_cmd_entry *cmd = find_command(name);
	char page[64], rel[96], local[PATH_MAX];

	if (!cmd) {
		fprintf(stderr, "virtsync: unknown command '%s'; try 'virtsync --help'\n", name);
		return VS_EXIT_USAGE;
	}
	snprintf(page, sizeof(page), "virtsync-%s", name);
	snprintf(rel, sizeof(rel), "../man/%s.8", page);
	if (!vs_beside_exe(rel, local, sizeof(local)))
		execlp("man", "man", "-l", local, (char *)NULL);
	execlp("man", "man", "8", page, (char *)NULL);
	{
		char *argv[] = { (char *)name, (char *)"--help", NULL };

		return cmd->fn(2, argv);
	}
}

int main(int argc, char **argv)
{
	const struct vs_cmd_entry *cmd;
	char progname[64];
	int i;

	vs_global.argv0 = argv[0];
	vs_global.argc = argc;
	/* A copy of the pointers: argv[i] is renamed for argp below. */
	vs_global.argv = calloc(argc + 1, sizeof(char *));
	if (vs_global.argv)
		memcpy(vs_global.argv, argv, argc * sizeof(char *));
	else
		vs_global.argc = 0;
	/* argp exits 64 (EX_USAGE) on a bad option; virtsync promises 2. */
	argp_err_exit_status = VS_EXIT_USAGE;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return VS_EXIT_OK;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("virtsync %s\n", VS_VERSION);
			return VS_EXIT_OK;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			vs_global.verbose++;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			vs_global.json = true;
		} else if (!strcmp(a, "--json=pretty")) {
			vs_global.json = vs_global.json_pretty = true;
		} else if (!strcmp(a, "--root") || !strncmp(a, "--root=", 7)) {
			const char *dir = a[6] == '=' ? a + 7 : argv[++i];

			if (!dir || !*dir) {
				fprintf(stderr, "virtsync: --root needs a directory\n");
				return VS_EXIT_USAGE;
			}
			setenv("VIRTSYNC_ROOT", dir, 1);
		} else {
			fprintf(stderr, "virtsync: unknown option '%s'; try 'virtsync --help'\n", a);
			return VS_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return VS_EXIT_USAGE;
	}
	/* hidden: the shared-options table, for its test and virtsync(8) */
	if (!strcmp(argv[i], "__options")) {
		vs_shared_options_print(stdout);
		return VS_EXIT_OK;
	}
	/* hidden: completion words from CMD's own option tables; the words
	 * after CMD pick the tree where a command has two (model --queues) */
	if (!strcmp(argv[i], "__complete")) {
		cmd = i + 1 < argc ? find_command(argv[i + 1]) : NULL;
		if (!cmd)
			return VS_EXIT_USAGE;
		vs_global.cmd = cmd->name;
		vs_global.complete = true;
		cmd->fn(argc - i - 1, argv + i + 1);
		return VS_EXIT_FAIL;	/* the command never reached argp */
	}
	/* hidden: parse a command line as CMD would and run nothing, for the
	 * documented examples that need a VM, root or minutes
	 * (tests/integration/doc-examples.sh) */
	if (!strcmp(argv[i], "__parse")) {
		vs_global.parse_only = true;
		if (++i >= argc || !find_command(argv[i])) {
			fprintf(stderr, "virtsync: __parse needs a command\n");
			return VS_EXIT_USAGE;
		}
	}
	if (!strcmp(argv[i], "help")) {
		/* `help help` is a question about help: the usage answers it */
		if (i + 1 >= argc || !strcmp(argv[i + 1], "help")) {
			usage(stdout);
			return VS_EXIT_OK;
		}
		return show_help(argv[i + 1]);
	}
	cmd = find_command(argv[i]);
	if (!cmd) {
		fprintf(stderr, "virtsync: unknown command '%s'; try 'virtsync --help'\n", argv[i]);
		return VS_EXIT_USAGE;
	}
	vs_global.cmd = cmd->name;
	if ((cmd->flags & VS_NEEDS_ROOT) && geteuid() != 0 && !vs_global.parse_only) {
		vs_err("needs root (or CAP_SYS_ADMIN); run it with sudo");
		return VS_EXIT_FAIL;
	}
	/* argp prints argv[0] in its usage lines: make it "virtsync model". */
	snprintf(progname, sizeof(progname), "virtsync %s", cmd->name);
	argv[i] = progname;
	return cmd->fn(argc - i, argv + i);
}
