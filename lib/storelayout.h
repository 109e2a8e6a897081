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

/* Append the content address of an object, "ab/<sha>.<ext>", to `rel`. */
void storelayout_object_name(struct buf *rel, const char *sha,
    const char *ext);

/* Whether `rel` is a content address, "ab/<64 hex>.<ext>"; its hex digest
 * then goes to sha (65 bytes). */
int storelayout_content_name(const char *rel, char *sha);

/* Whether the store `dir` exists as a directory, for the modes and tools
 * that read a store rather than write one: 0, or 2 (their exit status)
 * after a diagnostic. */
int storelayout_dir_usable(const char *dir);

#endif
