/*
 * enrich — the imgp-enrich stage: a judge record in, a record with
 * `request` out (design.md §3).
 *
 * For each record: the session, turn and image_prompt are checked; the
 * session's journal in the store and the records of the session read
 * earlier in this run (streammem.h; a turn in both counts once, as the
 * later record) give the previous frame and, when the record has no
 * `history`, the history; a previous frame that is an earlier record of
 * the stream is a pending reference, {"role":"previous","turn":N}, which
 * imgp-gen resolves; the first directive of the profile
 * whose `when` holds adds its text; the prompt is assembled (prompt.h); the
 * seed is the record's, else the command line's, else the profile's, else
 * derived from the session; references are the profile's and, when asked,
 * the previous frame.  Image options come from the profile's `image`,
 * overridden by the command line; members the record's own `request`
 * already has win over everything and are kept as written.
 */
#ifndef IMGP_ENRICH_H
#define IMGP_ENRICH_H

#include "filter.h"
#include "profile.h"

struct streammem;

struct enrich {
	struct profile profile;
	const char *store;		/* the store directory */
	int reference_previous;		/* add the previous frame */
	int has_seed;			/* --seed */
	unsigned long long seed;
	/* Command-line image options (NULL: not given). */
	const char *model, *aspect_ratio, *size, *quality;
	struct streammem *memory;	/* the turns read so far */
};

/* The filter function (filter.h); ctx is a struct enrich. */
filter_fn enrich_record;

/* Free the profile and what the run remembers. */
void enrich_free(struct enrich *e);

#endif
