/* SPDX-License-Identifier: MIT */
/*
 * wq-stat — how full the queues are: a table, or JSON.  Counts come from
 * directory listings; no message body is read.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "common.h"

static const char usage[] =
    "[-hV] [-d dir] [--json] [queue ...]\n"
    "  -d, --dir DIR   spool directory\n"
    "      --json      JSON instead of a table\n"
    "  -h, --help      this text\n"
    "  -V, --version   the version";

static const struct option longopts[] = {
	WQX_COMMON_LONGOPTS,
	{ "json",	no_argument,		NULL,	OPT_JSON },
	{ NULL,		0,			NULL,	0 }
};

struct row {
	const char		*name;
	struct wq_stat		 st;
	struct wq_policy	 pol;
};

static int64_t
age_seconds(const struct wq_stat *st, int64_t now)
{
	if (st->oldest_ready_ms < 0)
		return -1;
	return st->oldest_ready_ms > now ? 0 :
	    (now - st->oldest_ready_ms) / 1000;
}

static void
print_table(const struct row *rows, size_t n, int64_t now)
{
	char age[32];
	size_t i;

	printf("%-24s %8s %8s %8s %8s %8s %12s  %s\n", "QUEUE", "READY",
	    "DELAYED", "INFLIGHT", "TOTAL", "AGE", "BYTES", "POLICY");
	for (i = 0; i < n; i++) {
		const struct wq_stat *st = &rows[i].st;
		int64_t a = age_seconds(st, now);

		if (a < 0)
			strlcpy(age, "-", sizeof(age));
		else
			snprintf(age, sizeof(age), "%" PRId64 "s", a);
		printf("%-24s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		    " %8s %12" PRIu64 "  visibility=%" PRIu32 ",sync=%s\n",
		    rows[i].name, st->ready, st->delayed, st->inflight,
		    st->total, age, st->bytes, rows[i].pol.visibility,
		    wq_sync_name(rows[i].pol.sync));
	}
}

static json_t *
row_json(const struct row *r, int64_t now)
{
	int64_t a = age_seconds(&r->st, now);

	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:{s:I, s:s, "
	    "s:I}}", "queue", r->name,
	    "ready", (json_int_t)r->st.ready,
	    "delayed", (json_int_t)r->st.delayed,
	    "inflight", (json_int_t)r->st.inflight,
	    "total", (json_int_t)r->st.total,
	    "bytes", (json_int_t)r->st.bytes,
	    "oldest_age_seconds", a < 0 ? json_null() : json_integer(a),
	    "policy", "visibility", (json_int_t)r->pol.visibility,
	    "sync", wq_sync_name(r->pol.sync),
	    "max_size", (json_int_t)r->pol.max_size);
}

static void
print_json(const struct row *rows, size_t n, int64_t now)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, row_json(&rows[i], now));
	if (json_dumpf(arr, stdout, JSON_COMPACT) == -1)
		wqx_die(EIO, NULL, "cannot write JSON");
	putchar('\n');
	json_decref(arr);
}

int
main(int argc, char *argv[])
{
	struct wq_spool *s;
	struct wq_queue *q;
	struct row *rows;
	char **names = NULL;
	size_t n, i;
	int ch, jflag = 0;

	while ((ch = getopt_long(argc, argv, "d:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_JSON:
			jflag = 1;
			break;
		default:
			wqx_common_option(ch, usage);
		}
	}
	argc -= optind;
	argv += optind;
	wqx_sandbox("stdio rpath wpath cpath");
	s = wqx_spool(0);
	if (argc == 0) {
		if (wq_spool_list(s, &names, &n) == -1)
			wqx_die(errno, wq_spool_path(s), "cannot list queues");
	} else {
		names = argv;
		n = (size_t)argc;
	}
	if ((rows = calloc(n ? n : 1, sizeof(*rows))) == NULL)
		wqx_die(errno, NULL, "cannot list queues");
	for (i = 0; i < n; i++) {
		q = wqx_queue(s, names[i]);
		rows[i].name = names[i];
		rows[i].pol = *wq_queue_policy(q);
		(void)wq_queue_sweep(q);
		if (wq_queue_stat(q, &rows[i].st) == -1)
			wqx_die(errno, names[i], "cannot count messages");
		wq_queue_close(q);
	}
	if (jflag)
		print_json(rows, n, wq_now_ms());
	else
		print_table(rows, n, wq_now_ms());
	if (fflush(stdout) == EOF)
		wqx_die(errno, NULL, "cannot write");
	free(rows);
	if (argc == 0)
		wq_names_free(names, n);
	wq_spool_close(s);
	return 0;
}
