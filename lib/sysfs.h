/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_SYSFS_H
#define VS_SYSFS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Every sysfs, procfs and /run path virtsync touches is built here, under
 * $VIRTSYNC_ROOT when it is set, so that tests run against fixture trees in
 * tests/fixtures/ instead of the live host. `rel` is an absolute path as on
 * the host ("/sys/module/..."). Returns -ENAMETOOLONG if it does not fit.
 */
int vs_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The root prefix in force ("" for the live host). */
const char *vs_root(void);

/* Read a whole small file, trailing newline stripped. -errno on failure,
 * -ENODATA if empty (cpupower_read_sysfs conflates the two; we do not). */
int vs_read_str(const char *path, char *buf, size_t len);
int vs_read_u64(const char *path, uint64_t *val);
int vs_read_s64(const char *path, int64_t *val);

/* Write a value the way `echo v > path` does; a short write is -EIO. */
int vs_write_str(const char *path, const char *val);
int vs_write_u64(const char *path, uint64_t val);

#endif
