/* SPDX-License-Identifier: MIT */
/*
 * stat-row.c — one queue's counts as numbers and as JSON: shared by
 * wq-stat and wq-serve, so both show a queue the same way.
 */
#include "common.h"
#include "stat.h"

/* Seconds the oldest ready message has waited, or -1 if none is ready. */
int64_t
stat_age_seconds(const struct wq_stat *st, int64_t now)
{
	if (st->oldest_ready_ms < 0)
		return -1;
	return st->oldest_ready_ms > now ? 0 :
	    (now - st->oldest_ready_ms) / 1000;
}

/* Field f of a queue; an age of 0 if no message is ready. */
uint64_t
stat_row_value(const struct row *r, enum field f, int64_t now)
{
	int64_t a;

	switch (f) {
	case F_READY:
		return r->st.ready;
	case F_DELAYED:
		return r->st.delayed;
	case F_INFLIGHT:
		return r->st.inflight;
	case F_TOTAL:
		return r->st.total;
	case F_BYTES:
		return r->st.bytes;
	case F_AGE:
		a = stat_age_seconds(&r->st, now);
		return a < 0 ? 0 : (uint64_t)a;
	case F_VISIBILITY:
		return r->pol.visibility;
	case F_MAX_SIZE:
		return r->pol.max_size;
	}
	return 0;
}

/* A queue as wq-stat --json and wq-serve show it. */
json_t *
stat_row_json(const struct row *r, int64_t now)
{
	int64_t a = stat_age_seconds(&r->st, now);

	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
	    "queue", r->name,
	    "ready", (json_int_t)r->st.ready,
	    "delayed", (json_int_t)r->st.delayed,
	    "inflight", (json_int_t)r->st.inflight,
	    "total", (json_int_t)r->st.total,
	    "bytes", (json_int_t)r->st.bytes,
	    "oldest_age_seconds", a < 0 ? json_null() : json_integer(a),
	    "policy", wqx_policy_json(&r->pol),
	    "hosts", stat_clocks_json(r));
}
