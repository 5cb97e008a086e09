/* SPDX-License-Identifier: MIT */
/*
 * api-queue.c — queues over HTTP: list, stat, create, delete, purge.
 * A queue is shown as wq-stat --json shows it (cmd/stat-row.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "../cmd/common.h"
#include "../cmd/stat.h"

/* Open a queue for a request; NULL after answering 404 (or 500). */
struct wqs_qref *
wqs_open_queue(struct wqs_req *r, const char *queue, enum MHD_Result *ret)
{
	struct wqs_qref *qr;

	if ((qr = wqs_qref_get(queue)) == NULL)
		*ret = wqs_respond_errno(r, errno, queue, "cannot open queue");
	return qr;
}

/* A queue's counts and policy; NULL and errno. */
static json_t *
queue_json(const char *queue)
{
	struct wq_queue *q;
	struct row row;
	json_t *o;
	int err;

	if ((q = wq_queue_open(wqs.spool, queue)) == NULL)
		return NULL;
	row.name = queue;
	row.pol = *wq_queue_policy(q);
	(void)wq_queue_sweep(q);
	err = wq_queue_stat(q, &row.st) == -1 ? errno : 0;
	wq_queue_close(q);
	if (err != 0) {
		errno = err;
		return NULL;
	}
	if ((o = stat_row_json(&row, wq_now_ms())) == NULL)
		errno = ENOMEM;
	return o;
}

enum MHD_Result
wqs_queue_list(struct wqs_req *r)
{
	json_t *arr, *o;
	char **names;
	size_t n, i;

	if (!wqs_may(r, WQS_READ, NULL))
		return MHD_YES;
	if (wq_spool_list(wqs.spool, &names, &n) == -1)
		return wqs_respond_errno(r, errno, NULL, "cannot list queues");
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++) {
		if (!wqs_may(r, WQS_READ, names[i]))
			continue;
		if ((o = queue_json(names[i])) != NULL)
			json_array_append_new(arr, o);
		else if (errno != ENOENT) {	/* gone since listed: skip */
			json_decref(arr);
			arr = NULL;
		}
	}
	wq_names_free(names, n);
	if (arr == NULL)
		return wqs_respond_errno(r, errno, NULL, "cannot count");
	return wqs_respond_json(r, MHD_HTTP_OK,
	    json_pack("{s:o}", "queues", arr));
}

enum MHD_Result
wqs_queue_get(struct wqs_req *r, const char *queue)
{
	json_t *o;

	if (!wqs_allowed(r, WQS_READ, queue))
		return MHD_YES;
	if ((o = queue_json(queue)) == NULL)
		return wqs_respond_errno(r, errno, queue, "cannot count");
	return wqs_respond_json(r, MHD_HTTP_OK, o);
}

/* A whole number in [min, max] from JSON; -1 if not. */
static int
num(json_t *v, long long min, long long max, long long *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* One key of a policy object into pol; its WQ_POL_ bit, or 0 if bad. */
static unsigned
policy_key(const char *k, json_t *v, struct wq_policy *pol)
{
	long long n;
	const char *s = json_string_value(v);

	if (strcmp(k, "visibility") == 0 && num(v, 1, 12 * 3600, &n) == 0)
		return pol->visibility = (uint32_t)n, WQ_POL_VISIBILITY;
	if (strcmp(k, "clock_skew") == 0 && num(v, 0, 3600, &n) == 0)
		return pol->clock_skew = (uint32_t)n, WQ_POL_CLOCK_SKEW;
	if (strcmp(k, "delay") == 0 && num(v, 0, WQ_DELAY_MAX, &n) == 0)
		return pol->delay = (uint32_t)n, WQ_POL_DELAY;
	if (strcmp(k, "retention") == 0 &&
	    num(v, 0, 100LL * 366 * 86400, &n) == 0)
		return pol->retention = (uint64_t)n, WQ_POL_RETENTION;
	if (strcmp(k, "max_receives") == 0 && num(v, 0, 1000000, &n) == 0)
		return pol->max_receives = (uint32_t)n, WQ_POL_MAX_RECEIVES;
	if (strcmp(k, "max_size") == 0 && num(v, 1, 1LL << 40, &n) == 0)
		return pol->max_size = (uint64_t)n, WQ_POL_MAX_SIZE;
	if (strcmp(k, "max_depth") == 0 && num(v, 0, 1LL << 48, &n) == 0)
		return pol->max_depth = (uint64_t)n, WQ_POL_MAX_DEPTH;
	if (strcmp(k, "dedup_window") == 0 &&
	    num(v, 0, WQ_DEDUP_WINDOW_MAX, &n) == 0)
		return pol->dedup_window = (uint32_t)n, WQ_POL_DEDUP_WINDOW;
	if (strcmp(k, "fifo") == 0 && json_is_boolean(v))
		return pol->fifo = json_is_true(v), WQ_POL_FIFO;
	/* Over HTTP a dead-letter queue is a name in this spool, no path. */
	if (strcmp(k, "dead_letter") == 0 && s != NULL && wq_name_valid(s)) {
		strlcpy(pol->dead_letter, s, sizeof(pol->dead_letter));
		return WQ_POL_DEAD_LETTER;
	}
	if (strcmp(k, "dedup") == 0 && s != NULL &&
	    (strcmp(s, "id") == 0 || strcmp(s, "content") == 0)) {
		pol->dedup = s[0] == 'c' ? WQ_DEDUP_CONTENT : WQ_DEDUP_ID;
		return WQ_POL_DEDUP;
	}
	if (strcmp(k, "compress") == 0 && s != NULL &&
	    wq_compress_parse(s, &pol->compress) == 0)
		return WQ_POL_COMPRESS;
	if (strcmp(k, "sync") == 0 && s != NULL &&
	    wq_sync_parse(s, &pol->sync) == 0)
		return WQ_POL_SYNC;
	return 0;
}

/* The body of a PUT: a JSON object of policy keys, or nothing. */
static int
parse_policy(struct wqs_req *r, struct wq_policy *pol, unsigned *mask)
{
	json_error_t jerr;
	json_t *o, *v;
	const char *k;
	unsigned bit;

	wq_policy_default(pol);
	*mask = 0;
	if (r->len == 0)
		return 0;
	if ((o = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL || !json_is_object(o)) {
		json_decref(o);
		wqs_respond_error(r, MHD_HTTP_BAD_REQUEST,
		    "policy is not a JSON object: %s", o ? "" : jerr.text);
		return -1;
	}
	json_object_foreach(o, k, v) {
		if ((bit = policy_key(k, v, pol)) == 0) {
			wqs_respond_error(r, MHD_HTTP_BAD_REQUEST,
			    "invalid policy key or value: %.64s", k);
			json_decref(o);
			return -1;
		}
		*mask |= bit;
	}
	json_decref(o);
	return 0;
}

enum MHD_Result
wqs_queue_put(struct wqs_req *r, const char *queue)
{
	struct wq_policy pol;
	unsigned mask;
	json_t *o;
	int created;

	if (!wqs_allowed(r, WQS_ADMIN, queue))
		return MHD_YES;
	if (parse_policy(r, &pol, &mask) == -1)
		return MHD_YES;
	created = wq_queue_create(wqs.spool, queue, &pol, mask, 0) == 0;
	if (!created && errno == EINVAL)
		return wqs_respond_error(r, MHD_HTTP_BAD_REQUEST, "%s: policy "
		    "refused: max_receives needs a dead_letter queue", queue);
	if (!created && errno != EEXIST)
		return wqs_respond_errno(r, errno, queue, "cannot create");
	if ((o = queue_json(queue)) == NULL)
		return wqs_respond_errno(r, errno, queue, "cannot count");
	return wqs_respond_json(r, created ? MHD_HTTP_CREATED : MHD_HTTP_OK,
	    o);
}

enum MHD_Result
wqs_queue_delete(struct wqs_req *r, const char *queue)
{
	if (!wqs_allowed(r, WQS_ADMIN, queue))
		return MHD_YES;
	if (wq_queue_remove(wqs.spool, queue) == -1)
		return wqs_respond_errno(r, errno, queue, "cannot remove");
	return wqs_respond(r, MHD_HTTP_NO_CONTENT, NULL, NULL, 0);
}

enum MHD_Result
wqs_queue_purge(struct wqs_req *r, const char *queue)
{
	struct wqs_qref *qr;
	enum MHD_Result ret;
	uint64_t removed = 0;
	int err;

	if (!wqs_allowed(r, WQS_ADMIN, queue))
		return MHD_YES;
	if ((qr = wqs_open_queue(r, queue, &ret)) == NULL)
		return ret;
	err = wq_queue_purge(wqs_qref_queue(qr), &removed) == -1 ? errno : 0;
	wqs_qref_put(qr);
	if (err != 0)
		return wqs_respond_errno(r, err, queue, "cannot purge");
	return wqs_respond_json(r, MHD_HTTP_OK, json_pack("{s:I}", "removed",
	    (json_int_t)removed));
}
