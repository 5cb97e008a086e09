/* SPDX-License-Identifier: MIT */
/*
 * fuzz-auth — the Authorization header in wq-serve (wqs_authenticate of
 * serve/auth.c): the input is the header's value, checked against a
 * tokens file that lists one token, "secret", and no JWT key.  It must
 * let in exactly "Bearer secret" (the scheme in any case, blanks around
 * the credential), with that token's grant; anything else, a JWT among
 * them, is refused with a reason.
 */
#include <strings.h>

#include "fuzz.h"
#include "auth_priv.h"

#define SECRET	"secret"

static struct wqs_auth *
auth(void)
{
	static struct wqs_auth *a;
	struct wqs_auth_opts o = { .tokens_file = fuzz_path("tokens") };
	char line[128], err[256];

	if (a != NULL)
		return a;
	wqs_token_hash(SECRET, strlen(SECRET), line);
	strlcat(line, " send:q* read\n", sizeof(line));
	fuzz_write(fuzz_path("tokens"), (const uint8_t *)line, strlen(line));
	if ((a = wqs_auth_load(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	return a;
}

/* "Bearer secret", give or take the scheme's case and blanks. */
static int
is_secret(const char *h)
{
	size_t n;

	h += strspn(h, " \t");
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	h += strspn(h, " ");
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	return n == strlen(SECRET) && memcmp(h, SECRET, n) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = fuzz_str(data, size);
	struct wqs_grant *g = NULL;
	const char *why = NULL;

	if (wqs_authenticate(auth(), h, 0, &g, &why) == 0) {
		FUZZ_CHECK(is_secret(h));
		FUZZ_CHECK(g != NULL && g->n == 2 && !g->all);
		FUZZ_CHECK(wqs_grant_allows(g, WQS_SEND, "q1") &&
		    !wqs_grant_allows(g, WQS_SEND, "r") &&
		    !wqs_grant_allows(g, WQS_ADMIN, "q"));
		wqs_grant_free(g);
	} else {
		FUZZ_CHECK(!is_secret(h));
		FUZZ_CHECK(why != NULL && g == NULL);
	}
	free(h);
	return 0;
}
