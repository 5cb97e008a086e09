/* SPDX-License-Identifier: MIT */
/*
 * fuzz-policy — the reader of a queue's policy file (lib/policy.c): the
 * input is the file, "wq-format 1" then "key value" lines.  A policy
 * that is read must be valid (wq_policy_valid), and must survive
 * wq_policy_write and a second read unchanged: what a reader accepted
 * is what wq-create --update writes back.
 */
#include <errno.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "wq_priv.h"

static int
same(const struct wq_policy *a, const struct wq_policy *b)
{
	return a->visibility == b->visibility &&
	    a->clock_skew == b->clock_skew && a->max_size == b->max_size &&
	    a->sync == b->sync && a->delay == b->delay &&
	    a->retention == b->retention &&
	    a->max_receives == b->max_receives &&
	    strcmp(a->dead_letter, b->dead_letter) == 0 &&
	    a->max_depth == b->max_depth && a->fifo == b->fifo &&
	    a->dedup_window == b->dedup_window && a->dedup == b->dedup &&
	    a->compress == b->compress &&
	    strcmp(a->fanout, b->fanout) == 0 && a->mode == b->mode &&
	    strcmp(a->group, b->group) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int in = -1, out = -1;
	struct wq_policy p, again;

	if (in == -1) {
		if (mkdir(fuzz_path("in"), 0700) == -1 ||
		    mkdir(fuzz_path("out"), 0700) == -1 ||
		    mkdir(fuzz_path("out/tmp"), 0700) == -1 ||
		    (in = open(fuzz_path("in"), O_RDONLY | O_DIRECTORY)) == -1 ||
		    (out = open(fuzz_path("out"), O_RDONLY | O_DIRECTORY)) == -1)
			abort();
	}
	fuzz_write(fuzz_path("in/policy"), data, size);
	if (wq_policy_read(in, &p) == -1) {
		FUZZ_CHECK(errno == EBADMSG || errno == EPROTO);
		return 0;
	}
	FUZZ_CHECK(wq_policy_valid(&p));
	FUZZ_CHECK(wq_policy_write(out, &p, 0) == 0);
	FUZZ_CHECK(wq_policy_read(out, &again) == 0);
	FUZZ_CHECK(same(&p, &again));
	return 0;
}
