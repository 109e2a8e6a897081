/*
 * refroot — the directories a record's reference images may be read from.
 *
 * A record's `request.references[].path` is written by whoever wrote the
 * record (a language model, through imgp-enrich, which keeps a record's own
 * `request`), so imgp-gen opens one only beneath an allowed root: the
 * store, the profile's directory and each --reference-root.  The path,
 * made absolute against the working directory and with its "." and ".."
 * segments resolved as written, must lie under a root (as given, or as
 * its real path); the rest is opened beneath the root's descriptor without
 * following any symbolic link (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS,
 * else one O_NOFOLLOW openat per component), without blocking (a FIFO is
 * never waited on), and must be a regular file of at most the byte limit.
 *
 * A root that cannot be opened yet (the store before its first image) is
 * tried again at the next reference.
 */
#ifndef IMGP_REFROOT_H
#define IMGP_REFROOT_H

#include <stddef.h>

#include "buf.h"

struct refroot_set;

/* An empty set whose files may be at most `max_bytes`. */
struct refroot_set *refroot_new(size_t max_bytes);

/* Allow the directory `dir`.  With `must_exist`, one that cannot be opened
 * is exit 2 naming `option`. */
void refroot_add(struct refroot_set *s, const char *dir, const char *option,
    int must_exist);

/*
 * Read the reference file `path` into `bytes`: 0, or -1 with the reason in
 * `why`.  Outside every root, whatever the file (missing, a device, a
 * FIFO, a link), the reason is the same: nothing is learnt about files
 * outside the roots.
 */
int refroot_read(struct refroot_set *s, const char *path, struct buf *bytes,
    struct buf *why);

void refroot_free(struct refroot_set *s);

#endif
