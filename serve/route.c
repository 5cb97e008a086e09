/* SPDX-License-Identifier: MIT */
/*
 * route.c — which handler answers a method and path.  The paths are few
 * and fixed, so they are split on '/' and compared; serve/openapi.json
 * describes the same table (a test holds the two together).
 */
#include <string.h>

#include "serve.h"

#define MAXSEG	6

/* Split "/v1/queues/Q/messages/R" into its segments; -1 if too many. */
static int
split(char *path, char *seg[MAXSEG])
{
	char *p, *save;
	int n = 0;

	for (p = strtok_r(path, "/", &save); p != NULL;
	    p = strtok_r(NULL, "/", &save)) {
		if (n == MAXSEG)
			return -1;
		seg[n++] = p;
	}
	return n;
}

static int
is(const struct wqs_req *r, const char *method)
{
	return strcmp(r->method, method) == 0;
}

static enum MHD_Result
not_allowed(struct wqs_req *r, const char *allow)
{
	r->allow = allow;
	return wqs_respond_error(r, MHD_HTTP_METHOD_NOT_ALLOWED,
	    "%s not allowed here (allowed: %s)", r->method, allow);
}

static enum MHD_Result
bad_queue(struct wqs_req *r, const char *q)
{
	return wqs_respond_error(r, MHD_HTTP_BAD_REQUEST,
	    "invalid queue name: %.100s (want [A-Za-z0-9][A-Za-z0-9._-]{0,79})",
	    q);
}

/* /v1/queues/Q/messages/RECEIPT[/ACTION] */
static enum MHD_Result
lease_route(struct wqs_req *r, char *seg[], int n)
{
	if (n == 5 && is(r, "DELETE"))
		return wqs_lease(r, seg[2], seg[4], "ack");
	if (n == 5)
		return not_allowed(r, "DELETE");
	if (strcmp(seg[5], "release") != 0 && strcmp(seg[5], "extend") != 0)
		return wqs_respond_error(r, MHD_HTTP_NOT_FOUND, "no such route");
	if (!is(r, "POST"))
		return not_allowed(r, "POST");
	return wqs_lease(r, seg[2], seg[4], seg[5]);
}

/* /v1/queues/Q/... */
static enum MHD_Result
queue_route(struct wqs_req *r, char *seg[], int n)
{
	const char *q = seg[2], *what = n > 3 ? seg[3] : "";

	if (!wq_name_valid(q))
		return bad_queue(r, q);
	if (n == 3) {
		if (is(r, "GET") || is(r, "HEAD"))
			return wqs_queue_get(r, q);
		if (is(r, "PUT"))
			return wqs_queue_put(r, q);
		if (is(r, "DELETE"))
			return wqs_queue_delete(r, q);
		return not_allowed(r, "GET, PUT, DELETE");
	}
	if (strcmp(what, "messages") == 0 && n >= 5)
		return lease_route(r, seg, n);
	if (n != 4)
		return wqs_respond_error(r, MHD_HTTP_NOT_FOUND, "no such route");
	if (strcmp(what, "messages") == 0)
		return is(r, "POST") ? wqs_send(r, q) : not_allowed(r, "POST");
	if (strcmp(what, "batch") == 0)
		return is(r, "POST") ? wqs_send_batch(r, q) :
		    not_allowed(r, "POST");
	if (strcmp(what, "receive") == 0)
		return is(r, "POST") ? wqs_receive(r, q) :
		    not_allowed(r, "POST");
	if (strcmp(what, "purge") == 0)
		return is(r, "POST") ? wqs_queue_purge(r, q) :
		    not_allowed(r, "POST");
	if (strcmp(what, "peek") == 0)
		return is(r, "GET") || is(r, "HEAD") ? wqs_peek(r, q) :
		    not_allowed(r, "GET");
	if (strcmp(what, "stream") == 0)
		return is(r, "GET") ? wqs_stream(r, q) : not_allowed(r, "GET");
	return wqs_respond_error(r, MHD_HTTP_NOT_FOUND, "no such route");
}

/* GET-only pages outside /v1. */
static enum MHD_Result
page_route(struct wqs_req *r, const char *page)
{
	enum MHD_Result (*fn)(struct wqs_req *);

	if (strcmp(page, "") == 0)
		fn = wqs_dashboard;
	else if (strcmp(page, "metrics") == 0)
		fn = wqs_metrics;
	else if (strcmp(page, "healthz") == 0)
		fn = wqs_healthz;
	else if (strcmp(page, "openapi.json") == 0)
		fn = wqs_openapi;
	else
		return wqs_respond_error(r, MHD_HTTP_NOT_FOUND, "no such route");
	if (!is(r, "GET") && !is(r, "HEAD"))
		return not_allowed(r, "GET");
	return fn(r);
}

enum MHD_Result
wqs_route(struct wqs_req *r)
{
	char path[1024], *seg[MAXSEG];
	int n;

	if (strlcpy(path, r->path, sizeof(path)) >= sizeof(path) ||
	    (n = split(path, seg)) == -1)
		return wqs_respond_error(r, MHD_HTTP_NOT_FOUND, "no such route");
	if (n <= 1 && strchr(r->path + (r->path[0] == '/'), '/') == NULL)
		return page_route(r, n == 0 ? "" : seg[0]);
	if (n < 2 || strcmp(seg[0], "v1") != 0 ||
	    strcmp(seg[1], "queues") != 0)
		return wqs_respond_error(r, MHD_HTTP_NOT_FOUND, "no such route");
	if (n == 2)
		return is(r, "GET") || is(r, "HEAD") ? wqs_queue_list(r) :
		    not_allowed(r, "GET");
	return queue_route(r, seg, n);
}
