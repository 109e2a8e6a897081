/*
 * s3sign — presigned S3 URLs and their check (s3sign.h).
 */
#include "s3sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curlx.h"
#include "digest.h"
#include "xalloc.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define SCOPE_END "s3/aws4_request"
#define SIGNATURE_ARG "X-Amz-Signature"
#define AMZ_DATE_LEN 16		/* YYYYMMDDTHHMMSSZ */

/* One query argument, decoded. */
struct arg {
	char *name;
	char *value;
};

struct args {
	struct arg *v;
	size_t n;
};

static void
args_add(struct args *a, const char *name, const char *value)
{
	a->v = xcheck(reallocarray(a->v, a->n + 1, sizeof(*a->v)));
	a->v[a->n++] = (struct arg){ xstrdup(name), xstrdup(value) };
}

static void
args_free(struct args *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		free(a->v[i].name);
		free(a->v[i].value);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* The value of argument `name`, or NULL. */
static const char *
args_get(const struct args *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, name) == 0)
			return a->v[i].value;
	return NULL;
}

/* SigV4 sorts by name, then by value. */
static int
arg_order(const void *x, const void *y)
{
	const struct arg *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	return c ? c : strcmp(a->value, b->value);
}

/* The canonical query: every argument but the signature, sorted, each
 * name and value encoded. */
static void
put_canonical_query(struct args *a, struct buf *out)
{
	size_t i;
	int first = 1;

	if (a->n > 1)	/* qsort takes no NULL array, even of none */
		qsort(a->v, a->n, sizeof(*a->v), arg_order);
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->v[i].name, SIGNATURE_ARG) == 0)
			continue;
		if (!first)
			buf_putc(out, '&');
		curlx_escape(out, a->v[i].name, strlen(a->v[i].name));
		buf_putc(out, '=');
		curlx_escape(out, a->v[i].value, strlen(a->v[i].value));
		first = 0;
	}
}

/* The Host header a client sends to `origin` ("scheme://host[:port]"):
 * the port only when it is not the scheme's default, as curl and
 * browsers send it. */
static void
put_host(const char *origin, struct buf *host)
{
	const char *h = strstr(origin, "://") + 3;
	size_t len = strlen(h);

	if (strncmp(origin, "https:", 6) == 0 && len > 4 &&
	    strcmp(h + len - 4, ":443") == 0)
		len -= 4;
	else if (strncmp(origin, "http:", 5) == 0 && len > 3 &&
	    strcmp(h + len - 3, ":80") == 0)
		len -= 3;
	buf_add(host, h, len);
}

/* HMAC-SHA256 of the C string `text` under key[0..len), into mac. */
static void
mac_of(const void *key, size_t len, const char *text,
    unsigned char mac[DIGEST_SHA256_LEN])
{
	unsigned char out[DIGEST_SHA256_LEN];

	digest_hmac_sha256(key, len, text, strlen(text), out);
	memcpy(mac, out, sizeof(out));
	explicit_bzero(out, sizeof(out));
}

/* Append the hex signature of a GET of `path` (canonical, encoded) with
 * the canonical `query` at `host`, signed at `amz_date`. */
static void
put_signature(const struct s3loc *loc, const char *amz_date,
    const char *host, const char *path, const char *query, struct buf *hex)
{
	struct buf text = BUF_INIT, secret = BUF_INIT;
	unsigned char key[DIGEST_SHA256_LEN];
	char hash[DIGEST_HEX_LEN + 1], date[9];

	buf_printf(&text, "GET\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD",
	    path, query, host);
	digest_sha256_hex(text.data, text.len, hash);
	snprintf(date, sizeof(date), "%.8s", amz_date);
	buf_reset(&text);
	buf_printf(&text, ALGORITHM "\n%s\n%s/%s/" SCOPE_END "\n%s", amz_date,
	    date, loc->region, hash);
	/* The signing key: the secret, then the scope, one HMAC each. */
	buf_printf(&secret, "AWS4%s", loc->secret_key);
	mac_of(secret.data, secret.len, date, key);
	mac_of(key, sizeof(key), loc->region, key);
	mac_of(key, sizeof(key), "s3", key);
	mac_of(key, sizeof(key), "aws4_request", key);
	mac_of(key, sizeof(key), text.data, key);
	digest_hex(hex, key, sizeof(key));
	explicit_bzero(secret.data, secret.len);
	explicit_bzero(key, sizeof(key));
	buf_free(&secret);
	buf_free(&text);
}

/* The credential argument of the store's access key at `amz_date`. */
static void
put_credential(const struct s3loc *loc, const char *amz_date,
    struct buf *out)
{
	buf_printf(out, "%s/%.8s/%s/" SCOPE_END, loc->access_key, amz_date,
	    loc->region);
}

void
s3sign_url(const struct s3loc *loc, const char *key, long long now,
    long long expires, struct buf *url)
{
	struct args a = { NULL, 0 };
	struct buf host = BUF_INIT, query = BUF_INIT, cred = BUF_INIT;
	struct buf sig = BUF_INIT;
	char amz_date[AMZ_DATE_LEN + 1], seconds[32];
	time_t t = (time_t)now;
	struct tm tm;
	size_t start = url->len;

	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ",
	    gmtime_r(&t, &tm));
	snprintf(seconds, sizeof(seconds), "%lld", expires);
	put_credential(loc, amz_date, &cred);
	args_add(&a, "X-Amz-Algorithm", ALGORITHM);
	args_add(&a, "X-Amz-Credential", cred.data);
	args_add(&a, "X-Amz-Date", amz_date);
	args_add(&a, "X-Amz-Expires", seconds);
	if (loc->session_token)
		args_add(&a, "X-Amz-Security-Token", loc->session_token);
	args_add(&a, "X-Amz-SignedHeaders", "host");
	put_canonical_query(&a, &query);
	put_host(loc->endpoint, &host);
	s3loc_url(loc, key, url);
	/* s3loc_url writes the path as SigV4 encodes it: it is canonical. */
	put_signature(loc, amz_date, host.data, url->data + start +
	    strlen(loc->endpoint), query.data, &sig);
	buf_printf(url, "?%s&" SIGNATURE_ARG "=%s", query.data, sig.data);
	args_free(&a);
	buf_free(&host);
	buf_free(&query);
	buf_free(&cred);
	buf_free(&sig);
}

/* Read `query` (as written, encoded) into decoded arguments, sorted: -1
 * when a piece is empty, decodes to a NUL or names an argument twice
 * (which one would S3 believe?).  Sorting finds the twice-named in
 * O(n log n), however many arguments a hostile URL has. */
static int
parse_query(const char *query, struct args *a)
{
	struct buf name = BUF_INIT, value = BUF_INIT;
	const char *p = query;
	size_t i;
	int rc = -1;

	while (*p) {
		size_t len = strcspn(p, "&"), name_len = strcspn(p, "=&");

		buf_reset(&name);
		buf_reset(&value);
		if (len == 0 || curlx_unescape(&name, p, name_len) < 0 ||
		    (name_len < len && curlx_unescape(&value, p + name_len + 1,
		    len - name_len - 1) < 0))
			goto done;
		args_add(a, name.data ? name.data : "",
		    value.data ? value.data : "");
		p += len + (p[len] == '&');
	}
	if (a->n > 1)	/* qsort takes no NULL array, even of none */
		qsort(a->v, a->n, sizeof(*a->v), arg_order);
	for (i = 1; i < a->n; i++)
		if (strcmp(a->v[i - 1].name, a->v[i].name) == 0)
			goto done;
	rc = 0;
done:
	buf_free(&name);
	buf_free(&value);
	return rc;
}

int
s3sign_claims(const char *url)
{
	struct buf path = BUF_INIT, query = BUF_INIT;
	struct args a = { NULL, 0 };
	int claims = curlx_path(url, &path, &query) == 0 &&
	    parse_query(query.data ? query.data : "", &a) == 0 &&
	    args_get(&a, SIGNATURE_ARG) != NULL;

	args_free(&a);
	buf_free(&path);
	buf_free(&query);
	return claims;
}

/* The Unix time of an X-Amz-Date, or -1 when it is not one (only the
 * one way of writing each time). */
static long long
amz_time(const char *s)
{
	struct tm tm = { 0 };
	char again[AMZ_DATE_LEN + 1];
	time_t t;

	if (strlen(s) != AMZ_DATE_LEN || strspn(s, "0123456789") != 8 ||
	    sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	t = timegm(&tm);
	if (strftime(again, sizeof(again), "%Y%m%dT%H%M%SZ",
	    gmtime_r(&t, &tm)) != AMZ_DATE_LEN || strcmp(again, s) != 0)
		return -1;
	return (long long)t;
}

/* X-Amz-Expires in canonical decimal, 0 to the limit; else -1. */
static long long
expires_of(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 6 || strspn(s, "0123456789") != len ||
	    (s[0] == '0' && len > 1) || atoll(s) > S3SIGN_MAX_EXPIRES)
		return -1;
	return atoll(s);
}

enum sign_result
s3sign_verify(const struct s3loc *loc, const char *url, long long now)
{
	struct buf origin = BUF_INIT, path = BUF_INIT, query = BUF_INIT;
	struct buf canon = BUF_INIT, host = BUF_INIT, cred = BUF_INIT;
	struct buf want = BUF_INIT;
	struct args a = { NULL, 0 };
	enum sign_result result = SIGN_MALFORMED;
	const char *date, *expires, *sig, *given_cred, *alg, *headers;
	long long signed_at, seconds;

	if (curlx_origin(url, &origin) < 0 ||
	    curlx_path(url, &path, &query) < 0 ||
	    parse_query(query.data ? query.data : "", &a) < 0)
		goto done;
	alg = args_get(&a, "X-Amz-Algorithm");
	given_cred = args_get(&a, "X-Amz-Credential");
	date = args_get(&a, "X-Amz-Date");
	expires = args_get(&a, "X-Amz-Expires");
	headers = args_get(&a, "X-Amz-SignedHeaders");
	sig = args_get(&a, SIGNATURE_ARG);
	if (!alg || strcmp(alg, ALGORITHM) != 0 || !given_cred || !date ||
	    (signed_at = amz_time(date)) < 0 || !expires ||
	    (seconds = expires_of(expires)) < 0 || !headers ||
	    strcmp(headers, "host") != 0 || !sig ||
	    strlen(sig) != DIGEST_HEX_LEN ||
	    strspn(sig, "0123456789abcdef") != DIGEST_HEX_LEN)
		goto done;
	result = SIGN_BAD_SIGNATURE;
	put_credential(loc, date, &cred);
	if (strcmp(given_cred, cred.data) != 0)
		goto done;
	/* the path a server canonicalises the decoded path to */
	curlx_escape_path(&canon, path.data);
	buf_reset(&query);
	put_canonical_query(&a, &query);
	put_host(origin.data, &host);
	put_signature(loc, date, host.data, canon.data, query.data, &want);
	if (!digest_equal(sig, want.data, DIGEST_HEX_LEN))
		goto done;
	result = now >= signed_at + seconds ? SIGN_EXPIRED : SIGN_OK;
done:
	args_free(&a);
	buf_free(&origin);
	buf_free(&path);
	buf_free(&query);
	buf_free(&canon);
	buf_free(&host);
	buf_free(&cred);
	buf_free(&want);
	return result;
}
