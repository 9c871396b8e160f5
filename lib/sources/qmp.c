// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"
#include "sources/qmp.h"

#define QMP_LINE_MAX (4u << 20)	/* query-stats of a big VM is a few 100 KB */

struct vs_qmp {
	int fd;
	int timeout_ms;
	double deadline_ns;	/* of the exchange under way (CLOCK_MONOTONIC) */
	unsigned int version;
	char *buf;		/* bytes received but not yet parsed */
	size_t len, cap;
	char error[256];
	/* The error that left the session out of step (0 while it is in
	 * step): after a deadline or an event flood the reply still owed may
	 * arrive at any moment, and would be taken for the next command's. */
	int broken;
};

static int qmp_fill(struct vs_qmp *q)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
	double left_ns;
	ssize_t n;
	int r;

	if (q->cap - q->len < 4096) {
		size_t cap = q->cap ? q->cap * 2 : 65536;
		char *nb;

		if (cap > QMP_LINE_MAX)
			return -EMSGSIZE;
		nb = realloc(q->buf, cap);
		if (!nb)
			return -ENOMEM;
		q->buf = nb;
		q->cap = cap;
	}
	/* The deadline bounds the whole exchange, not each poll(): a peer that
	 * drips one byte at a time must not keep us waiting forever. */
	left_ns = q->deadline_ns - vs_mono_ns();
	if (left_ns <= 0)
		return -ETIMEDOUT;
	r = poll(&pfd, 1, (int)(left_ns / 1e6) + 1);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return -ETIMEDOUT;
	n = recv(q->fd, q->buf + q->len, q->cap - q->len, MSG_DONTWAIT);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	q->len += n;
	return 0;
}

/* QMP sends one JSON object per line. */
static int qmp_read_msg(struct vs_qmp *q, json_t **msg)
{
	json_error_t jerr;
	char *nl;
	size_t used;
	int err;

	/* memchr(NULL, c, 0) is undefined even though it reads nothing. */
	while (!q->len || !(nl = memchr(q->buf, '\n', q->len))) {
		err = qmp_fill(q);
		if (err)
			return err;
	}
	used = nl - q->buf + 1;
	*msg = json_loadb(q->buf, used, 0, &jerr);
	memmove(q->buf, q->buf + used, q->len - used);
	q->len -= used;
	if (!*msg || !json_is_object(*msg)) {
		json_decref(*msg);
		*msg = NULL;
		return -EPROTO;
	}
	return 0;
}

static void start_exchange(struct vs_qmp *q)
{
	q->deadline_ns = vs_mono_ns() + q->timeout_ms * 1e6;
}

static int qmp_send(struct vs_qmp *q, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT), *line;
	size_t len, off = 0;
	int err = 0;

	if (!text)
		return -ENOMEM;
	/* QEMU needs no newline, but line-based peers (proxies) do */
	len = strlen(text);
	line = realloc(text, len + 2);
	if (!line) {
		free(text);
		return -ENOMEM;
	}
	text = line;
	text[len++] = '\n';
	text[len] = '\0';
	while (off < len) {
		struct pollfd pfd = { .fd = q->fd, .events = POLLOUT };
		double left_ns = q->deadline_ns - vs_mono_ns();
		ssize_t n;

		/* a peer that never reads fills the socket buffer */
		if (left_ns <= 0) {
			err = -ETIMEDOUT;
			break;
		}
		if (poll(&pfd, 1, (int)(left_ns / 1e6) + 1) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		n = send(q->fd, text + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		off += n;
	}
	free(text);
	return err;
}

/* One command and its reply, within the deadline already started. */
static int execute_in_exchange(struct vs_qmp *q, const char *cmd, json_t *args,
			       json_t **ret)
{
	json_t *req = json_object(), *msg = NULL, *r, *e;
	unsigned int events = 0;
	int err;

	if (!req) {
		json_decref(args);
		return -ENOMEM;
	}
	json_object_set_new(req, "execute", json_string(cmd));
	if (args)
		json_object_set_new(req, "arguments", args);
	err = qmp_send(q, req);
	json_decref(req);
	if (err)
		return err;
	/* Asynchronous events may arrive before the reply: skip them. */
	for (;;) {
		err = qmp_read_msg(q, &msg);
		if (err)
			return err;
		if (!json_object_get(msg, "event"))
			break;
		json_decref(msg);
		/* A real QEMU sends a handful; a flood is a broken or hostile
		 * peer, and waiting it out would be unbounded. */
		if (++events > VS_QMP_MAX_EVENTS)
			return -EOVERFLOW;
	}
	r = json_object_get(msg, "return");
	e = json_object_get(msg, "error");
	if (r) {
		if (ret)
			*ret = json_incref(r);
		err = 0;
	} else if (e) {
		snprintf(q->error, sizeof(q->error), "%s: %s",
			 json_string_value(json_object_get(e, "class")) ?: "Error",
			 json_string_value(json_object_get(e, "desc")) ?: "?");
		err = -EREMOTEIO;
	} else {
		err = -EPROTO;
	}
	json_decref(msg);
	return err;
}

/* Only a whole reply, an error reply included, leaves the session in
 * step: anything else (a deadline, a flood, a closed or non-QMP peer, a
 * reply too big) ends it for every later command. */
static int keep_in_step(struct vs_qmp *q, int err)
{
	if (err && err != -EREMOTEIO && !q->broken)
		q->broken = err;
	return err;
}

int vs_qmp_execute(struct vs_qmp *q, const char *cmd, json_t *args, json_t **ret)
{
	if (q->broken) {
		json_decref(args);
		return q->broken;
	}
	start_exchange(q);
	return keep_in_step(q, execute_in_exchange(q, cmd, args, ret));
}

int vs_qmp_broken(const struct vs_qmp *q)
{
	return q ? q->broken : 0;
}

const char *vs_qmp_strerror(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return "no complete QMP reply before the deadline (a stuck or slow peer)";
	case -EOVERFLOW:
		return "more than " VS_QMP_MAX_EVENTS_TEXT " QMP events and no reply";
	case -EPROTO:
		return "not a QMP peer (not a QMP greeting or reply)";
	case -EMSGSIZE:
		return "QMP reply larger than 4 MiB";
	case -ECONNRESET:
		return "QMP peer closed the connection";
	case -EREMOTEIO:
		return "QEMU answered with a QMP error";
	}
	return strerror(-err);
}

const char *vs_qmp_last_error(const struct vs_qmp *q)
{
	return q->error;
}

unsigned int vs_qmp_qemu_version(const struct vs_qmp *q)
{
	return q->version;
}

struct vs_qmp *vs_qmp_open(const char *socket_path, int timeout_ms, int *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vs_qmp *q;
	json_t *greet = NULL, *v;
	int e;

	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		*err = -ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, socket_path);
	q = calloc(1, sizeof(*q));
	if (!q) {
		*err = -ENOMEM;
		return NULL;
	}
	q->timeout_ms = timeout_ms;
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0) {
		e = -errno;
		goto err_free;
	}
	start_exchange(q);
	/* connect() to a listener that never accepts waits for room in its
	 * backlog: bound that wait by the same deadline. */
	{
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

		setsockopt(q->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		e = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		goto err_close;
	}
	e = qmp_read_msg(q, &greet);
	if (e)
		goto err_close;
	v = json_object_get(json_object_get(greet, "QMP"), "version");
	if (!v) {
		e = -EPROTO;
		goto err_greet;
	}
	v = json_object_get(v, "qemu");
	q->version = json_integer_value(json_object_get(v, "major")) * 10000 +
		     json_integer_value(json_object_get(v, "minor")) * 100 +
		     json_integer_value(json_object_get(v, "micro"));
	json_decref(greet);
	e = execute_in_exchange(q, "qmp_capabilities", NULL, NULL);
	if (e)
		goto err_close;
	return q;

err_greet:
	json_decref(greet);
err_close:
	close(q->fd);
err_free:
	free(q->buf);
	free(q);
	*err = e;
	return NULL;
}

void vs_qmp_close(struct vs_qmp *q)
{
	if (!q)
		return;
	close(q->fd);
	free(q->buf);
	free(q);
}

static void copy_str(char *dst, size_t len, json_t *s)
{
	snprintf(dst, len, "%s", json_string_value(s) ?: "");
}

/* Run a query whose reply is an array, and allocate one zeroed element of
 * `size` bytes per entry for the caller to fill. Count or -errno. */
static int query_array(struct vs_qmp *q, const char *cmd, size_t size,
		       json_t **ret, void **out)
{
	int err = vs_qmp_execute(q, cmd, NULL, ret);

	if (err)
		return err;
	if (!json_is_array(*ret)) {
		json_decref(*ret);
		return -EPROTO;
	}
	*out = calloc(json_array_size(*ret) + 1, size);
	if (!*out) {
		json_decref(*ret);
		return -ENOMEM;
	}
	return (int)json_array_size(*ret);
}

int vs_qmp_vcpus(struct vs_qmp *q, struct vs_qmp_vcpu **out)
{
	json_t *ret, *cpu;
	struct vs_qmp_vcpu *v;
	size_t i;
	int n = query_array(q, "query-cpus-fast", sizeof(*v), &ret, (void **)&v);

	if (n < 0)
		return n;
	json_array_foreach(ret, i, cpu) {
		v[i].cpu_index = json_integer_value(json_object_get(cpu, "cpu-index"));
		v[i].thread_id = json_integer_value(json_object_get(cpu, "thread-id"));
		copy_str(v[i].qom_path, sizeof(v[i].qom_path),
			 json_object_get(cpu, "qom-path"));
	}
	json_decref(ret);
	*out = v;
	return n;
}

int vs_qmp_iothreads(struct vs_qmp *q, struct vs_qmp_iothread **out)
{
	json_t *ret, *it;
	struct vs_qmp_iothread *v;
	size_t i;
	int n = query_array(q, "query-iothreads", sizeof(*v), &ret, (void **)&v);

	if (n < 0)
		return n;
	json_array_foreach(ret, i, it) {
		copy_str(v[i].id, sizeof(v[i].id), json_object_get(it, "id"));
		v[i].thread_id = json_integer_value(json_object_get(it, "thread-id"));
		v[i].poll_max_ns = json_integer_value(json_object_get(it, "poll-max-ns"));
		v[i].poll_grow = json_integer_value(json_object_get(it, "poll-grow"));
		v[i].poll_shrink = json_integer_value(json_object_get(it, "poll-shrink"));
	}
	json_decref(ret);
	*out = v;
	return n;
}

static const struct {
	const char *name;
	size_t off;
} vcpu_counters[] = {
#define C(f) { #f, offsetof(struct vs_qmp_vcpu_stats, f) }
	C(exits), C(halt_exits), C(io_exits), C(mmio_exits), C(irq_injections),
	C(halt_successful_poll), C(halt_attempted_poll), C(halt_poll_invalid),
	C(halt_wakeup), C(halt_poll_success_ns), C(halt_poll_fail_ns),
	C(halt_wait_ns),
#undef C
};

static const struct {
	const char *name;
	size_t off;
} vcpu_hists[] = {
	{ "halt_poll_success_hist", offsetof(struct vs_qmp_vcpu_stats, halt_poll_success_hist) },
	{ "halt_poll_fail_hist", offsetof(struct vs_qmp_vcpu_stats, halt_poll_fail_hist) },
	{ "halt_wait_hist", offsetof(struct vs_qmp_vcpu_stats, halt_wait_hist) },
};

static void parse_vcpu_stat(struct vs_qmp_vcpu_stats *s, json_t *stat)
{
	const char *name = json_string_value(json_object_get(stat, "name"));
	json_t *val = json_object_get(stat, "value"), *b;
	size_t i, j;

	if (!name)
		return;
	for (i = 0; i < sizeof(vcpu_counters) / sizeof(vcpu_counters[0]); i++)
		if (!strcmp(name, vcpu_counters[i].name) && json_is_integer(val)) {
			*(uint64_t *)((char *)s + vcpu_counters[i].off) =
				json_integer_value(val);
			return;
		}
	for (i = 0; i < sizeof(vcpu_hists) / sizeof(vcpu_hists[0]); i++)
		if (!strcmp(name, vcpu_hists[i].name) && json_is_array(val)) {
			uint64_t *h = (uint64_t *)((char *)s + vcpu_hists[i].off);

			json_array_foreach(val, j, b)
				if (j < VS_QMP_HIST_BUCKETS)
					h[j] = json_integer_value(b);
			return;
		}
}

int vs_qmp_vcpu_stats(struct vs_qmp *q, struct vs_qmp_vcpu_stats **out)
{
	json_t *args = json_pack("{s:s}", "target", "vcpu"), *ret, *ent, *stat;
	struct vs_qmp_vcpu_stats *v;
	size_t i, j, n = 0;
	int err;

	/* query-stats appeared in QEMU 7.1. */
	if (q->version && q->version < 70100) {
		json_decref(args);
		return -ENOTSUP;
	}
	err = vs_qmp_execute(q, "query-stats", args, &ret);
	if (err == -EREMOTEIO)
		return -ENOTSUP;
	if (err)
		return err;
	if (!json_is_array(ret)) {
		json_decref(ret);
		return -EPROTO;
	}
	v = calloc(json_array_size(ret) + 1, sizeof(*v));
	if (!v) {
		json_decref(ret);
		return -ENOMEM;
	}
	json_array_foreach(ret, i, ent) {
		const char *prov = json_string_value(json_object_get(ent, "provider"));

		if (!prov || strcmp(prov, "kvm"))
			continue;
		copy_str(v[n].qom_path, sizeof(v[n].qom_path),
			 json_object_get(ent, "qom-path"));
		json_array_foreach(json_object_get(ent, "stats"), j, stat)
			parse_vcpu_stat(&v[n], stat);
		n++;
	}
	json_decref(ret);
	if (!n) {
		free(v);
		return -ENOTSUP;
	}
	*out = v;
	return (int)n;
}

static int iothread_path(char *buf, size_t len, const char *id)
{
	/* A QOM id never holds '/': refuse rather than address another object. */
	if (!*id || strchr(id, '/') || snprintf(buf, len, "/objects/%s", id) >= (int)len)
		return -EINVAL;
	return 0;
}

static int qom_err(struct vs_qmp *q, int err)
{
	if (err == -EREMOTEIO && strstr(q->error, "DeviceNotFound"))
		return -ENOENT;
	return err;
}

int vs_qmp_iothread_get_poll_max_ns(struct vs_qmp *q, const char *id, int64_t *ns)
{
	char path[128];
	json_t *ret;
	int err = iothread_path(path, sizeof(path), id);

	if (err)
		return err;
	err = vs_qmp_execute(q, "qom-get", json_pack("{s:s,s:s}", "path", path,
						    "property", "poll-max-ns"), &ret);
	if (err)
		return qom_err(q, err);
	if (!json_is_integer(ret)) {
		json_decref(ret);
		return -EPROTO;
	}
	*ns = json_integer_value(ret);
	json_decref(ret);
	return 0;
}

int vs_qmp_iothread_set_poll_max_ns(struct vs_qmp *q, const char *id, int64_t ns)
{
	char path[128];
	int err = iothread_path(path, sizeof(path), id);

	if (err)
		return err;
	if (ns < 0)
		return -EINVAL;
	err = vs_qmp_execute(q, "qom-set", json_pack("{s:s,s:s,s:I}", "path", path,
						    "property", "poll-max-ns",
						    "value", (json_int_t)ns), NULL);
	return qom_err(q, err);
}

int vs_qmp_peer_pid(const struct vs_qmp *q)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(q->fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return -errno;
	return cr.pid > 0 ? cr.pid : -ESRCH;
}
