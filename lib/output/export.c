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
#include "output/export-impl.h"
#include "output/print.h"
#include "tune/apply.h"
#include "core/units.h"

/* --- where each knob goes ----------------------------------------------- */

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

const struct knob_map *export_map_of(const struct vs_knob_ops *k)
{
	size_t i;

	for (i = 0; i < sizeof(knob_maps) / sizeof(knob_maps[0]); i++)
		if (!strcmp(knob_maps[i].knob, k->name))
			return &knob_maps[i];
	return NULL;
}

const char *vs_export_knob_section(const struct vs_knob_ops *k)
{
	const struct knob_map *m = export_map_of(k);

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
				char cut[4 * 40 + 4];
				int e = vs_errf(err, errlen, -EINVAL,
					    "evidence: vhost.poll_us value '%s' is not a number",
					    vs_cut(val, 40, cut, sizeof(cut)));

				json_decref(doc);	/* val points into it */
				return e;
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
		const struct knob_map *m = export_map_of(st->knob);

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

/* --- shared by the emitters (export-impl.h) ------------------------------- */

/* Does a thread step name a whole VM by name, so that tuned's [scheduler]
 * (which matches the regex against the process command line of every
 * thread) can express it? */
bool export_sched_expressible(const struct vs_export_step *s)
{
	return s->sel[VS_SEL_NAME][0] && !s->sel[VS_SEL_ROLE][0] && !s->sel[VS_SEL_TID][0] &&
	       !strchr(s->sel[VS_SEL_NAME], ':');
}

bool export_cstate_numeric(const struct vs_export_step *s)
{
	uint64_t v;

	return !vs_parse_u64(s->sel[VS_SEL_STATE], 0, 63, &v);
}

bool export_in_script(const struct vs_export_step *s, const struct knob_map *m)
{
	switch (m->where) {
	case W_SYSFS_CSTATE:
		return !export_cstate_numeric(s);
	case W_THREAD_AFFINITY:
		return !export_sched_expressible(s);
	case W_THREAD_SLACK:
	case W_IRQ_AFFINITY:
	case W_PCDEV:
	case W_IOTHREAD:
		return true;
	default:
		return false;
	}
}

size_t export_script_steps(const struct vs_export *x)
{
	size_t i, n = 0;

	for (i = 0; i < x->nsteps; i++)
		n += export_in_script(&x->steps[i], export_map_of(x->steps[i].knob));
	return n;
}

/* `buf` is the open_memstream() pointer: valid only after fclose() */
int export_memstream_done(FILE *f, char **text, char **buf)
{
	bool bad = ferror(f);

	if (fclose(f) || bad) {
		free(*buf);
		return -EIO;
	}
	*text = *buf;
	return 0;
}
