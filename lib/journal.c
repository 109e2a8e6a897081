#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "durable.h"
#include "jqx.h"
#include "json.h"
#include "xalloc.h"

int
journal_session_valid(const char *name)
{
	size_t n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

	return n > 0 && n <= 128 && name[n] == '\0' &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

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

	buf_printf(&path, "%s/sessions/%s.ndjson", store, session);
	return buf_detach(&path, NULL);
}

/* With the journal locked: whether its last byte is not a newline (a
 * writer was killed in the middle of its line). */
static int
unterminated(int fd, off_t size)
{
	char last = '\n';

	return size > 0 && pread(fd, &last, 1, size - 1) == 1 && last != '\n';
}

int
journal_append(const char *path, const char *line, size_t len, int sync)
{
	struct buf out = BUF_INIT;
	struct stat st;
	ssize_t n;
	int fd, saved = 0;

reopen:
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			goto fail;
	if (fstat(fd, &st) < 0)
		goto fail;
	/* imgp-store --delete-session removed the journal while we waited
	 * for its lock: the line starts the session's new journal. */
	if (st.st_nlink == 0) {
		close(fd);
		goto reopen;
	}
	if (unterminated(fd, st.st_size))
		buf_putc(&out, '\n');
	buf_add(&out, line, len);
	buf_putc(&out, '\n');
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
	flock(fd, LOCK_UN);	/* the fsync below needs no lock */
	if (sync && (fsync(fd) < 0 ||
	    (st.st_size == 0 && durable_sync_parent(path) < 0)))
		goto fail;
	buf_free(&out);
	return close(fd);
fail:
	if (saved == 0)
		saved = errno;
	buf_free(&out);
	close(fd);
	errno = saved;
	return -1;
}

/* A power of two: see keep_entry. */
#define FIRST_ROOM 8

static char *
dup_field(jv line, const char *key)
{
	const char *s = jqx_str(jqx_get(line, key), NULL);
	return xstrdup(s ? s : "");
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

static void
entry_fill(struct journal_entry *e, long long turn, jv line,
    const struct json_members *raw, int with_judge)
{
	const char *sha = jqx_str(jqx_get(line, "sha256"), NULL);

	e->turn = turn;
	snprintf(e->sha256, sizeof(e->sha256), "%s",
	    sha && strlen(sha) == DIGEST_HEX_LEN ? sha : "");
	e->path = dup_field(line, "path");
	e->image_prompt = dup_field(line, "image_prompt");
	e->prompt = jqx_str(jqx_get(line, "prompt"), NULL) ?
	    dup_field(line, "prompt") : NULL;
	if (!jqx_int(jqx_get(line, "seed"), 0, JQX_MAX_EXACT, &e->seed))
		e->seed = -1;
	e->judge = with_judge ? dup_object(raw, "judge") : NULL;
	e->options = with_judge ? dup_object(raw, "options") : NULL;
}

/* Put the entry of `turn` into the view, which holds at most `keep`
 * entries in ascending turn order, dropping the oldest when full. */
static void
keep_entry(struct journal_view *v, size_t keep, long long turn, jv line,
    const struct json_members *raw)
{
	size_t i = v->n;

	/* The array starts with room for min(keep, FIRST_ROOM) entries and
	 * doubles, up to keep, whenever it is full at a power of two. */
	if (v->n < keep && v->n >= FIRST_ROOM && (v->n & (v->n - 1)) == 0) {
		v->entries = xcheck(reallocarray(v->entries,
		    v->n < keep / 2 ? 2 * v->n : keep, sizeof(*v->entries)));
	}

	while (i > 0 && v->entries[i - 1].turn > turn)
		i--;
	if (i > 0 && v->entries[i - 1].turn == turn) {
		entry_free(&v->entries[i - 1]);
		entry_fill(&v->entries[i - 1], turn, line, raw, v->with_judge);
		return;
	}
	if (v->n == keep) {
		if (i == 0)
			return;		/* older than all we keep */
		entry_free(&v->entries[0]);
		memmove(&v->entries[0], &v->entries[1],
		    (i - 1) * sizeof(*v->entries));
		i--;
	} else {
		memmove(&v->entries[i + 1], &v->entries[i],
		    (v->n - i) * sizeof(*v->entries));
		v->n++;
	}
	entry_fill(&v->entries[i], turn, line, raw, v->with_judge);
}

/* Whether a line's turn, as written, is a plain whole number of at least
 * `turn`: such a line is of no interest to a scan before `turn`, and is
 * passed over without the cost of parsing it with libjq. */
static int
turn_at_least(const struct json_members *members, long long turn)
{
	const struct json_member *m = json_find(members, "turn");
	long long written = 0;
	size_t i;

	if (m == NULL || m->value_len == 0 || m->value_len > 15)
		return 0;
	for (i = 0; i < m->value_len; i++) {
		if (m->value[i] < '0' || m->value[i] > '9')
			return 0;
		written = written * 10 + (m->value[i] - '0');
	}
	return written >= turn;
}

/* journal_each, with each line's members as written (`raw`) as well. */
static int
each_line(const char *store, const char *session, long long before_turn,
    void (*fn)(jv line, const struct json_members *raw, void *arg), void *arg)
{
	char *path = journal_path(store, session), *line = NULL;
	struct json_members members = JSON_MEMBERS_INIT;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int saved, failed;

	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((len = getline(&line, &cap, f)) > 0) {
		const char *why;
		size_t where;
		jv entry;

		/* Strictly valid lines only: libjq 1.6 leaks on some junk. */
		if (json_scan_object(line, (size_t)len, &members, &why,
		    &where) < 0 || turn_at_least(&members, before_turn))
			continue;
		entry = jqx_parse(line, (size_t)len);
		fn(entry, &members, arg);
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

struct plain {
	void (*fn)(jv line, void *arg);
	void *arg;
};

static void
plain_line(jv line, const struct json_members *raw, void *arg)
{
	struct plain *p = arg;

	(void)raw;
	p->fn(line, p->arg);
}

int
journal_each(const char *store, const char *session, long long before_turn,
    void (*fn)(jv line, void *arg), void *arg)
{
	struct plain p = { fn, arg };

	return each_line(store, session, before_turn, plain_line, &p);
}

struct scan {
	struct journal_view *view;
	size_t keep;
	long long before_turn;
};

static void
scan_line(jv line, const struct json_members *raw, void *arg)
{
	struct scan *s = arg;
	long long turn;

	if (jqx_int(jqx_get(line, "turn"), 0, JQX_MAX_EXACT, &turn) &&
	    turn < s->before_turn)
		keep_entry(s->view, s->keep, turn, line, raw);
}

int
journal_scan(const char *store, const char *session, long long before_turn,
    size_t keep, struct journal_view *view)
{
	struct scan s = { view, keep ? keep : 1, before_turn };
	int saved;

	view->n = 0;
	view->entries = xcalloc(s.keep < FIRST_ROOM ? s.keep : FIRST_ROOM,
	    sizeof(*view->entries));
	if (each_line(store, session, before_turn, scan_line, &s) < 0) {
		saved = errno;
		journal_view_free(view);
		errno = saved;
		return -1;
	}
	return 0;
}

static void
cost_line(jv line, void *arg)
{
	struct journal_cost *c = arg;
	jv cost = jqx_get(line, "cost");

	if (jv_get_kind(cost) == JV_KIND_NUMBER && jv_number_value(cost) >= 0)
		c->spent += jv_number_value(cost);
	else
		c->unknown++;
}

int
journal_session_cost(const char *store, const char *session,
    struct journal_cost *cost)
{
	memset(cost, 0, sizeof(*cost));
	return journal_each(store, session, LLONG_MAX, cost_line, cost);
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

int
journal_sessions(const char *store, char ***names, size_t *n,
    size_t *skipped)
{
	struct buf dir = BUF_INIT;
	struct dirent *e;
	size_t cap = 0, len;
	DIR *d;
	int dfd, saved;

	*names = NULL;
	*n = 0;
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
		if (len <= 7 || strcmp(e->d_name + len - 7, ".ndjson") != 0)
			continue;
		name = xstrdup(e->d_name);
		name[len - 7] = '\0';
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
