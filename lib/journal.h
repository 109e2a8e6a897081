/*
 * journal — a session's journal in the store (design.md §2): appending, for
 * imgp-store, and reading.
 *
 * imgp-store appends one line per stored image to
 * <store>/sessions/<session>.ndjson.  imgp-enrich reads it for the "previous
 * frame" and the history of a session, imgp-gen for --on-failure previous.
 * Beside it imgp-gen keeps the session's spend ledger, for
 * --session-budget (journal_spend).
 * A journal is read from its end backwards and only the few entries asked
 * for are kept, so a turn costs the same at turn 10,000 as at turn 10, and
 * a long session's journal is never held in memory.
 *
 * When a turn was stored more than once (a re-generated turn), its last
 * line wins.  Lines that do not parse, or lack a turn, are skipped: they
 * are imgp-store --check's business, not the reader's.
 */
#ifndef IMGP_JOURNAL_H
#define IMGP_JOURNAL_H

#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "rec.h"

/* A session's files in <store>/sessions/: its journal, written by
 * imgp-store, and its spend ledger, written by imgp-gen. */
#define JOURNAL_EXT		".ndjson"
#define JOURNAL_SPEND_EXT	".spent"

struct journal_entry {
	long long turn;
	char sha256[DIGEST_HEX_LEN + 1];	/* "" when the line had none */
	char *path;		/* relative to the store; "" when unusable */
	char *image_prompt;	/* "" when the line had none */
	char *prompt;		/* request.prompt; NULL when it had none */
	long long seed;		/* request.seed; -1 when it had none */
	/* With journal_view.with_judge: the line's "judge" and "options"
	 * objects as written (imgp-store writes them), else NULL. */
	char *judge;
	char *options;
};

struct journal_view {
	/* Entries for the latest turns before the turn asked about, one per
	 * turn, in ascending turn order: the last one is the previous frame. */
	struct journal_entry *entries;
	size_t n;
	int with_judge;		/* set before journal_scan: keep judge and
				 * options (--export) */
};

/* Whether `name` is a valid session name: [A-Za-z0-9._-]{1,128}, not "."
 * or "..", so that it is safe as a file name.  Inline, so that a tool
 * that only checks a name (imgp-url) does not link the journal's readers,
 * and with them S3's requests and libcurl. */
static inline int
journal_session_valid(const char *name)
{
	size_t n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

	return n > 0 && n <= 128 && name[n] == '\0' &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/*
 * Read a record's `session` and `turn` (design.md §1), which place it in a
 * journal.  On a problem, append the record with a missing_field or
 * invalid_field error to `out` and return -1.
 */
int journal_record_key(const struct rec *r, struct buf *out,
    const char **session, long long *turn);

/* The journal file of `session` in `store` (malloc'd); on S3, the prefix
 * of its lines' keys. */
char *journal_path(const char *store, const char *session);

/*
 * Append `line` (len bytes, a JSON object, no newline) to the journal of
 * `session` in the directory dirfd (the store's sessions/), creating it
 * (mode 0644 less the umask) if needed; a symbolic link or anything but a
 * regular file there is refused.  Many processes may append to one
 * journal at once: under an exclusive flock(2), the journal is first
 * sealed (a line torn by a killed writer is closed if it is whole but for
 * its newline, else cut off: see journal_repair), then the line goes out
 * in a single write(2) with a last member added, "totals": the session's
 * highest turn, the sum of the costs that are numbers and the count of
 * the others, up to and including this line, so that readers need not
 * read the whole journal.  A write that fails part way is cut off again.
 * With `sync`, the data and (for a new journal) its directory entry are
 * fsync'd.  Returns 0, or -1 with errno set.
 */
int journal_append(int dirfd, const char *session, const char *line,
    size_t len, int sync);

/*
 * imgp-store --check --repair: seal the journal `name` in the directory
 * dirfd, as the next append would, and fsync it.  Returns the bytes of a
 * torn last line that were cut off (0: none), or -1 with errno set.
 */
long long journal_repair(int dirfd, const char *name);

/*
 * Find the entries of the `keep` (at least 1; SIZE_MAX: all) latest turns
 * before `before_turn`, reading the journal from its end backwards: in
 * the common case, where turns are appended in order, only the last lines
 * are read; out-of-order and repeated turns read further back, as far as
 * the lines' totals say an earlier line may still matter.  Memory grows
 * with the turns kept, not the lines.  A journal (or store) that does not
 * exist is an empty one; the journal is opened beneath the store without
 * following symbolic links.  An entry's path is "" unless it is a
 * relative path without empty, dot-led ("." "..", hidden) segments or
 * control characters: a journal line cannot point a reader outside the
 * store.  Returns 0, or -1 with errno set when
 * the journal cannot be read.
 */
int journal_scan(const char *store, const char *session, long long before_turn,
    size_t keep, struct journal_view *view);

/*
 * Call fn(line, arg) for each strictly valid line of the journal of
 * `session` whose turn may be below `before_turn` (LLONG_MAX: every line),
 * parsed (the value is freed after the call).  A journal that does not
 * exist has no lines.  0, or -1 with errno set when it cannot be read.
 */
int journal_each(const char *store, const char *session, long long before_turn,
    void (*fn)(jv line, void *arg), void *arg);

/*
 * The sessions of the store: the names of sessions/<session>.ndjson that
 * are valid session names and regular files (not symbolic links), sorted,
 * malloc'd in *names (free with journal_sessions_free).  The other
 * *.ndjson entries are counted in *skipped when it is not NULL (--gc
 * will not decide what no journal references while one is unread).  A
 * store without sessions/ has none.  0, or -1 with errno set.
 */
int journal_sessions(const char *store, char ***names, size_t *n,
    size_t *skipped);
void journal_sessions_free(char **names, size_t n);

/*
 * What imgp-gen has paid for a session (design.md §4.4), kept in its spend
 * ledger <store>/sessions/<session>.spent beside the journal: one line
 * per answer that imgp-gen received for a record of the session,
 *	{"turn":N,"request_key":K,"cost":C,"at":T,"totals":{...}}
 * with `turn` left out when the record had none and `cost` null when the
 * answer reported none, appended like a journal line (under the lock,
 * sealed, with the totals of journal_append: `max_turn` is -1 while no
 * line had a turn).  Only imgp-gen writes it, from provider answers: the
 * journal's `cost` members are what records said, which anyone feeding
 * imgp-store can write, so a budget never reads them.
 */
struct journal_cost {
	double spent;		/* the sum of the costs that are numbers */
	unsigned long unknown;	/* answers that reported no cost */
};

/* Append an answer of `cost` (negative: none reported) for the record of
 * `turn` (-1: none) and `request_key` to the session's ledger, making
 * sessions/ if need be (and the store, with `make_store`; else a store
 * that does not exist is ENOENT), and fsync it; *after gets the ledger's
 * totals with it (other runs' answers included).  0, or -1 with errno
 * set (EOPNOTSUPP on an s3:// store, which keeps no ledger yet). */
int journal_spend(const char *store, const char *session, long long turn,
    const char *request_key, double cost, int make_store,
    struct journal_cost *after);

/*
 * What the session's ledger says it has spent: the totals of its last
 * line, so O(1) however long the session.  A ledger that does not exist
 * has spent nothing.  0, or -1 with errno set when it cannot be read
 * (EOPNOTSUPP on an s3:// store).
 */
int journal_session_cost(const char *store, const char *session,
    struct journal_cost *cost);

/*
 * On an s3:// store (design.md §2 "A store on S3") an object cannot be
 * appended to: each line is its own object,
 *
 *	sessions/<session>/<R>-<T>-<U>.json
 *
 * R is 2^53-1 minus the turn in 16 digits, T 2^64-1 minus the time it
 * was stored in nanoseconds in 20 digits, U 16 random hex digits: keys
 * sort by turn descending and, within a turn, newest first, and two
 * writers never make the same key.  A listing from the turn asked about
 * (start-after) thus meets the lines in the order a backwards read of a
 * local journal does, and stops after the turns it keeps.  The object
 * holds the line as a local journal has it, but for "totals", which no
 * writer can know without a lock.  Every reader above (journal_scan,
 * journal_each, journal_sessions) takes an s3:// store and reads it so;
 * on a failed request it says why on standard error and fails with errno
 * EIO.  A spend ledger is not kept on S3 yet.
 */
#define JOURNAL_KEY_SUFFIX ".json"

/* Append the key of a new line of `session`'s `turn` to `key`. */
void journal_object_key(struct buf *key, const char *session, long long turn);

/* The turn of a line's key ("sessions/<session>/…", relative to the
 * store), its session appended to `session` when not NULL; -1 when the
 * key is no line's (nor of a valid session). */
long long journal_object_turn(const char *key, struct buf *session);

/* The previous frame: the latest entry of the view, or NULL. */
const struct journal_entry *journal_previous(const struct journal_view *view);

void journal_view_free(struct journal_view *view);

#endif
