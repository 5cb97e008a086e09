/* SPDX-License-Identifier: MIT */
/*
 * api-receive.c — claiming over HTTP: receive (with long-polling), peek,
 * and ack, release and extend by receipt.
 *
 * A receive that finds nothing and may wait parks (park.c) and is woken
 * by inotify when a message is sent, by anybody.  Leases handed out in a
 * response that did not reach the client (it went away, the server was
 * stopped) are released at once, so they are not lost for a lease's time.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

/* Claim up to r->max into a JSON list; the count, or -1 and errno. */
static int
claim_some(struct wqs_req *r, char **out, size_t *outlen)
{
	struct wq_msg *m;
	char *json, *buf = NULL, **rv;
	size_t len = 0;
	FILE *fp;
	int n = 0, err = 0;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return -1;
	fputs("{\"messages\":[", fp);
	while ((unsigned)n < r->max) {
		if (wq_claim(r->consumer, &m) == -1) {
			if (errno != ENOMSG)
				err = errno;
			break;
		}
		rv = reallocarray(r->receipts, r->nreceipts + 1, sizeof(*rv));
		json = wq_msg_json(m, 0);
		if (rv != NULL)
			r->receipts = rv;
		if (rv == NULL || json == NULL || (r->receipts[r->nreceipts] =
		    strdup(wq_msg_receipt(m))) == NULL) {
			err = errno;
			(void)wq_msg_release(m, 0);
			wq_msg_free(m);
			free(json);
			break;
		}
		r->nreceipts++;
		fprintf(fp, "%s%s", n++ ? "," : "", json);
		free(json);
		wq_msg_free(m);
	}
	fputs("]}", fp);
	if (fclose(fp) != 0 && err == 0)
		err = errno;
	if (err != 0 && n == 0) {
		free(buf);
		errno = err;
		return -1;
	}
	*out = buf;
	*outlen = len;
	return n;
}

/* Answer with what was claimed (maybe nothing), or park and answer later. */
static enum MHD_Result
try_claim(struct wqs_req *r)
{
	const char *name = wq_queue_name(r->q);
	struct wqs_watch *w;
	char *body;
	size_t len;
	int64_t now, due;
	int n;

	for (;;) {
		if ((n = claim_some(r, &body, &len)) == -1)
			return wqs_respond_errno(r, errno, name, "cannot claim");
		now = wq_now_ms();
		if (n > 0 || now >= r->deadline || wqs.stopping)
			break;
		free(body);
		if (r->waiter.watch != NULL)
			break;
		/* Watch first, then look again: nothing slips between. */
		if ((w = wqs_watch_get(name, &r->gen)) == NULL)
			return wqs_respond_errno(r, errno, name, "cannot wait");
		r->waiter.watch = w;
		wq_consumer_rescan(r->consumer);
	}
	if (n == 0 && now < r->deadline && !wqs.stopping) {
		due = wq_consumer_due_ms(r->consumer, now);
		MHD_suspend_connection(r->conn);
		wqs_park(&r->waiter, r->waiter.watch, r->gen,
		    due < r->deadline ? due : r->deadline);
		return MHD_YES;
	}
	if (n > 0 && r->waiter.watch != NULL)
		wqs_park_pass(r->waiter.watch);	/* there may be more */
	return wqs_respond(r, MHD_HTTP_OK, "application/json", body, len);
}

/* A parked receive was woken: by an event, its time, or a shutdown. */
enum MHD_Result
wqs_receive_again(struct wqs_req *r)
{
	const char *name = wq_queue_name(r->q);
	const union MHD_ConnectionInfo *ci;
	struct pollfd pfd = { .events = POLLRDHUP };

	/*
	 * A suspended connection does not notice its client leave, and a
	 * response written to a closed socket still counts as delivered:
	 * look before claiming, close, and pass the wake-up on.
	 */
	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL && (pfd.fd = ci->connect_fd, poll(&pfd, 1, 0)) == 1 &&
	    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
		wqs_park_pass(r->waiter.watch);
		return MHD_NO;
	}
	/* A queue deleted while we waited cannot be watched again. */
	if (wqs_watch_get(name, &r->gen) == NULL)
		return wqs_respond_errno(r, errno, name, "cannot wait");
	wq_consumer_rescan(r->consumer);
	return try_claim(r);
}

enum MHD_Result
wqs_receive(struct wqs_req *r, const char *queue)
{
	unsigned long long max = 1, wait = 0, vis = 0;
	enum MHD_Result ret;

	if (!wqs_allowed(r, WQS_RECV, queue))
		return MHD_YES;
	if (wqs_arg_uint(r, "max", NULL, WQS_MAX_RECEIVE, &max) == -1 ||
	    wqs_arg_uint(r, "wait", NULL, wqs.cfg.max_wait, &wait) == -1 ||
	    wqs_arg_uint(r, "visibility", NULL, 12 * 3600, &vis) == -1)
		return MHD_YES;
	if (max == 0)
		return wqs_respond_error(r, MHD_HTTP_BAD_REQUEST,
		    "max is too small: 0 (want 1 to %d)", WQS_MAX_RECEIVE);
	if ((r->qref = wqs_open_queue(r, queue, &ret)) == NULL)
		return ret;
	r->q = wqs_qref_queue(r->qref);
	/* A lease of its own length needs a consumer of its own. */
	r->own_consumer = vis != 0;
	r->consumer = vis == 0 ? wqs_qref_consumer(r->qref) :
	    wq_consumer_open(r->q, (uint32_t)vis);
	if (r->consumer == NULL)
		return wqs_respond_errno(r, errno, queue, "cannot claim");
	wq_consumer_watched(r->consumer);
	r->max = (unsigned)max;
	r->deadline = wq_now_ms() + (int64_t)wait * 1000;
	return try_claim(r);
}

/*
 * The request is over.  Leases of a response that was not delivered go
 * back to the queue now rather than when they expire.
 */
void
wqs_receive_done(struct wqs_req *r, int delivered)
{
	size_t i;

	for (i = 0; i < r->nreceipts; i++) {
		if (!delivered && wq_release(r->q, r->receipts[i], 0) == 0)
			wqs.released++;
		free(r->receipts[i]);
	}
	free(r->receipts);
	r->receipts = NULL;
	r->nreceipts = 0;
	if (r->own_consumer)
		wq_consumer_close(r->consumer);
	wqs_qref_put(r->qref);
	r->consumer = NULL;
	r->qref = NULL;
	r->q = NULL;
}

enum MHD_Result
wqs_peek(struct wqs_req *r, const char *queue)
{
	unsigned long long max = 10;
	struct wq_consumer *c = NULL;
	struct wqs_qref *qr;
	struct wq_msg *m;
	enum MHD_Result ret;
	json_t *list, *o;
	char *s;
	int err = 0;

	if (!wqs_allowed(r, WQS_READ, queue))
		return MHD_YES;
	if (wqs_arg_uint(r, "max", NULL, WQS_MAX_RECEIVE, &max) == -1)
		return MHD_YES;
	if (max == 0)
		return wqs_respond_error(r, MHD_HTTP_BAD_REQUEST,
		    "max is too small: 0 (want 1 to %d)", WQS_MAX_RECEIVE);
	if ((qr = wqs_open_queue(r, queue, &ret)) == NULL)
		return ret;
	if ((c = wq_consumer_open(wqs_qref_queue(qr), 0)) == NULL || (list = json_array()) ==
	    NULL) {
		err = errno;
		list = NULL;
	}
	while (err == 0 && json_array_size(list) < max) {
		if (wq_peek(c, &m) == -1) {
			if (errno != ENOMSG)
				err = errno;
			break;
		}
		s = wq_msg_json(m, WQ_JSON_NO_RECEIPT);
		wq_msg_free(m);
		if (s == NULL || (o = json_loads(s, 0, NULL)) == NULL)
			err = s ? EBADMSG : errno;
		else
			json_array_append_new(list, o);
		free(s);
	}
	wq_consumer_close(c);
	wqs_qref_put(qr);
	if (err != 0) {
		json_decref(list);
		return wqs_respond_errno(r, err, queue, "cannot peek");
	}
	return wqs_respond_json(r, MHD_HTTP_OK,
	    json_pack("{s:o}", "messages", list));
}

/* DELETE .../messages/R (ack), POST .../R/release, POST .../R/extend. */
enum MHD_Result
wqs_lease(struct wqs_req *r, const char *queue, const char *receipt,
    const char *action)
{
	char newreceipt[WQ_RECEIPT_MAX];
	unsigned long long secs = 0;
	struct wqs_qref *qr;
	struct wq_queue *q;
	enum MHD_Result ret;
	int rc, got = 0;

	if (!wqs_allowed(r, WQS_RECV, queue))
		return MHD_YES;
	if (!wq_receipt_valid(receipt))
		return wqs_respond_error(r, MHD_HTTP_BAD_REQUEST,
		    "invalid receipt: %.100s", receipt);
	if (strcmp(action, "release") == 0)
		got = wqs_arg_uint(r, "delay", NULL, WQ_DELAY_MAX, &secs);
	else if (strcmp(action, "extend") == 0 &&
	    (got = wqs_arg_uint(r, "visibility", NULL, 12 * 3600, &secs)) == 0)
		return wqs_respond_error(r, MHD_HTTP_BAD_REQUEST, "extend needs "
		    "visibility=SECS: the lease's new length from now");
	if (got == -1)
		return MHD_YES;
	if ((qr = wqs_open_queue(r, queue, &ret)) == NULL)
		return ret;
	q = wqs_qref_queue(qr);
	if (action[0] == 'a')
		rc = wq_ack(q, receipt);
	else if (action[0] == 'r')
		rc = wq_release(q, receipt, (uint32_t)secs);
	else
		rc = wq_extend(q, receipt, (uint32_t)secs, newreceipt);
	if (rc == -1)
		ret = wqs_respond_errno(r, errno, queue, "invalid receipt");
	else if (action[0] == 'e')
		ret = wqs_respond_json(r, MHD_HTTP_OK,
		    json_pack("{s:s}", "receipt", newreceipt));
	else
		ret = wqs_respond(r, MHD_HTTP_NO_CONTENT, NULL, NULL, 0);
	wqs_qref_put(qr);
	return ret;
}
