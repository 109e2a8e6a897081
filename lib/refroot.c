#include "refroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "durable.h"
#include "s3loc.h"
#include "storelayout.h"
#include "storeobj.h"
#include "xalloc.h"

struct root {
	char *given;	/* absolute, "." and ".." resolved as written; or
			 * an s3:// store, without a '/' at its end */
	int s3;
	char *real;	/* its real path, once opened */
	int fd;		/* -1 until it could be opened */
};

struct refroot_set {
	struct root *roots;
	size_t n;
	size_t max_bytes;
};

/* Flags of the reference file itself: a FIFO or a device must not block
 * the stage or become its terminal.  The descriptor is ours alone. */
#define FILE_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

/* `path` made absolute against the working directory, its empty and "."
 * segments dropped and each ".." taking away the segment before it. */
static void
normalise(const char *path, struct buf *out)
{
	char cwd[PATH_MAX];
	const char *p = path;

	buf_reset(out);
	if (*path != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
		buf_puts(out, strcmp(cwd, "/") ? cwd : "");
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 2 && strncmp(p, "..", 2) == 0) {
			while (out->len && out->data[out->len - 1] != '/')
				out->len--;
			if (out->len)
				out->len--;
		} else if (len && !(len == 1 && *p == '.')) {
			buf_putc(out, '/');
			buf_add(out, p, len);
		}
		p += len + (p[len] == '/');
	}
	if (out->len == 0)
		buf_putc(out, '/');
	out->data[out->len] = '\0';
}

struct refroot_set *
refroot_new(size_t max_bytes)
{
	struct refroot_set *s = xcalloc(1, sizeof(*s));

	s->max_bytes = max_bytes;
	return s;
}

static int
open_root(struct root *r)
{
	if (r->fd < 0 && (r->fd = open(r->given, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) >= 0)
		r->real = realpath(r->given, NULL);
	return r->fd;
}

void
refroot_add(struct refroot_set *s, const char *dir, const char *option,
    int must_exist)
{
	struct buf path = BUF_INIT;
	struct root *r;

	s->roots = xcheck(reallocarray(s->roots, s->n + 1, sizeof(*s->roots)));
	r = &s->roots[s->n++];
	r->real = NULL;
	r->fd = -1;
	if ((r->s3 = s3loc_is_uri(dir))) {
		buf_puts(&path, dir);
		while (path.data[path.len - 1] == '/')
			path.data[--path.len] = '\0';
		r->given = buf_detach(&path, NULL);
		return;
	}
	normalise(*dir ? dir : ".", &path);
	r->given = buf_detach(&path, NULL);
	if (open_root(r) < 0 && must_exist)
		diag_err(2, "%s %s", option, dir);
}

/* The part of `path` under the directory `dir` ("/" included), or NULL. */
static const char *
under(const char *dir, const char *path)
{
	size_t len = strlen(dir);

	if (dir[len - 1] == '/')
		len--;
	if (strncmp(path, dir, len) != 0 || path[len] != '/' ||
	    path[len + 1] == '\0')
		return NULL;
	return path + len + 1;
}

/* Read the open regular file `fd` of at most `max` bytes. */
static int
read_file(int fd, const char *path, size_t max, struct buf *bytes,
    struct buf *why)
{
	struct stat st;
	ssize_t n = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		buf_printf(why, "reference %s: not a regular file", path);
		return -1;
	}
	buf_reset(bytes);
	while (bytes->len <= max) {
		buf_grow(bytes, 65536);
		n = read(fd, bytes->data + bytes->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		bytes->len += (size_t)n;
		bytes->data[bytes->len] = '\0';
	}
	if (n < 0)
		buf_printf(why, "reference %s: %s", path, strerror(errno));
	else if (bytes->len > max)
		buf_printf(why, "reference %s: larger than "
		    "--max-reference-bytes (%zu)", path, max);
	return why->len ? -1 : 0;
}

/* A reference in an s3:// store: an object whose key passes the store's
 * name rule (no "..", no hidden segment: storelayout.h). */
static int
read_s3(struct refroot_set *s, const struct root *r, const char *path,
    const char *rel, struct buf *bytes, struct buf *why)
{
	const char *problem = storelayout_name_problem(rel);
	struct buf failed = BUF_INIT;
	int rc = -1;

	if (problem)
		buf_printf(why, "reference %s: not an object of the store: %s",
		    path, problem);
	else if ((rc = storeobj_read(r->given, rel, s->max_bytes, bytes,
	    &failed)) < 0)
		buf_printf(why, "reference %s: %s", path, failed.data);
	buf_free(&failed);
	return rc;
}

int
refroot_read(struct refroot_set *s, const char *path, struct buf *bytes,
    struct buf *why)
{
	struct buf abs = BUF_INIT;
	const char *rel = NULL;
	struct root *r = NULL;
	size_t i;
	int fd, rc = -1;

	for (i = 0; i < s->n; i++)
		if (s->roots[i].s3 && (rel = under(s->roots[i].given, path)))
			return read_s3(s, &s->roots[i], path, rel, bytes, why);
	normalise(path, &abs);
	for (i = 0; *path && rel == NULL && i < s->n; i++) {
		r = &s->roots[i];
		if (!r->s3 && open_root(r) >= 0 &&
		    ((rel = under(r->given, abs.data)) ||
		    (r->real && (rel = under(r->real, abs.data)))))
			break;
	}
	if (rel == NULL)
		buf_printf(why, "reference %s: not a file imgp-gen may read "
		    "(only files under the store, the profile's directory and "
		    "each --reference-root are)", path);
	else if ((fd = durable_open_beneath(r->fd, rel, FILE_FLAGS, 0)) < 0)
		buf_printf(why, "reference %s: %s", path, errno == ELOOP ?
		    "a symbolic link, which is not followed" :
		    errno == EXDEV ? "outside its root" : strerror(errno));
	else {
		rc = read_file(fd, path, s->max_bytes, bytes, why);
		close(fd);
	}
	buf_free(&abs);
	return rc;
}

void
refroot_free(struct refroot_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		if (s->roots[i].fd >= 0)
			close(s->roots[i].fd);
		free(s->roots[i].given);
		free(s->roots[i].real);
	}
	free(s->roots);
	free(s);
}
