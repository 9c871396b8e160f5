/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_VMNAME_H
#define VS_VMNAME_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The name a VM is known by: QEMU's -name (libvirt starts QEMU with
 * "-name guest=DOMAIN,debug-threads=on", so this is the libvirt domain
 * too), from /proc/PID/cmdline under vs_path(). QEMU's ",," escape of a
 * comma is undone. -ENOENT when the command line has no -name, -errno when
 * it cannot be read.
 */
int vs_vm_name(pid_t pid, char *buf, size_t len);

/* The same from a command line already read (NUL-separated, n bytes). */
int vs_vm_name_parse(const char *cmdline, size_t n, char *buf, size_t len);

#endif
