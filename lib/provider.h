/*
 * provider — what imgp-gen sends to an image API and how it reads the
 * answer (design.md §4), with no transport and no retry policy: http.h moves
 * the bytes, gen.h decides what to do next from the verdict here.
 *
 * OpenRouter: POST <base>/chat/completions, one user message (the prompt,
 * then each reference as an image_url data URL), `modalities`, `size`,
 * `image_config` (aspect_ratio, image_size, quality), `seed`, `reasoning`
 * and `max_tokens`.
 *
 * OpenRouter images: POST <base>/images (model, prompt, n, aspect_ratio,
 * resolution, size, quality, output_format, seed, input_references as
 * data URLs with the previous frame first).
 *
 * OpenAI: POST <base>/images/generations (model, prompt, n, size, quality,
 * output_format; base64 output), or /images/edits as a multipart form
 * carrying the reference images.
 *
 * Every body ends with the request's `params` (--param, then the record's
 * request.params): a param replaces the member of the same name, except
 * the members provider_protected() names.
 *
 * The image of an answer is looked for where each API puts it, then
 * anywhere in the answer (provider_read): base64 as providers really write
 * it (line breaks, URL-safe alphabet, no padding) and data URLs in any
 * case.  A lone surrogate escape in an answer's text is replaced by U+FFFD
 * (with a note) rather than costing the image.
 *
 * A "relaxed" call is the same request stripped to what every model takes:
 * the prompt text alone, modalities image and text, no references, no
 * image_config, seed, size, quality or params.  A "softened" call (after a
 * moderation refusal) sends the softened prompt and no references.
 */
#ifndef IMGP_PROVIDER_H
#define IMGP_PROVIDER_H

#include <stddef.h>

#include "buf.h"
#include "digest.h"
#include "http.h"
#include "refroot.h"

enum provider_api { PROVIDER_OPENROUTER, PROVIDER_OPENAI, PROVIDER_LOCAL,
	PROVIDER_OPENROUTER_IMAGES };

/* Their names, as --api and image.provider spell them; NULL-ended. */
extern const char *const provider_api_names[];

/* A member merged into the body: its name and its JSON value as written. */
struct provider_param {
	const char *name;
	const char *value;
	size_t value_len;
};

/* A reference image, read from its path and checked against its SHA-256. */
struct provider_ref {
	char *path;
	const char *mime;	/* what the bytes are */
	struct buf bytes;
	int previous;		/* role "previous": the frame to continue */
	const char *role;	/* the request's, NULL when it had none */
	long long turn;		/* a pending reference's turn, else -1 */
	char sha256[DIGEST_HEX_LEN + 1];	/* of the bytes sent */
};

/* The record's `request`; strings are borrowed from the parsed record. */
struct provider_request {
	const char *prompt;
	int has_seed;
	long long seed;
	const char *aspect_ratio, *image_size, *size, *quality, *output_format;
	const char *reasoning;	/* --reasoning-effort, or NULL: the model's */
	long long max_tokens;	/* 0: none */
	const char *softened;	/* the prompt of a softened call */
	struct provider_param *params;
	size_t nparams;
	struct provider_ref *refs;
	size_t nrefs;
};

/* One attempt's variant of the request. */
struct provider_call {
	const char *model;
	const char *modalities;	/* "image,text" or "image" */
	int relaxed, softened;
};

/* What the retry ladder does after an answer (gen.h). */
enum provider_next {
	NEXT_DONE,		/* an image, or a URL to fetch */
	NEXT_RETRY,		/* transient: back off and try again */
	NEXT_RELAX,		/* the request was refused as asked: relax it */
	NEXT_MODALITIES,	/* an image-only model: switch modalities */
	NEXT_SOFTEN,		/* refused by moderation: soften, then models */
	NEXT_MODEL,		/* this model will not do: the next one */
	NEXT_STOP		/* no request will do (401, 402): stop the run */
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
	struct buf note;	/* what was repaired in the answer, or empty */
};

/* Whether a param may not replace body member `name` (model, messages,
 * prompt, n, modalities, input_references, stream: imgp owns them). */
int provider_protected(const char *name);

/* The reasoning effort sent with `model` through `api`: --reasoning-effort,
 * or "low" for the gpt-5-image models on chat completions; NULL: none. */
const char *provider_reasoning(enum provider_api api,
    const struct provider_request *req, const char *model);

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

/* Load reference `path` from beneath the allowed `roots` (refroot.h),
 * check its SHA-256 (hex); 0, or -1 with the reason in `why`, which never
 * tells the file's own hash. */
int provider_ref_load(struct provider_ref *ref, struct refroot_set *roots,
    const char *path, const char *sha256, struct buf *why);
void provider_ref_free(struct provider_ref *ref);

#endif
