// SPDX-License-Identifier: GPL-2.0-only
/* Text for a terminal: word-wrapped lines under 80 columns, and cells cut
 * to their column with a mark (print.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "output/print.h"

void vs_print_hanging(FILE *f, int indent, int hang, const char *text)
{
	const char *p = text;
	int avail = VS_PRINT_WIDTH - indent;

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

/* Bytes of the UTF-8 character at s: its lead byte's length, shortened
 * to the continuation bytes really there (a broken sequence is one
 * character per byte, never read past). */
static size_t char_len(const char *s)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4, i;

	for (i = 1; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

static size_t text_width(const char *s)
{
	size_t n = 0;

	while (*s) {
		s += char_len(s);
		n++;
	}
	return n;
}

#define ELLIPSIS "\xe2\x80\xa6"

static const char *fit(const char *s, size_t width, bool pad, char *buf, size_t len)
{
	size_t cols = 0, off = 0, keep;

	if (!len)
		return "";
	if (!s)
		s = "";
	/* the characters kept: all of them, or room for the ellipsis */
	keep = text_width(s) <= width ? width : width ? width - 1 : 0;
	while (*s && cols < keep) {
		size_t n = char_len(s);

		if (off + n + 1 > len)
			break;
		memcpy(buf + off, s, n);
		off += n;
		s += n;
		cols++;
	}
	if (*s && width && off + sizeof(ELLIPSIS) <= len) {
		memcpy(buf + off, ELLIPSIS, sizeof(ELLIPSIS) - 1);
		off += sizeof(ELLIPSIS) - 1;
		cols++;
	}
	while (pad && cols < width && off + 2 <= len) {
		buf[off++] = ' ';
		cols++;
	}
	buf[off] = '\0';
	return buf;
}

const char *vs_fit(const char *s, size_t width, char *buf, size_t len)
{
	return fit(s, width, true, buf, len);
}

const char *vs_cut(const char *s, size_t width, char *buf, size_t len)
{
	return fit(s, width, false, buf, len);
}
