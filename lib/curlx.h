/*
 * curlx — libcurl set-up, and its URL escaping and parsing.
 *
 * libcurl wants curl_global_init() called once, before any other thread
 * runs, so a tool that makes requests calls curlx_init() first thing in
 * main, and nothing else in imgp calls curl_global_init().  The URL
 * functions below load libcurl (dlopen) and initialise it the first time
 * they need it, so that a one-shot imgp-url whose paths need no escaping
 * never pays for loading it.
 *
 * URLs are escaped and read here with libcurl's own functions rather than
 * a table of our own, so imgp agrees with libcurl (and with RFC 3986) on
 * what a URL means.
 */
#ifndef IMGP_CURLX_H
#define IMGP_CURLX_H

#include <stddef.h>

#include "buf.h"

/* Load and initialise libcurl once (later calls do nothing); exit 2 on
 * failure. */
void curlx_init(void);

/* Append s[0..len) percent-encoded as one path segment or query value:
 * every byte but A-Z a-z 0-9 - . _ ~ becomes %XX (libcurl's escaping,
 * loaded only when some byte needs it).  s is part of a NUL-terminated
 * string; len is at most a few kilobytes (libcurl refuses over 8 MB). */
void curlx_escape(struct buf *out, const char *s, size_t len);

/* Append the percent-decoding of s[0..len) (a query name or value as
 * written; `+` stays `+`), by libcurl; -1 (nothing appended) when it
 * decodes to a NUL byte.  Same limits as curlx_escape. */
int curlx_unescape(struct buf *out, const char *s, size_t len);

/*
 * Parse `url`, an absolute URL or a path starting with `/` (resolved as a
 * browser would, against an origin that does not matter), and append to
 * `path` its path as a web server sees it: dot segments removed, percent
 * escapes decoded.  When `query` is not NULL, its query (without `?`,
 * still encoded) is appended there.  -1 when libcurl does not take it as a
 * URL, or the decoded path holds a control character or a dot segment.
 */
int curlx_path(const char *url, struct buf *path, struct buf *query);

/*
 * Append the origin of the absolute URL `url` to `origin`, in one form
 * for every way of writing it: "scheme://host:port", scheme and host in
 * lower case, the port always there (the scheme's default when the URL
 * has none).  -1 when libcurl does not take `url` as an absolute URL.
 */
int curlx_origin(const char *url, struct buf *origin);

/* Append `url` with the user name and password it may carry replaced by
 * "[redacted]", for showing it; as it is when libcurl cannot read it. */
void curlx_hide_password(const char *url, struct buf *out);

#endif
