/*
 * Fuzz the reading of provider answers (provider_read): chat/completions
 * bodies with data URLs, b64_json bodies, error bodies, downloads.  The
 * first byte picks the HTTP status and whether the body is a download; the
 * rest is the body.  Whatever the bytes, the verdict is consistent: a
 * success carries an image whose type was sniffed, or an http(s) URL (the
 * scheme in any case, as RFC 3986 allows); a failure carries a code and a
 * one-line message; the model's text and the usage are valid JSON.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "imgsniff.h"
#include "json.h"
#include "provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
valid_or_empty(const struct buf *b)
{
	const char *why;
	size_t where;

	return b->len == 0 || json_validate(b->data, b->len, &why, &where) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 200, 200, 200, 400, 401, 402,
	    403, 404, 408, 422, 429, 500, 502, 503, 302 };
	struct http_xfer x;
	struct provider_reply r;
	struct imgsniff sniff;

	if (size == 0)
		return 0;
	memset(&x, 0, sizeof(x));
	memset(&r, 0, sizeof(r));
	x.status = statuses[data[0] & 15];
	x.retry_after = -1;
	/* The body as http.c leaves it: NUL-terminated (buf.h). */
	buf_add(&x.body, data + 1, size - 1);
	provider_read(HTTP_DONE, &x, (data[0] & 16) != 0, &r);
	if (r.code == NULL) {
		if (r.next != NEXT_DONE)
			__builtin_trap();
		if (r.url.len == 0 && imgsniff((const unsigned char *)
		    r.image.data, r.image.len, &sniff) < 0)
			__builtin_trap();
		if (r.url.len && strncasecmp(r.url.data, "http", 4) != 0)
			__builtin_trap();
	} else if (r.next == NEXT_DONE || r.message.len == 0 ||
	    memchr(r.message.data, '\n', r.message.len)) {
		__builtin_trap();
	}
	if (!valid_or_empty(&r.text) || !valid_or_empty(&r.usage))
		__builtin_trap();
	provider_reply_free(&r);
	buf_free(&x.body);
	return 0;
}
