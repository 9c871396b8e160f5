// SPDX-License-Identifier: GPL-2.0-only
/* Text for a terminal: word-wrapped lines under 80 columns (print.h). */
#include <stdio.h>
#include <string.h>

#include "output/print.h"

#define WIDTH 78

void vs_print_hanging(FILE *f, int indent, int hang, const char *text)
{
	const char *p = text;
	int avail = WIDTH - indent;

	while (*p) {
		int n = (int)strlen(p), cut;

		if (n > avail) {
			for (cut = avail; cut > 0 && p[cut] != ' '; cut--)
				;
			if (cut == 0)
				cut = avail;
			n = cut;
		}
		fprintf(f, "%*s%.*s\n", indent, "", n, p);
		p += n;
		while (*p == ' ')
			p++;
		if (hang) {
			indent += hang;
			avail -= hang;
			hang = 0;
		}
	}
}
