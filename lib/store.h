/*
 * store — imgp-store: images into the content-addressed store, with a
 * journal line per stored record (design.md §2), and checking a store.
 *
 *	<store>/ab/ab12…ef.png             named by the SHA-256 of its bytes
 *	<store>/<expanded --name template>  or a readable name
 *	<store>/sessions/<session>.ndjson   one journal line per stored record
 *
 * An object is written to a temporary file in its directory (named
 * STORE_TEMP_PREFIX…, storelayout.h, so that --check recognises what a
 * crash left), fsync'd,
 * renamed into place, and its directory fsync'd: a name in the store always
 * holds whole bytes.  A readable name is never replaced (renameat2
 * RENAME_NOREPLACE, or link(2) where the file system lacks it).
 */
#ifndef IMGP_STORE_H
#define IMGP_STORE_H

#include "buf.h"
#include "rec.h"
#include "s3.h"

/* The most of a record's own members a journal line keeps ("judge"). */
#define STORE_JUDGE_MAX 65536

struct store {
	const char *dir;
	int root;			/* -1 until the first record opens it */
	int sessions;			/* its sessions/, opened with root */
	const char *name_template;	/* NULL: content-addressed names */
	int keep_data;			/* keep image.data in the output */
	int embed;			/* PNGs get imgp: text chunks */
	int no_fsync;			/* unsafe: a crash may lose images */
	struct s3 *s3;			/* an s3:// store: store_open */
};

/*
 * Open the store for writing: for an s3:// store (design.md §2 "A store
 * on S3"), its client with the AWS_* environment; a directory is opened on
 * the first record.  0, or -1 with the reason in `why` (a setup error).
 *
 * On S3 the objects have the keys a local store's files have.  A content
 * address already there with its size is not written again; a readable
 * name goes with If-None-Match: *, and, for the servers that ignore it,
 * after a GET found none or the same bytes: two writers putting different
 * bytes under one new name at the same moment may still leave the later
 * one (design.md §2).  The journal line is its own object (journal.h).
 * A request the server answers with 500 or 503, or that the network
 * fails, after its retries (s3.h), is a retryable io error; a PUT is
 * atomic, so none leaves part of an object under its key.
 */
int store_open(struct store *s, struct buf *why);
void store_close(struct store *s);

/*
 * Check a --name template: its fields ({session}, {turn}, {turn:0N},
 * {sha256}, {sha8}, {ext}) and that what it expands to stays in the store.
 * 0, or -1 with *why set to a static description.
 */
int store_template_check(const char *template, const char **why);

/*
 * A filter_fn (filter.h): store the record's image.data and add `asset`;
 * image.data is dropped from the output unless keep_data.  With embed, a
 * PNG is stored with the record's provenance (provenance.h) written into
 * it, and `asset` (and kept image.data) are of those bytes.  On failure the
 * record gets an `error` (io, not_an_image, exists, invalid_field,
 * missing_field) and keeps image.data, so re-running the stage on it
 * completes the work.  `ctx` is a struct store, root -1 at first: the
 * store's directory is opened (and made) on the first record.
 */
int store_record(void *ctx, const struct rec *r, struct buf *out);

/*
 * The store's lock, flock(2) on its directory (made if missing): writers
 * hold it shared (LOCK_SH) from putting an object to appending its journal
 * line, --gc and --delete-session exclusive (LOCK_EX) while they remove
 * what no journal line references, so that nothing a writer is about to
 * reference goes.  The descriptor to close, or -1 with errno set and
 * `failed` (if not NULL) saying what failed.
 */
int store_lock(const char *dir, int how, struct buf *failed);

/*
 * imgp-store --check: verify the store at `dir` and print each problem and
 * a summary line on standard output (out.h).  Temporary files changed in
 * the last `grace` seconds are taken for writes going on and left alone;
 * older ones no writer holds are leftovers of interrupted writes, and with
 * `repair` removed, as is a journal's last line torn by a killed writer.
 * A directory without sessions/ or requests/ is not a store: exit 2,
 * nothing touched.  Returns the exit status: 0 clean, 1 problems (or
 * output failed), 2 the store cannot be read at all.
 */
int store_check(const char *dir, int repair, long long grace);

/* The grace period of --check when none is given: an hour. */
#define STORE_CHECK_DEFAULT_GRACE 3600

/*
 * imgp-store --export: print the journal of `session` as records that
 * imgp-enrich and imgp-gen take, one per turn (its latest line), in turn
 * order: the judge's own members as written (the line's "judge"; else
 * session, turn and image_prompt) and "request":{"prompt","seed", the
 * image options}, members the journal lacks left out.  Returns the exit status: 0, 1 when
 * the journal cannot be read or output failed.
 */
int store_export(const char *dir, const char *session);

#endif
