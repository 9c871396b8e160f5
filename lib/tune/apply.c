// SPDX-License-Identifier: GPL-2.0-only
/* The tuning engine: resolve, lock, apply (lib/tune/apply.h; rollback and
 * verify are in rollback.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errmsg.h"
#include "core/procfs.h"
#include "core/safefile.h"
#include "core/sysfs.h"
#include "tune/apply.h"
#include "core/units.h"

/* --- target resolution ---------------------------------------------- */

struct inst_list {
	char (*inst)[VS_KNOB_INST_MAX];
	char (*label)[96];
	size_t n, cap;
};

static int inst_add(struct inst_list *l, const char *inst, const char *label)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *a = realloc(l->inst, cap * sizeof(*l->inst));
		void *b;

		if (!a)
			return -ENOMEM;
		l->inst = a;
		b = realloc(l->label, cap * sizeof(*l->label));
		if (!b)
			return -ENOMEM;
		l->label = b;
		l->cap = cap;
	}
	snprintf(l->inst[l->n], VS_KNOB_INST_MAX, "%s", inst);
	snprintf(l->label[l->n], 96, "%s", label);
	l->n++;
	return 0;
}

static void inst_free(struct inst_list *l)
{
	free(l->inst);
	free(l->label);
}

static int parse_pid(const char *s, int *pid)
{
	uint64_t v;

	if (vs_parse_u64(s, 1, 0x3fffffff, &v))
		return -EINVAL;
	*pid = (int)v;
	return 0;
}

static bool pid_exists(int pid)
{
	char path[512];

	return !vs_path(path, sizeof(path), "/proc/%d", pid) && !vs_access_rooted(path, F_OK);
}

static int read_comm(int pid, int tid, char *buf, size_t len)
{
	char path[512];
	int err = vs_path(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);

	return err ? err : vs_read_str(path, buf, len);
}

/* Does the process carry `name` as its comm, as QEMU's "-name NAME[,...]"
 * or "-name guest=NAME,..."? */
static bool process_has_name(int pid, const char *name)
{
	char path[512], buf[8192], comm[64];
	ssize_t n;
	size_t off, nl = strlen(name);
	int fd;
	bool after_name = false;

	if (!read_comm(pid, pid, comm, sizeof(comm)) && !strcmp(comm, name))
		return true;
	if (vs_path(path, sizeof(path), "/proc/%d/cmdline", pid))
		return false;
	fd = vs_open_rooted(path, O_RDONLY, 0);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (off = 0; off < (size_t)n; off += strlen(buf + off) + 1) {
		const char *a = buf + off;

		if (after_name) {
			if (!strncmp(a, "guest=", 6))
				a += 6;
			if (!strncmp(a, name, nl) && (a[nl] == '\0' || a[nl] == ','))
				return true;
		}
		after_name = !strcmp(a, "-name");
	}
	return false;
}

struct name_search {
	const char *name;
	int *pids;
	size_t max, n;
};

static int note_named(pid_t pid, void *arg)
{
	struct name_search *ns = arg;

	if (pid != getpid() && ns->n < ns->max && process_has_name(pid, ns->name))
		ns->pids[ns->n++] = pid;
	return 0;
}

static int find_pids_by_name(const char *name, int *pids, size_t max, size_t *n)
{
	struct name_search ns = { name, pids, max, 0 };
	int err = vs_proc_each_pid(note_named, &ns);

	*n = ns.n;
	return err < 0 ? err : 0;
}

/*
 * Thread roles by name. QEMU: "CPU n/KVM" vCPUs, "IO <id>" iothreads,
 * "vhost-<pid>" vhost workers. The reference device (lib/pcdev): thread
 * backend "vs-producer" and "vs-consumer"; KVM backend "vs-vcpuN" (the
 * guest, which produces) and "vs-vhost" (the host side, which consumes).
 */
static bool role_matches(const char *role, const char *comm, int pid)
{
	unsigned int u;
	char want[32];
	int n = 0;

	if (!strcmp(role, "vcpu"))
		return (sscanf(comm, "CPU %u/KVM%n", &u, &n) == 1 && !comm[n]) ||
		       (sscanf(comm, "vs-vcpu%u%n", &u, &n) == 1 && !comm[n]);
	if (!strcmp(role, "iothread"))
		return !strncmp(comm, "IO ", 3);
	if (!strcmp(role, "vhost")) {
		snprintf(want, sizeof(want), "vhost-%d", pid);
		return !strcmp(comm, want) || !strcmp(comm, "vs-vhost");
	}
	if (!strcmp(role, "producer"))
		return !strcmp(comm, "vs-producer") ||
		       (sscanf(comm, "vs-vcpu%u%n", &u, &n) == 1 && !comm[n]);
	if (!strcmp(role, "consumer"))
		return !strcmp(comm, "vs-consumer") || !strcmp(comm, "vs-vhost");
	return false;
}

static int add_thread(struct inst_list *l, int pid, int tid, const char *comm)
{
	char inst[VS_KNOB_INST_MAX], label[96];
	int err = vs_thread_inst_make(tid, inst, sizeof(inst));

	if (err)
		return err;
	snprintf(label, sizeof(label), "tid %d (%.32s)", tid, comm);
	(void)pid;
	return inst_add(l, inst, label);
}

struct role_search {
	const char *role;
	struct inst_list *l;
};

static int note_role_thread(pid_t pid, pid_t tid, void *arg)
{
	struct role_search *rs = arg;
	char comm[64];
	int err;

	if (read_comm(pid, tid, comm, sizeof(comm)))
		return 0;
	if (rs->role[0] && !role_matches(rs->role, comm, pid))
		return 0;
	err = add_thread(rs->l, pid, tid, comm);
	return err && err != -ESRCH ? err : 0;
}

static int threads_of(int pid, const char *role, struct inst_list *l)
{
	struct role_search rs = { role, l };
	int err = vs_proc_each_task(pid, note_role_thread, &rs);

	if (err || strcmp(role, "vhost"))
		return err;
	/* vhost workers are kernel threads "vhost-<owner pid>" (before Linux
	 * 6.4) or threads of the owner (since): look for both. */
	{
		int pids[16];
		size_t n, i;
		char name[32];

		snprintf(name, sizeof(name), "vhost-%d", pid);
		err = find_pids_by_name(name, pids, 16, &n);
		for (i = 0; !err && i < n; i++)
			err = add_thread(l, pids[i], pids[i], name);
	}
	return err;
}

static int resolve_pids(const char *pidtxt, const char *name, int *pids,
			size_t max, size_t *n, char *err, size_t errlen)
{
	if (pidtxt[0]) {
		if (parse_pid(pidtxt, &pids[0]))
			return vs_errf(err, errlen, -EINVAL, "pid '%s' is not a process id", pidtxt);
		if (!pid_exists(pids[0]))
			return vs_errf(err, errlen, -ENOENT, "no process %s", pidtxt);
		*n = 1;
		return 0;
	}
	if (!vs_safe_name(name, 63))
		return vs_errf(err, errlen, -EINVAL, "name '%s' is not [A-Za-z0-9_.:-]", name);
	if (find_pids_by_name(name, pids, max, n) || !*n)
		return vs_errf(err, errlen, -ENOENT, "no process or VM named '%s'", name);
	return 0;
}

static int cstate_index(unsigned int cpu, const char *state, unsigned int *idx,
			char *name, size_t nlen)
{
	char path[512];
	unsigned int s;
	uint64_t v;

	if (!vs_parse_u64(state, 0, 63, &v)) {
		if (vs_path(path, sizeof(path),
			    "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/name", cpu,
			    (unsigned int)v) ||
		    vs_read_str(path, name, nlen))
			return -ENOENT;
		*idx = v;
		return 0;
	}
	for (s = 0; s < 64; s++) {
		if (vs_path(path, sizeof(path),
			    "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/name", cpu, s) ||
		    vs_read_str(path, name, nlen))
			return -ENOENT;
		if (!strcmp(name, state)) {
			*idx = s;
			return 0;
		}
	}
	return -ENOENT;
}

static int resolve_targets(const struct vs_knob_ops *k, char sel[][VS_KNOB_VAL_MAX],
			   struct inst_list *l, char *err, size_t errlen)
{
	char inst[VS_KNOB_INST_MAX], label[96];
	uint64_t mask, online;
	int pids[64], e;
	size_t n = 0, i;
	unsigned int cpu;

	switch (k->scope) {
	case VS_SCOPE_GLOBAL:
		return inst_add(l, "", "global");
	case VS_SCOPE_CPU:
	case VS_SCOPE_CSTATE:
		e = vs_cpus_online(&online);
		if (e)
			return vs_errf(err, errlen, e, "cannot read the online CPUs: %s", strerror(-e));
		mask = online;
		if (sel[VS_SEL_CPUS][0]) {
			if (vs_cpulist_parse(sel[VS_SEL_CPUS], &mask) || !mask)
				return vs_errf(err, errlen, -EINVAL, "cpus '%s' is not a CPU list",
					    sel[VS_SEL_CPUS]);
			if (mask & ~online)
				return vs_errf(err, errlen, -ENOENT,
					    "cpus '%s' names CPUs that are not online",
					    sel[VS_SEL_CPUS]);
		}
		for (cpu = 0; cpu < 64; cpu++) {
			char sname[64];
			unsigned int idx;

			if (!(mask & (1ULL << cpu)))
				continue;
			if (k->scope == VS_SCOPE_CPU) {
				snprintf(inst, sizeof(inst), "cpu%u", cpu);
				e = inst_add(l, inst, inst);
			} else {
				if (cstate_index(cpu, sel[VS_SEL_STATE], &idx, sname, sizeof(sname)))
					return vs_errf(err, errlen, -ENOENT,
						    "cpu%u has no idle state '%s'", cpu,
						    sel[VS_SEL_STATE]);
				snprintf(inst, sizeof(inst), "cpu%u/state%u", cpu, idx);
				snprintf(label, sizeof(label), "%.40s (%.40s)", inst, sname);
				e = inst_add(l, inst, label);
			}
			if (e)
				return e;
		}
		return 0;
	case VS_SCOPE_THREAD:
	case VS_SCOPE_VM:
		e = resolve_pids(sel[VS_SEL_PID], sel[VS_SEL_NAME], pids, 64, &n, err, errlen);
		if (e)
			return e;
		if (k->scope == VS_SCOPE_VM) {
			if (n > 1)
				return vs_errf(err, errlen, -EINVAL,
					    "name '%s' matches %zu processes; give the pid",
					    sel[VS_SEL_NAME], n);
			snprintf(inst, sizeof(inst), "%d", pids[0]);
			snprintf(label, sizeof(label), "pcdev pid %d", pids[0]);
			return inst_add(l, inst, label);
		}
		for (i = 0; i < n; i++) {
			if (sel[VS_SEL_TID][0]) {
				char comm[64];
				int tid;

				if (parse_pid(sel[VS_SEL_TID], &tid) ||
				    read_comm(pids[i], tid, comm, sizeof(comm)))
					return vs_errf(err, errlen, -ENOENT,
						    "no thread %s in process %d",
						    sel[VS_SEL_TID], pids[i]);
				e = add_thread(l, pids[i], tid, comm);
			} else {
				e = threads_of(pids[i], sel[VS_SEL_ROLE], l);
			}
			if (e)
				return vs_errf(err, errlen, e, "threads of process %d: %s",
					    pids[i], strerror(-e));
		}
		if (!l->n)
			return vs_errf(err, errlen, -ENOENT, "no %s thread in process %s",
				    sel[VS_SEL_ROLE], sel[VS_SEL_PID][0] ?
				    sel[VS_SEL_PID] : sel[VS_SEL_NAME]);
		return 0;
	case VS_SCOPE_IRQ: {
		char list[VS_KNOB_VAL_MAX], *tok, *save;

		snprintf(list, sizeof(list), "%s", sel[VS_SEL_IRQ]);
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			uint64_t irq;

			if (vs_parse_u64(tok, 0, 1u << 20, &irq))
				return vs_errf(err, errlen, -EINVAL, "irq '%s' is not a number", tok);
			snprintf(inst, sizeof(inst), "%u", (unsigned int)irq);
			snprintf(label, sizeof(label), "irq %u", (unsigned int)irq);
			if ((e = inst_add(l, inst, label)))
				return e;
		}
		if (!l->n)
			return vs_errf(err, errlen, -EINVAL, "no irq given");
		return 0;
	}
	case VS_SCOPE_NETDEV:
		if (!vs_safe_name(sel[VS_SEL_NETDEV], 15))
			return vs_errf(err, errlen, -EINVAL, "netdev '%s' is not a device name",
				    sel[VS_SEL_NETDEV]);
		return inst_add(l, sel[VS_SEL_NETDEV], sel[VS_SEL_NETDEV]);
	case VS_SCOPE_IOTHREAD:
		if (!vs_safe_name(sel[VS_SEL_IOTHREAD], 63))
			return vs_errf(err, errlen, -EINVAL, "iothread '%s' is not an object id",
				    sel[VS_SEL_IOTHREAD]);
		if (snprintf(inst, sizeof(inst), "%s#%s", sel[VS_SEL_QMP],
			     sel[VS_SEL_IOTHREAD]) >= (int)sizeof(inst))
			return vs_errf(err, errlen, -ENAMETOOLONG, "qmp socket path is too long");
		/* the socket's file name: the table has room for little */
		snprintf(label, sizeof(label), "iothread %.32s@%.48s",
			 sel[VS_SEL_IOTHREAD],
			 strrchr(sel[VS_SEL_QMP], '/') ? strrchr(sel[VS_SEL_QMP], '/') + 1
						       : sel[VS_SEL_QMP]);
		return inst_add(l, inst, label);
	}
	return -EINVAL;
}

/* Errors that make an optional step skippable: the knob or its target is
 * absent, fixed on this host or not answering. A bad value is never
 * skipped. */
static bool skippable(const struct vs_knob_ops *k, int e)
{
	return e == -ENOENT || e == -EROFS || e == -EOPNOTSUPP || e == -EACCES ||
	       e == -ESRCH || vs_knob_unreachable(k, e);
}

static int builtin_vars(struct vs_var *vars, size_t *n)
{
	char cpus[VS_KNOB_VAL_MAX];
	uint64_t online;
	int err;

	*n = 0;
	err = vs_cpus_online(&online);
	if (!err)
		err = vs_cpulist_format(online, cpus, sizeof(cpus));
	if (!err)
		err = vs_vars_set(vars, n, 4, "cpus", cpus);
	if (!err)
		err = vs_vars_set(vars, n, 4, "dmax", "50000");	/* virtsync(8): 50us */
	return err;
}

int vs_apply_expand(const struct vs_profile *p, const struct vs_var *vars,
		   size_t nvars, const char *in, char *out, size_t len, char *err,
		   size_t errlen)
{
	struct vs_var builtins[4];
	const struct vs_var *lists[3] = { vars, p->vars, builtins };
	size_t counts[3] = { nvars, p->nvars, 0 };
	int e = builtin_vars(builtins, &counts[2]);

	if (e)
		return vs_errf(err, errlen, e, "cannot read the online CPUs: %s", strerror(-e));
	return vs_vars_expand(in, out, len, lists, counts, 3, err, errlen);
}

/* Slot n of the growing array *a (zeroed), or NULL when out of memory. */
static struct vs_change *next_change(struct vs_change **a, size_t n, size_t *cap)
{
	if (n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct vs_change *na = realloc(*a, ncap * sizeof(**a));

		if (!na)
			return NULL;
		*a = na;
		*cap = ncap;
	}
	memset(&(*a)[n], 0, sizeof((*a)[n]));
	return &(*a)[n];
}

int vs_apply_resolve(const struct vs_profile *p, const struct vs_var *vars,
		    size_t nvars, struct vs_change **out, size_t *nout, char *err,
		    size_t errlen)
{
	struct vs_var builtins[4];
	const struct vs_var *lists[3];
	size_t counts[3], nb, i, j, n = 0, cap = 0;
	struct vs_change *a = NULL;
	int e;

	*out = NULL;
	*nout = 0;
	e = builtin_vars(builtins, &nb);
	if (e)
		return vs_errf(err, errlen, e, "cannot read the online CPUs: %s", strerror(-e));
	lists[0] = vars;
	counts[0] = nvars;
	lists[1] = p->vars;
	counts[1] = p->nvars;
	lists[2] = builtins;
	counts[2] = nb;
	for (i = 0; i < p->nsteps; i++) {
		const struct vs_step *st = &p->steps[i];
		char sel[VS_SEL_NKEYS][VS_KNOB_VAL_MAX], value[VS_KNOB_VAL_MAX];
		char msg[256];
		struct inst_list l = { 0 };
		int k;

		for (k = 0; k < VS_SEL_NKEYS; k++) {
			e = vs_vars_expand(st->sel[k], sel[k], sizeof(sel[k]), lists,
					   counts, 3, msg, sizeof(msg));
			if (!e && k != VS_SEL_QMP &&
			    (strchr(sel[k], '/') || strstr(sel[k], "..")))
				e = vs_errf(msg, sizeof(msg), -EINVAL,
					 "target %s '%s' contains '/' or '..'",
					 vs_sel_key_names[k], sel[k]);
			if (e)
				goto step_fail;
		}
		e = vs_vars_expand(st->value, value, sizeof(value), lists, counts, 3,
				   msg, sizeof(msg));
		if (e)
			goto step_fail;
		e = resolve_targets(st->knob, sel, &l, msg, sizeof(msg));
		if (e && st->optional && skippable(st->knob, e)) {
			/* one change stands for the whole skipped step */
			e = inst_add(&l, "", "-");
			if (e)
				goto step_fail;
			l.n = 1;
			goto add_skipped;
		}
		if (e)
			goto step_fail;
		for (j = 0; j < l.n; j++) {
			struct vs_change *ac;
			size_t m;
			char why[VS_KNOB_WHY_MAX] = "";

			ac = next_change(&a, n, &cap);
			if (!ac) {
				e = -ENOMEM;
				inst_free(&l);
				goto out;
			}
			ac->knob = st->knob;
			ac->step = i;
			snprintf(ac->inst, sizeof(ac->inst), "%s", l.inst[j]);
			snprintf(ac->label, sizeof(ac->label), "%s", l.label[j]);
			snprintf(ac->why, sizeof(ac->why), "%s", st->why);
			e = st->knob->validate(ac->inst, value, ac->new, sizeof(ac->new),
					       why, sizeof(why));
			if (!e) {
				e = st->knob->read(ac->inst, ac->old, sizeof(ac->old));
				if (e)
					snprintf(why, sizeof(why), "cannot read the current value: %s",
						 strerror(-e));
			}
			if (e && st->optional && skippable(st->knob, e)) {
				ac->skip = true;
				snprintf(ac->why, sizeof(ac->why), "skipped: %.230s", why);
				n++;
				continue;
			}
			if (e) {
				snprintf(msg, sizeof(msg), "%s %s: %s", st->knob->name,
					 ac->label, why[0] ? why : strerror(-e));
				goto step_fail;
			}
			/* a later step on the same instance starts from the
			 * value the earlier one wrote */
			for (m = n; m-- > 0;)
				if (a[m].knob == ac->knob && !a[m].skip &&
				    !strcmp(a[m].inst, ac->inst)) {
					snprintf(ac->old, sizeof(ac->old), "%s", a[m].new);
					break;
				}
			ac->same = !strcmp(ac->old, ac->new);
			n++;
		}
		inst_free(&l);
		continue;
add_skipped:
		if (!next_change(&a, n, &cap)) {
			e = -ENOMEM;
			inst_free(&l);
			goto out;
		}
		a[n].knob = st->knob;
		a[n].step = i;
		a[n].skip = true;
		snprintf(a[n].label, sizeof(a[n].label), "-");
		snprintf(a[n].why, sizeof(a[n].why), "skipped: %.230s", msg);
		n++;
		inst_free(&l);
		continue;
step_fail:
		inst_free(&l);
		vs_errf(err, errlen, e, "step %zu (%s): %s", i + 1, st->knob->name, msg);
		goto out;
	}
	*out = a;
	*nout = n;
	return 0;
out:
	free(a);
	return e;
}

/* --- lock ------------------------------------------------------------- */

int vs_apply_lock(int *fdp, int *holder)
{
	char dir[512], path[512], buf[32];
	int fd, n;

	*holder = 0;
	if (vs_path(dir, sizeof(dir), "/run/virtsync") ||
	    vs_path(path, sizeof(path), "/run/virtsync/lock"))
		return -ENAMETOOLONG;
	fd = vs_safe_private_dir(dir, 0700);
	if (!fd)
		fd = vs_safe_open_state(path, 0600);
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = -errno;

		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			*holder = atoi(buf);
		}
		close(fd);
		return e;
	}
	/* the pid is only for the message of whoever waits on us */
	n = snprintf(buf, sizeof(buf), "%d\n", getpid());
	if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != n) {
		/* not fatal: the flock is what excludes */
	}
	/* not fatal either: a leftover only takes room */
	vs_safe_sweep_temps(dir, NULL);
	*fdp = fd;
	return 0;
}

int vs_apply_sweep(void)
{
	char dir[512], path[512];
	int fd, n;

	if (vs_path(dir, sizeof(dir), "/run/virtsync") ||
	    vs_path(path, sizeof(path), "/run/virtsync/lock"))
		return -ENAMETOOLONG;
	/* never created here: a reader leaves no state behind. Without a
	 * lock file no apply ran, yet a killed diagnose may have left its
	 * temporaries: the pid rule of the sweep needs no lock to be safe,
	 * the lock only keeps two sweeps apart. */
	fd = vs_safe_open_read(path, VS_SAFE_PRIVATE);
	if (fd == -ENOENT)
		return vs_safe_sweep_temps(dir, NULL);
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		n = errno == EWOULDBLOCK ? 0 : -errno;
		close(fd);
		return n;
	}
	n = vs_safe_sweep_temps(dir, NULL);
	close(fd);
	return n;
}

void vs_apply_unlock(int fd)
{
	if (fd < 0)
		return;
	if (ftruncate(fd, 0)) {
		/* stale pid text is harmless */
	}
	close(fd);
}

/* --- apply ------------------------------------------------------------ */

/* Fault injection exists only in the test build (.output/virtsync-faults,
 * compiled with VS_FAULT_INJECTION): the binary users run has no hook. */
#ifdef VS_FAULT_INJECTION
static unsigned long kill_after(void)
{
	const char *s = getenv("VIRTSYNC_TEST_KILL_AFTER_WRITES");
	uint64_t v;

	return s && !vs_parse_u64(s, 1, 1000000, &v) ? v : 0;
}
#else
static unsigned long kill_after(void)
{
	return 0;
}
#endif

/* What an error names: the knob's own instance (a path, a QOM target, a
 * thread) where it has one. */
static const char *target_name(const struct vs_change *a)
{
	return a->inst[0] ? a->inst : a->label;
}

/*
 * The old value, read again now that the caller holds the lock: resolve may
 * have run before it, and a rollback in between (seconds over QMP) would
 * otherwise have the pre-rollback value journaled as the original, lost for
 * good. An earlier change of this apply on the same instance fixed it already.
 */
static int reread_old(struct vs_change *a, size_t i)
{
	size_t m;
	int e;

	for (m = i; m-- > 0;)
		if (a[m].knob == a[i].knob && !a[m].skip && !strcmp(a[m].inst, a[i].inst))
			return 0;
	e = a[i].knob->read(a[i].inst, a[i].old, sizeof(a[i].old));
	if (!e)
		a[i].same = !strcmp(a[i].old, a[i].new);
	return e;
}

int vs_apply_changes(struct vs_journal *j, const char *source,
		  struct vs_change *a, size_t n, struct vs_apply_result *r,
		  char *err, size_t errlen)
{
	unsigned long kill_at = kill_after();
	size_t i;
	int e;

	memset(r, 0, sizeof(*r));
	r->first = vs_journal_count(j);
	e = vs_journal_begin(j, source, &r->apply);
	if (e)
		return vs_errf(err, errlen, e, "cannot write the journal: %s", strerror(-e));
	r->first = vs_journal_count(j);
	for (i = 0; i < n; i++) {
		struct vs_jentry je = { 0 };
		char note[64] = "";
		size_t idx;

		if (a[i].skip)
			continue;
		e = reread_old(a, i);
		if (e) {
			vs_errf(err, errlen, e, "%s %s: cannot read the current value: %s",
				a[i].knob->name, target_name(&a[i]), strerror(-e));
			goto undo;
		}
		if (a[i].same)
			continue;
		snprintf(je.knob, sizeof(je.knob), "%s", a[i].knob->name);
		snprintf(je.target, sizeof(je.target), "%s", a[i].inst);
		snprintf(je.label, sizeof(je.label), "%s", a[i].label);
		snprintf(je.old, sizeof(je.old), "%s", a[i].old);
		snprintf(je.new, sizeof(je.new), "%s", a[i].new);
		je.status = VS_J_PENDING;
		je.apply = r->apply;
		e = vs_journal_add(j, &je, &idx);
		if (e) {
			vs_errf(err, errlen, e, "cannot write the journal: %s", strerror(-e));
			goto undo;
		}
		e = a[i].knob->write(a[i].inst, a[i].new);
		if (e) {
			vs_errf(err, errlen, e, "%s %s: writing '%s' failed: %s",
			     a[i].knob->name, a[i].label, a[i].new, strerror(-e));
			goto undo;
		}
		r->written++;
		if (kill_at && r->written == kill_at)
			raise(SIGKILL);
		if (a[i].knob->note)
			a[i].knob->note(a[i].inst, note, sizeof(note));
		e = vs_journal_set(j, idx, VS_J_DONE, note);
		if (e) {
			vs_errf(err, errlen, e, "cannot write the journal: %s", strerror(-e));
			goto undo;
		}
	}
	return 0;
undo:
	{
		size_t restored, failed;

		vs_apply_rollback(j, r->first, NULL, NULL, &restored, &failed);
	}
	return e;
}
