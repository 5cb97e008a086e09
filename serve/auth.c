/* SPDX-License-Identifier: MIT */
/*
 * auth.c — the Authorization header and what a credential allows.
 * "Bearer X": X with exactly two dots is a JWT (jwt.c), anything else a
 * service token (tokens.c).  Both end in a grant, a list of scopes
 * VERB:GLOB that wqs_grant_allows matches with fnmatch(3).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_priv.h"

struct wqs_auth {
	int		 enabled;
	struct wqs_tokens *tokens;	/* NULL: none */
	struct wqs_jwt	*jwt;		/* NULL: no key */
};

static const struct {
	const char	*name;
	unsigned	 verbs;
} verbs[] = {
	{ "read", WQS_READ },
	{ "send", WQS_SEND },
	{ "recv", WQS_RECV },
	{ "admin", WQS_ADMIN },
	{ "*", WQS_VERB_ALL },
};

const char *
wqs_verb_name(enum wqs_verb v)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].verbs == (unsigned)v)
			return verbs[i].name;
	return "?";
}

static unsigned
verb_parse(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].name) == len &&
		    memcmp(verbs[i].name, s, len) == 0)
			return verbs[i].verbs;
	return 0;
}

struct wqs_grant *
wqs_grant_new(const char *name)
{
	struct wqs_grant *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	snprintf(g->name, sizeof(g->name), "%s", name);
	return g;
}

void
wqs_grant_free(struct wqs_grant *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n; i++)
		free(g->scopes[i].glob);
	free(g->scopes);
	free(g);
}

static int
grant_push(struct wqs_grant *g, unsigned v, const char *glob, size_t len)
{
	struct wqs_scope *s;
	size_t cap;
	char *copy;

	if (g->n == g->cap) {
		cap = g->cap ? 2 * g->cap : 4;
		if ((s = reallocarray(g->scopes, cap, sizeof(*s))) == NULL)
			return -1;
		g->scopes = s;
		g->cap = cap;
	}
	if ((copy = strndup(glob, len)) == NULL)
		return -1;
	g->scopes[g->n].verbs = v;
	g->scopes[g->n].glob = copy;
	g->n++;
	return 0;
}

/*
 * Add the scope of len bytes at s: "VERB:GLOB" or a bare "VERB" (which
 * means "VERB:*").  -1 with errno EINVAL for an unknown verb or an empty
 * glob, ENOMEM when out of memory.
 */
int
wqs_grant_add(struct wqs_grant *g, const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len);
	size_t vlen = colon != NULL ? (size_t)(colon - s) : len;
	unsigned v;

	if ((v = verb_parse(s, vlen)) == 0 ||
	    (colon != NULL && vlen + 1 == len)) {
		errno = EINVAL;
		return -1;
	}
	if (colon == NULL)
		return grant_push(g, v, "*", 1);
	return grant_push(g, v, colon + 1, len - vlen - 1);
}

struct wqs_grant *
wqs_grant_dup(const struct wqs_grant *g)
{
	struct wqs_grant *d;
	size_t i;

	if ((d = wqs_grant_new(g->name)) == NULL)
		return NULL;
	d->all = g->all;
	for (i = 0; i < g->n; i++)
		if (grant_push(d, g->scopes[i].verbs, g->scopes[i].glob,
		    strlen(g->scopes[i].glob)) == -1) {
			wqs_grant_free(d);
			return NULL;
		}
	return d;
}

const char *
wqs_grant_name(const struct wqs_grant *g)
{
	return g != NULL ? g->name : "nobody";
}

int
wqs_grant_allows(const struct wqs_grant *g, enum wqs_verb verb,
    const char *queue)
{
	const struct wqs_scope *s;
	size_t i;

	if (g == NULL || verb == 0)
		return 0;
	if (g->all)
		return 1;
	for (i = 0; i < g->n; i++) {
		s = &g->scopes[i];
		if ((s->verbs & (unsigned)verb) != (unsigned)verb)
			continue;
		/* Every queue: only a glob that is all of them will do. */
		if (queue == NULL ? strcmp(s->glob, "*") == 0 :
		    fnmatch(s->glob, queue, 0) == 0)
			return 1;
	}
	return 0;
}

struct wqs_auth *
wqs_auth_load(const struct wqs_auth_opts *o, char *err, size_t errlen)
{
	struct wqs_auth *a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (o == NULL)
		return a;
	if (o->leeway < 0) {
		snprintf(err, errlen, "jwt leeway: %d is negative", o->leeway);
		goto fail;
	}
	if (o->tokens_file != NULL && (a->tokens =
	    wqs_tokens_load(o->tokens_file, err, errlen)) == NULL)
		goto fail;
	if (o->njwt_keys > 0 &&
	    (a->jwt = wqs_jwt_load(o, err, errlen)) == NULL)
		goto fail;
	/* By the options, not the count: an emptied tokens file shuts out. */
	a->enabled = o->tokens_file != NULL || o->njwt_keys > 0;
	return a;
fail:
	wqs_auth_free(a);
	return NULL;
}

void
wqs_auth_free(struct wqs_auth *a)
{
	if (a == NULL)
		return;
	wqs_tokens_free(a->tokens);
	wqs_jwt_free(a->jwt);
	free(a);
}

int
wqs_auth_enabled(const struct wqs_auth *a)
{
	return a != NULL && a->enabled;
}

/*
 * The credential of "Bearer CREDENTIAL" (RFC 6750: the scheme in any
 * case, then spaces); blanks after it are dropped.  It must be printable
 * ASCII without blanks: anything else was never a token of ours.
 */
static int
bearer(const char *h, const char **cred, size_t *len, const char **why)
{
	size_t i, n;

	if (h != NULL)
		h += strspn(h, " \t");
	if (h == NULL || *h == '\0') {
		*why = "missing bearer token";
		return -1;
	}
	if (strncasecmp(h, "Bearer", 6) != 0 ||
	    (h[6] != ' ' && h[6] != '\0')) {
		*why = "not a bearer token";
		return -1;
	}
	h += 6;
	h += strspn(h, " ");
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	if (n == 0) {
		*why = "missing bearer token";
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)h[i] <= ' ' || (unsigned char)h[i] > '~')
			break;
	if (i != n || n > WQS_CRED_MAX) {
		*why = "malformed token";
		return -1;
	}
	*cred = h;
	*len = n;
	return 0;
}

int
wqs_authenticate(const struct wqs_auth *a, const char *authorization,
    int64_t now_s, struct wqs_grant **gp, const char **why)
{
	const char *cred;
	size_t len, i, dots = 0;

	*gp = NULL;
	*why = NULL;
	/* No auth loaded at all is a caller's bug: fail closed. */
	if (a == NULL) {
		*why = "authentication not loaded";
		return -1;
	}
	if (!a->enabled) {
		if ((*gp = wqs_grant_new("anonymous")) == NULL) {
			*why = "out of memory";
			return -1;
		}
		(*gp)->all = 1;
		return 0;
	}
	if (bearer(authorization, &cred, &len, why) == -1)
		return -1;
	for (i = 0; i < len; i++)
		dots += cred[i] == '.';
	if (dots == 2)
		return wqs_jwt_check(a->jwt, cred, len, now_s, gp, why);
	return wqs_tokens_check(a->tokens, cred, len, gp, why);
}
