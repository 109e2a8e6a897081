/*
 * storeobj — one object of a store, a directory or an s3:// store
 * (design.md §2), read whole or written whole, for the stages that use a
 * store beside imgp-store: imgp-gen's request cache (reqcache.h) and its
 * previous frame.
 *
 * `rel` is a path relative to the store ("ab/ab12…ef.png",
 * "requests/…"); on S3 it is the key below the store's prefix.  Every
 * call on S3 sets up its own client from the AWS_* environment (s3.h).
 */
#ifndef IMGP_STOREOBJ_H
#define IMGP_STOREOBJ_H

#include <stddef.h>

#include "buf.h"

/* Read the object `rel` of at most `max` bytes into `bytes` (replacing
 * what it held): 0, or -1 with the reason in `why` (when not NULL) and
 * errno set (ENOENT: no such object). */
int storeobj_read(const char *store, const char *rel, size_t max,
    struct buf *bytes, struct buf *why);

/* Whether the object `rel` holds `len` bytes of SHA-256 `sha` (on S3, a
 * content address's size is enough: its name says what it holds). */
int storeobj_holds(const char *store, const char *rel, size_t len,
    const char *sha);

/* Write data[0..len) as the object `rel` (MIME `type` on S3): locally
 * durable_put's temporary file, fsync and rename, making its directory;
 * on S3 one atomic PUT.  0, or -1 with the reason in `why`. */
int storeobj_put(const char *store, const char *rel, const void *data,
    size_t len, const char *type, struct buf *why);

#endif
