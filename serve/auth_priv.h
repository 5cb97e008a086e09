/* SPDX-License-Identifier: MIT */
/*
 * auth_priv.h — what auth.c (the Authorization header, grants, scopes),
 * tokens.c (service tokens) and jwt.c (JSON Web Tokens) share.  Nothing
 * else includes it.
 */
#ifndef WQ_SERVE_AUTH_PRIV_H
#define WQ_SERVE_AUTH_PRIV_H

#include "auth.h"

#define WQS_VERB_ALL	(WQS_READ | WQS_SEND | WQS_RECV | WQS_ADMIN)
#define WQS_GRANT_NAME	96	/* "jwt sub=" and a sanitised, cut subject */
#define WQS_CRED_MAX	8192	/* longest credential looked at */

/* VERB:GLOB, verbs a mask of enum wqs_verb. */
struct wqs_scope {
	unsigned	 verbs;
	char		*glob;
};

/* A grant owns its copies: it may outlive the wqs_auth (SIGHUP). */
struct wqs_grant {
	char		 name[WQS_GRANT_NAME];
	int		 all;		/* auth disabled: everything */
	struct wqs_scope *scopes;
	size_t		 n, cap;
};

/* auth.c */
struct wqs_grant *wqs_grant_new(const char *name);
int	 wqs_grant_add(struct wqs_grant *, const char *scope, size_t len);
struct wqs_grant *wqs_grant_dup(const struct wqs_grant *);

/* tokens.c */
struct wqs_tokens;
struct wqs_tokens *wqs_tokens_load(const char *path, char *err,
	    size_t errlen);
void	 wqs_tokens_free(struct wqs_tokens *);
int	 wqs_tokens_check(const struct wqs_tokens *, const char *cred,
	    size_t len, struct wqs_grant **, const char **why);

/* jwt.c */
struct wqs_jwt;
struct wqs_jwt *wqs_jwt_load(const struct wqs_auth_opts *, char *err,
	    size_t errlen);
void	 wqs_jwt_free(struct wqs_jwt *);
int	 wqs_jwt_check(const struct wqs_jwt *, const char *cred, size_t len,
	    int64_t now_s, struct wqs_grant **, const char **why);

#endif /* WQ_SERVE_AUTH_PRIV_H */
