/* SPDX-License-Identifier: MIT */
/*
 * stream.c — GET /v1/queues/Q/stream: Server-Sent Events for browsers.
 * A queue's stream is a broadcast: while anybody listens, one hub claims
 * the queue's messages, appends each as an event to every listener's
 * buffer and acks it.  Delivery to a browser is at most once (an event in
 * a buffer is gone if the connection breaks); /receive is the way to
 * at-least-once.
 *
 * A listener's response is read by libmicrohttpd through read_events();
 * with nothing to send it suspends the connection, and the hub resumes it
 * when it appends.  Everything a hub and its clients share is guarded by
 * wqs_park_mtx; the hub's claims run on park.c's thread only.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "park.h"

struct wqs_client {
	TAILQ_ENTRY(wqs_client) link;
	struct wqs_hub	*hub;
	struct MHD_Connection *conn;
	char		*buf;
	size_t		 len, off, cap;
	int		 suspended;	/* waiting for an event */
	int		 ended;		/* shutting down: end the stream */
	int		 dropped;	/* fell too far behind */
};

struct wqs_hub {
	TAILQ_HEAD(, wqs_client) clients;
	size_t		 n;
	struct wq_queue	*q;
	struct wq_consumer *c;
	int		 failed;	/* claims fail: queue gone? */
	int64_t		 due;		/* claim again by then, no event */
};

static atomic_ulong nclients;

unsigned long
wqs_stream_count(void)
{
	return nclients;
}

/* Append to one client; drop it when it lags too far.  Locked. */
static void
append(struct wqs_client *cl, const char *s, size_t len, struct conns *cs)
{
	char *b;
	size_t need;

	if (cl->dropped || cl->ended)
		return;
	if (cl->off > 0 && cl->off == cl->len)
		cl->off = cl->len = 0;
	need = cl->len + len;
	if (need - cl->off > WQS_STREAM_BACKLOG)
		cl->dropped = 1;
	else if (need > cl->cap) {
		if ((b = realloc(cl->buf, need * 2)) == NULL)
			cl->dropped = 1;
		else {
			cl->buf = b;
			cl->cap = need * 2;
		}
	}
	if (!cl->dropped) {
		memcpy(cl->buf + cl->len, s, len);
		cl->len += len;
	}
	if (cl->suspended) {
		cl->suspended = 0;
		wqs_conns_add(cs, cl->conn);
	}
}

static void
broadcast(struct wqs_hub *h, const char *s, size_t len)
{
	struct conns cs = { 0 };
	struct wqs_client *cl;

	pthread_mutex_lock(&wqs_park_mtx);
	TAILQ_FOREACH(cl, &h->clients, link)
		append(cl, s, len, &cs);
	pthread_mutex_unlock(&wqs_park_mtx);
	wqs_conns_resume(&cs);
	free(cs.v);
}

static size_t
listeners(struct wqs_hub *h)
{
	size_t n;

	pthread_mutex_lock(&wqs_park_mtx);
	n = h->n;
	pthread_mutex_unlock(&wqs_park_mtx);
	return n;
}

/* One message to everybody listening; then it is acked. */
static int
send_one(struct wqs_hub *h, struct wq_msg *m)
{
	char *json, *ev;
	int len;

	if ((json = wq_msg_json(m, WQ_JSON_NO_RECEIPT)) == NULL)
		return -1;
	len = asprintf(&ev, "id: %s\nevent: message\ndata: %s\n\n",
	    wq_msg_id(m), json);
	free(json);
	if (len < 0)
		return -1;
	broadcast(h, ev, (size_t)len);
	free(ev);
	return wq_msg_ack(m);
}

/*
 * Claim and broadcast what is ready, up to a round's worth: 1 if more may
 * be ready, 0 if not, or if nobody listens.
 */
int
wqs_hub_pump(struct wqs_hub *h)
{
	struct wq_msg *m;
	int i;

	wq_consumer_rescan(h->c);
	for (i = 0; i < 64; i++) {
		if (listeners(h) == 0 || wqs.stopping)
			return 0;
		if (wq_claim(h->c, &m) == -1) {
			if (errno != ENOMSG && !h->failed) {
				h->failed = 1;
				warn("stream %s: cannot claim",
				    wq_queue_name(h->q));
			}
			/* once per look: each call backs the poll off */
			h->due = wq_consumer_due_ms(h->c, wq_now_ms());
			return 0;
		}
		h->failed = 0;
		if (send_one(h, m) == -1) {
			warn("stream %s: %s", wq_queue_name(h->q),
			    wq_msg_id(m));
			(void)wq_msg_release(m, 0);
		}
		wq_msg_free(m);
	}
	h->due = 0;	/* more may be ready: look again at once */
	return 1;
}

/*
 * When to claim again with no event: a lease or delay ends, or a poll on
 * a network filesystem.  Fixed when the hub last looked (wqs_hub_pump):
 * asked afresh at each turn of the loop, the next poll would always be a
 * backoff away from now, and never come.
 */
int64_t
wqs_hub_due(struct wqs_hub *h)
{
	if (listeners(h) == 0)
		return INT64_MAX;
	return h->due;
}

/* A comment line: keeps proxies open and finds clients that went away. */
void
wqs_hub_heartbeat(struct wqs_hub *h)
{
	static const char beat[] = ": heartbeat\n\n";

	broadcast(h, beat, sizeof(beat) - 1);
}

/* Shutting down: every stream ends once its buffer is sent.  Locked. */
void
wqs_hub_end(struct wqs_hub *h, struct conns *cs)
{
	struct wqs_client *cl;

	TAILQ_FOREACH(cl, &h->clients, link) {
		cl->ended = 1;
		if (cl->suspended) {
			cl->suspended = 0;
			wqs_conns_add(cs, cl->conn);
		}
	}
}

void
wqs_hub_free(struct wqs_hub *h)
{
	if (h == NULL)
		return;
	wq_consumer_close(h->c);
	wq_queue_close(h->q);
	free(h);
}

static struct wqs_hub *
hub_new(const char *queue)
{
	struct wqs_hub *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	TAILQ_INIT(&h->clients);
	if ((h->q = wq_queue_open(wqs.spool, queue)) == NULL ||
	    (h->c = wq_consumer_open(h->q, 0)) == NULL) {
		wq_queue_close(h->q);
		free(h);
		return NULL;
	}
	wq_consumer_watched(h->c);
	return h;
}

/* libmicrohttpd asks for the next bytes of a stream. */
static ssize_t
read_events(void *cls, uint64_t pos, char *out, size_t max)
{
	struct wqs_client *cl = cls;
	ssize_t n = 0;

	(void)pos;
	pthread_mutex_lock(&wqs_park_mtx);
	if (cl->off < cl->len) {
		n = (ssize_t)(cl->len - cl->off < max ? cl->len - cl->off : max);
		memcpy(out, cl->buf + cl->off, (size_t)n);
		cl->off += (size_t)n;
	} else if (cl->dropped)
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	else if (cl->ended)
		n = MHD_CONTENT_READER_END_OF_STREAM;
	else {
		cl->suspended = 1;
		MHD_suspend_connection(cl->conn);
	}
	pthread_mutex_unlock(&wqs_park_mtx);
	return n;
}

static void
client_free(void *cls)
{
	struct wqs_client *cl = cls;

	pthread_mutex_lock(&wqs_park_mtx);
	TAILQ_REMOVE(&cl->hub->clients, cl, link);
	cl->hub->n--;
	pthread_mutex_unlock(&wqs_park_mtx);
	nclients--;
	free(cl->buf);
	free(cl);
}

/* Join the queue's hub, made on first use; NULL and errno if not. */
static struct wqs_client *
join(const char *queue, struct MHD_Connection *conn)
{
	static const char hello[] = "retry: 2000\n\n";
	struct wqs_watch *w;
	struct wqs_client *cl;
	struct wqs_hub *h = NULL;
	uint64_t gen;

	if ((w = wqs_watch_get(queue, &gen)) == NULL ||
	    (cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	if ((cl->buf = strdup(hello)) == NULL) {
		free(cl);
		return NULL;
	}
	cl->len = cl->cap = sizeof(hello) - 1;
	cl->conn = conn;
	pthread_mutex_lock(&wqs_park_mtx);
	if (w->hub == NULL)
		w->hub = hub_new(queue);
	if ((h = w->hub) != NULL) {
		cl->hub = h;
		TAILQ_INSERT_TAIL(&h->clients, cl, link);
		h->n++;
		w->pump = 1;
	}
	pthread_mutex_unlock(&wqs_park_mtx);
	if (h == NULL) {
		free(cl->buf);
		free(cl);
		return NULL;
	}
	nclients++;
	wqs_park_poke();
	return cl;
}

enum MHD_Result
wqs_stream(struct wqs_req *r, const char *queue)
{
	struct MHD_Response *resp;
	struct wqs_qref *qr;
	struct wqs_client *cl;
	enum MHD_Result ret;

	r->token_in_query = 1;
	if (!wqs_allowed(r, WQS_RECV, queue))
		return MHD_YES;
	if ((qr = wqs_open_queue(r, queue, &ret)) == NULL)
		return ret;
	wqs_qref_put(qr);
	if ((cl = join(queue, r->conn)) == NULL)
		return wqs_respond_errno(r, errno, queue, "cannot stream");
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
	    read_events, cl, client_free);
	if (resp == NULL) {
		client_free(cl);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return wqs_queue_response(r, MHD_HTTP_OK, resp);
}
