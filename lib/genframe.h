/*
 * genframe — the frames imgp-gen made in this run, by session and turn, so
 * that a pending reference ({"role":"previous","turn":N}, written by
 * imgp-enrich for an earlier record of the same stream) is resolved from
 * the image made for that record, before imgp-store has stored it.
 *
 * A record that may make a frame is entered when it is read (pending); it
 * is settled as made (its image, without the imgp: chunks, provenance.h)
 * or failed when it is done.  A record whose reference points at a pending
 * frame waits for it; the frame was read earlier, so it never waits for a
 * record it has not read.  Settled frames are forgotten oldest first past
 * GENFRAME_MAX frames or GENFRAME_MAX_BYTES bytes; a reference to a
 * forgotten frame is resolved from the store.
 */
#ifndef IMGP_GENFRAME_H
#define IMGP_GENFRAME_H

#include <stddef.h>

#include "buf.h"
#include "digest.h"

#define GENFRAME_MAX 1024
#define GENFRAME_MAX_BYTES (256UL << 20)

enum genframe_state { GENFRAME_PENDING, GENFRAME_MADE, GENFRAME_FAILED };

struct genframe {
	char *session;
	long long turn;
	unsigned long seq;	/* the record's place in the input */
	enum genframe_state state;
	struct buf bytes;	/* made: the image as a reference sends it */
	char sha256[DIGEST_HEX_LEN + 1];	/* of bytes */
	struct genframe *newer, *older;
};

struct genframes {
	struct genframe *newest, *oldest;
	size_t count, bytes;
	unsigned long settled;	/* frames settled so far: a waiter looks
				 * again only when it has grown */
};

/* Enter the record read as number `seq` (session, turn): pending. */
struct genframe *genframe_expect(struct genframes *t, const char *session,
    long long turn, unsigned long seq);

/* Settle a pending frame: made, with the image (stripped of its imgp:
 * chunks), or failed (image NULL). */
void genframe_settle(struct genframes *t, struct genframe *f,
    const struct buf *image);

/* The frame of (session, turn) of the latest record read before `seq`, or
 * NULL when there is none in memory. */
const struct genframe *genframe_find(const struct genframes *t,
    const char *session, long long turn, unsigned long seq);

void genframes_free(struct genframes *t);

#endif
