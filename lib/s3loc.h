/*
 * s3loc — where an `s3://BUCKET/PREFIX` store is (design.md §2 "A store on
 * S3"): its bucket and key prefix, and the endpoint, region and
 * credentials taken from the environment as the AWS CLI takes them:
 *
 *	AWS_ENDPOINT_URL	an S3-compatible server, addressed path-style
 *				(ENDPOINT/BUCKET/KEY); without it, AWS itself,
 *				virtual-hosted (https://BUCKET.s3.REGION.amazonaws.com/KEY)
 *	AWS_REGION, AWS_DEFAULT_REGION	the region (us-east-1 when neither)
 *	AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY	required
 *	AWS_SESSION_TOKEN	temporary credentials' token, when set
 *
 * A key in the store is the path a local store would have below its
 * directory ("ab/ab12…ef.png", "sessions/…"); its object is PREFIX + key.
 */
#ifndef IMGP_S3LOC_H
#define IMGP_S3LOC_H

#include "buf.h"

#define S3LOC_SCHEME "s3://"

struct s3loc {
	char *bucket;
	char *prefix;		/* "" or segments ending in '/' */
	char *endpoint;		/* "scheme://host:port", no '/' after it */
	int path_style;		/* 1: ENDPOINT/BUCKET/KEY */
	char *region;
	char *access_key;
	char *secret_key;	/* wiped by s3loc_free */
	char *session_token;	/* NULL when none; wiped by s3loc_free */
};

/* Whether a --store value names an S3 store (starts with "s3://"). */
int s3loc_is_uri(const char *store);

/*
 * Read `uri` ("s3://BUCKET" or "s3://BUCKET/PREFIX") and the environment
 * into `loc`.  0, or -1 with a one-line reason appended to `why`: a bucket
 * name S3 does not allow, a prefix with an empty, ".", ".." or hidden
 * segment or a control character, an endpoint that is not an http(s) URL
 * with nothing after its origin, or missing credentials.
 */
int s3loc_parse(const char *uri, struct s3loc *loc, struct buf *why);

/* Append the URL of the store's `key` (relative to the prefix) to `url`,
 * every segment percent-encoded as SigV4 signs it (curlx_escape_path). */
void s3loc_url(const struct s3loc *loc, const char *key, struct buf *url);

/* The URL of the bucket itself, for listings ("…/BUCKET" or the bucket's
 * host), appended to `url`. */
void s3loc_bucket_url(const struct s3loc *loc, struct buf *url);

/* Free what s3loc_parse allocated, wiping the secrets. */
void s3loc_free(struct s3loc *loc);

#endif
