// SPDX-License-Identifier: GPL-2.0-only
/* virtsync report: one HTML, Markdown or JSON report from saved runs. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/safefile.h"
#include "cmd.h"
#include "output/report.h"

#define MAX_FROM 256

static struct env {
	const char *from[MAX_FROM];
	unsigned int n_from;
	const char *output;
	enum vs_report_format format;
	bool format_set;
} env;

static const char report_doc[] =
	"Render saved virtsync runs as one report.\n"
	"\n"
	"Synopsis: virtsync report --from FILE [FILE...] [-o OUT]\n"
	"                          [--format html|md|json]\n"
	"\n"
	"Inputs are the --json output (or --save files) of diagnose, bench,\n"
	"validate, model, sim, sleepcost, idlelat, stat and tune, from one or\n"
	"more hosts; a file of JSON lines (stat --json, one object per\n"
	"interval) is one run. HTML is one self-contained file with SVG plots.\n"
	"\n"
	"Examples:\n"
	"  virtsync model --sweep wp=200ns:2.9us:100ns --json > sweep.json\n"
	"  virtsync report --from sweep.json -o report.html\n"
	"  virtsync report --from a.json b.json --format md\n";

static const struct argp_option options[] = {
	{ "from", 'f', "FILE", 0, "Input file (repeatable; more files may follow)", 0 },
	{ "output", 'o', "FILE", 0, "Write the report here (default: stdout)", 0 },
	{ "format", 'F', "FMT", 0, "html (default), md or json", 0 },
	{ 0 },
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'f':
	case ARGP_KEY_ARG:
		if (key == ARGP_KEY_ARG && !env.n_from) {
			vs_err("unexpected argument '%s' (inputs follow --from)", arg);
			return EINVAL;
		}
		if (env.n_from >= MAX_FROM) {
			vs_err("--from: at most %d inputs", MAX_FROM);
			return EINVAL;
		}
		env.from[env.n_from++] = arg;
		return 0;
	case 'o':
		env.output = arg;
		return 0;
	case 'F':
		env.format_set = true;
		if (!strcmp(arg, "html"))
			env.format = VS_REPORT_HTML;
		else if (!strcmp(arg, "md") || !strcmp(arg, "markdown"))
			env.format = VS_REPORT_MD;
		else if (!strcmp(arg, "json"))
			env.format = VS_REPORT_JSON;
		else {
			vs_err("--format: '%s' is not html, md or json", arg);
			return EINVAL;
		}
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

/*
 * One input file: a JSON document, or JSON lines (stat --json writes one
 * object per interval). Lines of the same command become one document, the
 * first line's with every line in "intervals", so that a report shows the
 * run once. NULL after saying why.
 */
static json_t *load_input(const char *path)
{
	json_t *first = NULL, *series = NULL, *doc;
	json_error_t jerr;
	size_t off = 0, len = 0, n = 0;
	char *buf = NULL;
	int fd = vs_safe_open_read(path, 0);
	FILE *f;

	if (fd < 0) {
		vs_err("%s: %s", path, vs_safe_strerror(fd));
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	if (!f || getdelim(&buf, &len, '\0', f) < 0) {
		if (f && !ferror(f))
			vs_err("%s: empty file", path);
		else
			vs_err("%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	len = strlen(buf);
	for (;;) {
		off += strspn(buf + off, " \t\r\n");
		if (off >= len && n)
			break;
		doc = json_loadb(buf + off, len - off, JSON_DISABLE_EOF_CHECK, &jerr);
		if (!doc) {
			vs_err("%s: %s (line %d)", path, jerr.text, jerr.line);
			goto fail;
		}
		off += jerr.position;
		if (!n++) {
			first = doc;
			continue;
		}
		if (!series) {
			series = json_deep_copy(first);
			json_object_set_new(series, "intervals", json_array());
			json_array_append(json_object_get(series, "intervals"), first);
		}
		if (!json_equal(json_object_get(doc, "command"), json_object_get(first, "command"))) {
			vs_err("%s: line %zu is not the same command's output as the first", path, n);
			json_decref(doc);
			goto fail;
		}
		json_array_append_new(json_object_get(series, "intervals"), doc);
	}
	free(buf);
	if (!series)
		return first;
	json_decref(first);
	/* the run as a whole: how many intervals, over how long */
	json_object_set_new(series, "interval_count", json_integer(n));
	json_object_set(series, "elapsed_s", json_object_get(doc, "elapsed_s") ?
			json_object_get(doc, "elapsed_s") : json_null());
	return series;
fail:
	free(buf);
	json_decref(first);
	json_decref(series);
	return NULL;
}

static int fill_report(FILE *f, const void *r)
{
	return vs_report_write(r, env.format, f);
}

/* Whole or not at all, so a failed run leaves no half report. */
static int write_report(const struct vs_report *r)
{
	if (!env.output)
		return vs_report_write(r, env.format, stdout);
	return vs_replace_with(env.output, 0644, VS_REPLACE_SHARED, fill_report, r);
}

VS_COMMAND(report, 0, "HTML/Markdown/JSON report with plots from saved runs")
{
	static const struct argp_child children[] = {
		{ &vs_common_argp, 0, "Common options:", 0 },
		{ 0 },
	};
	static const struct argp argp = {
		.options = options, .parser = parse_arg, .doc = report_doc, .children = children,
	};
	struct vs_report *r;
	unsigned int i;
	int err;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return VS_EXIT_USAGE;
	if (!env.n_from) {
		vs_err("no input: give --from FILE (see 'virtsync report --help')");
		return VS_EXIT_USAGE;
	}
	if (!env.format_set && vs_global.json)
		env.format = VS_REPORT_JSON;
	r = vs_report_new();
	if (!r) {
		vs_err("out of memory");
		return VS_EXIT_FAIL;
	}
	for (i = 0; i < env.n_from; i++) {
		json_t *doc = load_input(env.from[i]);

		if (!doc) {
			vs_report_free(r);
			return VS_EXIT_USAGE;
		}
		err = vs_report_add(r, env.from[i], doc);
		json_decref(doc);
		if (err) {
			vs_err("%s: %s", env.from[i], err == -EINVAL ?
			       "not the JSON output of a virtsync command" : strerror(-err));
			vs_report_free(r);
			return VS_EXIT_USAGE;
		}
	}
	err = write_report(r);
	vs_report_free(r);
	if (err) {
		vs_err("writing %s: %s", env.output ? env.output : "stdout", strerror(-err));
		return VS_EXIT_FAIL;
	}
	return VS_EXIT_OK;
}
