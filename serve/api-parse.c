/* SPDX-License-Identifier: MIT */
/*
 * api-parse.c — the JSON bodies of requests, read without a request: the
 * policy of PUT /v1/queues/Q and the messages of POST .../batch.  They
 * live apart from their handlers (api-queue.c, api-send.c) so that the
 * fuzz targets of fuzz/ can call them without libmicrohttpd or a server.
 */
#include <netinet/in.h>

#include <errno.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

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

/*
 * The body of a PUT: a JSON object of policy keys, or nothing (len 0).
 * 0, or -1 and why (the text of the 400).
 */
int
wqs_policy_parse(const char *body, size_t len, struct wq_policy *pol,
    unsigned *mask, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *o, *v;
	const char *k;
	unsigned bit;

	wq_policy_default(pol);
	*mask = 0;
	if (len == 0)
		return 0;
	if ((o = json_loadb(body, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL || !json_is_object(o)) {
		json_decref(o);
		snprintf(why, whylen, "policy is not a JSON object: %s",
		    o ? "" : jerr.text);
		return -1;
	}
	json_object_foreach(o, k, v) {
		if ((bit = policy_key(k, v, pol)) == 0) {
			snprintf(why, whylen,
			    "invalid policy key or value: %.64s", k);
			json_decref(o);
			return -1;
		}
		*mask |= bit;
	}
	json_decref(o);
	return 0;
}

/*
 * The document of a batch, {"messages": [...]} with 1 to WQS_MAX_BATCH
 * messages; NULL and why (the text of the 400) if not.
 */
json_t *
wqs_batch_parse(const char *body, size_t len, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *doc, *list;

	doc = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
	list = json_object_get(doc, "messages");
	if (doc == NULL || !json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > WQS_MAX_BATCH) {
		snprintf(why, whylen, "want {\"messages\": [...]} with 1 to %d "
		    "messages%s%s", WQS_MAX_BATCH, doc ? "" : ": ",
		    doc ? "" : jerr.text);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* The options that need a sender of their own, as one string. */
char *
wqs_batch_key(json_t *m)
{
	json_t *o = json_object();
	static const char *const keys[] = { "priority", "delay", "group",
	    "attributes" };
	char *s;
	size_t i;

	for (i = 0; o != NULL && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(m, keys[i]) != NULL)
			json_object_set(o, keys[i], json_object_get(m, keys[i]));
	s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return s;
}

static int
apply_attributes(struct wq_sender *s, json_t *attrs)
{
	const char *k;
	json_t *v;

	if (attrs == NULL)
		return 0;
	if (!json_is_object(attrs))
		goto bad;
	json_object_foreach(attrs, k, v) {
		if (!json_is_string(v))
			goto bad;
		if (wq_sender_attr(s, k, json_string_value(v)) == -1)
			return -1;
	}
	return 0;
bad:
	errno = EILSEQ;
	return -1;
}

/* Set up a sender for messages with m's options. */
int
wqs_batch_options(struct wq_sender *s, json_t *m)
{
	json_t *p = json_object_get(m, "priority"),
	    *d = json_object_get(m, "delay"), *g = json_object_get(m, "group");

	errno = EINVAL;
	if (p != NULL && (!json_is_integer(p) || json_integer_value(p) <
	    WQ_PRIORITY_MIN || json_integer_value(p) > WQ_PRIORITY_MAX ||
	    wq_sender_priority(s, (int)json_integer_value(p)) == -1))
		return -1;
	if (d != NULL && (!json_is_integer(d) || json_integer_value(d) < 0 ||
	    json_integer_value(d) > WQ_DELAY_MAX ||
	    wq_sender_delay(s, (uint32_t)json_integer_value(d)) == -1))
		return -1;
	if (g != NULL && (!json_is_string(g) ||
	    wq_sender_group(s, json_string_value(g)) == -1))
		return -1;
	return apply_attributes(s, json_object_get(m, "attributes"));
}

/* A message's body: "body" text or "body_base64"; -1 if neither. */
int
wqs_batch_body(json_t *m, char **buf, size_t *len)
{
	json_t *t = json_object_get(m, "body"),
	    *b64 = json_object_get(m, "body_base64");
	const char *src;
	size_t n;
	int got;

	*buf = NULL;
	if (json_is_string(t) && b64 == NULL) {
		*len = json_string_length(t);
		return (*buf = malloc(*len + 1)) == NULL ? -1 :
		    (memcpy(*buf, json_string_value(t), *len), 0);
	}
	if (!json_is_string(b64) || t != NULL)
		return -1;
	src = json_string_value(b64);
	n = json_string_length(b64);
	if (n % 4 != 0 || (*buf = malloc(n / 4 * 3 + 1)) == NULL)
		return -1;
	if ((got = b64_pton(src, (unsigned char *)*buf, n / 4 * 3 + 1)) < 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	*len = (size_t)got;
	return 0;
}
