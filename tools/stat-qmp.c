// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtsync stat --qmp: rates of one QEMU's vCPUs from QMP query-stats (the
 * KVM binary statistics QEMU reads for us): exits, halt polls that
 * succeeded or failed, the time spent polling and waiting, each vCPU with
 * its host thread id from query-cpus-fast. No BPF, no root needed beyond
 * access to the socket.
 */
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "core/units.h"
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

static int print_json(const struct vs_qmp_vcpu_row *r, int n,
		      const struct vs_qmp_sample *now, double secs,
		      const char *sock, int pid, int argc, char **argv)
{
	json_t *doc = json_object(), *arr = json_array(), *io = json_array();
	int i;

	vs_json_add_meta(doc, argc, argv);
	json_object_set_new(doc, "source", json_string("qmp query-stats"));
	json_object_set_new(doc, "qmp", json_string(sock));
	json_object_set_new(doc, "pid", pid > 0 ? json_integer(pid) : json_null());
	json_object_set_new(doc, "interval_s", json_real(secs));
	for (i = 0; i < n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "cpu_index", json_integer(r[i].cpu_index));
		json_object_set_new(o, "thread_id", json_integer(r[i].thread_id));
		json_object_set_new(o, "exits", json_integer(r[i].exits));
		json_object_set_new(o, "exits_per_s", vs_json_num(r[i].exits_per_s));
		json_object_set_new(o, "halt_exits", json_integer(r[i].halt_exits));
		json_object_set_new(o, "io_exits", json_integer(r[i].io_exits));
		json_object_set_new(o, "halt_polls_succeeded", json_integer(r[i].polls_ok));
		json_object_set_new(o, "halt_polls_failed", json_integer(r[i].polls_fail));
		json_object_set_new(o, "halt_poll_success_pct", vs_json_num(r[i].poll_ok_pct));
		json_object_set_new(o, "halt_poll_success_ns", json_integer(r[i].poll_ok_ns));
		json_object_set_new(o, "halt_poll_fail_ns", json_integer(r[i].poll_fail_ns));
		json_object_set_new(o, "halt_wait_ns", json_integer(r[i].wait_ns));
		json_object_set_new(o, "halt_wait_share", vs_json_num(r[i].wait_share));
		json_object_set_new(o, "halt_wait_p50_ns_at_most",
				    vs_json_num(r[i].wait_hist_fits ?
						vs_qmp_hist_quantile(r[i].wait_hist, 0.5) : NAN));
		json_object_set_new(o, "halt_wait_hist_fits_total", json_boolean(r[i].wait_hist_fits));
		json_object_set_new(o, "halt_wait_hist", vs_qmp_hist_json(r[i].wait_hist));
		json_object_set_new(o, "halt_poll_success_hist", vs_qmp_hist_json(r[i].poll_ok_hist));
		json_object_set_new(o, "halt_poll_fail_hist", vs_qmp_hist_json(r[i].poll_fail_hist));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "vcpus", arr);
	for (i = 0; i < now->n_iothreads; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "id", json_string(now->iothreads[i].id));
		json_object_set_new(o, "thread_id", json_integer(now->iothreads[i].thread_id));
		json_object_set_new(o, "poll_max_ns", json_integer(now->iothreads[i].poll_max_ns));
		json_array_append_new(io, o);
	}
	json_object_set_new(doc, "iothreads", io);
	return vs_json_print(doc);
}

/*
 * One KVM log2 histogram as a Prometheus histogram: bucket i of KVM holds
 * [2^(i-1), 2^i) ns, so le="2^i ns" counts buckets 0..i; KVM's last bucket
 * also holds everything longer, so it only goes into +Inf.
 */
static void prom_hist(FILE *f, const char *name, int pid, const struct vs_qmp_vcpu *v,
		      const char *label, const uint64_t *hist, uint64_t sum_ns)
{
	uint64_t cum = 0;
	int i;

	for (i = 0; i < VS_QMP_HIST_BUCKETS; i++) {
		cum += hist[i];
		if (i == VS_QMP_HIST_BUCKETS - 1)
			break;
		fprintf(f, "%s_bucket{pid=\"%d\",vcpu=\"%d\",tid=\"%d\"%s%s,le=\"%.9g\"} %llu\n",
			name, pid, v->cpu_index, v->thread_id, label ? "," : "", label ? label : "",
			ldexp(1e-9, i), (unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{pid=\"%d\",vcpu=\"%d\",tid=\"%d\"%s%s,le=\"+Inf\"} %llu\n",
		name, pid, v->cpu_index, v->thread_id, label ? "," : "", label ? label : "",
		(unsigned long long)cum);
	fprintf(f, "%s_sum{pid=\"%d\",vcpu=\"%d\",tid=\"%d\"%s%s} %llu.%09llu\n", name, pid,
		v->cpu_index, v->thread_id, label ? "," : "", label ? label : "",
		(unsigned long long)(sum_ns / 1000000000), (unsigned long long)(sum_ns % 1000000000));
	fprintf(f, "%s_count{pid=\"%d\",vcpu=\"%d\",tid=\"%d\"%s%s} %llu\n", name, pid,
		v->cpu_index, v->thread_id, label ? "," : "", label ? label : "",
		(unsigned long long)cum);
}

/* KVM's histograms, totals since each vCPU was created. */
static void prom_hists(FILE *f, const struct vs_qmp_sample *s, int pid)
{
	int pass, i, j;

	for (pass = 0; pass < 2; pass++) {
		const char *name = pass ? "virtsync_qmp_halt_poll_duration_seconds" :
				   "virtsync_qmp_halt_wait_duration_seconds";

		fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name,
			pass ? "Length of each halt poll, by result (KVM's log2 histogram)." :
			"Length of each halt wait after polling (KVM's log2 histogram).",
			name);
		for (i = 0; i < s->n_vcpus; i++)
			for (j = 0; j < s->n_stats; j++) {
				const struct vs_qmp_vcpu_stats *st = &s->stats[j];

				if (strcmp(st->qom_path, s->vcpus[i].qom_path))
					continue;
				if (!pass) {
					prom_hist(f, name, pid, &s->vcpus[i], NULL,
						  st->halt_wait_hist, st->halt_wait_ns);
					continue;
				}
				prom_hist(f, name, pid, &s->vcpus[i], "result=\"succeeded\"",
					  st->halt_poll_success_hist, st->halt_poll_success_ns);
				prom_hist(f, name, pid, &s->vcpus[i], "result=\"failed\"",
					  st->halt_poll_fail_hist, st->halt_poll_fail_ns);
			}
	}
}

/* Prometheus text: KVM's counters as they are (totals since the vCPU was
 * created), labelled with the QEMU pid, vCPU index and host thread id. */
static void prom_vcpus(FILE *f, const struct vs_qmp_sample *s, int pid)
{
	static const struct {
		const char *name, *type, *help, *label;
		size_t off;
		double scale;
	} fam[] = {
		{ "virtsync_qmp_exits_total", "counter", "VM exits (KVM binary statistics via QMP).",
		  NULL, offsetof(struct vs_qmp_vcpu_stats, exits), 1 },
		{ "virtsync_qmp_halt_polls_total", "counter",
		  "Halt polls that ended with a wake-up (succeeded) or not (attempted).",
		  "result=\"succeeded\"", offsetof(struct vs_qmp_vcpu_stats, halt_successful_poll), 1 },
		{ NULL, NULL, NULL, "result=\"attempted\"",
		  offsetof(struct vs_qmp_vcpu_stats, halt_attempted_poll), 1 },
		{ "virtsync_qmp_halt_poll_seconds_total", "counter",
		  "Time spent in halt polls that succeeded or failed.",
		  "result=\"succeeded\"", offsetof(struct vs_qmp_vcpu_stats, halt_poll_success_ns), 1e-9 },
		{ NULL, NULL, NULL, "result=\"failed\"",
		  offsetof(struct vs_qmp_vcpu_stats, halt_poll_fail_ns), 1e-9 },
		{ "virtsync_qmp_halt_wait_seconds_total", "counter",
		  "Time halted vCPUs waited after polling.",
		  NULL, offsetof(struct vs_qmp_vcpu_stats, halt_wait_ns), 1e-9 },
	};
	size_t k;
	int i, j;

	for (k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
		if (fam[k].name)
			fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fam[k].name, fam[k].help,
				fam[k].name, fam[k].type);
		for (i = 0; i < s->n_vcpus; i++)
			for (j = 0; j < s->n_stats; j++) {
				const struct vs_qmp_vcpu_stats *st = &s->stats[j];
				uint64_t v;

				if (strcmp(st->qom_path, s->vcpus[i].qom_path))
					continue;
				memcpy(&v, (const char *)st + fam[k].off, sizeof(v));
				fprintf(f, "%s{pid=\"%d\",vcpu=\"%d\",tid=\"%d\"%s%s} ",
					fam[k].name ? fam[k].name : fam[k - 1].name, pid,
					s->vcpus[i].cpu_index, s->vcpus[i].thread_id,
					fam[k].label ? "," : "", fam[k].label ? fam[k].label : "");
				/* counts exactly; nanoseconds as seconds with all digits */
				if (fam[k].scale == 1)
					fprintf(f, "%llu\n", (unsigned long long)v);
				else
					fprintf(f, "%llu.%09llu\n", (unsigned long long)(v / 1000000000),
						(unsigned long long)(v % 1000000000));
			}
	}
	prom_hists(f, s, pid);
	fprintf(f, "# HELP virtsync_qmp_iothread_poll_max_ns Adaptive polling window of the iothread.\n"
		"# TYPE virtsync_qmp_iothread_poll_max_ns gauge\n");
	for (i = 0; i < s->n_iothreads; i++) {
		/* ids are QEMU object ids: [A-Za-z0-9_.-], nothing to escape */
		fprintf(f, "virtsync_qmp_iothread_poll_max_ns{pid=\"%d\",iothread=\"%s\",tid=\"%d\"} %lld\n",
			pid, s->iothreads[i].id, s->iothreads[i].thread_id,
			(long long)s->iothreads[i].poll_max_ns);
	}
	fflush(f);
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
		nr = vs_qmp_sample_rows(&s[cur], &s[!cur], &rows);
		vs_qmp_sample_free(&s[cur]);
		cur = !cur;
		if (nr < 0) {
			vs_err("--qmp: %s", strerror(-nr));
			goto out;
		}
		if (prometheus)
			prom_vcpus(stdout, &s[cur], pid);
		else if (vs_global.json)
			print_json(rows, nr, &s[cur], secs, sock, pid, argc, argv);
		else
			print_rows(rows, nr, &s[cur], secs);
		free(rows);
	}
	ret = VS_EXIT_OK;
out:
	vs_qmp_sample_free(&s[cur]);
	vs_qmp_close(q);
	return ret;
}
