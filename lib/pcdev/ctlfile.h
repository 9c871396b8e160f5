/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_PCDEV_CTL_H
#define VS_PCDEV_CTL_H

#include <stdint.h>
#include <sys/types.h>

/*
 * Control file of a running reference device (lib/pcdev), the channel
 * through which `virtsync apply` turns the device's knobs
 * (pcdev.consumer_busyloop_ns, pcdev.consumer_sleep_ns, vm.halt_poll_ns):
 *
 *   path:   /run/virtsync/pcdev-<pid>.ctl  (under vs_path(); <pid> is the
 *           process running the device)
 *   format: text, one "key=value" per line, values decimal u64, lines
 *           starting with '#' ignored, unknown keys ignored (newer keys
 *           must not break older devices); at most 4096 bytes:
 *             # virtsync pcdev control 1
 *             halt_poll_ns=0
 *             consumer_busyloop_ns=0
 *             consumer_sleep_ns=1000
 *   keys:   halt_poll_ns          KVM_CAP_HALT_POLL of the device's VM
 *                                 (KVM backend only; the device applies it
 *                                 with KVM_ENABLE_CAP on its VM fd)
 *           consumer_busyloop_ns  how long the consumer busy-polls the ring
 *                                 before it sleeps or waits for a kick
 *           consumer_sleep_ns     the consumer's sleep length (sleep mode)
 *   protocol: the device writes the file with its current values when it
 *           starts and removes it when it exits. virtsync rewrites the whole
 *           file atomically (temporary file + rename), so the device either
 *           sees the old or the new file, never a torn one; the device
 *           re-reads it when its mtime/inode changes (a stat() every few
 *           milliseconds from a thread that is not on the hot path is enough)
 *           and applies the values it finds.
 */

struct vs_pcdev_ctl {
	uint64_t halt_poll_ns;
	uint64_t consumer_busyloop_ns;
	uint64_t consumer_sleep_ns;
};

int vs_pcdev_ctl_path(pid_t pid, char *buf, size_t len);
/* -ENOENT when the device is not running (no file). */
int vs_pcdev_ctl_read(pid_t pid, struct vs_pcdev_ctl *ctl);
/* Atomic replace; mode 0644 so an unprivileged device can read it. */
int vs_pcdev_ctl_write(pid_t pid, const struct vs_pcdev_ctl *ctl);
/*
 * For the device: has the file changed since the last call (inode or
 * mtime)? Returns 1 and the new values in *ctl when it has, 0 when not,
 * -errno on failure. Zero-initialize the watch before the first call.
 */
struct vs_pcdev_ctl_watch {
	uint64_t ino;
	int64_t mtime_ns;
};
int vs_pcdev_ctl_check(pid_t pid, struct vs_pcdev_ctl_watch *w,
		       struct vs_pcdev_ctl *ctl);
/* For the device at exit. */
int vs_pcdev_ctl_remove(pid_t pid);
/* Parse a control file's text (exposed for the device and for tests). */
int vs_pcdev_ctl_parse(const char *text, struct vs_pcdev_ctl *ctl);

#endif
