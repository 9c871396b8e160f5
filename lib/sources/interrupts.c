// SPDX-License-Identifier: GPL-2.0-only
/* /proc/interrupts (see interrupts.h). */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/safefile.h"
#include "core/sysfs.h"
#include "sources/interrupts.h"

/* More CPUs than this are summed into the last column kept. */
#define MAX_COLS 1024

int vs_interrupts_parse(const char *text, vs_irq_line_fn fn, void *arg)
{
	const char *line = text, *nl;
	unsigned long long *cnt;
	unsigned int ncpu = 0;
	bool header = true;
	int ret = 0;

	cnt = calloc(MAX_COLS, sizeof(*cnt));
	if (!cnt)
		return -ENOMEM;
	for (; !ret && *line; line = nl ? nl + 1 : line + strlen(line)) {
		char buf[4096], *p, *end, *name;
		struct vs_irq_line l;
		unsigned int i;
		long irq;
		size_t n;

		nl = strchr(line, '\n');
		n = nl ? (size_t)(nl - line) : strlen(line);
		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, line, n);
		buf[n] = '\0';
		if (header) {
			for (p = strtok(buf, " \t"); p; p = strtok(NULL, " \t"))
				if (!strncmp(p, "CPU", 3))
					ncpu++;
			header = false;
			continue;
		}
		p = buf;
		while (isspace((unsigned char)*p))
			p++;
		irq = strtol(p, &end, 10);
		if (end == p || *end != ':' || irq < 0)
			continue;	/* NMI:, LOC: ... */
		p = end + 1;
		memset(cnt, 0, MAX_COLS * sizeof(*cnt));
		for (i = 0; i < ncpu; i++) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			cnt[i < MAX_COLS ? i : MAX_COLS - 1] += v;
			p = end;
		}
		/* The action's name is the last field on the line. */
		end = buf + strlen(buf);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		name = strrchr(p, ' ');
		name = name ? name + 1 : p;
		l.irq = (unsigned int)irq;
		l.name = name;
		l.ncpu = ncpu < MAX_COLS ? ncpu : MAX_COLS;
		l.per_cpu = cnt;
		ret = fn(&l, arg);
	}
	free(cnt);
	if (!ncpu)
		return -EINVAL;
	return ret;
}

int vs_interrupts_read(vs_irq_line_fn fn, void *arg)
{
	char path[512], *text;
	size_t cap = 65536, len = 0, got;
	FILE *f;
	int err = vs_path(path, sizeof(path), "/proc/interrupts");

	if (err)
		return err;
	f = vs_fopen_rooted(path);
	if (!f)
		return -errno;
	text = malloc(cap);
	while (text && (got = fread(text + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (len == cap - 1) {
			char *nt = realloc(text, cap * 2);

			if (!nt) {
				free(text);
				text = NULL;
				break;
			}
			text = nt;
			cap *= 2;
		}
	}
	fclose(f);
	if (!text)
		return -ENOMEM;
	text[len] = '\0';
	err = vs_interrupts_parse(text, fn, arg);
	free(text);
	return err;
}
