/*
 * journal — reading a session's journal in the store (DESIGN §2).
 *
 * imgp-store appends one line per stored image to
 * <store>/sessions/<session>.ndjson.  imgp-enrich reads it for the "previous
 * frame" and the history of a session, imgp-gen for --on-failure previous.
 * The file is streamed line by line and only the few entries asked for are
 * kept, so a long session's journal is never held in memory.
 *
 * When a turn was stored more than once (a re-generated turn), its last
 * line wins.  Lines that do not parse, or lack a turn, are skipped: they
 * are imgp-store --check's business, not the reader's.
 */
#ifndef IMGP_JOURNAL_H
#define IMGP_JOURNAL_H

#include <stddef.h>

#include "digest.h"

struct journal_entry {
	long long turn;
	char sha256[DIGEST_HEX_LEN + 1];	/* "" when the line had none */
	char *path;		/* relative to the store */
	char *image_prompt;	/* "" when the line had none */
};

struct journal_view {
	/* Entries for the latest turns before the turn asked about, one per
	 * turn, in ascending turn order: the last one is the previous frame. */
	struct journal_entry *entries;
	size_t n;
};

/* Whether `name` is a valid session name: [A-Za-z0-9._-]{1,128}, not "."
 * or "..", so that it is safe as a file name. */
int journal_session_valid(const char *name);

/* The journal file of `session` in `store` (malloc'd). */
char *journal_path(const char *store, const char *session);

/*
 * Find the entries of the `keep` (at least 1) latest turns before
 * `before_turn`.  A journal that does not exist is an empty one.  Returns
 * 0, or -1 with errno set when the journal cannot be read.
 */
int journal_scan(const char *store, const char *session, long long before_turn,
    size_t keep, struct journal_view *view);

/* The previous frame: the latest entry of the view, or NULL. */
const struct journal_entry *journal_previous(const struct journal_view *view);

void journal_view_free(struct journal_view *view);

#endif
