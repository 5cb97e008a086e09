/* SPDX-License-Identifier: MIT */
/*
 * fuzz-name — the validator of queue names and FIFO groups (lib/name.c).
 * A name it accepts becomes a directory of the spool: it must be 1 to
 * WQ_NAME_MAX bytes of [A-Za-z0-9._-] starting with a letter or digit,
 * so no '/', no "." or "..", no control or non-ASCII byte; a group is a
 * name of at most WQ_GROUP_MAX bytes.
 */
#include <ctype.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	size_t i, len = strlen(s);

	if (wq_name_valid(s)) {
		FUZZ_CHECK(len >= 1 && len <= WQ_NAME_MAX);
		FUZZ_CHECK(isalnum((unsigned char)s[0]));
		FUZZ_CHECK(strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
		    strcmp(s, "..") != 0);
		for (i = 0; i < len; i++)
			FUZZ_CHECK((unsigned char)s[i] > 0x20 &&
			    (unsigned char)s[i] < 0x7f);
		FUZZ_CHECK(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789._-") == len);
	}
	if (wq_group_valid(s))
		FUZZ_CHECK(wq_name_valid(s) && len <= WQ_GROUP_MAX);
	else
		FUZZ_CHECK(!wq_name_valid(s) || len > WQ_GROUP_MAX);
	free(s);
	return 0;
}
