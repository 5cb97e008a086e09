/* SPDX-License-Identifier: MIT */
/*
 * wake — the long-poll wake-up latency of wq-serve (bench/http/run.py).
 *
 * Each run parks a POST /v1/queues/QUEUE/receive?wait=10 on an empty
 * queue, polls GET /metrics (on a second connection) until the server
 * reports it parked (wq_serve_long_polls 1), then takes the time, sends
 * one message of 100 bytes with libwq (wq_send, as wq-send would: the
 * server learns of it through inotify, like any other sender), and stops
 * the clock when the first byte of the response arrives.  The message
 * is checked (its id is in the response) and acked with libwq.  Each
 * run also times a GET /healthz on the same keep-alive connection, to
 * the first byte: one request's round trip, the floor of the wake-up.
 *
 * Prints rows in the columns of bench/run.py (seconds = the latency):
 *   RESULT wq-serve TAG wake-median|wake-p99|healthz-median|healthz-p99
 *       RUNS SECONDS OPS_PER_S US_PER_OP
 *
 * usage: wake -d SPOOL -p PORT [-r RUNS] [-t TAG] QUEUE
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "wq.h"
#include "../bench.h"

#define BODY_LEN	100
#define PARK_TIMEOUT	5.0	/* seconds the server may take to park */

struct conn {
	int	 fd;
	char	 buf[1 << 16];	/* one response: headers and body */
	size_t	 len;		/* bytes in buf */
	size_t	 used;		/* bytes of buf that the last response took */
};

static void
conn_open(struct conn *c, int port)
{
	struct sockaddr_in sin;
	int one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "connect to 127.0.0.1:%d", port);
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		err(1, "TCP_NODELAY");
	c->len = c->used = 0;
}

static void
send_all(struct conn *c, const char *req)
{
	size_t len = strlen(req), off = 0;
	ssize_t n;

	while (off < len) {
		if ((n = write(c->fd, req + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "write");
		}
		off += (size_t)n;
	}
}

/* Read more into c->buf (blocking); errors and EOF are fatal. */
static void
fill(struct conn *c)
{
	ssize_t n;

	if (c->len == sizeof(c->buf))
		errx(1, "response larger than %zu bytes", sizeof(c->buf));
	while ((n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len))
	    == -1 && errno == EINTR)
		;
	if (n == -1)
		err(1, "read");
	if (n == 0)
		errx(1, "the server closed the connection");
	c->len += (size_t)n;
}

/* Drop the previous response from the buffer (keep what follows). */
static void
next_response(struct conn *c)
{
	memmove(c->buf, c->buf + c->used, c->len - c->used);
	c->len -= c->used;
	c->used = 0;
}

/* Wait for the first byte of a response; it is in c->buf after. */
static void
first_byte(struct conn *c)
{
	if (c->len == 0)
		fill(c);
}

/*
 * Read the rest of one response (Content-Length framing, as MHD sends
 * for these); its status, *body (NUL-terminated in place) and length.
 */
static int
whole_response(struct conn *c, char **body, size_t *blen)
{
	char *end, *cl;
	size_t hlen, clen = 0;
	int status;

	first_byte(c);
	while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
		fill(c);
	hlen = (size_t)(end - c->buf) + 4;
	end[2] = '\0';	/* headers as a string, for the searches */
	if (sscanf(c->buf, "HTTP/1.1 %d", &status) != 1)
		errx(1, "not an HTTP/1.1 response: %.40s", c->buf);
	if ((cl = strcasestr(c->buf, "\r\nContent-Length:")) != NULL)
		clen = strtoul(cl + 17, NULL, 10);
	end[2] = '\r';
	if (hlen + clen + 1 > sizeof(c->buf))
		errx(1, "response too large");
	while (c->len < hlen + clen)
		fill(c);
	c->used = hlen + clen;
	*body = c->buf + hlen;
	*blen = clen;
	return status;
}

/* The number of parked long-polls that /metrics reports. */
static long
parked(struct conn *m)
{
	char *body, *p, save;
	size_t blen;
	long n = -1;

	send_all(m, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	if (whole_response(m, &body, &blen) != 200)
		errx(1, "GET /metrics: not 200");
	save = body[blen];
	body[blen] = '\0';
	if ((p = strstr(body, "\nwq_serve_long_polls ")) != NULL)
		n = strtol(p + 21, NULL, 10);
	body[blen] = save;
	next_response(m);
	if (n < 0)
		errx(1, "GET /metrics: no wq_serve_long_polls");
	return n;
}

/* The receipt in a /receive response, copied into out. */
static void
receipt_of(const char *body, size_t blen, char *out, size_t outlen)
{
	const char *p = memmem(body, blen, "\"receipt\":\"", 11), *e;

	if (p == NULL || (e = memchr(p + 11, '"', blen - (size_t)(p + 11 -
	    body))) == NULL || (size_t)(e - p - 11) >= outlen)
		errx(1, "no receipt in the response: %.*s", (int)blen, body);
	memcpy(out, p + 11, (size_t)(e - p - 11));
	out[e - p - 11] = '\0';
}

/* One long-poll woken by a send: seconds from the send to the first byte. */
static double
wake_once(struct conn *a, struct conn *m, struct wq_queue *q,
    const char *queue, const char *msg, long *eagain)
{
	char req[512], id[WQ_ID_MAX], receipt[WQ_RECEIPT_MAX], *body;
	double t, start;
	size_t blen;
	int status;

	snprintf(req, sizeof(req), "POST /v1/queues/%s/receive?wait=10 "
	    "HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", queue);
	send_all(a, req);
	start = now_s();
	while (parked(m) != 1) {
		struct pollfd pfd = { a->fd, POLLIN, 0 };

		if (poll(&pfd, 1, 0) == 1)
			errx(1, "the receive was answered before a send");
		if (now_s() - start > PARK_TIMEOUT)
			errx(1, "the receive was not parked after %.0f s",
			    PARK_TIMEOUT);
		usleep(200);
	}
	t = now_s();
	while (wq_send(q, msg, BODY_LEN, id) == -1) {
		/*
		 * Seen once on ext4: the sender's bucket pruned as empty by
		 * the woken consumer 64 times over (lib/bucket.c put).  Say
		 * so and send again: the time counts from the first try.
		 */
		if (errno != EAGAIN || ++*eagain > 100)
			err(1, "wq_send");
		warn("wq_send (retrying)");
	}
	first_byte(a);
	t = now_s() - t;
	if ((status = whole_response(a, &body, &blen)) != 200 ||
	    memmem(body, blen, id, strlen(id)) == NULL)
		errx(1, "the woken receive answered %d without the message "
		    "sent: %.*s", status, (int)blen, body);
	receipt_of(body, blen, receipt, sizeof(receipt));
	next_response(a);
	if (wq_ack(q, receipt) == -1)
		err(1, "wq_ack");
	return t;
}

/* GET /healthz on a.  Seconds from the request to the first byte. */
static double
healthz_once(struct conn *a)
{
	char *body;
	size_t blen;
	double t = now_s();

	send_all(a, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	first_byte(a);
	t = now_s() - t;
	if (whole_response(a, &body, &blen) != 200)
		errx(1, "GET /healthz: not 200");
	next_response(a);
	return t;
}

static double
percentile(double *v, long n, int p)
{
	long k = (p * n + 99) / 100;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[(k < 1 ? 1 : k) - 1];
}

static void
row(const char *tag, const char *phase, long n, double secs)
{
	printf("RESULT\twq-serve\t%s\t%s\t%ld\t%.6f\t%.0f\t%.3f\n", tag, phase,
	    n, secs, 1 / secs, secs * 1e6);
}

int
main(int argc, char *argv[])
{
	const char *dir = NULL, *tag = "wq-serve";
	struct conn *a, *m;
	struct wq_spool *sp;
	struct wq_queue *q;
	struct wq_stat st;
	char msg[BODY_LEN];
	double *wake, *health;
	long runs = 200, r, eagain = 0;
	int port = 0, ch;

	while ((ch = getopt(argc, argv, "d:p:r:t:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'r':
			runs = atol(optarg);
			break;
		case 't':
			tag = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 1 || dir == NULL || port <= 0 || runs < 1) {
usage:
		fprintf(stderr, "usage: wake -d SPOOL -p PORT [-r RUNS] "
		    "[-t TAG] QUEUE\n");
		return 64;
	}
	if ((sp = wq_spool_open(dir, 0)) == NULL)
		err(1, "%s", dir);
	if ((q = wq_queue_open(sp, argv[optind])) == NULL)
		err(1, "%s/%s", dir, argv[optind]);
	if (wq_queue_stat(q, &st) == -1)
		err(1, "stat");
	if (st.total != 0)
		errx(1, "%s is not empty", argv[optind]);
	memset(msg, 'w', sizeof(msg));
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (m = calloc(1, sizeof(*m))) == NULL ||
	    (wake = calloc((size_t)runs, sizeof(*wake))) == NULL ||
	    (health = calloc((size_t)runs, sizeof(*health))) == NULL)
		err(1, "calloc");
	conn_open(a, port);
	conn_open(m, port);
	for (r = 0; r < runs; r++) {
		wake[r] = wake_once(a, m, q, argv[optind], msg, &eagain);
		health[r] = healthz_once(a);
	}
	row(tag, "wake-median", runs, median(wake, runs));
	row(tag, "wake-p99", runs, percentile(wake, runs, 99));
	row(tag, "healthz-median", runs, median(health, runs));
	row(tag, "healthz-p99", runs, percentile(health, runs, 99));
	if (eagain > 0)
		warnx("%ld sends of %ld failed with EAGAIN and were retried",
		    eagain, runs);
	wq_queue_close(q);
	wq_spool_close(sp);
	return 0;
}
