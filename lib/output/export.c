// SPDX-License-Identifier: GPL-2.0-only
/* Exports of profiles and plans: tuned, libvirt, QEMU (lib/output/export.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errmsg.h"
#include "core/safefile.h"
#include "output/export.h"
#include "tune/apply.h"
#include "core/units.h"

/* --- where each knob goes ----------------------------------------------- */

enum where {
	W_SYSFS_PARAM,	/* module parameter file */
	W_SYSFS_CSTATE,	/* cpuN/cpuidle/stateS/disable */
	W_SYSFS_NETDEV,	/* /sys/class/net/IF/<file> */
	W_SYSCTL,
	W_CPU_GOVERNOR,
	W_CPU_LATENCY,
	W_THREAD_SLACK,
	W_THREAD_AFFINITY,
	W_IRQ_AFFINITY,
	W_PCDEV,
	W_IOTHREAD,
};

struct knob_map {
	const char *knob;
	enum where where;
	const char *arg;	/* path, sysctl name, file or control key */
};

static const struct knob_map knob_maps[] = {
	{ "kvm.halt_poll_ns", W_SYSFS_PARAM, "/sys/module/kvm/parameters/halt_poll_ns" },
	{ "kvm.halt_poll_ns_grow", W_SYSFS_PARAM, "/sys/module/kvm/parameters/halt_poll_ns_grow" },
	{ "kvm.halt_poll_ns_shrink", W_SYSFS_PARAM, "/sys/module/kvm/parameters/halt_poll_ns_shrink" },
	{ "kvm.halt_poll_ns_grow_start", W_SYSFS_PARAM,
	  "/sys/module/kvm/parameters/halt_poll_ns_grow_start" },
	{ "guest.halt_poll_ns", W_SYSFS_PARAM, "/sys/module/haltpoll/parameters/guest_halt_poll_ns" },
	{ "guest.halt_poll_grow", W_SYSFS_PARAM,
	  "/sys/module/haltpoll/parameters/guest_halt_poll_grow" },
	{ "guest.halt_poll_shrink", W_SYSFS_PARAM,
	  "/sys/module/haltpoll/parameters/guest_halt_poll_shrink" },
	{ "guest.halt_poll_grow_start", W_SYSFS_PARAM,
	  "/sys/module/haltpoll/parameters/guest_halt_poll_grow_start" },
	{ "guest.halt_poll_allow_shrink", W_SYSFS_PARAM,
	  "/sys/module/haltpoll/parameters/guest_halt_poll_allow_shrink" },
	{ "cpuidle.state_disable", W_SYSFS_CSTATE, "disable" },
	{ "netdev.napi_defer_hard_irqs", W_SYSFS_NETDEV, "napi_defer_hard_irqs" },
	{ "netdev.gro_flush_timeout", W_SYSFS_NETDEV, "gro_flush_timeout" },
	{ "net.core.busy_poll", W_SYSCTL, "net.core.busy_poll" },
	{ "net.core.busy_read", W_SYSCTL, "net.core.busy_read" },
	{ "cpufreq.governor", W_CPU_GOVERNOR, "governor" },
	{ "pmqos.cpu_dma_latency_us", W_CPU_LATENCY, "force_latency" },
	{ "thread.timerslack_ns", W_THREAD_SLACK, "timerslack_ns" },
	{ "thread.affinity", W_THREAD_AFFINITY, NULL },
	{ "irq.affinity", W_IRQ_AFFINITY, NULL },
	{ "vm.halt_poll_ns", W_PCDEV, "halt_poll_ns" },
	{ "pcdev.consumer_busyloop_ns", W_PCDEV, "consumer_busyloop_ns" },
	{ "pcdev.consumer_sleep_ns", W_PCDEV, "consumer_sleep_ns" },
	{ "iothread.poll_max_ns", W_IOTHREAD, NULL },
};

static const struct knob_map *map_of(const struct vs_knob_ops *k)
{
	size_t i;

	for (i = 0; i < sizeof(knob_maps) / sizeof(knob_maps[0]); i++)
		if (!strcmp(knob_maps[i].knob, k->name))
			return &knob_maps[i];
	return NULL;
}

const char *vs_export_knob_section(const struct vs_knob_ops *k)
{
	const struct knob_map *m = map_of(k);

	if (!m)
		return NULL;
	switch (m->where) {
	case W_SYSFS_PARAM:
	case W_SYSFS_CSTATE:
	case W_SYSFS_NETDEV:
		return "sysfs";
	case W_SYSCTL:
		return "sysctl";
	case W_CPU_GOVERNOR:
	case W_CPU_LATENCY:
		return "cpu";
	case W_THREAD_AFFINITY:
		return "scheduler";	/* whole VMs by name; roles: script */
	case W_THREAD_SLACK:
	case W_IRQ_AFFINITY:
	case W_PCDEV:
	case W_IOTHREAD:
		return "script";
	}
	return NULL;
}

/* --- building ------------------------------------------------------------ */

static bool var_given(const struct vs_profile *p, const struct vs_var *vars,
		      size_t nvars, const char *name)
{
	size_t i;

	for (i = 0; i < nvars; i++)
		if (!strcmp(vars[i].name, name))
			return true;
	for (i = 0; i < p->nvars; i++)
		if (!strcmp(p->vars[i].name, name))
			return true;
	return false;
}

/* Values that end up in files and command lines: a shell word and an INI
 * value without surprises. */
static bool value_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.,:-", *s))
			return false;
	return true;
}

/* A QMP socket path goes into script.sh between single quotes */
static bool path_ok(const char *s)
{
	if (*s != '/')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.,:/@+-", *s))
			return false;
	return true;
}

/* A QEMU object id (and so an iothread's): a letter, then [A-Za-z0-9_.-];
 * a ',' would start another option of -object. */
static bool qemu_id_ok(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

/* Text taken from the plan or its path (the source, a step's why) goes into
 * comments of script.sh, tuned.conf, the QEMU options and the XML: one line
 * of printable ASCII, so that no newline ends the comment and starts a
 * command, a section or an option. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

const char *vs_export_xml_comment(const char *in, char *out, size_t len)
{
	size_t o = 0;

	/* "--" may not appear inside an XML comment, nor '-' end one */
	for (; *in && o + 3 < len; in++) {
		out[o++] = *in;
		if (*in == '-' && (in[1] == '-' || !in[1]))
			out[o++] = ' ';
	}
	out[o] = '\0';
	return out;
}

static int check_value(const struct vs_export_step *s, const struct knob_map *m,
		       char *err, size_t errlen)
{
	uint64_t v, mask;

	if (!value_ok(s->value))
		return vs_errf(err, errlen, -EINVAL, "value '%s' has characters no %s value has",
			    s->value, s->knob->name);
	switch (m->where) {
	case W_THREAD_AFFINITY:
	case W_IRQ_AFFINITY:
		if (vs_cpulist_parse(s->value, &mask) || !mask)
			return vs_errf(err, errlen, -EINVAL, "value '%s' is not a CPU list",
				    s->value);
		return 0;
	case W_CPU_GOVERNOR:
		return 0;
	case W_CPU_LATENCY:
		if (!strcmp(s->value, "none"))
			return 0;
		break;
	case W_SYSFS_PARAM:
		if (!strcmp(s->knob->name, "guest.halt_poll_allow_shrink") &&
		    (!strcmp(s->value, "Y") || !strcmp(s->value, "N")))
			return 0;
		break;
	default:
		break;
	}
	if (vs_parse_u64(s->value, 0, INT64_MAX, &v))
		return vs_errf(err, errlen, -EINVAL, "value '%s' is not a non-negative integer",
			    s->value);
	return 0;
}

static int plan_restarts(struct vs_export *x, const char *path, char *err,
			 size_t errlen)
{
	json_error_t jerr;
	json_t *doc, *queues, *q;
	size_t i, j;
	int fd = vs_safe_open_read(path, VS_SAFE_TRUSTED);

	if (fd < 0)
		return vs_errf(err, errlen, fd, "%s: %s", path, vs_safe_strerror(fd));
	doc = json_loadfd(fd, 0, &jerr);
	close(fd);
	if (!doc)
		return vs_errf(err, errlen, -EINVAL, "%s", jerr.text);
	/* a plan file carries diagnose's run as its evidence; a saved run
	 * is that report itself, with the plan inside */
	queues = json_object_get(json_object_get(doc, "evidence") ?
				 json_object_get(doc, "evidence") : doc, "queues");
	json_array_foreach(queues, i, q) {
		json_t *acts = json_object_get(json_object_get(q, "recommendation"), "actions");
		json_t *a;

		json_array_foreach(acts, j, a) {
			const char *knob = json_string_value(json_object_get(a, "knob"));
			const char *val = json_string_value(json_object_get(a, "value"));
			const char *app = json_string_value(json_object_get(a, "applies"));
			const char *why = json_string_value(json_object_get(a, "why"));
			struct vs_export_restart *r;
			uint64_t v;

			if (!knob || !val || !app || strcmp(app, "restart") ||
			    strcmp(knob, "vhost.poll_us"))
				continue;
			if (vs_parse_u64(val, 0, UINT32_MAX, &v)) {
				json_decref(doc);
				return vs_errf(err, errlen, -EINVAL,
					    "evidence: vhost.poll_us value '%.40s' is not a number", val);
			}
			if (x->nrestarts == VS_EXPORT_MAX_RESTARTS)
				break;
			r = &x->restarts[x->nrestarts++];
			snprintf(r->knob, sizeof(r->knob), "%s", knob);
			snprintf(r->value, sizeof(r->value), "%" PRIu64, v);
			snprintf(r->why, sizeof(r->why), "%s", why ? why : "");
			one_line(r->why);
		}
	}
	json_decref(doc);
	return 0;
}

/* One line for [main] summary=: no newline, no '%' (tuned and Python's
 * configparser interpolate it), no "${" (tuned expands variables). */
static void make_summary(struct vs_export *x, const char *desc)
{
	char *o = x->summary, *end = x->summary + sizeof(x->summary) - 1;
	const char *s;
	size_t n;

	/* tuned-adm list shows it on one line: keep it short */
	if (end > x->summary + 69)
		end = x->summary + 69;	/* "summary=" + 69 fits 78 */
	/* a plan's directory says nothing in tuned-adm list: its file name */
	if (!strncmp(x->source, "plan ", 5) && strrchr(x->source, '/'))
		n = snprintf(o, sizeof(x->summary), "virtsync plan %s: ",
			     strrchr(x->source, '/') + 1);
	else
		n = snprintf(o, sizeof(x->summary), "virtsync %s: ", x->source);
	o += n < sizeof(x->summary) ? n : sizeof(x->summary) - 1;
	for (s = desc; *s && o < end; s++) {
		if (*s == '.' && (s[1] == ' ' || !s[1]))
			break;	/* first sentence */
		if (*s == '%' || *s == '$' || *s == '\n' || *s == '\r' || *s == '\t')
			*o++ = ' ';
		else
			*o++ = *s;
	}
	if (*s && o >= end && *s != '.') {
		/* cut at the last word and say so */
		while (o > x->summary && o[-1] != ' ')
			o--;
		while (o > x->summary && o[-1] == ' ')
			o--;
		if (o + 3 < x->summary + sizeof(x->summary))
			memcpy(o, "...", 3), o += 3;
	}
	*o = '\0';
}

int vs_export_build(const struct vs_profile *p, const char *source,
		    const char *plan_path, const struct vs_var *vars,
		    size_t nvars, struct vs_export **out, char *err,
		    size_t errlen)
{
	struct vs_export *x = calloc(1, sizeof(*x));
	char desc[1024], msg[256];
	size_t i;
	int e, k;

	*out = NULL;
	if (!x)
		return -ENOMEM;
	x->steps = calloc(p->nsteps ? p->nsteps : 1, sizeof(*x->steps));
	if (!x->steps) {
		free(x);
		return -ENOMEM;
	}
	snprintf(x->name, sizeof(x->name), "%s", p->name[0] ? p->name : "plan");
	snprintf(x->source, sizeof(x->source), "%s", source);
	one_line(x->source);
	for (i = 0; i < p->nsteps; i++) {
		const struct vs_step *st = &p->steps[i];
		struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = map_of(st->knob);

		if (!m) {
			e = vs_errf(err, errlen, -EINVAL, "step %zu: knob %s cannot be exported",
				 i + 1, st->knob->name);
			goto fail;
		}
		s->knob = st->knob;
		snprintf(s->why, sizeof(s->why), "%s", st->why);
		one_line(s->why);
		for (k = 0; k < VS_SEL_NKEYS; k++) {
			e = vs_apply_expand(p, vars, nvars, st->sel[k], s->sel[k],
					   sizeof(s->sel[k]), msg, sizeof(msg));
			if (e) {
				vs_errf(err, errlen, e, "step %zu (%s): %s", i + 1,
				     st->knob->name, msg);
				goto fail;
			}
		}
		/* ${cpus} is "every CPU of the host that runs the profile",
		 * not this host's list, unless the user set it. */
		s->all_cpus = !st->sel[VS_SEL_CPUS][0] ||
			      (!strcmp(st->sel[VS_SEL_CPUS], "${cpus}") &&
			       !var_given(p, vars, nvars, "cpus"));
		e = vs_apply_expand(p, vars, nvars, st->value, s->value, sizeof(s->value),
				   msg, sizeof(msg));
		if (!e)
			e = check_value(s, m, msg, sizeof(msg));
		if (e) {
			vs_errf(err, errlen, e, "step %zu (%s): %s", i + 1, st->knob->name, msg);
			goto fail;
		}
		if (s->sel[VS_SEL_QMP][0] && !path_ok(s->sel[VS_SEL_QMP])) {
			e = vs_errf(err, errlen, -EINVAL,
				 "step %zu (%s): qmp '%s' is not an absolute path of plain characters",
				 i + 1, st->knob->name, s->sel[VS_SEL_QMP]);
			goto fail;
		}
		if (s->sel[VS_SEL_IOTHREAD][0] && !qemu_id_ok(s->sel[VS_SEL_IOTHREAD])) {
			e = vs_errf(err, errlen, -EINVAL,
				 "step %zu (%s): iothread '%s' is not a QEMU object id",
				 i + 1, st->knob->name, s->sel[VS_SEL_IOTHREAD]);
			goto fail;
		}
		for (k = 0; k < VS_SEL_NKEYS; k++)
			if (k != VS_SEL_QMP && s->sel[k][0] && !value_ok(s->sel[k])) {
				e = vs_errf(err, errlen, -EINVAL, "step %zu (%s): target %s '%s' is not a plain name",
					 i + 1, st->knob->name, vs_sel_key_names[k], s->sel[k]);
				goto fail;
			}
		x->nsteps++;
	}
	if (vs_apply_expand(p, vars, nvars, p->description, desc, sizeof(desc), msg,
			   sizeof(msg)))
		snprintf(desc, sizeof(desc), "%s", p->description);
	if (!desc[0] && p->kind == VS_KIND_PLAN)
		snprintf(desc, sizeof(desc), "%s%s%sobjective %s, %zu step%s",
			 p->regime[0] ? "regime " : "", p->regime, p->regime[0] ? ", " : "",
			 p->objective, p->nsteps, p->nsteps == 1 ? "" : "s");
	make_summary(x, desc);
	if (plan_path) {
		e = plan_restarts(x, plan_path, err, errlen);
		if (e)
			goto fail;
	}
	*out = x;
	return 0;
fail:
	vs_export_free(x);
	return e;
}

void vs_export_free(struct vs_export *x)
{
	if (!x)
		return;
	free(x->steps);
	free(x);
}

/* --- tuned.conf ------------------------------------------------------------ */

/* Does a thread step name a whole VM by name, so that tuned's [scheduler]
 * (which matches the regex against the process command line of every
 * thread) can express it? */
static bool sched_expressible(const struct vs_export_step *s)
{
	return s->sel[VS_SEL_NAME][0] && !s->sel[VS_SEL_ROLE][0] && !s->sel[VS_SEL_TID][0] &&
	       !strchr(s->sel[VS_SEL_NAME], ':');
}

static bool cstate_numeric(const struct vs_export_step *s)
{
	uint64_t v;

	return !vs_parse_u64(s->sel[VS_SEL_STATE], 0, 63, &v);
}

static bool in_script(const struct vs_export_step *s, const struct knob_map *m)
{
	switch (m->where) {
	case W_SYSFS_CSTATE:
		return !cstate_numeric(s);
	case W_THREAD_AFFINITY:
		return !sched_expressible(s);
	case W_THREAD_SLACK:
	case W_IRQ_AFFINITY:
	case W_PCDEV:
	case W_IOTHREAD:
		return true;
	default:
		return false;
	}
}

/* "# knob: why", wrapped at word boundaries to fit 78 columns */
static void put_comment(FILE *f, const struct vs_export_step *s)
{
	char text[320];
	const char *p = text;
	size_t width = 76;	/* after "# " */

	if (!s->why[0])
		return;
	snprintf(text, sizeof(text), "%s: %s", s->knob->name, s->why);
	while (*p) {
		size_t n = strlen(p), cut = n;

		if (n > width) {
			for (cut = width; cut > 0 && p[cut] != ' '; cut--)
				;
			if (!cut)
				cut = width;
		}
		fprintf(f, "%s%.*s\n", p == text ? "# " : "#   ", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
		width = 74;	/* after "#   " */
	}
}

static void cstate_keys(FILE *f, const struct vs_export_step *s)
{
	uint64_t mask;
	unsigned int c;

	/* tuned expands globs in [sysfs] paths */
	if (s->all_cpus || vs_cpulist_parse(s->sel[VS_SEL_CPUS], &mask)) {
		fprintf(f, "/sys/devices/system/cpu/cpu*/cpuidle/state%s/disable=%s\n",
			s->sel[VS_SEL_STATE], s->value);
		return;
	}
	for (c = 0; c < 64; c++)
		if (mask & (1ULL << c))
			fprintf(f, "/sys/devices/system/cpu/cpu%u/cpuidle/state%s/disable=%s\n",
				c, s->sel[VS_SEL_STATE], s->value);
}

static void sysfs_section(FILE *f, const struct vs_export *x)
{
	bool head = false;
	size_t i;

	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = map_of(s->knob);

		if ((m->where != W_SYSFS_PARAM && m->where != W_SYSFS_CSTATE &&
		     m->where != W_SYSFS_NETDEV) || in_script(s, m))
			continue;
		if (!head)
			fprintf(f, "\n[sysfs]\n");
		head = true;
		put_comment(f, s);
		if (m->where == W_SYSFS_PARAM)
			fprintf(f, "%s=%s\n", m->arg, s->value);
		else if (m->where == W_SYSFS_NETDEV)
			fprintf(f, "/sys/class/net/%s/%s=%s\n", s->sel[VS_SEL_NETDEV], m->arg,
				s->value);
		else
			cstate_keys(f, s);
	}
}

static void sysctl_section(FILE *f, const struct vs_export *x)
{
	bool head = false;
	size_t i;

	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = map_of(s->knob);

		if (m->where != W_SYSCTL)
			continue;
		if (!head)
			fprintf(f, "\n[sysctl]\n");
		head = true;
		put_comment(f, s);
		fprintf(f, "%s=%s\n", m->arg, s->value);
	}
}

static void cpu_sections(FILE *f, const struct vs_export *x)
{
	bool head = false;
	unsigned int extra = 0;
	size_t i;

	/* [cpu]: the governor for every CPU and the PM QoS latency bound */
	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = map_of(s->knob);

		if (m->where == W_CPU_GOVERNOR && !s->all_cpus)
			continue;
		if (m->where != W_CPU_GOVERNOR && m->where != W_CPU_LATENCY)
			continue;
		if (!head)
			fprintf(f, "\n[cpu]\n");
		head = true;
		put_comment(f, s);
		if (m->where == W_CPU_LATENCY && !strcmp(s->value, "none"))
			fprintf(f, "# no force_latency: no PM QoS request, every idle state allowed\n");
		else
			fprintf(f, "%s=%s\n", m->arg, s->value);
	}
	/* a governor for some CPUs only: an instance of the cpu plugin of
	 * its own, limited with devices= */
	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = map_of(s->knob);
		uint64_t mask;
		unsigned int c;
		bool first = true;

		if (m->where != W_CPU_GOVERNOR || s->all_cpus ||
		    vs_cpulist_parse(s->sel[VS_SEL_CPUS], &mask))
			continue;
		fprintf(f, "\n[cpu_virtsync%u]\ntype=cpu\n", extra++);
		put_comment(f, s);
		fprintf(f, "devices=");
		for (c = 0; c < 64; c++)
			if (mask & (1ULL << c)) {
				fprintf(f, "%scpu%u", first ? "" : ",", c);
				first = false;
			}
		fprintf(f, "\n%s=%s\n", m->arg, s->value);
	}
}

static void regex_name(FILE *f, const char *name)
{
	for (; *name; name++) {
		if (*name == '.')
			fputc('\\', f);
		fputc(*name, f);
	}
}

static void scheduler_section(FILE *f, const struct vs_export *x)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = map_of(s->knob);
		uint64_t mask;

		if (m->where != W_THREAD_AFFINITY || in_script(s, m) ||
		    vs_cpulist_parse(s->value, &mask))
			continue;
		if (!n)
			fprintf(f, "\n[scheduler]\n");
		put_comment(f, s);
		/* group.NAME=rule_prio:policy:priority:affinity:regex, the
		 * regex matched against each process's command line: the
		 * program itself, or QEMU's "-name [guest=]NAME" */
		fprintf(f, "group.virtsync%u=0:*:*:%" PRIx64 ":(^|/)", n++, mask);
		regex_name(f, s->sel[VS_SEL_NAME]);
		fprintf(f, "( |$)|-name (guest=)?");
		regex_name(f, s->sel[VS_SEL_NAME]);
		fprintf(f, "[, ]\n");
	}
}

static size_t script_steps(const struct vs_export *x)
{
	size_t i, n = 0;

	for (i = 0; i < x->nsteps; i++)
		n += in_script(&x->steps[i], map_of(x->steps[i].knob));
	return n;
}

/* `buf` is the open_memstream() pointer: valid only after fclose() */
static int memstream_done(FILE *f, char **text, char **buf)
{
	bool bad = ferror(f);

	if (fclose(f) || bad) {
		free(*buf);
		return -EIO;
	}
	*text = *buf;
	return 0;
}

int vs_export_tuned_conf(const struct vs_export *x, char **text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -errno;
	fprintf(f, "# tuned profile written by 'virtsync export' from %s.\n"
		"# Install: copy this directory to /etc/tuned/<name>/, then\n"
		"# 'tuned-adm profile <name>'. script.sh holds what tuned cannot say.\n"
		"\n[main]\nsummary=%s\n", x->source, x->summary);
	sysfs_section(f, x);
	sysctl_section(f, x);
	cpu_sections(f, x);
	scheduler_section(f, x);
	fprintf(f, "\n[script]\n# %zu step%s tuned cannot express: run as 'script.sh start|stop'\n"
		"script=${i:PROFILE_DIR}/script.sh\n", script_steps(x),
		script_steps(x) == 1 ? "" : "s");
	return memstream_done(f, text, &buf);
}

/* --- script.sh ------------------------------------------------------------ */

static const char script_head[] =
"\n"
"warn() { echo \"virtsync script: $*\" >&2; }\n"
"# remember KIND TARGET OLD for stop\n"
"remember() { printf '%s\\t%s\\t%s\\n' \"$1\" \"$2\" \"$3\" >>\"$STATE\"; }\n"
"\n"
"# set_file FILE VALUE: keep FILE's value for stop, then write VALUE\n"
"set_file() {\n"
"\tlocal old\n"
"\told=$(cat \"$1\" 2>/dev/null) || { warn \"$1: cannot read, skipped\"; return 0; }\n"
"\tremember file \"$1\" \"$old\"\n"
"\techo \"$2\" >\"$1\" 2>/dev/null || warn \"$1: cannot write '$2'\"\n"
"}\n"
"\n"
"# set_affinity TID CPUS\n"
"set_affinity() {\n"
"\tlocal old\n"
"\told=$(taskset -pc \"$1\" 2>/dev/null) || { warn \"thread $1: gone, skipped\"; return 0; }\n"
"\tremember affinity \"$1\" \"${old##*: }\"\n"
"\ttaskset -pc \"$2\" \"$1\" >/dev/null || warn \"thread $1: cannot pin to $2\"\n"
"}\n"
"\n"
"# pids_of PID|NAME: that process, or those named NAME (their comm, or\n"
"# QEMU's -name [guest=]NAME)\n"
"pids_of() {\n"
"\tlocal p args\n"
"\tcase $1 in\n"
"\t*[!0-9]*) ;;\n"
"\t*) [ -d \"/proc/$1\" ] && echo \"$1\"; return 0 ;;\n"
"\tesac\n"
"\tfor p in /proc/[0-9]*; do\n"
"\t\tp=${p#/proc/}\n"
"\t\tif [ \"$(cat \"/proc/$p/comm\" 2>/dev/null)\" = \"$1\" ]; then\n"
"\t\t\techo \"$p\"; continue\n"
"\t\tfi\n"
"\t\targs=$(tr '\\0' ' ' <\"/proc/$p/cmdline\" 2>/dev/null) || continue\n"
"\t\tcase \" $args\" in\n"
"\t\t*\" -name $1 \"*|*\" -name $1,\"*|*\" -name guest=$1 \"*|*\" -name guest=$1,\"*)\n"
"\t\t\techo \"$p\" ;;\n"
"\t\tesac\n"
"\tdone\n"
"}\n"
"\n"
"# threads_of PID ROLE: TIDs by thread name, as 'virtsync apply' matches\n"
"# them (QEMU: \"CPU n/KVM\", \"IO id\", vhost-PID kernel threads; the\n"
"# reference device: vs-producer, vs-consumer, vs-vcpuN, vs-vhost)\n"
"threads_of() {\n"
"\tlocal t comm\n"
"\tfor t in /proc/\"$1\"/task/[0-9]*; do\n"
"\t\tcomm=$(cat \"$t/comm\" 2>/dev/null) || continue\n"
"\t\tcase \"$2:$comm\" in\n"
"\t\t:*|vcpu:CPU\\ [0-9]*/KVM|vcpu:vs-vcpu[0-9]*|iothread:IO\\ *|\\\n"
"\t\tvhost:vs-vhost|producer:vs-producer|producer:vs-vcpu[0-9]*|\\\n"
"\t\tconsumer:vs-consumer|consumer:vs-vhost)\n"
"\t\t\techo \"${t##*/}\" ;;\n"
"\t\tesac\n"
"\tdone\n"
"\tif [ \"$2\" = vhost ]; then\n"
"\t\tfor t in /proc/[0-9]*; do\n"
"\t\t\t[ \"$(cat \"$t/comm\" 2>/dev/null)\" = \"vhost-$1\" ] && echo \"${t#/proc/}\"\n"
"\t\tdone\n"
"\tfi\n"
"}\n"
"\n"
"# pcdev_set PID KEY VALUE: the reference device's control file\n"
"pcdev_set() {\n"
"\tlocal ctl=/run/virtsync/pcdev-$1.ctl old\n"
"\told=$(sed -n \"s/^$2=//p\" \"$ctl\" 2>/dev/null)\n"
"\t[ -n \"$old\" ] || { warn \"$ctl: no $2, skipped\"; return 0; }\n"
"\tremember pcdev \"$1 $2\" \"$old\"\n"
"\tsed \"s/^$2=.*/$2=$3/\" \"$ctl\" >\"$ctl.tmp\" && mv \"$ctl.tmp\" \"$ctl\"\n"
"}\n"
"\n"
"# qmp_poll SOCKET ID [NS]: print an iothread's poll-max-ns; set it to NS.\n"
"# (python3: tuned itself runs on it)\n"
"qmp_poll() {\n"
"\tpython3 - \"$@\" <<'PY'\n"
"import json, socket, sys\n"
"s = socket.socket(socket.AF_UNIX)\n"
"s.settimeout(3)\n"
"s.connect(sys.argv[1])\n"
"f = s.makefile('rw')\n"
"def cmd(c, a=None):\n"
"    f.write(json.dumps({'execute': c, 'arguments': a or {}}) + '\\n')\n"
"    f.flush()\n"
"    while True:\n"
"        r = json.loads(f.readline())\n"
"        if 'error' in r:\n"
"            sys.exit('QMP ' + c + ': ' + r['error'].get('desc', '?'))\n"
"        if 'return' in r:\n"
"            return r['return']\n"
"json.loads(f.readline())\n"
"cmd('qmp_capabilities')\n"
"p = '/objects/' + sys.argv[2]\n"
"print(cmd('qom-get', {'path': p, 'property': 'poll-max-ns'}))\n"
"if len(sys.argv) > 3:\n"
"    cmd('qom-set', {'path': p, 'property': 'poll-max-ns', 'value': int(sys.argv[3])})\n"
"PY\n"
"}\n"
"\n"
"# set_iothread SOCKET ID NS\n"
"set_iothread() {\n"
"\tlocal old\n"
"\told=$(qmp_poll \"$1\" \"$2\" \"$3\") || { warn \"QEMU at $1, iothread $2: skipped\"; return 0; }\n"
"\tremember iothread \"$1#$2\" \"$old\"\n"
"}\n"
"\n"
"stop() {\n"
"\t[ -f \"$STATE\" ] || return 0\n"
"\t# last change first, as 'virtsync rollback' does\n"
"\ttac \"$STATE\" | while IFS=$'\\t' read -r kind target old; do\n"
"\t\tcase $kind in\n"
"\t\tfile) echo \"$old\" >\"$target\" 2>/dev/null ;;\n"
"\t\taffinity) taskset -pc \"$old\" \"$target\" >/dev/null 2>&1 ;;\n"
"\t\tpcdev) pcdev_set ${target% *} ${target#* } \"$old\" ;;\n"
"\t\tiothread) qmp_poll \"${target%#*}\" \"${target##*#}\" \"$old\" >/dev/null ;;\n"
"\t\tesac || warn \"$kind $target: not restored\"\n"
"\tdone\n"
"\trm -f \"$STATE\"\n"
"}\n"
"\n";

/* Emit a loop over the threads a thread step selects. */
static void script_threads(FILE *f, const struct vs_export_step *s, const char *body)
{
	const char *who = s->sel[VS_SEL_PID][0] ? s->sel[VS_SEL_PID] : s->sel[VS_SEL_NAME];

	if (s->sel[VS_SEL_TID][0])
		fprintf(f, "\tfor pid in $(pids_of %s); do\n\t\tfor tid in %s; do\n", who,
			s->sel[VS_SEL_TID]);
	else
		fprintf(f, "\tfor pid in $(pids_of %s); do\n"
			"\t\tfor tid in $(threads_of \"$pid\" '%s'); do\n", who,
			s->sel[VS_SEL_ROLE]);
	fprintf(f, "\t\t\t%s\n\t\tdone\n\tdone\n", body);
}

int vs_export_script(const struct vs_export *x, char **text)
{
	char *buf = NULL, body[512];
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -errno;
	fprintf(f, "#!/bin/bash\n"
		"# Written by 'virtsync export' from %s: the settings tuned cannot\n"
		"# express. tuned runs 'script.sh start' when the profile is applied\n"
		"# and 'script.sh stop' when it is unloaded; stop restores every value\n"
		"# start changed (kept in the state file below).\n", x->source);
	fprintf(f, "set -u\nSTATE=/run/virtsync/tuned-%s.state\n", x->name);
	fputs(script_head, f);
	fprintf(f, "start() {\n"
		"\tmkdir -p /run/virtsync || return 1\n"
		"\t# a start after a crash or a second start: undo the first\n"
		"\tstop\n"
		"\t: >\"$STATE\" || return 1\n");
	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = map_of(s->knob);
		const char *who = s->sel[VS_SEL_PID][0] ? s->sel[VS_SEL_PID] : s->sel[VS_SEL_NAME];

		if (!in_script(s, m))
			continue;
		fprintf(f, "\t# %s = %s%s%s\n", s->knob->name, s->value, s->why[0] ? ": " : "",
			s->why);
		switch (m->where) {
		case W_THREAD_SLACK:
			snprintf(body, sizeof(body), "set_file \"/proc/$tid/timerslack_ns\" %s",
				 s->value);
			script_threads(f, s, body);
			break;
		case W_THREAD_AFFINITY:
			snprintf(body, sizeof(body), "set_affinity \"$tid\" %s", s->value);
			script_threads(f, s, body);
			break;
		case W_IRQ_AFFINITY:
			fprintf(f, "\tfor irq in $(echo %s | tr ',' ' '); do\n"
				"\t\tset_file \"/proc/irq/$irq/smp_affinity_list\" %s\n\tdone\n",
				s->sel[VS_SEL_IRQ], s->value);
			break;
		case W_SYSFS_CSTATE:
			if (s->all_cpus)
				fprintf(f, "\tfor d in /sys/devices/system/cpu/cpu[0-9]*/cpuidle/state*; do\n");
			else
				fprintf(f, "\tfor d in $(for c in $(echo %s | tr ',' ' '); do\n"
					"\t\tcase $c in *-*) seq ${c%%-*} ${c#*-} ;; *) echo $c ;; esac\n"
					"\t\tdone | sed 's|.*|/sys/devices/system/cpu/cpu&/cpuidle/state*|'); do\n",
					s->sel[VS_SEL_CPUS]);
			fprintf(f, "\t\t[ \"$(cat $d/name 2>/dev/null)\" = '%s' ] &&\n"
				"\t\t\tset_file \"$d/disable\" %s\n\tdone\n",
				s->sel[VS_SEL_STATE], s->value);
			break;
		case W_PCDEV:
			fprintf(f, "\tfor pid in $(pids_of %s); do\n"
				"\t\tpcdev_set \"$pid\" %s %s\n\tdone\n", who, m->arg, s->value);
			break;
		case W_IOTHREAD:
			fprintf(f, "\tset_iothread '%s' %s %s\n", s->sel[VS_SEL_QMP],
				s->sel[VS_SEL_IOTHREAD], s->value);
			break;
		default:
			break;
		}
	}
	fprintf(f, "\treturn 0\n}\n\n"
		"case \"${1:-}\" in\n"
		"start) start ;;\n"
		"stop) stop ;;\n"
		"verify) exit 0 ;;\n"
		"*) echo \"usage: $0 start|stop\" >&2; exit 2 ;;\n"
		"esac\n");
	return memstream_done(f, text, &buf);
}

/* --- the directory ------------------------------------------------------- */

static int write_file(int dfd, const char *name, const char *text, mode_t mode)
{
	size_t len = strlen(text), off = 0;
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int err = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			err = -errno;
			break;
		}
		off += n;
	}
	if (!err && fchmod(fd, mode))	/* the umask must not drop +x */
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* 1: DIR holds only files an earlier export wrote; 0: empty or absent;
 * -EEXIST: something else. */
static int earlier_export(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strcmp(de->d_name, "tuned.conf") && strcmp(de->d_name, "script.sh")) {
			ret = -EEXIST;
			break;
		}
		ret = 1;
	}
	closedir(d);
	return ret;
}

static void remove_tree(const char *dir)
{
	char p[4096 + 16];

	snprintf(p, sizeof(p), "%s/tuned.conf", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/script.sh", dir);
	unlink(p);
	rmdir(dir);
}

int vs_export_tuned(const struct vs_export *x, const char *dir, char *err,
		    size_t errlen)
{
	char tmp[4096], *conf = NULL, *script = NULL;
	struct stat st;
	int e, dfd = -1, prev;

	if (!dir[0] || snprintf(tmp, sizeof(tmp), "%s.vsXXXXXX", dir) >= (int)sizeof(tmp))
		return vs_errf(err, errlen, -EINVAL, "bad directory name '%s'", dir);
	while (strlen(dir) > 1 && tmp[strlen(dir) - 1] == '/')
		return vs_errf(err, errlen, -EINVAL, "give the directory without a trailing '/'");
	prev = earlier_export(dir);
	if (prev < 0)
		return vs_errf(err, errlen, prev, "%s exists and holds other files than an export's (%s)",
			    dir, strerror(-prev));
	if (!stat(dir, &st) && !S_ISDIR(st.st_mode))
		return vs_errf(err, errlen, -ENOTDIR, "%s exists and is not a directory", dir);
	e = vs_export_tuned_conf(x, &conf);
	if (!e)
		e = vs_export_script(x, &script);
	if (e) {
		vs_errf(err, errlen, e, "cannot build the texts: %s", strerror(-e));
		goto out;
	}
	if (!mkdtemp(tmp)) {
		e = vs_errf(err, errlen, -errno, "cannot create a directory next to %s: %s", dir,
			 strerror(errno));
		goto out;
	}
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fchmod(dfd, 0755)) {
		e = vs_errf(err, errlen, -errno, "%s: %s", tmp, strerror(errno));
		goto out_rm;
	}
	e = write_file(dfd, "tuned.conf", conf, 0644);
	if (!e)
		e = write_file(dfd, "script.sh", script, 0755);
	if (!e && fsync(dfd))
		e = -errno;
	if (e) {
		vs_errf(err, errlen, e, "writing into %s: %s", tmp, strerror(-e));
		goto out_rm;
	}
	if (prev == 1) {
		/* swap the new directory in, then drop the old one */
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE)) {
			e = vs_errf(err, errlen, -errno, "cannot replace %s: %s", dir, strerror(errno));
			goto out_rm;
		}
	} else if (rename(tmp, dir)) {	/* onto an empty or absent DIR */
		e = vs_errf(err, errlen, -errno, "cannot rename to %s: %s", dir, strerror(errno));
		goto out_rm;
	}
out_rm:
	/* after a swap `tmp` holds the old export; after a failure, ours */
	if (e || prev == 1)
		remove_tree(tmp);
out:
	if (dfd >= 0)
		close(dfd);
	free(conf);
	free(script);
	return e;
}

/* --- libvirt and QEMU ------------------------------------------------------ */

static const char *step_role(const struct vs_export_step *s)
{
	return s->sel[VS_SEL_ROLE];
}

int vs_export_libvirt(const struct vs_export *x, unsigned int vcpus, char **text)
{
	char *buf = NULL;
	size_t len = 0, i;
	const char *vcpu_set = NULL, *io_set = NULL, *emu_set = NULL;
	char cbuf[400];	/* the source (160) with every "-" doubled */
	unsigned int v;
	bool iface = false;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -errno;
	/* texts in XML comments go through vs_export_xml_comment(); the
	 * attribute values are checked CPU lists and numbers */
	fprintf(f, "<!-- virtsync export from %s.\n"
		"     Merge these elements into the domain (virsh edit DOMAIN);\n"
		"     libvirt applies them when the domain starts. -->\n",
		vs_export_xml_comment(x->source, cbuf, sizeof(cbuf)));
	fprintf(f, "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n");
	fprintf(f, "  <cputune>\n");
	/* libvirt takes one pin per vCPU, iothread and the emulator: a later
	 * step on the same threads wins, as it does in apply */
	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const char *role = step_role(s);

		if (strcmp(s->knob->name, "thread.affinity"))
			continue;
		if (!strcmp(role, "vcpu"))
			vcpu_set = s->value;
		else if (!strcmp(role, "iothread"))
			io_set = s->value;
		else if (!role[0] || !strcmp(role, "vhost") || !strcmp(role, "consumer"))
			/* vhost workers join the QEMU process's cgroup: the
			 * emulator pin is where libvirt puts them */
			emu_set = s->value;
		else
			fprintf(f, "    <!-- %s role %s: a reference device thread, not a libvirt domain's -->\n",
				s->knob->name, vs_export_xml_comment(role, cbuf, sizeof(cbuf)));
	}
	for (v = 0; vcpu_set && v < vcpus; v++)
		fprintf(f, "    <vcpupin vcpu='%u' cpuset='%s'/>\n", v, vcpu_set);
	if (emu_set)
		fprintf(f, "    <emulatorpin cpuset='%s'/>\n", emu_set);
	/* libvirt numbers iothreads from 1 (<iothreads>N</iothreads>) */
	if (io_set)
		fprintf(f, "    <iothreadpin iothread='1' cpuset='%s'/>\n", io_set);
	if (!vcpu_set && !emu_set && !io_set)
		fprintf(f, "    <!-- no thread.affinity step: nothing to pin -->\n");
	fprintf(f, "  </cputune>\n");
	for (i = 0; i < x->nrestarts; i++) {
		const struct vs_export_restart *r = &x->restarts[i];

		if (strcmp(r->knob, "vhost.poll_us"))
			continue;
		if (!iface)
			fprintf(f, "  <devices>\n");
		iface = true;
		/* libvirt's schema (checked: 9.0 domaincommon.rng) has no
		 * attribute for vhost-net busy polling: the interface keeps
		 * vhost, and poll-us goes through the QEMU passthrough. */
		fprintf(f, "    <!-- vhost busy polling %s us: libvirt has no attribute for it;\n"
			"         see qemu:commandline below -->\n"
			"    <interface type='network'>\n"
			"      <source network='default'/>\n"
			"      <model type='virtio'/>\n"
			"      <driver name='vhost'/>\n"
			"    </interface>\n", r->value);
	}
	if (iface)
		fprintf(f, "  </devices>\n");
	for (i = 0; i < x->nrestarts; i++) {
		const struct vs_export_restart *r = &x->restarts[i];

		if (strcmp(r->knob, "vhost.poll_us"))
			continue;
		fprintf(f, "  <!-- replaces the interface above with one QEMU builds itself:\n"
			"       adapt ifname and drop the libvirt interface to use it -->\n"
			"  <qemu:commandline>\n"
			"    <qemu:arg value='-netdev'/>\n"
			"    <qemu:arg value='tap,id=vsnet%zu,ifname=vsnet%zu,script=no,downscript=no,vhost=on,poll-us=%s'/>\n"
			"    <qemu:arg value='-device'/>\n"
			"    <qemu:arg value='virtio-net-pci,netdev=vsnet%zu'/>\n"
			"  </qemu:commandline>\n", i, i, r->value, i);
	}
	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];

		if (strcmp(s->knob->name, "iothread.poll_max_ns"))
			continue;
		fprintf(f, "  <!-- iothread %s polling window %s ns: set live with\n"
			"       virsh iothreadset DOMAIN ID (option poll-max-ns %s) -->\n",
			vs_export_xml_comment(s->sel[VS_SEL_IOTHREAD], cbuf, sizeof(cbuf)),
			s->value, s->value);
	}
	fprintf(f, "</domain>\n");
	return memstream_done(f, text, &buf);
}

int vs_export_qemu(const struct vs_export *x, char **text)
{
	char *buf = NULL;
	size_t len = 0, i, n = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -errno;
	fprintf(f, "# virtsync export from %s: QEMU command-line changes\n", x->source);
	for (i = 0; i < x->nrestarts; i++) {
		const struct vs_export_restart *r = &x->restarts[i];

		if (strcmp(r->knob, "vhost.poll_us"))
			continue;
		fprintf(f, "# vhost busy-polls the ring up to %s us (%s)\n"
			"-netdev tap,id=net0,vhost=on,poll-us=%s\n", r->value,
			r->why[0] ? r->why : "set at VM start", r->value);
		n++;
	}
	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];

		if (!strcmp(s->knob->name, "iothread.poll_max_ns")) {
			fprintf(f, "# iothread %s polls up to %s ns (live: virtsync apply, qom-set)\n"
				"-object iothread,id=%s,poll-max-ns=%s\n", s->sel[VS_SEL_IOTHREAD],
				s->value, s->sel[VS_SEL_IOTHREAD], s->value);
			n++;
		} else if (!strcmp(s->knob->name, "thread.affinity")) {
			fprintf(f, "# thread.affinity %s%s -> %s: no QEMU option; use taskset\n"
				"# or libvirt <cputune> (virtsync export --libvirt)\n",
				s->sel[VS_SEL_ROLE][0] ? "role " : "whole VM",
				s->sel[VS_SEL_ROLE], s->value);
		}
	}
	if (!n)
		fprintf(f, "# nothing in it maps to a QEMU option\n");
	return memstream_done(f, text, &buf);
}
