/*
 * s3 — the requests of an s3:// store (design.md §2 "A store on S3"), made
 * by libcurl (http.h) and signed by it (CURLOPT_AWS_SIGV4): no request
 * signing of our own.
 *
 * Every request carries x-amz-content-sha256 (the payload's SHA-256, which
 * libcurl then signs) and, with temporary credentials, x-amz-security-token.
 * Keys are relative to the store's prefix (s3loc.h), as a local store's
 * paths are relative to its directory.  A request the server answers with
 * 500 or 503, or that fails in transport (refused, reset, timed out), is
 * tried again after a short, growing pause, S3_ATTEMPTS times in all; then
 * it fails with a one-line reason that names the object, the status and
 * S3's error code, and never the credentials.
 */
#ifndef IMGP_S3_H
#define IMGP_S3_H

#include <stddef.h>

#include "buf.h"
#include "s3loc.h"

#define S3_ATTEMPTS 4

/* What a request came to. */
enum s3_status {
	S3_OK = 0,
	S3_ABSENT,		/* 404: no such object */
	S3_CONFLICT,		/* 412: PUT If-None-Match found an object */
	S3_UNAVAILABLE,		/* 500, 503 or the network, every attempt:
				 * worth trying again later; `why` says what */
	S3_FAILED		/* anything else; `why` says what */
};

struct s3 {
	struct s3loc loc;
	char *userpwd;		/* "access:secret" for libcurl; wiped */
};

/* Set up requests to the store `uri` ("s3://BUCKET/PREFIX") with the
 * AWS_* environment (s3loc_parse): 0, or -1 with a reason in `why`.
 * The caller has called curlx_init(). */
int s3_open(struct s3 *s, const char *uri, struct buf *why);

/* Free what s3_open allocated, wiping the secrets. */
void s3_close(struct s3 *s);

/*
 * PUT data[0..len) as the object `key` with the Content-Type `type`.  With
 * `no_replace` it carries If-None-Match: * and a server that honours it
 * answers S3_CONFLICT when the object exists (the caller still checks, as
 * not every server honours it).  A PUT is atomic in S3: a failed one
 * leaves no object, or the one there before.
 */
enum s3_status s3_put(struct s3 *s, const char *key, const void *data,
    size_t len, const char *type, int no_replace, struct buf *why);

/* GET the object `key` into `body` (appended), at most `max` bytes (a
 * larger object is S3_FAILED). */
enum s3_status s3_get(struct s3 *s, const char *key, size_t max,
    struct buf *body, struct buf *why);

/* HEAD the object `key`: its size in *size. */
enum s3_status s3_head(struct s3 *s, const char *key, long long *size,
    struct buf *why);


/*
 * List the keys under `prefix` (relative to the store's) in ascending
 * order, after `start_after` (NULL: from the first), with ListObjectsV2,
 * `page` keys a request (1 to 1000): fn(key, size, arg) for each, keys
 * relative to the store's prefix, until fn returns non-zero or none are
 * left.  S3_OK, or S3_FAILED with `why`.
 */
enum s3_status s3_list(struct s3 *s, const char *prefix,
    const char *start_after, size_t page,
    int (*fn)(const char *key, long long size, void *arg), void *arg,
    struct buf *why);

#endif
