/* SPDX-License-Identifier: MIT */
/*
 * stat-prom.c — wq-stat --prom: a snapshot in the Prometheus text
 * exposition format, one gauge per field, labelled by queue, with HELP
 * and TYPE lines even when there is no queue.
 */
#include <inttypes.h>
#include <stdio.h>

#include "stat.h"

static const struct metric {
	enum field	 field;
	const char	*name;
	const char	*help;
} metrics[] = {
	{ F_READY, "wq_messages_ready", "Messages that can be received now." },
	{ F_DELAYED, "wq_messages_delayed",
	    "Messages released with a delay that has not ended yet." },
	{ F_INFLIGHT, "wq_messages_inflight",
	    "Messages leased to a consumer whose lease has not ended yet." },
	{ F_TOTAL, "wq_messages",
	    "All messages of the queue: ready, delayed and in flight." },
	{ F_BYTES, "wq_messages_bytes", "The size of all message files." },
	{ F_AGE, "wq_oldest_ready_age_seconds",
	    "How long the oldest ready message has waited; 0 if none is ready." },
	{ F_VISIBILITY, "wq_policy_visibility_seconds",
	    "The default lease of the queue's policy." },
	{ F_MAX_SIZE, "wq_policy_max_size_bytes",
	    "The largest message body the queue's policy accepts." },
};
#define NMETRICS (sizeof(metrics) / sizeof(metrics[0]))

/* A label value of the text exposition format. */
static void
put_label(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			putc('\\', fp);
		if (*s == '\n')
			fputs("\\n", fp);
		else
			putc(*s, fp);
	}
}

/* Each host's clock offset, from its probe in the queue (wq-stat only;
 * none on a local filesystem, where every process has the same clock). */
static void
host_clocks(FILE *fp, const struct snapshot *sn)
{
	size_t i, j;

	fputs("# HELP wq_host_clock_offset_seconds A host's clock minus the "
	    "file server's, from its newest probe in the queue.\n"
	    "# TYPE wq_host_clock_offset_seconds gauge\n", fp);
	for (i = 0; i < sn->n; i++)
		for (j = 0; j < sn->rows[i].nclocks; j++) {
			const struct wq_host_clock *h = &sn->rows[i].clocks[j];

			fputs("wq_host_clock_offset_seconds{queue=\"", fp);
			put_label(fp, sn->rows[i].name);
			fputs("\",host=\"", fp);
			put_label(fp, h->host);
			fprintf(fp, "\"} %.3f\n", (double)h->offset_ms / 1000);
		}
}

/* 0, or -1 if fp has an error. */
int
stat_print_prom(FILE *fp, const struct snapshot *sn)
{
	const struct metric *m;
	size_t i;

	for (m = metrics; m < metrics + NMETRICS; m++) {
		fprintf(fp, "# HELP %s %s\n# TYPE %s gauge\n", m->name, m->help,
		    m->name);
		for (i = 0; i < sn->n; i++) {
			fprintf(fp, "%s{queue=\"", m->name);
			put_label(fp, sn->rows[i].name);
			fprintf(fp, "\"} %" PRIu64 "\n",
			    stat_row_value(&sn->rows[i], m->field, sn->now));
		}
	}
	host_clocks(fp, sn);
	return ferror(fp) ? -1 : 0;
}
