/* SPDX-License-Identifier: MIT */
/*
 * api-send.c — POST /v1/queues/Q/messages (one raw body; options in the
 * query or X-WQ-* headers) and POST /v1/queues/Q/batch (a JSON list).
 * A send is answered once libwq has committed it: durable as the
 * queue's sync policy makes it, like wq-send.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve.h"

#define ATTR_QUERY	"attr."
#define ATTR_HEADER	"X-WQ-Attr-"

struct attr_walk {
	struct wq_sender *s;
	int		 err;
};

static enum MHD_Result
add_attr(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct attr_walk *w = cls;
	const char *prefix = kind == MHD_HEADER_KIND ? ATTR_HEADER :
	    ATTR_QUERY;
	size_t plen = strlen(prefix);

	if (strncasecmp(key, prefix, plen) != 0 || w->err != 0)
		return MHD_YES;
	if (wq_sender_attr(w->s, key + plen, value ? value : "") == -1)
		w->err = errno;
	return MHD_YES;
}

/* The options of a one-message send; -1 after answering 400. */
static int
single_options(struct wqs_req *r, struct wq_sender *s)
{
	struct attr_walk w = { s, 0 };
	const char *v, *errstr;
	unsigned long long delay;
	long long prio;
	int rc;

	if ((v = wqs_arg(r, "priority", "X-WQ-Priority")) != NULL) {
		prio = strtonum(v, WQ_PRIORITY_MIN, WQ_PRIORITY_MAX, &errstr);
		if (errstr != NULL) {
			wqs_respond_error(r, MHD_HTTP_BAD_REQUEST, "priority is "
			    "%s: %.40s (want -100 to 100)", errstr, v);
			return -1;
		}
		if (wq_sender_priority(s, (int)prio) == -1)
			goto refused;
	}
	if ((rc = wqs_arg_uint(r, "delay", "X-WQ-Delay", WQ_DELAY_MAX,
	    &delay)) == -1)
		return -1;
	if (rc == 1 && wq_sender_delay(s, (uint32_t)delay) == -1)
		goto refused;
	if ((v = wqs_arg(r, "group", "X-WQ-Group")) != NULL &&
	    wq_sender_group(s, v) == -1)
		goto refused;
	if ((v = wqs_arg(r, "dedup_id", "X-WQ-Dedup-Id")) != NULL &&
	    wq_sender_dedup(s, v) == -1)
		goto refused;
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_attr, &w);
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, add_attr, &w);
	if (w.err != 0) {
		errno = w.err;
		goto refused;
	}
	return 0;
refused:
	wqs_respond_errno(r, errno, wq_queue_name(wq_sender_queue(s)),
	    "option not valid here (priority, delay and group depend on "
	    "the queue: FIFO queues take a group and no priority or delay)");
	return -1;
}

enum MHD_Result
wqs_send(struct wqs_req *r, const char *queue)
{
	struct wqs_qref *qr;
	struct wq_sender *s = NULL;
	enum MHD_Result ret;
	json_t *o;

	if (!wqs_allowed(r, WQS_SEND, queue))
		return MHD_YES;
	if ((qr = wqs_open_queue(r, queue, &ret)) == NULL)
		return ret;
	if ((s = wq_sender_open(wqs_qref_queue(qr))) == NULL) {
		ret = wqs_respond_errno(r, errno, queue, "cannot send");
		goto out;
	}
	if (single_options(r, s) == -1) {
		ret = MHD_YES;
		goto out;
	}
	if (wq_sender_add(s, r->body ? r->body : "", r->len) == -1 ||
	    wq_sender_commit(s) == -1) {
		ret = wqs_respond_errno(r, errno, queue, "cannot send");
		goto out;
	}
	o = json_pack("{s:s}", "id", wq_sender_id(s, 0));
	ret = wqs_respond_json(r, MHD_HTTP_CREATED, o);
out:
	wq_sender_close(s);
	wqs_qref_put(qr);
	return ret;
}

/*
 * The batch.  Options are set per sender, so a run of messages with the
 * same options shares one; every message is written first and all the
 * runs are committed after, so a refused message sends nothing.
 */
struct batch {
	struct wqs_req	*r;
	struct wqs_qref	*qr;
	struct wq_queue	*q;
	struct wq_sender **s;		/* one per run */
	size_t		 n;
	char		*opts;		/* the options of the last run */
	json_t		*ids;
};

/* Commit the runs in order and note their ids; -1 if one failed. */
static int
commit_all(struct batch *b)
{
	size_t i, j;

	int rc;

	for (i = 0; i < b->n; i++) {
		rc = wq_sender_commit(b->s[i]);
		/* Also after a failure: what was committed is listed. */
		for (j = 0; j < wq_sender_committed(b->s[i]); j++)
			json_array_append_new(b->ids,
			    json_string(wq_sender_id(b->s[i], j)));
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* A sender for a new run with m's options. */
static int
new_run(struct batch *b, json_t *m)
{
	struct wq_sender **v;

	if ((v = reallocarray(b->s, b->n + 1, sizeof(*v))) == NULL)
		return -1;
	b->s = v;
	if ((b->s[b->n] = wq_sender_open(b->q)) == NULL)
		return -1;
	b->n++;
	return wqs_batch_options(b->s[b->n - 1], m) == -1 ? -2 : 0;
}

/* Add message i of the batch; -1 after answering. */
static int
add_one(struct batch *b, json_t *m, size_t i)
{
	const char *name = wq_queue_name(b->q);
	json_t *dedup = json_object_get(m, "dedup_id");
	struct wq_sender *s;
	char *key, *body;
	size_t len;
	int rc;

	if (!json_is_object(m) || wqs_batch_body(m, &body, &len) == -1) {
		wqs_respond_error(b->r, MHD_HTTP_BAD_REQUEST, "messages[%zu]: "
		    "want an object with \"body\" or \"body_base64\"", i);
		return -1;
	}
	if ((key = wqs_batch_key(m)) == NULL)
		goto fail;
	if (b->n == 0 || strcmp(key, b->opts) != 0) {
		free(b->opts);
		b->opts = key;
		key = NULL;
		if ((rc = new_run(b, m)) == -1)
			goto fail;
		if (rc == -2)
			goto bad;
	}
	s = b->s[b->n - 1];
	if (dedup != NULL && (!json_is_string(dedup) ||
	    wq_sender_dedup(s, json_string_value(dedup)) == -1))
		goto bad;
	if (wq_sender_add(s, body, len) == -1)
		goto fail;
	free(key);
	free(body);
	return 0;
bad:
	free(key);
	free(body);
	wqs_respond_errno(b->r, errno == EILSEQ ? EILSEQ : EINVAL, name,
	    "a message's options are not valid here");
	return -1;
fail:
	free(key);
	free(body);
	wqs_respond_errno(b->r, errno, name, "cannot send");
	return -1;
}

static enum MHD_Result
send_all(struct batch *b, json_t *list)
{
	size_t i;

	for (i = 0; i < json_array_size(list); i++)
		if (add_one(b, json_array_get(list, i), i) == -1)
			return MHD_YES;
	if (commit_all(b) == -1)
		return wqs_respond_errno_ids(b->r, errno, wq_queue_name(b->q),
		    "cannot send", b->ids);
	return wqs_respond_json(b->r, MHD_HTTP_CREATED,
	    json_pack("{s:O}", "ids", b->ids));
}

enum MHD_Result
wqs_send_batch(struct wqs_req *r, const char *queue)
{
	struct batch b = { .r = r };
	char why[256];
	json_t *doc;
	enum MHD_Result ret;

	if (!wqs_allowed(r, WQS_SEND, queue))
		return MHD_YES;
	if ((doc = wqs_batch_parse(r->body, r->len, why, sizeof(why))) == NULL)
		return wqs_respond_error(r, MHD_HTTP_BAD_REQUEST, "%s", why);
	if ((b.qr = wqs_open_queue(r, queue, &ret)) != NULL) {
		b.q = wqs_qref_queue(b.qr);
		if ((b.ids = json_array()) == NULL)
			ret = MHD_NO;
		else
			ret = send_all(&b, json_object_get(doc, "messages"));
	}
	while (b.n > 0)
		wq_sender_close(b.s[--b.n]);
	free(b.s);
	free(b.opts);
	json_decref(b.ids);
	wqs_qref_put(b.qr);
	json_decref(doc);
	return ret;
}
