#include "curlx.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "diag.h"
#include "xalloc.h"

/* Relative URLs are resolved against this: only their path matters. */
#define ANY_ORIGIN "http://imgp.invalid/"

/*
 * Loading libcurl costs a one-shot tool most of its start-up (the
 * constructors of some thirty libraries it depends on: ~7 ms, more on a
 * busy machine), and a content-addressed path or a store directory never
 * needs it.  So it is found with dlopen the first time one is needed; a
 * tool that makes requests calls curlx_init() at start.
 */
struct curlx_lib curlx_fn;

static void *
symbol(void *lib, const char *name)
{
	void *f = dlsym(lib, name);

	if (f == NULL)
		diag_errx(2, "libcurl: %s", dlerror());
	return f;
}

/*
 * libcurl's memory, wiped when libcurl frees it: the requests it builds
 * hold the Authorization header, and a freed block keeps its bytes until
 * something else is put there, so without this the API key outlives
 * imgp-gen's own wiped copy (design.md §7).  Blocks are the C library's,
 * so anything libcurl hands over may be freed with free(3).
 */
static void
wiping_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

/* realloc(3) would leave the old block unwiped when it moves it. */
static void *
wiping_realloc(void *p, size_t size)
{
	void *moved;
	size_t had;

	if (p == NULL)
		return malloc(size);
	if ((had = malloc_usable_size(p)) >= size && size > 0)
		return p;
	if ((moved = malloc(size ? size : 1)) == NULL)
		return NULL;
	memcpy(moved, p, had < size ? had : size);
	wiping_free(p);
	return moved;
}

static char *
wiping_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *copy = malloc(n);

	return copy ? memcpy(copy, s, n) : NULL;
}

/* curlx_fn.name = libcurl's curl_name. */
#define SYMBOL(lib, name) \
	(*(void **)&curlx_fn.name = symbol(lib, "curl_" #name))

void
curlx_init(void)
{
	void *lib;

	if (curlx_fn.global_init_mem)
		return;
	if ((lib = dlopen("libcurl.so.4", RTLD_NOW)) == NULL)
		diag_errx(2, "cannot load libcurl: %s", dlerror());
	SYMBOL(lib, global_init_mem);
	SYMBOL(lib, easy_escape);
	SYMBOL(lib, easy_unescape);
	SYMBOL(lib, free);
	SYMBOL(lib, url);
	SYMBOL(lib, url_cleanup);
	SYMBOL(lib, url_set);
	SYMBOL(lib, url_get);
	SYMBOL(lib, easy_init);
	SYMBOL(lib, easy_setopt);
	SYMBOL(lib, easy_perform);
	SYMBOL(lib, easy_getinfo);
	SYMBOL(lib, easy_cleanup);
	SYMBOL(lib, easy_strerror);
	SYMBOL(lib, slist_append);
	SYMBOL(lib, slist_free_all);
	SYMBOL(lib, getdate);
	SYMBOL(lib, mime_init);
	SYMBOL(lib, mime_free);
	SYMBOL(lib, mime_addpart);
	SYMBOL(lib, mime_name);
	SYMBOL(lib, mime_data);
	SYMBOL(lib, mime_filename);
	SYMBOL(lib, mime_type);
	SYMBOL(lib, multi_init);
	SYMBOL(lib, multi_setopt);
	SYMBOL(lib, multi_add_handle);
	SYMBOL(lib, multi_remove_handle);
	SYMBOL(lib, multi_poll);
	SYMBOL(lib, multi_perform);
	SYMBOL(lib, multi_info_read);
	SYMBOL(lib, multi_cleanup);
	if (curlx_fn.global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wiping_free,
	    wiping_realloc, wiping_strdup, calloc) != CURLE_OK)
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
	escaped = xcheck(curlx_fn.easy_escape(NULL, s, (int)len));
	buf_puts(out, escaped);
	curlx_fn.free(escaped);
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
	plain = xcheck(curlx_fn.easy_unescape(NULL, s, (int)len, &n));
	if (!memchr(plain, '\0', (size_t)n)) {
		buf_add(out, plain, (size_t)n);
		rc = 0;
	}
	curlx_fn.free(plain);
	return rc;
}

/* Append URL part `what` of h to out, decoded or not. */
static int
get_part(CURLU *h, CURLUPart what, unsigned flags, struct buf *out)
{
	char *part = NULL;
	CURLUcode rc = curlx_fn.url_get(h, what, &part, flags);

	if (rc == CURLUE_NO_QUERY)
		return 0;
	if (rc != CURLUE_OK)
		return -1;
	buf_puts(out, part);
	curlx_fn.free(part);
	return 0;
}

void
curlx_escape_path(struct buf *out, const char *path)
{
	const char *end;

	for (;; path = end + 1) {
		end = strchr(path, '/');
		curlx_escape(out, path, end ? (size_t)(end - path) :
		    strlen(path));
		if (!end)
			break;
		buf_putc(out, '/');
	}
}

int
curlx_path(const char *url, struct buf *path, struct buf *query)
{
	CURLU *h;
	size_t start = path->len, i;
	int rc = -1;

	curlx_init();
	h = xcheck(curlx_fn.url());
	if (url[0] == '/' && url[1] != '/' &&
	    curlx_fn.url_set(h, CURLUPART_URL, ANY_ORIGIN, 0) != CURLUE_OK)
		goto done;
	if (curlx_fn.url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
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
	curlx_fn.url_cleanup(h);
	return rc;
}

int
curlx_origin(const char *url, struct buf *origin)
{
	CURLU *h;
	size_t start = origin->len, i;
	int rc = -1;

	curlx_init();
	h = xcheck(curlx_fn.url());
	if (curlx_fn.url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
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
	curlx_fn.url_cleanup(h);
	return rc;
}

void
curlx_hide_password(const char *url, struct buf *out)
{
	CURLU *h;
	char *user = NULL, *password = NULL, *bare = NULL;
	const char *host;

	curlx_init();
	h = xcheck(curlx_fn.url());
	if (curlx_fn.url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    (curlx_fn.url_get(h, CURLUPART_USER, &user, 0) != CURLUE_OK &&
	    curlx_fn.url_get(h, CURLUPART_PASSWORD, &password, 0) !=
	    CURLUE_OK) ||
	    curlx_fn.url_set(h, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curlx_fn.url_set(h, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curlx_fn.url_get(h, CURLUPART_URL, &bare, 0) != CURLUE_OK ||
	    (host = strstr(bare, "://")) == NULL) {
		buf_puts(out, url);
	} else {
		buf_add(out, bare, (size_t)(host - bare) + 3);
		buf_puts(out, "[redacted]@");
		buf_puts(out, host + 3);
	}
	curlx_fn.free(user);
	curlx_fn.free(password);
	curlx_fn.free(bare);
	curlx_fn.url_cleanup(h);
}
