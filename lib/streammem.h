/*
 * streammem — what imgp-enrich remembers of the records it has read in
 * this run: per session, the latest turns and their image prompts, so that
 * a batch of turns gets the history and the previous frame that the same
 * turns fed one at a time get from the journal (imgp(7), CONTINUITY).
 *
 * Memory is bounded twice: a session keeps its `keep` highest turns (a
 * lower turn read once they are full is not remembered), and at most
 * `max_sessions` sessions are kept, the least recently used one forgotten
 * first (it falls back to its journal).  A turn read again replaces what
 * was remembered of it: the later record counts.
 */
#ifndef IMGP_STREAMMEM_H
#define IMGP_STREAMMEM_H

#include <stddef.h>

/* Sessions remembered at once by imgp-enrich. */
#define STREAMMEM_SESSIONS 16384

struct streammem_turn {
	long long turn;
	char *image_prompt;	/* as given to streammem_note */
};

struct streammem;

/* A memory of at most max_sessions sessions, each with its `keep` (at
 * least 1) highest turns. */
struct streammem *streammem_new(size_t max_sessions, size_t keep);

/* Remember that `session` has had `turn` with `image_prompt` (len bytes;
 * the caller keeps only what it will need of it). */
void streammem_note(struct streammem *m, const char *session,
    long long turn, const char *image_prompt, size_t len);

/* The remembered turns of `session` below `before`, in ascending turn
 * order: their number, the first at *turns.  Valid until the next call. */
size_t streammem_before(struct streammem *m, const char *session,
    long long before, const struct streammem_turn **turns);

void streammem_free(struct streammem *m);

#endif
