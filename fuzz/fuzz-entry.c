/* SPDX-License-Identifier: MIT */
/*
 * fuzz-entry — the parser of message file names and receipts
 * (lib/name.c): "RR.ID,COUNT,SIZE,GROUP" in new/, with ",DEADLINE,NONCE"
 * in cur/ (a receipt is such a name), and the shorter names of wq 0.1.0.
 * A name that parses must format back to itself (one of the current
 * grammar, but for leading zeros) and parse again to the same entry; a
 * receipt that wq-ack or the HTTP API accepts must be a cur/ name, no
 * path (no '/'), not of a delayed message.
 */
#include <errno.h>

#include "fuzz.h"
#include "wq_priv.h"

static int
same(const struct wq_entry *a, const struct wq_entry *b)
{
	return a->rank == b->rank && strcmp(a->id, b->id) == 0 &&
	    a->count == b->count && a->size == b->size &&
	    strcmp(a->group, b->group) == 0 && a->deadline == b->deadline &&
	    strcmp(a->nonce, b->nonce) == 0;
}

static void
entry(const char *s, int incur)
{
	struct wq_entry e, again;
	char buf[WQ_RECEIPT_MAX * 2], buf2[WQ_RECEIPT_MAX * 2];
	size_t commas = 0;
	const char *p;

	if (wq_entry_parse(s, incur, &e) == -1) {
		FUZZ_CHECK(errno == EINVAL);
		return;
	}
	FUZZ_CHECK(strchr(s, '/') == NULL);
	FUZZ_CHECK(e.rank <= 0xff);
	FUZZ_CHECK(e.group[0] == '\0' || wq_group_valid(e.group));
	FUZZ_CHECK(wq_entry_format(&e, incur, buf, sizeof(buf)) == 0);
	for (p = s; *p != '\0'; p++)
		commas += *p == ',';
	/*
	 * A name of the current grammar formats back to itself, but for
	 * leading zeros of its numbers, which make it longer.
	 */
	if (commas == (incur ? 5u : 3u))
		FUZZ_CHECK(strlen(buf) < strlen(s) || strcmp(buf, s) == 0);
	FUZZ_CHECK(wq_entry_parse(buf, incur, &again) == 0);
	FUZZ_CHECK(same(&e, &again));
	FUZZ_CHECK(wq_entry_format(&again, incur, buf2, sizeof(buf2)) == 0 &&
	    strcmp(buf, buf2) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct wq_entry e;

	entry(s, 0);
	entry(s, 1);
	if (wq_receipt_parse(s, &e) == 0) {
		FUZZ_CHECK(wq_receipt_valid(s));
		FUZZ_CHECK(strlen(s) < WQ_RECEIPT_MAX);
		FUZZ_CHECK(strchr(s, '/') == NULL && s[0] != '.');
		FUZZ_CHECK(strcmp(e.nonce, WQ_DELAYED) != 0 &&
		    strlen(e.nonce) == 16);
	} else
		FUZZ_CHECK(!wq_receipt_valid(s));
	free(s);
	return 0;
}
