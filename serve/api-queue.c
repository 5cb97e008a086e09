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
	memset(&row, 0, sizeof(row));
	row.name = queue;
	row.pol = *wq_queue_policy(q);
	(void)wq_queue_sweep(q);
	err = wq_queue_stat(q, &row.st) == -1 ? errno : 0;
	if (err == 0)
		stat_clocks_load(&row, q);
	wq_queue_close(q);
	if (err != 0) {
		errno = err;
		return NULL;
	}
	if ((o = stat_row_json(&row, wq_now_ms())) == NULL)
		errno = ENOMEM;
	stat_clocks_free(&row);
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

enum MHD_Result
wqs_queue_put(struct wqs_req *r, const char *queue)
{
	struct wq_policy pol;
	char why[256];
	unsigned mask;
	json_t *o;
	int created;

	if (!wqs_allowed(r, WQS_ADMIN, queue))
		return MHD_YES;
	if (wqs_policy_parse(r->body, r->len, &pol, &mask, why,
	    sizeof(why)) == -1)
		return wqs_respond_error(r, MHD_HTTP_BAD_REQUEST, "%s", why);
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
