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
#include <time.h>

#include <curl/curl.h>

#include "buf.h"

/*
 * libcurl's functions that imgp calls, found by curlx_init (dlopen): no
 * tool links libcurl, so a one-shot imgp-store or imgp-enrich on a store
 * directory never pays for loading it and the libraries it brings (some
 * 25: GnuTLS, LDAP, Kerberos…).  Valid once curlx_init() has run: http.h
 * and s3.h are used only after it (a tool's main, s3_open).
 */
struct curlx_lib {
	CURLcode (*global_init_mem)(long, curl_malloc_callback,
	    curl_free_callback, curl_realloc_callback, curl_strdup_callback,
	    curl_calloc_callback);
	char *(*easy_escape)(CURL *, const char *, int);
	char *(*easy_unescape)(CURL *, const char *, int, int *);
	void (*free)(void *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned);
	CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	time_t (*getdate)(const char *, const time_t *);
	curl_mime *(*mime_init)(CURL *);
	void (*mime_free)(curl_mime *);
	curl_mimepart *(*mime_addpart)(curl_mime *);
	CURLcode (*mime_name)(curl_mimepart *, const char *);
	CURLcode (*mime_data)(curl_mimepart *, const char *, size_t);
	CURLcode (*mime_filename)(curl_mimepart *, const char *);
	CURLcode (*mime_type)(curl_mimepart *, const char *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int,
	    int, int *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
};

extern struct curlx_lib curlx_fn;

/* Load and initialise libcurl once (later calls do nothing); exit 2 on
 * failure.  Every block libcurl frees is wiped first: the requests it
 * builds hold the API key. */
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

/* Append `path` with each '/'-separated segment escaped by curlx_escape
 * and the slashes kept: the path of an S3 object's URL as SigV4 signs it,
 * one rule for the URLs imgp requests and those it presigns. */
void curlx_escape_path(struct buf *out, const char *path);

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
