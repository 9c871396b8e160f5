// SPDX-License-Identifier: GPL-2.0-only
/* What the placement audit reads: memory nodes, device IRQs, APICv/AVIC
 * (see placement.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/safefile.h"
#include "core/procfs.h"
#include "core/sysfs.h"
#include "sources/interrupts.h"
#include "sources/placement.h"

/* ---- guest memory per node ------------------------------------------------ */

static void mem_add(struct vs_mem_nodes *m, int node, uint64_t kb)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (m->nodes[i].node == node) {
			m->nodes[i].kb += kb;
			return;
		}
	if (m->n < VS_MEM_MAX_NODES) {
		m->nodes[m->n].node = node;
		m->nodes[m->n].kb = kb;
		m->n++;
	}
}

static int cmp_kb(const void *a, const void *b)
{
	uint64_t x = ((const struct vs_mem_node *)a)->kb, y = ((const struct vs_mem_node *)b)->kb;

	return (x < y) - (x > y);
}

int vs_mem_nodes_read(pid_t pid, struct vs_mem_nodes *m)
{
	char path[PATH_MAX], line[4096];
	FILE *f;
	int err;

	memset(m, 0, sizeof(*m));
	err = vs_path(path, sizeof(path), "/proc/%d/numa_maps", (int)pid);
	if (err)
		return err;
	f = vs_fopen_rooted(path);
	if (!f) {
		err = -errno;
		if (err == -ENOENT && vs_pid_alive(pid))
			return -ESRCH;
		snprintf(m->why, sizeof(m->why), "%s: %s", path + strlen(vs_root()),
			 strerror(-err));
		return 0;
	}
	/* "7f.. default anon=512 dirty=512 N0=400 N1=112 kernelpagesize_kB=4":
	 * pages per node, in the mapping's page size. All mappings count:
	 * the guest's RAM is by far the largest. */
	while (fgets(line, sizeof(line), f)) {
		uint64_t page_kb = 4, pages[VS_MEM_MAX_NODES] = { 0 };
		int nodes[VS_MEM_MAX_NODES], n = 0, i;
		char *tok, *save = NULL;

		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			unsigned long long v;
			int node;

			if (sscanf(tok, "kernelpagesize_kB=%llu", &v) == 1)
				page_kb = v;
			else if (tok[0] == 'N' && sscanf(tok, "N%d=%llu", &node, &v) == 2 &&
				 n < VS_MEM_MAX_NODES) {
				nodes[n] = node;
				pages[n++] = v;
			}
		}
		for (i = 0; i < n; i++)
			mem_add(m, nodes[i], pages[i] * page_kb);
	}
	fclose(f);
	if (!m->n) {
		snprintf(m->why, sizeof(m->why), "numa_maps shows no resident page");
		return 0;
	}
	qsort(m->nodes, m->n, sizeof(m->nodes[0]), cmp_kb);
	for (unsigned int i = 0; i < m->n; i++)
		m->total_kb += m->nodes[i].kb;
	m->known = true;
	return 0;
}

/* ---- interrupts of the VM's devices ---------------------------------------- */

struct irq_want {
	struct vs_irq_info *out;
	unsigned int n, max;
};

static bool have_irq(const struct irq_want *w, unsigned int irq)
{
	unsigned int i;

	for (i = 0; i < w->n; i++)
		if (w->out[i].irq == irq)
			return true;
	return false;
}

static void want_irq(struct irq_want *w, unsigned int irq, const char *owner)
{
	struct vs_irq_info *q;

	if (w->n >= w->max || have_irq(w, irq))
		return;
	q = &w->out[w->n++];
	memset(q, 0, sizeof(*q));
	q->irq = irq;
	q->busiest_cpu = -1;
	snprintf(q->owner, sizeof(q->owner), "%s", owner);
}

/* Every IRQ of the PCI function behind `dir` (a sysfs device directory). */
static void want_msi_irqs(struct irq_want *w, const char *dir, const char *owner)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (snprintf(path, sizeof(path), "%s/msi_irqs", dir) >= (int)sizeof(path))
		return;
	d = vs_opendir_rooted(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		unsigned long irq = strtoul(de->d_name, &end, 10);

		if (de->d_name[0] != '.' && !*end)
			want_irq(w, (unsigned int)irq, owner);
	}
	closedir(d);
}

/* A tap is bridged: the physical NICs on the same bridge carry its traffic. */
static void want_tap_nics(struct irq_want *w, const char *tap)
{
	char path[PATH_MAX], link[PATH_MAX], bridge[64], owner[64];
	struct dirent *de;
	const char *slash;
	ssize_t n;
	DIR *d;

	if (vs_path(path, sizeof(path), "/sys/class/net/%s/master", tap))
		return;
	n = vs_readlink_rooted(path, link, sizeof(link));
	if (n <= 0)
		return;
	slash = strrchr(link, '/');
	snprintf(bridge, sizeof(bridge), "%.63s", slash ? slash + 1 : link);
	if (vs_path(path, sizeof(path), "/sys/class/net/%s/brif", bridge))
		return;
	d = vs_opendir_rooted(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char dev[PATH_MAX];

		if (de->d_name[0] == '.' || !strcmp(de->d_name, tap))
			continue;
		if (vs_path(dev, sizeof(dev), "/sys/class/net/%s/device", de->d_name))
			continue;
		snprintf(owner, sizeof(owner), "%.15s (on %.15s with %.15s)", de->d_name,
			 bridge, tap);
		want_msi_irqs(w, dev, owner);
	}
	closedir(d);
}

/* The VFIO groups the VM holds (/dev/vfio/N): their devices' IRQs. */
static int note_vfio_fd(pid_t pid, int fd, const char *target, void *arg)
{
	struct irq_want *w = arg;
	char path[PATH_MAX], owner[48];
	struct dirent *de;
	unsigned int group;
	DIR *d;

	if (sscanf(target, "/dev/vfio/%u", &group) != 1)
		return 0;
	if (vs_path(path, sizeof(path), "/sys/kernel/iommu_groups/%u/devices", group))
		return 0;
	d = vs_opendir_rooted(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char dev[PATH_MAX];

		if (de->d_name[0] == '.' ||
		    snprintf(dev, sizeof(dev), "%s/%s", path, de->d_name) >= (int)sizeof(dev))
			continue;
		snprintf(owner, sizeof(owner), "vfio %.40s", de->d_name);
		want_msi_irqs(w, dev, owner);
	}
	closedir(d);
	return 0;
}

static int want_virtio(const struct vs_irq_line *l, void *arg)
{
	if (!strncmp(l->name, "virtio", 6))
		want_irq(arg, l->irq, "virtio (this guest)");
	return 0;
}

/* Names and counts from /proc/interrupts for the IRQs chosen. */
static int fill_counts(const struct vs_irq_line *l, void *arg)
{
	struct irq_want *w = arg;
	unsigned int i, c;

	for (i = 0; i < w->n; i++) {
		struct vs_irq_info *q = &w->out[i];
		unsigned long long best = 0;

		if (q->irq != l->irq)
			continue;
		snprintf(q->name, sizeof(q->name), "%s", l->name);
		for (c = 0; c < l->ncpu; c++) {
			q->count += l->per_cpu[c];
			if (l->per_cpu[c] > best) {
				best = l->per_cpu[c];
				q->busiest_cpu = (int)c;
			}
		}
	}
	return 0;
}

static void read_affinity(struct vs_irq_info *q)
{
	char path[PATH_MAX], text[4096];

	if (!vs_path(path, sizeof(path), "/proc/irq/%u/smp_affinity_list", q->irq) &&
	    !vs_read_str(path, text, sizeof(text)))
		vs_cpuset_parse(text, &q->affinity);
	if (!vs_path(path, sizeof(path), "/proc/irq/%u/effective_affinity_list", q->irq) &&
	    !vs_read_str(path, text, sizeof(text)) && !vs_cpuset_parse(text, &q->effective))
		return;
	q->effective = q->affinity;	/* older kernels: no effective list */
}

unsigned int vs_vm_irqs_read(const struct vs_vm *vm, struct vs_irq_info *out,
			     unsigned int max)
{
	struct irq_want w = { out, 0, max };
	unsigned int i;

	if (vm) {
		for (i = 0; i < vm->n_taps; i++)
			want_tap_nics(&w, vm->taps[i]);
		vs_proc_each_fd(vm->pid, note_vfio_fd, &w);
	} else {
		vs_interrupts_read(want_virtio, &w);
	}
	if (w.n)
		vs_interrupts_read(fill_counts, &w);
	for (i = 0; i < w.n; i++)
		read_affinity(&out[i]);
	return w.n;
}

/* ---- APICv / AVIC -------------------------------------------------------------- */

/* A module parameter as 1/0: "Y"/"N" or a number; -1 when absent. */
static int param_bool(const char *module, const char *param)
{
	char path[PATH_MAX], v[16];

	if (vs_path(path, sizeof(path), "/sys/module/%s/parameters/%s", module, param) ||
	    vs_read_str(path, v, sizeof(v)))
		return -1;
	if (v[0] == 'Y' || v[0] == 'y')
		return 1;
	if (v[0] == 'N' || v[0] == 'n')
		return 0;
	return atoi(v) != 0;
}

int vs_virt_irq_read(struct vs_virt_irq *v)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	memset(v, 0, sizeof(*v));
	v->apicv = v->ipiv = v->avic = -1;
	if (!vs_path(path, sizeof(path), "/sys/module/kvm_intel") && !vs_access_rooted(path, F_OK)) {
		snprintf(v->module, sizeof(v->module), "kvm_intel");
		v->apicv = param_bool("kvm_intel", "enable_apicv");
		v->ipiv = param_bool("kvm_intel", "enable_ipiv");
		v->known = v->apicv >= 0;
	} else if (!vs_path(path, sizeof(path), "/sys/module/kvm_amd") && !vs_access_rooted(path, F_OK)) {
		snprintf(v->module, sizeof(v->module), "kvm_amd");
		v->avic = param_bool("kvm_amd", "avic");
		v->known = v->avic >= 0;
	}
	if (v->known)
		return 0;
	/* Say what the host has instead (a nested PVM host: kvm_pvm). */
	if (v->module[0]) {
		snprintf(v->why, sizeof(v->why), "%s reports no APICv/AVIC parameter",
			 v->module);
		return 0;
	}
	snprintf(v->why, sizeof(v->why), "no kvm_intel or kvm_amd module");
	if (vs_path(path, sizeof(path), "/sys/module") || !(d = vs_opendir_rooted(path)))
		return 0;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "kvm_", 4)) {
			snprintf(v->why, sizeof(v->why),
				 "no kvm_intel or kvm_amd module (%.32s is loaded): not readable",
				 de->d_name);
			break;
		}
	closedir(d);
	return 0;
}
