// SPDX-License-Identifier: GPL-2.0-only
/*
 * iothread.poll_max_ns: the adaptive polling window of a running QEMU's
 * iothread (the `poll-max-ns` property of its `-object iothread`), set live
 * with qom-set over QMP (lib/sources/qmp.h). The instance is "SOCKET#ID": the QMP
 * socket path and the iothread's object id, so the journal alone is enough
 * for rollback. Every call opens its own QMP connection: QEMU serves one
 * client per monitor socket, and holding it would lock others out.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knobs/impl.h"
#include "sources/qmp.h"

#define QMP_TIMEOUT_MS 3000

static int split_inst(const char *inst, char *sock, size_t slen, char *id,
		      size_t idlen)
{
	const char *hash = strrchr(inst, '#');

	if (!hash || hash == inst || !hash[1] || (size_t)(hash - inst) >= slen ||
	    !vs_safe_name(hash + 1, idlen - 1))
		return -EINVAL;
	snprintf(sock, slen, "%.*s", (int)(hash - inst), inst);
	snprintf(id, idlen, "%s", hash + 1);
	return 0;
}

static int iothread_get(const char *inst, int64_t *ns)
{
	char sock[VS_KNOB_INST_MAX], id[64];
	struct vs_qmp *q;
	int err = split_inst(inst, sock, sizeof(sock), id, sizeof(id));

	if (err)
		return err;
	q = vs_qmp_open(sock, QMP_TIMEOUT_MS, &err);
	if (!q)	/* keep -ENOENT for "no such iothread" */
		return err == -ENOENT ? -ECONNREFUSED : err;
	err = vs_qmp_iothread_get_poll_max_ns(q, id, ns);
	vs_qmp_close(q);
	return err;
}

static int iothread_validate(const char *inst, const char *val, char *canon,
			     size_t len, char *why, size_t whylen)
{
	char sock[VS_KNOB_INST_MAX], id[64];
	int64_t cur;
	int err;

	if (split_inst(inst, sock, sizeof(sock), id, sizeof(id))) {
		WHY("'%s' is not SOCKET#IOTHREAD-ID", inst);
		return -EINVAL;
	}
	/* QEMU keeps poll-max-ns in an int64_t */
	err = knob_canon_u64(val, 0, INT64_MAX, canon, len, why, whylen);
	if (err)
		return err;
	err = iothread_get(inst, &cur);
	if (err == -ENOENT)
		WHY("QEMU at %s has no iothread '%s'", sock, id);
	else if (err)
		WHY("cannot reach QEMU's QMP socket %s: %s", sock, vs_qmp_strerror(err));
	/* a QEMU gone is an absent target; one that does not answer says
	 * so (vs_knob_unreachable()): neither is a bad value */
	return err == -ECONNREFUSED ? -ENOENT : err;
}

static int iothread_read(const char *inst, char *val, size_t len)
{
	int64_t ns;
	int err = iothread_get(inst, &ns);

	if (!err)
		snprintf(val, len, "%" PRId64, ns);
	return err;
}

static int iothread_write(const char *inst, const char *val)
{
	char sock[VS_KNOB_INST_MAX], id[64], *end;
	struct vs_qmp *q;
	long long ns;
	int err = split_inst(inst, sock, sizeof(sock), id, sizeof(id));

	if (err)
		return err;
	errno = 0;
	ns = strtoll(val, &end, 10);
	if (errno || end == val || *end || ns < 0)
		return -EINVAL;
	q = vs_qmp_open(sock, QMP_TIMEOUT_MS, &err);
	if (!q)
		return err;
	err = vs_qmp_iothread_set_poll_max_ns(q, id, ns);
	vs_qmp_close(q);
	return err;
}

const struct vs_knob_ops vs_knob_iothread_poll_max_ns = {
	.name = "iothread.poll_max_ns",
	.scope = VS_SCOPE_IOTHREAD,
	.live = true,
	.unit = "ns",
	.help = "longest adaptive polling window of a QEMU iothread (qom-set "
		"poll-max-ns over QMP); 0 disables polling",
	.validate = iothread_validate,
	.read = iothread_read,
	.write = iothread_write,
};
