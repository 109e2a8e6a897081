/*
 * provenance — the imgp: text chunks that let a PNG carry its own history,
 * written by imgp-store --embed and by imgp-gen's local renderer:
 *
 *	imgp:session  imgp:turn  imgp:prompt  imgp:seed  imgp:model
 *	imgp:request_key
 *
 * in that order, each left out when its value is unknown.  Both writers
 * fill them from the same record, so the store re-embedding what the
 * renderer wrote gives the same bytes (png_add_text() replaces
 * chunks of the same keyword).
 */
#ifndef IMGP_PROVENANCE_H
#define IMGP_PROVENANCE_H

#include <stddef.h>

#include "buf.h"
#include "png.h"

#define PROVENANCE_KEYS 6

struct provenance {
	/* What is known; NULL or negative: left out. */
	const char *session;
	long long turn;
	const char *prompt;	/* request.prompt */
	long long seed;		/* request.seed */
	const char *model;
	const char *request_key;

	/* Filled by provenance_text(). */
	const char *keys[PROVENANCE_KEYS], *values[PROVENANCE_KEYS];
	char turn_text[24], seed_text[24];
	struct png_text text;
};

/* The chunks of the known values, for render_png() or
 * png_add_text(); they borrow from p. */
const struct png_text *provenance_text(struct provenance *p);

/*
 * The image's bytes without the imgp: chunks (a PNG; other images as they
 * are) into `out`: a frame's identity as a reference (imgp-gen sends these
 * bytes), the same whether imgp-store embedded its provenance or not.
 */
void provenance_strip(const struct buf *image, struct buf *out);

#endif
