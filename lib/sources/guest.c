// SPDX-License-Identifier: GPL-2.0-only
/* Inside-a-guest detection and guest-side virtqueue counters. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "sources/guest.h"
#include "sources/interrupts.h"
#include "core/safefile.h"
#include "core/sysfs.h"

static bool cpuid_hypervisor_bit(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return false;
	return c & (1u << 31);
#else
	return false;
#endif
}

static bool cpuinfo_has_hypervisor(void)
{
	char path[512], line[4096];
	bool found = false;
	FILE *f;

	if (vs_path(path, sizeof(path), "/proc/cpuinfo"))
		return false;
	f = vs_fopen_rooted(path);
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p;

		if (strncmp(line, "flags", 5))
			continue;
		for (p = strtok(line, " \t\n"); p; p = strtok(NULL, " \t\n"))
			if (!strcmp(p, "hypervisor"))
				found = true;
		break;
	}
	fclose(f);
	return found;
}

static void read_cstates(struct vs_guest_info *g)
{
	unsigned int i;

	for (i = 0; i < VS_MAX_CSTATES; i++) {
		struct vs_cstate *cs = &g->cstates[g->n_cstates];
		char path[512];
		uint64_t v;

		if (vs_path(path, sizeof(path),
			    "/sys/devices/system/cpu/cpu0/cpuidle/state%u/name", i) ||
		    vs_read_str(path, cs->name, sizeof(cs->name)))
			break;
		if (!vs_path(path, sizeof(path),
			     "/sys/devices/system/cpu/cpu0/cpuidle/state%u/latency", i) &&
		    !vs_read_u64(path, &v))
			cs->latency_us = (unsigned int)v;
		if (!vs_path(path, sizeof(path),
			     "/sys/devices/system/cpu/cpu0/cpuidle/state%u/disable", i) &&
		    !vs_read_u64(path, &v))
			cs->disabled = v != 0;
		g->n_cstates++;
	}
}

int vs_guest_detect(struct vs_guest_info *g)
{
	char path[512];
	int64_t v;

	memset(g, 0, sizeof(*g));
	g->guest_halt_poll_ns = -1;
	/* Under a fixture root the CPUID instruction would describe the
	 * machine running the test, not the tree: trust cpuinfo only. */
	g->cpuid_hv = vs_root()[0] ? false : cpuid_hypervisor_bit();
	g->cpuinfo_hv = cpuinfo_has_hypervisor();
	g->is_guest = g->cpuid_hv || g->cpuinfo_hv;
	if (!vs_path(path, sizeof(path),
		     "/sys/devices/system/cpu/cpuidle/current_driver"))
		vs_read_str(path, g->cpuidle_driver, sizeof(g->cpuidle_driver));
	if (!vs_path(path, sizeof(path), "/sys/module/haltpoll/parameters/guest_halt_poll_ns") &&
	    !vs_read_s64(path, &v)) {
		g->haltpoll_loaded = true;
		g->guest_halt_poll_ns = v;
		g->guest_halt_poll_writable = vs_access_rooted(path, W_OK) == 0;
	}
	read_cstates(g);
	return 0;
}

/*
 * /proc/interrupts: a header of CPU names, then "IRQ: count... chip hwirq
 * name". Only virtio vectors are kept, the count summed over all CPUs.
 */
static int note_virtio(const struct vs_irq_line *l, void *arg)
{
	struct vs_guest_counters *c = arg;
	unsigned long long sum = 0;
	unsigned int i;

	if (strncmp(l->name, "virtio", 6) || c->n_vqs >= VS_MAX_VQS)
		return 0;
	for (i = 0; i < l->ncpu; i++)
		sum += l->per_cpu[i];
	snprintf(c->vqs[c->n_vqs].name, sizeof(c->vqs[0].name), "%s", l->name);
	c->vqs[c->n_vqs].irq = l->irq;
	c->vqs[c->n_vqs].count = sum;
	c->n_vqs++;
	return 0;
}

int vs_guest_parse_interrupts(const char *text, struct vs_guest_counters *c)
{
	int err;

	c->n_vqs = 0;
	err = vs_interrupts_parse(text, note_virtio, c);
	c->have_irqs = !err;
	return err;
}

static char *slurp(const char *path)
{
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap);
	FILE *f;

	if (!buf)
		return NULL;
	f = vs_fopen_rooted(path);
	if (!f) {
		free(buf);
		return NULL;
	}
	for (;;) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);

		len += n;
		if (len < cap - 1)
			break;
		cap *= 2;
		char *nb = realloc(buf, cap);

		if (!nb) {
			free(buf);
			fclose(f);
			return NULL;
		}
		buf = nb;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* Whole disks only (vda, sda, nvme0n1), not partitions nor loop/ram. */
static bool whole_disk(const char *dev)
{
	size_t n = strlen(dev);

	if (!strncmp(dev, "loop", 4) || !strncmp(dev, "ram", 3) ||
	    !strncmp(dev, "dm-", 3) || !strncmp(dev, "zram", 4))
		return false;
	if (!strncmp(dev, "nvme", 4))
		return !strchr(dev + 4, 'p');
	return n && !isdigit((unsigned char)dev[n - 1]);
}

static void read_diskstats(struct vs_guest_counters *c)
{
	char path[512], line[512];
	FILE *f;

	if (vs_path(path, sizeof(path), "/proc/diskstats"))
		return;
	f = vs_fopen_rooted(path);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long rd, rdm, rds, rdt, wr;
		unsigned int maj, min;
		char dev[64];

		if (sscanf(line, "%u %u %63s %llu %llu %llu %llu %llu", &maj, &min,
			   dev, &rd, &rdm, &rds, &rdt, &wr) != 8)
			continue;
		if (whole_disk(dev))
			c->disk_ios += rd + wr;
	}
	fclose(f);
	c->have_disk = true;
}

static void read_netdev(struct vs_guest_counters *c)
{
	char path[512], line[512];
	FILE *f;

	if (vs_path(path, sizeof(path), "/proc/net/dev"))
		return;
	f = vs_fopen_rooted(path);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long rxb, rxp, v[6], txb, txp;
		char *colon = strchr(line, ':'), *name = line;

		if (!colon)
			continue;
		*colon = '\0';
		while (isspace((unsigned char)*name))
			name++;
		if (!strcmp(name, "lo"))
			continue;
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &rxb, &rxp, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			   &txb, &txp) != 10)
			continue;
		c->net_packets += rxp + txp;
	}
	fclose(f);
	c->have_net = true;
}

int vs_guest_counters_read(struct vs_guest_counters *c)
{
	char path[512], *text;

	memset(c, 0, sizeof(*c));
	if (!vs_path(path, sizeof(path), "/proc/interrupts")) {
		text = slurp(path);
		if (text) {
			vs_guest_parse_interrupts(text, c);
			free(text);
		}
	}
	read_diskstats(c);
	read_netdev(c);
	return 0;
}
