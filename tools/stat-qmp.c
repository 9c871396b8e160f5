// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync stat --qmp: rates of one QEMU's vCPUs from QMP query-stats (the
 * KVM binary statistics QEMU reads for us): exits, halt polls that
 * succeeded or failed, the time spent polling and waiting, each vCPU with
 * its host thread id from query-cpus-fast. No BPF, no root needed beyond
 * access to the socket.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "core/units.h"
#include "output/emit.h"
#include "output/emit-qmp.h"
#include "output/print.h"
#include "sources/qmpstat.h"
#include "stat-qmp.h"

#define QMP_TIMEOUT_MS 5000

static void print_rows(const struct vs_qmp_vcpu_row *r, int n,
		       const struct vs_qmp_sample *now, double secs)
{
	char pct[16], t[VS_FMT_LEN];
	int i;

	printf("--- %s\n", vs_format_time(secs * 1e9, t, sizeof(t)));
	printf("%4s %8s %9s %8s %8s %9s %5s %8s %6s\n", "VCPU", "TID", "EXITS/s",
	       "HALTS/s", "POLL-OK", "POLL-FAIL", "OK%", "POLL-us", "WAIT%");
	for (i = 0; i < n; i++) {
		if (isnan(r[i].poll_ok_pct))
			snprintf(pct, sizeof(pct), "-");
		else
			snprintf(pct, sizeof(pct), "%.0f", r[i].poll_ok_pct);
		printf("%4d %8d %9.1f %8.1f %8llu %9llu %5s %8.1f %6.1f\n",
		       r[i].cpu_index, r[i].thread_id, r[i].exits_per_s,
		       r[i].halt_exits_per_s, (unsigned long long)r[i].polls_ok,
		       (unsigned long long)r[i].polls_fail, pct,
		       (r[i].poll_ok_ns + r[i].poll_fail_ns) / 1e3,
		       100.0 * r[i].wait_share);
	}
	for (i = 0; i < now->n_iothreads; i++) {
		char id[4 * 40 + 4];

		printf("iothread %s: tid %d, poll-max-ns %lld\n",
		       vs_cut(now->iothreads[i].id, 40, id, sizeof(id)),
		       now->iothreads[i].thread_id, (long long)now->iothreads[i].poll_max_ns);
	}
	fflush(stdout);
}

/*
 * The document of one interval: its envelope here, the rows through
 * lib/output/emit-qmp.c, both by the emitter, so that JSON and Prometheus
 * carry the same fields under the same names.
 */
static int qmp_emit(struct vs_emitter *e, const struct vs_qmp_vcpu_row *r, int n,
		    const struct vs_qmp_sample *now, double secs, const char *sock, int pid)
{
	vs_emit_str(e, "source", "source", "qmp query-stats");
	vs_emit_str(e, "qmp", "socket", sock);
	if (pid > 0)
		vs_emit_id(e, "pid", "QEMU pid", pid);
	else
		vs_emit_str(e, "pid", "QEMU pid", NULL);
	vs_emit_seconds(e, "interval_s", "The window the rates cover.", secs);
	return vs_emit_qmp(e, r, n, now);
}

struct qmp_walk {
	const struct vs_qmp_vcpu_row *rows;
	int n;
	const struct vs_qmp_sample *now;
	double secs;
	const char *sock;
	int pid;
};

static int qmp_walk(struct vs_emitter *e, const void *ctx)
{
	const struct qmp_walk *w = ctx;

	return qmp_emit(e, w->rows, w->n, w->now, w->secs, w->sock, w->pid);
}

/* Prometheus text: rows of totals since each vCPU was created (counters
 * that only grow; rate() makes windows of them). */
static int print_prom(const struct vs_qmp_vcpu_row *r, int n,
		      const struct vs_qmp_sample *now, double secs,
		      const char *sock, int pid)
{
	struct vs_emitter *e = vs_emit_new(VS_EMIT_PROM, stdout, "virtsync_qmp");
	int err;

	if (!e)
		return -ENOMEM;
	qmp_emit(e, r, n, now, secs, sock, pid);
	err = vs_emit_finish(e);
	fflush(stdout);
	if (err)
		vs_err("cannot write the Prometheus text: %s", strerror(-err));
	return err;
}

static void sleep_until(const struct timespec *deadline, volatile sig_atomic_t *stop)
{
	while (!*stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, NULL) == EINTR)
		;
}

int stat_qmp_run(const char *sock, double interval_ns, unsigned int count,
		 bool prometheus, volatile sig_atomic_t *stop, int argc, char **argv)
{
	struct vs_qmp_sample s[2];
	struct timespec deadline;
	struct vs_qmp *q;
	unsigned int n;
	int err, pid, cur = 0, ret = VS_EXIT_FAIL;

	q = vs_qmp_open(sock, QMP_TIMEOUT_MS, &err);
	if (!q) {
		vs_err("--qmp %s: %s%s", sock, vs_qmp_strerror(err),
		       err == -EPROTO ? " (not a QMP socket)" :
		       err == -ENOENT || err == -ECONNREFUSED ?
		       " (is QEMU running with -qmp unix:PATH,server=on?)" : "");
		return VS_EXIT_FAIL;
	}
	pid = vs_qmp_peer_pid(q);
	err = vs_qmp_sample_read(q, &s[cur]);
	if (err) {
		vs_err("--qmp %s: %s%s", sock, vs_qmp_strerror(err), err == -ENOTSUP ?
		       " (query-stats needs QEMU 7.1 or later running with KVM)" : "");
		goto out;
	}
	if (!vs_global.json && !prometheus)
		printf("QEMU pid %d via %s: %d vCPUs\n"
		       "source: QMP query-stats (KVM binary statistics); WAIT%%: halt\n"
		       "time in the interval, counted when a halt ends (can pass 100)\n",
		       pid, sock, s[cur].n_vcpus);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	for (n = 0; !*stop && (!count || n < count); n++) {
		struct vs_qmp_vcpu_row *rows;
		uint64_t add = (uint64_t)interval_ns;
		double secs;
		int nr;

		deadline.tv_sec += add / 1000000000ULL;
		deadline.tv_nsec += add % 1000000000ULL;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		sleep_until(&deadline, stop);
		err = vs_qmp_sample_read(q, &s[!cur]);
		if (err) {
			vs_err("--qmp %s: %s%s", sock, vs_qmp_strerror(err),
			       err == -ECONNRESET || err == -EPIPE ? " (QEMU gone?)" : "");
			goto out;
		}
		secs = (s[!cur].time_ns - s[cur].time_ns) / 1e9;
		nr = prometheus ? vs_qmp_sample_totals(&s[cur], &s[!cur], &rows) :
		     vs_qmp_sample_rows(&s[cur], &s[!cur], &rows);
		vs_qmp_sample_free(&s[cur]);
		cur = !cur;
		if (nr < 0) {
			vs_err("--qmp: %s", strerror(-nr));
			goto out;
		}
		if (prometheus)
			err = print_prom(rows, nr, &s[cur], secs, sock, pid);
		else if (vs_global.json)
			err = vs_json_print_walk(qmp_walk, &(struct qmp_walk){
				rows, nr, &s[cur], secs, sock, pid }, argc, argv);
		else
			print_rows(rows, nr, &s[cur], secs);
		free(rows);
		if (err)
			goto out;
	}
	ret = VS_EXIT_OK;
out:
	vs_qmp_sample_free(&s[cur]);
	vs_qmp_close(q);
	return ret;
}
