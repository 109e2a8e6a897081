/*
 * s3 — the requests of an s3:// store (s3.h).
 */
#include "s3.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curlx.h"
#include "digest.h"
#include "http.h"
#include "s3xml.h"
#include "xalloc.h"

/* An answer other than an object's bytes (an error, a listing page) is
 * small; a listing page of 1000 keys is some 300 KB. */
#define S3_ANSWER_MAX (4u << 20)
/* The first pause before a request is tried again; it doubles. */
#define S3_BACKOFF_MS 250L

static const struct http_limits s3_limits = {
	.timeout = 120, .connect_timeout = 10, .stall_seconds = 30,
	.max_bytes = S3_ANSWER_MAX,
};

int
s3_open(struct s3 *s, const char *uri, struct buf *why)
{
	struct buf userpwd = BUF_INIT;

	memset(s, 0, sizeof(*s));
	curlx_init();
	if (s3loc_parse(uri, &s->loc, why) < 0)
		return -1;
	buf_printf(&userpwd, "%s:%s", s->loc.access_key, s->loc.secret_key);
	s->userpwd = buf_detach(&userpwd, NULL);
	return 0;
}

void
s3_close(struct s3 *s)
{
	if (s->userpwd) {
		explicit_bzero(s->userpwd, strlen(s->userpwd));
		free(s->userpwd);
	}
	s3loc_free(&s->loc);
	memset(s, 0, sizeof(*s));
}

/* One request, as the operations below describe it. */
struct s3_request {
	const char *method;
	const char *key;	/* for messages; NULL: the bucket */
	const char *url;
	const void *body;	/* PUT */
	size_t len;
	const char *type;	/* PUT: Content-Type */
	int no_replace;		/* PUT: If-None-Match: * */
	size_t max;		/* response body cap */
	struct buf *answer;	/* the response body, or NULL */
	long long *size;	/* HEAD: Content-Length */
};

/* S3's error code from an error body ("<Code>NoSuchKey</Code>"), when it
 * is a plain word, appended to `why`. */
static void
put_error_code(struct buf *why, const struct buf *body)
{
	const char *code = body->data ? strstr(body->data, "<Code>") : NULL;
	size_t n;

	if (code == NULL)
		return;
	code += 6;
	n = strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789");
	if (n > 0 && n <= 64 && code[n] == '<')
		buf_printf(why, " (%.*s)", (int)n, code);
}

static struct http_xfer *
prepare(struct s3 *s, const struct s3_request *q, const char *sha)
{
	struct http_limits limits = s3_limits;
	struct buf line = BUF_INIT, sigv4 = BUF_INIT;
	struct http_xfer *x;

	if (q->max)
		limits.max_bytes = q->max;
	x = http_new(q->url, &limits, NULL);
	buf_printf(&sigv4, "aws:amz:%s:s3", s->loc.region);
	curlx_fn.easy_setopt(x->easy, CURLOPT_AWS_SIGV4, sigv4.data);
	curlx_fn.easy_setopt(x->easy, CURLOPT_USERPWD, s->userpwd);
	/* libcurl signs the payload's hash given in this header. */
	buf_printf(&line, "x-amz-content-sha256: %s", sha);
	http_header(x, line.data);
	if (s->loc.session_token) {
		buf_reset(&line);
		buf_printf(&line, "x-amz-security-token: %s",
		    s->loc.session_token);
		http_header(x, line.data);
		explicit_bzero(line.data, line.len);
	}
	if (strcmp(q->method, "PUT") == 0) {
		http_post(x, q->body, q->len);
		curlx_fn.easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, "PUT");
		buf_reset(&line);
		buf_printf(&line, "Content-Type: %s", q->type);
		http_header(x, line.data);
		if (q->no_replace)
			http_header(x, "If-None-Match: *");
	} else if (strcmp(q->method, "HEAD") == 0) {
		curlx_fn.easy_setopt(x->easy, CURLOPT_NOBODY, 1L);
	}
	buf_free(&line);
	buf_free(&sigv4);
	return x;
}

/* Whether an attempt is worth another: the server's passing trouble or
 * the network's. */
static int
passing(enum http_outcome outcome, long status)
{
	return outcome == HTTP_TIMEOUT || outcome == HTTP_NETWORK ||
	    (outcome == HTTP_DONE && (status == 500 || status == 503));
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0)
		;
}

static enum s3_status
perform(struct s3 *s, const struct s3_request *q, struct buf *why)
{
	enum http_outcome outcome = HTTP_NETWORK;
	struct http_xfer *x = NULL;
	char sha[DIGEST_HEX_LEN + 1];
	enum s3_status status;
	curl_off_t length;
	int attempt;

	/* The payload's hash, once for every attempt. */
	digest_sha256_hex(q->body ? q->body : "", q->len, sha);
	for (attempt = 0; attempt < S3_ATTEMPTS; attempt++) {
		if (attempt)
			pause_ms(S3_BACKOFF_MS << (attempt - 1));
		http_free(x);
		x = prepare(s, q, sha);
		outcome = http_outcome(x, curlx_fn.easy_perform(x->easy));
		if (!passing(outcome, x->status))
			break;
	}
	if (outcome == HTTP_DONE && x->status >= 200 && x->status <= 299) {
		status = S3_OK;
		if (q->answer)
			buf_add(q->answer, x->body.data, x->body.len);
		if (q->size && curlx_fn.easy_getinfo(x->easy,
		    CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK)
			*q->size = (long long)length;
	} else if (outcome == HTTP_DONE && x->status == 404 && q->key) {
		status = S3_ABSENT;
	} else if (outcome == HTTP_DONE && x->status == 412 && q->no_replace) {
		status = S3_CONFLICT;
	} else {
		status = passing(outcome, x->status) ? S3_UNAVAILABLE :
		    S3_FAILED;
		buf_printf(why, "%s s3://%s/%s%s: ", q->method, s->loc.bucket,
		    s->loc.prefix, q->key ? q->key : "");
		if (outcome == HTTP_DONE) {
			buf_printf(why, "HTTP %ld", x->status);
			put_error_code(why, &x->body);
		} else if (outcome == HTTP_TOO_LARGE) {
			buf_printf(why, "more than %zu bytes", x->max_bytes);
		} else {
			buf_puts(why, x->error);
		}
		if (status == S3_UNAVAILABLE)
			buf_printf(why, " (%d attempts)", S3_ATTEMPTS);
	}
	http_free(x);
	return status;
}

static enum s3_status
object_request(struct s3 *s, struct s3_request *q, struct buf *why)
{
	struct buf url = BUF_INIT;
	enum s3_status status;

	s3loc_url(&s->loc, q->key, &url);
	q->url = url.data;
	status = perform(s, q, why);
	buf_free(&url);
	return status;
}

enum s3_status
s3_put(struct s3 *s, const char *key, const void *data, size_t len,
    const char *type, int no_replace, struct buf *why)
{
	struct s3_request q = { .method = "PUT", .key = key, .body = data,
	    .len = len, .type = type, .no_replace = no_replace };

	return object_request(s, &q, why);
}

enum s3_status
s3_get(struct s3 *s, const char *key, size_t max, struct buf *body,
    struct buf *why)
{
	struct s3_request q = { .method = "GET", .key = key, .max = max,
	    .answer = body };

	return object_request(s, &q, why);
}

enum s3_status
s3_head(struct s3 *s, const char *key, long long *size, struct buf *why)
{
	struct s3_request q = { .method = "HEAD", .key = key, .size = size };

	*size = -1;
	return object_request(s, &q, why);
}

/* "&name=value", value percent-encoded as SigV4 signs it; the first
 * parameter goes without the "&". */
static void
put_param(struct buf *url, const char *name, const char *value)
{
	buf_printf(url, "%s%s=", url->data[url->len - 1] == '?' ? "" : "&",
	    name);
	curlx_escape(url, value, strlen(value));
}

enum s3_status
s3_list(struct s3 *s, const char *prefix, const char *start_after,
    size_t page, int (*fn)(const char *key, long long size, void *arg),
    void *arg, struct buf *why)
{
	struct buf url = BUF_INIT, full = BUF_INIT, after = BUF_INIT,
	    answer = BUF_INIT, token = BUF_INIT, max = BUF_INIT;
	struct s3_request q = { .method = "GET", .answer = &answer };
	size_t plen = strlen(s->loc.prefix), i;
	enum s3_status status = S3_OK;
	int stop = 0;

	buf_printf(&full, "%s%s", s->loc.prefix, prefix);
	if (start_after)
		buf_printf(&after, "%s%s", s->loc.prefix, start_after);
	buf_printf(&max, "%zu", page < 1 ? 1 : page > 1000 ? 1000 : page);
	do {
		struct s3_page p = { 0 };

		/* libcurl 7.88 signs the query as written: the parameters
		 * go sorted by name, each value encoded. */
		buf_reset(&url);
		s3loc_bucket_url(&s->loc, &url);
		buf_putc(&url, '?');
		if (token.len)
			put_param(&url, "continuation-token", token.data);
		put_param(&url, "encoding-type", "url");
		put_param(&url, "list-type", "2");
		put_param(&url, "max-keys", max.data);
		put_param(&url, "prefix", full.data);
		if (!token.len && start_after)
			put_param(&url, "start-after", after.data);
		q.url = url.data;
		buf_reset(&answer);
		if ((status = perform(s, &q, why)) != S3_OK)
			break;
		if (s3_list_parse(answer.data, answer.len, &p) < 0) {
			buf_printf(why, "GET s3://%s/%s: the listing is not a "
			    "ListBucketResult", s->loc.bucket, full.data);
			status = S3_FAILED;
			break;
		}
		for (i = 0; i < p.n && !stop; i++)
			if (strncmp(p.keys[i], s->loc.prefix, plen) == 0)
				stop = fn(p.keys[i] + plen, p.sizes[i], arg);
		buf_reset(&token);
		if (p.next_token && p.n)
			buf_puts(&token, p.next_token);
		s3_page_free(&p);
	} while (!stop && token.len);
	buf_free(&url);
	buf_free(&full);
	buf_free(&after);
	buf_free(&answer);
	buf_free(&token);
	buf_free(&max);
	return status;
}
