/* SPDX-License-Identifier: MIT */
/*
 * auth.h — who may do what in wq-serve.  A request carries
 * "Authorization: Bearer CREDENTIAL"; the credential is a service token
 * (its SHA-256 listed in --tokens) or a JWT (checked against a --jwt-key
 * pinned to the algorithm in its header).  Either yields a grant: a list
 * of scopes VERB:GLOB, GLOB an fnmatch(3) pattern over queue names.
 */
#ifndef WQ_SERVE_AUTH_H
#define WQ_SERVE_AUTH_H

#include <stddef.h>
#include <stdint.h>

enum wqs_verb { WQS_READ = 1, WQS_SEND = 2, WQS_RECV = 4, WQS_ADMIN = 8 };

struct wqs_auth_opts {
	const char	*tokens_file;	/* NULL: no service tokens */
	const char	**jwt_keys;	/* "ALG:FILE" strings */
	size_t		 njwt_keys;
	const char	*issuer;	/* NULL: iss not checked */
	const char	*audience;	/* NULL: aud not checked */
	int		 leeway;	/* seconds, for exp and nbf */
};

struct wqs_auth;	/* immutable once loaded; shared by threads */
struct wqs_grant;	/* what one credential allows */

/* Load; NULL with a one-line reason in err (e.g. "tokens: line 3: bad hash") */
struct wqs_auth *wqs_auth_load(const struct wqs_auth_opts *, char *err,
	    size_t errlen);
void	 wqs_auth_free(struct wqs_auth *);

/*
 * A tokens file or a key was given.  An empty tokens file counts: it lets
 * nobody in rather than everybody.
 */
int	 wqs_auth_enabled(const struct wqs_auth *);

/*
 * authorization: the Authorization header value or NULL.  0 and *grant
 * (free with wqs_grant_free), or -1 and *why set to a static one-line
 * reason for a 401 ("missing bearer token", "unknown token",
 * "malformed token", "token expired", "token not yet valid",
 * "algorithm not accepted", "bad signature", "wrong issuer", ...).
 * With auth disabled: 0 and a grant allowing everything.  A NULL
 * wqs_auth (none loaded) lets nobody in.
 */
int	 wqs_authenticate(const struct wqs_auth *, const char *authorization,
	    int64_t now_s, struct wqs_grant **, const char **why);

/* May the grant do verb on queue?  queue NULL: on every queue. */
int	 wqs_grant_allows(const struct wqs_grant *, enum wqs_verb,
	    const char *queue);

/*
 * for log lines: "token 1a2b3c4d" (first 8 hex of the hash) or
 * "jwt sub=NAME"
 */
const char *wqs_grant_name(const struct wqs_grant *);
void	 wqs_grant_free(struct wqs_grant *);

/* --hash-token: "sha256:" + 64 lowercase hex of token, into out[72] */
void	 wqs_token_hash(const char *token, size_t len, char out[72]);

const char *wqs_verb_name(enum wqs_verb);	/* "read", "send", ... */

#endif /* WQ_SERVE_AUTH_H */
