/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_QMP_H
#define VS_QMP_H

/*
 * A QEMU Machine Protocol client: enough of QMP to read a running QEMU's
 * KVM binary statistics (query-stats), map vCPUs and iothreads to host
 * threads (query-cpus-fast, query-iothreads), and set an iothread's
 * adaptive polling window live (qom-set poll-max-ns).
 */

#include <stdint.h>
#include <jansson.h>

struct vs_qmp;

/*
 * Connect to a QMP unix socket, read the greeting and negotiate
 * capabilities. `timeout_ms` is the total deadline of each exchange: the
 * whole of the open (greeting and capabilities), and each command from its
 * request to its reply, however the peer paces its bytes. NULL with
 * *err = -errno on failure: -ETIMEDOUT past the deadline, -EOVERFLOW more
 * than VS_QMP_MAX_EVENTS events before a reply, -EPROTO not a QMP peer.
 */
#define VS_QMP_MAX_EVENTS 256
#define VS_QMP_MAX_EVENTS_TEXT "256"
struct vs_qmp *vs_qmp_open(const char *socket_path, int timeout_ms, int *err);
void vs_qmp_close(struct vs_qmp *q);

/*
 * Run one command; `args` (may be NULL) is consumed. On success *ret holds
 * the new reference to "return". A QMP error reply is -EREMOTEIO and its
 * class and description are kept for vs_qmp_last_error().
 */
int vs_qmp_execute(struct vs_qmp *q, const char *cmd, json_t *args, json_t **ret);
const char *vs_qmp_last_error(const struct vs_qmp *q);
/* 0 while the session is usable, else the -errno of the exchange that made
 * it unusable (a deadline, an event flood, a closed or non-QMP peer: all
 * but a QMP error reply); every later vs_qmp_execute() returns it at once
 * instead of reading what the peer still owed the failed command. */
int vs_qmp_broken(const struct vs_qmp *q);
/* strerror() with the QMP meaning of the errors above. */
const char *vs_qmp_strerror(int err);

/* The pid of the process at the other end of the socket (SO_PEERCRED):
 * the QEMU itself. -errno on failure. */
int vs_qmp_peer_pid(const struct vs_qmp *q);

/* QEMU's version as major*10000 + minor*100 + micro. */
unsigned int vs_qmp_qemu_version(const struct vs_qmp *q);

struct vs_qmp_vcpu {
	int cpu_index;
	int thread_id;			/* host TID of the vCPU thread */
	char qom_path[128];
};

struct vs_qmp_iothread {
	char id[64];
	int thread_id;
	int64_t poll_max_ns, poll_grow, poll_shrink;
};

/* Arrays allocated here (free() them); -errno or count. */
int vs_qmp_vcpus(struct vs_qmp *q, struct vs_qmp_vcpu **out);
int vs_qmp_iothreads(struct vs_qmp *q, struct vs_qmp_iothread **out);

#define VS_QMP_HIST_BUCKETS 32

/* The halt-polling statistics of one vCPU (KVM binary stats, via QEMU). */
struct vs_qmp_vcpu_stats {
	char qom_path[128];
	uint64_t exits, halt_exits, io_exits, mmio_exits, irq_injections;
	uint64_t halt_successful_poll, halt_attempted_poll, halt_poll_invalid;
	uint64_t halt_wakeup;
	uint64_t halt_poll_success_ns, halt_poll_fail_ns, halt_wait_ns;
	/* log2 histograms in ns: bucket i counts values in [2^(i-1), 2^i). */
	uint64_t halt_poll_success_hist[VS_QMP_HIST_BUCKETS];
	uint64_t halt_poll_fail_hist[VS_QMP_HIST_BUCKETS];
	uint64_t halt_wait_hist[VS_QMP_HIST_BUCKETS];
};

/* query-stats target=vcpu, provider kvm. -ENOTSUP where QEMU lacks it
 * (before 7.1, or not running with KVM). */
int vs_qmp_vcpu_stats(struct vs_qmp *q, struct vs_qmp_vcpu_stats **out);

/* qom-get/qom-set of /objects/<id>.poll-max-ns; -ENOENT for no such
 * iothread. */
int vs_qmp_iothread_get_poll_max_ns(struct vs_qmp *q, const char *id, int64_t *ns);
int vs_qmp_iothread_set_poll_max_ns(struct vs_qmp *q, const char *id, int64_t ns);

#endif
