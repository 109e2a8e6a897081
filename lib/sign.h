/*
 * sign — signed URLs: the two schemes of imgp-url's own key files.  (The
 * third, s3, presigns with the store's AWS credentials: s3sign.h.)
 *
 * Both sign the path of the URL as the web server sees it (percent escapes
 * decoded, the base path included: /assets/ab/ab12….png) together with an
 * expiry, a Unix time.  So a signature made for one base does not open
 * another, and the expiry cannot be moved without the key.
 *
 *   hmac   ?expires=E&sig=S, S = base64url(HMAC-SHA256(key, C)) where the
 *          canonical string C is "imgp-url/1" LF E LF path.
 *   nginx  ?md5=M&expires=E, M = base64url(MD5(E path " " key)): what
 *          `secure_link_md5 "$secure_link_expires$uri KEY"` computes.
 *
 * E is the expiry in decimal, base64url has no padding (RFC 4648 §5).
 * A link is good up to and including the second E, as nginx has it.
 *
 * Keys rotate.  A key file of one line is one bare key (the whole line, less
 * its newline, colons included: never cut into an id), and a file of several
 * lines holds lines "ID:SECRET" (ID: 1 to 32 of A-Z a-z 0-9 _ -): the first
 * key signs, and an hmac URL then carries &kid=ID, which is not
 * signed, only chooses the key that checks it; a URL without kid is
 * checked against every key.  So a new key listed first, the old one
 * second, leaves every live URL good.  nginx URLs carry no kid.
 */
#ifndef IMGP_SIGN_H
#define IMGP_SIGN_H

#include "buf.h"

enum sign_scheme { SIGN_NONE, SIGN_HMAC, SIGN_NGINX, SIGN_S3 };

/* The scheme called `name` ("hmac", "nginx" or "s3"), or exit 2 naming
 * option. */
enum sign_scheme sign_parse_scheme(const char *option, const char *name);

struct sign_key;

/*
 * Read the signing keys from the file `path`, given with `option`.  This
 * is the one place that reads key files.  Keys are byte strings of their
 * full length.  Exit 2 when it cannot be read, is empty or only white space,
 * holds a NUL byte (cli_read_secret), when a file of several lines has one that is not ID:SECRET,
 * an empty secret or an id listed twice (naming the line by number), or
 * when `scheme` is SIGN_NGINX and the signing key cannot be written inside
 * nginx.conf's double quotes as it is (printable ASCII but " ' \ $).
 * Never prints a key.
 */
struct sign_key *sign_key_load(const char *option, const char *path,
    enum sign_scheme scheme);

/* Wipe and free a key (NULL is fine). */
void sign_key_free(struct sign_key *key);

/*
 * Append to `url` the query that signs it, under `scheme` (hmac or
 * nginx), until the Unix time `expires`.  -1 (url unchanged) when the URL has no path a server
 * would see (it is neither absolute nor starts with /) or already has a
 * query or fragment, which the signature would not cover.
 */
int sign_url(const struct sign_key *key, enum sign_scheme scheme,
    struct buf *url, long long expires);

enum sign_result {
	SIGN_OK,
	SIGN_EXPIRED,		/* authentic, but `expires` is past */
	SIGN_BAD_SIGNATURE,	/* signature does not match path and expiry */
	SIGN_MALFORMED		/* not a URL, or no single expires and sig/md5 */
};

/*
 * Check a signed URL (either scheme, told by its sig or md5 argument)
 * against the keys at Unix time `now`: the key its kid names (none: a
 * bad_signature), else each key.  The signature is checked before the
 * expiry and compared in constant time.
 */
enum sign_result sign_verify(const struct sign_key *key, const char *url,
    long long now);

/* "ok", "expired", "bad_signature" or "malformed". */
const char *sign_result_name(enum sign_result result);

#endif
