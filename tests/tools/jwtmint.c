/* SPDX-License-Identifier: MIT */
/*
 * jwtmint — mint a JWT for the tests of wq-serve, good ones and the
 * attacks it must refuse.
 *
 *	jwtmint ALG KEYFILE CLAIMS_JSON		signed by libjwt: HS256 (KEYFILE
 *						the secret, one trailing newline
 *						dropped as wq-serve does),
 *						RS256, ES256 (a PEM private key)
 *	jwtmint none - CLAIMS_JSON		"alg":"none", empty signature
 *	jwtmint HS256-WITH-PUBKEY PEMFILE CLAIMS_JSON
 *						HS256 with the bytes of a public
 *						key file as the HMAC secret: the
 *						algorithm-confusion attack
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/evp.h>

#define KEY_MAX	(64 * 1024)

static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char *buf;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	if ((buf = malloc(KEY_MAX + 1)) == NULL)
		err(1, NULL);
	*len = fread(buf, 1, KEY_MAX + 1, fp);
	if (ferror(fp))
		err(1, "%s", path);
	if (*len > KEY_MAX)
		errx(1, "%s: larger than 64 KiB", path);
	fclose(fp);
	buf[*len] = '\0';
	return buf;
}

/* base64url without padding, as JWS wants it. */
static void
b64url(const char *s)
{
	size_t len = strlen(s), i;
	unsigned char *out;

	if ((out = malloc(4 * (len / 3 + 1) + 1)) == NULL)
		err(1, NULL);
	EVP_EncodeBlock(out, (const unsigned char *)s, (int)len);
	for (i = 0; out[i] != '\0' && out[i] != '='; i++)
		putchar(out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i]);
	free(out);
}

/* libjwt will not make one, so by hand; the claims go as they are. */
static void
mint_none(const char *claims)
{
	b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}");
	putchar('.');
	b64url(claims);
	puts(".");
}

static void
mint(jwt_alg_t alg, const unsigned char *key, size_t len, const char *claims)
{
	jwt_t *jwt;
	char *tok;
	int e;

	if ((e = jwt_new(&jwt)) != 0)
		errc(1, e, "jwt_new");
	if ((e = jwt_add_grants_json(jwt, claims)) != 0)
		errc(1, e, "claims are no JSON object: %s", claims);
	if ((e = jwt_set_alg(jwt, alg, key, (int)len)) != 0)
		errc(1, e, "jwt_set_alg %s", jwt_alg_str(alg));
	if ((tok = jwt_encode_str(jwt)) == NULL)
		err(1, "jwt_encode_str (is the key right for %s?)",
		    jwt_alg_str(alg));
	puts(tok);
	free(tok);
	jwt_free(jwt);
}

int
main(int argc, char *argv[])
{
	unsigned char *key;
	jwt_alg_t alg;
	size_t len;

	if (argc != 4) {
		fprintf(stderr, "usage: jwtmint ALG KEYFILE CLAIMS_JSON\n"
		    "       jwtmint none - CLAIMS_JSON\n"
		    "       jwtmint HS256-WITH-PUBKEY PEMFILE CLAIMS_JSON\n");
		return 1;
	}
	if (strcmp(argv[1], "none") == 0) {
		mint_none(argv[3]);
		return 0;
	}
	key = slurp(argv[2], &len);
	if (strcmp(argv[1], "HS256-WITH-PUBKEY") == 0)
		alg = JWT_ALG_HS256;
	else if ((alg = jwt_str_alg(argv[1])) == JWT_ALG_INVAL ||
	    alg == JWT_ALG_NONE)
		errx(1, "unknown algorithm %s", argv[1]);
	else if ((alg == JWT_ALG_HS256 || alg == JWT_ALG_HS384 ||
	    alg == JWT_ALG_HS512) && len > 0 && key[len - 1] == '\n')
		len--;
	mint(alg, key, len, argv[3]);
	free(key);
	return fflush(stdout) == 0 ? 0 : 1;
}
