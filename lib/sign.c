#include "sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "curlx.h"
#include "diag.h"
#include "digest.h"

/* One key of a key file. */
struct entry {
	const char *id;		/* NULL: the file's one bare key */
	const char *secret;
	size_t len;
};

struct sign_key {
	char *text;		/* the file, cut into ids and secrets */
	size_t text_len;
	struct entry *keys;	/* the first one signs */
	size_t n;
};

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789_-"
#define ID_MAX 32

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
	if (strcmp(name, "s3") == 0)
		return SIGN_S3;
	diag_errx(2, "%s: '%s' is not hmac, nginx or s3", option, name);
}

/* The length of the ID before "ID:" at the start of `line`, else 0. */
static size_t
id_len(const char *line)
{
	size_t n = strspn(line, ID_CHARS);

	return n >= 1 && n <= ID_MAX && line[n] == ':' ? n : 0;
}

/* Cut the key file's lines, each "ID:SECRET", into key->keys.  Messages
 * name lines by number, never by content: it is secret. */
static void
read_ids(struct sign_key *key, const char *option, const char *path)
{
	char *line = key->text, *end;
	size_t i, n;

	for (key->n = 0; line; line = end, key->n++) {
		if ((end = strchr(line, '\n')) != NULL)
			*end++ = '\0';
		if (*line && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';	/* CRLF files */
		if ((n = id_len(line)) == 0)
			diag_errx(2, "%s %s: line %zu is not ID:SECRET (ID: 1 "
			    "to 32 of A-Z a-z 0-9 _ -), which a file of several "
			    "keys must be", option, path, key->n + 1);
		line[n] = '\0';
		if (cli_blank(line + n + 1, strlen(line + n + 1)))
			diag_errx(2, "%s %s: line %zu has an empty secret",
			    option, path, key->n + 1);
		for (i = 0; i < key->n; i++)
			if (strcmp(key->keys[i].id, line) == 0)
				diag_errx(2, "%s %s: line %zu: key id %s is "
				    "listed twice", option, path, key->n + 1,
				    line);
		key->keys = reallocarray(key->keys, key->n + 1,
		    sizeof(*key->keys));
		if (key->keys == NULL)
			diag_errx(2, "out of memory");
		key->keys[key->n] = (struct entry){ line, line + n + 1,
		    strlen(line + n + 1) };
	}
}

struct sign_key *
sign_key_load(const char *option, const char *path, enum sign_scheme scheme)
{
	struct sign_key *key;
	const struct entry *signing;
	size_t i;

	if ((key = calloc(1, sizeof(*key))) == NULL)
		diag_errx(2, "out of memory");
	/* cli_read_secret refuses NUL bytes, so the text is a C string of
	 * text_len bytes. */
	key->text = cli_read_secret(option, path, &key->text_len);
	/* One line is one bare key, every byte of it, colons or not: a
	 * secret that happens to look like ID:SECRET is never cut. */
	if (!memchr(key->text, '\n', key->text_len)) {
		if ((key->keys = malloc(sizeof(*key->keys))) == NULL)
			diag_errx(2, "out of memory");
		key->keys[0] = (struct entry){ NULL, key->text,
		    key->text_len };
		key->n = 1;
	} else {
		read_ids(key, option, path);
	}
	/* nginx holds one key, the one that signs. */
	signing = &key->keys[0];
	for (i = 0; scheme == SIGN_NGINX && i < signing->len; i++)
		if (signing->secret[i] < ' ' || signing->secret[i] > '~' ||
		    strchr("\"'\\$", signing->secret[i]))
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
	explicit_bzero(key->text, key->text_len);
	free(key->text);
	free(key->keys);
	free(key);
}

/* Append the base64url signature of path and expiry under the scheme. */
static void
put_signature(const struct entry *key, enum sign_scheme scheme,
    const struct buf *path, const char *expires, struct buf *out)
{
	unsigned char mac[DIGEST_SHA256_LEN];
	struct buf text = BUF_INIT;

	if (scheme == SIGN_HMAC) {
		buf_printf(&text, HMAC_CONTEXT "%s\n", expires);
		buf_add(&text, path->data, path->len);
		digest_hmac_sha256(key->secret, key->len, text.data, text.len,
		    mac);
		digest_base64url(out, mac, DIGEST_SHA256_LEN);
	} else {
		buf_printf(&text, "%s", expires);
		buf_add(&text, path->data, path->len);
		buf_putc(&text, ' ');
		buf_add(&text, key->secret, key->len);
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
	put_signature(&key->keys[0], scheme, &path, when, &sig);
	if (scheme == SIGN_HMAC)
		buf_printf(url, "?expires=%s&sig=%s", when, sig.data);
	else
		buf_printf(url, "?md5=%s&expires=%s", sig.data, when);
	/* Stock nginx checks one secret and knows nothing of ids. */
	if (scheme == SIGN_HMAC && key->keys[0].id)
		buf_printf(url, "&kid=%s", key->keys[0].id);
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

/* Whether a URL's kid argument (NULL value: none) lets key `e` check it:
 * a kid names one key; without one, every key is tried, so that URLs
 * signed before the key file had ids still hold. */
static int
may_check(const struct entry *e, const struct arg *kid)
{
	return kid->value == NULL || (e->id && strlen(e->id) == kid->len &&
	    memcmp(e->id, kid->value, kid->len) == 0);
}

enum sign_result
sign_verify(const struct sign_key *key, const char *url, long long now)
{
	struct buf path = BUF_INIT, query = BUF_INIT, want = BUF_INIT;
	struct arg args[] = { { "expires", NULL, 0 }, { "sig", NULL, 0 },
	    { "md5", NULL, 0 }, { "kid", NULL, 0 } };
	const struct arg *expires = &args[0], *given;
	enum sign_result result = SIGN_MALFORMED;
	enum sign_scheme scheme;
	char when[MAX_EXPIRES_DIGITS + 1];
	int matched = 0;
	size_t i;

	if (curlx_path(url, &path, &query) < 0 ||
	    find_args(query.data ? query.data : "", args, 4) < 0 ||
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
	scheme = given == &args[1] ? SIGN_HMAC : SIGN_NGINX;
	/* Every candidate is compared, matched or not. */
	for (i = 0; i < key->n; i++) {
		if (!may_check(&key->keys[i], &args[3]))
			continue;
		buf_reset(&want);
		put_signature(&key->keys[i], scheme, &path, when, &want);
		if (given->len != want.len)
			goto done;
		matched |= digest_equal(given->value, want.data, want.len);
	}
	if (!matched)
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
