/* SPDX-License-Identifier: MIT */
/*
 * fuzz-serve-policy — the JSON policy of PUT /v1/queues/Q in wq-serve
 * (wqs_policy_parse, serve/api-parse.c).  A body it accepts sets only
 * the fields its mask names, each within the bounds of the policy file
 * (so wq_policy_valid holds unless max_receives lacks a dead letter, the
 * one combination left to wq_queue_create); a refused one has a reason.
 */
#include "fuzz.h"
#include "serve.h"
#include "wq_priv.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wq_policy p, def;
	unsigned mask;
	char why[256] = "";

	wq_policy_default(&def);
	if (wqs_policy_parse((const char *)data, size, &p, &mask, why,
	    sizeof(why)) == -1) {
		FUZZ_CHECK(why[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(size > 0 || mask == 0);
	FUZZ_CHECK(p.visibility >= 1 && p.visibility <= 12 * 3600);
	FUZZ_CHECK(p.clock_skew <= 3600 && p.delay <= WQ_DELAY_MAX);
	FUZZ_CHECK(p.max_size >= 1 && p.max_size <= (uint64_t)1 << 40);
	FUZZ_CHECK(p.dead_letter[0] == '\0' || wq_name_valid(p.dead_letter));
	FUZZ_CHECK(p.dedup_window <= WQ_DEDUP_WINDOW_MAX);
	FUZZ_CHECK(p.fanout[0] == '\0' && p.group[0] == '\0' && p.mode == 0);
	FUZZ_CHECK((mask & WQ_POL_VISIBILITY) || p.visibility == def.visibility);
	FUZZ_CHECK((mask & WQ_POL_MAX_SIZE) || p.max_size == def.max_size);
	FUZZ_CHECK((mask & WQ_POL_DEAD_LETTER) || p.dead_letter[0] == '\0');
	FUZZ_CHECK((mask & WQ_POL_FIFO) || p.fifo == def.fifo);
	FUZZ_CHECK(!(mask & (WQ_POL_FANOUT | WQ_POL_MODE | WQ_POL_GROUP)));
	if (p.max_receives == 0 || p.dead_letter[0] != '\0')
		FUZZ_CHECK(wq_policy_valid(&p));
	return 0;
}
