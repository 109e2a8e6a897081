/*
 * genopt — imgp-gen's options: their values checked into a gen_config, and
 * the defaults from the environment (design.md §6), for tools/imgp-gen.c.
 * imgp's own variables come first, the original pipeline's (IMAGE_MODEL,
 * IMAGE_MODALITIES, IMAGE_ASPECT_RATIO, IMAGE_OUTPUT_SIZE, IMAGE_QUALITY)
 * below them.
 */
#ifndef IMGP_GENOPT_H
#define IMGP_GENOPT_H

#include "gen.h"

/* getopt_long codes of the options that have no short form. */
enum {
	GENOPT_API = 256, GENOPT_BASE_URL, GENOPT_KEY_FILE, GENOPT_MODALITIES,
	GENOPT_REFERER, GENOPT_TITLE, GENOPT_RETRIES, GENOPT_RETRY_DELAY,
	GENOPT_TIMEOUT, GENOPT_STALL, GENOPT_FALLBACK, GENOPT_ON_FAILURE,
	GENOPT_MAX_BYTES, GENOPT_PROGRESS, GENOPT_NO_PROGRESS, GENOPT_CACHE,
	GENOPT_BUDGET, GENOPT_SESSION_BUDGET, GENOPT_REASONING,
	GENOPT_MAX_TOKENS, GENOPT_PARAM, GENOPT_LIST_MODELS, GENOPT_UNORDERED,
	GENOPT_PROFILE, GENOPT_REFERENCE_ROOT, GENOPT_MAX_REFERENCE_BYTES
};

/* Set the built-in defaults. */
void genopt_init(struct gen_config *c);

/* Apply option `opt` (a short option letter or a GENOPT_ code) with its
 * argument; 0, or -1 when `opt` is not one of imgp-gen's. */
int genopt_set(struct gen_config *c, int opt, const char *arg);

/* Fill in what the options left from the environment, with the defaults
 * of the API (base URL, model, key variables), and read the key: exit 2
 * when a remote API has none (unless --dry-run). */
void genopt_finish(struct gen_config *c);

/* Wipe the key and free what the options allocated. */
void genopt_free(struct gen_config *c);

#endif
