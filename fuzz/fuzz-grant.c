/* SPDX-License-Identifier: MIT */
/*
 * fuzz-grant — scopes "VERB:GLOB" (or a bare "VERB") of tokens and JWTs
 * (wqs_grant_add, wqs_grant_allows, wqs_grant_dup of serve/auth.c).  The
 * input is a list of scopes, one a line; the last line is a queue name
 * to ask about.  A scope added has one known verb and a non-empty glob;
 * a duplicate grant allows exactly what the original does; a grant
 * allows a verb on every queue only with a scope of glob "*".
 */
#include <errno.h>
#include <fnmatch.h>

#include "fuzz.h"
#include "auth_priv.h"

static const enum wqs_verb verbs[] = { WQS_READ, WQS_SEND, WQS_RECV,
    WQS_ADMIN };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *line = s, *nl, *queue;
	struct wqs_grant *g, *d;
	size_t i, k, before;
	int star;

	if ((g = wqs_grant_new("fuzz")) == NULL)
		abort();
	queue = strrchr(s, '\n') != NULL ? strrchr(s, '\n') + 1 : s;
	for (; line < queue; line = nl + 1) {
		nl = strchr(line, '\n');
		before = g->n;
		if (wqs_grant_add(g, line, (size_t)(nl - line)) == -1) {
			FUZZ_CHECK(errno == EINVAL && g->n == before);
			continue;
		}
		FUZZ_CHECK(g->n == before + 1);
		FUZZ_CHECK(g->scopes[before].glob[0] != '\0');
		FUZZ_CHECK(strcmp(wqs_verb_name((enum wqs_verb)
		    g->scopes[before].verbs), "?") != 0);
	}
	if ((d = wqs_grant_dup(g)) == NULL)
		abort();
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		FUZZ_CHECK(wqs_grant_allows(g, verbs[i], queue) ==
		    wqs_grant_allows(d, verbs[i], queue));
		star = 0;
		for (k = 0; k < g->n; k++)
			star |= (g->scopes[k].verbs & verbs[i]) &&
			    strcmp(g->scopes[k].glob, "*") == 0;
		FUZZ_CHECK(wqs_grant_allows(g, verbs[i], NULL) == star);
		if (star)
			FUZZ_CHECK(wqs_grant_allows(g, verbs[i], queue));
	}
	FUZZ_CHECK(!wqs_grant_allows(g, 0, queue));
	wqs_grant_free(d);
	wqs_grant_free(g);
	free(s);
	return 0;
}
