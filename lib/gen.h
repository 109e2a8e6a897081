/*
 * gen — the imgp-gen stage: a record with `request` in, a record with
 * `image` out (design.md §1, §4).
 *
 * Up to `jobs` requests are in flight at once in one libcurl multi handle;
 * the output is in input order all the same.  Input is read no further
 * ahead than a window of GEN_WINDOW_PER_JOB × jobs records, and not at all
 * while a record waits for a free request slot, so memory is bounded by
 * -j, not by the stream.  Records that need no request (bad_json, errors,
 * records that already have `image`, field errors) take no slot: they wait
 * in the window only for the records before them.  With `unordered`, a
 * record waits only for the earlier records of its own session (turn N
 * before N+1), so one slow session does not hold back the others.  Input is read without
 * blocking (its descriptor is polled with the transfers) and retries wait
 * on timers in the same loop, so nothing ever sleeps.
 *
 * The failure ladder of one record:
 *  1. network errors, timeouts, 408, 429, 5xx: retried up to `retries`
 *     times, after a full-jitter exponential backoff from `retry_delay`
 *     (at least the Retry-After the provider asked for);
 *     a 404 "no endpoints … output modalities" is retried once with the
 *     other modalities;
 *  2. 400, 422, a 200 without an image, an unparseable answer: once more as
 *     a relaxed request (fallback "relaxed");
 *  3. then each fallback model in order, each with steps 1–2 (fallback
 *     "model"); a refusal (403 moderation, content_filter), an answer that
 *     is not an image or is too large go straight to the next model; 401
 *     and 402 skip the models;
 *  4. then `on_failure`: an error record, the session's previous image
 *     from the store, or a placeholder from the local renderer.
 *
 * With `cache`, a request whose key is in the store's request cache
 * (reqcache.h) is answered from it with no call; every image an API or the
 * renderer made for its request (not a previous or placeholder fallback)
 * is recorded there.  Before each paid call the budgets are checked
 * (budget.h): a record that may not spend becomes a budget_exceeded error.
 */
#ifndef IMGP_GEN_H
#define IMGP_GEN_H

#include <stddef.h>

#include "http.h"
#include "provider.h"

#define GEN_WINDOW_PER_JOB 4
#define GEN_DEFAULT_MODEL "google/gemini-2.5-flash-image"
#define GEN_DEFAULT_BASE_URL "https://openrouter.ai/api/v1"
#define GEN_OPENAI_MODEL "gpt-image-1"
#define GEN_OPENAI_BASE_URL "https://api.openai.com/v1"
#define GEN_DEFAULT_SIZE "672x288"	/* --api local */

enum gen_on_failure { GEN_FAIL_ERROR, GEN_FAIL_PREVIOUS, GEN_FAIL_PLACEHOLDER };

struct gen_config {
	enum provider_api api;
	const char *base_url;
	const char *model;		/* the default; request.model wins */
	/* Defaults of the request's members (IMAGE_*); the request wins. */
	const char *aspect_ratio, *image_size, *size, *quality;
	const char *reasoning;		/* --reasoning-effort, or NULL */
	long long max_tokens;		/* --max-tokens, or 0 */
	struct provider_param *params;	/* --param */
	size_t nparams;
	const char *modalities;		/* "image,text" or "image" */
	const char *referer, *title;	/* OpenRouter attribution */
	char *key;			/* the API key (wiped at the end) */
	const char **fallback_models;
	size_t nfallback;
	unsigned retries;
	double retry_delay;		/* backoff base, seconds */
	struct http_limits limits;
	enum gen_on_failure on_failure;
	const char *store;		/* --on-failure previous, --cache */
	const char *profile;		/* its directory holds references */
	const char **reference_roots;	/* --reference-root, each */
	size_t nreference_roots;
	size_t max_reference_bytes;
	unsigned jobs;
	int unordered;			/* output order only per session */
	int progress;			/* 1 on, 0 off */
	int verbose;			/* the run's summary at the end */
	int quiet;			/* no line on stderr per failure */
	int dry_run;
	int list_models;		/* --list-models instead of records */
	int cache;			/* answer known requests from the store */
	double budget, session_budget;	/* BUDGET_NONE or an amount */
};

/* Run the stage over operands[0..n) and close standard output; the exit
 * status of design.md §1. */
int gen_run(struct gen_config *cfg, char *const *operands, int n);

#endif
