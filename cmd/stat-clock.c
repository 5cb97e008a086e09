/* SPDX-License-Identifier: MIT */
/*
 * stat-clock.c — the clocks of the hosts that use a queue (from the
 * probes they leave in its clock/, see lib/hostclock.c): loaded with each
 * queue's counts, shown in JSON, and a warning on standard error when two
 * hosts disagree by more than the queue's clock-skew, which is when a
 * lease could be taken from a consumer that still holds it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "stat.h"

/* Best effort: a queue whose clock/ cannot be read shows no hosts
 * (wq_queue_clocks leaves none when it fails). */
void
stat_clocks_load(struct row *r, struct wq_queue *q)
{
	(void)wq_queue_clocks(q, &r->clocks, &r->nclocks, &r->clock_spread_ms);
}

void
stat_clocks_free(struct row *r)
{
	free(r->clocks);
	r->clocks = NULL;
	r->nclocks = 0;
}

/* Whether the hosts' clocks differ by more than the queue tolerates. */
int
stat_clocks_off(const struct row *r)
{
	return r->clock_spread_ms > (int64_t)r->pol.clock_skew * 1000;
}

/* "+1.2 s" for milliseconds. */
void
stat_seconds(char *buf, size_t len, int64_t ms)
{
	int64_t a = ms < 0 ? -ms : ms;

	snprintf(buf, len, "%c%" PRId64 ".%" PRId64 " s", ms < 0 ? '-' : '+',
	    a / 1000, a % 1000 / 100);
}

/* One line on standard error for each queue whose hosts disagree. */
void
stat_clocks_warn(const struct snapshot *sn)
{
	char list[1024], one[WQ_HOST_MAX + 48], spread[32];
	size_t i, j;

	for (i = 0; i < sn->n; i++) {
		const struct row *r = &sn->rows[i];

		if (!stat_clocks_off(r))
			continue;
		list[0] = '\0';
		for (j = 0; j < r->nclocks; j++) {
			const struct wq_host_clock *h = &r->clocks[j];

			stat_seconds(spread, sizeof(spread), h->from_median_ms);
			snprintf(one, sizeof(one), "%s%s %s", j ? ", " : "",
			    h->host, spread);
			strlcat(list, one, sizeof(list));
		}
		stat_seconds(spread, sizeof(spread), r->clock_spread_ms);
		wqx_warn(0, r->name, "warning: the clocks of its hosts differ "
		    "by %s, more than its clock-skew of %" PRIu32 " s (%s, "
		    "from their median); leases may be taken too early",
		    spread + 1, r->pol.clock_skew, list);
	}
}

/* The hosts as a JSON array: name, offsets, and when last seen. */
json_t *
stat_clocks_json(const struct row *r)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < r->nclocks; i++) {
		const struct wq_host_clock *h = &r->clocks[i];

		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I}",
		    "host", h->host,
		    "offset_ms", (json_int_t)h->offset_ms,
		    "from_median_ms", (json_int_t)h->from_median_ms,
		    "seen_ms", (json_int_t)h->seen_ms));
	}
	return arr;
}
