/* SPDX-License-Identifier: MIT */
/*
 * json.c — a message as one JSON object, the record of `wq-recv --json`
 * (and of the HTTP API to come).  A body that is valid UTF-8 is a JSON
 * string ("body"); any other body is base64 ("body_base64"), so every
 * byte survives.
 */
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <resolv.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "wq_priv.h"

static json_t *
body_base64(const void *body, size_t len)
{
	json_t *s;
	char *out;
	size_t olen;

	if (len > (SIZE_MAX - 8) / 4 * 3)
		return NULL;
	olen = (len + 2) / 3 * 4 + 1;
	if ((out = malloc(olen)) == NULL)
		return NULL;
	if (b64_ntop(body, len, out, olen) == -1) {
		free(out);
		return NULL;
	}
	s = json_string(out);
	free(out);
	return s;
}

/* RFC 3339 UTC with milliseconds. */
static json_t *
timestamp(int64_t ms)
{
	char buf[80];
	struct tm tm;
	time_t t = (time_t)(ms / 1000);

	if (gmtime_r(&t, &tm) == NULL)
		return json_null();
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return json_string(buf);
}

/*
 * The message as a compact JSON object, malloc'd; NULL on failure.  The
 * receipt is null for a peeked message or with WQ_JSON_NO_RECEIPT.
 */
char *
wq_msg_json(struct wq_msg *m, unsigned flags)
{
	const void *body;
	size_t len, i;
	json_t *o, *b, *attrs;
	char *s;

	if (wq_msg_body(m, &body, &len) == -1)
		return NULL;
	if ((attrs = json_object()) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < m->nattr; i++)
		json_object_set_new(attrs, m->attr_key[i],
		    json_string(m->attr_value[i]));
	o = json_pack("{s:s, s:o, s:o, s:i, s:o, s:I, s:o}",
	    "id", m->ent.id,
	    "receipt", m->peeked || (flags & WQ_JSON_NO_RECEIPT) ? json_null() :
	    json_string(m->receipt),
	    "attributes", attrs,
	    "priority", wq_msg_priority(m),
	    "sent_at", timestamp(m->sent_ms),
	    "receive_count", (json_int_t)m->ent.count,
	    "group", m->ent.group[0] ? json_string(m->ent.group) : json_null());
	if (o == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if ((b = json_stringn(body, len)) != NULL)
		json_object_set_new(o, "body", b);
	else if ((b = body_base64(body, len)) != NULL)
		json_object_set_new(o, "body_base64", b);
	else {
		json_decref(o);
		errno = ENOMEM;
		return NULL;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		errno = ENOMEM;
	return s;
}
