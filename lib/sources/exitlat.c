// SPDX-License-Identifier: GPL-2.0-only
/* Exit cost per VM and reason, live or replayed (see exitlat.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/exitlat.h"

void vs_exitlat_add(struct vs_probe_exitlat *e, const struct vs_exitlat_val *v)
{
	unsigned int i;

	e->count += v->count;
	e->sum_ns += v->sum_ns;
	if (v->max_ns > e->max_ns)
		e->max_ns = v->max_ns;
	for (i = 0; i < VS_HIST_SLOTS; i++)
		e->hist.slot[i] += v->hist[i];
}

/* ---- replay ------------------------------------------------------------ */

struct pending {
	pid_t tid, tgid;
	struct vs_exit_pending p;
};

struct row {
	struct vs_exitlat_key key;
	struct vs_exitlat_val val;
};

struct replay {
	struct pending *pend;
	unsigned int n_pend, cap_pend;
	struct row *rows;
	unsigned int n_rows, cap_rows;
	uint64_t first_ns, last_ns;
	unsigned int events;
};

static int grow(void **arr, unsigned int *cap, unsigned int n, size_t size)
{
	void *na;
	unsigned int nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 64;
	na = realloc(*arr, nc * size);
	if (!na)
		return -ENOMEM;
	*arr = na;
	*cap = nc;
	return 0;
}

static struct pending *pending_of(struct replay *r, pid_t tid, bool add)
{
	unsigned int i;

	for (i = 0; i < r->n_pend; i++)
		if (r->pend[i].tid == tid)
			return &r->pend[i];
	if (!add || grow((void **)&r->pend, &r->cap_pend, r->n_pend, sizeof(*r->pend)))
		return NULL;
	memset(&r->pend[r->n_pend], 0, sizeof(r->pend[0]));
	r->pend[r->n_pend].tid = tid;
	return &r->pend[r->n_pend++];
}

static struct vs_exitlat_val *row_of(struct replay *r, pid_t tgid, uint32_t isa,
				     uint32_t reason)
{
	unsigned int i;

	for (i = 0; i < r->n_rows; i++)
		if (r->rows[i].key.tgid == (uint32_t)tgid && r->rows[i].key.isa == isa &&
		    r->rows[i].key.reason == reason)
			return &r->rows[i].val;
	if (grow((void **)&r->rows, &r->cap_rows, r->n_rows, sizeof(*r->rows)))
		return NULL;
	memset(&r->rows[r->n_rows], 0, sizeof(r->rows[0]));
	r->rows[r->n_rows].key.tgid = (uint32_t)tgid;
	r->rows[r->n_rows].key.isa = isa;
	r->rows[r->n_rows].key.reason = reason;
	return &r->rows[r->n_rows++].val;
}

/* "5123.456789" ending just before `end`: ns, and where it starts. */
static int parse_ts(const char *line, const char *end, uint64_t *ns, const char **start)
{
	const char *p = end, *dot = NULL;
	uint64_t sec = 0, frac = 0, scale = 1000000000ULL;

	while (p > line && (isdigit((unsigned char)p[-1]) || p[-1] == '.'))
		p--;
	if (p == end)
		return -EINVAL;
	*start = p;
	for (; p < end; p++) {
		if (*p == '.') {
			if (dot)
				return -EINVAL;
			dot = p;
		} else if (!dot) {
			sec = sec * 10 + (uint64_t)(*p - '0');
		} else if (scale > 1) {
			scale /= 10;
			frac += (uint64_t)(*p - '0') * scale;
		}
	}
	*ns = sec * 1000000000ULL + frac;
	return 0;
}

/*
 * The task before the CPU field: "comm-TID" (ftrace, "(TGID)" after it
 * with record-tgid) or "comm TID" / "comm TGID/TID" (perf script).
 */
static int parse_task(const char *line, const char *bracket, pid_t *tgid, pid_t *tid)
{
	const char *e = bracket, *tok, *p;
	char *end;

	*tgid = 0;
	while (e > line && isspace((unsigned char)e[-1]))
		e--;
	if (e > line && e[-1] == ')') {
		const char *open = e - 1;

		while (open > line && *open != '(')
			open--;
		if (*open != '(')
			return -EINVAL;
		*tgid = (pid_t)strtol(open + 1, &end, 10);
		e = open;
		while (e > line && isspace((unsigned char)e[-1]))
			e--;
	}
	tok = e;
	while (tok > line && !isspace((unsigned char)tok[-1]))
		tok--;
	if (tok == e)
		return -EINVAL;
	/* perf script: the last token is TID or TGID/TID */
	for (p = tok; p < e && (isdigit((unsigned char)*p) || *p == '/'); p++)
		;
	if (p == e && tok > line) {
		const char *slash = memchr(tok, '/', (size_t)(e - tok));

		if (slash) {
			*tgid = (pid_t)strtol(tok, &end, 10);
			*tid = (pid_t)strtol(slash + 1, &end, 10);
		} else {
			*tid = (pid_t)strtol(tok, &end, 10);
		}
		return *tid > 0 ? 0 : -EINVAL;
	}
	/* ftrace: comm-TID, the comm may hold '-' and blanks */
	p = e;
	while (p > tok && isdigit((unsigned char)p[-1]))
		p--;
	if (p == e || p == tok || p[-1] != '-')
		return -EINVAL;
	*tid = (pid_t)strtol(p, &end, 10);
	return *tid > 0 ? 0 : -EINVAL;
}

static const char *find_event(const char *line, const char *name, size_t *len)
{
	char a[40], b[48];
	const char *p;

	snprintf(a, sizeof(a), ": %s: ", name);
	snprintf(b, sizeof(b), ": kvm:%s: ", name);
	p = strstr(line, a);
	*len = strlen(a);
	if (!p) {
		p = strstr(line, b);
		*len = strlen(b);
	}
	return p;
}

static int replay_line(struct replay *r, const char *line)
{
	const char *ev, *ts_start, *bracket;
	bool is_exit;
	size_t len;
	uint64_t ts;
	pid_t tgid, tid;
	struct pending *pd;

	ev = find_event(line, "kvm_exit", &len);
	is_exit = ev != NULL;
	if (!ev)
		ev = find_event(line, "kvm_entry", &len);
	if (!ev || parse_ts(line, ev, &ts, &ts_start))
		return 0;
	bracket = ts_start;
	while (bracket > line && *bracket != '[')
		bracket--;
	if (*bracket != '[' || parse_task(line, bracket, &tgid, &tid))
		return 0;
	if (!r->events++)
		r->first_ns = ts;
	r->last_ns = ts;
	pd = pending_of(r, tid, is_exit);
	if (!pd)
		return is_exit ? -ENOMEM : 0;
	if (tgid)
		pd->tgid = tgid;
	if (is_exit) {
		const char *rs = strstr(ev + len, "reason ");
		uint32_t isa = 0, code = ~0u;
		char name[40] = "";

		if (rs)
			sscanf(rs + 7, "%39s", name);
		if (vs_exit_reason_code(name, &isa, &code)) {
			isa = 0;
			code = ~0u;
		}
		vs_exitlat_on_exit(&pd->p, ts, isa, code);
	} else {
		struct vs_exitlat_val *v;

		if (!pd->p.ts)
			return 0;
		v = row_of(r, pd->tgid, pd->p.isa, pd->p.reason);
		if (!v)
			return -ENOMEM;
		vs_exitlat_on_entry(&pd->p, ts, v);
		memset(&pd->p, 0, sizeof(pd->p));
	}
	return 0;
}

int vs_exitlat_replay(FILE *trace, struct vs_probe_snapshot *snap, char *err,
		      size_t errlen)
{
	struct replay r;
	char line[1024];
	unsigned int i;
	int e = 0;

	memset(&r, 0, sizeof(r));
	memset(snap, 0, sizeof(*snap));
	while (!e && fgets(line, sizeof(line), trace))
		e = replay_line(&r, line);
	if (!e && !r.events) {
		snprintf(err, errlen, "no kvm_exit or kvm_entry event in the trace");
		e = -EINVAL;
	}
	if (!e && r.n_rows) {
		snap->exitlats = calloc(r.n_rows, sizeof(*snap->exitlats));
		e = snap->exitlats ? 0 : -ENOMEM;
	}
	for (i = 0; !e && i < r.n_rows; i++) {
		struct vs_probe_exitlat *x = &snap->exitlats[snap->n_exitlats++];

		x->tgid = (pid_t)r.rows[i].key.tgid;
		x->isa = r.rows[i].key.isa;
		x->reason = r.rows[i].key.reason;
		vs_exitlat_add(x, &r.rows[i].val);
	}
	snap->elapsed_ns = r.last_ns - r.first_ns;
	free(r.pend);
	free(r.rows);
	if (e == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return e;
}

/* ---- summaries --------------------------------------------------------- */

static int cmp_count(const void *a, const void *b)
{
	const struct vs_exitcost *x = a, *y = b;

	return (x->count < y->count) - (x->count > y->count);
}

unsigned int vs_exitcost_of(const struct vs_probe_snapshot *s, pid_t tgid,
			    struct vs_exitcost *out, unsigned int max)
{
	double secs = s->elapsed_ns / 1e9;
	unsigned int i, j, n = 0;
	double sum[VS_EXITCOST_MAX] = { 0 };

	for (i = 0; i < s->n_exitlats; i++) {
		const struct vs_probe_exitlat *e = &s->exitlats[i];
		struct vs_exitcost *c = NULL;

		if (tgid >= 0 && e->tgid != tgid)
			continue;
		for (j = 0; j < n && !c; j++)
			if (out[j].isa == e->isa && out[j].reason == e->reason)
				c = &out[j];
		if (!c) {
			const char *name = vs_exit_reason_name(e->isa, e->reason);

			if (n >= max || n >= VS_EXITCOST_MAX)
				continue;
			c = &out[n++];
			memset(c, 0, sizeof(*c));
			c->isa = e->isa;
			c->reason = e->reason;
			c->kick = vs_exit_reason_is_kick(e->isa, e->reason);
			if (name)
				snprintf(c->name, sizeof(c->name), "%s", name);
			else if (e->isa == 1 || e->isa == 2)
				snprintf(c->name, sizeof(c->name), "%s_%u",
					 e->isa == 1 ? "vmx" : "svm", e->reason);
			else
				snprintf(c->name, sizeof(c->name), "unknown");
		}
		c->count += e->count;
		sum[c - out] += (double)e->sum_ns;
		if ((double)e->max_ns > c->max_ns)
			c->max_ns = (double)e->max_ns;
		for (j = 0; j < VS_HIST_SLOTS; j++)
			c->hist.slot[j] += e->hist.slot[j];
	}
	for (i = 0; i < n; i++) {
		struct vs_exitcost *c = &out[i];

		c->per_s = secs > 0 ? c->count / secs : NAN;
		c->mean_ns = c->count ? sum[i] / c->count : NAN;
		c->p50_ns = vs_hist_quantile(&c->hist, 0.5);
		c->p99_ns = vs_hist_quantile(&c->hist, 0.99);
	}
	qsort(out, n, sizeof(*out), cmp_count);
	return n;
}

static const struct vs_probe_exitlat *row_in(const struct vs_probe_snapshot *s,
					     const struct vs_probe_exitlat *e)
{
	unsigned int i;

	for (i = 0; s && i < s->n_exitlats; i++)
		if (s->exitlats[i].tgid == e->tgid && s->exitlats[i].isa == e->isa &&
		    s->exitlats[i].reason == e->reason)
			return &s->exitlats[i];
	return NULL;
}

unsigned int vs_exitcost_between(const struct vs_probe_snapshot *now,
				 const struct vs_probe_snapshot *prev, pid_t tgid,
				 double secs, struct vs_exitcost *out, unsigned int max)
{
	struct vs_probe_snapshot d;
	unsigned int i, j, n;

	memset(&d, 0, sizeof(d));
	d.elapsed_ns = secs * 1e9;
	d.exitlats = calloc(now->n_exitlats + 1, sizeof(*d.exitlats));
	if (!d.exitlats)
		return 0;
	for (i = 0; i < now->n_exitlats; i++) {
		const struct vs_probe_exitlat *e = &now->exitlats[i], *o = row_in(prev, e);
		struct vs_probe_exitlat *x = &d.exitlats[d.n_exitlats];

		*x = *e;
		if (o) {
			x->count -= o->count;
			x->sum_ns -= o->sum_ns;
			for (j = 0; j < VS_HIST_SLOTS; j++)
				x->hist.slot[j] -= o->hist.slot[j];
		}
		if (x->count)
			d.n_exitlats++;
	}
	n = vs_exitcost_of(&d, tgid, out, max);
	free(d.exitlats);
	return n;
}

int vs_exitcost_kick(const struct vs_probe_snapshot *s, pid_t tgid, double *ns,
		     char *from, size_t len)
{
	struct vs_exitcost c[VS_EXITCOST_MAX];
	unsigned int n = vs_exitcost_of(s, tgid, c, VS_EXITCOST_MAX), i;
	uint64_t total = 0;
	double sum = 0;
	char names[64] = "";

	for (i = 0; i < n; i++) {
		if (!c[i].kick || !c[i].count)
			continue;
		total += c[i].count;
		sum += c[i].mean_ns * (double)c[i].count;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 names[0] ? "+" : "", c[i].name);
	}
	*ns = NAN;
	if (!total)
		return -ENOENT;
	/* The mean, not the median: Np is what the producer spends per kick
	 * on average, in-kernel and userspace exits alike. */
	*ns = sum / (double)total;
	snprintf(from, len, "mean kvm_exit -> kvm_entry of %llu %s exits",
		 (unsigned long long)total, names);
	return 0;
}
