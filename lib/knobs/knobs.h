/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_KNOBS_H
#define VS_KNOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cpuonline.h"

/*
 * A knob is one tunable setting of the host or guest (lib/knobs/ files, one ops
 * table each). A knob acts on *instances*: the global knob has one instance
 * (""), the others name theirs with a short string that is also what the
 * journal stores, so rollback needs nothing but the knob name, the instance
 * and the old value:
 *
 *   scope          instance        example
 *   VS_SCOPE_GLOBAL  ""            guest.halt_poll_ns
 *   VS_SCOPE_CPU     "cpuN"        cpufreq.governor
 *   VS_SCOPE_CSTATE  "cpuN/stateS" cpuidle.state_disable
 *   VS_SCOPE_THREAD  "TID@START"   thread.timerslack_ns (START: field 22 of
 *                                  /proc/TID/stat, so that a reused TID is
 *                                  never mistaken for the journaled thread)
 *   VS_SCOPE_VM      "PID"         vm.halt_poll_ns (reference device PID)
 *   VS_SCOPE_IRQ     "N"           irq.affinity
 *   VS_SCOPE_NETDEV  "ifname"      netdev.gro_flush_timeout
 *   VS_SCOPE_IOTHREAD "SOCKET#ID"  iothread.poll_max_ns (QEMU iothread ID,
 *                                  reached through the QMP socket SOCKET)
 *
 * Values are text. validate() turns a requested value into the canonical
 * form read() returns ("0,1" -> "0-1", "1" -> "Y"), so comparing an applied
 * value with the live one is a string compare.
 */

enum vs_knob_scope {
	VS_SCOPE_GLOBAL,
	VS_SCOPE_CPU,
	VS_SCOPE_CSTATE,
	VS_SCOPE_THREAD,
	VS_SCOPE_VM,
	VS_SCOPE_IRQ,
	VS_SCOPE_NETDEV,
	VS_SCOPE_IOTHREAD,
};

#define VS_KNOB_VAL_MAX 128	/* longest value text, NUL included */
/* longest instance text, NUL included: a QMP socket path (108) + '#' + id */
#define VS_KNOB_INST_MAX 176
#define VS_KNOB_WHY_MAX 256	/* explanation of a refusal */

struct vs_knob_ops {
	const char *name;
	enum vs_knob_scope scope;
	/* true: the change reaches running work at once; false: only work
	 * started afterwards sees it. */
	bool live;
	const char *unit;
	const char *help;
	/*
	 * Check that the instance exists and can be written here, and that
	 * `val` is acceptable; fill `canon` with the canonical form. On
	 * refusal return -errno and put one human sentence in `why`
	 * (-EINVAL bad text, -ERANGE out of range, -ENOENT no such target,
	 * -EROFS read-only on this host, -EOPNOTSUPP not possible here, or
	 * the error of a target that did not answer: vs_knob_unreachable()).
	 */
	int (*validate)(const char *inst, const char *val, char *canon,
			size_t len, char *why, size_t whylen);
	int (*read)(const char *inst, char *val, size_t len);
	int (*write)(const char *inst, const char *val);
	/* Optional: a note for the journal after a write (the PM QoS holder's
	 * pid). */
	int (*note)(const char *inst, char *buf, size_t len);
};

/* All knobs, NULL-terminated, in a stable order. */
extern const struct vs_knob_ops *const vs_knobs[];

const struct vs_knob_ops *vs_knob_find(const char *name);
const char *vs_knob_scope_name(enum vs_knob_scope scope);

/* Did err come from a target that is there but did not answer in time or
 * as it should (a stuck or hostile QMP peer)? Asking it again waits as
 * long for the same outcome, so callers ask once. */
bool vs_knob_unreachable(const struct vs_knob_ops *k, int err);

/* --- helpers shared by lib/knobs/ files and the target resolver ---------- */


/* Thread instance "TID@START": parse, and build one from a live TID.
 * vs_thread_inst_check() returns -ESRCH when the thread is gone or the TID
 * now belongs to another thread. */
int vs_thread_inst_parse(const char *inst, int *tid, uint64_t *start);
int vs_thread_inst_make(int tid, char *inst, size_t len);
int vs_thread_inst_check(const char *inst, int *tid);

/* A name safe to put in a path component: [A-Za-z0-9_.:-], not "."/"..",
 * at most `max` characters. */
bool vs_safe_name(const char *s, size_t max);

#endif
