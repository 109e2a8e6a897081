#include "sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "curlx.h"
#include "diag.h"
#include "digest.h"

struct sign_key {
	char *data;
	size_t len;
};

/* The canonical string of the hmac scheme starts with this, so that a
 * later version of the scheme can never be confused with this one. */
#define HMAC_CONTEXT "imgp-url/1\n"

/* Unix times up to the year 9999 have at most 12 digits. */
#define MAX_EXPIRES_DIGITS 12

enum sign_scheme
sign_parse_scheme(const char *option, const char *name)
{
	if (strcmp(name, "hmac") == 0)
		return SIGN_HMAC;
	if (strcmp(name, "nginx") == 0)
		return SIGN_NGINX;
	diag_errx(2, "%s: '%s' is not hmac or nginx", option, name);
}

struct sign_key *
sign_key_load(const char *option, const char *path, enum sign_scheme scheme)
{
	struct sign_key *key;
	size_t i;

	if ((key = malloc(sizeof(*key))) == NULL)
		diag_errx(2, "out of memory");
	key->data = cli_read_secret(option, path);
	key->len = strlen(key->data);
	for (i = 0; scheme == SIGN_NGINX && i < key->len; i++)
		if (key->data[i] < ' ' || key->data[i] > '~' ||
		    strchr("\"'\\$", key->data[i]))
			diag_errx(2, "%s %s: an nginx key must be printable "
			    "ASCII without \" ' \\ or $ (e.g. openssl rand "
			    "-hex 32)", option, path);
	return key;
}

void
sign_key_free(struct sign_key *key)
{
	if (key == NULL)
		return;
	explicit_bzero(key->data, key->len);
	free(key->data);
	free(key);
}

/* Append the base64url signature of path and expiry under the scheme. */
static void
put_signature(const struct sign_key *key, enum sign_scheme scheme,
    const struct buf *path, const char *expires, struct buf *out)
{
	unsigned char mac[DIGEST_SHA256_LEN];
	struct buf text = BUF_INIT;

	if (scheme == SIGN_HMAC) {
		buf_printf(&text, HMAC_CONTEXT "%s\n", expires);
		buf_add(&text, path->data, path->len);
		digest_hmac_sha256(key->data, key->len, text.data, text.len,
		    mac);
		digest_base64url(out, mac, DIGEST_SHA256_LEN);
	} else {
		buf_printf(&text, "%s", expires);
		buf_add(&text, path->data, path->len);
		buf_putc(&text, ' ');
		buf_add(&text, key->data, key->len);
		digest_md5(text.data, text.len, mac);
		digest_base64url(out, mac, 16);
	}
	/* The nginx text holds the key itself. */
	explicit_bzero(text.data, text.len);
	buf_free(&text);
}

int
sign_url(const struct sign_key *key, enum sign_scheme scheme,
    struct buf *url, long long expires)
{
	struct buf path = BUF_INIT, sig = BUF_INIT;
	char when[32];
	int rc = -1;

	if (strpbrk(url->data, "?#") || curlx_path(url->data, &path, NULL) < 0)
		goto done;
	snprintf(when, sizeof(when), "%lld", expires);
	put_signature(key, scheme, &path, when, &sig);
	if (scheme == SIGN_HMAC)
		buf_printf(url, "?expires=%s&sig=%s", when, sig.data);
	else
		buf_printf(url, "?md5=%s&expires=%s", sig.data, when);
	rc = 0;
done:
	buf_free(&path);
	buf_free(&sig);
	return rc;
}

/* One query argument of a signed URL, as written. */
struct arg {
	const char *name;
	const char *value;	/* NULL until seen */
	size_t len;
};

/* Find the arguments in `query`; -1 when one of them appears twice (which
 * one would a server believe?). */
static int
find_args(const char *query, struct arg *args, size_t nargs)
{
	const char *p = query;

	while (*p) {
		size_t len = strcspn(p, "&"), i, name_len = strcspn(p, "=&");

		for (i = 0; i < nargs; i++) {
			if (name_len != strlen(args[i].name) ||
			    memcmp(p, args[i].name, name_len) != 0 ||
			    p[name_len] != '=')
				continue;
			if (args[i].value)
				return -1;
			args[i].value = p + name_len + 1;
			args[i].len = len - name_len - 1;
		}
		p += len + (p[len] == '&');
	}
	return 0;
}

enum sign_result
sign_verify(const struct sign_key *key, const char *url, long long now)
{
	struct buf path = BUF_INIT, query = BUF_INIT, want = BUF_INIT;
	struct arg args[] = { { "expires", NULL, 0 }, { "sig", NULL, 0 },
	    { "md5", NULL, 0 } };
	const struct arg *expires = &args[0], *given;
	enum sign_result result = SIGN_MALFORMED;
	char when[MAX_EXPIRES_DIGITS + 1];

	if (curlx_path(url, &path, &query) < 0 ||
	    find_args(query.data ? query.data : "", args, 3) < 0 ||
	    !expires->value || !args[1].value == !args[2].value)
		goto done;
	given = args[1].value ? &args[1] : &args[2];
	/* Only the canonical decimal form: "0100" is not the "100" that was
	 * signed. */
	if (expires->len == 0 || expires->len > MAX_EXPIRES_DIGITS ||
	    expires->value[0] == '0' ||
	    strspn(expires->value, "0123456789") < expires->len)
		goto done;
	memcpy(when, expires->value, expires->len);
	when[expires->len] = '\0';
	put_signature(key, given == &args[1] ? SIGN_HMAC : SIGN_NGINX, &path,
	    when, &want);
	if (given->len != want.len)
		goto done;
	if (!digest_equal(given->value, want.data, want.len))
		result = SIGN_BAD_SIGNATURE;
	else
		result = strtoll(when, NULL, 10) < now ? SIGN_EXPIRED : SIGN_OK;
done:
	buf_free(&path);
	buf_free(&query);
	buf_free(&want);
	return result;
}

const char *
sign_result_name(enum sign_result result)
{
	static const char *const names[] = { "ok", "expired", "bad_signature",
	    "malformed" };

	return names[result];
}
