/*
 * url — imgp-url: the public URL of a stored asset (design.md §5), signed
 * when asked, and the checking of signed URLs (--verify).
 *
 * The URL is a template expanded with the record's values; the default
 * template "{base}/{path}" joins the base and asset.path with exactly one
 * `/`.  Every value is percent-encoded as libcurl does (curlx.h), a path
 * segment at a time, so any byte of a path comes out as itself.  The
 * asset path must be a relative path a server maps to the same file:
 * no empty, `.` or `..` segment and no control character.
 *
 *	{base}     the base URL, without its trailing slashes
 *	{path}     asset.path, each segment encoded
 *	{sha256}   asset.sha256 (64 lower-case hex digits)
 *	{session}  the record's session (design.md §1 syntax, URL-safe as is)
 *	{turn}     the record's turn
 *	{ext}      the extension of asset.path's last segment, encoded
 *
 * With --sign s3 there is no base or template: the URL is the object's
 * own in the S3 store, presigned with the store's credentials (s3sign.h).
 */
#ifndef IMGP_URL_H
#define IMGP_URL_H

#include "buf.h"
#include "rec.h"
#include "s3loc.h"
#include "sign.h"

struct url {
	const char *base;
	const char *template;	/* NULL: "{base}/{path}" */
	enum sign_scheme scheme;	/* SIGN_NONE: unsigned URLs */
	const char *key_file;	/* for signing and for --verify */
	const char *store;	/* --store: an s3:// store, for --sign s3 and
				 * --verify (NULL: $IMGP_STORE if s3://) */
	long long expires_in;	/* signed URLs last this many seconds, */
	long long expires_at;	/* or until this Unix time when not 0 */
	int verify;		/* --verify: check URLs instead */
	/* set by url_setup */
	struct sign_key *key;
	struct s3loc *s3;	/* the S3 store, when one is used */
	unsigned uses;		/* the placeholders the template uses */
};

/*
 * Check the options and read the key (or the S3 store's location and
 * credentials) before any record is read, or exit 2 naming the problem:
 * options that do not go together, an unreadable or empty key file, an S3
 * store that s3loc_parse refuses, an unknown placeholder, or, when
 * signing with a key file, URLs that have no path a server would see (a
 * base neither absolute nor starting with /) or a query or fragment that
 * the signature would not cover.
 */
void url_setup(struct url *u);

/* Wipe the key and the S3 credentials. */
void url_free(struct url *u);

/* A filter_fn (ctx: struct url): add `url` to a record with `asset`. */
int url_record(void *ctx, const struct rec *r, struct buf *out);

/* --verify, as a filter_fn for records carrying `url` (adds `verify`:
 * "ok", "expired", "bad_signature" or "malformed"), and as a
 * filter_line_fn for bare URLs (the word alone).  Not ok counts as an
 * error for the exit status. */
int url_verify_record(void *ctx, const struct rec *r, struct buf *out);
int url_verify_line(void *ctx, const char *line, size_t len,
    struct buf *out);

#endif
