/* SPDX-License-Identifier: MIT */
/*
 * fuzz-tokens — the reader of wq-serve's --tokens file (serve/tokens.c):
 * "sha256:HEX SCOPE..." lines, blank lines, "#" comments.  A file that
 * loads lets in only the tokens whose hash it lists: "secret", whose
 * hash the file may well hold, is let in only if the file lists it,
 * and then with a grant of at least one scope; a file that does not
 * load has a one-line reason that names the tokens file.
 */
#include "fuzz.h"
#include "auth_priv.h"

#define SECRET	"secret"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wqs_tokens *t;
	struct wqs_grant *g = NULL;
	const char *why = NULL;
	char err[256] = "", hash[72], *s;

	fuzz_write(fuzz_path("tokens"), data, size);
	if ((t = wqs_tokens_load(fuzz_path("tokens"), err,
	    sizeof(err))) == NULL) {
		FUZZ_CHECK(strncmp(err, "tokens: ", 8) == 0 &&
		    strchr(err, '\n') == NULL);
		return 0;
	}
	wqs_token_hash(SECRET, strlen(SECRET), hash);
	s = fuzz_str(data, size);
	if (wqs_tokens_check(t, SECRET, strlen(SECRET), &g, &why) == 0) {
		FUZZ_CHECK(strstr(s, hash) != NULL || strcasestr(s, hash + 7));
		FUZZ_CHECK(g != NULL && g->n > 0 && !g->all);
		FUZZ_CHECK(strncmp(wqs_grant_name(g), "token ", 6) == 0);
		wqs_grant_free(g);
	} else
		FUZZ_CHECK(why != NULL && g == NULL);
	FUZZ_CHECK(wqs_tokens_check(t, "x", 1, &g, &why) == -1);
	free(s);
	wqs_tokens_free(t);
	return 0;
}
