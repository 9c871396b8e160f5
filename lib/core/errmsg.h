/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_ERRMSG_H
#define VS_ERRMSG_H

#include <stddef.h>

/*
 * Library calls that refuse an input explain why in a caller's buffer (the
 * tool prints it; lib/ never does) and return the -errno: one call does both.
 */
int vs_errf(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
