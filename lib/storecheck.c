/*
 * imgp-store --check: every object is whole and named right, no temporary
 * file is left behind, and every journal line points at the bytes it says.
 * The store is walked from its directory's descriptor with openat(2) and
 * O_NOFOLLOW: a symbolic link planted in it (or a directory swapped for
 * one during the walk) never takes --repair outside it.
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "digest.h"
#include "imgcheck.h"
#include "jqx.h"
#include "journal.h"
#include "json.h"
#include "out.h"
#include "s3.h"
#include "storelayout.h"
#include "xalloc.h"

/* The largest object --check reads from S3. */
#define STORE_CHECK_S3_MAX (256u << 20)

struct object {
	char *rel;
	char sha256[DIGEST_HEX_LEN + 1];
};

struct check {
	const char *dir;
	int repair;
	time_t cutoff;		/* temporary files changed since are live */
	struct object *objects;	/* sorted by rel once the walk is done */
	size_t nobjects, cap;
	size_t lines, sessions, removed, problems;
	struct buf bytes;	/* the file being checked */
};

/* Print "<rel>: <message>"; a problem counts for the exit status. */
static void
report(struct check *c, int is_problem, const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
report(struct check *c, int is_problem, const char *rel, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	buf_printf(&line, "%s: ", rel);
	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	out_line(line.data, line.len);
	buf_free(&line);
	c->problems += is_problem != 0;
}

/* Check the object `rel`, whose bytes are in c->bytes. */
static void
check_bytes(struct check *c, const char *rel)
{
	struct object *o;
	struct imgsniff kind;
	char named[DIGEST_HEX_LEN + 1];
	const char *why;

	if (c->nobjects == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->objects = xcheck(realloc(c->objects,
		    c->cap * sizeof(*c->objects)));
	}
	o = &c->objects[c->nobjects++];
	o->rel = xstrdup(rel);
	digest_sha256_hex(c->bytes.data, c->bytes.len, o->sha256);
	if (imgcheck((const unsigned char *)c->bytes.data, c->bytes.len,
	    &kind, &why) < 0)
		report(c, 1, rel, "%s", why);
	else if (storelayout_content_name(rel, named) &&
	    strcmp(named, o->sha256))
		report(c, 1, rel, "damaged: its bytes have SHA-256 %s",
		    o->sha256);
	else if (storelayout_content_name(rel, named) &&
	    strcmp(strrchr(rel, '.') + 1, kind.ext))
		report(c, 1, rel, "holds a %s image", kind.mime);
}

static void
check_object(struct check *c, int dfd, const char *name, const char *rel)
{
	buf_reset(&c->bytes);
	if (buf_read_fileat(&c->bytes, dfd, name, O_NOFOLLOW) < 0)
		report(c, 1, rel, "cannot read: %s", strerror(errno));
	else
		check_bytes(c, rel);
}

/*
 * A temporary file is a leftover when it is older than the grace period
 * and no writer holds its lock.  The lock alone is not enough: a writer
 * creates the file before it can lock it, and a file removed in that
 * moment is a record lost (design.md §2).
 */
static void
check_temp(struct check *c, int dfd, const char *name, const char *rel,
    const struct stat *st)
{
	struct stat held, named;
	int fd;

	if (st->st_mtime > c->cutoff)
		return;			/* young: a write may be going on */
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)	/* else renamed meanwhile */
			report(c, 1, rel, "cannot read: %s", strerror(errno));
		return;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);		/* being written */
		return;
	}
	if (!c->repair) {
		report(c, 1, rel, "temporary file left by an interrupted write "
		    "(--repair removes it)");
	} else if (fstat(fd, &held) == 0 &&
	    fstatat(dfd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	    held.st_ino == named.st_ino && held.st_dev == named.st_dev &&
	    unlinkat(dfd, name, 0) == 0) {
		report(c, 0, rel, "removed temporary file left by an "
		    "interrupted write");
		c->removed++;
	} else if (errno != ENOENT) {
		report(c, 1, rel, "cannot remove: %s", strerror(errno));
	}
	close(fd);
}

/* Check every file in the directory dfd (closed here), `rel` in the store
 * ("" for the store itself), but the journals and imgp-gen's request
 * files (a bad one is only a cache miss, reqcache.h); temporary files are
 * looked at everywhere. */
static void
walk(struct check *c, int dfd, const char *rel)
{
	struct buf child = BUF_INIT;
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd;

	if ((d = fdopendir(dfd)) == NULL) {
		report(c, 1, *rel ? rel : ".", "cannot read: %s",
		    strerror(errno));
		close(dfd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (!*rel && !strcmp(e->d_name, "sessions")))
			continue;
		buf_reset(&child);
		buf_printf(&child, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			report(c, 1, child.data, "%s", strerror(errno));
		else if (S_ISDIR(st.st_mode)) {
			if ((fd = openat(dirfd(d), e->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				report(c, 1, child.data, "cannot read: %s",
				    strerror(errno));
			else
				walk(c, fd, child.data);
		} else if (!S_ISREG(st.st_mode))
			report(c, 1, child.data, "not a regular file");
		else if (!strncmp(e->d_name, STORE_TEMP_PREFIX,
		    strlen(STORE_TEMP_PREFIX)))
			check_temp(c, dirfd(d), e->d_name, child.data, &st);
		else if (strncmp(child.data, "requests/", 9) != 0)
			check_object(c, dirfd(d), e->d_name, child.data);
	}
	closedir(d);
	buf_free(&child);
}

static int
by_rel(const void *a, const void *b)
{
	return strcmp(((const struct object *)a)->rel,
	    ((const struct object *)b)->rel);
}

static const struct object *
find_object(const struct check *c, const char *rel)
{
	struct object key = { .rel = (char *)rel };

	if (c->nobjects == 0)	/* bsearch's array may not be NULL */
		return NULL;
	return bsearch(&key, c->objects, c->nobjects, sizeof(key), by_rel);
}

static void
check_entry(struct check *c, const char *rel, long lineno, const char *line,
    size_t len)
{
	const char *why, *sha, *path;
	const struct object *o = NULL;
	size_t where;
	long long turn;
	jv entry;

	/* libjq 1.6 leaks on some junk: it parses valid lines only. */
	entry = json_validate(line, len, &why, &where) < 0 ? jv_invalid() :
	    jqx_parse(line, len);
	sha = jqx_str(jqx_get(entry, "sha256"), NULL);
	path = jqx_str(jqx_get(entry, "path"), NULL);
	if (path && !storelayout_name_problem(path))
		o = find_object(c, path);
	if (jv_get_kind(entry) != JV_KIND_OBJECT)
		report(c, 1, rel, "line %ld is not a JSON object", lineno);
	else if (!jqx_int(jqx_get(entry, "turn"), 0, JQX_MAX_EXACT, &turn))
		report(c, 1, rel, "line %ld has no turn", lineno);
	else if (sha == NULL || strlen(sha) != DIGEST_HEX_LEN ||
	    strspn(sha, "0123456789abcdef") != DIGEST_HEX_LEN)
		report(c, 1, rel, "line %ld has no sha256", lineno);
	else if (path == NULL || storelayout_name_problem(path))
		report(c, 1, rel, "line %ld has no usable path", lineno);
	else if (o == NULL)
		report(c, 1, rel, "line %ld: %s is not in the store", lineno,
		    path);
	else if (strcmp(o->sha256, sha) != 0)
		report(c, 1, rel, "line %ld: %s does not hold the bytes of "
		    "sha256 %s", lineno, path, sha);
	jqx_free(entry);
}

/* A line of a spend ledger (journal.h): its cost a number >= 0 or null,
 * for a request key. */
static void
check_spend_entry(struct check *c, const char *rel, long lineno,
    const char *line, size_t len)
{
	const char *why, *key;
	size_t where;
	jv entry, cost;

	entry = json_validate(line, len, &why, &where) < 0 ? jv_invalid() :
	    jqx_parse(line, len);
	key = jqx_str(jqx_get(entry, "request_key"), NULL);
	cost = jqx_get(entry, "cost");
	if (jv_get_kind(entry) != JV_KIND_OBJECT)
		report(c, 1, rel, "line %ld is not a JSON object", lineno);
	else if (key == NULL || strlen(key) != DIGEST_HEX_LEN ||
	    strspn(key, "0123456789abcdef") != DIGEST_HEX_LEN)
		report(c, 1, rel, "line %ld has no request_key", lineno);
	else if (jv_get_kind(cost) != JV_KIND_NULL &&
	    !(jv_get_kind(cost) == JV_KIND_NUMBER &&
	    jv_number_value(cost) >= 0))
		report(c, 1, rel, "line %ld has no cost", lineno);
	jqx_free(entry);
}

/* With --repair, seal a torn last line first, as the next append would. */
static void
repair_journal(struct check *c, int dfd, const char *name, const char *rel)
{
	long long removed = journal_repair(dfd, name);

	if (removed < 0)
		report(c, 1, rel, "cannot repair: %s", strerror(errno));
	else if (removed > 0)
		report(c, 0, rel, "removed the last line, %lld bytes torn by "
		    "an interrupted write", removed);
}

/* Check each line of the journal `name` (a spend ledger with `spend`). */
static void
check_journal(struct check *c, int dfd, const char *name, const char *rel,
    int spend)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "r");

	if (f == NULL) {
		report(c, 1, rel, "cannot read: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	c->sessions += !spend;
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		c->lines += !spend;
		if (line[len - 1] != '\n')
			report(c, 1, rel, "line %ld has no newline: an append "
			    "was cut short (--repair seals it)", lineno);
		else if (!rec_blank(line, (size_t)len - 1))
			(spend ? check_spend_entry : check_entry)(c, rel,
			    lineno, line, (size_t)len - 1);
	}
	if (ferror(f))
		report(c, 1, rel, "cannot read: %s", strerror(errno));
	free(line);
	fclose(f);
}

/* Whether `name` is something followed by `ext`. */
static int
has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);

	return n > e && strcmp(name + n - e, ext) == 0;
}

/* The journals and spend ledgers in sessions/. */
static void
check_journals(struct check *c, int root)
{
	struct buf rel = BUF_INIT;
	struct dirent *e;
	struct stat st;
	DIR *d = NULL;
	int dfd = openat(root, "sessions", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);

	if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
		if (errno != ENOENT)
			report(c, 1, "sessions", "cannot read: %s",
			    strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		int spend = has_ext(e->d_name, JOURNAL_SPEND_EXT);

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		buf_reset(&rel);
		buf_printf(&rel, "sessions/%s", e->d_name);
		if ((!spend && !has_ext(e->d_name, JOURNAL_EXT)) ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode)) {
			report(c, 1, rel.data, "not a session journal or "
			    "spend ledger");
			continue;
		}
		if (c->repair)
			repair_journal(c, dfd, e->d_name, rel.data);
		check_journal(c, dfd, e->d_name, rel.data, spend);
	}
	closedir(d);
	buf_free(&rel);
}

/* Whether the directory root is an imgp store: imgp-store makes sessions/
 * before it stores anything, imgp-gen --cache requests/.  --repair removes
 * files: never in a directory that is not one. */
static int
is_store(int root)
{
	struct stat st;

	return (fstatat(root, "sessions", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode)) || (fstatat(root, "requests", &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode));
}

/* The keys of an s3:// store, listed. */
struct keys {
	char **v;
	size_t n, cap;
};

static int
add_key(const char *key, long long size, void *arg)
{
	struct keys *k = arg;

	(void)size;
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 256;
		k->v = xcheck(reallocarray(k->v, k->cap, sizeof(*k->v)));
	}
	k->v[k->n++] = xstrdup(key);
	return 0;
}

/* GET `key` into c->bytes: 0, or -1 after reporting why. */
static int
get_s3(struct check *c, struct s3 *s, const char *key)
{
	struct buf why = BUF_INIT;
	enum s3_status status;

	buf_reset(&c->bytes);
	status = s3_get(s, key, STORE_CHECK_S3_MAX, &c->bytes, &why);
	if (status == S3_ABSENT)
		report(c, 1, key, "removed while being checked");
	else if (status != S3_OK)
		report(c, 1, key, "cannot read: %s", why.data);
	buf_free(&why);
	return status == S3_OK ? 0 : -1;
}

/*
 * --check on an s3:// store: the whole listing, every object read and
 * checked as a file is, then every journal line (its own object,
 * journal.h).  A PUT is atomic, so no temporary object is ever left:
 * --repair has nothing to mend.  Exit 2 when the store cannot be listed
 * or is no imgp store (nothing under sessions/ or requests/).
 */
static int
check_s3(struct check *c)
{
	struct keys k = { 0 };
	struct buf why = BUF_INIT, session = BUF_INIT, last = BUF_INIT;
	const char *problem;
	struct s3 s;
	size_t i;
	int status = 0, is_store = 0;
	long long turn;

	if (s3_open(&s, c->dir, &why) < 0 ||
	    s3_list(&s, "", NULL, 1000, add_key, &k, &why) != S3_OK) {
		diag_warnx("%s", why.data);
		status = 2;
	}
	for (i = 0; i < k.n && status == 0; i++)
		is_store |= !strncmp(k.v[i], "sessions/", 9) ||
		    !strncmp(k.v[i], "requests/", 9);
	if (status == 0 && !is_store) {
		diag_warnx("%s: not an imgp store (nothing under sessions/ or "
		    "requests/); nothing was checked", c->dir);
		status = 2;
	}
	for (i = 0; i < k.n && status == 0; i++) {
		if (!strncmp(k.v[i], "sessions/", 9) ||
		    !strncmp(k.v[i], "requests/", 9))
			continue;
		/* A key another writer of the bucket made, with a ".."
		 * segment, would name another object once in a URL. */
		if ((problem = storelayout_name_problem(k.v[i])))
			report(c, 1, k.v[i], "not a name of the store: %s",
			    problem);
		else if (get_s3(c, &s, k.v[i]) == 0)
			check_bytes(c, k.v[i]);
	}
	if (c->nobjects)	/* qsort's array may not be NULL */
		qsort(c->objects, c->nobjects, sizeof(*c->objects), by_rel);
	for (i = 0; i < k.n && status == 0; i++) {
		if (strncmp(k.v[i], "sessions/", 9))
			continue;
		buf_reset(&session);
		if ((turn = journal_object_turn(k.v[i], &session)) < 0) {
			report(c, 1, k.v[i], "not a journal line");
			continue;
		}
		if (c->sessions == 0 || strcmp(session.data, last.data)) {
			c->sessions++;
			buf_reset(&last);
			buf_puts(&last, session.data);
		}
		c->lines++;
		if (get_s3(c, &s, k.v[i]) == 0)
			check_entry(c, k.v[i], 1, c->bytes.data, c->bytes.len);
	}
	for (i = 0; i < k.n; i++)
		free(k.v[i]);
	free(k.v);
	s3_close(&s);
	buf_free(&why);
	buf_free(&session);
	buf_free(&last);
	return status;
}

/* --check on a store directory: 0, or 2 when it is none. */
static int
check_dir(struct check *c)
{
	int root;

	if (storelayout_dir_usable(c->dir))
		return 2;
	if ((root = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		diag_warn("%s", c->dir);
		return 2;
	}
	if (!is_store(root)) {
		diag_warnx("%s: not an imgp store (it has no sessions/ or "
		    "requests/ directory); nothing was checked", c->dir);
		close(root);
		return 2;
	}
	walk(c, dup(root), "");
	if (c->nobjects)		/* qsort's array may not be NULL */
		qsort(c->objects, c->nobjects, sizeof(*c->objects), by_rel);
	check_journals(c, root);
	close(root);
	return 0;
}

int
store_check(const char *dir, int repair, long long grace)
{
	struct check c = { .dir = dir, .repair = repair,
	    .cutoff = time(NULL) - (time_t)grace };
	struct buf summary = BUF_INIT;
	size_t i;
	int status;

	if ((status = s3loc_is_uri(dir) ? check_s3(&c) : check_dir(&c)) == 0) {
		buf_printf(&summary, "%s: %zu objects, %zu journal lines in "
		    "%zu sessions, %zu temporary files removed, %zu problems",
		    dir, c.nobjects, c.lines, c.sessions, c.removed,
		    c.problems);
		out_line(summary.data, summary.len);
		status = out_close() || c.problems > 0;
	}
	for (i = 0; i < c.nobjects; i++)
		free(c.objects[i].rel);
	free(c.objects);
	buf_free(&c.bytes);
	buf_free(&summary);
	return status;
}
