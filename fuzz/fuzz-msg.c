/* SPDX-License-Identifier: MIT */
/*
 * fuzz-msg — the reader of message files (lib/msg.c, lib/attr.c,
 * lib/compress.c, lib/json.c): the input is a message file ("wq 1",
 * sent, size, attr, queue, encoding zstd, length, an empty line, the
 * body), loaded as a claim loads it, its body read (decompressed) and
 * made into the JSON of wq-recv --json.  A file that loads must have a
 * header that parses, a body of the size it says, attributes within the
 * limit; a plain body must be the bytes after the header.
 */
#include <errno.h>

#include "fuzz.h"
#include "wq_priv.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct wq_entry ent = {
		.rank = WQ_RANK_DEFAULT,
		.id = "0005f1e2d3c4b5a6.1.00000000.00000000.fuzz",
	};
	static int dirfd = -1;
	struct wq_queue *q = fuzz_queue(NULL, 0);
	struct wq_msg *m;
	const void *body;
	int64_t sent;
	uint64_t hsize;
	size_t len, hdrlen;
	char *json;

	if (dirfd == -1 && (dirfd = open(fuzz_dir(), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		abort();
	fuzz_write(fuzz_path("msg"), data, size);
	if ((m = wq_msg_load(q, dirfd, "msg", &ent)) == NULL) {
		FUZZ_CHECK(errno != 0);
		return 0;
	}
	FUZZ_CHECK(wq_msg_parse_header((const char *)data, size, &sent, &hsize,
	    &hdrlen) == 0);
	FUZZ_CHECK(m->body_off == (off_t)hdrlen && hdrlen + hsize == size);
	FUZZ_CHECK(m->nattr <= WQ_ATTR_MAX);
	FUZZ_CHECK(m->zstd || m->size == hsize);
	if (wq_msg_body(m, &body, &len) == 0) {
		FUZZ_CHECK(len == m->size);
		FUZZ_CHECK(m->zstd || memcmp(body, data + hdrlen, len) == 0);
		json = wq_msg_json(m, 0);
		FUZZ_CHECK(json != NULL || errno == ENOMEM);
		free(json);
	} else
		FUZZ_CHECK(m->zstd && (errno == EBADMSG || errno == ENOMEM));
	wq_msg_free(m);
	return 0;
}
