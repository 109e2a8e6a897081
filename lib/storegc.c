#include "storegc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "digest.h"
#include "journal.h"
#include "jqx.h"
#include "json.h"
#include "out.h"
#include "store.h"
#include "storelayout.h"
#include "xalloc.h"

/* A request file is a few KB; a bigger one is not imgp-gen's. */
#define REQUEST_FILE_MAX (1024 * 1024)

/* A sorted set of strings: what journal lines reference, or what may go. */
struct set {
	char **items;
	size_t n, cap;
	int sorted;
};

struct run {
	const struct storegc *g;
	int dfd;		/* the store directory */
	int status;
	time_t before;		/* --gc: files changed since are spared */
	struct set refs;	/* "s:<sha256>", "p:<path>", "k:<request key>" */
	size_t removed;
	unsigned long long bytes;
};

static void
set_add(struct set *s, const char *prefix, const char *item)
{
	struct buf b = BUF_INIT;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->items = xcheck(reallocarray(s->items, s->cap,
		    sizeof(*s->items)));
	}
	buf_printf(&b, "%s%s", prefix, item);
	s->items[s->n++] = buf_detach(&b, NULL);
	s->sorted = 0;
}

static int
by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
set_sort(struct set *s)
{
	if (!s->sorted && s->n)
		qsort(s->items, s->n, sizeof(*s->items), by_string);
	s->sorted = 1;
}

static int
set_has(struct set *s, const char *prefix, const char *item)
{
	struct buf key = BUF_INIT;
	char *k;
	int found;

	set_sort(s);
	buf_printf(&key, "%s%s", prefix, item);
	k = key.data;
	found = s->n && bsearch(&k, s->items, s->n, sizeof(*s->items),
	    by_string) != NULL;
	buf_free(&key);
	return found;
}

static void
set_free(struct set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->items[i]);
	free(s->items);
	memset(s, 0, sizeof(*s));
}

static void
problem(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
problem(struct run *r, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	diag_warnx("%s", b.data);
	buf_free(&b);
	r->status = 1;
}

/* Open the store for a run; exit status 2 (after a diagnostic) when it is
 * not a readable directory. */
static int
run_open(struct run *r, const struct storegc *g)
{
	memset(r, 0, sizeof(*r));
	r->g = g;
	if (storelayout_dir_usable(g->dir))
		return -1;
	r->dfd = open(g->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dfd < 0) {
		diag_warn("%s", g->dir);
		return -1;
	}
	return 0;
}

/* The summary line; returns the exit status. */
static int
run_close(struct run *r)
{
	struct buf line = BUF_INIT;

	buf_printf(&line, "%s: %zu file%s %s (%llu bytes)", r->g->dir,
	    r->removed, r->removed == 1 ? "" : "s", r->g->dry_run ?
	    "would be removed" : "removed", r->bytes);
	out_line(line.data, line.len);
	buf_free(&line);
	set_free(&r->refs);
	close(r->dfd);
	return out_close() || r->status;
}

/*
 * Open the directory that holds `rel` under the store, going through no
 * symbolic link, and point *base at its last segment.  -1 with errno set.
 */
static int
open_parent(int dfd, const char *rel, const char **base)
{
	struct buf seg = BUF_INIT;
	const char *p = rel, *slash;
	int fd = dup(dfd), next;

	while (fd >= 0 && (slash = strchr(p, '/')) != NULL) {
		buf_reset(&seg);
		buf_add(&seg, p, (size_t)(slash - p));
		next = openat(fd, seg.data, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		p = slash + 1;
	}
	buf_free(&seg);
	*base = p;
	return fd;
}

/*
 * Remove the regular file `rel` of the store (or, dry, say it would go),
 * when it is still older than `before` (0: whatever its age).  A file that
 * is gone, not regular, or younger is left alone.
 */
static int
remove_at(struct run *r, int fd, const char *base, const char *rel,
    time_t before)
{
	struct stat st;

	if (fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			problem(r, "%s: %s", rel, strerror(errno));
	} else if (S_ISREG(st.st_mode) && (!before || st.st_mtime < before)) {
		if (r->g->dry_run || unlinkat(fd, base, 0) == 0) {
			out_line(rel, strlen(rel));
			r->removed++;
			r->bytes += (unsigned long long)st.st_size;
			return 1;
		} else if (errno != ENOENT) {
			problem(r, "cannot remove %s: %s", rel,
			    strerror(errno));
		}
	}
	return 0;
}

static void
remove_file(struct run *r, const char *rel, time_t before)
{
	const char *base;
	int fd;

	if (storelayout_name_problem(rel) && strncmp(rel, "requests/", 9) != 0)
		return;		/* a journal's path that leaves the store */
	if ((fd = open_parent(r->dfd, rel, &base)) < 0) {
		if (errno != ENOENT)
			problem(r, "%s: %s", rel, strerror(errno));
		return;
	}
	remove_at(r, fd, base, rel, before);
	close(fd);
}

/* Remove the spend ledger of the session `name` that is ending, in the
 * directory sfd (sessions/): 1 when there was one.  imgp-gen, appending
 * meanwhile, then starts a new one, as imgp-store does a journal. */
static int
end_ledger(struct run *r, int sfd, const char *name)
{
	struct buf base = BUF_INIT, rel = BUF_INIT;
	int had;

	buf_printf(&base, "%s" JOURNAL_SPEND_EXT, name);
	buf_printf(&rel, "sessions/%s", base.data);
	had = remove_at(r, sfd, base.data, rel.data, 0);
	buf_free(&base);
	buf_free(&rel);
	return had;
}

/* Take the store's lock exclusively: -1 after a diagnostic. */
static int
lock_store(struct run *r)
{
	struct buf failed = BUF_INIT;
	int fd = store_lock(r->g->dir, LOCK_EX, &failed);

	if (fd < 0)
		problem(r, "%s: %s", failed.data, strerror(errno));
	buf_free(&failed);
	return fd;
}

static void
add_refs(jv line, void *arg)
{
	struct run *r = arg;
	const char *s;

	if ((s = jqx_str(jqx_get(line, "sha256"), NULL)) != NULL)
		set_add(&r->refs, "s:", s);
	if ((s = jqx_str(jqx_get(line, "path"), NULL)) != NULL)
		set_add(&r->refs, "p:", s);
	if ((s = jqx_str(jqx_get(line, "request_key"), NULL)) != NULL)
		set_add(&r->refs, "k:", s);
}

/* Add what the journals of the store reference, but those of the
 * sessions in `skip`, to r->refs. */
static int
read_refs(struct run *r, struct set *skip)
{
	char **names;
	size_t n, i, skipped = 0;

	if (journal_sessions(r->g->dir, &names, &n, &skipped) < 0) {
		problem(r, "%s/sessions: %s", r->g->dir, strerror(errno));
		return -1;
	}
	if (skipped)
		problem(r, "%s/sessions: %zu journals are links or not "
		    "regular files: nothing is removed while they are unread",
		    r->g->dir, skipped);
	for (i = 0; i < n; i++)
		if ((skip == NULL || !set_has(skip, "", names[i])) &&
		    journal_each(r->g->dir, names[i], LLONG_MAX, add_refs,
		    r) < 0)
			problem(r, "cannot read the journal of %s: %s",
			    names[i], strerror(errno));
	journal_sessions_free(names, n);
	return r->status ? -1 : 0;
}

/* What one journal says before it goes. */
struct ending {
	struct set *named;	/* its named images */
	time_t last;		/* its last line's stored_at, or 0 */
};

static void
note_line(jv line, void *arg)
{
	struct ending *e = arg;
	const char *path = jqx_str(jqx_get(line, "path"), NULL);
	const char *at = jqx_str(jqx_get(line, "stored_at"), NULL);
	char sha[DIGEST_HEX_LEN + 1];
	struct tm tm = { 0 };
	const char *end;

	if (path && !storelayout_name_problem(path) &&
	    !storelayout_content_name(path, sha))
		set_add(e->named, "", path);
	if (at && (end = strptime(at, "%Y-%m-%dT%H:%M:%SZ", &tm)) != NULL &&
	    *end == '\0')
		e->last = timegm(&tm);
	else
		e->last = 0;
}

/*
 * End the session `name`: its journal goes (with dry_run, is listed), its
 * named images join `named` and its name `ended`.  With `before` not 0,
 * only when its last line is older.  Returns 1 when it was absent.
 */
static int
end_session(struct run *r, const char *name, time_t before, struct set *named,
    struct set *ended)
{
	struct set mine = { 0 };
	struct ending e = { &mine, 0 };
	struct buf rel = BUF_INIT;
	const char *base;
	struct stat held, now;
	size_t i;
	int fd, sfd, absent;

	buf_printf(&rel, "sessions/%s" JOURNAL_EXT, name);
	if ((sfd = open_parent(r->dfd, rel.data, &base)) < 0 ||
	    (fd = openat(sfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT) {
			/* A session imgp-gen paid for, never stored. */
			absent = sfd < 0 || !end_ledger(r, sfd, name);
			if (sfd >= 0)
				close(sfd);
			buf_free(&rel);
			return absent;
		}
		problem(r, "%s: %s", rel.data, strerror(errno));
		goto done;
	}
	/* A writer that has the journal open waits, then finds it unlinked
	 * and starts a new one (journal_append). */
	while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
		;
	if (journal_each(r->g->dir, name, LLONG_MAX, note_line, &e) < 0 ||
	    fstat(fd, &held) < 0 || fstatat(sfd, base, &now,
	    AT_SYMLINK_NOFOLLOW) < 0 || held.st_ino != now.st_ino ||
	    held.st_dev != now.st_dev) {
		problem(r, "%s: cannot read it: %s", rel.data, strerror(errno));
		goto close_journal;
	}
	if (e.last == 0)
		e.last = held.st_mtime;
	if (before && e.last >= before)
		goto close_journal;
	if (!r->g->dry_run && unlinkat(sfd, base, 0) < 0) {
		problem(r, "cannot remove %s: %s", rel.data, strerror(errno));
		goto close_journal;
	}
	out_line(rel.data, rel.len);
	r->removed++;
	r->bytes += (unsigned long long)held.st_size;
	end_ledger(r, sfd, name);
	set_add(ended, "", name);
	for (i = 0; i < mine.n; i++)
		set_add(named, "", mine.items[i]);
close_journal:
	close(fd);
done:
	if (sfd >= 0)
		close(sfd);
	set_free(&mine);
	buf_free(&rel);
	return 0;
}

/* End the sessions `names` (older than `before`, when not 0), then remove
 * their named images that the other journals do not reference. */
static int
end_sessions(const struct storegc *g, char **names, size_t n, time_t before,
    int absent_is_error)
{
	struct set named = { 0 }, ended = { 0 };
	struct run r;
	size_t i;
	int lock;

	if (run_open(&r, g) < 0)
		return 2;
	if ((lock = lock_store(&r)) < 0)
		return run_close(&r);
	for (i = 0; i < n; i++)
		if (end_session(&r, names[i], before, &named, &ended) &&
		    absent_is_error)
			problem(&r, "no session %s in %s", names[i], g->dir);
	set_sort(&named);
	if (named.n && read_refs(&r, &ended) == 0)
		for (i = 0; i < named.n; i++)
			if (!set_has(&r.refs, "p:", named.items[i]) &&
			    (i == 0 || strcmp(named.items[i],
			    named.items[i - 1])))
				remove_file(&r, named.items[i], 0);
	close(lock);
	set_free(&named);
	set_free(&ended);
	return run_close(&r);
}

int
storegc_delete(const struct storegc *g, const char *session)
{
	char *names[] = { (char *)session };

	return end_sessions(g, names, 1, 0, 1);
}

int
storegc_prune(const struct storegc *g)
{
	char **names;
	size_t n;
	int status;

	if (journal_sessions(g->dir, &names, &n, NULL) < 0) {
		diag_warn("%s/sessions", g->dir);
		return 2;
	}
	status = end_sessions(g, names, n, time(NULL) - g->older_than, 0);
	journal_sessions_free(names, n);
	return status;
}

/* Whether `name` is two lower-case hex digits: a directory of objects or
 * of request files. */
static int
is_fanout(const char *name)
{
	return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

/* Call fn(run, rel, dir fd, name, stat) for each regular file in the
 * fan-out directories (ab/) of `top` ("" for the store), no link
 * followed. */
static void
each_file(struct run *r, const char *top, void (*fn)(struct run *,
    const char *, int, const char *, const struct stat *, struct set *),
    struct set *out)
{
	struct buf rel = BUF_INIT;
	struct dirent *e, *f;
	DIR *d, *sub;
	struct stat st;
	int tfd, fd;

	tfd = *top ? openat(r->dfd, top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC) : dup(r->dfd);
	if (tfd < 0 || (d = fdopendir(tfd)) == NULL) {
		if (errno != ENOENT)
			problem(r, "%s/%s: %s", r->g->dir, top, strerror(errno));
		if (tfd >= 0)
			close(tfd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (!is_fanout(e->d_name) || (fd = openat(tfd, e->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;	/* not ours, or a link: --check's */
		if ((sub = fdopendir(fd)) == NULL) {
			close(fd);
			continue;
		}
		while ((f = readdir(sub)) != NULL) {
			if (fstatat(fd, f->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			buf_reset(&rel);
			buf_printf(&rel, "%s%s%s/%s", top, *top ? "/" : "",
			    e->d_name, f->d_name);
			fn(r, rel.data, fd, f->d_name, &st, out);
		}
		closedir(sub);
	}
	closedir(d);
	buf_free(&rel);
}

/* A request file: kept when a journal line references its image or its
 * key (its image is then kept as well), else it may go once old. */
static void
request_file(struct run *r, const char *rel, int dfd, const char *name,
    const struct stat *st, struct set *gone)
{
	struct buf text = BUF_INIT, key = BUF_INIT;
	const char *sha = NULL, *why;
	size_t where, len = strlen(name);
	jv file = jv_invalid();
	int fd;

	if (len != DIGEST_HEX_LEN + 5 || strcmp(name + DIGEST_HEX_LEN, ".json"))
		return;
	buf_add(&key, name, DIGEST_HEX_LEN);
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		ssize_t n;

		buf_grow(&text, REQUEST_FILE_MAX);
		while ((n = read(fd, text.data + text.len, REQUEST_FILE_MAX -
		    text.len)) > 0)
			text.len += (size_t)n;
		text.data[text.len] = '\0';
		close(fd);
		if (json_validate(text.data, text.len, &why, &where) == 0)
			file = jqx_parse(text.data, text.len);
		sha = jqx_str(jqx_get(file, "sha256"), NULL);
	}
	if (set_has(&r->refs, "k:", key.data) ||
	    (sha && set_has(&r->refs, "s:", sha))) {
		if (sha)
			set_add(&r->refs, "s:", sha);
	} else if (st->st_mtime < r->before) {
		set_add(gone, "", rel);
	}
	jqx_free(file);
	buf_free(&text);
	buf_free(&key);
}

static void
object_file(struct run *r, const char *rel, int dfd, const char *name,
    const struct stat *st, struct set *gone)
{
	char sha[DIGEST_HEX_LEN + 1];

	(void)dfd;
	(void)name;
	if (storelayout_content_name(rel, sha) && !set_has(&r->refs, "s:", sha) &&
	    !set_has(&r->refs, "p:", rel) && st->st_mtime < r->before)
		set_add(gone, "", rel);
}

int
storegc_collect(const struct storegc *g)
{
	struct set requests = { 0 }, objects = { 0 };
	struct run r;
	size_t i;
	int lock;

	if (run_open(&r, g) < 0)
		return 2;
	/* The journals first: an object younger than the grace period at
	 * any later moment may have a line these reads missed. */
	r.before = time(NULL) - g->grace;
	if (read_refs(&r, NULL) == 0) {
		each_file(&r, "requests", request_file, &requests);
		each_file(&r, "", object_file, &objects);
	}
	if (r.status == 0 && (requests.n || objects.n) &&
	    (lock = lock_store(&r)) >= 0) {
		for (i = 0; i < requests.n; i++)
			remove_file(&r, requests.items[i], r.before);
		for (i = 0; i < objects.n; i++)
			remove_file(&r, objects.items[i], r.before);
		close(lock);
	}
	set_free(&requests);
	set_free(&objects);
	return run_close(&r);
}
