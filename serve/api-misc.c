/* SPDX-License-Identifier: MIT */
/*
 * api-misc.c — the pages outside /v1: /metrics (the families of
 * wq-stat --prom, then the server's own), /healthz, the dashboard and
 * the OpenAPI document (both embedded by assets.S).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "../cmd/stat.h"

extern const char wqs_dashboard_html[], wqs_dashboard_html_end[];
extern const char wqs_openapi_json[], wqs_openapi_json_end[];

/* The queues the request may read, counted; -1 and errno. */
static int
snapshot(struct wqs_req *r, struct snapshot *sn)
{
	struct wq_queue *q;
	struct row *row;
	size_t i;

	memset(sn, 0, sizeof(*sn));
	sn->all = 1;
	if (wq_spool_list(wqs.spool, &sn->listed, &sn->nlisted) == -1)
		return -1;
	if ((sn->rows = calloc(sn->nlisted + 1, sizeof(*sn->rows))) == NULL)
		return -1;
	for (i = 0; i < sn->nlisted; i++) {
		if (!wqs_may(r, WQS_READ, sn->listed[i]) ||
		    (q = wq_queue_open(wqs.spool, sn->listed[i])) == NULL)
			continue;	/* not theirs, or gone since listed */
		row = &sn->rows[sn->n];
		row->name = sn->listed[i];
		row->pol = *wq_queue_policy(q);
		if (wq_queue_stat(q, &row->st) == 0) {
			stat_clocks_load(row, q);
			sn->n++;
		}
		wq_queue_close(q);
	}
	sn->now = wq_now_ms();
	return 0;
}

static void
serve_families(FILE *fp)
{
	static const char *const class[] = { "", "1xx", "2xx", "3xx", "4xx",
	    "5xx" };
	size_t i;

	fputs("# HELP wq_serve_responses_total HTTP responses sent, by status "
	    "class.\n# TYPE wq_serve_responses_total counter\n", fp);
	for (i = 1; i < 6; i++)
		fprintf(fp, "wq_serve_responses_total{class=\"%s\"} %lu\n",
		    class[i], (unsigned long)wqs.by_class[i]);
	fprintf(fp, "# HELP wq_serve_requests_active Requests begun and not "
	    "finished.\n# TYPE wq_serve_requests_active gauge\n"
	    "wq_serve_requests_active %ld\n", (long)wqs.active);
	fprintf(fp, "# HELP wq_serve_long_polls Receives waiting for a "
	    "message.\n# TYPE wq_serve_long_polls gauge\n"
	    "wq_serve_long_polls %lu\n", wqs_park_count());
	fprintf(fp, "# HELP wq_serve_stream_clients Clients of event "
	    "streams.\n# TYPE wq_serve_stream_clients gauge\n"
	    "wq_serve_stream_clients %lu\n", wqs_stream_count());
	fprintf(fp, "# HELP wq_serve_leases_released_total Leases released "
	    "because their response did not reach the client.\n"
	    "# TYPE wq_serve_leases_released_total counter\n"
	    "wq_serve_leases_released_total %lu\n",
	    (unsigned long)wqs.released);
}

enum MHD_Result
wqs_metrics(struct wqs_req *r)
{
	struct snapshot sn;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *fp;
	int err = 0;

	if (!wqs_may(r, WQS_READ, NULL))
		return MHD_YES;
	if (snapshot(r, &sn) == -1)
		err = errno;
	else if ((fp = open_memstream(&buf, &len)) == NULL)
		err = errno;
	else {
		if (stat_print_prom(fp, &sn) == -1)
			err = errno;
		serve_families(fp);
		if (fclose(fp) != 0 && err == 0)
			err = errno;
	}
	for (i = 0; i < sn.n; i++)
		stat_clocks_free(&sn.rows[i]);
	free(sn.rows);
	wq_names_free(sn.listed, sn.nlisted);
	if (err != 0) {
		free(buf);
		return wqs_respond_errno(r, err, NULL, "cannot count");
	}
	return wqs_respond(r, MHD_HTTP_OK,
	    "text/plain; version=0.0.4; charset=utf-8", buf, len);
}

/* Healthy: the spool can be listed. */
enum MHD_Result
wqs_healthz(struct wqs_req *r)
{
	char **names;
	size_t n;

	if (wq_spool_list(wqs.spool, &names, &n) == -1)
		return wqs_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "cannot list the spool: %s", strerror(errno));
	wq_names_free(names, n);
	return wqs_respond_json(r, MHD_HTTP_OK,
	    json_pack("{s:s}", "status", "ok"));
}

enum MHD_Result
wqs_dashboard(struct wqs_req *r)
{
	return wqs_respond_static(r, "text/html; charset=utf-8",
	    wqs_dashboard_html,
	    (size_t)(wqs_dashboard_html_end - wqs_dashboard_html));
}

enum MHD_Result
wqs_openapi(struct wqs_req *r)
{
	return wqs_respond_static(r, "application/json", wqs_openapi_json,
	    (size_t)(wqs_openapi_json_end - wqs_openapi_json));
}
