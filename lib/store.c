#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "durable.h"
#include "imgcheck.h"
#include "journal.h"
#include "jqx.h"
#include "json.h"
#include "png.h"
#include "provenance.h"
#include "storelayout.h"
#include "xalloc.h"

/* What a record brings to the store. */
struct item {
	const char *session;
	long long turn;
	jv image;			/* borrowed from the record */
	struct buf scratch;		/* image.data, if it has escapes */
	struct buf bytes;		/* image.data decoded */
	struct imgsniff kind;
	char sha256[DIGEST_HEX_LEN + 1];
	struct buf rel;		/* its name, relative to the store */
	int embedded;		/* bytes differ from image.data: --embed */
};

static int
field_is(const char *field, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(field, name, len) == 0;
}

/* The zero padding of "turn" (0) or "turn:0N" (N from 1 to 20), else -1. */
static int
turn_width(const char *field, size_t len)
{
	int width = 0;
	size_t i;

	if (len < 4 || memcmp(field, "turn", 4) != 0)
		return -1;
	if (len == 4)
		return 0;
	if (len < 7 || len > 8 || memcmp(field + 4, ":0", 2) != 0)
		return -1;
	for (i = 6; i < len; i++) {
		if (field[i] < '0' || field[i] > '9')
			return -1;
		width = width * 10 + field[i] - '0';
	}
	return width >= 1 && width <= 20 ? width : -1;
}

/* Expand a --name template for the item into it->rel, and check that the
 * name stays in the store: 0, or -1 with *why set. */
static int
expand_name(const char *template, struct item *it, const char **why)
{
	const char *p, *end;
	int width;

	buf_puts(&it->rel, "");
	for (p = template; *p; p = end + 1) {
		const char *field = p + 1;
		size_t len;

		if (*p != '{') {
			buf_putc(&it->rel, *p);
			end = p;
			continue;
		}
		if ((end = strchr(field, '}')) == NULL) {
			*why = "it has a { without a }";
			return -1;
		}
		len = (size_t)(end - field);
		if (field_is(field, len, "session"))
			buf_puts(&it->rel, it->session);
		else if (field_is(field, len, "sha256"))
			buf_puts(&it->rel, it->sha256);
		else if (field_is(field, len, "sha8"))
			buf_add(&it->rel, it->sha256, 8);
		else if (field_is(field, len, "ext"))
			buf_puts(&it->rel, it->kind.ext);
		else if ((width = turn_width(field, len)) >= 0)
			buf_printf(&it->rel, "%0*lld", width, it->turn);
		else {
			*why = "its fields are {session}, {turn}, {turn:0N}, "
			    "{sha256}, {sha8} and {ext}";
			return -1;
		}
	}
	*why = storelayout_name_problem(it->rel.data);
	/* "7c" or "7c/…" would take, or write into, the directory of the
	 * objects whose SHA-256 starts with 7c (any case: some file systems
	 * fold it). */
	if (*why == NULL && strspn(it->rel.data, "0123456789abcdefABCDEF") == 2 &&
	    (it->rel.data[2] == '\0' || it->rel.data[2] == '/'))
		*why = "a first path segment of two hex digits is the name of "
		    "a content-addressed directory";
	return *why ? -1 : 0;
}

int
store_template_check(const char *template, const char **why)
{
	struct item sample = { .session = "s", .kind.ext = "png" };
	int status;

	memset(sample.sha256, '0', DIGEST_HEX_LEN);
	status = expand_name(template, &sample, why);
	buf_free(&sample.rel);
	return status;
}

/* Append the record with an `error` of `code` to `out`. */
static void
store_error(const struct rec *r, struct buf *out, const char *code,
    int retryable, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void
store_error(const struct rec *r, struct buf *out, const char *code,
    int retryable, const char *fmt, ...)
{
	struct buf message = BUF_INIT, error = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&message, fmt, ap);
	va_end(ap);
	rec_error_begin(&error, code, "%s", message.data);
	buf_printf(&error, ",\"retryable\":%s", retryable ? "true" : "false");
	rec_error_end(&error);
	rec_with(r, "error", error.data, error.len, out);
	buf_free(&message);
	buf_free(&error);
}

/* The error of a readable name that holds other bytes. */
static void
exists_error(const struct store *s, const struct rec *r, const struct item *it,
    struct buf *out)
{
	store_error(r, out, "exists", 0, "%s in %s already holds other bytes; "
	    "choose another --name", it->rel.data, s->dir);
}

/* An io error for errno while doing `what`.  Only passing conditions are
 * worth a retry; a full disk or a permission is not (design.md §7). */
static void
io_error(const struct rec *r, struct buf *out, const struct buf *what)
{
	int e = errno;
	int passing = e == EAGAIN || e == EBUSY || e == EINTR || e == EMFILE ||
	    e == ENFILE || e == ENOLCK || e == ENOMEM || e == ETIMEDOUT;

	store_error(r, out, "io", passing, "cannot store the image: %s: %s",
	    what->data, strerror(e));
}

/* A whole number from 0 to 2^53-1, else -1 (unknown). */
static long long
whole_number(jv v)
{
	long long n;

	return jqx_int(v, 0, JQX_MAX_EXACT, &n) ? n : -1;
}

/*
 * Replace a PNG's bytes with the same bytes carrying the record's imgp:
 * text chunks (provenance.h), in place of any it had already.  Other
 * formats are stored as they are.
 */
static int
embed(const struct rec *r, struct item *it, struct buf *out)
{
	jv request = rec_get(r, "request");
	struct provenance p = {
		.session = it->session,
		.turn = it->turn,
		.prompt = jqx_str(jqx_get(request, "prompt"), NULL),
		.seed = whole_number(jqx_get(request, "seed")),
		.model = jqx_str(jqx_get(it->image, "model"), NULL),
		.request_key = jqx_str(jqx_get(it->image, "request_key"), NULL),
	};
	unsigned char *png;
	size_t len;

	if (it->kind.type != IMGSNIFF_PNG)
		return 0;
	if (png_add_text((const unsigned char *)it->bytes.data,
	    it->bytes.len, provenance_text(&p), &png, &len) < 0) {
		rec_field_error(r, out, "invalid_field", "image.data", "cannot "
		    "embed the provenance in the PNG: %s", strerror(errno));
		return -1;
	}
	buf_reset(&it->bytes);
	buf_add(&it->bytes, png, len);
	free(png);
	it->embedded = 1;
	return 0;
}

/* Check the record and decode its image into `it`; else append the error
 * record to `out` and return -1. */
static int
read_item(const struct store *s, const struct rec *r, struct item *it,
    struct buf *out)
{
	const char *data, *why;
	size_t len;
	int found;

	it->image = rec_get(r, "image");
	if (!jqx_present(it->image)) {
		rec_field_error(r, out, "missing_field", "image",
		    "the record has no image");
		return -1;
	}
	if (jv_get_kind(it->image) != JV_KIND_OBJECT) {
		rec_field_error(r, out, "invalid_field", "image",
		    "image must be an object");
		return -1;
	}
	found = rec_image_data(r, &data, &len, &it->scratch);
	if (found == -1) {
		rec_field_error(r, out, "missing_field", "image.data",
		    "the image has no data");
		return -1;
	}
	if (journal_record_key(r, out, &it->session, &it->turn) < 0)
		return -1;
	if (found < 0 || digest_unbase64(&it->bytes, data, len) < 0) {
		rec_field_error(r, out, "invalid_field", "image.data",
		    "image.data must be a base64 string");
		return -1;
	}
	if (imgcheck((const unsigned char *)it->bytes.data, it->bytes.len,
	    &it->kind, &why) < 0) {
		store_error(r, out, "not_an_image", 0, "image.data is %s", why);
		return -1;
	}
	if (s->embed && embed(r, it, out) < 0)
		return -1;
	digest_sha256_hex(it->bytes.data, it->bytes.len, it->sha256);
	if (s->name_template == NULL) {
		storelayout_object_name(&it->rel, it->sha256, it->kind.ext);
	} else if (expand_name(s->name_template, it, &why) < 0) {
		rec_field_error(r, out, "invalid_field", "session", "--name "
		    "makes '%s' of this record, which cannot be stored: %s",
		    it->rel.data, why);
		return -1;
	}
	return 0;
}

/*
 * Whether `name` in the directory dfd holds exactly the item's bytes: 1
 * yes, 0 no, -1 with errno (ENOENT: no such file).  For a content address
 * the size is enough, as the name says what the bytes are.
 */
static int
holds(int dfd, const char *name, const struct item *it, int size_only)
{
	char chunk[65536];
	struct stat st;
	size_t at = 0;
	ssize_t n = 0;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), same,
	    saved;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	same = S_ISREG(st.st_mode) && (size_t)st.st_size == it->bytes.len;
	while (same && !size_only && (n = read(fd, chunk, sizeof(chunk))) > 0) {
		same = (size_t)n <= it->bytes.len - at &&
		    memcmp(it->bytes.data + at, chunk, (size_t)n) == 0;
		at += (size_t)n;
	}
	if (n < 0)
		goto fail;
	close(fd);
	return same;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * The store's directory, opened on the first record (and made, with its
 * sessions/, which is how imgp-store --check knows a store).  Everything
 * in it is then reached from this descriptor without following symbolic
 * links (durable_open_beneath): a link planted in a shared store cannot
 * make imgp-store write outside it (design.md §2).  sessions/ stays open
 * too, for the journal line of every record (no imgp tool removes it).
 * On failure `what` names what failed.
 */
static int
store_root(struct store *s, struct buf *what)
{
	struct buf failed = BUF_INIT;
	int fd, saved;

	if (s->root >= 0)
		return s->root;
	if ((fd = durable_open_dir(s->dir, !s->no_fsync, &failed)) < 0) {
		saved = errno;
		buf_printf(what, "directory %s", failed.data);
		buf_free(&failed);
		errno = saved;
		return -1;
	}
	if ((s->sessions = durable_open_dir_beneath(fd, "sessions",
	    !s->no_fsync, NULL)) < 0) {
		saved = errno;
		buf_printf(what, "directory %s/sessions", s->dir);
		close(fd);
		errno = saved;
		return -1;
	}
	s->root = fd;
	return fd;
}

/* Open (making it if need be) the directory `rel` of the store; on
 * failure `what` names it. */
static int
open_dir(struct store *s, const char *rel, struct buf *what)
{
	struct buf failed = BUF_INIT;
	int fd, saved;

	if (store_root(s, what) < 0)
		return -1;
	fd = durable_open_dir_beneath(s->root, rel, !s->no_fsync, &failed);
	saved = errno;
	if (fd < 0)
		buf_printf(what, "directory %s/%s", s->dir, failed.data);
	buf_free(&failed);
	errno = saved;
	return fd;
}

enum { PUT_OK, PUT_IO, PUT_EXISTS, PUT_RETRY };

/* Put the item's bytes under its name; on PUT_IO, `what` says what failed
 * (errno is set). */
static int
put_object(struct store *s, const struct item *it, struct buf *what)
{
	const char *base = strrchr(it->rel.data, '/');
	int content = s->name_template == NULL, dfd, held, status = PUT_IO;
	struct buf dir = BUF_INIT, rel = BUF_INIT;

	buf_puts(&dir, s->dir);
	buf_puts(&rel, "");
	if (base) {
		buf_add(&rel, it->rel.data, (size_t)(base - it->rel.data));
		buf_printf(&dir, "/%s", rel.data);
		base++;
	} else {
		base = it->rel.data;
	}
	if ((dfd = open_dir(s, rel.data, what)) < 0)
		goto done;
	held = holds(dfd, base, it, content);
	/* An object that is already there is touched: --gc spares what
	 * changed within its grace period, and this object's journal line is
	 * yet to come.  One that cannot be touched is written again. */
	if (held == 1 && content &&
	    utimensat(dfd, base, NULL, AT_SYMLINK_NOFOLLOW) < 0) {
		held = -1;
		errno = ENOENT;
	}
	if (held == 1 || (held == 0 && !content)) {
		status = held ? PUT_OK : PUT_EXISTS;
		goto close_dir;
	}
	/* A content address that is a symbolic link (planted: imgp-store
	 * never makes one) is replaced below like a damaged copy. */
	if (held < 0 && errno != ENOENT && !(content && errno == ELOOP)) {
		buf_printf(what, "read %s/%s", dir.data, base);
		goto close_dir;
	}
	/* A content address may replace a damaged copy (same name, same
	 * bytes); a readable name may never replace anything. */
	if (durable_putat(dfd, dir.data, base, STORE_TEMP_PREFIX,
	    it->bytes.data, it->bytes.len, (content ? 0 : DURABLE_NO_REPLACE) |
	    (s->no_fsync ? DURABLE_NO_SYNC : 0), what) == 0)
		status = PUT_OK;
	else if (errno == EEXIST && (held = holds(dfd, base, it, 0)) >= 0)
		status = held ? PUT_OK : PUT_EXISTS;
	else if (errno == EEXIST)
		buf_printf(what, "read %s/%s", dir.data, base);
close_dir:
	close(dfd);
done:
	buf_free(&dir);
	buf_free(&rel);
	return status;
}

int
store_open(struct store *s, struct buf *why)
{
	if (!s3loc_is_uri(s->dir))
		return 0;
	s->s3 = xcalloc(1, sizeof(*s->s3));
	if (s3_open(s->s3, s->dir, why) == 0)
		return 0;
	free(s->s3);
	s->s3 = NULL;
	return -1;
}

void
store_close(struct store *s)
{
	if (s->s3) {
		s3_close(s->s3);
		free(s->s3);
		s->s3 = NULL;
	}
}

/* What an S3 request's failure is for the record. */
static int
s3_put_status(enum s3_status status)
{
	return status == S3_UNAVAILABLE ? PUT_RETRY : PUT_IO;
}

/* Whether the object under the item's name on S3 holds its bytes (for a
 * content address, its size is enough): PUT_OK yes, PUT_EXISTS other
 * bytes, -1 none there, else an S3 failure (s3_put_status). */
static int
held_s3(struct store *s, const struct item *it, int size_only,
    struct buf *what)
{
	struct buf bytes = BUF_INIT;
	enum s3_status status;
	long long size;
	int held;

	status = s3_head(s->s3, it->rel.data, &size, what);
	if (status == S3_ABSENT)
		return -1;
	if (status != S3_OK)
		return s3_put_status(status);
	if (size != (long long)it->bytes.len)
		return PUT_EXISTS;
	if (size_only)
		return PUT_OK;
	status = s3_get(s->s3, it->rel.data, it->bytes.len, &bytes, what);
	if (status == S3_ABSENT)
		held = -1;
	else if (status != S3_OK)
		held = s3_put_status(status);
	else
		held = bytes.len == it->bytes.len && memcmp(bytes.data,
		    it->bytes.data, bytes.len) == 0 ? PUT_OK : PUT_EXISTS;
	buf_free(&bytes);
	return held;
}

/* put_object for an s3:// store (store_open). */
static int
put_object_s3(struct store *s, const struct item *it, struct buf *what)
{
	int content = s->name_template == NULL;
	int held = held_s3(s, it, content, what);
	enum s3_status status;

	/* A content address of another size is a damaged copy: the same
	 * name, so the same bytes, go over it. */
	if (held == PUT_OK || (held == PUT_EXISTS && !content) ||
	    held == PUT_IO || held == PUT_RETRY)
		return held;
	status = s3_put(s->s3, it->rel.data, it->bytes.data, it->bytes.len,
	    it->kind.mime, !content, what);
	if (status == S3_CONFLICT)
		return (held = held_s3(s, it, 0, what)) < 0 ? PUT_EXISTS : held;
	return status == S3_OK ? PUT_OK : s3_put_status(status);
}

/* A string member as a JSON string, anything else as null. */
static void
put_string_or_null(struct buf *b, jv v)
{
	size_t len;
	const char *s = jqx_str(v, &len);

	if (s)
		json_put_string(b, s, len);
	else
		buf_puts(b, "null");
}

/* The members that `asset` and a journal line share, in that order. */
static void
put_object_fields(struct buf *b, const struct item *it)
{
	buf_printf(b, "\"sha256\":\"%s\",\"path\":", it->sha256);
	json_put_string(b, it->rel.data, it->rel.len);
	buf_printf(b, ",\"bytes\":%zu,\"mime\":\"%s\"", it->bytes.len,
	    it->kind.mime);
}

/* image.usage.cost as the provider wrote it, when it is a number; else
 * null, for a cost that was not reported is not a cost of 0.  An answer
 * from imgp-gen's cache was paid for by the line that first stored it:
 * 0, or --session-budget would count it twice. */
static void
put_cost(struct buf *b, const struct rec *r, const struct item *it)
{
	const struct json_member *m = json_find(&r->members, "image");
	struct json_members image = JSON_MEMBERS_INIT;
	struct json_members usage = JSON_MEMBERS_INIT;
	jv cost = jqx_get(jqx_get(it->image, "usage"), "cost");

	if (jv_get_kind(jqx_get(it->image, "cached")) == JV_KIND_TRUE) {
		buf_putc(b, '0');
	} else if (jv_get_kind(cost) == JV_KIND_NUMBER) {
		json_members_of(m->value, m->value_len, &image);
		m = json_find(&image, "usage");
		json_members_of(m->value, m->value_len, &usage);
		m = json_find(&usage, "cost");
		buf_add(b, m->value, m->value_len);
	} else {
		buf_puts(b, "null");
	}
	json_members_free(&image);
	json_members_free(&usage);
}

/* Whether a member is not the judge's own: one the stages add, or one of
 * the program that drives the pipeline. */
static int
stage_member(const struct json_member *m)
{
	static const char *const added[] = { "request", "image", "asset",
	    "url", "error" };
	size_t i;

	for (i = 0; i < sizeof(added) / sizeof(*added); i++)
		if (json_key_is(m, added[i]))
			return 1;
	return json_key_has_prefix(m, REC_CALLER_PREFIX);
}

/*
 * "judge": the record's own members as written, so that --export gives
 * back what decides the picture (a directive's `when` reads them).  Past
 * STORE_JUDGE_MAX bytes the members that do not fit are left out, but for
 * session, turn and image_prompt, and "judge_cut" says so.
 */
static void
put_judge(const struct rec *r, struct buf *b)
{
	size_t i, start = b->len;
	int cut = 0;

	buf_puts(b, ",\"judge\":{");
	for (i = 0; i < r->members.n; i++) {
		const struct json_member *m = &r->members.v[i];

		if (stage_member(m))
			continue;
		if (b->len - start + m->text_len > STORE_JUDGE_MAX &&
		    !json_key_is(m, "session") && !json_key_is(m, "turn") &&
		    !json_key_is(m, "image_prompt")) {
			cut = 1;
			continue;
		}
		if (b->data[b->len - 1] != '{')
			buf_putc(b, ',');
		buf_add(b, m->text, m->text_len);
	}
	buf_putc(b, '}');
	if (cut)
		buf_puts(b, ",\"judge_cut\":true");
}

/* "options": the request's image options as written, and the roles of its
 * references, in order. */
static void
put_options(const struct rec *r, struct buf *b)
{
	static const char *const names[] = { "aspect_ratio", "size",
	    "image_size", "quality", "model" };
	const struct json_member *request = json_find(&r->members, "request");
	struct json_members members = JSON_MEMBERS_INIT;
	jv refs = jqx_get(rec_get(r, "request"), "references");
	const struct json_member *m;
	size_t i;

	buf_puts(b, ",\"options\":{");
	if (request && jv_get_kind(rec_get(r, "request")) == JV_KIND_OBJECT)
		json_members_of(request->value, request->value_len, &members);
	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if ((m = json_find(&members, names[i])) == NULL)
			continue;
		if (b->data[b->len - 1] != '{')
			buf_putc(b, ',');
		json_put_key(b, names[i]);
		buf_add(b, m->value, m->value_len);
	}
	if (jv_get_kind(refs) == JV_KIND_ARRAY) {
		if (b->data[b->len - 1] != '{')
			buf_putc(b, ',');
		buf_puts(b, "\"references\":[");
		for (i = 0; i < jqx_len(refs); i++) {
			if (i)
				buf_putc(b, ',');
			put_string_or_null(b, jqx_get(jqx_at(refs, i), "role"));
		}
		buf_putc(b, ']');
	}
	buf_putc(b, '}');
	json_members_free(&members);
}

/* The journal line of the stored record (design.md §2). */
static void
put_journal_line(const struct rec *r, const struct item *it, struct buf *b)
{
	long long seed;

	buf_printf(b, "{\"turn\":%lld,", it->turn);
	put_object_fields(b, it);
	buf_puts(b, ",\"image_prompt\":");
	put_string_or_null(b, rec_get(r, "image_prompt"));
	buf_puts(b, ",\"prompt\":");
	put_string_or_null(b, jqx_get(rec_get(r, "request"), "prompt"));
	if ((seed = whole_number(jqx_get(rec_get(r, "request"), "seed"))) >= 0)
		buf_printf(b, ",\"seed\":%lld", seed);
	else
		buf_puts(b, ",\"seed\":null");
	buf_puts(b, ",\"model\":");
	put_string_or_null(b, jqx_get(it->image, "model"));
	buf_puts(b, ",\"fallback\":");
	put_string_or_null(b, jqx_get(it->image, "fallback"));
	buf_puts(b, ",\"cost\":");
	put_cost(b, r, it);
	put_options(r, b);
	put_judge(r, b);
	buf_puts(b, ",\"stored_at\":");
	json_put_now(b);
	buf_putc(b, '}');
}

/* The journal line as its own object of an s3:// store (journal.h): a
 * PUT status. */
static int
put_journal_s3(struct store *s, const struct rec *r, const struct item *it,
    struct buf *what)
{
	struct buf line = BUF_INIT, key = BUF_INIT;
	enum s3_status status;

	put_journal_line(r, it, &line);
	journal_object_key(&key, it->session, it->turn);
	status = s3_put(s->s3, key.data, line.data, line.len,
	    "application/json", 0, what);
	buf_free(&line);
	buf_free(&key);
	return status == S3_OK ? PUT_OK : s3_put_status(status);
}

/* Append the journal line; on failure `what` says where. */
static int
append_journal(struct store *s, const struct rec *r, const struct item *it,
    struct buf *what)
{
	struct buf line = BUF_INIT;
	int status;

	if (store_root(s, what) < 0)
		return -1;
	put_journal_line(r, it, &line);
	if ((status = journal_append(s->sessions, it->session, line.data,
	    line.len, !s->no_fsync)) < 0)
		buf_printf(what, "append to %s/sessions/%s" JOURNAL_EXT, s->dir,
		    it->session);
	buf_free(&line);
	return status;
}

/* The record with `asset` added and, unless kept, image.data removed: the
 * image's other members are spliced as written. */
static void
put_output(const struct store *s, const struct rec *r, const struct item *it,
    struct buf *out)
{
	const struct json_member *image = json_find(&r->members, "image");
	struct json_members members = JSON_MEMBERS_INIT;
	struct rec_edit data = { "data", NULL, 0 }, edits[2];
	struct buf asset = BUF_INIT, spliced = BUF_INIT, stored = BUF_INIT;
	int edit_image = !s->keep_data || it->embedded;

	buf_putc(&asset, '{');
	put_object_fields(&asset, it);
	buf_printf(&asset, ",\"width\":%u,\"height\":%u}", it->kind.width,
	    it->kind.height);
	edits[0] = (struct rec_edit){ "asset", asset.data, asset.len };
	/* Kept data is what was stored, so that it matches asset.sha256. */
	if (s->keep_data && it->embedded) {
		buf_putc(&stored, '"');
		digest_base64(&stored, it->bytes.data, it->bytes.len);
		buf_putc(&stored, '"');
		data = (struct rec_edit){ "data", stored.data, stored.len };
	}
	if (edit_image) {
		json_members_of(image->value, image->value_len, &members);
		rec_splice(&members, &data, 1, &spliced);
		edits[1] = (struct rec_edit){ "image", spliced.data,
		    spliced.len };
	}
	rec_splice(&r->members, edits, edit_image ? 2 : 1, out);
	json_members_free(&members);
	buf_free(&asset);
	buf_free(&spliced);
	buf_free(&stored);
}

int
store_lock(const char *dir, int how, struct buf *failed)
{
	int fd = durable_open_dir(dir, 1, failed), saved;

	while (fd >= 0 && flock(fd, how) < 0) {
		if (errno == EINTR)
			continue;
		saved = errno;
		if (failed)
			buf_printf(failed, "lock %s", dir);
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* store_record on an s3:// store: no lock, for no remover runs there. */
static int
store_s3(struct store *s, const struct rec *r, const struct item *it,
    struct buf *out)
{
	struct buf what = BUF_INIT;
	int status;

	if ((status = put_object_s3(s, it, &what)) == PUT_OK)
		status = put_journal_s3(s, r, it, &what);
	if (status == PUT_EXISTS)
		exists_error(s, r, it, out);
	else if (status != PUT_OK)
		store_error(r, out, "io", status == PUT_RETRY, "cannot store "
		    "the image: %s", what.data);
	else
		put_output(s, r, it, out);
	buf_free(&what);
	return status == PUT_OK ? 0 : 1;
}

int
store_record(void *ctx, const struct rec *r, struct buf *out)
{
	struct store *s = ctx;
	struct item it = { .scratch = BUF_INIT, .bytes = BUF_INIT,
	    .rel = BUF_INIT };
	struct buf what = BUF_INIT;
	int status = 1, lock = -1;

	if (read_item(s, r, &it, out) < 0)
		goto done;
	if (s->s3) {
		status = store_s3(s, r, &it, out);
		goto done;
	}
	if ((lock = store_lock(s->dir, LOCK_SH, &what)) < 0) {
		io_error(r, out, &what);
		goto done;
	}
	switch (put_object(s, &it, &what)) {
	case PUT_EXISTS:
		exists_error(s, r, &it, out);
		goto done;
	case PUT_IO:
		io_error(r, out, &what);
		goto done;
	}
	if (append_journal(s, r, &it, &what) < 0) {
		io_error(r, out, &what);
		goto done;
	}
	put_output(s, r, &it, out);
	status = 0;
done:
	if (lock >= 0)
		close(lock);
	buf_free(&it.scratch);
	buf_free(&it.bytes);
	buf_free(&it.rel);
	buf_free(&what);
	return status;
}
