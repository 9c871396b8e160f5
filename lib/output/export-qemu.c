// SPDX-License-Identifier: GPL-2.0-only
/* The QEMU command-line options (lib/output/export.h). */
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
	return export_memstream_done(f, text, &buf);
}
