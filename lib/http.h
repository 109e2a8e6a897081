/*
 * http — libcurl, set up the way imgp needs it (design.md §7 "libcurl").
 *
 * One transfer is a `struct http_xfer`: an easy handle with its request
 * headers, an optional multipart body and the response collected in a
 * buffer.  Every transfer has a deadline (--timeout), a connect timeout and
 * a stall limit, verifies TLS, and counts the response bytes itself: past
 * `max_bytes` the write callback aborts, because CURLOPT_MAXFILESIZE does
 * not stop a chunked body in 7.88.
 *
 * API calls never follow redirects (a POST with a key must not wander).
 * Image downloads carry no key (they are made with no Authorization header
 * at all) and go only where http_may_download() lets them: a provider's
 * answer must not make imgp probe internal services.  libcurl does not
 * follow their redirects either; the caller checks each target the same
 * way (x->location) and follows at most HTTP_MAX_REDIRS.
 *
 * libcurl is initialised by curlx_init() (curlx.h), first thing in main.
 * Transfers run in a multi handle (http_multi_*) so that many requests are
 * in flight while the caller also polls its input.
 */
#ifndef IMGP_HTTP_H
#define IMGP_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"

#define HTTP_MAX_REDIRS 3
/* A Retry-After longer than this is not waited for in full. */
#define HTTP_RETRY_AFTER_MAX 60

struct http_limits {
	double timeout;		/* seconds for a whole attempt */
	double connect_timeout;	/* seconds to connect */
	long stall_seconds;	/* abort when slower than 1 byte/s this long */
	size_t max_bytes;	/* response body cap */
};

/* How a transfer ended. */
enum http_outcome {
	HTTP_DONE,		/* a response came; see status */
	HTTP_TIMEOUT,		/* deadline or stall limit */
	HTTP_TOO_LARGE,		/* body over max_bytes, aborted */
	HTTP_NETWORK		/* any other transport failure */
};

struct http_xfer {
	CURL *easy;
	struct curl_slist *headers;
	curl_mime *mime;
	struct buf body;	/* the response body */
	size_t max_bytes;
	int too_large;
	long status;		/* HTTP status, 0 when none */
	long retry_after;	/* seconds from Retry-After, -1 when none */
	struct buf location;	/* a download's redirect target, or empty */
	char error[CURL_ERROR_SIZE];
	void *owner;		/* the caller's */
};

/* A transfer to `url` under `limits`, an API call or an image download:
 * neither follows redirects. */
struct http_xfer *http_new(const char *url, const struct http_limits *limits,
    void *owner);

/* Add a request header line "Name: value".  Header memory is wiped when the
 * transfer is freed, since one of them carries the key. */
void http_header(struct http_xfer *x, const char *line);

/* POST body[0..len) (copied). */
void http_post(struct http_xfer *x, const char *body, size_t len);

/* Multipart form fields (the body becomes a multipart POST). */
void http_form_text(struct http_xfer *x, const char *name, const char *value);
void http_form_file(struct http_xfer *x, const char *name,
    const char *filename, const char *type, const void *data, size_t len);

/*
 * Whether an image may be downloaded from `url` for an API at `base_url`:
 * over https, or from the base URL's own origin (scheme, host and port, as
 * curlx_origin() writes them), so that a local or plain-http provider
 * still works.  Anything else (plain http elsewhere, loopback or link-local
 * addresses of another origin, other schemes) is refused before any
 * connection.
 */
int http_may_download(const char *url, const char *base_url);

/* Classify the end of a transfer that finished with `res` (and fill in
 * x->location for a redirect). */
enum http_outcome http_outcome(struct http_xfer *x, CURLcode res);

void http_free(struct http_xfer *x);

/* The multi handle: add and remove transfers, wait for activity on the
 * transfers or on `extra_fd` (-1: none) at most timeout_ms, and collect
 * finished transfers one at a time (NULL when none). */
CURLM *http_multi_new(void);
void http_multi_add(CURLM *m, struct http_xfer *x);
void http_multi_remove(CURLM *m, struct http_xfer *x);
void http_multi_wait(CURLM *m, int extra_fd, int timeout_ms);
struct http_xfer *http_multi_done(CURLM *m, CURLcode *res);
void http_multi_free(CURLM *m);

#endif
