/* SPDX-License-Identifier: MIT */
/*
 * t-auth.c — the authentication of wq-serve (serve/auth.c, tokens.c,
 * jwt.c): the Authorization header, service tokens, JWTs good and bad
 * (the attacks libjwt 1.10 lets through on its own among them), scopes.
 * Keys are made once, before the cases, in a directory of their own;
 * tokens are minted in-process with libjwt, and by hand with OpenSSL
 * where libjwt will not make them (alg none, odd headers) or where a
 * second opinion on its encoding is wanted (ES256).  Every check runs at
 * the fixed time NOW.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>

#include <jwt.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "tap.h"
#include "auth.h"

#define NOW	1700000000LL
#define SECRET	"0123456789abcdef0123456789abcdef-hs"	/* 35 bytes */

static char keydir[4096];	/* the keys of every case */

/* ---- keys, files ------------------------------------------------------ */

static const char *
kpath(const char *name)
{
	static char buf[8][4096];
	static int next;
	char *p = buf[next++ % 8];

	if (snprintf(p, 4096, "%s/%s", keydir, name) >= 4096)
		bail("path too long: %s/%s", keydir, name);
	return p;
}

static void
write_file(const char *path, const void *buf, size_t len)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL ||
	    fwrite(buf, 1, len, fp) != len || fclose(fp) != 0)
		bail("cannot write %s", path);
}

static char *
read_file(const char *path, size_t *len)
{
	static char buf[65536];
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		bail("cannot read %s", path);
	*len = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[*len] = '\0';
	return buf;
}

/* A key pair: NAME.pem (private) and NAME.pub (public). */
static void
keypair(const char *name, EVP_PKEY *pk)
{
	char path[4096];
	FILE *fp;

	if (pk == NULL)
		bail("cannot make key %s", name);
	if (snprintf(path, sizeof(path), "%s/%s.pem", keydir, name) >=
	    (int)sizeof(path))
		bail("path too long: %s", keydir);
	if ((fp = fopen(path, "w")) == NULL ||
	    !PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL) ||
	    fclose(fp) != 0)
		bail("cannot write %s", path);
	if (snprintf(path, sizeof(path), "%s/%s.pub", keydir, name) >=
	    (int)sizeof(path))
		bail("path too long: %s", keydir);
	if ((fp = fopen(path, "w")) == NULL || !PEM_write_PUBKEY(fp, pk) ||
	    fclose(fp) != 0)
		bail("cannot write %s", path);
	EVP_PKEY_free(pk);
}

static void
make_keys(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(keydir, sizeof(keydir), "%s/wq-keys.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(keydir) == NULL)
		bail("mkdtemp %s: %s", keydir, strerror(errno));
	keypair("rsa", EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
	keypair("rsa2", EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
	keypair("rsa1024", EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024));
	keypair("ec", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	keypair("ec2", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	keypair("ec384", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
	write_file(kpath("hs.key"), SECRET, strlen(SECRET));
	write_file(kpath("hs-nl.key"), SECRET "\n", strlen(SECRET) + 1);
	write_file(kpath("hs2.key"), SECRET "-other", strlen(SECRET) + 6);
	write_file(kpath("short.key"), SECRET, 31);
	write_file(kpath("short-nl.key"), "0123456789abcdef0123456789abcde\n",
	    32);
	write_file(kpath("32.key"), SECRET, 32);
}

/* ---- minting ------------------------------------------------------------ */

/* A token signed by libjwt with the key in file (used as it is). */
static char *
mint(const char *alg, const char *file, const char *claims)
{
	size_t len;
	char *key = read_file(kpath(file), &len), *tok;
	jwt_t *jwt;

	need(jwt_new(&jwt) == 0, "jwt_new");
	need(jwt_add_grants_json(jwt, claims) == 0, "claims %s", claims);
	need(jwt_set_alg(jwt, jwt_str_alg(alg), (unsigned char *)key,
	    (int)len) == 0, "jwt_set_alg %s %s", alg, file);
	need((tok = jwt_encode_str(jwt)) != NULL, "jwt_encode_str");
	jwt_free(jwt);
	return tok;
}

/* The usual token: sub, exp, scope, made with the grant setters. */
static char *
mint_std(const char *alg, const char *file, long exp, const char *scope)
{
	size_t len;
	char *key = read_file(kpath(file), &len), *tok;
	jwt_t *jwt;

	need(jwt_new(&jwt) == 0, "jwt_new");
	need(jwt_add_grant(jwt, "sub", "alice") == 0, "sub");
	need(jwt_add_grant_int(jwt, "exp", exp) == 0, "exp");
	if (scope != NULL)
		need(jwt_add_grant(jwt, "scope", scope) == 0, "scope");
	need(jwt_set_alg(jwt, jwt_str_alg(alg), (unsigned char *)key,
	    (int)len) == 0, "jwt_set_alg %s %s", alg, file);
	need((tok = jwt_encode_str(jwt)) != NULL, "jwt_encode_str");
	jwt_free(jwt);
	return tok;
}

static void
b64url_cat(char *out, const void *buf, size_t len)
{
	unsigned char enc[8192];
	size_t i, at = strlen(out);

	need(len < 6000, "short enough to encode");
	EVP_EncodeBlock(enc, buf, (int)len);
	for (i = 0; enc[i] != '\0' && enc[i] != '='; i++)
		out[at++] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' :
		    (char)enc[i];
	out[at] = '\0';
}

/* An ECDSA signature as JWS wants it: R and S, 32 bytes each. */
static size_t
es256_raw(const unsigned char *der, size_t len, unsigned char out[64])
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig;

	need((sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) != NULL, "d2i");
	ECDSA_SIG_get0(sig, &r, &s);
	BN_bn2binpad(r, out, 32);
	BN_bn2binpad(s, out + 32, 32);
	ECDSA_SIG_free(sig);
	return 64;
}

/*
 * A token made by hand: header and payload as given, signed with how:
 * NULL (no signature), "HS256:FILE" (HMAC with the bytes of FILE),
 * "RS256:FILE" or "ES256:FILE" (a PEM private key, through OpenSSL).
 */
static char *
hand(const char *hdr, const char *payload, const char *how)
{
	unsigned char sig[1024], raw[64];
	char *tok, *file;
	unsigned int hlen;
	size_t len, slen = sizeof(sig);
	EVP_MD_CTX *md;
	EVP_PKEY *pk;
	FILE *fp;

	need((tok = calloc(1, 16384)) != NULL, "calloc");
	b64url_cat(tok, hdr, strlen(hdr));
	strcat(tok, ".");
	b64url_cat(tok, payload, strlen(payload));
	len = strlen(tok);
	strcat(tok, ".");
	if (how == NULL)
		return tok;
	file = read_file(kpath(how + 6), &slen);
	if (strncmp(how, "HS256:", 6) == 0) {
		HMAC(EVP_sha256(), file, (int)slen, (unsigned char *)tok, len,
		    sig, &hlen);
		b64url_cat(tok, sig, hlen);
		return tok;
	}
	need((fp = fopen(kpath(how + 6), "r")) != NULL, "open %s", how);
	need((pk = PEM_read_PrivateKey(fp, NULL, NULL, NULL)) != NULL, "key");
	fclose(fp);
	slen = sizeof(sig);
	need((md = EVP_MD_CTX_new()) != NULL, "EVP_MD_CTX_new");
	need(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestSign(md, sig, &slen, (unsigned char *)tok, len) == 1,
	    "sign %s", how);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	if (strncmp(how, "ES256:", 6) == 0)
		b64url_cat(tok, raw, es256_raw(sig, slen, raw));
	else
		b64url_cat(tok, sig, slen);
	return tok;
}

/* ---- loading, asking ---------------------------------------------------- */

static struct wqs_auth_opts
opts_keys(const char **keys, size_t n)
{
	struct wqs_auth_opts o;

	memset(&o, 0, sizeof(o));
	o.jwt_keys = keys;
	o.njwt_keys = n;
	o.leeway = 30;
	return o;
}

static struct wqs_auth *
load(const struct wqs_auth_opts *o)
{
	struct wqs_auth *a;
	char err[256];

	err[0] = '\0';
	if ((a = wqs_auth_load(o, err, sizeof(err))) == NULL)
		bail("wqs_auth_load: %s", err);
	return a;
}

/* Auth with just these keys. */
static struct wqs_auth *
load_keys(const char *k1, const char *k2)
{
	const char *keys[2] = { k1, k2 };
	struct wqs_auth_opts o = opts_keys(keys, k2 != NULL ? 2 : 1);

	return load(&o);
}

/* "ALG:PATH" of a file of keydir. */
static const char *
spec(const char *alg, const char *file)
{
	static char buf[8][4200];
	static int next;
	char *p = buf[next++ % 8];

	snprintf(p, 4200, "%s:%s", alg, kpath(file));
	return p;
}

static const char *
tokens_file(const char *text)
{
	static char path[4096];

	if (snprintf(path, sizeof(path), "%s/tokens", tap_dir) >=
	    (int)sizeof(path))
		bail("path too long: %s", tap_dir);
	write_file(path, text, strlen(text));
	return path;
}

static struct wqs_auth *
load_tokens(const char *text)
{
	struct wqs_auth_opts o;

	memset(&o, 0, sizeof(o));
	o.tokens_file = tokens_file(text);
	return load(&o);
}

/* The error of loading these tokens (or key), "" if it loads. */
static const char *
load_err(const struct wqs_auth_opts *o)
{
	static char err[256];
	struct wqs_auth *a;

	err[0] = '\0';
	if ((a = wqs_auth_load(o, err, sizeof(err))) != NULL) {
		wqs_auth_free(a);
		return "";
	}
	return err;
}

static const char *
tokens_err(const char *text)
{
	struct wqs_auth_opts o;

	memset(&o, 0, sizeof(o));
	o.tokens_file = tokens_file(text);
	return load_err(&o);
}

static const char *
key_err(const char *spec)
{
	const char *keys[1] = { spec };
	struct wqs_auth_opts o = opts_keys(keys, 1);

	return load_err(&o);
}

/* "ok", or the reason the header value h is refused at time now. */
static const char *
why_h(const struct wqs_auth *a, const char *h, int64_t now)
{
	struct wqs_grant *g = (struct wqs_grant *)1;
	const char *why = "unset";

	if (wqs_authenticate(a, h, now, &g, &why) == 0) {
		if (g == NULL)
			return "grant NULL";
		wqs_grant_free(g);
		return "ok";
	}
	if (g != NULL)
		return "grant not NULL on failure";
	return why != NULL ? why : "why NULL";
}

static const char *
why_at(const struct wqs_auth *a, const char *cred, int64_t now)
{
	char h[16384];

	snprintf(h, sizeof(h), "Bearer %s", cred);
	return why_h(a, h, now);
}

static const char *
why(const struct wqs_auth *a, const char *cred)
{
	return why_at(a, cred, NOW);
}

/* The grant of cred, which must be accepted. */
static struct wqs_grant *
grant(const struct wqs_auth *a, const char *cred)
{
	struct wqs_grant *g;
	const char *w;
	char h[16384];

	snprintf(h, sizeof(h), "Bearer %s", cred);
	need(wqs_authenticate(a, h, NOW, &g, &w) == 0, "accepted: %s", cred);
	return g;
}

/* Free it all when the test is the last to hold it. */
static void
consume(struct wqs_auth *a, char *tok)
{
	wqs_auth_free(a);
	free(tok);
}

/* Append the line of token tok with scopes to the tokens file in buf. */
#define HASH_LINE(tok, scopes, buf) do {				\
	char hash_[72];							\
									\
	wqs_token_hash((tok), strlen(tok), hash_);			\
	strcat((buf), hash_);						\
	strcat((buf), " " scopes "\n");					\
} while (0)

/* ---- the cases ---------------------------------------------------------- */

/* Short for wqs_grant_allows. */
static int
can(const struct wqs_grant *g, enum wqs_verb verb, const char *queue)
{
	return wqs_grant_allows(g, verb, queue);
}

static void
test_token_hash(void)
{
	char out[72];

	memset(out, 'x', sizeof(out));
	wqs_token_hash("abc", 3, out);
	is_str(out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb4"
	    "10ff61f20015ad", "SHA-256 of abc");
	wqs_token_hash("", 0, out);
	is_str(out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4"
	    "95991b7852b855", "SHA-256 of nothing");
	is_int(strlen(out), 71, "71 characters and a NUL");
}

static void
test_verb_name(void)
{
	is_str(wqs_verb_name(WQS_READ), "read", "read");
	is_str(wqs_verb_name(WQS_SEND), "send", "send");
	is_str(wqs_verb_name(WQS_RECV), "recv", "recv");
	is_str(wqs_verb_name(WQS_ADMIN), "admin", "admin");
}

static void
test_disabled(void)
{
	struct wqs_auth_opts o;
	struct wqs_grant *g;
	struct wqs_auth *a;
	const char *w;

	memset(&o, 0, sizeof(o));
	a = load(&o);
	ok(!wqs_auth_enabled(a), "no tokens, no keys: disabled");
	is_str(why_h(a, NULL, NOW), "ok", "no header is fine");
	is_str(why_h(a, "Basic Zm9vOmJhcg==", NOW), "ok",
	    "any header is fine");
	need(wqs_authenticate(a, NULL, NOW, &g, &w) == 0, "authenticate");
	ok(can(g, WQS_ADMIN, "any") && can(g, WQS_RECV, NULL),
	    "the grant allows everything");
	ok(strlen(wqs_grant_name(g)) > 0, "and has a name: %s",
	    wqs_grant_name(g));
	wqs_grant_free(g);
	wqs_auth_free(a);
	a = load(NULL);
	ok(!wqs_auth_enabled(a), "NULL options: disabled");
	wqs_auth_free(a);
	is_str(why_h(NULL, "Bearer x", NOW), "authentication not loaded",
	    "a NULL wqs_auth fails closed");
}

static void
test_missing(void)
{
	struct wqs_auth *a = load_tokens("");

	ok(wqs_auth_enabled(a), "a tokens file enables auth");
	is_str(why_h(a, NULL, NOW), "missing bearer token", "no header");
	is_str(why_h(a, "", NOW), "missing bearer token", "empty header");
	is_str(why_h(a, "Bearer", NOW), "missing bearer token",
	    "scheme alone");
	is_str(why_h(a, "Bearer    ", NOW), "missing bearer token",
	    "scheme and blanks");
	wqs_auth_free(a);
}

static void
test_not_bearer(void)
{
	char file[256];
	struct wqs_auth *a;

	file[0] = '\0';
	HASH_LINE("s3cret", "read", file);
	a = load_tokens(file);
	is_str(why_h(a, "Basic czNjcmV0", NOW), "not a bearer token",
	    "Basic");
	is_str(why_h(a, "Bearers3cret", NOW), "not a bearer token",
	    "no space after the scheme");
	is_str(why_h(a, "Token s3cret", NOW), "not a bearer token",
	    "another scheme");
	is_str(why_h(a, "Bearer\ts3cret", NOW), "not a bearer token",
	    "a tab is no space");
	is_str(why_h(a, "Bearer s3cret", NOW), "ok", "Bearer");
	is_str(why_h(a, "bearer s3cret", NOW), "ok", "bearer");
	is_str(why_h(a, "BEARER    s3cret  ", NOW), "ok",
	    "BEARER, several spaces, trailing blanks");
	wqs_auth_free(a);
}

static void
test_malformed_credential(void)
{
	char file[256], *big;
	struct wqs_auth *a;

	file[0] = '\0';
	HASH_LINE("s3cret", "read", file);
	a = load_tokens(file);
	is_str(why(a, "s3 cret"), "malformed token", "a space inside");
	is_str(why(a, "s3\x01" "cret"), "malformed token", "a control byte");
	is_str(why(a, "s3\xc3\xa9" "cret"), "malformed token", "non-ASCII");
	need((big = malloc(9000)) != NULL, "malloc");
	memset(big, 'a', 8999);
	big[8999] = '\0';
	is_str(why(a, big), "malformed token", "9000 bytes");
	free(big);
	wqs_auth_free(a);
}

static void
test_token_ok(void)
{
	char file[512], hash[72], name[32];
	struct wqs_grant *g;
	struct wqs_auth *a;

	file[0] = '\0';
	HASH_LINE("tok-reader", "read:orders", file);
	HASH_LINE("tok-sender", "send:orders recv:orders", file);
	a = load_tokens(file);
	g = grant(a, "tok-sender");
	wqs_token_hash("tok-sender", 10, hash);
	snprintf(name, sizeof(name), "token %.8s", hash + 7);
	is_str(wqs_grant_name(g), name, "named by its hash");
	ok(can(g, WQS_SEND, "orders"), "send:orders");
	ok(can(g, WQS_RECV, "orders"), "recv:orders");
	ok(!can(g, WQS_READ, "orders"), "not read");
	ok(!can(g, WQS_SEND, "orders2"), "not another queue");
	wqs_grant_free(g);
	g = grant(a, "tok-reader");
	ok(can(g, WQS_READ, "orders"), "the other token: read");
	ok(!can(g, WQS_SEND, "orders"), "only read");
	wqs_grant_free(g);
	wqs_auth_free(a);
}

static void
test_token_unknown(void)
{
	char file[512];
	struct wqs_auth *a;

	file[0] = '\0';
	HASH_LINE("tok-reader", "read", file);
	a = load_tokens(file);
	is_str(why(a, "tok-readeR"), "unknown token", "one letter off");
	is_str(why(a, "tok-reade"), "unknown token", "a prefix");
	is_str(why(a, "tok-reader2"), "unknown token", "longer");
	is_str(why(a, "a.b.c.d"), "unknown token", "three dots: no JWT");
	is_str(why(a, "a.b"), "unknown token", "one dot: no JWT");
	wqs_auth_free(a);
}

static void
test_token_globs(void)
{
	char file[512];
	struct wqs_grant *g;
	struct wqs_auth *a;

	file[0] = '\0';
	HASH_LINE("t", "read:orders-* recv:job-?? send:[ab]*", file);
	a = load_tokens(file);
	g = grant(a, "t");
	ok(can(g, WQS_READ, "orders-eu"), "orders-* matches orders-eu");
	ok(can(g, WQS_READ, "orders-"), "and orders-");
	ok(!can(g, WQS_READ, "orders"), "not orders");
	ok(!can(g, WQS_READ, "billing-orders-x"), "anchored");
	ok(can(g, WQS_RECV, "job-42"), "job-?? matches job-42");
	ok(!can(g, WQS_RECV, "job-420"), "not job-420");
	ok(can(g, WQS_SEND, "alpha") && can(g, WQS_SEND, "b"),
	    "[ab]* matches alpha and b");
	ok(!can(g, WQS_SEND, "charlie"), "not charlie");
	ok(!can(g, WQS_READ, NULL), "read:orders-* is not every queue");
	wqs_grant_free(g);
	wqs_auth_free(a);
}

static void
test_token_verbs(void)
{
	char file[512];
	struct wqs_grant *g;
	struct wqs_auth *a;

	file[0] = '\0';
	HASH_LINE("sender", "send:q", file);
	HASH_LINE("admin", "admin", file);
	HASH_LINE("logs", "*:logs", file);
	HASH_LINE("all", "*", file);
	a = load_tokens(file);
	g = grant(a, "sender");
	ok(can(g, WQS_SEND, "q"), "send:q sends to q");
	ok(!can(g, WQS_RECV, "q") && !can(g, WQS_READ, "q") &&
	    !can(g, WQS_ADMIN, "q"), "and does nothing else");
	ok(!can(g, 0, "q"), "no verb is never allowed");
	wqs_grant_free(g);
	g = grant(a, "admin");
	ok(can(g, WQS_ADMIN, "x") && can(g, WQS_ADMIN, NULL),
	    "bare admin is admin:*, every queue");
	ok(!can(g, WQS_READ, "x"), "admin does not imply read");
	wqs_grant_free(g);
	g = grant(a, "logs");
	ok(can(g, WQS_READ, "logs") && can(g, WQS_SEND, "logs") &&
	    can(g, WQS_RECV, "logs") && can(g, WQS_ADMIN, "logs"),
	    "*:logs: every verb on logs");
	ok(!can(g, WQS_READ, "other") && !can(g, WQS_READ, NULL),
	    "and on nothing else");
	wqs_grant_free(g);
	g = grant(a, "all");
	ok(can(g, WQS_RECV, "z") && can(g, WQS_ADMIN, NULL),
	    "bare * is everything");
	wqs_grant_free(g);
	ok(!can(NULL, WQS_READ, "q"), "a NULL grant allows nothing");
	wqs_auth_free(a);
}

static void
test_token_file_syntax(void)
{
	char hash[72], up[72], file[1024];
	struct wqs_grant *g;
	struct wqs_auth *a;
	size_t i;

	wqs_token_hash("upper", 5, hash);
	for (i = 0; hash[i] != '\0'; i++)
		up[i] = i < 7 ? hash[i] : (char)toupper((unsigned char)hash[i]);
	up[i] = '\0';
	snprintf(file, sizeof(file), "# a comment\n\n   \n\t# indented\n"
	    "%s\tread:a   send:b # the rest is a comment: admin\r\n", up);
	HASH_LINE("last", "recv", file);
	file[strlen(file) - 1] = '\0';	/* no newline at the end */
	a = load_tokens(file);
	g = grant(a, "upper");
	ok(can(g, WQS_READ, "a") && can(g, WQS_SEND, "b"),
	    "upper-case hex, tabs, CRLF");
	ok(!can(g, WQS_ADMIN, "a"), "a trailing comment is ignored");
	wqs_grant_free(g);
	is_str(why(a, "last"), "ok", "a last line without newline");
	wqs_auth_free(a);
}

static void
test_token_file_bad(void)
{
	char file[1024], good[128];
	const char *e;

	good[0] = '\0';
	HASH_LINE("good", "read", good);
	snprintf(file, sizeof(file), "# ok\n%ssha256:1234 read\n", good);
	e = tokens_err(file);
	ok(strstr(e, "line 3") && strstr(e, "bad hash"), "short hash: %s", e);
	snprintf(file, sizeof(file), "sha256:%064d read\n"
	    "sha256:%063dg read\n", 0, 0);
	e = tokens_err(file);
	ok(strstr(e, "line 2") && strstr(e, "bad hash"), "not hex: %s", e);
	snprintf(file, sizeof(file), "%064d read\n", 0);
	e = tokens_err(file);
	ok(strstr(e, "line 1") && strstr(e, "bad hash"), "no sha256: %s", e);
	snprintf(file, sizeof(file), "sha512:%064d read\n", 0);
	e = tokens_err(file);
	ok(strstr(e, "line 1") && strstr(e, "bad hash"), "sha512: %s", e);
	snprintf(file, sizeof(file), "%ssha256:%064d\n", good, 1);
	e = tokens_err(file);
	ok(strstr(e, "line 2") && strstr(e, "no scope"), "no scope: %s", e);
	snprintf(file, sizeof(file), "sha256:%064d # read\n", 1);
	e = tokens_err(file);
	ok(strstr(e, "line 1") && strstr(e, "no scope"),
	    "only a comment after the hash: %s", e);
}

static void
test_token_file_bad_scope(void)
{
	static const char *const bad[] = {
		"write:q", "READ:q", "read:", "reads", ":q", "read;q", "*:",
		"**", "read,send",
	};
	char file[1024];
	const char *e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(file, sizeof(file), "\nsha256:%064d read %s\n", 1,
		    bad[i]);
		e = tokens_err(file);
		ok(strstr(e, "line 2") && strstr(e, "bad scope"),
		    "scope %s: %s", bad[i], e);
	}
	snprintf(file, sizeof(file), "sha256:%064d read\nsha256:%064d send\n",
	    7, 7);
	e = tokens_err(file);
	ok(strstr(e, "line 2") && strstr(e, "line 1"), "a hash twice: %s", e);
}

static void
test_token_file_missing(void)
{
	struct wqs_auth_opts o;
	const char *e;

	memset(&o, 0, sizeof(o));
	o.tokens_file = "/nonexistent/tokens";
	e = load_err(&o);
	ok(strstr(e, "/nonexistent/tokens") && strstr(e, "No such file"),
	    "a missing file: %s", e);
}

static void
test_token_file_empty(void)
{
	struct wqs_auth *a = load_tokens("# everybody revoked\n");
	char *tok;

	ok(wqs_auth_enabled(a), "enabled");
	is_str(why(a, "anything"), "unknown token", "nobody gets in");
	tok = mint_std("HS256", "hs.key", NOW + 60, "read");
	is_str(why(a, tok), "algorithm not accepted", "a JWT without any key");
	consume(a, tok);
}

static void
check_scopes(struct wqs_grant *g, const char *what)
{
	ok(can(g, WQS_SEND, "orders"), "%s: send:orders", what);
	ok(can(g, WQS_READ, "x-1"), "%s: read:x-*", what);
	ok(!can(g, WQS_RECV, "orders"), "%s: not recv", what);
	ok(!can(g, WQS_READ, "orders"), "%s: not read:orders", what);
}

static void
accept_alg(const char *alg, const char *pub, const char *priv)
{
	struct wqs_grant *g;
	struct wqs_auth *a;
	char *tok;

	a = load_keys(spec(alg, pub), NULL);
	ok(wqs_auth_enabled(a), "%s: enabled", alg);
	tok = mint_std(alg, priv, NOW + 60, "send:orders read:x-*");
	g = grant(a, tok);
	is_str(wqs_grant_name(g), "jwt sub=alice", "named by sub");
	check_scopes(g, alg);
	wqs_grant_free(g);
	consume(a, tok);
}

static void
test_hs256(void)
{
	accept_alg("HS256", "hs.key", "hs.key");
}

static void
test_rs256(void)
{
	accept_alg("RS256", "rsa.pub", "rsa.pem");
}

static void
test_es256(void)
{
	accept_alg("ES256", "ec.pub", "ec.pem");
}

/* Tokens signed by OpenSSL directly: libjwt reads what others write. */
static void
test_interop(void)
{
	const char *hdr = "{\"alg\":\"ES256\",\"typ\":\"JWT\"}";
	const char *body = "{\"sub\":\"bob\",\"exp\":1700000060,"
	    "\"scope\":\"read\"}";
	struct wqs_grant *g;
	struct wqs_auth *a;
	char *tok;

	a = load_keys(spec("ES256", "ec.pub"), spec("RS256", "rsa.pub"));
	tok = hand(hdr, body, "ES256:ec.pem");
	g = grant(a, tok);
	is_str(wqs_grant_name(g), "jwt sub=bob",
	    "ES256 with R||S from OpenSSL");
	ok(can(g, WQS_READ, "q"), "its scope");
	wqs_grant_free(g);
	free(tok);
	tok = hand("{\"alg\":\"RS256\"}", body, "RS256:rsa.pem");
	is_str(why(a, tok), "ok", "RS256 from OpenSSL, no typ");
	consume(a, tok);
}

static void
test_two_keys(void)
{
	struct wqs_auth *a;
	char *t1, *t2, *t3;

	a = load_keys(spec("HS256", "hs.key"), spec("HS256", "hs2.key"));
	t1 = mint_std("HS256", "hs.key", NOW + 60, "read");
	t2 = mint_std("HS256", "hs2.key", NOW + 60, "read");
	t3 = mint_std("HS256", "32.key", NOW + 60, "read");
	is_str(why(a, t1), "ok", "the first key");
	is_str(why(a, t2), "ok", "the second key of the same algorithm");
	is_str(why(a, t3), "bad signature", "neither");
	free(t1);
	free(t2);
	consume(a, t3);
}

static void
test_expired(void)
{
	struct wqs_auth *a = load_keys(spec("HS256", "hs.key"), NULL);
	char *tok = mint_std("HS256", "hs.key", NOW - 3600, "read");

	is_str(why(a, tok), "token expired", "an hour ago");
	is_str(why_at(a, tok, NOW - 3600), "ok", "fine back then");
	consume(a, tok);
}

static void
test_not_yet_valid(void)
{
	struct wqs_auth *a = load_keys(spec("HS256", "hs.key"), NULL);
	char *tok = mint("HS256", "hs.key", "{\"exp\":1700007200,"
	    "\"nbf\":1700003600}");

	is_str(why(a, tok), "token not yet valid", "nbf in an hour");
	is_str(why_at(a, tok, NOW + 3600), "ok", "fine in an hour");
	is_str(why_at(a, tok, NOW + 7231), "token expired",
	    "and expired after exp");
	consume(a, tok);
}

/* leeway 30: exp may be 30 s past, nbf 30 s ahead, not one more. */
static void
test_leeway(void)
{
	struct wqs_auth *a = load_keys(spec("HS256", "hs.key"), NULL);
	struct wqs_auth_opts o;
	const char *keys[1];
	char *tok;

	tok = mint("HS256", "hs.key", "{\"exp\":1700000000,"
	    "\"nbf\":1700000000}");
	is_str(why_at(a, tok, NOW), "ok", "now = exp = nbf");
	is_str(why_at(a, tok, NOW + 30), "ok", "now = exp + leeway");
	is_str(why_at(a, tok, NOW + 31), "token expired",
	    "now = exp + leeway + 1");
	is_str(why_at(a, tok, NOW - 30), "ok", "now = nbf - leeway");
	is_str(why_at(a, tok, NOW - 31), "token not yet valid",
	    "now = nbf - leeway - 1");
	wqs_auth_free(a);
	keys[0] = spec("HS256", "hs.key");
	o = opts_keys(keys, 1);
	o.leeway = 0;
	a = load(&o);
	is_str(why_at(a, tok, NOW), "ok", "leeway 0: now = exp");
	is_str(why_at(a, tok, NOW + 1), "token expired", "leeway 0: exp + 1");
	is_str(why_at(a, tok, NOW - 1), "token not yet valid",
	    "leeway 0: nbf - 1");
	free(tok);
	tok = mint("HS256", "hs.key", "{\"exp\":9223372036854775807}");
	is_str(why_at(a, tok, NOW), "ok", "the largest exp");
	free(tok);
	tok = mint("HS256", "hs.key", "{\"exp\":-9223372036854775807}");
	is_str(why_at(a, tok, NOW), "token expired", "a hugely negative exp");
	wqs_auth_free(a);
	o.leeway = -1;
	ok(strstr(load_err(&o), "leeway") != NULL, "a negative leeway: %s",
	    load_err(&o));
	free(tok);
}

static void
test_exp_missing(void)
{
	struct wqs_auth *a = load_keys(spec("HS256", "hs.key"), NULL);
	char *tok;

	tok = mint("HS256", "hs.key", "{\"sub\":\"x\",\"scope\":\"read\"}");
	is_str(why(a, tok), "token without exp", "no exp");
	free(tok);
	tok = mint("HS256", "hs.key", "{\"exp\":\"1700000060\"}");
	is_str(why(a, tok), "malformed token", "exp a string");
	free(tok);
	tok = mint("HS256", "hs.key", "{\"exp\":1700000060.5}");
	is_str(why(a, tok), "malformed token", "exp a real");
	free(tok);
	tok = mint("HS256", "hs.key", "{\"exp\":null}");
	is_str(why(a, tok), "malformed token", "exp null");
	free(tok);
	tok = mint("HS256", "hs.key", "{\"exp\":1700000060,\"nbf\":\"0\"}");
	is_str(why(a, tok), "malformed token", "nbf a string");
	consume(a, tok);
}

static void
test_alg_none(void)
{
	const char *body = "{\"exp\":1700000060,\"scope\":\"*\"}";
	struct wqs_auth *a;
	char *tok, *signed_tok;

	a = load_keys(spec("HS256", "hs.key"), spec("RS256", "rsa.pub"));
	tok = hand("{\"alg\":\"none\",\"typ\":\"JWT\"}", body, NULL);
	is_str(why(a, tok), "algorithm not accepted", "alg none");
	free(tok);
	tok = hand("{\"alg\":\"NONE\"}", body, NULL);
	is_str(why(a, tok), "algorithm not accepted", "alg NONE");
	free(tok);
	/* a none token wearing the signature of a good one */
	signed_tok = mint_std("HS256", "hs.key", NOW + 60, "*");
	tok = hand("{\"alg\":\"none\"}", body, NULL);
	strcat(tok, strrchr(signed_tok, '.') + 1);
	is_str(why(a, tok), "algorithm not accepted", "alg none, signed");
	free(tok);
	tok = hand("{\"typ\":\"JWT\"}", body, NULL);
	is_str(why(a, tok), "malformed token", "no alg at all");
	free(tok);
	tok = hand("{\"alg\":null}", body, NULL);
	is_str(why(a, tok), "malformed token", "alg null");
	free(tok);
	tok = hand("{\"alg\":\"hs256\"}", body, "HS256:hs.key");
	is_str(why(a, tok), "algorithm not accepted",
	    "alg hs256 (libjwt would take it)");
	free(tok);
	free(signed_tok);
	wqs_auth_free(a);
}

/*
 * The algorithm-confusion attack: an HS256 token whose HMAC secret is
 * the server's RSA public key, which libjwt 1.10 verifies when handed
 * that key for a token that says HS256.
 */
static void
test_confusion(void)
{
	const char *body = "{\"exp\":1700000060,\"scope\":\"*\"}";
	char pem[8192], *tok, *tok2, *file;
	struct wqs_auth *a;
	size_t len;
	jwt_t *jwt = NULL;

	tok = hand("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", body,
	    "HS256:rsa.pub");
	tok2 = mint("HS256", "rsa.pub", body);
	file = read_file(kpath("rsa.pub"), &len);
	memcpy(pem, file, len);
	ok(jwt_decode(&jwt, tok, (unsigned char *)pem, (int)len) == 0,
	    "libjwt alone falls for it (why we pin algorithms)");
	jwt_free(jwt);
	a = load_keys(spec("RS256", "rsa.pub"), NULL);
	is_str(why(a, tok), "algorithm not accepted", "RS256 key only");
	is_str(why(a, tok2), "algorithm not accepted", "the same by libjwt");
	wqs_auth_free(a);
	a = load_keys(spec("RS256", "rsa.pub"), spec("HS256", "hs.key"));
	is_str(why(a, tok), "bad signature", "RS256 and HS256 keys");
	wqs_auth_free(a);
	free(tok);
	/* the PEM without its last newline, as an HS secret file loses it */
	pem[len - 1] = '\0';
	write_file(kpath("rsa-pub-nonl"), pem, len - 1);
	tok = hand("{\"alg\":\"HS256\"}", body, "HS256:rsa-pub-nonl");
	a = load_keys(spec("RS256", "rsa.pub"), spec("HS256", "hs.key"));
	is_str(why(a, tok), "bad signature", "the PEM without newline");
	wqs_auth_free(a);
	free(tok2);
	free(tok);
}

static void
test_wrong_alg(void)
{
	struct wqs_auth *a = load_keys(spec("HS256", "hs.key"), NULL);
	char *tok;

	tok = mint_std("RS256", "rsa.pem", NOW + 60, "read");
	is_str(why(a, tok), "algorithm not accepted", "RS256, HS256 key");
	free(tok);
	tok = mint_std("ES256", "ec.pem", NOW + 60, "read");
	is_str(why(a, tok), "algorithm not accepted", "ES256, HS256 key");
	free(tok);
	tok = mint_std("HS384", "hs.key", NOW + 60, "read");
	is_str(why(a, tok), "algorithm not accepted", "HS384, HS256 key");
	consume(a, tok);
}

static void
test_wrong_signature(void)
{
	struct wqs_auth *a;
	char *tok;

	a = load_keys(spec("HS256", "hs.key"), spec("RS256", "rsa.pub"));
	tok = mint_std("HS256", "hs2.key", NOW + 60, "read");
	is_str(why(a, tok), "bad signature", "HS256, another secret");
	free(tok);
	tok = mint_std("RS256", "rsa2.pem", NOW + 60, "read");
	is_str(why(a, tok), "bad signature", "RS256, another key");
	free(tok);
	wqs_auth_free(a);
	a = load_keys(spec("ES256", "ec.pub"), NULL);
	tok = mint_std("ES256", "ec2.pem", NOW + 60, "read");
	is_str(why(a, tok), "bad signature", "ES256, another key");
	free(tok);
	tok = mint_std("ES256", "ec.pem", NOW + 60, "read");
	*strrchr(tok, '.') = '\0';
	strcat(tok, ".");
	is_str(why(a, tok), "bad signature", "ES256, no signature");
	free(tok);
	wqs_auth_free(a);
	/* libjwt 1.10 would write past a malloc(0) for these (valgrind) */
	a = load_keys(spec("RS256", "rsa.pub"), spec("HS256", "hs.key"));
	tok = mint_std("RS256", "rsa.pem", NOW + 60, "read");
	*(strrchr(tok, '.') + 1) = '\0';
	is_str(why(a, tok), "bad signature", "RS256, no signature");
	free(tok);
	tok = mint_std("HS256", "hs.key", NOW + 60, "read");
	*(strrchr(tok, '.') + 1) = '\0';
	is_str(why(a, tok), "bad signature", "HS256, no signature");
	consume(a, tok);
}

/* Swap one segment of a token for that of another. */
static char *
swap_seg(const char *a, const char *b, int seg)
{
	const char *pa[4], *pb[4];
	char *out;
	int i;

	need((out = calloc(1, strlen(a) + strlen(b) + 1)) != NULL, "calloc");
	pa[0] = a;
	pb[0] = b;
	for (i = 1; i < 3; i++) {
		pa[i] = strchr(pa[i - 1], '.') + 1;
		pb[i] = strchr(pb[i - 1], '.') + 1;
	}
	pa[3] = a + strlen(a) + 1;
	pb[3] = b + strlen(b) + 1;
	for (i = 0; i < 3; i++) {
		if (i > 0)
			strcat(out, ".");
		if (i == seg)
			strncat(out, pb[i], (size_t)(pb[i + 1] - 1 - pb[i]));
		else
			strncat(out, pa[i], (size_t)(pa[i + 1] - 1 - pa[i]));
	}
	return out;
}

static void
test_tampered(void)
{
	struct wqs_auth *a;
	char *good, *evil, *tok;

	a = load_keys(spec("HS256", "hs.key"), spec("RS256", "rsa.pub"));
	good = mint("HS256", "hs.key", "{\"exp\":1700000060,"
	    "\"scope\":\"read:public\",\"sub\":\"eve\"}");
	evil = mint("HS256", "hs2.key", "{\"exp\":1700000060,"
	    "\"scope\":\"*\",\"sub\":\"eve\"}");
	tok = swap_seg(good, evil, 1);
	is_str(why(a, tok), "bad signature", "HS256, payload swapped");
	free(tok);
	free(good);
	free(evil);
	good = mint("RS256", "rsa.pem", "{\"exp\":1700000060,"
	    "\"scope\":\"read:public\"}");
	evil = mint("RS256", "rsa.pem", "{\"exp\":1800000060,"
	    "\"scope\":\"read:public\"}");
	tok = swap_seg(good, evil, 1);
	is_str(why(a, tok), "bad signature", "RS256, exp pushed back");
	free(tok);
	/* another digit in the signature, still base64url */
	tok = strdup(good);
	tok[strlen(tok) - 3] = tok[strlen(tok) - 3] == 'A' ? 'B' : 'A';
	is_str(why(a, tok), "bad signature", "RS256, a digit of the signature");
	free(tok);
	free(evil);
	free(good);
	wqs_auth_free(a);
}

static void
test_issuer_audience(void)
{
	const char *keys[1];
	struct wqs_auth_opts o;
	struct wqs_auth *a;
	char *tok;

	keys[0] = spec("HS256", "hs.key");
	o = opts_keys(keys, 1);
	o.issuer = "https://idp.example";
	o.audience = "wq";
	a = load(&o);
#define T(claims, want, desc) do {					\
	tok = mint("HS256", "hs.key", "{\"exp\":1700000060," claims "}"); \
	is_str(why(a, tok), (want), (desc));				\
	free(tok);							\
} while (0)
	T("\"iss\":\"https://idp.example\",\"aud\":\"wq\"", "ok",
	    "iss and aud right");
	T("\"iss\":\"https://idp.example\",\"aud\":[\"other\",\"wq\"]", "ok",
	    "aud an array with wq");
	T("\"iss\":\"https://evil.example\",\"aud\":\"wq\"", "wrong issuer",
	    "another iss");
	T("\"iss\":\"https://idp.example/\",\"aud\":\"wq\"", "wrong issuer",
	    "iss with a slash more");
	T("\"aud\":\"wq\"", "wrong issuer", "no iss");
	T("\"iss\":[\"https://idp.example\"],\"aud\":\"wq\"", "wrong issuer",
	    "iss an array");
	T("\"iss\":\"https://idp.example\",\"aud\":\"wqx\"", "wrong audience",
	    "another aud");
	T("\"iss\":\"https://idp.example\",\"aud\":[\"a\",\"b\"]",
	    "wrong audience", "aud an array without wq");
	T("\"iss\":\"https://idp.example\"", "wrong audience", "no aud");
	T("\"iss\":\"https://idp.example\",\"aud\":[1]", "wrong audience",
	    "aud an array of a number");
	wqs_auth_free(a);
	o.issuer = o.audience = NULL;
	a = load(&o);
	T("\"iss\":\"anyone\",\"aud\":5", "ok", "neither checked");
#undef T
	wqs_auth_free(a);
}

static void
test_malformed_base64(void)
{
	struct wqs_auth *a = load_keys(spec("HS256", "hs.key"), NULL);
	char *good, *tok;

	good = mint_std("HS256", "hs.key", NOW + 60, "read");
	is_str(why(a, good), "ok", "the good token");
	tok = strdup(good);
	tok[3] = '+';
	is_str(why(a, tok), "malformed token", "+ in the header");
	free(tok);
	tok = strdup(good);
	*(strchr(tok, '.') + 2) = '!';
	is_str(why(a, tok), "malformed token", "! in the payload");
	free(tok);
	need((tok = malloc(strlen(good) + 4)) != NULL, "malloc");
	strcpy(tok, good);
	strcat(tok, "%");
	is_str(why(a, tok), "malformed token", "% after the signature");
	free(tok);
	/* {"alg":"HS256"} padded */
	tok = hand("{\"alg\":\"HS256\"}", "{\"exp\":1700000060}",
	    "HS256:hs.key");
	is_str(why(a, tok), "ok", "a header of 15 bytes, unpadded");
	memmove(strchr(tok, '.') + 1, strchr(tok, '.'),
	    strlen(strchr(tok, '.')) + 1);
	*strchr(tok, '.') = '=';
	is_str(why(a, tok), "malformed token", "the same padded with =");
	free(tok);
	is_str(why(a, "eyJhbGciOiJIUzI1NiJ9x.e30.AAAA"), "malformed token",
	    "a header of 4n+1 digits");
	/* "e30" is {}; "e31" has the same bytes but unused bits set */
	is_str(why(a, "eyJhbGciOiJIUzI1NiJ9.e31.AAAA"), "malformed token",
	    "non-zero unused bits");
	is_str(why(a, ".."), "malformed token", "two dots alone");
	is_str(why(a, "eyJhbGciOiJIUzI1NiJ9..AAAA"), "malformed token",
	    "an empty payload");
	consume(a, good);
}

static void
test_malformed_json(void)
{
	struct wqs_auth *a = load_keys(spec("HS256", "hs.key"), NULL);
	const char *body = "{\"exp\":1700000060}";
	char *tok;

#define H(hdr, pay, want, desc) do {					\
	tok = hand((hdr), (pay), "HS256:hs.key");			\
	is_str(why(a, tok), (want), (desc));				\
	free(tok);							\
} while (0)
	H("{\"alg\":\"HS256\"", body, "malformed token", "header cut short");
	H("[\"HS256\"]", body, "malformed token", "header an array");
	H("\"HS256\"", body, "malformed token", "header a string");
	H("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", body, "malformed token",
	    "alg twice");
	H("{\"alg\":\"HS256\"}", "{\"exp\":1700000060", "malformed token",
	    "payload cut short");
	H("{\"alg\":\"HS256\"}", "[1700000060]", "malformed token",
	    "payload an array (libjwt takes it)");
	H("{\"alg\":\"HS256\"}", "{\"exp\":1,\"exp\":1700000060}",
	    "malformed token", "exp twice (libjwt keeps the last)");
	H("{\"alg\":\"HS256\"}", "", "malformed token", "payload empty");
	H("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", body,
	    "token type not accepted", "typ at+jwt (libjwt refuses it)");
	H("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", body, "ok", "typ jwt");
	H("{\"alg\":\"HS256\",\"typ\":5}", body, "token type not accepted",
	    "typ a number");
	H("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", body,
	    "critical header not understood", "crit");
	H("{\"alg\":\"HS256\",\"kid\":\"k1\"}", body, "ok", "kid ignored");
#undef H
	wqs_auth_free(a);
}

static void
test_jwt_scopes(void)
{
	struct wqs_auth *a = load_keys(spec("HS256", "hs.key"), NULL);
	struct wqs_grant *g;
	char *tok;

	tok = mint("HS256", "hs.key", "{\"exp\":1700000060,"
	    "\"scope\":\"  send:orders   read:x-*  \"}");
	g = grant(a, tok);
	check_scopes(g, "a string with runs of spaces");
	wqs_grant_free(g);
	free(tok);
	tok = mint("HS256", "hs.key", "{\"exp\":1700000060,"
	    "\"scope\":[\"send:orders\",\"read:x-*\"]}");
	g = grant(a, tok);
	check_scopes(g, "an array");
	is_str(wqs_grant_name(g), "jwt", "no sub: named jwt");
	wqs_grant_free(g);
	free(tok);
	tok = mint("HS256", "hs.key", "{\"exp\":1700000060,\"sub\":\"x\"}");
	g = grant(a, tok);
	ok(!can(g, WQS_READ, "q") && !can(g, WQS_SEND, "q") &&
	    !can(g, WQS_RECV, "q") && !can(g, WQS_ADMIN, "q"),
	    "no scope claim: accepted, allows nothing");
	wqs_grant_free(g);
	free(tok);
	tok = mint("HS256", "hs.key", "{\"exp\":1700000060,\"scope\":\"\"}");
	g = grant(a, tok);
	ok(!can(g, WQS_READ, "q"), "an empty scope: nothing");
	wqs_grant_free(g);
	free(tok);
#define S(scope, desc) do {						\
	tok = mint("HS256", "hs.key", "{\"exp\":1700000060,"		\
	    "\"scope\":" scope "}");					\
	is_str(why(a, tok), "malformed token", (desc));			\
	free(tok);							\
} while (0)
	S("\"read write:q\"", "an unknown verb");
	S("\"read:\"", "an empty glob");
	S("[\"read\",7]", "an array with a number");
	S("[\"read send\"]", "two scopes in one element");
	S("42", "a number");
	S("{\"read\":\"q\"}", "an object");
#undef S
	wqs_auth_free(a);
}

static void
test_sub_name(void)
{
	struct wqs_auth *a = load_keys(spec("HS256", "hs.key"), NULL);
	struct wqs_grant *g;
	char claims[512], *tok;
	const char *n;

	tok = mint("HS256", "hs.key", "{\"exp\":1700000060,"
	    "\"sub\":\"a\\nFAKE LOG LINE\\u001b[31m\"}");
	g = grant(a, tok);
	is_str(wqs_grant_name(g), "jwt sub=a?FAKE LOG LINE?[31m",
	    "control bytes of sub shown as ?");
	wqs_grant_free(g);
	free(tok);
	snprintf(claims, sizeof(claims), "{\"exp\":1700000060,\"sub\":"
	    "\"%0300d\"}", 0);
	tok = mint("HS256", "hs.key", claims);
	g = grant(a, tok);
	n = wqs_grant_name(g);
	ok(strncmp(n, "jwt sub=000", 11) == 0 && strlen(n) < 100,
	    "a long sub is cut: %zu bytes", strlen(n));
	wqs_grant_free(g);
	consume(a, tok);
}

static void
test_hs_secret(void)
{
	struct wqs_auth *a;
	const char *e;
	char *tok;

	e = key_err(spec("HS256", "short.key"));
	ok(strstr(e, "short.key") && strstr(e, "32 bytes"),
	    "a secret of 31 bytes: %s", e);
	e = key_err(spec("HS256", "short-nl.key"));
	ok(strstr(e, "32 bytes") != NULL,
	    "31 bytes and a newline: %s", e);
	is_str(key_err(spec("HS256", "32.key")), "", "32 bytes load");
	/* the newline of hs-nl.key is not part of the secret */
	a = load_keys(spec("HS256", "hs-nl.key"), NULL);
	tok = mint_std("HS256", "hs.key", NOW + 60, "read");
	is_str(why(a, tok), "ok", "one trailing newline dropped");
	consume(a, tok);
}

static void
test_key_errors(void)
{
	static const struct {
		const char	*alg, *file, *want;
	} bad[] = {
		{ "HS999", "hs.key", "unknown algorithm" },
		{ "none", "hs.key", "unknown algorithm" },
		{ "RS256", "ec.pub", "not an RSA key" },
		{ "ES256", "rsa.pub", "not an EC key" },
		{ "ES256", "ec384.pub", "wrong curve" },
		{ "ES384", "ec.pub", "wrong curve" },
		{ "RS256", "rsa.pem", "PUBLIC KEY" },
		{ "RS256", "hs.key", "PUBLIC KEY" },
		{ "RS256", "rsa1024.pub", "2048" },
		{ "RS256", "nonexistent.pub", "No such file" },
	};
	char junk[512];
	const char *e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = key_err(spec(bad[i].alg, bad[i].file));
		ok(strstr(e, bad[i].file) && strstr(e, bad[i].want),
		    "%s:%s: %s", bad[i].alg, bad[i].file, e);
	}
	e = key_err("HS256");
	ok(strstr(e, "ALG:FILE") != NULL, "no colon: %s", e);
	snprintf(junk, sizeof(junk), "-----BEGIN PUBLIC KEY-----\nnot base64"
	    "\n-----END PUBLIC KEY-----\n");
	write_file(kpath("junk.pub"), junk, strlen(junk));
	e = key_err(spec("RS256", "junk.pub"));
	ok(strstr(e, "not a valid PEM public key") != NULL, "junk PEM: %s", e);
	is_str(key_err(spec("RS256", "rsa.pub")), "", "rsa.pub loads");
	is_str(key_err(spec("ES256", "ec.pub")), "", "ec.pub loads");
}

static void
test_modes(void)
{
	struct wqs_auth_opts o;
	const char *keys[1];
	char file[256], *tok;
	struct wqs_auth *a;

	file[0] = '\0';
	HASH_LINE("svc", "read", file);
	keys[0] = spec("HS256", "hs.key");
	o = opts_keys(keys, 1);
	o.tokens_file = tokens_file(file);
	a = load(&o);
	tok = mint_std("HS256", "hs.key", NOW + 60, "read");
	is_str(why(a, "svc"), "ok", "tokens and keys: a token");
	is_str(why(a, tok), "ok", "tokens and keys: a JWT");
	wqs_auth_free(a);
	a = load_keys(spec("HS256", "hs.key"), NULL);
	is_str(why(a, "svc"), "unknown token", "keys only: a service token");
	consume(a, tok);
}

/* A grant is the caller's: it outlives a reload that frees the auth. */
static void
test_grant_outlives(void)
{
	struct wqs_grant *g1, *g2;
	struct wqs_auth *a;
	char file[256], *tok;

	file[0] = '\0';
	HASH_LINE("svc", "recv:jobs-*", file);
	a = load_tokens(file);
	g1 = grant(a, "svc");
	wqs_auth_free(a);
	a = load_keys(spec("HS256", "hs.key"), NULL);
	tok = mint_std("HS256", "hs.key", NOW + 60, "send:jobs-*");
	g2 = grant(a, tok);
	consume(a, tok);
	ok(can(g1, WQS_RECV, "jobs-1"), "a token's grant");
	ok(can(g2, WQS_SEND, "jobs-1"), "a JWT's grant");
	wqs_grant_free(g1);
	wqs_grant_free(g2);
}

#define NTHREADS	8
#define ROUNDS		200

struct race {
	const struct wqs_auth *a;
	const char	*hs, *rs, *es, *bad;
	int		 wrong;
};

static void *
racer(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		r->wrong += strcmp(why(r->a, r->hs), "ok") != 0;
		r->wrong += strcmp(why(r->a, r->rs), "ok") != 0;
		r->wrong += strcmp(why(r->a, r->es), "ok") != 0;
		r->wrong += strcmp(why(r->a, "svc"), "ok") != 0;
		r->wrong += strcmp(why(r->a, r->bad), "bad signature") != 0;
	}
	return NULL;
}

/* One wqs_auth, many threads: it is only read. */
static void
test_threads(void)
{
	const char *keys[3];
	struct race r[NTHREADS];
	pthread_t t[NTHREADS];
	struct wqs_auth_opts o;
	struct wqs_auth *a;
	char file[256], *hs, *rs, *es, *bad;
	int i, wrong = 0;

	file[0] = '\0';
	HASH_LINE("svc", "read", file);
	keys[0] = spec("HS256", "hs.key");
	keys[1] = spec("RS256", "rsa.pub");
	keys[2] = spec("ES256", "ec.pub");
	o = opts_keys(keys, 3);
	o.tokens_file = tokens_file(file);
	a = load(&o);
	hs = mint_std("HS256", "hs.key", NOW + 60, "read");
	rs = mint_std("RS256", "rsa.pem", NOW + 60, "read");
	es = mint_std("ES256", "ec.pem", NOW + 60, "read");
	bad = mint_std("RS256", "rsa2.pem", NOW + 60, "read");
	for (i = 0; i < NTHREADS; i++) {
		r[i] = (struct race){ a, hs, rs, es, bad, 0 };
		need(pthread_create(&t[i], NULL, racer, &r[i]) == 0,
		    "pthread_create");
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		wrong += r[i].wrong;
	}
	is_int(wrong, 0, "8 threads, 1000 checks each, all as expected");
	free(hs);
	free(rs);
	free(es);
	free(bad);
	wqs_auth_free(a);
}

int
main(void)
{
	make_keys();
	plan(39);
	TEST(test_token_hash, "wqs_token_hash: sha256:HEX");
	TEST(test_verb_name, "wqs_verb_name");
	TEST(test_disabled, "no tokens and no keys: everything allowed");
	TEST(test_missing, "missing bearer token");
	TEST(test_not_bearer, "the Bearer scheme, in any case, then spaces");
	TEST(test_malformed_credential, "credentials with odd bytes");
	TEST(test_token_ok, "a service token and its scopes");
	TEST(test_token_unknown, "an unknown service token");
	TEST(test_token_globs, "scopes: fnmatch globs over queue names");
	TEST(test_token_verbs, "scopes: verbs, bare verbs, *");
	TEST(test_token_file_syntax, "tokens file: comments, case, CRLF");
	TEST(test_token_file_bad, "tokens file: bad lines name their number");
	TEST(test_token_file_bad_scope, "tokens file: bad scopes, duplicates");
	TEST(test_token_file_missing, "tokens file: missing");
	TEST(test_token_file_empty, "tokens file: empty lets nobody in");
	TEST(test_hs256, "JWT HS256 accepted with its scopes");
	TEST(test_rs256, "JWT RS256 accepted with its scopes");
	TEST(test_es256, "JWT ES256 accepted with its scopes");
	TEST(test_interop, "JWTs signed by OpenSSL, not libjwt");
	TEST(test_two_keys, "two keys of one algorithm (rotation)");
	TEST(test_expired, "JWT expired");
	TEST(test_not_yet_valid, "JWT not yet valid");
	TEST(test_leeway, "leeway: the edges of exp and nbf");
	TEST(test_exp_missing, "JWT without exp, exp not an integer");
	TEST(test_alg_none, "alg none, no alg, alg in lower case");
	TEST(test_confusion, "HS256 signed with the RSA public key refused");
	TEST(test_wrong_alg, "an algorithm without a key refused");
	TEST(test_wrong_signature, "a wrong key or no signature");
	TEST(test_tampered, "tampered payload or signature");
	TEST(test_issuer_audience, "iss and aud");
	TEST(test_malformed_base64, "malformed base64url");
	TEST(test_malformed_json, "malformed JSON, typ, crit");
	TEST(test_jwt_scopes, "JWT scope: string, array, none, bad");
	TEST(test_sub_name, "JWT sub names the grant, sanitised");
	TEST(test_hs_secret, "HS256 secret: 32 bytes at least, newline");
	TEST(test_key_errors, "bad --jwt-key files refused at load");
	TEST(test_modes, "tokens and keys together, keys alone");
	TEST(test_grant_outlives, "a grant outlives its wqs_auth");
	TEST(test_threads, "threads share one wqs_auth");
	tap_rmtree(keydir);
	return done();
}
