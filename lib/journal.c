#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "digest.h"
#include "durable.h"
#include "jqx.h"
#include "json.h"
#include "s3.h"
#include "storelayout.h"
#include "xalloc.h"

int
journal_record_key(const struct rec *r, struct buf *out, const char **session,
    long long *turn)
{
	jv s = rec_get(r, "session"), t = rec_get(r, "turn");

	if (!jqx_present(s)) {
		rec_field_error(r, out, "missing_field", "session",
		    "the record has no session");
		return -1;
	}
	*session = jqx_str(s, NULL);
	if (*session == NULL || !journal_session_valid(*session)) {
		rec_field_error(r, out, "invalid_field", "session", "session "
		    "must be a string of 1 to 128 of A-Z a-z 0-9 . _ - (not . "
		    "or ..)");
		return -1;
	}
	if (!jqx_present(t)) {
		rec_field_error(r, out, "missing_field", "turn",
		    "the record has no turn");
		return -1;
	}
	if (!jqx_int(t, 0, JQX_MAX_EXACT, turn)) {
		rec_field_error(r, out, "invalid_field", "turn",
		    "turn must be a whole number from 0 to 2^53-1");
		return -1;
	}
	return 0;
}

char *
journal_path(const char *store, const char *session)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, s3loc_is_uri(store) ? "%s/sessions/%s/" :
	    "%s/sessions/%s" JOURNAL_EXT, store, session);
	return buf_detach(&path, NULL);
}

/* Read size bytes at off, all of them (the journal is locked: it does not
 * shrink meanwhile).  0, or -1 with errno set. */
static int
read_at(int fd, char *to, size_t size, off_t off)
{
	while (size > 0) {
		ssize_t n = pread(fd, to, size, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		to += n;
		size -= (size_t)n;
		off += n;
	}
	return 0;
}

/*
 * A journal read from its end backwards, a line at a time (design.md §2): a
 * turn reads what it needs, the last lines, not the whole session.
 * Blocks are read before what is held and grow with the line being read,
 * so a line of any length costs time linear in its length.
 */
struct backwards {
	int fd;
	off_t start;		/* the file offset of buf.data[0] */
	struct buf buf;		/* [start, start + buf.len): not returned yet,
				 * the next line to return at its end */
	int begun, done;
	int keep_tail;		/* an unterminated last line is a line */
};

#define BLOCK 65536
/* The least read from the end: a turn wants the last few lines (about a
 * kilobyte each), and copying 64 KiB for them on every record would cost
 * more than the rest of reading them. */
#define BACK_BLOCK 8192

static void
backwards_init(struct backwards *b, int fd, off_t size, int keep_tail)
{
	*b = (struct backwards){ .fd = fd, .start = size, .buf = BUF_INIT,
	    .keep_tail = keep_tail };
}

/* Read the block before what is held: 1, 0 at the start of the file, -1
 * with errno set. */
static int
refill(struct backwards *b)
{
	size_t want = b->buf.len > BACK_BLOCK ? b->buf.len : BACK_BLOCK;
	struct buf more = BUF_INIT;

	if (b->start == 0)
		return 0;
	if ((off_t)want > b->start)
		want = (size_t)b->start;
	buf_grow(&more, want + b->buf.len);
	if (read_at(b->fd, more.data, want, b->start - (off_t)want) < 0) {
		buf_free(&more);
		return -1;
	}
	more.len = want;
	buf_add(&more, b->buf.data, b->buf.len);
	buf_free(&b->buf);
	b->buf = more;
	b->start -= (off_t)want;
	return 1;
}

/* Before the first line: drop the newline that ends the file, or, unless
 * keep_tail, the unterminated line a killed writer left (a reader never
 * takes a line that no one finished). */
static int
backwards_begin(struct backwards *b)
{
	char *nl;
	int got;

	b->begun = 1;
	if ((got = refill(b)) <= 0) {
		b->done = 1;
		return got;
	}
	if (b->buf.data[b->buf.len - 1] == '\n') {
		b->buf.len--;
		return 0;
	}
	while (!b->keep_tail) {
		if ((nl = memrchr(b->buf.data, '\n', b->buf.len)) != NULL) {
			b->buf.len = (size_t)(nl - b->buf.data);
			return 0;
		}
		if ((got = refill(b)) <= 0) {
			b->done = 1;
			return got;
		}
	}
	return 0;
}

/* The line before the last one returned (at first the last line), without
 * its newline, valid until the next call: 1, 0 when there is none left,
 * -1 with errno set. */
static int
backwards_line(struct backwards *b, const char **line, size_t *len)
{
	char *nl;
	int got;

	if (!b->begun && backwards_begin(b) < 0)
		return -1;
	while (!b->done) {
		if ((nl = memrchr(b->buf.data, '\n', b->buf.len)) != NULL) {
			*line = nl + 1;
			*len = b->buf.len - (size_t)(nl + 1 - b->buf.data);
			b->buf.len = (size_t)(nl - b->buf.data);
			return 1;
		}
		if ((got = refill(b)) < 0)
			return -1;
		if (got == 0) {
			*line = b->buf.data;
			*len = b->buf.len;
			b->done = 1;
			return 1;
		}
	}
	return 0;
}

static void
backwards_free(struct backwards *b)
{
	buf_free(&b->buf);
}

/*
 * What a session's journal holds up to and including a line, written in
 * the line as its last member,
 *	"totals":{"max_turn":M,"spent":S,"unknown":U}
 * by journal_append under the journal's lock, from the line before it.
 * So the session's cost is in its last line, and a backwards scan knows
 * when no earlier line can matter (design.md §2).  A line is written whole or
 * not at all (a torn one is sealed away), so a crash cannot make totals
 * lie; a journal written before them is read from the start, as before.
 */
struct totals {
	long long max_turn;	/* -1: no line yet */
	double spent;		/* the sum of the costs that are numbers >= 0 */
	unsigned long long unknown;	/* lines with any other cost */
};

/* A plain whole number as written, or -1. */
static long long
plain_whole(const struct json_member *m)
{
	long long n = 0;
	size_t i;

	if (m == NULL || m->value_len == 0 || m->value_len > 16)
		return -1;
	for (i = 0; i < m->value_len; i++) {
		if (m->value[i] < '0' || m->value[i] > '9')
			return -1;
		n = n * 10 + (m->value[i] - '0');
	}
	return n <= (long long)JQX_MAX_EXACT ? n : -1;
}

/* A member's whole number from 0 to 2^53-1 (of a line that
 * json_scan_object accepted), as libjq reads it, or -1. */
static long long
member_whole(const struct json_member *m)
{
	long long n = plain_whole(m);
	jv v;

	if (n >= 0 || m == NULL)
		return n;
	/* Written another way (3.0, 3e0): as libjq reads it. */
	v = jqx_parse(m->value, m->value_len);
	if (!jqx_int(v, 0, JQX_MAX_EXACT, &n))
		n = -1;
	jqx_free(v);
	return n;
}

/* A line's turn, or -1 when it has none that is a whole number from 0 to
 * 2^53-1. */
static long long
line_turn(const struct json_members *members)
{
	return member_whole(json_find(members, "turn"));
}

static double
number_value(const struct json_member *m)
{
	if (m == NULL || m->value_len == 0 ||
	    !(m->value[0] == '-' || (m->value[0] >= '0' && m->value[0] <= '9')))
		return NAN;
	return strtod(m->value, NULL);
}

/* Add a line of `turn` (-1: none) and `cost` (NAN: not a number). */
static void
totals_add(struct totals *t, long long turn, double cost)
{
	if (turn > t->max_turn)
		t->max_turn = turn;
	/* A cost that is not a number, negative, or would make the sum
	 * infinite is not a cost that can be added up. */
	if (cost >= 0 && isfinite(t->spent + cost))
		t->spent += cost;
	else
		t->unknown++;
}

static void
totals_add_line(struct totals *t, const struct json_members *members)
{
	totals_add(t, line_turn(members), number_value(json_find(members,
	    "cost")));
}

/* The totals a line carries: 1, or 0 when it has none (or none that make
 * sense). */
static int
line_totals(const struct json_members *members, struct totals *t)
{
	const struct json_member *m = json_find(members, "totals"), *max_turn;
	struct json_members in = JSON_MEMBERS_INIT;
	long long unknown;
	int no_turn;

	if (m == NULL || m->value[0] != '{')
		return 0;
	json_members_of(m->value, m->value_len, &in);
	max_turn = json_find(&in, "max_turn");
	/* -1: no line so far had a turn (a spend ledger's need not). */
	no_turn = number_value(max_turn) == -1;
	t->max_turn = no_turn ? -1 : plain_whole(max_turn);
	t->spent = number_value(json_find(&in, "spent"));
	unknown = plain_whole(json_find(&in, "unknown"));
	json_members_free(&in);
	if ((t->max_turn < 0 && !no_turn) || unknown < 0 ||
	    !(t->spent >= 0) || !isfinite(t->spent))
		return 0;
	t->unknown = (unsigned long long)unknown;
	return 1;
}

/* The totals of a journal of `size` bytes (locked) from its first line:
 * for journals written before lines had totals.  Lines that do not parse,
 * and an unterminated last one, count for nothing, as for every reader. */
static int
totals_from_start(int fd, off_t size, struct totals *t)
{
	struct json_members members = JSON_MEMBERS_INIT;
	struct buf block = BUF_INIT, line = BUF_INIT;
	const char *why;
	size_t where, i;
	off_t at = 0;
	int status = 0;

	*t = (struct totals){ .max_turn = -1 };
	buf_grow(&block, BLOCK);
	while (at < size && status == 0) {
		size_t n = size - at > BLOCK ? BLOCK : (size_t)(size - at);

		if ((status = read_at(fd, block.data, n, at)) < 0)
			break;
		at += (off_t)n;
		for (i = 0; i < n; i++) {
			const char *nl = memchr(block.data + i, '\n', n - i);
			size_t part = nl ? (size_t)(nl - block.data) - i : n - i;

			buf_add(&line, block.data + i, part);
			i += part;
			if (nl == NULL)
				break;
			if (json_scan_object(line.data, line.len, &members,
			    &why, &where) == 0)
				totals_add_line(t, &members);
			buf_reset(&line);
		}
	}
	buf_free(&block);
	buf_free(&line);
	json_members_free(&members);
	return status;
}

/* The totals of a journal of `size` bytes (locked) that ends with a
 * newline: those of its last valid line, which are all that is read
 * unless it predates totals. */
static int
journal_totals(int fd, off_t size, struct totals *t)
{
	struct json_members members = JSON_MEMBERS_INIT;
	struct backwards b;
	const char *line, *why;
	size_t len, where;
	int got, status = -1;

	*t = (struct totals){ .max_turn = -1 };
	backwards_init(&b, fd, size, 0);
	while ((got = backwards_line(&b, &line, &len)) > 0)
		if (json_scan_object(line, len, &members, &why, &where) == 0)
			break;
	if (got == 0)
		status = 0;	/* no valid line: nothing yet */
	else if (got > 0)
		status = line_totals(&members, t) ? 0 :
		    totals_from_start(fd, size, t);
	backwards_free(&b);
	json_members_free(&members);
	return status;
}

/* Put the shortest decimal form of d that reads back as d. */
static void
put_double(struct buf *b, double d)
{
	char text[32];
	int digits;

	for (digits = 15; digits < 17; digits++) {
		snprintf(text, sizeof(text), "%.*g", digits, d);
		if (strtod(text, NULL) == d)
			break;
	}
	buf_printf(b, "%.*g", digits, d);
}

/*
 * With the journal locked, make it end with a whole line again, as the
 * next append or imgp-store --check --repair does (design.md §2): a
 * writer killed inside its write(2) leaves a line without its newline.
 * If what it left is a whole JSON object only the newline is missing, and
 * is added; else the torn bytes are cut off, for no one finished them
 * (and no record was output for them).  *size follows; *removed gets the
 * bytes cut off.  0, or -1 with errno set.
 */
static int
seal(int fd, off_t *size, size_t *removed)
{
	struct json_members members = JSON_MEMBERS_INIT;
	struct backwards b;
	const char *tail, *why;
	size_t len, where;
	char last;
	int status = -1;

	*removed = 0;
	if (*size == 0)
		return 0;
	if (read_at(fd, &last, 1, *size - 1) < 0)
		return -1;
	if (last == '\n')
		return 0;
	backwards_init(&b, fd, *size, 1);
	if (backwards_line(&b, &tail, &len) < 0)
		goto done;
	if (json_scan_object(tail, len, &members, &why, &where) == 0) {
		if (write(fd, "\n", 1) == 1) {
			(*size)++;
			status = 0;
		}
	} else if (ftruncate(fd, *size - (off_t)len) == 0) {
		*size -= (off_t)len;
		*removed = len;
		status = 0;
	}
done:
	backwards_free(&b);
	json_members_free(&members);
	return status;
}

/* Open and lock the journal `name` in the directory dirfd, never through
 * a symbolic link, and only a regular file; *st is its state once locked
 * (its size stays so while the lock is held). */
static int
open_locked(int dirfd, const char *name, int flags, int lock,
    struct stat *st)
{
	int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0644),
	    saved;

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0)
		goto fail;
	if (!S_ISREG(st->st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	while (flock(fd, lock) < 0)
		if (errno != EINTR)
			goto fail;
	if (fstat(fd, st) < 0)
		goto fail;
	/* imgp-store --delete-session removed the journal while we waited
	 * for its lock: an append starts the session's new journal. */
	if ((flags & O_CREAT) && st->st_nlink == 0) {
		close(fd);
		return open_locked(dirfd, name, flags, lock, st);
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Append `line` to the file `name` of the directory dirfd, with its
 * totals, as journal_append says; *t gets those totals. */
static int
append_with_totals(int dirfd, const char *name, const char *line, size_t len,
    int sync, struct totals *t)
{
	struct json_members members = JSON_MEMBERS_INIT;
	struct buf out = BUF_INIT;
	struct stat st;
	const char *why;
	size_t where, removed;
	ssize_t n;
	int fd, saved = 0, created;

	if (json_scan_object(line, len, &members, &why, &where) < 0) {
		json_members_free(&members);
		errno = EINVAL;
		return -1;
	}
	if ((fd = open_locked(dirfd, name, O_RDWR | O_APPEND | O_CREAT,
	    LOCK_EX, &st)) < 0)
		goto fail;
	if (seal(fd, &st.st_size, &removed) < 0 ||
	    journal_totals(fd, st.st_size, t) < 0)
		goto fail;
	created = st.st_size == 0;
	totals_add_line(t, &members);
	buf_add(&out, line, (size_t)(members.close - line));
	buf_printf(&out, ",\"totals\":{\"max_turn\":%lld,\"spent\":",
	    t->max_turn);
	put_double(&out, t->spent);
	buf_printf(&out, ",\"unknown\":%llu}}\n", t->unknown);
	/* One write(2): O_APPEND alone does not keep a multi-KB line whole
	 * against other writers, the lock does.  A short write (a full
	 * disk) is undone, so that no half line stays behind. */
	do
		n = write(fd, out.data, out.len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)out.len) {
		saved = n < 0 ? errno : ENOSPC;
		if (n > 0 && ftruncate(fd, st.st_size) < 0)
			saved = errno;
		goto fail;
	}
	if (sync) {
		flock(fd, LOCK_UN);	/* the fsync needs no lock */
		if (fsync(fd) < 0 || (created && fsync(dirfd) < 0))
			goto fail;
	}
	json_members_free(&members);
	buf_free(&out);
	return close(fd);
fail:
	if (saved == 0)
		saved = errno;
	json_members_free(&members);
	buf_free(&out);
	if (fd >= 0)
		close(fd);
	errno = saved;
	return -1;
}

int
journal_append(int dirfd, const char *session, const char *line, size_t len,
    int sync)
{
	struct buf name = BUF_INIT;
	struct totals t;
	int status;

	buf_printf(&name, "%s" JOURNAL_EXT, session);
	status = append_with_totals(dirfd, name.data, line, len, sync, &t);
	buf_free(&name);
	return status;
}

static int s3_spend(const char *, const char *, const struct buf *, double);

int
journal_spend(const char *store, const char *session, long long turn,
    const char *request_key, double cost, int make_store,
    struct journal_cost *after)
{
	struct buf name = BUF_INIT, line = BUF_INIT;
	struct totals t;
	int root = -1, dfd = -1, status = -1, saved;

	memset(after, 0, sizeof(*after));
	buf_putc(&line, '{');
	if (turn >= 0)
		buf_printf(&line, "\"turn\":%lld,", turn);
	buf_printf(&line, "\"request_key\":\"%s\",\"cost\":", request_key);
	if (cost >= 0)
		put_double(&line, cost);
	else
		buf_puts(&line, "null");
	buf_puts(&line, ",\"at\":");
	json_put_now(&line);
	buf_putc(&line, '}');
	/* Never as a local directory named "s3:". */
	if (s3loc_is_uri(store)) {
		status = s3_spend(store, session, &line, cost);
		goto done;
	}
	if ((root = make_store ? durable_open_dir(store, 1, NULL) :
	    open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto done;
	if ((dfd = durable_open_dir_beneath(root, "sessions", 1, NULL)) < 0)
		goto done;
	buf_printf(&name, "%s" JOURNAL_SPEND_EXT, session);
	if ((status = append_with_totals(dfd, name.data, line.data, line.len,
	    1, &t)) == 0) {
		after->spent = t.spent;
		after->unknown = (unsigned long)t.unknown;
	}
done:
	saved = errno;
	if (dfd >= 0)
		close(dfd);
	if (root >= 0)
		close(root);
	buf_free(&name);
	buf_free(&line);
	errno = saved;
	return status;
}

long long
journal_repair(int dirfd, const char *name)
{
	struct stat st;
	size_t removed = 0;
	int fd = open_locked(dirfd, name, O_RDWR | O_APPEND, LOCK_EX, &st),
	    saved;

	if (fd < 0)
		return -1;
	if (seal(fd, &st.st_size, &removed) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return (long long)removed;
}

static void
entry_free(struct journal_entry *e)
{
	free(e->path);
	free(e->image_prompt);
	free(e->prompt);
	free(e->judge);
	free(e->options);
}

/* A member's object value as written, or NULL. */
static char *
dup_object(const struct json_members *raw, const char *key)
{
	const struct json_member *m = json_find(raw, key);
	char *copy;

	if (m == NULL || m->value_len == 0 || m->value[0] != '{')
		return NULL;
	copy = xcheck(malloc(m->value_len + 1));
	memcpy(copy, m->value, m->value_len);
	copy[m->value_len] = '\0';
	return copy;
}

/* A member's string as a C string (up to a NUL it may hold, as a C
 * reader of libjq's value sees it), or NULL when it is no string. */
static char *
dup_string(const struct json_members *raw, const char *key)
{
	const struct json_member *m = json_find(raw, key);
	struct buf scratch = BUF_INIT;
	const char *s;
	size_t len;
	char *copy = NULL;

	if (m && json_string_value(m->value, m->value_len, &s, &len,
	    &scratch) == 0) {
		len = strnlen(s, len);
		copy = xcheck(malloc(len + 1));
		memcpy(copy, s, len);
		copy[len] = '\0';
	}
	buf_free(&scratch);
	return copy;
}

/* Read from the line's members as json.h found them: a journal line
 * carries the judge's record and the request, and libjq would build all
 * of it for the few members read here (every turn of every session). */
static void
entry_fill(struct journal_entry *e, long long turn,
    const struct json_members *raw, int with_judge)
{
	char *sha = dup_string(raw, "sha256");

	e->turn = turn;
	snprintf(e->sha256, sizeof(e->sha256), "%s",
	    sha && strlen(sha) == DIGEST_HEX_LEN ? sha : "");
	free(sha);
	if ((e->path = dup_string(raw, "path")) == NULL)
		e->path = xstrdup("");
	/* The path is used as a file in the store (a reference image, the
	 * image of --on-failure previous): one that could leave it, or
	 * name what is no image, is no path (design.md §2). */
	if (storelayout_name_problem(e->path))
		e->path[0] = '\0';
	if ((e->image_prompt = dup_string(raw, "image_prompt")) == NULL)
		e->image_prompt = xstrdup("");
	e->prompt = dup_string(raw, "prompt");
	e->seed = member_whole(json_find(raw, "seed"));
	e->judge = with_judge ? dup_object(raw, "judge") : NULL;
	e->options = with_judge ? dup_object(raw, "options") : NULL;
}

/* Open the journal of `session` (or, with `ext` JOURNAL_SPEND_EXT, its
 * spend ledger) for reading, beneath the store and never through a
 * symbolic link; with `lock`, under a shared lock (appends wait, so no
 * line is half there).  -1 with errno set (ENOENT: no journal, or no
 * store). */
static int
open_session_file(const char *store, const char *session, const char *ext,
    int lock)
{
	struct buf rel = BUF_INIT;
	int root, fd, saved;

	if ((root = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	buf_printf(&rel, "sessions/%s%s", session, ext);
	fd = durable_open_beneath(root, rel.data, O_RDONLY, 0);
	saved = errno;
	close(root);
	buf_free(&rel);
	if (fd >= 0 && lock && flock(fd, LOCK_SH) < 0) {
		saved = errno;
		close(fd);
		fd = -1;
	}
	errno = saved;
	return fd;
}

/* A line's key on S3 (journal.h): the turn, the time, the writer. */
#define KEY_TURN_DIGITS 16
#define KEY_TIME_DIGITS 20
#define KEY_RANDOM_BYTES 8
#define KEY_LEN (KEY_TURN_DIGITS + 1 + KEY_TIME_DIGITS + 1 + \
	2 * KEY_RANDOM_BYTES + sizeof(JOURNAL_KEY_SUFFIX) - 1)
/* A journal line on S3 is read whole; a local one may hold a judge of
 * 64 KiB and prompts, far below this. */
#define S3_LINE_MAX (64u << 20)

/* A spend ledger entry's key below spent/<session>/ (journal.h): the
 * writer's stamp, then the cost's IEEE 754 bits in hex. */
#define SPENT_COST_DIGITS 16
#define SPENT_KEY_LEN (KEY_TIME_DIGITS + 1 + 2 * KEY_RANDOM_BYTES + 1 + \
	SPENT_COST_DIGITS + sizeof(JOURNAL_KEY_SUFFIX) - 1)

/* Append T-U to a key: newest first, and no two writers alike. */
static void
put_writer_stamp(struct buf *key)
{
	unsigned char unique[KEY_RANDOM_BYTES];
	unsigned long long ns;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	ns = (unsigned long long)now.tv_sec * 1000000000ULL +
	    (unsigned long long)now.tv_nsec;
	if (getrandom(unique, sizeof(unique), 0) != (ssize_t)sizeof(unique))
		diag_err(1, "getrandom");
	buf_printf(key, "%0*llu-", KEY_TIME_DIGITS, ULLONG_MAX - ns);
	digest_hex(key, unique, sizeof(unique));
}

void
journal_object_key(struct buf *key, const char *session, long long turn)
{
	buf_printf(key, "sessions/%s/%0*lld-", session, KEY_TURN_DIGITS,
	    (long long)JQX_MAX_EXACT - turn);
	put_writer_stamp(key);
	buf_puts(key, JOURNAL_KEY_SUFFIX);
}

static void
spent_key(struct buf *key, const char *session, double cost)
{
	uint64_t bits;

	memcpy(&bits, &cost, sizeof(bits));
	buf_printf(key, JOURNAL_SPENT_PREFIX "%s/", session);
	put_writer_stamp(key);
	buf_printf(key, "-%0*llx" JOURNAL_KEY_SUFFIX, SPENT_COST_DIGITS,
	    (unsigned long long)bits);
}

int
journal_spent_cost(const char *key, struct buf *session, double *cost)
{
	const size_t plen = sizeof(JOURNAL_SPENT_PREFIX) - 1;
	const char *name = strncmp(key, JOURNAL_SPENT_PREFIX, plen) ? NULL :
	    strchr(key + plen, '/');
	const char *hex = "0123456789abcdef";
	uint64_t bits;
	char *s;
	int valid;

	if (name == NULL || strlen(++name) != SPENT_KEY_LEN ||
	    strspn(name, "0123456789") != KEY_TIME_DIGITS ||
	    name[KEY_TIME_DIGITS] != '-' ||
	    strspn(name + KEY_TIME_DIGITS + 1, hex) != 2 * KEY_RANDOM_BYTES ||
	    name[KEY_TIME_DIGITS + 1 + 2 * KEY_RANDOM_BYTES] != '-' ||
	    strspn(name + KEY_TIME_DIGITS + 2 + 2 * KEY_RANDOM_BYTES, hex) !=
	    SPENT_COST_DIGITS ||
	    strcmp(name + SPENT_KEY_LEN - (sizeof(JOURNAL_KEY_SUFFIX) - 1),
	    JOURNAL_KEY_SUFFIX) != 0)
		return -1;
	s = xcheck(strndup(key + plen, (size_t)(name - 1 - key - plen)));
	valid = journal_session_valid(s);
	if (valid && session)
		buf_puts(session, s);
	free(s);
	bits = strtoull(name + KEY_TIME_DIGITS + 2 + 2 * KEY_RANDOM_BYTES,
	    NULL, 16);
	memcpy(cost, &bits, sizeof(*cost));
	return valid ? 0 : -1;
}

/* A failed S3 request of a reader: its reason on standard error, errno
 * EIO (journal.h). */
static int
s3_failed(const struct buf *why)
{
	diag_warnx("%s", why->data);
	errno = EIO;
	return -1;
}

/* journal_spend on S3: the ledger line (without totals, which no writer
 * can know without a lock) as its own object. */
static int
s3_spend(const char *store, const char *session, const struct buf *line,
    double cost)
{
	struct buf key = BUF_INIT, why = BUF_INIT;
	struct s3 s;
	int status = 0;

	spent_key(&key, session, cost);
	if (s3_open(&s, store, &why) < 0 || s3_put(&s, key.data, line->data,
	    line->len, "application/json", 1, &why) != S3_OK)
		status = s3_failed(&why);
	s3_close(&s);
	buf_free(&key);
	buf_free(&why);
	return status;
}

/* Add the cost of a ledger entry's key; a key that is none is unknown. */
static int
add_spent_key(const char *key, long long size, void *arg)
{
	struct totals *t = arg;
	double cost = NAN;

	(void)size;
	if (journal_spent_cost(key, NULL, &cost) < 0)
		diag_warnx("%s: not a spend ledger entry's key; its cost is "
		    "unknown", key);
	totals_add(t, -1, cost);
	return 0;
}

/* journal_session_cost on S3: one listing, no entry read. */
static int
s3_session_spent(const char *store, const char *session, struct totals *t)
{
	struct buf prefix = BUF_INIT, why = BUF_INIT;
	struct s3 s;
	int status = 0;

	buf_printf(&prefix, JOURNAL_SPENT_PREFIX "%s/", session);
	if (s3_open(&s, store, &why) < 0 || s3_list(&s, prefix.data, NULL,
	    1000, add_spent_key, t, &why) != S3_OK)
		status = s3_failed(&why);
	s3_close(&s);
	buf_free(&prefix);
	buf_free(&why);
	return status;
}

/* The turn of a line's key (below its session's prefix), or -1 when it is
 * no line's key. */
static long long
key_turn(const char *name)
{
	long long n = 0;
	size_t i;

	if (strlen(name) != KEY_LEN || name[KEY_TURN_DIGITS] != '-' ||
	    name[KEY_TURN_DIGITS + 1 + KEY_TIME_DIGITS] != '-' ||
	    strcmp(name + KEY_LEN - (sizeof(JOURNAL_KEY_SUFFIX) - 1),
	    JOURNAL_KEY_SUFFIX) != 0)
		return -1;
	for (i = 0; i < KEY_TURN_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		n = n * 10 + (name[i] - '0');
	}
	return n <= (long long)JQX_MAX_EXACT ?
	    (long long)JQX_MAX_EXACT - n : -1;
}

long long
journal_object_turn(const char *key, struct buf *session)
{
	const char *name = strncmp(key, "sessions/", 9) ? NULL :
	    strchr(key + 9, '/');
	char *s;
	int valid;

	if (name == NULL)
		return -1;
	s = xcheck(strndup(key + 9, (size_t)(name - key - 9)));
	valid = journal_session_valid(s);
	if (valid && session)
		buf_puts(session, s);
	free(s);
	return valid ? key_turn(name + 1) : -1;
}

/* The keys of a session's lines on S3, in listing order (turns
 * descending, newest line first within a turn). */
struct s3_lines {
	size_t plen;		/* of "sessions/<session>/" */
	size_t keep;		/* turns wanted */
	int newest_only;	/* the newest line of each turn only */
	long long last_turn;
	size_t turns;
	char **keys;
	long long *turn;
	size_t n, cap;
};

static int
s3_line_key(const char *key, long long size, void *arg)
{
	struct s3_lines *l = arg;
	long long turn = key_turn(key + l->plen);

	(void)size;
	if (turn < 0 || (l->newest_only && turn == l->last_turn))
		return 0;
	if (turn != l->last_turn && ++l->turns > l->keep)
		return 1;
	l->last_turn = turn;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->keys = xcheck(reallocarray(l->keys, l->cap,
		    sizeof(*l->keys)));
		l->turn = xcheck(reallocarray(l->turn, l->cap,
		    sizeof(*l->turn)));
	}
	l->turn[l->n] = turn;
	l->keys[l->n++] = xstrdup(key);
	return 0;
}

static void
s3_lines_free(struct s3_lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->keys[i]);
	free(l->keys);
	free(l->turn);
}

/* Open the store and list the keys of the lines of `session` below
 * `before_turn` (LLONG_MAX: all) into `l`: 0, or -1 (s3_failed). */
static int
s3_list_lines(struct s3 *s, const char *store, const char *session,
    long long before_turn, struct s3_lines *l)
{
	struct buf prefix = BUF_INIT, after = BUF_INIT, why = BUF_INIT;
	int status = 0;

	l->last_turn = -1;
	buf_printf(&prefix, "sessions/%s/", session);
	l->plen = prefix.len;
	/* Keys of turns below before_turn sort after this. */
	if (before_turn <= (long long)JQX_MAX_EXACT)
		buf_printf(&after, "%s%0*lld~", prefix.data, KEY_TURN_DIGITS,
		    (long long)JQX_MAX_EXACT - before_turn);
	if (s3_open(s, store, &why) < 0 ||
	    s3_list(s, prefix.data, after.len ? after.data : NULL,
	    l->keep < 1000 ? l->keep + 1 : 1000, s3_line_key, l, &why) != S3_OK)
		status = s3_failed(&why);
	buf_free(&prefix);
	buf_free(&after);
	buf_free(&why);
	return status;
}

/* GET the line `key` into `line` and check it: 1 when it is a strictly
 * valid object of `turn` (members in `members`), 0 when it is not or is
 * gone, -1 (s3_failed) when it cannot be read. */
static int
s3_line(struct s3 *s, const char *key, long long turn, struct buf *line,
    struct json_members *members)
{
	struct buf why = BUF_INIT;
	enum s3_status got;
	const char *problem;
	size_t where;
	int status;

	buf_reset(line);
	got = s3_get(s, key, S3_LINE_MAX, line, &why);
	if (got == S3_FAILED || got == S3_UNAVAILABLE)
		status = s3_failed(&why);
	else
		status = got == S3_OK && json_scan_object(line->data ?
		    line->data : "", line->len, members, &problem,
		    &where) == 0 && line_turn(members) == turn;
	buf_free(&why);
	return status;
}

/* fn(line, len, members, arg) for each valid line of `session` below
 * `before_turn` on S3, turns ascending, the newest line of a turn last
 * (as a local journal's lines come). */
static int
s3_each_line(const char *store, const char *session, long long before_turn,
    void (*fn)(const char *line, size_t len,
    const struct json_members *members, void *arg), void *arg)
{
	struct s3_lines l = { .keep = SIZE_MAX };
	struct json_members members = JSON_MEMBERS_INIT;
	struct buf line = BUF_INIT;
	struct s3 s = { 0 };
	size_t i;
	int status = s3_list_lines(&s, store, session, before_turn, &l), got;

	for (i = l.n; i > 0 && status == 0; i--)
		if ((got = s3_line(&s, l.keys[i - 1], l.turn[i - 1], &line,
		    &members)) < 0)
			status = -1;
		else if (got)
			fn(line.data, line.len, &members, arg);
	s3_close(&s);
	s3_lines_free(&l);
	json_members_free(&members);
	buf_free(&line);
	return status;
}

struct each_parsed {
	void (*fn)(jv line, void *arg);
	void *arg;
};

static void
each_parsed(const char *line, size_t len, const struct json_members *members,
    void *arg)
{
	struct each_parsed *e = arg;
	jv parsed = jqx_parse(line, len);

	(void)members;
	e->fn(parsed, e->arg);
	jqx_free(parsed);
}

/* Unlocked, so that a caller holding the journal's lock (imgp-store --gc,
 * --delete-session) may read it: a line being appended meanwhile is seen
 * without its newline, and skipped, or whole. */
int
journal_each(const char *store, const char *session, long long before_turn,
    void (*fn)(jv line, void *arg), void *arg)
{
	struct json_members members = JSON_MEMBERS_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int fd, saved, failed;

	if (s3loc_is_uri(store))
		return s3_each_line(store, session, before_turn, each_parsed,
		    &(struct each_parsed){ fn, arg });
	if ((fd = open_session_file(store, session, JOURNAL_EXT, 0)) < 0)
		return errno == ENOENT ? 0 : -1;
	if ((f = fdopen(fd, "r")) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		const char *why;
		size_t where;
		long long turn;
		jv entry;

		/* Strictly valid lines only: libjq 1.6 leaks on some junk.
		 * A line of a later turn is passed over unparsed. */
		if (json_scan_object(line, (size_t)len, &members, &why,
		    &where) < 0 ||
		    ((turn = plain_whole(json_find(&members, "turn"))) >= 0 &&
		    turn >= before_turn))
			continue;
		entry = jqx_parse(line, (size_t)len);
		fn(entry, arg);
		jqx_free(entry);
	}
	saved = errno;
	free(line);
	json_members_free(&members);
	failed = ferror(f);
	fclose(f);
	errno = saved;
	return failed ? -1 : 0;
}

/* The entries a backwards scan keeps: `keep` at most, in descending turn
 * order (lines in turn order arrive smallest last: appended at the end). */
struct scan {
	struct journal_view *view;
	size_t keep, cap;
	long long before_turn;
};

/* Take the line of `turn` if it is among the `keep` latest turns seen and
 * no later line (seen before) had that turn. */
static void
scan_take(struct scan *s, long long turn, const struct json_members *raw)
{
	struct journal_view *v = s->view;
	size_t i = v->n;

	while (i > 0 && v->entries[i - 1].turn < turn)
		i--;
	if (i > 0 && v->entries[i - 1].turn == turn)
		return;			/* a later line of this turn won */
	if (v->n == s->keep) {
		if (i == v->n)
			return;		/* older than all we keep */
		entry_free(&v->entries[--v->n]);
	}
	if (v->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		v->entries = xcheck(reallocarray(v->entries, s->cap,
		    sizeof(*v->entries)));
	}
	memmove(&v->entries[i + 1], &v->entries[i],
	    (v->n - i) * sizeof(*v->entries));
	v->n++;
	entry_fill(&v->entries[i], turn, raw, v->with_judge);
}

/* The entries of the `keep` latest turns before `before_turn` from S3:
 * the listing meets the lines in the order of a backwards read, newest
 * first (journal.h), and stops past the turns kept. */
static int
scan_s3(const char *store, const char *session, struct scan *sc)
{
	struct s3_lines l = { .keep = sc->keep, .newest_only = 1 };
	struct json_members members = JSON_MEMBERS_INIT;
	struct buf line = BUF_INIT;
	struct s3 s = { 0 };
	size_t i;
	int status = s3_list_lines(&s, store, session, sc->before_turn, &l),
	    got;

	for (i = 0; i < l.n && status == 0; i++)
		if ((got = s3_line(&s, l.keys[i], l.turn[i], &line,
		    &members)) < 0)
			status = -1;
		else if (got)
			scan_take(sc, l.turn[i], &members);
	s3_close(&s);
	s3_lines_free(&l);
	json_members_free(&members);
	buf_free(&line);
	return status;
}

/* The entries of a local journal, read backwards (journal.h). */
static int
scan_local(const char *store, const char *session, struct scan *s)
{
	struct json_members members = JSON_MEMBERS_INIT;
	struct journal_view *view = s->view;
	struct backwards b;
	struct totals t;
	struct stat st;
	const char *line, *why;
	size_t len, where;
	long long turn;
	int fd, got, saved;

	if ((fd = open_session_file(store, session, JOURNAL_EXT, 1)) < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	backwards_init(&b, fd, st.st_size, 0);
	while ((got = backwards_line(&b, &line, &len)) > 0) {
		/* Strictly valid lines only: libjq 1.6 leaks on some junk. */
		if (json_scan_object(line, len, &members, &why, &where) < 0)
			continue;
		/* No line up to this one has a turn we could still take. */
		if (view->n == s->keep && line_totals(&members, &t) &&
		    t.max_turn < view->entries[view->n - 1].turn)
			break;
		if ((turn = line_turn(&members)) >= 0 && turn < s->before_turn)
			scan_take(s, turn, &members);
	}
	saved = errno;
	backwards_free(&b);
	json_members_free(&members);
	close(fd);
	errno = saved;
	return got < 0 ? -1 : 0;
}

int
journal_scan(const char *store, const char *session, long long before_turn,
    size_t keep, struct journal_view *view)
{
	struct scan s = { view, keep ? keep : 1, 0, before_turn };
	size_t i;
	int saved;

	view->n = 0;
	view->entries = NULL;
	if ((s3loc_is_uri(store) ? scan_s3(store, session, &s) :
	    scan_local(store, session, &s)) < 0) {
		saved = errno;
		journal_view_free(view);
		errno = saved;
		return -1;
	}
	for (i = 0; i < view->n / 2; i++) {
		struct journal_entry e = view->entries[i];

		view->entries[i] = view->entries[view->n - 1 - i];
		view->entries[view->n - 1 - i] = e;
	}
	return 0;
}

int
journal_session_cost(const char *store, const char *session,
    struct journal_cost *cost)
{
	struct totals t = { .max_turn = -1 };
	struct stat st;
	int fd, status, saved;

	memset(cost, 0, sizeof(*cost));
	if (s3loc_is_uri(store))
		status = s3_session_spent(store, session, &t);
	else if ((fd = open_session_file(store, session, JOURNAL_SPEND_EXT,
	    1)) < 0)
		return errno == ENOENT ? 0 : -1;
	else {
		status = fstat(fd, &st) < 0 ? -1 :
		    journal_totals(fd, st.st_size, &t);
		saved = errno;
		close(fd);
		errno = saved;
	}
	cost->spent = t.spent;
	cost->unknown = (unsigned long)t.unknown;
	return status;
}

const struct journal_entry *
journal_previous(const struct journal_view *view)
{
	return view->n ? &view->entries[view->n - 1] : NULL;
}

void
journal_view_free(struct journal_view *view)
{
	size_t i;

	for (i = 0; i < view->n; i++)
		entry_free(&view->entries[i]);
	free(view->entries);
	view->entries = NULL;
	view->n = 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sessions of an s3:// store, as journal_sessions: the listing of
 * sessions/ is sorted, so a session's lines come together. */
struct s3_sessions {
	char ***names;
	size_t *n, cap;
	size_t *skipped;
};

static int
s3_session_key(const char *key, long long size, void *arg)
{
	struct s3_sessions *l = arg;
	struct buf name = BUF_INIT;

	(void)size;
	if (journal_object_turn(key, &name) < 0) {
		if (l->skipped)
			++*l->skipped;
	} else if (*l->n == 0 || strcmp((*l->names)[*l->n - 1], name.data)) {
		if (*l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 16;
			*l->names = xcheck(reallocarray(*l->names, l->cap,
			    sizeof(**l->names)));
		}
		(*l->names)[(*l->n)++] = buf_detach(&name, NULL);
	}
	buf_free(&name);
	return 0;
}

static int
s3_sessions(const char *store, char ***names, size_t *n, size_t *skipped)
{
	struct s3_sessions l = { names, n, 0, skipped };
	struct buf why = BUF_INIT;
	struct s3 s;
	int status = 0;

	if (s3_open(&s, store, &why) < 0 ||
	    s3_list(&s, "sessions/", NULL, 1000, s3_session_key, &l,
	    &why) != S3_OK)
		status = s3_failed(&why);
	s3_close(&s);
	buf_free(&why);
	if (status < 0) {
		journal_sessions_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return status;
}

int
journal_sessions(const char *store, char ***names, size_t *n,
    size_t *skipped)
{
	struct buf dir = BUF_INIT;
	const size_t ext_len = sizeof(JOURNAL_EXT) - 1;
	struct dirent *e;
	size_t cap = 0, len;
	DIR *d;
	int dfd, saved;

	*names = NULL;
	*n = 0;
	if (s3loc_is_uri(store))
		return s3_sessions(store, names, n, skipped);
	buf_printf(&dir, "%s/sessions", store);
	dfd = open(dir.data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	buf_free(&dir);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(dfd)) == NULL) {
		saved = errno;
		close(dfd);
		errno = saved;
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		char *name;

		len = strlen(e->d_name);
		if (len <= ext_len ||
		    strcmp(e->d_name + len - ext_len, JOURNAL_EXT) != 0)
			continue;
		name = xstrdup(e->d_name);
		name[len - ext_len] = '\0';
		if (!journal_session_valid(name) ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode)) {
			if (skipped)
				++*skipped;
			free(name);
			continue;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*names = xcheck(reallocarray(*names, cap,
			    sizeof(**names)));
		}
		(*names)[(*n)++] = name;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), by_name);
	return 0;
}

void
journal_sessions_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
