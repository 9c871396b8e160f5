/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_SYSFS_H
#define VS_SYSFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/* mkdir -p (under a fixture root even /run may be missing). */
int vs_mkdir_p(const char *dir, mode_t mode);
/* fsync a directory, so that renames and unlinks in it are on disk. */
int vs_fsync_dir(const char *dir);

/*
 * Replace the file at `path` (already rooted) with buf[0..len): written to
 * a temporary in the same directory with exactly `mode` that nobody can
 * name in advance, then rename()d over it, so a reader sees the old or the
 * new file, whole (vs_safe_replace() in core/safefile.h: a symlink or a
 * non-regular file at `path` is refused). VS_REPLACE_SHARED is accepted
 * for callers that several processes run at once (every temporary is
 * unique now). VS_REPLACE_DURABLE also fsyncs the file before the rename
 * and the directory after it: once this returns, a crash leaves the old or
 * the new version, never a mix or nothing. VS_REPLACE_PRIVATE: virtsync's
 * own state (VS_SAFE_PRIVATE). -errno; the temporary is removed on failure.
 * Temporaries of path that dead runs left beside it are removed first.
 */
#define VS_REPLACE_DURABLE	0x1
#define VS_REPLACE_SHARED	0x2
#define VS_REPLACE_PRIVATE	0x10
int vs_file_replace(const char *path, const void *buf, size_t len, mode_t mode,
		    unsigned int flags);
/* The same for a text (a JSON document, a record) that has no final
 * newline: the file gets text and "\n". */
int vs_file_replace_text(const char *path, const char *text, mode_t mode,
			 unsigned int flags);

#endif
