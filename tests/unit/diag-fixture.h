/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_DIAG_FIXTURE_H
#define VS_DIAG_FIXTURE_H

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Point VIRTSYNC_ROOT at tests/fixtures/<name>. The test binaries live in
 * <top>/.output/tests/ (or .output-san/tests/), so the tree is found from the binary's own path
 * whatever the working directory.
 */
static inline int diag_fixture_root(const char *name)
{
	char exe[PATH_MAX], root[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *top;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	top = dirname(dirname(dirname(exe)));
	snprintf(root, sizeof(root), "%s/tests/fixtures/%s", top, name);
	if (access(root, R_OK))
		return -1;
	return setenv("VIRTSYNC_ROOT", root, 1);
}

#endif
