/* SPDX-License-Identifier: MIT */
/*
 * fuzz-attr — the validators of attribute keys and values (lib/attr.c).
 * An accepted key becomes the shell variable WQ_ATTR_KEY of exec mode:
 * [A-Za-z_][A-Za-z0-9_]*, at most WQ_ATTR_KEY_MAX bytes.  An accepted
 * value goes on one header line and into a JSON string: at most
 * WQ_ATTR_VALUE_MAX bytes, no control byte (so no newline), UTF-8.
 * The input is split at its first NUL: the key, then the value.
 */
#include <jansson.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *key = fuzz_str(data, size), *value;
	size_t i, len = strlen(key);
	json_t *j;

	value = len < size ? key + len + 1 : key + len;
	if (wq_attr_key_valid(key)) {
		FUZZ_CHECK(len >= 1 && len <= WQ_ATTR_KEY_MAX);
		FUZZ_CHECK(!(key[0] >= '0' && key[0] <= '9'));
		FUZZ_CHECK(strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_") == len);
	}
	if (wq_attr_value_valid(value)) {
		len = strlen(value);
		FUZZ_CHECK(len <= WQ_ATTR_VALUE_MAX);
		for (i = 0; i < len; i++)
			FUZZ_CHECK((unsigned char)value[i] >= 0x20 &&
			    value[i] != 0x7f);
		FUZZ_CHECK((j = json_string(value)) != NULL);
		FUZZ_CHECK(strcmp(json_string_value(j), value) == 0);
		json_decref(j);
	}
	free(key);
	return 0;
}
