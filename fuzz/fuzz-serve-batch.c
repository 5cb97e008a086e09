/* SPDX-License-Identifier: MIT */
/*
 * fuzz-serve-batch — the JSON body of POST /v1/queues/Q/batch in
 * wq-serve (serve/api-parse.c): the document, and for each message its
 * body ("body" or "body_base64"), the key of its options and those
 * options set on a sender of a real queue (priority, delay, group,
 * attributes: what lib/send.c validates), as wqs_send_batch does,
 * without the commit.  A document accepted has 1 to WQS_MAX_BATCH
 * messages; a base64 body decodes to at most 3/4 of its text; a
 * message whose options are accepted has attributes that validate,
 * whole (no NUL cuts one short).
 */
#include <errno.h>

#include "fuzz.h"
#include "serve.h"

static void
message(struct wq_queue *q, json_t *m)
{
	struct wq_sender *s;
	json_t *attrs, *v, *b64;
	const char *k;
	char *body, *key;
	size_t len;

	if (wqs_batch_body(m, &body, &len) == 0) {
		b64 = json_object_get(m, "body_base64");
		FUZZ_CHECK(b64 != NULL ? len <= json_string_length(b64) / 4 * 3 :
		    len == json_string_length(json_object_get(m, "body")));
		free(body);
	} else
		FUZZ_CHECK(body == NULL);
	if ((key = wqs_batch_key(m)) == NULL)
		return;
	free(key);
	if ((s = wq_sender_open(q)) == NULL)
		abort();
	if (wqs_batch_options(s, m) == 0) {
		attrs = json_object_get(m, "attributes");
		/* jansson refuses \u0000: no value is cut at a NUL. */
		json_object_foreach(attrs, k, v)
			FUZZ_CHECK(wq_attr_key_valid(k) &&
			    wq_attr_value_valid(json_string_value(v)) &&
			    strlen(json_string_value(v)) ==
			    json_string_length(v));
	} else
		FUZZ_CHECK(errno == EINVAL || errno == EILSEQ ||
		    errno == EMSGSIZE);
	wq_sender_close(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wq_queue *q = fuzz_queue(NULL, 0);
	json_t *doc, *list;
	char why[256] = "";
	size_t i;

	if ((doc = wqs_batch_parse((const char *)data, size, why,
	    sizeof(why))) == NULL) {
		FUZZ_CHECK(why[0] != '\0');
		return 0;
	}
	list = json_object_get(doc, "messages");
	FUZZ_CHECK(json_array_size(list) >= 1 &&
	    json_array_size(list) <= WQS_MAX_BATCH);
	for (i = 0; i < json_array_size(list); i++)
		message(q, json_array_get(list, i));
	json_decref(doc);
	return 0;
}
