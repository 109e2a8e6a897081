/*
 * s3sign — presigned GET URLs of an S3 store's objects (imgp-url --sign
 * s3) and their check (--verify): AWS Signature Version 4 in the query
 * string, as S3 checks it, the MACs computed by OpenSSL (digest).
 *
 * The URL is the object's URL (s3loc_url) and a query of, in this order
 * (sorted by name, each value percent-encoded as curlx_escape does):
 *
 *	X-Amz-Algorithm=AWS4-HMAC-SHA256
 *	X-Amz-Credential=ACCESS_KEY/YYYYMMDD/REGION/s3/aws4_request
 *	X-Amz-Date=YYYYMMDDTHHMMSSZ	when it was signed, UTC
 *	X-Amz-Expires=N			good for N seconds after that
 *	X-Amz-Security-Token=TOKEN	only with temporary credentials
 *	X-Amz-SignedHeaders=host
 *	X-Amz-Signature=HEX		the signature, not signed itself
 *
 * HEX is the HMAC-SHA256, under the key derived from the secret, the date,
 * the region and "s3", of the string to sign over the canonical request
 * "GET", the path, the query without the signature, the Host header and
 * UNSIGNED-PAYLOAD.  The secret is only ever a MAC key, never written out;
 * a session token is in the URL, for S3 needs it there.
 */
#ifndef IMGP_S3SIGN_H
#define IMGP_S3SIGN_H

#include "buf.h"
#include "s3loc.h"
#include "sign.h"

#define S3SIGN_MAX_EXPIRES 604800	/* seven days: S3 refuses more */

/*
 * Append to `url` the presigned URL of the store's object `key` (a name
 * as in the local layout), signed at Unix time `now` and good for
 * `expires` seconds (1 to S3SIGN_MAX_EXPIRES) after it.
 */
void s3sign_url(const struct s3loc *loc, const char *key, long long now,
    long long expires, struct buf *url);

/* Whether `url` has an X-Amz-Signature argument: an S3 presigned URL, to
 * be checked by s3sign_verify rather than sign_verify. */
int s3sign_claims(const char *url);

/*
 * Check a presigned URL against the store's credentials at Unix time
 * `now`, as S3 does: malformed unless it has each argument above once
 * (the token optional), AWS4-HMAC-SHA256, SignedHeaders host only, a
 * valid date, an expiry of 0 to 604800 and a signature of 64 lower-case
 * hex digits; bad_signature when the credential is not this access key
 * and region on the URL's date, or the signature does not match the
 * host, path and every other argument (compared in constant time);
 * expired after X-Amz-Date + X-Amz-Expires.
 */
enum sign_result s3sign_verify(const struct s3loc *loc, const char *url,
    long long now);

#endif
