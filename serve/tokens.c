/* SPDX-License-Identifier: MIT */
/*
 * tokens.c — service tokens.  The --tokens file holds no token, only its
 * SHA-256: lines "sha256:HEX SCOPE...", blank lines and "#" comments (a
 * word that starts with "#" makes the rest of its line a comment too).
 * A token presented is hashed and compared with every entry in constant
 * time, so neither the time of a miss nor that of a hit tells how much
 * of a hash an attacker got right.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth_priv.h"

#define HASH_LEN	32
#define PREFIX		"sha256:"
#define BLANKS		" \t\r\n"

struct wqs_token {
	unsigned char	 hash[HASH_LEN];
	int		 line;
	struct wqs_grant *grant;	/* named "token 1a2b3c4d" */
};

struct wqs_tokens {
	struct wqs_token *v;
	size_t		 n, cap;
};

static int
sha256(const void *buf, size_t len, unsigned char out[HASH_LEN])
{
	unsigned int n;

	if (!EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) ||
	    n != HASH_LEN)
		return -1;
	return 0;
}

static void
hex(const unsigned char *b, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * len] = '\0';
}

void
wqs_token_hash(const char *token, size_t len, char out[72])
{
	unsigned char h[HASH_LEN];

	/* A failed digest leaves "", which matches no entry. */
	out[0] = '\0';
	if (sha256(token, len, h) == -1)
		return;
	memcpy(out, PREFIX, sizeof(PREFIX) - 1);
	hex(h, sizeof(h), out + sizeof(PREFIX) - 1);
}

static int
unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "sha256:" and 64 hex digits of either case. */
static int
hash_parse(const char *s, unsigned char out[HASH_LEN])
{
	int hi, lo;
	size_t i;

	if (strncmp(s, PREFIX, sizeof(PREFIX) - 1) != 0)
		return -1;
	s += sizeof(PREFIX) - 1;
	if (strlen(s) != 2 * HASH_LEN)
		return -1;
	for (i = 0; i < HASH_LEN; i++) {
		if ((hi = unhex(s[2 * i])) == -1 ||
		    (lo = unhex(s[2 * i + 1])) == -1)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void
wqs_tokens_free(struct wqs_tokens *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		wqs_grant_free(t->v[i].grant);
	free(t->v);
	free(t);
}

static struct wqs_token *
token_push(struct wqs_tokens *t)
{
	struct wqs_token *v;
	size_t cap;

	if (t->n == t->cap) {
		cap = t->cap ? 2 * t->cap : 16;
		if ((v = reallocarray(t->v, cap, sizeof(*v))) == NULL)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	return &t->v[t->n++];
}

/*
 * One line, cut in place.  0 (a comment or a blank line adds nothing),
 * or -1 with the reason in err.
 */
static int
line_parse(struct wqs_tokens *t, char *line, int lineno, char *err,
    size_t errlen)
{
	unsigned char h[HASH_LEN];
	char *w, *save, name[32];
	struct wqs_token *e;
	size_t i;

	if ((w = strtok_r(line, BLANKS, &save)) == NULL || *w == '#')
		return 0;
	if (hash_parse(w, h) == -1) {
		snprintf(err, errlen, "tokens: line %d: bad hash", lineno);
		return -1;
	}
	for (i = 0; i < t->n; i++)
		if (memcmp(t->v[i].hash, h, HASH_LEN) == 0) {
			snprintf(err, errlen, "tokens: line %d: the hash of "
			    "line %d again", lineno, t->v[i].line);
			return -1;
		}
	hex(h, 4, name + 6);
	memcpy(name, "token ", 6);
	if ((e = token_push(t)) == NULL ||
	    (e->grant = wqs_grant_new(name)) == NULL)
		goto nomem;
	memcpy(e->hash, h, HASH_LEN);
	e->line = lineno;
	while ((w = strtok_r(NULL, BLANKS, &save)) != NULL && *w != '#')
		if (wqs_grant_add(e->grant, w, strlen(w)) == -1) {
			if (errno != EINVAL)
				goto nomem;
			snprintf(err, errlen, "tokens: line %d: bad scope "
			    "\"%s\"", lineno, w);
			return -1;
		}
	if (e->grant->n == 0) {
		snprintf(err, errlen, "tokens: line %d: no scope", lineno);
		return -1;
	}
	return 0;
nomem:
	snprintf(err, errlen, "tokens: %s", strerror(ENOMEM));
	return -1;
}

struct wqs_tokens *
wqs_tokens_load(const char *path, char *err, size_t errlen)
{
	struct wqs_tokens *t;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, rc = 0;
	FILE *fp;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "tokens: %s: %s", path, strerror(errno));
		free(t);
		return NULL;
	}
	while (rc == 0 && (len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (memchr(line, '\0', (size_t)len) != NULL) {
			snprintf(err, errlen, "tokens: line %d: a NUL byte",
			    lineno);
			rc = -1;
		} else
			rc = line_parse(t, line, lineno, err, errlen);
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "tokens: %s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(fp);
	if (rc == -1) {
		wqs_tokens_free(t);
		return NULL;
	}
	return t;
}

int
wqs_tokens_check(const struct wqs_tokens *t, const char *cred, size_t len,
    struct wqs_grant **gp, const char **why)
{
	const struct wqs_token *hit = NULL;
	unsigned char h[HASH_LEN];
	size_t i;

	if (sha256(cred, len, h) == -1) {
		*why = "cannot hash the token";
		return -1;
	}
	/* No early exit: a hit costs what a miss does. */
	for (i = 0; t != NULL && i < t->n; i++)
		if (CRYPTO_memcmp(h, t->v[i].hash, HASH_LEN) == 0)
			hit = &t->v[i];
	if (hit == NULL) {
		*why = "unknown token";
		return -1;
	}
	if ((*gp = wqs_grant_dup(hit->grant)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}
