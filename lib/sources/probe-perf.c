// SPDX-License-Identifier: GPL-2.0-only
/*
 * The perf fallback of the probe layer (probe-impl.h): where BPF is
 * refused, count the same tracepoints host-wide with perf_event_open, one
 * counter per CPU, with ftrace filters that split kicks from reads and
 * polled halts from waited ones.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include "core/sysfs.h"
#include "sources/probe-impl.h"

#define TRACEFS "/sys/kernel/tracing"

/* ---- perf_event_open fallback -------------------------------------------- */

static int perf_open_one(struct vs_probe *p, uint64_t id, int cpu, int ctr,
			 const char *filter)
{
	struct perf_event_attr attr;
	struct perf_counter *pc;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = id;
	attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
			   PERF_FORMAT_TOTAL_TIME_RUNNING;
	fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1,
			  PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (filter && ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter)) {
		int err = -errno;

		close(fd);
		return err;
	}
	pc = realloc(p->pc, (p->n_pc + 1) * sizeof(*pc));
	if (!pc) {
		close(fd);
		return -ENOMEM;
	}
	p->pc = pc;
	pc[p->n_pc].fd = fd;
	pc[p->n_pc].ctr = ctr;
	p->n_pc++;
	return 0;
}

int vs_probe_perf_open(struct vs_probe *p)
{
	unsigned int i, used = 0;
	char path[PATH_MAX], name[64], why[96];
	int err, cpu;

	err = vs_probe_ensure_tracefs();
	if (err < 0) {
		vs_probe_add_source(p, "tracefs", "perf", err, "not mounted; mount refused");
		return err;
	}
	for (i = 0; i < vs_n_tps; i++) {
		const struct vs_tp *t = &vs_tps[i];
		uint64_t id;
		int opened = 0, fail = 0;

		if (!(p->opts.flags & t->flag))
			continue;
		snprintf(name, sizeof(name), "%s:%s", t->sys, t->name);
		if (t->perf_ctr < 0) {
			vs_probe_add_source(p, name, "perf", -EOPNOTSUPP,
					    t->perf_none ? t->perf_none :
					    t->flag == VS_PROBE_KVM ?
					    "kworker attribution needs BPF" :
					    "timing needs BPF");
			continue;
		}
		snprintf(path, sizeof(path), TRACEFS "/events/%s/%s/id",
			 t->sys, t->name);
		err = vs_read_u64(path, &id);
		if (err) {
			vs_probe_add_source(p, name, "perf", err, "no tracefs id");
			continue;
		}
		for (cpu = 0; cpu < p->ncpus; cpu++) {
			err = perf_open_one(p, id, cpu, t->perf_ctr, t->perf_filter);
			if (!err && t->perf_filter2)
				err = perf_open_one(p, id, cpu, t->perf_ctr2,
						    t->perf_filter2);
			if (err == -ENODEV)	/* offline CPU */
				continue;
			if (err) {
				fail = err;
				break;
			}
			opened++;
		}
		if (fail || !opened) {
			snprintf(why, sizeof(why), "perf_event_open: %s",
				 strerror(fail ? -fail : ENODEV));
			vs_probe_add_source(p, name, "perf", fail ? fail : -ENODEV, why);
			continue;
		}
		vs_probe_add_source(p, name, "perf", 0, "host-wide count, not per VM");
		used++;
	}
	return used ? 0 : -ENOENT;
}

int vs_probe_perf_read(struct vs_probe *p, struct vs_probe_snapshot *s)
{
	struct vs_probe_vm *vm;
	double worst = 1.0;
	unsigned int i;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	snprintf(vm->comm, sizeof(vm->comm), "host");
	vm->alive = true;
	for (i = 0; i < p->n_pc; i++) {
		uint64_t v[3];	/* value, time enabled, time running */
		double scaled;

		if (read(p->pc[i].fd, v, sizeof(v)) != sizeof(v))
			continue;
		scaled = (double)v[0];
		if (v[2] && v[2] < v[1]) {
			/* Multiplexed: scale like perf stat and say so. */
			scaled = scaled * (double)v[1] / (double)v[2];
			if ((double)v[2] / (double)v[1] < worst)
				worst = (double)v[2] / (double)v[1];
		}
		vm->c.ctr[p->pc[i].ctr] += (uint64_t)llround(scaled);
	}
	s->vms = vm;
	s->n_vms = 1;
	s->perf_running_ratio = worst;
	return 0;
}


void vs_probe_perf_close(struct vs_probe *p)
{
	unsigned int i;

	for (i = 0; i < p->n_pc; i++)
		close(p->pc[i].fd);
	free(p->pc);
	p->pc = NULL;
	p->n_pc = 0;
}
