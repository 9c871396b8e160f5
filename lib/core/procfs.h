/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PROCFS_H
#define VS_PROCFS_H

/*
 * The one walker of /proc (under $VIRTSYNC_ROOT through vs_path()): the
 * processes, the threads of a process, the file descriptors of a process.
 * Each walk calls `fn` for every numeric entry; fn returns 0 to go on, a
 * positive value to stop the walk (returned as is), or -errno to stop it
 * with that error. Entries that vanish during the walk are skipped: /proc
 * changes under the reader.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

typedef int (*vs_proc_pid_fn)(pid_t pid, void *arg);
typedef int (*vs_proc_task_fn)(pid_t pid, pid_t tid, void *arg);
/* target: the readlink() of /proc/PID/fd/FD ("anon_inode:kvm-vm"). */
typedef int (*vs_proc_fd_fn)(pid_t pid, int fd, const char *target, void *arg);

/* Every process in /proc. -errno when /proc cannot be read. */
int vs_proc_each_pid(vs_proc_pid_fn fn, void *arg);
/* Every thread of pid: -ESRCH when the process is gone. */
int vs_proc_each_task(pid_t pid, vs_proc_task_fn fn, void *arg);
/* Every fd of pid: -ESRCH when gone, -EACCES when not ours to look at. */
int vs_proc_each_fd(pid_t pid, vs_proc_fd_fn fn, void *arg);

/* comm of a process (tid 0) or of one of its threads; -ESRCH when gone. */
int vs_proc_comm(pid_t pid, pid_t tid, char *buf, size_t len);

/*
 * Has the process that last wrote a file (at mtime, CLOCK_REALTIME) ended?
 * True when pid no longer runs, or runs but started after mtime (a newer
 * process that got the same pid; a second of slack covers the coarse start
 * time). False when it cannot tell. vs_proc_gone_since() asks the /proc
 * virtsync reads (a --root tree's own: a fixture's reference devices are
 * processes of its /proc); vs_host_proc_gone_since() asks the host's, for
 * a pid that names a process of this host whatever the root (a temporary
 * of vs_safe_replace()).
 */
bool vs_proc_gone_since(pid_t pid, const struct timespec *mtime);
bool vs_host_proc_gone_since(pid_t pid, const struct timespec *mtime);

/* rel, relative to the directory of the running binary, resolved: what a
 * binary run from the build tree finds beside itself (.output/virtsync ->
 * ../profiles, ../man). 0 when that path is there and readable, else
 * -errno. */
int vs_beside_exe(const char *rel, char *path, size_t len);

#endif
