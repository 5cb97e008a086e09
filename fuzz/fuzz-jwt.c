/* SPDX-License-Identifier: MIT */
/*
 * fuzz-jwt — the verification of JWTs in wq-serve (serve/jwt.c, with
 * libjwt): the input is the credential of "Bearer CREDENTIAL" (printable
 * ASCII, as auth.c lets through), checked against a fixed HS256 secret
 * and a fixed RS256 public key, with an issuer and an audience, at a
 * fixed time.  Nobody holds the RSA private key here, so a token can be
 * accepted only if it is HS256 and its signature is the HMAC of its
 * first two segments under the secret: a forged, garbled, alg-none or
 * algorithm-confused token (HS256 signed with the public key) is refused.
 * An accepted token's grant is named "jwt..." and has valid scopes.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"
#include "auth_priv.h"

#define NOW	1700000000LL
#define SECRET	"0123456789abcdef0123456789abcdef-fuzz"

static const char pubkey[] =
	    "-----BEGIN PUBLIC KEY-----\n"
	    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApT+v51KvkL3rtiAuLOAz\n"
	    "O5/GMVwcgzRnsjHNjNBsGPjDEj9iVfQDlZkKUmXJzmw7Edjn8sPuLdnEVtBgH3n0\n"
	    "VHB7VCPbPSAlLR3mZ5h+ZN0eSuB1X9V/6YbC1RsIG9NJbUF5zB3HnNohozagBvqu\n"
	    "VqRZtq6S+5LZtaO4XRKupCExCpfCrFrcDPm7/T2Ku2ecl5XdIxLnX+QPIlqw+oGd\n"
	    "9DHwNxcf+Z0hVZFiChcvxyOvpnxxWocl7R0VTMwmQJoMs3J0JWtyMcMvRRvNnEiE\n"
	    "0YsUD0hBhbJqNDrYrCXrddCJdQXthkOMwEDN2YGhdbZ22ePTGEv4hN7DJs5RtITe\n"
	    "FwIDAQAB\n"
	    "-----END PUBLIC KEY-----\n";

static struct wqs_jwt *
verifier(void)
{
	static struct wqs_jwt *j;
	static char hs[4200], rs[4200];
	static const char *keys[] = { hs, rs };
	struct wqs_auth_opts o = { .jwt_keys = keys, .njwt_keys = 2,
	    .issuer = "wq-fuzz", .audience = "wq", .leeway = 30 };
	char err[256];

	if (j != NULL)
		return j;
	fuzz_write(fuzz_path("hs.key"), (const uint8_t *)SECRET,
	    strlen(SECRET));
	fuzz_write(fuzz_path("rs.pub"), (const uint8_t *)pubkey,
	    strlen(pubkey));
	snprintf(hs, sizeof(hs), "HS256:%s", fuzz_path("hs.key"));
	snprintf(rs, sizeof(rs), "RS256:%s", fuzz_path("rs.pub"));
	if ((j = wqs_jwt_load(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	return j;
}

/* Is cred "H.P.S" with S the base64url HMAC-SHA256 of "H.P"? */
static int
signed_by_secret(const char *cred, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE], b64[128];
	const char *dot = memrchr(cred, '.', len);
	unsigned maclen;
	size_t n, i;

	if (dot == NULL || HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET),
	    (const unsigned char *)cred, (size_t)(dot - cred), mac,
	    &maclen) == NULL)
		return 0;
	n = (size_t)EVP_EncodeBlock(b64, mac, (int)maclen);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++)
		b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	return len - (size_t)(dot + 1 - cred) == n &&
	    memcmp(dot + 1, b64, n) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *cred = (const char *)data, *why = NULL;
	struct wqs_grant *g = NULL;
	size_t i;

	/* What bearer() of auth.c lets through, and nothing else. */
	if (size == 0 || size > WQS_CRED_MAX)
		return 0;
	for (i = 0; i < size; i++)
		if (data[i] <= ' ' || data[i] > '~')
			return 0;
	if (wqs_jwt_check(verifier(), cred, size, NOW, &g, &why) == -1) {
		FUZZ_CHECK(why != NULL && g == NULL);
		return 0;
	}
	FUZZ_CHECK(signed_by_secret(cred, size));
	FUZZ_CHECK(g != NULL && !g->all &&
	    strncmp(wqs_grant_name(g), "jwt", 3) == 0);
	for (i = 0; i < g->n; i++)
		FUZZ_CHECK(g->scopes[i].verbs != 0 &&
		    g->scopes[i].glob[0] != '\0');
	wqs_grant_free(g);
	return 0;
}
