/*
 * reqcache — imgp-gen's request cache in the store (--cache): a paid-for
 * image is never paid for twice.
 *
 * A request key is the SHA-256 of the canonical form of what decides the
 * image.  The form is a line "imgp-request/1", then one line per field, in
 * this order, each `<name>:<length>:<value>` with the value's length in
 * bytes in decimal (so a value may hold any byte, newlines included):
 *
 *	api		openrouter, openai, local or openrouter-images
 *	model		the request's model, else --model (not a fallback)
 *	prompt
 *	seed		decimal, only when the request has one
 *	aspect_ratio, image_size, size, quality, output_format
 *			only those the request has (or IMAGE_* gave it)
 *	reasoning	the effort sent (provider_reasoning), if any
 *	max_tokens	decimal, when sent
 *	param		one line per param, in the order sent, its value
 *			`<name>=<JSON as written>`
 *	reference	the SHA-256 (hex) of the bytes each reference sends
 *			(a previous frame without its imgp: chunks), in order
 *
 * Each line ends with "\n".  A field that is absent has no line, so an
 * absent value and an empty one differ.
 *
 * An answer is kept as two files, each written whole (durable.h):
 *
 *	<store>/ab/ab12…ef.png		the image, laid out as imgp-store does
 *	<store>/requests/<k2>/<key>.json	the request file, <k2> being the
 *					key's first two hex digits
 *
 * The request file is one JSON object: {"key", "sha256", "path" (the
 * image, relative to the store), "mime", "bytes", "model", "provider",
 * "fallback", "usage", "text", "created"}; usage and text are kept as the
 * provider wrote them.  A request file whose image is missing, or whose
 * image's bytes do not have its sha256, is a miss.  On an s3:// store
 * both are objects under the same keys (storeobj.h), each one PUT.
 */
#ifndef IMGP_REQCACHE_H
#define IMGP_REQCACHE_H

#include "buf.h"
#include "digest.h"
#include "jqx.h"
#include "provider.h"

#define REQCACHE_FORM_VERSION "imgp-request/1"

/* The request key (64 hex digits and a NUL) of `req` for `api` and
 * `model`: every member the request sends enters it, each of req->refs by
 * the SHA-256 of the bytes it sends. */
void reqcache_key(enum provider_api api, const char *model,
    const struct provider_request *req, char key[DIGEST_HEX_LEN + 1]);

/*
 * An answer: what reqcache_put records (every pointer borrowed from the
 * caller), or what reqcache_get found (the pointers then point into the
 * storage below, which reqcache_answer_free releases).  model and fallback
 * are NULL for JSON null; usage and text are JSON texts, empty for null.
 */
struct reqcache_answer {
	const char *provider, *model, *fallback;
	const struct buf *bytes, *usage, *text;
	/* reqcache_get's storage */
	jv file;
	struct buf own_bytes, own_usage, own_text;
};

/* Look `key` up in `store`: 1 a hit, filling `a` (free it with
 * reqcache_answer_free); 0 a miss. */
int reqcache_get(const char *store, const char *key,
    struct reqcache_answer *a);

/* Record the answer of `key` in `store` (its image first, then the request
 * file).  0, or -1 with errno set and `why` saying what failed. */
int reqcache_put(const char *store, const char *key,
    const struct reqcache_answer *a, struct buf *why);

void reqcache_answer_free(struct reqcache_answer *a);

#endif
