/* SPDX-License-Identifier: MIT */
/*
 * policy.c — a queue's policy as the wq-* binaries show it: a compact
 * "key=value,..." line for tables (the defaults that nobody set left
 * out, except visibility and sync) and a JSON object with every key.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

static void __attribute__((format(printf, 3, 4)))
add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	if (used < len)
		vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* "visibility=30,sync=always,fifo,max-receives=3,dead-letter=dlq,..." */
void
wqx_policy_flags(const struct wq_policy *p, char *buf, size_t len)
{
	char fan[sizeof(p->fanout)], *c;

	snprintf(buf, len, "visibility=%" PRIu32 ",sync=%s", p->visibility,
	    wq_sync_name(p->sync));
	if (p->fifo)
		add(buf, len, ",fifo");
	if (p->delay)
		add(buf, len, ",delay=%" PRIu32, p->delay);
	if (p->retention)
		add(buf, len, ",retention=%" PRIu64, p->retention);
	if (p->max_receives)
		add(buf, len, ",max-receives=%" PRIu32, p->max_receives);
	if (p->dead_letter[0])
		add(buf, len, ",dead-letter=%s", p->dead_letter);
	if (p->max_depth)
		add(buf, len, ",max-depth=%" PRIu64, p->max_depth);
	if (p->dedup == WQ_DEDUP_CONTENT)
		add(buf, len, ",content-dedup");
	if (p->compress != WQ_COMPRESS_NEVER)
		add(buf, len, ",compress=%s", wq_compress_name(p->compress));
	if (p->fanout[0]) {
		/* The list's commas would read as more flags. */
		strlcpy(fan, p->fanout, sizeof(fan));
		for (c = fan; (c = strchr(c, ',')) != NULL; c++)
			*c = '+';
		add(buf, len, ",fanout=%s", fan);
	}
	if (p->mode)
		add(buf, len, ",mode=%04" PRIo32, p->mode);
	if (p->group[0])
		add(buf, len, ",group=%s", p->group);
}

json_t *
wqx_policy_json(const struct wq_policy *p)
{
	char mode[16];

	snprintf(mode, sizeof(mode), "%04" PRIo32, p->mode);
	return json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:s?, s:I, s:b, "
	    "s:I, s:s, s:s, s:s?, s:s?, s:s?}",
	    "visibility", (json_int_t)p->visibility,
	    "sync", wq_sync_name(p->sync),
	    "max_size", (json_int_t)p->max_size,
	    "clock_skew", (json_int_t)p->clock_skew,
	    "delay", (json_int_t)p->delay,
	    "retention", (json_int_t)p->retention,
	    "max_receives", (json_int_t)p->max_receives,
	    "dead_letter", p->dead_letter[0] ? p->dead_letter : NULL,
	    "max_depth", (json_int_t)p->max_depth,
	    "fifo", p->fifo,
	    "dedup_window", (json_int_t)p->dedup_window,
	    "dedup", p->dedup == WQ_DEDUP_CONTENT ? "content" : "id",
	    "compress", wq_compress_name(p->compress),
	    "fanout", p->fanout[0] ? p->fanout : NULL,
	    "mode", p->mode ? mode : NULL,
	    "group", p->group[0] ? p->group : NULL);
}
