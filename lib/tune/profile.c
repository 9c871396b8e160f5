// SPDX-License-Identifier: GPL-2.0-only
/*
 * Parser of profiles and plans (schema in lib/tune/profile.h and lib/tune/planfile.h).
 * Everything is checked here that can be checked without the host: known
 * knob, selector keys fitting the knob's scope, value types, names and
 * sizes. Targets and values are checked against the host by lib/tune/apply.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/procfs.h"
#include "core/safefile.h"
#include "core/errmsg.h"
#include "tune/planfile.h"
#include "tune/profile.h"

#ifndef VS_DATADIR
#define VS_DATADIR "/usr/local/share/virtsync"
#endif

const char *const vs_sel_key_names[VS_SEL_NKEYS] = {
	"pid", "tid", "name", "role", "cpus", "state", "irq", "netdev", "qmp",
	"iothread",
};

static const char *const roles[] = {
	"vcpu", "vhost", "iothread", "producer", "consumer", NULL,
};

static bool var_name_ok(const char *s)
{
	size_t i;

	if (!s[0] || strlen(s) >= sizeof(((struct vs_var *)0)->name))
		return false;
	if (!(islower((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (i = 1; s[i]; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    s[i] != '_')
			return false;
	return true;
}

/* Printable text without control characters; values end up in sysfs files
 * and in the terminal. */
static bool text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int vs_vars_set(struct vs_var *vars, size_t *n, size_t max, const char *name,
		const char *value)
{
	size_t i;

	if (!var_name_ok(name) || strlen(value) >= VS_KNOB_VAL_MAX ||
	    !text_ok(value))
		return -EINVAL;
	for (i = 0; i < *n; i++)
		if (!strcmp(vars[i].name, name))
			break;
	if (i == *n) {
		if (*n >= max)
			return -ENOSPC;
		(*n)++;
	}
	snprintf(vars[i].name, sizeof(vars[i].name), "%s", name);
	snprintf(vars[i].value, sizeof(vars[i].value), "%s", value);
	return 0;
}

int vs_vars_expand(const char *in, char *out, size_t len,
		   const struct vs_var *const *lists, const size_t *counts,
		   size_t nlists, char *err, size_t errlen)
{
	size_t o = 0;

	while (*in) {
		const char *val = NULL;
		char name[32];
		size_t n, l, i;

		if (in[0] != '$' || in[1] != '{') {
			if (o + 1 >= len)
				return vs_errf(err, errlen, -EINVAL, "value too long after expansion");
			out[o++] = *in++;
			continue;
		}
		n = strcspn(in + 2, "}");
		if (!in[2 + n] || n == 0 || n >= sizeof(name))
			return vs_errf(err, errlen, -EINVAL, "bad variable reference in '%s'", in);
		memcpy(name, in + 2, n);
		name[n] = '\0';
		for (l = 0; l < nlists && !val; l++)
			for (i = 0; i < counts[l] && !val; i++)
				if (!strcmp(lists[l][i].name, name))
					val = lists[l][i].value;
		if (!val)
			return vs_errf(err, errlen, -EINVAL,
				    "variable ${%s} is not set (give it with --set %s=VALUE)",
				    name, name);
		if (o + strlen(val) >= len)
			return vs_errf(err, errlen, -EINVAL, "value too long after expansion");
		memcpy(out + o, val, strlen(val));
		o += strlen(val);
		in += n + 3;
	}
	out[o] = '\0';
	return 0;
}

/* A JSON string or non-negative integer as text. */
static int scalar_text(json_t *v, char *out, size_t len)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);

		if (strlen(s) >= len || !text_ok(s) ||
		    json_string_length(v) != strlen(s))
			return -EINVAL;
		snprintf(out, len, "%s", s);
		return 0;
	}
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0)
			return -ERANGE;
		snprintf(out, len, "%lld", (long long)i);
		return 0;
	}
	if (json_is_boolean(v)) {
		snprintf(out, len, "%d", json_is_true(v) ? 1 : 0);
		return 0;
	}
	return -EINVAL;
}

/* Which selector keys each scope accepts. */
static unsigned int scope_keys(enum vs_knob_scope s)
{
	switch (s) {
	case VS_SCOPE_GLOBAL: return 0;
	case VS_SCOPE_CPU: return 1u << VS_SEL_CPUS;
	case VS_SCOPE_CSTATE: return 1u << VS_SEL_CPUS | 1u << VS_SEL_STATE;
	case VS_SCOPE_THREAD:
		return 1u << VS_SEL_PID | 1u << VS_SEL_NAME | 1u << VS_SEL_TID |
		       1u << VS_SEL_ROLE;
	case VS_SCOPE_VM: return 1u << VS_SEL_PID | 1u << VS_SEL_NAME;
	case VS_SCOPE_IRQ: return 1u << VS_SEL_IRQ;
	case VS_SCOPE_NETDEV: return 1u << VS_SEL_NETDEV;
	case VS_SCOPE_IOTHREAD: return 1u << VS_SEL_QMP | 1u << VS_SEL_IOTHREAD;
	}
	return 0;
}

static int parse_target(json_t *t, struct vs_step *st, size_t i, char *err,
			size_t errlen)
{
	unsigned int allowed = scope_keys(st->knob->scope);
	const char *key;
	json_t *v;
	int k;

	if (!json_is_object(t))
		return vs_errf(err, errlen, -EINVAL, "steps[%zu].target: not an object", i);
	json_object_foreach(t, key, v) {
		for (k = 0; k < VS_SEL_NKEYS; k++)
			if (!strcmp(key, vs_sel_key_names[k]))
				break;
		if (k == VS_SEL_NKEYS)
			return vs_errf(err, errlen, -EINVAL, "steps[%zu].target: unknown key '%.40s'",
				    i, key);
		if (!(allowed & (1u << k)))
			return vs_errf(err, errlen, -EINVAL,
				    "steps[%zu].target: '%s' does not apply to %s (%s scope)",
				    i, key, st->knob->name,
				    vs_knob_scope_name(st->knob->scope));
		if (scalar_text(v, st->sel[k], sizeof(st->sel[k])) || !st->sel[k][0])
			return vs_errf(err, errlen, -EINVAL,
				    "steps[%zu].target.%s: not a string or non-negative integer",
				    i, key);
		/* Names become comparisons, never paths; still, nothing
		 * with a '/' has any business here. The one path, a QMP
		 * socket, is only ever connect()ed to. */
		if (k != VS_SEL_QMP &&
		    (strchr(st->sel[k], '/') || strstr(st->sel[k], "..")))
			return vs_errf(err, errlen, -EINVAL,
				    "steps[%zu].target.%s: '%s' contains '/' or '..'",
				    i, key, st->sel[k]);
	}
	if (st->sel[VS_SEL_ROLE][0] && !strstr(st->sel[VS_SEL_ROLE], "${")) {
		for (k = 0; roles[k]; k++)
			if (!strcmp(roles[k], st->sel[VS_SEL_ROLE]))
				break;
		if (!roles[k])
			return vs_errf(err, errlen, -EINVAL,
				    "steps[%zu].target.role: '%s' is not vcpu, vhost, iothread, producer or consumer",
				    i, st->sel[VS_SEL_ROLE]);
	}
	if (st->sel[VS_SEL_TID][0] && st->sel[VS_SEL_ROLE][0])
		return vs_errf(err, errlen, -EINVAL, "steps[%zu].target: give 'tid' or 'role', not both", i);
	if (st->sel[VS_SEL_PID][0] && st->sel[VS_SEL_NAME][0])
		return vs_errf(err, errlen, -EINVAL, "steps[%zu].target: give 'pid' or 'name', not both", i);
	return 0;
}

static int check_required(const struct vs_step *st, size_t i, char *err,
			  size_t errlen)
{
	switch (st->knob->scope) {
	case VS_SCOPE_THREAD:
	case VS_SCOPE_VM:
		if (!st->sel[VS_SEL_PID][0] && !st->sel[VS_SEL_NAME][0])
			return vs_errf(err, errlen, -EINVAL, "steps[%zu].target: %s needs 'pid' or 'name'",
				    i, st->knob->name);
		break;
	case VS_SCOPE_CSTATE:
		if (!st->sel[VS_SEL_STATE][0])
			return vs_errf(err, errlen, -EINVAL, "steps[%zu].target: %s needs 'state'",
				    i, st->knob->name);
		break;
	case VS_SCOPE_IRQ:
		if (!st->sel[VS_SEL_IRQ][0])
			return vs_errf(err, errlen, -EINVAL, "steps[%zu].target: %s needs 'irq'",
				    i, st->knob->name);
		break;
	case VS_SCOPE_NETDEV:
		if (!st->sel[VS_SEL_NETDEV][0])
			return vs_errf(err, errlen, -EINVAL, "steps[%zu].target: %s needs 'netdev'",
				    i, st->knob->name);
		break;
	case VS_SCOPE_IOTHREAD:
		if (!st->sel[VS_SEL_QMP][0] || !st->sel[VS_SEL_IOTHREAD][0])
			return vs_errf(err, errlen, -EINVAL,
				    "steps[%zu].target: %s needs 'qmp' and 'iothread'",
				    i, st->knob->name);
		break;
	default:
		break;
	}
	return 0;
}

static int parse_step(json_t *s, struct vs_step *st, size_t i, char *err,
		      size_t errlen)
{
	const char *key;
	json_t *v, *knob;
	int e;

	memset(st, 0, sizeof(*st));
	if (!json_is_object(s))
		return vs_errf(err, errlen, -EINVAL, "steps[%zu]: not an object", i);
	json_object_foreach(s, key, v) {
		if (strcmp(key, "knob") && strcmp(key, "target") &&
		    strcmp(key, "value") && strcmp(key, "why") &&
		    strcmp(key, "optional"))
			return vs_errf(err, errlen, -EINVAL, "steps[%zu]: unknown key '%.40s'", i, key);
	}
	knob = json_object_get(s, "knob");
	if (!json_is_string(knob))
		return vs_errf(err, errlen, -EINVAL, "steps[%zu].knob: missing or not a string", i);
	st->knob = vs_knob_find(json_string_value(knob));
	if (!st->knob)
		return vs_errf(err, errlen, -EINVAL,
			    "steps[%zu].knob: unknown knob '%.60s' (see 'virtsync profiles knobs')",
			    i, json_string_value(knob));
	v = json_object_get(s, "target");
	if (v && (e = parse_target(v, st, i, err, errlen)))
		return e;
	if ((e = check_required(st, i, err, errlen)))
		return e;
	v = json_object_get(s, "value");
	if (!v)
		return vs_errf(err, errlen, -EINVAL, "steps[%zu].value: missing", i);
	e = scalar_text(v, st->value, sizeof(st->value));
	if (e == -ERANGE)
		return vs_errf(err, errlen, -EINVAL, "steps[%zu].value: negative", i);
	if (e || !st->value[0])
		return vs_errf(err, errlen, -EINVAL,
			    "steps[%zu].value: not a string or non-negative integer", i);
	v = json_object_get(s, "why");
	if (v) {
		if (!json_is_string(v) || json_string_length(v) >= sizeof(st->why) ||
		    !text_ok(json_string_value(v)))
			return vs_errf(err, errlen, -EINVAL, "steps[%zu].why: not a short string", i);
		snprintf(st->why, sizeof(st->why), "%s", json_string_value(v));
	}
	v = json_object_get(s, "optional");
	if (v) {
		if (!json_is_boolean(v))
			return vs_errf(err, errlen, -EINVAL, "steps[%zu].optional: not true/false", i);
		st->optional = json_is_true(v);
	}
	return 0;
}

static bool profile_name_ok(const char *s)
{
	size_t i;

	if (!s[0] || s[0] == '.' || strlen(s) >= 64)
		return false;
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.')
			return false;
	return true;
}

static const char *const plan_keys[] = {
	"format", "version", "objective", "steps", "created", "source",
	"regime", "confidence", "dmax_ns", "variables", "predicted",
	"measured", "evidence", NULL,
};
static const char *const profile_keys[] = {
	"format", "version", "name", "description", "variables", "steps", NULL,
};
static const char *const objectives[] = {
	"throughput", "latency", "cpu", "energy", NULL,
};
static const char *const regimes[] = {
	"BW", "sFC", "sFP", "sLS", "nFC", "nFP", "nSCS", "nSPS", "nSS", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

/*
 * What `diagnose --save` and `tune --save` write is the run (a document
 * with "tool": "virtsync" and its "command") with the plan it made in
 * "plan": *doc becomes that plan.
 */
static int plan_of_run(json_t **doc, char *err, size_t errlen)
{
	const char *tool = json_string_value(json_object_get(*doc, "tool"));
	const char *cmd = json_string_value(json_object_get(*doc, "command"));
	json_t *plan = json_object_get(*doc, "plan");

	if (!tool || strcmp(tool, "virtsync"))
		return vs_errf(err, errlen, -EINVAL, "format: must be \"virtsync-plan\", or a "
			       "run saved by virtsync diagnose or tune --save");
	if (!plan || json_is_null(plan))
		return vs_errf(err, errlen, -EINVAL, "this %.20s run has no plan",
			       cmd ? cmd : "virtsync");
	if (!json_is_object(plan))
		return vs_errf(err, errlen, -EINVAL, "plan: not an object");
	json_incref(plan);
	json_decref(*doc);
	*doc = plan;
	return 0;
}

static int parse_plan_fields(json_t *doc, struct vs_profile *p, char *err,
			     size_t errlen)
{
	json_t *v;

	v = json_object_get(doc, "objective");
	if (!json_is_string(v) || !in_list(objectives, json_string_value(v)))
		return vs_errf(err, errlen, -EINVAL,
			    "objective: missing or not throughput, latency, cpu or energy");
	snprintf(p->objective, sizeof(p->objective), "%s", json_string_value(v));
	v = json_object_get(doc, "regime");
	if (v) {
		if (!json_is_string(v) || !in_list(regimes, json_string_value(v)))
			return vs_errf(err, errlen, -EINVAL, "regime: not one of the nine regime names");
		snprintf(p->regime, sizeof(p->regime), "%s", json_string_value(v));
	}
	v = json_object_get(doc, "source");
	if (v) {
		if (!json_is_string(v) || json_string_length(v) >= sizeof(p->source) ||
		    !text_ok(json_string_value(v)))
			return vs_errf(err, errlen, -EINVAL, "source: not a short string");
		snprintf(p->source, sizeof(p->source), "%s", json_string_value(v));
	}
	v = json_object_get(doc, "created");
	if (v && !json_is_string(v))
		return vs_errf(err, errlen, -EINVAL, "created: not a string");
	v = json_object_get(doc, "confidence");
	if (v && (!json_is_number(v) || !(json_number_value(v) >= 0) ||
		  json_number_value(v) > 1))
		return vs_errf(err, errlen, -EINVAL, "confidence: not a number in [0, 1]");
	v = json_object_get(doc, "dmax_ns");
	if (v) {
		double d = json_number_value(v);

		if (!json_is_number(v) || !isfinite(d) || d < 0 || d > 1e15)
			return vs_errf(err, errlen, -EINVAL, "dmax_ns: not a number in [0, 1e15]");
		p->dmax_ns = d;
	}
	for (const char *const *k = (const char *const[]){ "predicted", "measured", "evidence", NULL };
	     *k; k++) {
		v = json_object_get(doc, *k);
		if (v && !json_is_object(v))
			return vs_errf(err, errlen, -EINVAL, "%s: not an object", *k);
	}
	snprintf(p->name, sizeof(p->name), "plan");
	return 0;
}

int vs_profile_parse(const char *buf, size_t len, enum vs_profile_kind kind,
		     struct vs_profile **out, char *err, size_t errlen)
{
	const char *fmt_want = kind == VS_KIND_PLAN ? "virtsync-plan" : "virtsync-profile";
	const char *const *keys = kind == VS_KIND_PLAN ? plan_keys : profile_keys;
	struct vs_profile *p = NULL;
	json_error_t jerr;
	json_t *doc, *v, *steps;
	const char *key;
	bool nested = false;
	size_t i;
	int e = -EINVAL;

	*out = NULL;
	if (len > VS_PROFILE_MAX_BYTES)
		return vs_errf(err, errlen, -EINVAL, "larger than %d bytes", VS_PROFILE_MAX_BYTES);
	/* JSON_REJECT_DUPLICATES: two "value" keys in a step would be
	 * ambiguous; JSON_DISABLE_EOF_CHECK off: trailing junk is an error. */
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return vs_errf(err, errlen, -EINVAL, "line %d column %d: %s", jerr.line,
			    jerr.column, jerr.text);
	if (!json_is_object(doc)) {
		vs_errf(err, errlen, -EINVAL, "not a JSON object");
		goto out;
	}
	if (kind == VS_KIND_PLAN && !json_object_get(doc, "format")) {
		if (plan_of_run(&doc, err, errlen))
			goto out;
		nested = true;
	}
	json_object_foreach(doc, key, v) {
		if (!in_list(keys, key)) {
			vs_errf(err, errlen, -EINVAL, "unknown key '%.40s'", key);
			goto out;
		}
	}
	v = json_object_get(doc, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), fmt_want)) {
		vs_errf(err, errlen, -EINVAL, "format: must be \"%s\"", fmt_want);
		goto out;
	}
	v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		vs_errf(err, errlen, -EINVAL, "version: must be 1");
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		e = -ENOMEM;
		goto out;
	}
	p->kind = kind;
	p->dmax_ns = -1;
	if (kind == VS_KIND_PROFILE) {
		v = json_object_get(doc, "name");
		if (!json_is_string(v) || !profile_name_ok(json_string_value(v))) {
			vs_errf(err, errlen, -EINVAL, "name: missing or not [A-Za-z0-9_.-]");
			goto out;
		}
		snprintf(p->name, sizeof(p->name), "%s", json_string_value(v));
		v = json_object_get(doc, "description");
		if (!json_is_string(v) || json_string_length(v) >= sizeof(p->description) ||
		    !json_string_length(v)) {
			vs_errf(err, errlen, -EINVAL, "description: missing or too long");
			goto out;
		}
		snprintf(p->description, sizeof(p->description), "%s", json_string_value(v));
	} else if (parse_plan_fields(doc, p, err, errlen)) {
		goto out;
	}
	v = json_object_get(doc, "variables");
	if (v) {
		json_t *vv;

		if (!json_is_object(v)) {
			vs_errf(err, errlen, -EINVAL, "variables: not an object");
			goto out;
		}
		json_object_foreach(v, key, vv) {
			char text[VS_KNOB_VAL_MAX];

			if (scalar_text(vv, text, sizeof(text)) ||
			    vs_vars_set(p->vars, &p->nvars, VS_PROFILE_MAX_VARS, key, text)) {
				vs_errf(err, errlen, -EINVAL, "variables.%.40s: bad name or value (or too many)", key);
				goto out;
			}
		}
	}
	if (kind == VS_KIND_PLAN && p->dmax_ns >= 0) {
		char text[32];

		snprintf(text, sizeof(text), "%.0f", p->dmax_ns);
		if (vs_vars_set(p->vars, &p->nvars, VS_PROFILE_MAX_VARS, "dmax", text)) {
			vs_errf(err, errlen, -EINVAL, "variables: too many");
			goto out;
		}
	}
	steps = json_object_get(doc, "steps");
	if (!json_is_array(steps) || !json_array_size(steps) ||
	    json_array_size(steps) > VS_PROFILE_MAX_STEPS) {
		vs_errf(err, errlen, -EINVAL, "steps: missing, empty or more than %d", VS_PROFILE_MAX_STEPS);
		goto out;
	}
	p->steps = calloc(json_array_size(steps), sizeof(*p->steps));
	if (!p->steps) {
		e = -ENOMEM;
		goto out;
	}
	json_array_foreach(steps, i, v) {
		if (parse_step(v, &p->steps[i], i, err, errlen))
			goto out;
		p->nsteps++;
	}
	*out = p;
	p = NULL;
	e = 0;
out:
	if (e && nested) {
		char inner[512];

		/* name the place as it is in the file */
		snprintf(inner, sizeof(inner), "%s", err);
		snprintf(err, errlen, "plan.%s", inner);
	}
	vs_profile_free(p);
	json_decref(doc);
	return e;
}

int vs_profile_load_file(const char *path, enum vs_profile_kind kind,
			 struct vs_profile **out, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd, e;

	*out = NULL;
	/* it decides what root writes: no FIFO to block on, no file that
	 * another user owns or may rewrite */
	fd = vs_safe_open_read(path, VS_SAFE_TRUSTED);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, vs_safe_strerror(fd));
		return fd;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > VS_PROFILE_MAX_BYTES) {
		close(fd);
		snprintf(err, errlen, "%s: not a regular file of at most %d bytes",
			 path, VS_PROFILE_MAX_BYTES);
		return -EINVAL;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size &&
	       (n = read(fd, buf + got, st.st_size - got)) > 0)
		got += n;
	close(fd);
	e = vs_profile_parse(buf, got, kind, out, err, errlen);
	free(buf);
	return e;
}

void vs_profile_free(struct vs_profile *p)
{
	if (!p)
		return;
	free(p->steps);
	free(p);
}

int vs_profile_dir(char *path, size_t len)
{
	const char *env = getenv("VIRTSYNC_PROFILE_DIR");

	if (env && *env) {
		snprintf(path, len, "%s", env);
		return 0;
	}
	snprintf(path, len, "%s/profiles", VS_DATADIR);
	if (!access(path, R_OK))
		return 0;
	/* running from the build tree */
	if (!vs_beside_exe("../profiles", path, len))
		return 0;
	snprintf(path, len, "%s/profiles", VS_DATADIR);
	return -ENOENT;
}

int vs_profile_locate(const char *arg, char *path, size_t len)
{
	char dir[PATH_MAX];
	int err;

	if (arg[0] == '/' || !strncmp(arg, "./", 2) || !strncmp(arg, "../", 3)) {
		if ((size_t)snprintf(path, len, "%s", arg) >= len)
			return -ENAMETOOLONG;
		return access(path, R_OK) ? -errno : 0;
	}
	if (!profile_name_ok(arg) || strstr(arg, ".."))
		return -EINVAL;
	err = vs_profile_dir(dir, sizeof(dir));
	if (err)
		return err;
	if ((size_t)snprintf(path, len, "%s/%s.json", dir, arg) >= len)
		return -ENAMETOOLONG;
	return access(path, R_OK) ? -ENOENT : 0;
}
