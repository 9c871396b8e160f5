// SPDX-License-Identifier: GPL-2.0-only
/* The libvirt domain XML fragment (lib/output/export.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/export-impl.h"
#include "core/units.h"

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
	return export_memstream_done(f, text, &buf);
}
