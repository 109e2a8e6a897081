#include "curlx.h"

#include <dlfcn.h>
#include <string.h>

#include <curl/curl.h>

#include "diag.h"
#include "xalloc.h"

/* Relative URLs are resolved against this: only their path matters. */
#define ANY_ORIGIN "http://imgp.invalid/"

/*
 * Loading libcurl costs a one-shot imgp-url most of its start-up (the
 * constructors of some thirty libraries it depends on: ~7 ms), and a
 * content-addressed path never needs it.  So the URL functions are found
 * with dlopen the first time one is needed; a tool that makes requests
 * (imgp-gen) links libcurl anyway and calls curlx_init() at start.
 */
static struct {
	CURLcode (*global_init)(long);
	char *(*easy_escape)(CURL *, const char *, int);
	char *(*easy_unescape)(CURL *, const char *, int, int *);
	void (*free)(void *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned);
	CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned);
} curl;

static void *
symbol(void *lib, const char *name)
{
	void *f = dlsym(lib, name);

	if (f == NULL)
		diag_errx(2, "libcurl: %s", dlerror());
	return f;
}

void
curlx_init(void)
{
	void *lib;

	if (curl.global_init)
		return;
	if ((lib = dlopen("libcurl.so.4", RTLD_NOW)) == NULL)
		diag_errx(2, "cannot load libcurl: %s", dlerror());
	*(void **)&curl.global_init = symbol(lib, "curl_global_init");
	*(void **)&curl.easy_escape = symbol(lib, "curl_easy_escape");
	*(void **)&curl.easy_unescape = symbol(lib, "curl_easy_unescape");
	*(void **)&curl.free = symbol(lib, "curl_free");
	*(void **)&curl.url = symbol(lib, "curl_url");
	*(void **)&curl.url_cleanup = symbol(lib, "curl_url_cleanup");
	*(void **)&curl.url_set = symbol(lib, "curl_url_set");
	*(void **)&curl.url_get = symbol(lib, "curl_url_get");
	if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		diag_errx(2, "libcurl failed to initialise");
}

void
curlx_escape(struct buf *out, const char *s, size_t len)
{
	char *escaped;

	/* The characters curl_easy_escape keeps as they are (RFC 3986's
	 * unreserved): a segment of only those needs no libcurl. */
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-._~") >= len) {
		buf_add(out, s, len);
		return;
	}
	curlx_init();
	/* The handle is unused since curl 7.82; callers keep len far below
	 * libcurl's limit of 8 MB, so NULL means no memory. */
	escaped = xcheck(curl.easy_escape(NULL, s, (int)len));
	buf_puts(out, escaped);
	curl.free(escaped);
}

int
curlx_unescape(struct buf *out, const char *s, size_t len)
{
	char *plain;
	int n = 0, rc = -1;

	if (!memchr(s, '%', len)) {
		buf_add(out, s, len);
		return 0;
	}
	curlx_init();
	plain = xcheck(curl.easy_unescape(NULL, s, (int)len, &n));
	if (!memchr(plain, '\0', (size_t)n)) {
		buf_add(out, plain, (size_t)n);
		rc = 0;
	}
	curl.free(plain);
	return rc;
}

/* Append URL part `what` of h to out, decoded or not. */
static int
get_part(CURLU *h, CURLUPart what, unsigned flags, struct buf *out)
{
	char *part = NULL;
	CURLUcode rc = curl.url_get(h, what, &part, flags);

	if (rc == CURLUE_NO_QUERY)
		return 0;
	if (rc != CURLUE_OK)
		return -1;
	buf_puts(out, part);
	curl.free(part);
	return 0;
}

int
curlx_path(const char *url, struct buf *path, struct buf *query)
{
	CURLU *h;
	size_t start = path->len, i;
	int rc = -1;

	curlx_init();
	h = xcheck(curl.url());
	if (url[0] == '/' && url[1] != '/' &&
	    curl.url_set(h, CURLUPART_URL, ANY_ORIGIN, 0) != CURLUE_OK)
		goto done;
	if (curl.url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    get_part(h, CURLUPART_PATH, CURLU_URLDECODE, path) < 0 ||
	    (query && get_part(h, CURLUPART_QUERY, 0, query) < 0))
		goto done;
	/* A NUL would hide the rest of the path from a C string, and a
	 * server refuses control characters anyway.  A dot segment that was
	 * escaped (%2e%2e) survives libcurl but not the server, which would
	 * then see another path than the one we read. */
	for (i = start; i < path->len; i++) {
		const char *seg = path->data + i;

		if ((unsigned char)*seg < 0x20 || *seg == 0x7f)
			goto done;
		if (*seg == '/' && (seg[1] == '.' && (seg[2] == '/' ||
		    seg[2] == '\0' || (seg[2] == '.' && (seg[3] == '/' ||
		    seg[3] == '\0')))))
			goto done;
	}
	rc = 0;
done:
	if (rc < 0)
		buf_truncate(path, start);
	curl.url_cleanup(h);
	return rc;
}

int
curlx_origin(const char *url, struct buf *origin)
{
	CURLU *h;
	size_t start = origin->len, i;
	int rc = -1;

	curlx_init();
	h = xcheck(curl.url());
	if (curl.url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    get_part(h, CURLUPART_SCHEME, 0, origin) == 0) {
		buf_puts(origin, "://");
		if (get_part(h, CURLUPART_HOST, 0, origin) == 0) {
			buf_putc(origin, ':');
			rc = get_part(h, CURLUPART_PORT, CURLU_DEFAULT_PORT,
			    origin);
		}
	}
	for (i = start; i < origin->len; i++)
		if (origin->data[i] >= 'A' && origin->data[i] <= 'Z')
			origin->data[i] += 'a' - 'A';
	if (rc < 0)
		buf_truncate(origin, start);
	curl.url_cleanup(h);
	return rc;
}

void
curlx_hide_password(const char *url, struct buf *out)
{
	CURLU *h;
	char *user = NULL, *password = NULL, *bare = NULL;
	const char *host;

	curlx_init();
	h = xcheck(curl.url());
	if (curl.url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    (curl.url_get(h, CURLUPART_USER, &user, 0) != CURLUE_OK &&
	    curl.url_get(h, CURLUPART_PASSWORD, &password, 0) !=
	    CURLUE_OK) ||
	    curl.url_set(h, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl.url_set(h, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl.url_get(h, CURLUPART_URL, &bare, 0) != CURLUE_OK ||
	    (host = strstr(bare, "://")) == NULL) {
		buf_puts(out, url);
	} else {
		buf_add(out, bare, (size_t)(host - bare) + 3);
		buf_puts(out, "[redacted]@");
		buf_puts(out, host + 3);
	}
	curl.free(user);
	curl.free(password);
	curl.free(bare);
	curl.url_cleanup(h);
}
