/* SPDX-License-Identifier: MIT */
/*
 * jwt.c — JSON Web Tokens, verified with libjwt 1.10 but not trusted to
 * it alone.  That version accepts "alg":"none" when given no key, takes
 * the algorithm from the token (so an RSA public key handed to it for
 * RS256 verifies an HS256 token whose HMAC secret is that PEM), reads
 * "alg" in any case, lets duplicate members through (the last one wins),
 * takes a payload that is no object, writes past a malloc(0) for an
 * empty RS or ES signature, and checks no claim, not even exp.  So this
 * file checks the form of the token itself, tries only the keys pinned
 * to the algorithm its header names, makes sure libjwt used that
 * algorithm, and checks exp, nbf, iss and aud.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "auth_priv.h"

#define HS_MIN		32		/* bytes of an HMAC secret */
#define RSA_MIN		2048		/* bits of an RSA key */
#define KEYFILE_MAX	(64 * 1024)
#define PEM_PUBKEY	"-----BEGIN PUBLIC KEY-----"

static const struct alg {
	const char	*name;
	jwt_alg_t	 alg;
	int		 type;		/* EVP_PKEY_RSA, _EC, 0 for HMAC */
	int		 curve;		/* NID of the curve of ES* */
} algs[] = {
	{ "HS256", JWT_ALG_HS256, 0, 0 },
	{ "HS384", JWT_ALG_HS384, 0, 0 },
	{ "HS512", JWT_ALG_HS512, 0, 0 },
	{ "RS256", JWT_ALG_RS256, EVP_PKEY_RSA, 0 },
	{ "RS384", JWT_ALG_RS384, EVP_PKEY_RSA, 0 },
	{ "RS512", JWT_ALG_RS512, EVP_PKEY_RSA, 0 },
	{ "ES256", JWT_ALG_ES256, EVP_PKEY_EC, NID_X9_62_prime256v1 },
	{ "ES384", JWT_ALG_ES384, EVP_PKEY_EC, NID_secp384r1 },
	{ "ES512", JWT_ALG_ES512, EVP_PKEY_EC, NID_secp521r1 },
};

struct wqs_key {
	const struct alg *alg;
	unsigned char	*key;		/* HS: the secret; RS, ES: the PEM */
	size_t		 len;
};

struct wqs_jwt {
	struct wqs_key	*keys;
	size_t		 nkeys;
	char		*issuer;	/* NULL: not checked */
	char		*audience;
	int		 leeway;
};

/* Names in a JWS header are case-sensitive (RFC 7515 4.1.1). */
static const struct alg *
alg_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strlen(algs[i].name) == len &&
		    memcmp(algs[i].name, name, len) == 0)
			return &algs[i];
	return NULL;
}

void
wqs_jwt_free(struct wqs_jwt *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->nkeys; i++) {
		OPENSSL_cleanse(j->keys[i].key, j->keys[i].len);
		free(j->keys[i].key);
	}
	free(j->keys);
	free(j->issuer);
	free(j->audience);
	free(j);
}

/* A whole small file into a new buffer (NUL after its len bytes). */
static unsigned char *
slurp(const char *path, size_t *len, const char **why)
{
	unsigned char *buf;
	size_t n;
	FILE *fp;

	*why = NULL;
	if ((fp = fopen(path, "re")) == NULL)
		return NULL;
	if ((buf = malloc(KEYFILE_MAX + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	n = fread(buf, 1, KEYFILE_MAX + 1, fp);
	if (ferror(fp) || n > KEYFILE_MAX) {
		if (!ferror(fp))
			*why = "larger than 64 KiB";
		OPENSSL_cleanse(buf, n);
		free(buf);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* An HMAC secret: one trailing newline is the editor's, not the key's. */
static const char *
hs_check(struct wqs_key *k)
{
	if (k->len > 0 && k->key[k->len - 1] == '\n')
		k->key[--k->len] = '\0';
	if (k->len < HS_MIN)
		return "secret shorter than 32 bytes";
	return NULL;
}

/*
 * A PEM public key of the type (and for EC the curve) of the algorithm,
 * parsed here as libjwt will parse it for each token, so a wrong file
 * shows at start and not as "bad signature" on every request.
 */
static const char *
pem_check(const struct wqs_key *k)
{
	const char *why = NULL;
	EVP_PKEY *pk = NULL;
	char group[64];
	BIO *bio;

	if (strstr((const char *)k->key, PEM_PUBKEY) == NULL)
		return "no \"" PEM_PUBKEY "\"";
	if ((bio = BIO_new_mem_buf(k->key, (int)k->len)) == NULL)
		return "out of memory";
	if ((pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL)
		why = "not a valid PEM public key";
	else if (EVP_PKEY_get_base_id(pk) != k->alg->type)
		why = k->alg->type == EVP_PKEY_RSA ? "not an RSA key" :
		    "not an EC key";
	else if (k->alg->type == EVP_PKEY_RSA && EVP_PKEY_get_bits(pk) <
	    RSA_MIN)
		why = "RSA key shorter than 2048 bits";
	else if (k->alg->type == EVP_PKEY_EC &&
	    (!EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) ||
	    OBJ_sn2nid(group) != k->alg->curve))
		why = "EC key on the wrong curve for the algorithm";
	EVP_PKEY_free(pk);
	BIO_free(bio);
	ERR_clear_error();
	return why;
}

/* "ALG:FILE" into k; NULL or why not. */
static const char *
key_load(const char *spec, struct wqs_key *k)
{
	const char *colon = strchr(spec, ':'), *why;

	if (colon == NULL || colon[1] == '\0')
		return "not ALG:FILE";
	if ((k->alg = alg_find(spec, (size_t)(colon - spec))) == NULL)
		return "unknown algorithm";
	if ((k->key = slurp(colon + 1, &k->len, &why)) == NULL)
		return why != NULL ? why : strerror(errno);
	return k->alg->type == 0 ? hs_check(k) : pem_check(k);
}

static int
dupstr(char **out, const char *s)
{
	*out = NULL;
	return s == NULL || (*out = strdup(s)) != NULL ? 0 : -1;
}

struct wqs_jwt *
wqs_jwt_load(const struct wqs_auth_opts *o, char *err, size_t errlen)
{
	const char *why;
	struct wqs_jwt *j;
	size_t i;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->keys = calloc(o->njwt_keys, sizeof(*j->keys))) == NULL ||
	    dupstr(&j->issuer, o->issuer) == -1 ||
	    dupstr(&j->audience, o->audience) == -1) {
		snprintf(err, errlen, "jwt: %s", strerror(ENOMEM));
		wqs_jwt_free(j);
		return NULL;
	}
	j->leeway = o->leeway;
	for (i = 0; i < o->njwt_keys; i++) {
		j->nkeys++;
		if ((why = key_load(o->jwt_keys[i], &j->keys[i])) != NULL) {
			snprintf(err, errlen, "jwt key %s: %s",
			    o->jwt_keys[i], why);
			wqs_jwt_free(j);
			return NULL;
		}
	}
	return j;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Strict base64url without padding (RFC 7515 2), the unused low bits of
 * the last digit zero: one spelling per byte string, so what is checked
 * here is what libjwt's laxer decoder sees.  The bytes, malloc'd, or NULL.
 */
static unsigned char *
b64url_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char *out;
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0, v;

	if (len % 4 == 1 || (out = malloc(len / 4 * 3 + 3)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if ((v = b64val((unsigned char)s[i])) == -1)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (acc & ((1u << bits) - 1))
		goto bad;
	*outlen = n;
	return out;
bad:
	free(out);
	return NULL;
}

/* A segment that must be a JSON object, without duplicate members. */
static json_t *
segment_json(const char *s, size_t len)
{
	unsigned char *raw;
	json_t *js;
	size_t n;

	if ((raw = b64url_decode(s, len, &n)) == NULL)
		return NULL;
	js = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (js != NULL && !json_is_object(js)) {
		json_decref(js);
		js = NULL;
	}
	return js;
}

/* The algorithm the header names, if we take it. */
static const struct alg *
header_alg(const json_t *h, const char **why)
{
	const json_t *alg = json_object_get(h, "alg");
	const json_t *typ = json_object_get(h, "typ");

	if (!json_is_string(alg)) {
		*why = "malformed token";
		return NULL;
	}
	/* libjwt 1.10 fails any other typ, as a bad signature would. */
	if (typ != NULL && (!json_is_string(typ) ||
	    strcasecmp(json_string_value(typ), "JWT") != 0)) {
		*why = "token type not accepted";
		return NULL;
	}
	/* We understand no extension, so none may be critical (7515 4.1.11). */
	if (json_object_get(h, "crit") != NULL) {
		*why = "critical header not understood";
		return NULL;
	}
	*why = "algorithm not accepted";
	return alg_find(json_string_value(alg), json_string_length(alg));
}

/* The three segments of a JWS in compact form: their offsets and lengths. */
struct segs {
	size_t		 off[3], len[3];
};

static int
split(const char *cred, size_t len, struct segs *sg)
{
	const char *dot;
	size_t at = 0, i;

	for (i = 0; i < 2; i++) {
		if ((dot = memchr(cred + at, '.', len - at)) == NULL)
			return -1;
		sg->off[i] = at;
		sg->len[i] = (size_t)(dot - (cred + at));
		at += sg->len[i] + 1;
	}
	sg->off[2] = at;
	sg->len[2] = len - at;
	return memchr(cred + at, '.', len - at) == NULL ? 0 : -1;
}

/*
 * Check the token's form before any key sees it: three base64url
 * segments, a header and a payload that are JSON objects, an algorithm
 * we have a key for.  That algorithm, or NULL and why not.
 */
static const struct alg *
precheck(const struct wqs_jwt *j, const char *cred, size_t len,
    const char **why)
{
	const struct alg *a;
	unsigned char *sig;
	struct segs sg;
	json_t *js;
	size_t i, n;

	*why = "malformed token";
	if (split(cred, len, &sg) == -1 ||
	    (js = segment_json(cred, sg.len[0])) == NULL)
		return NULL;
	a = header_alg(js, why);
	json_decref(js);
	if (a == NULL)
		return NULL;
	for (i = 0; j != NULL && i < j->nkeys; i++)
		if (j->keys[i].alg == a)
			break;
	if (j == NULL || i == j->nkeys) {
		*why = "algorithm not accepted";
		return NULL;
	}
	*why = "malformed token";
	if ((js = segment_json(cred + sg.off[1], sg.len[1])) == NULL)
		return NULL;
	json_decref(js);
	if ((sig = b64url_decode(cred + sg.off[2], sg.len[2], &n)) == NULL)
		return NULL;
	free(sig);
	/*
	 * libjwt 1.10 decodes an empty RS or ES signature into malloc(0)
	 * and writes past it: no signature never reaches it.
	 */
	if (n == 0) {
		*why = "bad signature";
		return NULL;
	}
	return a;
}

/* Verified with one of the keys of alg (never none, never NULL), or NULL. */
static jwt_t *
verify(const struct wqs_jwt *j, const struct alg *a, const char *token)
{
	const struct wqs_key *k;
	jwt_t *jwt;
	size_t i;

	for (i = 0; i < j->nkeys; i++) {
		k = &j->keys[i];
		if (k->alg != a)
			continue;
		jwt = NULL;
		if (jwt_decode(&jwt, token, k->key, (int)k->len) == 0 &&
		    jwt != NULL && jwt_get_alg(jwt) == a->alg)
			return jwt;
		jwt_free(jwt);
	}
	/* What OpenSSL queued for the failures, not to blame anyone else. */
	ERR_clear_error();
	return NULL;
}

static int
check_times(const json_t *c, int64_t now, int leeway, const char **why)
{
	const json_t *exp = json_object_get(c, "exp");
	const json_t *nbf = json_object_get(c, "nbf");

	if (exp == NULL) {
		*why = "token without exp";
		return -1;
	}
	if (!json_is_integer(exp) || (nbf != NULL && !json_is_integer(nbf))) {
		*why = "malformed token";
		return -1;
	}
	/* now <= exp + leeway, written so that no sum can overflow */
	if (json_integer_value(exp) < now - leeway) {
		*why = "token expired";
		return -1;
	}
	if (nbf != NULL && json_integer_value(nbf) > now + leeway) {
		*why = "token not yet valid";
		return -1;
	}
	return 0;
}

static int
aud_has(const json_t *aud, const char *want)
{
	const json_t *v;
	size_t i;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	json_array_foreach(aud, i, v)
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), want) == 0)
			return 1;
	return 0;
}

static int
check_claims(const struct wqs_jwt *j, const json_t *c, int64_t now,
    const char **why)
{
	const json_t *iss = json_object_get(c, "iss");

	if (check_times(c, now, j->leeway, why) == -1)
		return -1;
	if (j->issuer != NULL && (!json_is_string(iss) ||
	    strcmp(json_string_value(iss), j->issuer) != 0)) {
		*why = "wrong issuer";
		return -1;
	}
	if (j->audience != NULL &&
	    !aud_has(json_object_get(c, "aud"), j->audience)) {
		*why = "wrong audience";
		return -1;
	}
	return 0;
}

/* "jwt sub=NAME": the subject cut short, unprintable bytes as "?". */
static struct wqs_grant *
grant_for(const json_t *c)
{
	const json_t *sub = json_object_get(c, "sub");
	char name[WQS_GRANT_NAME];
	const char *s;
	size_t i, at;

	if (!json_is_string(sub))
		return wqs_grant_new("jwt");
	s = json_string_value(sub);
	at = strlen(strcpy(name, "jwt sub="));
	for (i = 0; s[i] != '\0' && at < sizeof(name) - 1; i++)
		name[at++] = s[i] >= ' ' && s[i] <= '~' ? s[i] : '?';
	name[at] = '\0';
	return wqs_grant_new(name);
}

static int
scope_add(struct wqs_grant *g, const char *s, size_t len, const char **why)
{
	if (wqs_grant_add(g, s, len) == 0)
		return 0;
	*why = errno == EINVAL ? "malformed token" : "out of memory";
	return -1;
}

/*
 * The scope claim: "read:a send:b*" or ["read:a", "send:b*"].  None at
 * all is a grant that allows nothing: the token is good, it just may not
 * do anything (403, not 401).
 */
static int
scopes(struct wqs_grant *g, const json_t *scope, const char **why)
{
	const char *s, *end;
	const json_t *v;
	size_t i, n;

	if (scope == NULL)
		return 0;
	if (json_is_array(scope)) {
		json_array_foreach(scope, i, v) {
			if (!json_is_string(v)) {
				*why = "malformed token";
				return -1;
			}
			if (scope_add(g, json_string_value(v),
			    json_string_length(v), why) == -1)
				return -1;
		}
		return 0;
	}
	if (!json_is_string(scope)) {
		*why = "malformed token";
		return -1;
	}
	s = json_string_value(scope);
	end = s + json_string_length(scope);
	for (; s < end; s += n) {
		s += strspn(s, " ");
		if ((n = strcspn(s, " ")) > 0 && scope_add(g, s, n, why) == -1)
			return -1;
	}
	return 0;
}

/* The claims libjwt verified, as one JSON object. */
static json_t *
claims(jwt_t *jwt)
{
	json_t *c;
	char *s;

	if ((s = jwt_get_grants_json(jwt, NULL)) == NULL)
		return NULL;
	c = json_loads(s, 0, NULL);
	free(s);
	if (c != NULL && !json_is_object(c)) {
		json_decref(c);
		c = NULL;
	}
	return c;
}

int
wqs_jwt_check(const struct wqs_jwt *j, const char *cred, size_t len,
    int64_t now_s, struct wqs_grant **gp, const char **why)
{
	struct wqs_grant *g = NULL;
	const struct alg *a;
	jwt_t *jwt = NULL;
	char *token;
	json_t *c = NULL;

	if ((a = precheck(j, cred, len, why)) == NULL)
		return -1;
	if ((token = strndup(cred, len)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	*why = "bad signature";
	if ((jwt = verify(j, a, token)) == NULL)
		goto fail;
	*why = "malformed token";
	if ((c = claims(jwt)) == NULL ||
	    check_claims(j, c, now_s, why) == -1)
		goto fail;
	if ((g = grant_for(c)) == NULL) {
		*why = "out of memory";
		goto fail;
	}
	if (scopes(g, json_object_get(c, "scope"), why) == -1)
		goto fail;
	json_decref(c);
	jwt_free(jwt);
	free(token);
	*gp = g;
	return 0;
fail:
	wqs_grant_free(g);
	json_decref(c);
	jwt_free(jwt);
	free(token);
	return -1;
}
