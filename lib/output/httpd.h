/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_HTTPD_H
#define VS_HTTPD_H

/*
 * A small HTTP/1.x server for one document (Prometheus' /metrics), run in
 * a thread of its own so that no client, however slow or broken, holds up
 * the caller's measurement:
 *  - GET or HEAD of the path (a query string is ignored) -> 200 with the
 *    body render() returns; any other path -> 404; another method -> 405;
 *    a request line that is not HTTP/1.x -> 400; a request head over
 *    max_request bytes -> 431. Every response closes the connection.
 *  - Sockets are non-blocking and served by one poll() loop; at most
 *    max_conns connections are open: a new one evicts the oldest (a client
 *    that opens connections and sends nothing cannot lock others out).
 *  - Each connection has timeout_ms from its accept to the last byte sent,
 *    then it is closed: a client that never reads costs one slot for that
 *    long and its unsent bytes.
 *
 *	struct vs_httpd *h;
 *	err = vs_httpd_start(&opts, &h, why, sizeof(why));
 *	...
 *	vs_httpd_stop(h);		// joins the thread, closes everything
 */

#include <stddef.h>
#include <stdint.h>

struct vs_httpd_opts {
	const char *listen;		/* "127.0.0.1:9477", "[::1]:0" (0: any free port) */
	const char *path;		/* "/metrics" */
	const char *content_type;	/* of the document */
	unsigned int max_conns;		/* 0: 16 */
	unsigned int timeout_ms;	/* 0: 5000 */
	size_t max_request;		/* request head limit, 0: 8192 */
	/*
	 * Called in the server's thread for each GET: a malloc'ed body the
	 * server frees, or -errno (then 500). Must not block for long.
	 */
	int (*render)(void *ctx, char **body, size_t *len);
	void *ctx;
};

struct vs_httpd_stats {
	uint64_t accepted;
	uint64_t ok, not_found, bad_method, bad_request, too_large, failed;
	uint64_t timed_out;		/* closed at the deadline */
	uint64_t evicted;		/* closed to make room for a new one */
	unsigned int open;		/* connections open now */
};

struct vs_httpd;

/*
 * Parse opts->listen, bind, listen, start the thread. The address is
 * numeric (IPv4 a.b.c.d:PORT, IPv6 [addr]:PORT). On failure -errno and one
 * sentence in why (-EINVAL unparsable, -EADDRINUSE, -EACCES, ...).
 */
int vs_httpd_start(const struct vs_httpd_opts *opts, struct vs_httpd **out,
		   char *why, size_t whylen);
/* The port bound (useful after ":0"). */
int vs_httpd_port(const struct vs_httpd *h);
void vs_httpd_get_stats(struct vs_httpd *h, struct vs_httpd_stats *st);
/* Stop the thread and close every socket; NULL does nothing. */
void vs_httpd_stop(struct vs_httpd *h);

/* Split "host:port" / "[v6]:port" (exposed for tests): 0 or -EINVAL. */
int vs_httpd_parse_listen(const char *text, char *host, size_t hostlen,
			  unsigned int *port);

#endif
