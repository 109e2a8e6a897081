/*
 * storegc — imgp-store --delete-session, --prune and --gc: sessions that
 * end and the space that comes back.
 *
 * Deleting a session removes its journal and the named images (--name)
 * its lines reference that no other journal references; content-addressed
 * objects are left to --gc.  It holds the store's lock exclusively
 * (store_lock) and the journal's flock, so a writer appending to the
 * session at that moment either lands before (and its line goes with the
 * session) or starts the session's new journal (journal_append).
 *
 * --gc removes the content-addressed objects (ab/<sha256>.<ext>) and
 * imgp-gen's request files (requests/, reqcache.h) that no journal line
 * references, by its sha256, path or request_key, once they are older
 * than the grace period.  A writer stores (or touches) its object before
 * it appends the line that references it, and --gc reads the journals
 * before it looks at the objects' ages: an object whose line it missed was
 * stored less than the grace period ago, unless its writer took longer
 * than that from object to line.  The removal itself is under the store's
 * lock, so that a writer cannot touch an object between --gc's last look
 * at it and its removal.
 *
 * Nothing is followed out of the store: symbolic links are neither
 * followed nor removed, a path with a "." or ".." segment is refused.
 * Each removal (or, with dry_run, each that would be) is a line on
 * standard output, the path relative to the store, then a summary line.
 * The functions return the exit status: 0, 1 when something could not be
 * read or removed (or output failed), 2 when the store cannot be read.
 */
#ifndef IMGP_STOREGC_H
#define IMGP_STOREGC_H

/* The grace period of --gc when none is given: a day. */
#define STOREGC_DEFAULT_GRACE (24 * 3600)

struct storegc {
	const char *dir;
	int dry_run;
	long long grace;	/* --gc: seconds */
	long long older_than;	/* --prune: seconds */
};

/* imgp-store --delete-session: the session `session` (a valid name). */
int storegc_delete(const struct storegc *g, const char *session);

/* imgp-store --prune: every session whose last journal line (its
 * stored_at, else the journal's modification time) is older than
 * g->older_than seconds. */
int storegc_prune(const struct storegc *g);

/* imgp-store --gc. */
int storegc_collect(const struct storegc *g);

#endif
