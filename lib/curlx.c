#include "curlx.h"

#include <string.h>

#include <curl/curl.h>

#include "diag.h"

/* Relative URLs are resolved against this: only their path matters. */
#define ANY_ORIGIN "http://imgp.invalid/"

void
curlx_init(void)
{
	static int done;

	if (!done && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		diag_errx(2, "libcurl failed to initialise");
	done = 1;
}

void
curlx_escape(struct buf *out, const char *s, size_t len)
{
	char *escaped;

	/* curl_easy_escape reads a length of 0 as "use strlen". */
	if (len == 0)
		return;
	/* The handle is unused since curl 7.82; callers keep len far below
	 * libcurl's limit of 8 MB, so NULL means no memory. */
	if ((escaped = curl_easy_escape(NULL, s, (int)len)) == NULL)
		diag_errx(1, "out of memory");
	buf_puts(out, escaped);
	curl_free(escaped);
}

/* Append URL part `what` of h to out, decoded or not. */
static int
get_part(CURLU *h, CURLUPart what, unsigned flags, struct buf *out)
{
	char *part = NULL;
	CURLUcode rc = curl_url_get(h, what, &part, flags);

	if (rc == CURLUE_NO_QUERY)
		return 0;
	if (rc != CURLUE_OK)
		return -1;
	buf_puts(out, part);
	curl_free(part);
	return 0;
}

int
curlx_path(const char *url, struct buf *path, struct buf *query)
{
	CURLU *h;
	size_t start = path->len, i;
	int rc = -1;

	if ((h = curl_url()) == NULL)
		diag_errx(1, "out of memory");
	if (url[0] == '/' && url[1] != '/' &&
	    curl_url_set(h, CURLUPART_URL, ANY_ORIGIN, 0) != CURLUE_OK)
		goto done;
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
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
	curl_url_cleanup(h);
	return rc;
}
