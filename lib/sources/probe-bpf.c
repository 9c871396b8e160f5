// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF backend of the probe layer (probe-impl.h): load the skeleton with
 * tp_btf programs, else their raw_tp twins, attach them one by one, keep the
 * in-kernel target filter, and read the per-CPU maps back into snapshots.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/safefile.h"
#include "core/sysfs.h"
#include "sources/exitlat.h"
#include "sources/probe-impl.h"
#include "vsprobe.skel.h"

static uint64_t kallsyms_addr(const char *sym)
{
	char path[PATH_MAX], line[256], name[128], type;
	unsigned long long addr;
	uint64_t found = 0;
	FILE *f;

	if (vs_path(path, sizeof(path), "/proc/kallsyms"))
		return 0;
	f = vs_fopen_rooted(path);
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %127s", &addr, &type, name) != 3)
			continue;
		if (!strcmp(name, sym)) {
			found = addr;
			break;
		}
	}
	fclose(f);
	return found;
}

static bool is_target(const struct vs_probe *p, uint32_t tgid);

/* ---- BPF backend -------------------------------------------------------- */

static struct bpf_program *prog_at(struct vsprobe_bpf *skel, size_t off)
{
	return off == VS_TP_NONE ? NULL : *(struct bpf_program **)((char *)skel + off);
}

int vs_probe_bpf_targets_fill(struct vs_probe *p)
{
	int fd = bpf_map__fd(p->skel->maps.targets);
	uint32_t key, next;
	uint8_t one = 1;
	unsigned int i;
	bool have = false;

	/* Remove what is no longer a target, then add the new set. */
	while (!bpf_map_get_next_key(fd, have ? &key : NULL, &next)) {
		bool keep = false;

		for (i = 0; i < p->n_pids; i++)
			keep |= (uint32_t)p->pids[i] == next;
		if (!keep) {
			bpf_map_delete_elem(fd, &next);
			have = false;	/* restart: iteration order changed */
			continue;
		}
		key = next;
		have = true;
	}
	for (i = 0; i < p->n_pids; i++) {
		key = (uint32_t)p->pids[i];
		if (bpf_map_update_elem(fd, &key, &one, BPF_ANY))
			return -errno;
	}
	return 0;
}

/*
 * Open and load with one attach flavour. tp_btf programs fail at load time
 * where BTF for the tracepoint is missing or tracing programs are refused;
 * raw_tp only at attach. Returns -errno with the skeleton destroyed.
 */
static int bpf_load(struct vs_probe *p, bool use_btf)
{
	struct vsprobe_bpf *skel;
	unsigned int i;
	int err;

	skel = vsprobe_bpf__open();
	if (!skel)
		return errno ? -errno : -ENOMEM;
	skel->rodata->targ_filter = p->opts.n_pids > 0;
	skel->rodata->targ_irqfd_inject = kallsyms_addr("irqfd_inject");
	bpf_map__set_max_entries(skel->maps.threads,
				 p->opts.max_threads ? p->opts.max_threads : 4096);
	for (i = 0; i < vs_n_tps; i++) {
		const struct vs_tp *t = &vs_tps[i];
		struct bpf_program *btf = prog_at(skel, t->btf_off);
		struct bpf_program *raw = prog_at(skel, t->raw_off);
		struct bpf_program *tp = prog_at(skel, t->tp_off);
		bool want = p->opts.flags & t->flag;

		if (btf)
			bpf_program__set_autoload(btf, want && use_btf);
		if (raw)
			bpf_program__set_autoload(raw, want && !use_btf);
		if (tp)
			bpf_program__set_autoload(tp, want);
	}
	err = vsprobe_bpf__load(skel);
	if (err) {
		vsprobe_bpf__destroy(skel);
		return err < 0 ? err : -EINVAL;
	}
	p->skel = skel;
	return 0;
}

static int bpf_attach_all(struct vs_probe *p, bool use_btf)
{
	unsigned int i, attached = 0;
	char name[64];

	for (i = 0; i < vs_n_tps; i++) {
		const struct vs_tp *t = &vs_tps[i];
		struct bpf_program *prog;
		const char *how;

		if (!(p->opts.flags & t->flag))
			continue;
		snprintf(name, sizeof(name), "%s:%s", t->sys, t->name);
		if (t->tp_off != VS_TP_NONE) {
			prog = prog_at(p->skel, t->tp_off);
			how = "tracepoint";
		} else {
			prog = prog_at(p->skel, use_btf ? t->btf_off : t->raw_off);
			how = use_btf ? "tp_btf" : "raw_tp";
		}
		p->progs[i] = prog;
		p->links[i] = bpf_program__attach(prog);
		if (!p->links[i]) {
			int err = -errno;

			vs_probe_add_source(p, name, how, err, strerror(-err));
			continue;
		}
		vs_probe_add_source(p, name, how, 0, NULL);
		attached++;
	}
	return attached ? 0 : -ENOENT;
}

void vs_probe_bpf_close(struct vs_probe *p)
{
	unsigned int i;

	for (i = 0; i < vs_n_tps; i++) {
		bpf_link__destroy(p->links[i]);
		p->links[i] = NULL;
	}
	vsprobe_bpf__destroy(p->skel);
	p->skel = NULL;
}

int vs_probe_bpf_open(struct vs_probe *p)
{
	enum vs_probe_attach a = p->opts.attach;
	int err = -EINVAL, btf_err = 0;
	unsigned int keep = p->n_src;

	if (a == VS_ATTACH_AUTO || a == VS_ATTACH_TP_BTF) {
		err = bpf_load(p, true);
		if (!err) {
			err = bpf_attach_all(p, true);
			if (!err)
				return vs_probe_bpf_targets_fill(p);
			vs_probe_bpf_close(p);
			p->n_src = keep;
		}
		btf_err = err;
		if (a == VS_ATTACH_TP_BTF)
			return err;
	}
	err = bpf_load(p, false);
	if (err)
		return err;
	err = bpf_attach_all(p, false);
	if (err) {
		vs_probe_bpf_close(p);
		return err;
	}
	if (btf_err)
		vs_probe_add_source(p, "tp_btf programs", "tp_btf", btf_err,
				    "load refused, using raw_tp");
	return vs_probe_bpf_targets_fill(p);
}

static void hist_add_u32(struct vs_hist *h, const uint32_t *slots)
{
	unsigned int i;

	for (i = 0; i < VS_HIST_SLOTS; i++)
		h->slot[i] += slots[i];
}

static void thread_val_add(struct vs_counters *c, const struct vs_thread_val *v)
{
	unsigned int i;

	for (i = 0; i < VS_NR_CTR; i++)
		c->ctr[i] += v->ctr[i];
	for (i = 0; i < VS_NR_SUM; i++)
		c->sum[i] += v->sum[i];
	for (i = 0; i < VS_UEXIT_SLOTS; i++)
		c->uexit[i] += v->uexit[i];
	for (i = 0; i < VS_NR_HIST; i++)
		hist_add_u32(&c->hist[i], v->hist[i]);
	if (v->halt_poll_ns)
		c->halt_poll_ns = v->halt_poll_ns;
}

/* Per-CPU map values come back as one copy per possible CPU, each
 * rounded up to 8 bytes. */
static size_t percpu_stride(size_t sz)
{
	return (sz + 7) & ~(size_t)7;
}

/* One pass over a map: the next key whose value could still be read
 * (a key deleted between the two calls is skipped). */
struct map_walk {
	int fd;
	void *key, *next;
	size_t key_size;
	bool started;
};

static bool map_walk_next(struct map_walk *w, void *value)
{
	while (!bpf_map_get_next_key(w->fd, w->started ? w->key : NULL, w->next)) {
		memcpy(w->key, w->next, w->key_size);
		w->started = true;
		if (!bpf_map_lookup_elem(w->fd, w->key, value))
			return true;
	}
	return false;
}

/* A zeroed new element at the end of a snapshot array (*arrp), grown by
 * doubling; NULL when memory runs out (the array stays as it was). */
static void *snap_append(void *arrp, unsigned int *n, unsigned int *cap,
			 size_t size)
{
	void **arr = arrp;
	char *elem;

	if (*n == *cap) {
		unsigned int grown = *cap ? *cap * 2 : 32;

		elem = realloc(*arr, (size_t)grown * size);
		if (!elem)
			return NULL;
		*arr = elem;
		*cap = grown;
	}
	elem = (char *)*arr + (size_t)(*n)++ * size;
	memset(elem, 0, size);
	return elem;
}

static int read_threads(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	size_t stride = percpu_stride(sizeof(struct vs_thread_val));
	struct vs_thread_key key, next;
	struct map_walk w = { bpf_map__fd(p->skel->maps.threads), &key, &next,
			      sizeof(key) };
	unsigned int cap = 0;
	int c, err = 0;
	char *buf;

	buf = calloc(p->ncpus, stride);
	if (!buf)
		return -ENOMEM;
	while (map_walk_next(&w, buf)) {
		struct vs_probe_thread *t;

		t = snap_append(&s->threads, &s->n_threads, &cap, sizeof(*t));
		if (!t) {
			err = -ENOMEM;
			break;
		}
		t->tgid = key.tgid;
		t->tid = key.tid;
		/* The live name (it changes at exec), else the one the
		 * kernel saw at the first event: the thread may be gone. */
		vs_task_comm(t->tgid, t->tid, t->comm, sizeof(t->comm));
		for (c = 0; c < p->ncpus; c++) {
			struct vs_thread_val *v = (void *)(buf + c * stride);
			uint64_t events = 0;
			unsigned int k;

			thread_val_add(&t->c, v);
			if (!t->comm[0] && v->comm[0])
				memcpy(t->comm, v->comm, sizeof(t->comm) - 1);
			/* Each CPU's copy counts what happened there. */
			for (k = 0; k < VS_NR_CTR; k++)
				events += v->ctr[k];
			vs_cpu_count_add(t->on_cpu, VS_PROBE_ON_CPU, &t->n_on_cpu, c, events);
		}
		vs_cpu_count_sort(t->on_cpu, t->n_on_cpu);
	}
	free(buf);
	return err;
}

static int read_exits(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	struct vs_exit_key key, next;
	struct map_walk w = { bpf_map__fd(p->skel->maps.exits), &key, &next,
			      sizeof(key) };
	unsigned int cap = 0;
	uint64_t *vals;
	int c, err = 0;

	vals = calloc(p->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	while (map_walk_next(&w, vals)) {
		struct vs_probe_exit *e;

		e = snap_append(&s->exits, &s->n_exits, &cap, sizeof(*e));
		if (!e) {
			err = -ENOMEM;
			break;
		}
		e->tgid = key.tgid;
		e->tid = key.tid;
		e->isa = key.isa;
		e->reason = key.reason;
		for (c = 0; c < p->ncpus; c++)
			e->count += vals[c];
	}
	free(vals);
	return err;
}

static int read_exitlats(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	size_t stride = percpu_stride(sizeof(struct vs_exitlat_val));
	struct vs_exitlat_key key, next;
	struct map_walk w = { bpf_map__fd(p->skel->maps.exitlat), &key, &next,
			      sizeof(key) };
	unsigned int cap = 0;
	int c, err = 0;
	char *buf;

	buf = calloc(p->ncpus, stride);
	if (!buf)
		return -ENOMEM;
	while (map_walk_next(&w, buf)) {
		struct vs_probe_exitlat *e;

		e = snap_append(&s->exitlats, &s->n_exitlats, &cap, sizeof(*e));
		if (!e) {
			err = -ENOMEM;
			break;
		}
		e->tgid = (pid_t)key.tgid;
		e->isa = key.isa;
		e->reason = key.reason;
		for (c = 0; c < p->ncpus; c++)
			vs_exitlat_add(e, (void *)(buf + c * stride));
	}
	free(buf);
	return err;
}

static int read_pairs(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	size_t stride = percpu_stride(sizeof(struct vs_pair_val));
	struct vs_pair_key key, next;
	struct map_walk w = { bpf_map__fd(p->skel->maps.pairs), &key, &next,
			      sizeof(key) };
	unsigned int cap = 0;
	int c, err = 0;
	char *buf;

	buf = calloc(p->ncpus, stride);
	if (!buf)
		return -ENOMEM;
	while (map_walk_next(&w, buf)) {
		struct vs_probe_pair *pr;

		pr = snap_append(&s->pairs, &s->n_pairs, &cap, sizeof(*pr));
		if (!pr) {
			err = -ENOMEM;
			break;
		}
		pr->waker_tgid = key.waker_tgid;
		pr->waker_tid = key.waker_tid;
		pr->wakee_tgid = key.wakee_tgid;
		pr->wakee_tid = key.wakee_tid;
		for (c = 0; c < p->ncpus; c++) {
			struct vs_pair_val *v = (void *)(buf + c * stride);

			if (!pr->waker_comm[0] && v->waker_comm[0])
				memcpy(pr->waker_comm, v->waker_comm,
				       sizeof(pr->waker_comm) - 1);
			if (!pr->wakee_comm[0] && v->wakee_comm[0])
				memcpy(pr->wakee_comm, v->wakee_comm,
				       sizeof(pr->wakee_comm) - 1);

			pr->count += v->count;
			pr->sum_ns += v->sum_ns;
			hist_add_u32(&pr->lat, v->hist);
		}
		/* 0: interrupt context (timer, IRQ, softirq) or the idle task */
		if (!pr->waker_tid)
			snprintf(pr->waker_comm, sizeof(pr->waker_comm), "irq");
	}
	free(buf);
	return err;
}

/* The kick addresses (a plain hash: one value per key). Rows of processes
 * that are no longer targets go at the next prune. */
static int read_kick_addrs(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	struct vs_kick_key key, next;
	struct map_walk w = { bpf_map__fd(p->skel->maps.kick_addrs), &key, &next,
			      sizeof(key) };
	unsigned int cap = 0;
	uint64_t count;

	while (map_walk_next(&w, &count)) {
		struct vs_probe_kick_addr *k;

		if (p->opts.n_pids && !is_target(p, key.tgid))
			continue;
		k = snap_append(&s->kick_addrs, &s->n_kick_addrs, &cap, sizeof(*k));
		if (!k)
			return -ENOMEM;
		k->tgid = (pid_t)key.tgid;
		k->space = key.space;
		k->addr = key.addr;
		k->value = key.value == VS_KICK_VALUE_ANY ? -1 : (int64_t)key.value;
		k->count = count;
	}
	return 0;
}

int vs_probe_bpf_read(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	int err = read_threads(p, s);

	if (!err)
		err = read_exits(p, s);
	if (!err)
		err = read_exitlats(p, s);
	if (!err)
		err = read_pairs(p, s);
	if (!err)
		err = read_kick_addrs(p, s);
	return err;
}

int vs_probe_prog_stats(struct vs_probe *p, struct vs_probe_prog_stats *out,
			unsigned int max, unsigned int *n)
{
	unsigned int i, cnt = 0;

	*n = 0;
	if (!p->skel)
		return -EOPNOTSUPP;
	for (i = 0; i < vs_n_tps && cnt < max; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		if (!p->links[i])
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p->progs[i]), &info,
					   &len))
			return -errno;
		snprintf(out[cnt].name, sizeof(out[cnt].name), "%s", info.name);
		snprintf(out[cnt].tp, sizeof(out[cnt].tp), "%s:%s",
			 vs_tps[i].sys, vs_tps[i].name);
		out[cnt].run_cnt = info.run_cnt;
		out[cnt].run_time_ns = info.run_time_ns;
		cnt++;
	}
	*n = cnt;
	return 0;
}


/* ---- pruning: the maps hold only what is still measured ----------------- */

static bool is_target(const struct vs_probe *p, uint32_t tgid)
{
	unsigned int i;

	for (i = 0; i < p->n_pids; i++)
		if ((uint32_t)p->pids[i] == tgid)
			return true;
	return false;
}

/* /proc/TID exists for any live thread of any process (the task list
 * hides it, the lookup does not): a thread charged to a VM may run in
 * another process (a kworker injecting its interrupt). */
static bool thread_gone(uint32_t tid)
{
	char path[PATH_MAX];
	struct stat st;

	if (vs_path(path, sizeof(path), "/proc/%u", tid))
		return false;
	return vs_stat_rooted(path, &st) == -ENOENT;
}

static struct vs_probe_vm *retired_of(struct vs_probe *p, pid_t pid)
{
	struct vs_probe_vm *r;
	unsigned int i;

	for (i = 0; i < p->n_retired; i++)
		if (p->retired[i].pid == pid)
			return &p->retired[i];
	r = realloc(p->retired, (p->n_retired + 1) * sizeof(*r));
	if (!r)
		return NULL;
	p->retired = r;
	r = &p->retired[p->n_retired++];
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	return r;
}

/* Keys collected while walking a map, deleted after the walk (deleting
 * during bpf_map_get_next_key() restarts it). */
struct doomed {
	char *keys;
	size_t ksz;
	unsigned int n, cap;
};

static int doom(struct doomed *d, const void *key)
{
	if (d->n == d->cap) {
		unsigned int cap = d->cap ? d->cap * 2 : 64;
		char *k = realloc(d->keys, (size_t)cap * d->ksz);

		if (!k)
			return -ENOMEM;
		d->keys = k;
		d->cap = cap;
	}
	memcpy(d->keys + (size_t)d->n++ * d->ksz, key, d->ksz);
	return 0;
}

static void doom_delete(struct doomed *d, int fd)
{
	unsigned int i;

	for (i = 0; i < d->n; i++)
		bpf_map_delete_elem(fd, d->keys + (size_t)i * d->ksz);
	free(d->keys);
	memset(d, 0, sizeof(*d));
}

static int prune_threads(struct vs_probe *p)
{
	int fd = bpf_map__fd(p->skel->maps.threads), c, err = 0;
	size_t stride = percpu_stride(sizeof(struct vs_thread_val));
	struct doomed d = { .ksz = sizeof(struct vs_thread_key) };
	struct vs_thread_key key, next;
	bool have = false;
	char *buf = calloc(p->ncpus, stride);

	if (!buf)
		return -ENOMEM;
	while (!err && !bpf_map_get_next_key(fd, have ? &key : NULL, &next)) {
		struct vs_probe_vm *r;

		key = next;
		have = true;
		if (!is_target(p, key.tgid)) {
			err = doom(&d, &key);
			continue;
		}
		if (!thread_gone(key.tid))
			continue;
		/* The thread exited: its counts are final. */
		if (bpf_map_lookup_elem(fd, &key, buf))
			continue;
		r = retired_of(p, (pid_t)key.tgid);
		if (!r) {
			err = -ENOMEM;
			break;
		}
		for (c = 0; c < p->ncpus; c++)
			thread_val_add(&r->c, (void *)(buf + c * stride));
		err = doom(&d, &key);
	}
	free(buf);
	doom_delete(&d, fd);
	return err;
}

static int prune_pairs(struct vs_probe *p)
{
	int fd = bpf_map__fd(p->skel->maps.pairs), err = 0;
	struct doomed d = { .ksz = sizeof(struct vs_pair_key) };
	struct vs_pair_key key, next;
	bool have = false;

	while (!err && !bpf_map_get_next_key(fd, have ? &key : NULL, &next)) {
		key = next;
		have = true;
		if ((!is_target(p, key.waker_tgid) && !is_target(p, key.wakee_tgid)) ||
		    thread_gone(key.wakee_tid) || (key.waker_tid && thread_gone(key.waker_tid)))
			err = doom(&d, &key);
	}
	doom_delete(&d, fd);
	return err;
}

/* Exits and exit costs are per process: only non-targets go. */
static int prune_by_tgid(int fd, size_t ksz, const struct vs_probe *p)
{
	struct doomed d = { .ksz = ksz };
	char key[32], next[32];
	bool have = false;
	int err = 0;

	while (!err && !bpf_map_get_next_key(fd, have ? key : NULL, next)) {
		uint32_t tgid;

		memcpy(key, next, ksz);
		have = true;
		memcpy(&tgid, key, sizeof(tgid));	/* every key starts with it */
		if (tgid && !is_target(p, tgid))
			err = doom(&d, key);
	}
	doom_delete(&d, fd);
	return err;
}

int vs_probe_bpf_prune(struct vs_probe *p)
{
	unsigned int i, n;
	int err;

	if (!p->skel || !p->opts.n_pids)
		return 0;
	_Static_assert(sizeof(struct vs_exit_key) <= 32 && sizeof(struct vs_exitlat_key) <= 32 &&
		       sizeof(struct vs_kick_key) <= 32,
		       "prune_by_tgid's key buffers");
	err = prune_threads(p);
	if (!err)
		err = prune_pairs(p);
	if (!err)
		err = prune_by_tgid(bpf_map__fd(p->skel->maps.exits),
				    sizeof(struct vs_exit_key), p);
	if (!err)
		err = prune_by_tgid(bpf_map__fd(p->skel->maps.exitlat),
				    sizeof(struct vs_exitlat_key), p);
	if (!err)
		err = prune_by_tgid(bpf_map__fd(p->skel->maps.kick_addrs),
				    sizeof(struct vs_kick_key), p);
	/* A process no longer targeted takes its retired counts with it. */
	for (i = 0, n = 0; i < p->n_retired; i++)
		if (is_target(p, (uint32_t)p->retired[i].pid))
			p->retired[n++] = p->retired[i];
	p->n_retired = n;
	return err;
}
