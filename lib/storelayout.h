/*
 * storelayout — the names in a store (design.md §2) that more than one
 * stage writes or reads: imgp-store and imgp-gen's request cache lay
 * objects out alike and leave the same temporary names behind a crash.
 *
 *	<store>/ab/ab12…ef.png			an object: the SHA-256 of its
 *						bytes and the extension of its
 *						type, under its first two digits
 *	<store>/sessions/<session>.ndjson	journals (journal.h)
 *	<store>/requests/<k2>/<key>.json	request files (reqcache.h)
 *	<dir>/.tmp-…				a write in progress
 */
#ifndef IMGP_STORELAYOUT_H
#define IMGP_STORELAYOUT_H

#include "buf.h"

/* The start of a temporary file's name, so that --check recognises what
 * an interrupted write left. */
#define STORE_TEMP_PREFIX ".tmp-"

/* Names are refused beyond this: a name must fit in a journal line and a
 * URL. */
#define STORELAYOUT_NAME_MAX 1024

/*
 * Why a path relative to the store may not name an object (it is empty,
 * absolute, longer than STORELAYOUT_NAME_MAX, has an empty, "." or ".."
 * or hidden segment, a control character, or is under sessions/ or
 * requests/), or NULL when it may.  What imgp-store writes under a name,
 * what a journal line may point a reader at (journal.h) and what imgp-url
 * makes a link to all pass this one rule.
 */
const char *storelayout_name_problem(const char *rel);

/* Append the content address of an object, "ab/<sha>.<ext>", to `rel`. */
void storelayout_object_name(struct buf *rel, const char *sha,
    const char *ext);

/* Whether `rel` is a content address, "ab/<64 hex>.<ext>"; its hex digest
 * then goes to sha (65 bytes). */
int storelayout_content_name(const char *rel, char *sha);

/* Whether the store `dir` exists as a directory, for the modes and tools
 * that read a store rather than write one: 0, or 2 (their exit status)
 * after a diagnostic.  An s3:// store is 0: its first request tells. */
int storelayout_dir_usable(const char *dir);

#endif
