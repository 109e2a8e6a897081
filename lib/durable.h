/*
 * durable — the file system calls that make the store crash-safe.
 *
 * fsync(2) of a file does not persist its name: the directory holding a
 * new entry (a new directory, a renamed object, a new journal) has to be
 * fsync'd as well (design.md §7).  These helpers do that in one place, for
 * imgp-store's objects and its journals and imgp-gen's request cache.
 */
#ifndef IMGP_DURABLE_H
#define IMGP_DURABLE_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* fsync the directory that holds `path` ("." for a bare name).  0, or -1
 * with errno set. */
int durable_sync_parent(const char *path);

/*
 * Open the directory `path` (O_DIRECTORY, close-on-exec), first creating
 * it and any missing parents (mode 0755 less the umask).  With `sync`,
 * every directory created is made durable in its parent.  Returns the
 * descriptor, or -1 with errno set and `failed` (if not NULL) holding the
 * directory that could not be made or opened.
 */
int durable_open_dir(const char *path, int sync, struct buf *failed);

/*
 * openat(2) of `rel`, a path relative to the directory `rootfd`, that
 * never goes through a symbolic link (the last component included) and
 * never leaves the root: openat2(2) with RESOLVE_BENEATH and
 * RESOLVE_NO_SYMLINKS where the kernel has it (Linux 5.6), else one
 * O_NOFOLLOW open per component.  A store may be shared: a link planted in
 * it must not make a writer write, or a reader read, outside it.  Returns
 * the descriptor, or -1 with errno set (ELOOP for a link, EXDEV for a path
 * that leaves the root: absolute, or with a ".." segment).
 */
int durable_open_beneath(int rootfd, const char *rel, int flags, mode_t mode);

/*
 * durable_open_dir for the directory `rel` beneath `rootfd` ("" is the
 * root itself), made with its missing parents, with the rules of
 * durable_open_beneath: a directory that is a symbolic link is never
 * entered.  -1 with errno set and `failed` (if not NULL) naming the
 * directory, relative to the root, that could not be made or opened.
 */
int durable_open_dir_beneath(int rootfd, const char *rel, int sync,
    struct buf *failed);

/* Flags of durable_put() and durable_putat(). */
#define DURABLE_NO_REPLACE	1	/* an existing `name` is EEXIST */
#define DURABLE_NO_SYNC		2	/* unsafe: no fsync (--no-fsync) */

/*
 * Put data[0..len) under `name` in the directory `dir` (a relative path,
 * made if missing) of the directory `root` (made if missing, opened as
 * given), so that the name only ever holds whole bytes: a temporary file
 * named `tmp_prefix`… in that directory, locked while it is written
 * (imgp-store --check --repair leaves a locked one alone), fsync'd,
 * renamed to `name`, then the directory fsync'd.  `dir` is reached from
 * `root` as durable_open_dir_beneath does, never through a symbolic link.
 * The rename replaces what `name` held, unless `flags` has
 * DURABLE_NO_REPLACE: then it never does (renameat2 RENAME_NOREPLACE, or
 * link(2) where the file system lacks it) and fails with EEXIST.  0, or -1
 * with errno set and `failed` saying what failed.
 */
int durable_put(const char *root, const char *dir, const char *name,
    const char *tmp_prefix, const void *data, size_t len, int flags,
    struct buf *failed);

/* durable_put() into the open directory dfd, which `dir` names (for
 * `failed`). */
int durable_putat(int dfd, const char *dir, const char *name,
    const char *tmp_prefix, const void *data, size_t len, int flags,
    struct buf *failed);

#endif
