/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_SAFEFILE_H
#define VS_SAFEFILE_H

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Opening files as root in directories others can write (/tmp, a user's
 * home, a --root tree). Every file virtsync writes or trusts is opened here:
 *  - the final component is never followed when it is a symbolic link
 *    (-ELOOP), and a file that is not a regular file is refused (-EINVAL,
 *    without blocking: a FIFO is opened O_NONBLOCK and fstat()ed first);
 *  - a file is replaced through a temporary that nobody can name in
 *    advance (O_TMPFILE, or an O_EXCL random name) in its own directory;
 *  - VS_SAFE_PRIVATE: virtsync's own state (/run/virtsync: journal, lock,
 *    pid files): the directory and the file must belong to the effective
 *    user (root) and not be writable by group or others (-EPERM);
 *  - VS_SAFE_TRUSTED: an input that decides what root writes (a plan, a
 *    profile): owned by root or by the invoking user (getuid(), SUDO_UID)
 *    and not writable by others (-EPERM).
 * Under VIRTSYNC_ROOT, a path inside the root is resolved inside it
 * (openat2 RESOLVE_IN_ROOT): no symlink or ".." in the tree reaches out.
 */
#define VS_SAFE_PRIVATE	0x10
#define VS_SAFE_TRUSTED	0x20
/* fsync the file before the rename and the directory after it */
#define VS_SAFE_DURABLE	0x01

/* The -errno of these helpers, as a reason to print after the path. */
const char *vs_safe_strerror(int err);

/* open(2) of a path, resolved inside VIRTSYNC_ROOT when it lies under it.
 * -errno. */
int vs_open_rooted(const char *path, int flags, mode_t mode);

/*
 * The other ways of reaching a path, confined the same way: every read of
 * sysfs, procfs or /run and every write to them goes through these or
 * vs_open_rooted(), so that a --root tree cannot reach outside itself
 * through a symlink (an absolute one resolves inside the tree) or "..".
 */
/* fopen(path, "re"): NULL with errno set. */
FILE *vs_fopen_rooted(const char *path);
/* opendir(): NULL with errno set. */
DIR *vs_opendir_rooted(const char *path);
/* readlink() of the link at path itself (its directory is resolved in the
 * tree), buf nul-terminated: its length, or -errno. */
ssize_t vs_readlink_rooted(const char *path, char *buf, size_t len);
/* stat() (following a final symlink, inside the tree): 0 or -errno. */
int vs_stat_rooted(const char *path, struct stat *st);
/* access(): 0 or -errno. */
int vs_access_rooted(const char *path, int mode);
/* unlink() of the entry at path itself, a link is not followed: 0 or -errno. */
int vs_unlink_rooted(const char *path);
/* mkdir() of the last component (never through a link): 0 or -errno
 * (-EEXIST when something is there). */
int vs_mkdir_rooted(const char *path, mode_t mode);

/* Open an existing file for reading: fd, or -errno (above). */
int vs_safe_open_read(const char *path, unsigned int flags);

/* Open or create a state file for reading and writing (a lock, a pid
 * file), never truncated by the open: fd or -errno. Implies PRIVATE. */
int vs_safe_open_state(const char *path, mode_t mode);

/* Create a private directory (mode) if missing, and check an existing one
 * as VS_SAFE_PRIVATE requires: 0 or -errno. */
int vs_safe_private_dir(const char *dir, mode_t mode);

/* Create or truncate an output file that is written as a stream (a trace):
 * a symlink or a non-regular file is refused. fd or -errno. */
int vs_safe_create(const char *path, mode_t mode);

/* Replace the file at path with buf[0..len) and tail (a string, may be
 * ""), whole or not at all: 0 or -errno; nothing is left on failure. */
int vs_safe_replace(const char *path, const void *buf, size_t len,
		    const char *tail, mode_t mode, unsigned int flags);

/*
 * Remove the temporaries that runs killed between writing and renaming
 * left in dir (already rooted): regular files of the effective user named
 * ".BASE.PID.RANDOM.tmp" (the temporaries of vs_safe_replace(), of the file
 * BASE; any BASE when base is NULL) whose PID no longer runs, or runs but
 * started after the file was last written. This process's own temporaries,
 * links and other users' files are left alone. A missing dir has none.
 * Returns how many were removed, or -errno when dir cannot be read.
 */
int vs_safe_sweep_temps(const char *dir, const char *base);

/*
 * Make an empty directory beside path, named ".BASE.PID.RANDOM.tmp" as the
 * temporaries above, to be filled and then renamed onto path (export
 * --tuned swaps a whole directory so). First removes the ones dead runs
 * left for the same BASE: directories of the effective user holding only
 * regular files; vs_safe_sweep_temps()'s rules otherwise. The new
 * directory's path goes into named. 0 or -errno.
 */
int vs_safe_temp_dir(const char *path, mode_t mode, char *named, size_t nlen);

#endif
