// SPDX-License-Identifier: GPL-2.0-only
/*
 * The /metrics server on a real loopback socket: status codes, headers,
 * HEAD, and the limits (eviction of idle connections, the deadline of a
 * client that never reads, oversized and garbage requests), each with a
 * bounded number of connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "output/httpd.h"

static atomic_uint renders;
static volatile size_t body_size = 5;

static int render(void *ctx, char **body, size_t *len)
{
	size_t n = body_size;	/* read before the count the test waits for */

	(void)ctx;
	atomic_fetch_add(&renders, 1);
	*body = malloc(n);
	if (!*body)
		return -ENOMEM;
	memset(*body, 'x', n);
	if (n >= 5)
		memcpy(*body, "m 1\n", 4);
	*len = n;
	return 0;
}

static struct vs_httpd *start(unsigned int conns, unsigned int timeout_ms)
{
	const struct vs_httpd_opts o = {
		.listen = "127.0.0.1:0", .path = "/metrics",
		.content_type = "text/plain; version=0.0.4; charset=utf-8",
		.max_conns = conns, .timeout_ms = timeout_ms, .render = render,
	};
	struct vs_httpd *h = NULL;
	char why[160];
	int err = vs_httpd_start(&o, &h, why, sizeof(why));

	if (err)
		fail_msg("start: %s", why);
	return h;
}

static int dial(struct vs_httpd *h)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_port = htons((uint16_t)vs_httpd_port(h));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		fail_msg("connect: %s", strerror(errno));
	return fd;
}

/* Send req, read the whole response (the server closes), at most 2 s. */
static char *exchange(struct vs_httpd *h, const char *req, size_t reqlen)
{
	static char buf[1 << 20];
	size_t len = 0;
	int fd = dial(h);
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	if (send(fd, req, reqlen, MSG_NOSIGNAL) != (ssize_t)reqlen)
		fail_msg("send: %s", strerror(errno));
	while (len < sizeof(buf) - 1 && poll(&pf, 1, 2000) == 1) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

#define GET(h, s) exchange(h, s, strlen(s))

static void test_codes(void **state)
{
	struct vs_httpd *h = start(0, 0);
	struct vs_httpd_stats st;
	char *r;

	r = GET(h, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
	__T("200", !strncmp(r, "HTTP/1.1 200 OK\r\n", 17));
	__T("content type", strstr(r, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	__T("length", strstr(r, "\r\nContent-Length: 5\r\n"));
	__T("close", strstr(r, "\r\nConnection: close\r\n"));
	__T("body", strstr(r, "\r\n\r\nm 1\n"));
	r = GET(h, "GET /metrics?x=1 HTTP/1.0\n\n");
	__T("query ignored, bare LF, 1.0", !strncmp(r, "HTTP/1.1 200 OK\r\n", 17));
	r = GET(h, "HEAD /metrics HTTP/1.1\r\n\r\n");
	__T("HEAD 200", !strncmp(r, "HTTP/1.1 200 OK\r\n", 17));
	__T("HEAD: no body", strlen(strstr(r, "\r\n\r\n")) == 4);
	r = GET(h, "GET / HTTP/1.1\r\n\r\n");
	__T("404 /", !strncmp(r, "HTTP/1.1 404 ", 13));
	r = GET(h, "GET /metrics/ HTTP/1.1\r\n\r\n");
	__T("404 /metrics/", !strncmp(r, "HTTP/1.1 404 ", 13));
	r = GET(h, "GET /../metrics HTTP/1.1\r\n\r\n");
	__T("404 dot dot", !strncmp(r, "HTTP/1.1 404 ", 13));
	r = GET(h, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	__T("405", !strncmp(r, "HTTP/1.1 405 ", 13) && strstr(r, "\r\nAllow: GET, HEAD\r\n"));
	r = GET(h, "GET /metrics HTTP/2.0\r\n\r\n");
	__T("400 version", !strncmp(r, "HTTP/1.1 400 ", 13));
	r = GET(h, "GET  /metrics HTTP/1.1\r\n\r\n");
	__T("400 two spaces", !strncmp(r, "HTTP/1.1 400 ", 13));
	{
		static const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n";

		r = exchange(h, hello, sizeof(hello) - 1);
	}
	__T("400 TLS hello", !strncmp(r, "HTTP/1.1 400 ", 13));
	r = exchange(h, "GET /metrics\0 HTTP/1.1\r\n\r\n", 26);
	__T("400 NUL", !strncmp(r, "HTTP/1.1 400 ", 13));
	{
		static char big[20000];

		memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
		memset(big + 26, 'a', sizeof(big) - 26);
		r = exchange(h, big, sizeof(big));
		__T("431", !strncmp(r, "HTTP/1.1 431 ", 13));
	}
	vs_httpd_get_stats(h, &st);
	__T("counted ok", st.ok == 3);
	__T("counted 404", st.not_found == 3);
	__T("counted 405", st.bad_method == 1);
	__T("counted 400", st.bad_request == 4);
	__T("counted 431", st.too_large == 1);
	vs_httpd_stop(h);
	vs_httpd_stop(NULL);
}

static void test_parse_listen(void **state)
{
	char host[64];
	unsigned int port;

	__T("v4", !vs_httpd_parse_listen("127.0.0.1:9477", host, sizeof(host), &port) &&
		  !strcmp(host, "127.0.0.1") && port == 9477);
	__T("v6", !vs_httpd_parse_listen("[::1]:0", host, sizeof(host), &port) &&
		  !strcmp(host, "::1") && port == 0);
	__T("no port", vs_httpd_parse_listen("127.0.0.1", host, sizeof(host), &port));
	__T("empty port", vs_httpd_parse_listen("127.0.0.1:", host, sizeof(host), &port));
	__T("bare v6", vs_httpd_parse_listen("::1:80", host, sizeof(host), &port));
	__T("port range", vs_httpd_parse_listen("127.0.0.1:65536", host, sizeof(host), &port));
	__T("sign", vs_httpd_parse_listen("127.0.0.1:+80", host, sizeof(host), &port));
	__T("no host", vs_httpd_parse_listen(":80", host, sizeof(host), &port));
	{
		const struct vs_httpd_opts o = {
			.listen = "localhost:80", .path = "/metrics",
			.content_type = "text/plain", .render = render,
		};
		struct vs_httpd *h;
		char why[160];

		__T("names refused", vs_httpd_start(&o, &h, why, sizeof(why)) == -EINVAL);
		__T("why", strstr(why, "numeric"));
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Idle connections past the limit are evicted, oldest first, so a
 * well-behaved client is still served while they stay open. */
static void test_idle_flood(void **state)
{
	struct vs_httpd *h = start(4, 10000);
	struct vs_httpd_stats st;
	int idle[12], i;
	char *r;

	for (i = 0; i < 12; i++)
		idle[i] = dial(h);
	usleep(100000);
	r = GET(h, "GET /metrics HTTP/1.1\r\n\r\n");
	__T("served during the flood", !strncmp(r, "HTTP/1.1 200 OK\r\n", 17));
	vs_httpd_get_stats(h, &st);
	__T("bounded", st.open <= 4);
	__T("evicted", st.evicted >= 9);
	for (i = 0; i < 12; i++)
		close(idle[i]);
	vs_httpd_stop(h);
}

/* A client that asks for a large body and never reads: its connection
 * is closed at the deadline, and others are served meanwhile. */
static void test_never_reads(void **state)
{
	struct vs_httpd *h;
	struct vs_httpd_stats st;
	const char *req = "GET /metrics HTTP/1.1\r\n\r\n";
	int fd, rcv = 4096, i;
	double t0;
	char *r;

	body_size = 8 << 20;	/* far more than socket buffers hold */
	h = start(8, 600);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	{
		struct sockaddr_in a = { .sin_family = AF_INET };

		a.sin_port = htons((uint16_t)vs_httpd_port(h));
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		__T("connect", !connect(fd, (struct sockaddr *)&a, sizeof(a)));
	}
	{
		unsigned int before = atomic_load(&renders);

		__T("send", send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req));
		for (i = 0; i < 200 && atomic_load(&renders) == before; i++)
			usleep(5000);
		__T("rendered", atomic_load(&renders) != before);
	}
	t0 = now_s();
	body_size = 5;
	for (i = 0; i < 3; i++) {
		r = GET(h, "GET /metrics HTTP/1.1\r\n\r\n");
		__T("others served", !strncmp(r, "HTTP/1.1 200 OK\r\n", 17));
	}
	__T("not held up", now_s() - t0 < 0.5);
	usleep(900000);
	vs_httpd_get_stats(h, &st);
	if (st.timed_out != 1 || st.open)
		fail_msg("timed out %llu, open %u, ok %llu", (unsigned long long)st.timed_out,
			 st.open, (unsigned long long)st.ok);
	close(fd);
	vs_httpd_stop(h);
}

/* Sends half a request and stops: closed at the deadline. */
static void test_slowloris(void **state)
{
	struct vs_httpd *h = start(4, 300);
	struct vs_httpd_stats st;
	int fd = dial(h);

	__T("send", send(fd, "GET /met", 8, MSG_NOSIGNAL) == 8);
	usleep(600000);
	vs_httpd_get_stats(h, &st);
	__T("timed out", st.timed_out == 1 && st.open == 0);
	close(fd);
	vs_httpd_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_idle_flood),
		cmocka_unit_test(test_never_reads),
		cmocka_unit_test(test_slowloris),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
