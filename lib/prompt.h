/*
 * prompt — assembly of the continuity prompt, to the byte (design.md §3).
 *
 * The parts, in order, joined by single spaces, each left out when empty:
 *   1 compact(image_prompt, 460)
 *   2 "Anchors: " list(anchors, 3, 180) "."
 *   3 "Style: " list(style, 2, 140) "."
 *   4 "Match previous frame: " compact(hint, 120) "."   (a hint or a frame)
 *     else the profile's no_previous text
 *   5 "Evolution trail: " compact(history, 260) ". Treat this as cumulative
 *     context and preserve visible motif layering from earlier turns."
 *     else "Evolution trail: no prior turns; establish stable baseline
 *     motifs only."
 *   6 "Continuity: " list(rules, 2, 140) "."
 *   7 the first matching directive's text
 *   8 "Avoid: " list(avoid, 2, 140) "."
 * The numbers are the profile's limits; text.h defines compact.
 */
#ifndef IMGP_PROMPT_H
#define IMGP_PROMPT_H

#include <stddef.h>

#include "buf.h"
#include "profile.h"

#define PROMPT_DEFAULT_HINT "same framing and camera family as previous frame"
#define PROMPT_DEFAULT_NO_PREVIOUS "Keep continuity with the previous scene."

struct prompt_input {
	const char *image_prompt;	/* the judge's prompt */
	size_t image_prompt_len;
	const char *hint;		/* the record's previous_hint, or NULL */
	size_t hint_len;
	int has_previous_frame;		/* the session has an earlier frame */
	const char *history;		/* raw history text (see below) */
	size_t history_len;
	const char *directive;		/* matching directive's text, or NULL */
};

/* Append the enriched prompt. */
void prompt_build(const struct profile *p, const struct prompt_input *in,
    struct buf *out);

/* Add one earlier turn to the raw history in `out`: " | " when it is not
 * the first, then "T<turn>:" compact(image_prompt, 64) (prompt_build
 * compacts the whole).  The turns come from the journal and the stream
 * (streammem.h) alike, so a turn reads the same from either. */
void prompt_history_add(const struct profile_limits *limits, struct buf *out,
    long long turn, const char *image_prompt);

/* Whether text compacts to nothing. */
int prompt_blank(const char *s, size_t len);

#endif
