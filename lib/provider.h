/*
 * provider — what imgp-gen sends to an image API and how it reads the
 * answer (design.md §4), with no transport and no retry policy: http.h moves
 * the bytes, gen.h decides what to do next from the verdict here.
 *
 * OpenRouter: POST <base>/chat/completions, one user message (the prompt,
 * then each reference as an image_url data URL), `modalities`,
 * `image_config` (aspect_ratio, image_size) and `seed`.  The image is
 * choices[0].message.images[0].image_url.url (a data URL, or an http(s)
 * URL to fetch); bodies of the form data[0].b64_json and images[0].b64_json
 * are accepted too.
 *
 * OpenAI: POST <base>/images/generations (model, prompt, n, size, quality;
 * base64 output), or /images/edits as a multipart form carrying the
 * reference images.
 *
 * A "relaxed" call is the same request stripped to what every model takes:
 * the prompt text alone, no references, no image_config, no seed, no
 * size or quality.
 */
#ifndef IMGP_PROVIDER_H
#define IMGP_PROVIDER_H

#include <stddef.h>

#include "buf.h"
#include "http.h"

enum provider_api { PROVIDER_OPENROUTER, PROVIDER_OPENAI, PROVIDER_LOCAL };

/* A reference image, read from its path and checked against its SHA-256. */
struct provider_ref {
	char *path;
	const char *mime;	/* what the bytes are */
	struct buf bytes;
};

/* The record's `request`; strings are borrowed from the parsed record. */
struct provider_request {
	const char *prompt;
	int has_seed;
	long long seed;
	const char *aspect_ratio, *image_size, *size, *quality;
	struct provider_ref *refs;
	size_t nrefs;
};

/* One attempt's variant of the request. */
struct provider_call {
	const char *model;
	const char *modalities;	/* "image,text" or "image" */
	int relaxed;
};

/* What the retry ladder does after an answer (gen.h). */
enum provider_next {
	NEXT_DONE,		/* an image, or a URL to fetch */
	NEXT_RETRY,		/* transient: back off and try again */
	NEXT_RELAX,		/* the request was refused as asked: relax it */
	NEXT_MODALITIES,	/* an image-only model: switch modalities */
	NEXT_MODEL,		/* this model will not do: the next one */
	NEXT_STOP		/* no model will do (401, 402) */
};

/* The cost of an answer whose usage reports none: never guessed as 0. */
#define PROVIDER_COST_UNKNOWN (-1.0)

struct provider_reply {
	enum provider_next next;
	const char *code;	/* error code word, NULL on success */
	long status;		/* HTTP status, or the code of a 200 error */
	struct buf message;	/* the provider's message, one line */
	struct buf image;	/* decoded image bytes */
	struct buf url;		/* or an http(s) image URL to fetch */
	struct buf text;	/* JSON string of the model's text, or empty */
	struct buf usage;	/* the usage object as written, or empty */
	double cost;		/* usage.cost, or PROVIDER_COST_UNKNOWN */
};

/* The path under the base URL: "/chat/completions", "/images/…". */
const char *provider_endpoint(enum provider_api api,
    const struct provider_request *req, const struct provider_call *call);

/* Whether the call is sent as a multipart form (OpenAI edits). */
int provider_is_form(enum provider_api api, const struct provider_request *req,
    const struct provider_call *call);

/* Append the JSON body of a call.  With `abbreviate` (--dry-run), image
 * data is shown as "[N bytes]" instead of its base64. */
void provider_body(enum provider_api api, const struct provider_request *req,
    const struct provider_call *call, int abbreviate, struct buf *out);

/* The multipart form of an OpenAI edits call: its fields added to `x`, or,
 * when x is NULL, described as a JSON array in `describe` (--dry-run). */
void provider_form(const struct provider_request *req,
    const struct provider_call *call, struct http_xfer *x,
    struct buf *describe);

/*
 * Read an answer: a transfer `outcome` and, for HTTP_DONE, the status and
 * body.  `download` says the body is an image fetched from a URL the API
 * gave.  Fills `reply` (reset first).  The image's type is checked from its
 * bytes (not_an_image).
 */
void provider_read(enum http_outcome outcome, const struct http_xfer *x,
    int download, struct provider_reply *reply);

void provider_reply_free(struct provider_reply *reply);

/* Load reference `path`, check its SHA-256 (hex); 0, or -1 with the reason
 * in `why`. */
int provider_ref_load(struct provider_ref *ref, const char *path,
    const char *sha256, struct buf *why);
void provider_ref_free(struct provider_ref *ref);

#endif
