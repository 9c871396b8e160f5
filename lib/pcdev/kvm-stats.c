// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM binary statistics (KVM_GET_STATS_FD) of the kvm backend's VM and
 * vCPU: read once at go and once at the end, reported as deltas.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pcdev/kvm.h"

int pcdev_kvm_stats_open(struct kvm_stat_src *s, int owner)
{
	size_t n;

	s->fd = ioctl(owner, KVM_GET_STATS_FD, NULL);
	if (s->fd < 0) {
		s->fd = -errno;
		return s->fd;
	}
	if (pread(s->fd, &s->hdr, sizeof(s->hdr), 0) != sizeof(s->hdr))
		return -EIO;
	s->desc_size = sizeof(struct kvm_stats_desc) + s->hdr.name_size;
	n = s->hdr.num_desc * s->desc_size;
	s->descs = calloc(1, n);
	s->start = calloc(s->hdr.num_desc, sizeof(*s->start));
	if (!s->descs || !s->start)
		return -ENOMEM;
	if (pread(s->fd, s->descs, n, s->hdr.desc_offset) != (ssize_t)n)
		return -EIO;
	return 0;
}

static const struct kvm_stats_desc *stats_desc(const struct kvm_stat_src *s,
					       unsigned int i)
{
	return (const struct kvm_stats_desc *)(s->descs + i * s->desc_size);
}

/* First value of every descriptor (histograms: bucket 0, unused). */
static int stats_read(const struct kvm_stat_src *s, uint64_t *vals)
{
	unsigned int i;

	for (i = 0; i < s->hdr.num_desc; i++) {
		const struct kvm_stats_desc *sd = stats_desc(s, i);

		if (pread(s->fd, &vals[i], sizeof(vals[i]),
			  s->hdr.data_offset + sd->offset) != sizeof(vals[i]))
			return -EIO;
	}
	return 0;
}

/* The statistics that tell the synchronization story, reported always;
 * the rest follow when non-zero, while room lasts. */
static const char *const stats_wanted[] = {
	"exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits",
	"signal_exits", "irq_injections", "insn_emulation",
	"halt_successful_poll", "halt_attempted_poll", "halt_poll_invalid",
	"halt_wakeup", "halt_poll_success_ns", "halt_poll_fail_ns",
	"halt_wait_ns", "blocking",
	NULL,
};

static bool stats_is_wanted(const char *name)
{
	const char *const *w;

	for (w = stats_wanted; *w; w++)
		if (!strcmp(*w, name))
			return true;
	return false;
}

static void stats_add(struct pcdev_results *res, const char *prefix,
		      const char *name, uint64_t v)
{
	unsigned int n = res->n_kvm_stats;
	size_t cap = sizeof(res->kvm_stats) / sizeof(res->kvm_stats[0]);

	if (n >= cap)
		return;
	snprintf(res->kvm_stats[n].name, sizeof(res->kvm_stats[n].name), "%s%s",
		 prefix, name);
	res->kvm_stats[n].value = v;
	res->n_kvm_stats++;
}

void pcdev_kvm_stats_collect(const struct kvm_stat_src *s, const char *prefix,
			  int pass, struct pcdev_results *res)
{
	uint64_t *now;
	unsigned int i;

	if (s->fd < 0 || !s->descs)
		return;
	now = calloc(s->hdr.num_desc, sizeof(*now));
	if (!now || stats_read(s, now)) {
		free(now);
		return;
	}
	for (i = 0; i < s->hdr.num_desc; i++) {
		const struct kvm_stats_desc *sd = stats_desc(s, i);
		uint32_t type = sd->flags & KVM_STATS_TYPE_MASK;
		uint64_t v = now[i];

		if (type == KVM_STATS_TYPE_LINEAR_HIST ||
		    type == KVM_STATS_TYPE_LOG_HIST || sd->size != 1)
			continue;
		if (type == KVM_STATS_TYPE_CUMULATIVE)
			v -= s->start[i];
		if (pass == 0 ? !stats_is_wanted(sd->name) :
				(stats_is_wanted(sd->name) || !v))
			continue;
		stats_add(res, prefix, sd->name, v);
	}
	free(now);
}

int pcdev_kvm_stats_mark(struct kvm_stat_src *s)
{
	return s->fd < 0 ? 0 : stats_read(s, s->start);
}

void pcdev_kvm_stats_close(struct kvm_stat_src *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->descs);
	free(s->start);
	s->fd = -1;
	s->descs = NULL;
	s->start = NULL;
}

uint64_t pcdev_kvm_stat_value(const struct pcdev_results *res, const char *name)
{
	unsigned int i;

	for (i = 0; i < res->n_kvm_stats; i++)
		if (!strcmp(res->kvm_stats[i].name, name))
			return res->kvm_stats[i].value;
	return 0;
}
