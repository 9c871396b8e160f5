// SPDX-License-Identifier: GPL-2.0-only
/* The /metrics server: one thread, one poll() loop, bounded everything. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "output/httpd.h"

#define DEFAULT_CONNS 16
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_MAX_REQUEST 8192
#define MAX_CONNS 1024

enum conn_state { CONN_FREE, CONN_READING, CONN_WRITING };

struct conn {
	enum conn_state state;
	int fd;
	uint64_t opened_ms, deadline_ms;
	char *in;		/* request head so far */
	size_t in_len;
	char *out;		/* response: head and body */
	size_t out_len, out_off;
};

struct vs_httpd {
	struct vs_httpd_opts o;
	char path[256], content_type[128];
	int listen_fd;
	int wake[2];		/* vs_httpd_stop() writes a byte */
	int port;
	pthread_t thread;
	pthread_mutex_t lock;	/* stats */
	struct vs_httpd_stats st;
	struct conn *conns;
	struct pollfd *pfd;
	unsigned int *pfd_conn;	/* pfd[i] serves conns[pfd_conn[i]] */
	uint64_t accept_after_ms;	/* out of fds: pause accepting */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int vs_httpd_parse_listen(const char *text, char *host, size_t hostlen,
			  unsigned int *port)
{
	const char *colon, *h = text;
	size_t n;
	char *end;
	unsigned long v;

	if (!text || !*text)
		return -EINVAL;
	if (*text == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = text + 1;
		n = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || strchr(text, ':') != colon)
			return -EINVAL;	/* bare IPv6 needs brackets */
		n = (size_t)(colon - text);
	}
	if (!n || n >= hostlen || !colon[1])
		return -EINVAL;
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (errno || *end || v > 65535 || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (unsigned int)v;
	return 0;
}

static void stat_add(struct vs_httpd *h, uint64_t *field)
{
	pthread_mutex_lock(&h->lock);
	(*field)++;
	pthread_mutex_unlock(&h->lock);
}

static void conn_close(struct vs_httpd *h, struct conn *c)
{
	if (c->state == CONN_FREE)
		return;
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	pthread_mutex_lock(&h->lock);
	h->st.open--;
	pthread_mutex_unlock(&h->lock);
}

static int respond(struct conn *c, const char *status, const char *ctype,
		   const char *extra, char *body, size_t body_len, bool head_only)
{
	char hdr[512];
	int n;

	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "%sConnection: close\r\n\r\n", status, ctype, body_len,
		     extra ? extra : "");
	if (n < 0 || n >= (int)sizeof(hdr))
		return -EOVERFLOW;
	c->out = malloc((size_t)n + (head_only ? 0 : body_len));
	if (!c->out)
		return -ENOMEM;
	memcpy(c->out, hdr, (size_t)n);
	if (!head_only && body_len)
		memcpy(c->out + n, body, body_len);
	c->out_len = (size_t)n + (head_only ? 0 : body_len);
	c->out_off = 0;
	c->state = CONN_WRITING;
	return 0;
}

static int respond_text(struct conn *c, const char *status, const char *extra,
			const char *text, bool head_only)
{
	return respond(c, status, "text/plain; charset=utf-8", extra, (char *)text,
		       strlen(text), head_only);
}

/* The request head is complete: decide the response. */
static int handle_request(struct vs_httpd *h, struct conn *c)
{
	char method[16], target[512], version[16], *line_end, *q;
	size_t line_len;
	bool head;

	line_end = memchr(c->in, '\n', c->in_len);
	line_len = line_end ? (size_t)(line_end - c->in) : c->in_len;
	if (line_len && c->in[line_len - 1] == '\r')
		line_len--;
	if (line_len >= sizeof(target) || memchr(c->in, '\0', line_len))
		goto bad;
	c->in[line_len] = '\0';
	/* METHOD SP TARGET SP HTTP/1.x, nothing else (RFC 9112 3). */
	if (sscanf(c->in, "%15[A-Z] %511[^ ] %15s", method, target, version) != 3)
		goto bad;
	if (strncmp(version, "HTTP/1.", 7) || !version[7] || version[8] ||
	    version[7] < '0' || version[7] > '9' ||
	    strlen(method) + strlen(target) + strlen(version) + 2 != line_len)
		goto bad;
	head = !strcmp(method, "HEAD");
	if (!head && strcmp(method, "GET")) {
		stat_add(h, &h->st.bad_method);
		return respond_text(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n",
				    "only GET and HEAD\n", false);
	}
	q = strchr(target, '?');
	if (q)
		*q = '\0';
	if (strcmp(target, h->path)) {
		stat_add(h, &h->st.not_found);
		return respond_text(c, "404 Not Found", NULL, "not found: try /metrics\n",
				    head);
	}
	{
		char *body = NULL;
		size_t len = 0;
		int err = h->o.render(h->o.ctx, &body, &len);

		if (err) {
			stat_add(h, &h->st.failed);
			return respond_text(c, "500 Internal Server Error", NULL,
					    "cannot render the metrics\n", head);
		}
		err = respond(c, "200 OK", h->content_type, NULL, body, len, head);
		free(body);
		if (!err)
			stat_add(h, &h->st.ok);
		return err;
	}
bad:
	stat_add(h, &h->st.bad_request);
	return respond_text(c, "400 Bad Request", NULL, "bad request\n", false);
}

/* Read what is there; a complete head moves the connection to writing. */
static void conn_write(struct vs_httpd *h, struct conn *c);

static void conn_read(struct vs_httpd *h, struct conn *c)
{
	size_t cap = h->o.max_request;

	for (;;) {
		ssize_t n;
		char *end;

		if (c->in_len >= cap) {
			stat_add(h, &h->st.too_large);
			if (respond_text(c, "431 Request Header Fields Too Large", NULL,
					 "request too large\n", false))
				conn_close(h, c);
			else
				conn_write(h, c);
			return;
		}
		n = recv(c->fd, c->in + c->in_len, cap - c->in_len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {		/* closed or reset before a request */
			conn_close(h, c);
			return;
		}
		c->in_len += (size_t)n;
		/* The head ends at an empty line; bare LF ends are accepted. */
		c->in[c->in_len] = '\0';
		end = strstr(c->in, "\r\n\r\n");
		if (!end)
			end = strstr(c->in, "\n\n");
		if (end || memchr(c->in, '\0', c->in_len)) {
			if (handle_request(h, c))
				conn_close(h, c);
			else
				conn_write(h, c);	/* most responses fit at once */
			return;
		}
	}
}

static void conn_write(struct vs_httpd *h, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(h, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	/* Everything is queued: the close sends it, with a FIN after. */
	shutdown(c->fd, SHUT_WR);
	conn_close(h, c);
}

static struct conn *conn_slot(struct vs_httpd *h)
{
	struct conn *oldest = NULL;
	unsigned int i;

	for (i = 0; i < h->o.max_conns; i++) {
		struct conn *c = &h->conns[i];

		if (c->state == CONN_FREE)
			return c;
		if (!oldest || c->opened_ms < oldest->opened_ms)
			oldest = c;
	}
	conn_close(h, oldest);
	stat_add(h, &h->st.evicted);
	return oldest;
}

static void do_accept(struct vs_httpd *h)
{
	for (;;) {
		int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			/* Out of descriptors: the listener stays readable, so
			 * pause instead of spinning on it. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				h->accept_after_ms = now_ms() + 100;
			return;	/* EAGAIN, or a connection reset before accept */
		}
		c = conn_slot(h);
		c->in = malloc(h->o.max_request + 1);
		if (!c->in) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = CONN_READING;
		c->opened_ms = now_ms();
		c->deadline_ms = c->opened_ms + h->o.timeout_ms;
		pthread_mutex_lock(&h->lock);
		h->st.accepted++;
		h->st.open++;
		pthread_mutex_unlock(&h->lock);
	}
}

static void *serve(void *arg)
{
	struct vs_httpd *h = arg;
	unsigned int i, n;

	for (;;) {
		uint64_t now = now_ms(), next = UINT64_MAX;
		int timeout;

		h->pfd[0] = (struct pollfd){ .fd = h->wake[0], .events = POLLIN };
		h->pfd[1] = (struct pollfd){ .fd = h->listen_fd, .events = POLLIN };
		if (now < h->accept_after_ms) {
			h->pfd[1].fd = -1;	/* poll() skips it */
			next = h->accept_after_ms;
		}
		n = 2;
		for (i = 0; i < h->o.max_conns; i++) {
			struct conn *c = &h->conns[i];

			if (c->state == CONN_FREE)
				continue;
			if (now >= c->deadline_ms) {
				conn_close(h, c);
				stat_add(h, &h->st.timed_out);
				continue;
			}
			if (c->deadline_ms < next)
				next = c->deadline_ms;
			h->pfd_conn[n] = i;
			h->pfd[n++] = (struct pollfd){
				.fd = c->fd,
				.events = c->state == CONN_READING ? POLLIN : POLLOUT,
			};
		}
		timeout = next == UINT64_MAX ? -1 : (int)(next - now + 1);
		if (poll(h->pfd, n, timeout) < 0 && errno != EINTR)
			break;
		if (h->pfd[0].revents)
			break;
		/* Serve the open connections first: an accept may evict one. */
		for (i = 2; i < n; i++) {
			struct conn *c = &h->conns[h->pfd_conn[i]];

			if (!h->pfd[i].revents || c->state == CONN_FREE)
				continue;
			if (c->state == CONN_READING)
				conn_read(h, c);
			else
				conn_write(h, c);
		}
		if (h->pfd[1].fd >= 0 && (h->pfd[1].revents & POLLIN))
			do_accept(h);
	}
	return NULL;
}

static int bind_listen(struct vs_httpd *h, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	char host[64];
	unsigned int port;
	int fd, one = 1, err;

	memset(&ss, 0, sizeof(ss));
	if (vs_httpd_parse_listen(h->o.listen, host, sizeof(host), &port)) {
		snprintf(why, whylen, "'%s' is not ADDRESS:PORT (127.0.0.1:9477, [::1]:9477)",
			 h->o.listen ? h->o.listen : "");
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		slen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		slen = sizeof(struct sockaddr_in6);
	} else {
		snprintf(why, whylen, "'%s' is not a numeric IPv4 or IPv6 address", host);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "socket: %s", strerror(-err));
		return err;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, slen) || listen(fd, 64)) {
		err = -errno;
		snprintf(why, whylen, "cannot listen on %s: %s", h->o.listen, strerror(-err));
		close(fd);
		return err;
	}
	slen = sizeof(ss);
	if (!getsockname(fd, (struct sockaddr *)&ss, &slen))
		h->port = ntohs(ss.ss_family == AF_INET ?
				((struct sockaddr_in *)&ss)->sin_port :
				((struct sockaddr_in6 *)&ss)->sin6_port);
	h->listen_fd = fd;
	return 0;
}

int vs_httpd_start(const struct vs_httpd_opts *opts, struct vs_httpd **out,
		   char *why, size_t whylen)
{
	struct vs_httpd *h;
	unsigned int i;
	int err;

	*out = NULL;
	if (!opts->render || !opts->path || opts->path[0] != '/' ||
	    strlen(opts->path) >= sizeof(h->path) || !opts->content_type ||
	    strlen(opts->content_type) >= sizeof(h->content_type) ||
	    opts->max_conns > MAX_CONNS) {
		snprintf(why, whylen, "bad server options");
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->o = *opts;
	if (!h->o.max_conns)
		h->o.max_conns = DEFAULT_CONNS;
	if (!h->o.timeout_ms)
		h->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!h->o.max_request)
		h->o.max_request = DEFAULT_MAX_REQUEST;
	snprintf(h->path, sizeof(h->path), "%s", opts->path);
	snprintf(h->content_type, sizeof(h->content_type), "%s", opts->content_type);
	h->listen_fd = h->wake[0] = h->wake[1] = -1;
	pthread_mutex_init(&h->lock, NULL);
	h->conns = calloc(h->o.max_conns, sizeof(*h->conns));
	h->pfd = calloc(h->o.max_conns + 2, sizeof(*h->pfd));
	h->pfd_conn = calloc(h->o.max_conns + 2, sizeof(*h->pfd_conn));
	if (!h->conns || !h->pfd || !h->pfd_conn) {
		err = -ENOMEM;
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	for (i = 0; i < h->o.max_conns; i++)
		h->conns[i].fd = -1;
	if (pipe2(h->wake, O_CLOEXEC | O_NONBLOCK)) {
		err = -errno;
		snprintf(why, whylen, "pipe: %s", strerror(-err));
		goto fail;
	}
	err = bind_listen(h, why, whylen);
	if (err)
		goto fail;
	err = -pthread_create(&h->thread, NULL, serve, h);
	if (err) {
		snprintf(why, whylen, "cannot start the server thread: %s", strerror(-err));
		goto fail;
	}
	*out = h;
	return 0;
fail:
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->wake[0] >= 0) {
		close(h->wake[0]);
		close(h->wake[1]);
	}
	pthread_mutex_destroy(&h->lock);
	free(h->conns);
	free(h->pfd);
	free(h->pfd_conn);
	free(h);
	return err;
}

int vs_httpd_port(const struct vs_httpd *h)
{
	return h->port;
}

void vs_httpd_get_stats(struct vs_httpd *h, struct vs_httpd_stats *st)
{
	pthread_mutex_lock(&h->lock);
	*st = h->st;
	pthread_mutex_unlock(&h->lock);
}

void vs_httpd_stop(struct vs_httpd *h)
{
	unsigned int i;
	ssize_t n;

	if (!h)
		return;
	n = write(h->wake[1], "x", 1);
	(void)n;	/* a full pipe already holds a wake-up */
	pthread_join(h->thread, NULL);
	for (i = 0; i < h->o.max_conns; i++)
		conn_close(h, &h->conns[i]);
	close(h->listen_fd);
	close(h->wake[0]);
	close(h->wake[1]);
	pthread_mutex_destroy(&h->lock);
	free(h->conns);
	free(h->pfd);
	free(h->pfd_conn);
	free(h);
}
