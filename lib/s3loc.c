/*
 * s3loc — where an s3:// store is (s3loc.h).
 */
#include <stdlib.h>
#include <string.h>

#include "curlx.h"
#include "s3loc.h"
#include "storelayout.h"
#include "xalloc.h"

int
s3loc_is_uri(const char *store)
{
	return store && strncmp(store, S3LOC_SCHEME,
	    sizeof(S3LOC_SCHEME) - 1) == 0;
}

/* S3's rule for bucket names: 3 to 63 of a-z 0-9 . -, a letter or digit
 * at each end. */
static int
bucket_valid(const char *b, size_t len)
{
	size_t i;

	if (len < 3 || len > 63)
		return 0;
	for (i = 0; i < len; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' &&
		    b[i] <= '9') || ((b[i] == '.' || b[i] == '-') && i > 0 &&
		    i < len - 1)))
			return 0;
	return 1;
}

/* The variable's value, or NULL when unset or empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int
endpoint_from(const char *url, struct s3loc *loc, struct buf *why)
{
	struct buf origin = BUF_INIT, path = BUF_INIT, query = BUF_INIT;
	int ok;

	ok = curlx_origin(url, &origin) == 0 &&
	    (strncmp(origin.data, "http://", 7) == 0 ||
	    strncmp(origin.data, "https://", 8) == 0) &&
	    curlx_path(url, &path, &query) == 0 && query.len == 0 &&
	    (path.len == 0 || strcmp(path.data, "/") == 0);
	if (ok)
		loc->endpoint = xstrdup(origin.data);
	else
		buf_printf(why, "AWS_ENDPOINT_URL %s is not an http(s) URL "
		    "with nothing after its host and port", url);
	buf_free(&origin);
	buf_free(&path);
	buf_free(&query);
	return ok ? 0 : -1;
}

int
s3loc_parse(const char *uri, struct s3loc *loc, struct buf *why)
{
	const char *bucket = uri + sizeof(S3LOC_SCHEME) - 1;
	const char *slash = strchr(bucket, '/');
	size_t blen = slash ? (size_t)(slash - bucket) : strlen(bucket);
	const char *prefix = slash ? slash + 1 : "";
	size_t plen = strlen(prefix);
	const char *problem, *region, *endpoint = env("AWS_ENDPOINT_URL");

	memset(loc, 0, sizeof(*loc));
	if (!bucket_valid(bucket, blen)) {
		buf_printf(why, "%s: the bucket name is not one S3 allows "
		    "(3 to 63 of a-z 0-9 . -)", uri);
		return -1;
	}
	while (plen && prefix[plen - 1] == '/')
		plen--;
	loc->bucket = xcheck(strndup(bucket, blen));
	loc->prefix = xcalloc(plen + 2, 1);
	memcpy(loc->prefix, prefix, plen);
	if (plen && (problem = storelayout_name_problem(loc->prefix))) {
		buf_printf(why, "%s: refused as a prefix: %s", uri, problem);
		s3loc_free(loc);
		return -1;
	}
	if (plen)
		loc->prefix[plen] = '/';
	if (!(region = env("AWS_REGION")) &&
	    !(region = env("AWS_DEFAULT_REGION")))
		region = "us-east-1";
	loc->region = xstrdup(region);
	if (endpoint) {
		loc->path_style = 1;
		if (endpoint_from(endpoint, loc, why) < 0) {
			s3loc_free(loc);
			return -1;
		}
	} else {
		struct buf host = BUF_INIT;

		buf_printf(&host, "https://%s.s3.%s.amazonaws.com",
		    loc->bucket, loc->region);
		loc->endpoint = buf_detach(&host, NULL);
	}
	if (!env("AWS_ACCESS_KEY_ID") || !env("AWS_SECRET_ACCESS_KEY")) {
		buf_printf(why, "%s: no credentials: set AWS_ACCESS_KEY_ID "
		    "and AWS_SECRET_ACCESS_KEY", uri);
		s3loc_free(loc);
		return -1;
	}
	loc->access_key = xstrdup(env("AWS_ACCESS_KEY_ID"));
	loc->secret_key = xstrdup(env("AWS_SECRET_ACCESS_KEY"));
	if (env("AWS_SESSION_TOKEN"))
		loc->session_token = xstrdup(env("AWS_SESSION_TOKEN"));
	return 0;
}

void
s3loc_bucket_url(const struct s3loc *loc, struct buf *url)
{
	buf_puts(url, loc->endpoint);
	if (loc->path_style) {
		buf_putc(url, '/');
		buf_puts(url, loc->bucket);
	}
}

void
s3loc_url(const struct s3loc *loc, const char *key, struct buf *url)
{
	struct buf full = BUF_INIT;

	buf_printf(&full, "%s%s", loc->prefix, key);
	s3loc_bucket_url(loc, url);
	buf_putc(url, '/');
	curlx_escape_path(url, full.data);
	buf_free(&full);
}

static void
wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
s3loc_free(struct s3loc *loc)
{
	free(loc->bucket);
	free(loc->prefix);
	free(loc->endpoint);
	free(loc->region);
	free(loc->access_key);
	wipe_free(loc->secret_key);
	wipe_free(loc->session_token);
	memset(loc, 0, sizeof(*loc));
}
