#include "url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "curlx.h"
#include "diag.h"
#include "digest.h"
#include "jqx.h"
#include "journal.h"
#include "json.h"
#include "s3sign.h"
#include "storelayout.h"
#include "xalloc.h"

enum { P_BASE, P_PATH, P_SHA256, P_SESSION, P_TURN, P_EXT, P_COUNT };

static const char *const placeholders[P_COUNT] = {
	"base", "path", "sha256", "session", "turn", "ext"
};

#define DEFAULT_TEMPLATE "{base}/{path}"

/*
 * Expand `template` with values[] into `out`.  Returns the set of
 * placeholders it uses (bit i for placeholders[i]), or -1 with *bad
 * pointing at a placeholder that is unknown or not closed.
 */
static long
expand(const char *template, const struct buf *values, struct buf *out,
    const char **bad)
{
	const char *p = template;
	long uses = 0;
	size_t len, i;

	for (;;) {
		len = strcspn(p, "{");
		buf_add(out, p, len);
		if (p[len] == '\0')
			return uses;
		p += len + 1;
		len = strcspn(p, "}");
		for (i = 0; i < P_COUNT; i++)
			if (strlen(placeholders[i]) == len &&
			    memcmp(p, placeholders[i], len) == 0)
				break;
		if (i == P_COUNT || p[len] != '}') {
			*bad = p - 1;
			return -1;
		}
		buf_add(out, values[i].data, values[i].len);
		uses |= 1L << i;
		p += len + 1;
	}
}

/* The base without its trailing slashes, so that "{base}/{path}" has
 * exactly one `/` between them whatever the user wrote. */
static void
put_base(const struct url *u, struct buf *out)
{
	size_t len = strlen(u->base);

	while (len > 0 && u->base[len - 1] == '/')
		len--;
	buf_add(out, u->base, len);
}

/* {path}: each segment percent-encoded, `/` kept between them; {ext}: the
 * last segment's extension (after its last dot), encoded. */
static void
put_path(const char *s, size_t len, struct buf *path, struct buf *ext)
{
	const char *end = s + len, *slash, *dot;

	for (;;) {
		slash = memchr(s, '/', (size_t)(end - s));
		curlx_escape(path, s, (size_t)((slash ? slash : end) - s));
		if (slash == NULL)
			break;
		buf_putc(path, '/');
		s = slash + 1;
	}
	if ((dot = memrchr(s, '.', (size_t)(end - s))) != NULL)
		curlx_escape(ext, dot + 1, (size_t)(end - dot - 1));
}

/* Append the error record about member `field`, missing or not `why`;
 * returns 1, as a filter_fn does for a new error record. */
static int
field_error(const struct rec *r, struct buf *out, jv value,
    const char *field, const char *why)
{
	if (!jqx_present(value))
		rec_field_error(r, out, "missing_field", field,
		    "the record has no %s", field);
	else
		rec_field_error(r, out, "invalid_field", field, "%s %s", field,
		    why);
	return 1;
}

/* The record's asset.path, a name imgp-store could have written, so never
 * a journal, a request file or a temporary file (design.md §5); NULL
 * with the error record appended to `out` when it is not. */
static const char *
asset_path(const struct rec *r, struct buf *out, size_t *len)
{
	jv asset = rec_get(r, "asset"), v;
	const char *s, *why;

	if (jv_get_kind(asset) != JV_KIND_OBJECT) {
		field_error(r, out, asset, "asset", "must be an object as "
		    "imgp-store writes it");
		return NULL;
	}
	v = jqx_get(asset, "path");
	if ((s = jqx_str(v, len)) == NULL)
		why = "it is not a string";
	else if (strlen(s) != *len)
		why = "it has a NUL byte";
	else
		why = storelayout_name_problem(s);
	if (why) {
		struct buf text = BUF_INIT;

		buf_printf(&text, "must be a name in the store of an image: "
		    "%s", why);
		field_error(r, out, v, "asset.path", text.data);
		buf_free(&text);
		return NULL;
	}
	return s;
}

/* Fill values[] with what the template uses; on a problem append the
 * error record to `out` and return 1. */
static int
read_values(const struct url *u, const struct rec *r, struct buf *values,
    struct buf *out)
{
	jv asset = rec_get(r, "asset"), v;
	const char *s;
	size_t len;
	long long turn;

	if ((s = asset_path(r, out, &len)) == NULL)
		return 1;
	put_base(u, &values[P_BASE]);
	put_path(s, len, &values[P_PATH], &values[P_EXT]);
	if (u->uses & 1u << P_SHA256) {
		v = jqx_get(asset, "sha256");
		if ((s = jqx_str(v, &len)) == NULL || len != DIGEST_HEX_LEN ||
		    strspn(s, "0123456789abcdef") != len)
			return field_error(r, out, v, "asset.sha256", "must "
			    "be 64 lower-case hex digits");
		buf_add(&values[P_SHA256], s, len);
	}
	if (u->uses & 1u << P_SESSION) {
		v = rec_get(r, "session");
		/* The session syntax is all unreserved URL characters. */
		if ((s = jqx_str(v, NULL)) == NULL || !journal_session_valid(s))
			return field_error(r, out, v, "session", "must be 1 to "
			    "128 of A-Z a-z 0-9 . _ - (not . or ..)");
		buf_puts(&values[P_SESSION], s);
	}
	if (u->uses & 1u << P_TURN) {
		v = rec_get(r, "turn");
		if (!jqx_int(v, 0, JQX_MAX_EXACT, &turn))
			return field_error(r, out, v, "turn", "must be a whole "
			    "number from 0 to 2^53-1");
		buf_printf(&values[P_TURN], "%lld", turn);
	}
	return 0;
}

static void
free_values(struct buf *values)
{
	size_t i;

	for (i = 0; i < P_COUNT; i++)
		buf_free(&values[i]);
}

/* The S3 store to use, NULL when none: --store, else $IMGP_STORE when it
 * is an s3:// store and --sign s3 or --verify could use it. */
static const char *
s3_store(const struct url *u)
{
	const char *env = cli_env((const char *const[]){ "IMGP_STORE", NULL },
	    NULL);

	if (u->store)
		return u->store;
	return (u->scheme == SIGN_S3 || u->verify) && s3loc_is_uri(env) ?
	    env : NULL;
}

static void
check_options(const struct url *u, const char *store)
{
	int expiry = u->expires_in || u->expires_at, s3 = u->scheme == SIGN_S3;

	if (u->verify && (u->scheme != SIGN_NONE || expiry))
		diag_errx(2, "--verify: checks URLs; --sign, --expires and "
		    "--expires-at make them");
	if (u->store && !s3 && !u->verify)
		diag_errx(2, "--store goes with --sign s3 or --verify");
	if (store && !s3loc_is_uri(store))
		diag_errx(2, "--store %s: imgp-url takes an s3:// store (the "
		    "URLs of a local store are made with --base)", store);
	if (u->verify && !u->key_file && !store)
		diag_errx(2, "--verify needs --key-file, or an s3:// store "
		    "(--store or IMGP_STORE)");
	if (s3 && !store)
		diag_errx(2, "--sign s3 needs --store s3://BUCKET/PREFIX (or "
		    "IMGP_STORE)");
	if (s3 && (u->key_file || u->base || u->template || u->expires_at))
		diag_errx(2, "--sign s3 presigns the object's own URL with the "
		    "AWS credentials for --expires: --key-file, --base, "
		    "--template and --expires-at go with hmac, nginx or "
		    "unsigned URLs");
	if (s3 && u->expires_in > S3SIGN_MAX_EXPIRES)
		diag_errx(2, "--expires: S3 takes at most 7 days (604800 "
		    "seconds)");
	if (u->scheme != SIGN_NONE && !s3 && u->key_file == NULL)
		diag_errx(2, "--sign needs --key-file");
	if (!u->verify && u->scheme == SIGN_NONE && (u->key_file || expiry))
		diag_errx(2, "--key-file, --expires and --expires-at go with "
		    "--sign or --verify");
	if (u->scheme != SIGN_NONE && !expiry)
		diag_errx(2, "--sign needs --expires or --expires-at");
	if (u->expires_in && u->expires_at)
		diag_errx(2, "--expires and --expires-at: give one of them");
}

/* Read the S3 store's location and credentials, or exit 2 saying why
 * (never with a secret: s3loc_parse names none). */
static struct s3loc *
s3_setup(const char *store)
{
	struct s3loc *loc = xcalloc(1, sizeof(*loc));
	struct buf why = BUF_INIT;

	if (s3loc_parse(store, loc, &why) < 0)
		diag_errx(2, "--store %s", why.data);
	return loc;
}

void
url_setup(struct url *u)
{
	/* Values of the shape a record has, to try the template on. */
	static const char *const sample[P_COUNT] = { NULL, "ab/ab.png",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "s", "0", "png" };
	struct buf values[P_COUNT], link = BUF_INIT;
	const char *bad, *store = s3_store(u);
	long uses;
	size_t i, bad_len;

	check_options(u, store);
	if (u->key_file)
		u->key = sign_key_load("--key-file", u->key_file, u->scheme);
	if (store)
		u->s3 = s3_setup(store);
	/* A presigned URL is the object's own: no base, no template. */
	if (u->scheme == SIGN_S3)
		return;
	if (u->template == NULL)
		u->template = DEFAULT_TEMPLATE;
	memset(values, 0, sizeof(values));
	put_base(u, &values[P_BASE]);
	for (i = 0; i < P_COUNT; i++)
		if (sample[i])
			buf_puts(&values[i], sample[i]);
	if ((uses = expand(u->template, values, &link, &bad)) < 0) {
		bad_len = strcspn(bad, "}");
		diag_errx(2, "--template: '%.*s' is none of {base} {path} "
		    "{sha256} {session} {turn} {ext}",
		    (int)(bad_len + (bad[bad_len] == '}')), bad);
	}
	u->uses = (unsigned)uses;
	if (u->scheme != SIGN_NONE && sign_url(u->key, u->scheme, &link, 0) < 0)
		diag_errx(2, "--sign: URLs such as %s cannot be signed: they "
		    "must be absolute or start with /, and have no ? or #",
		    link.data);
	free_values(values);
	buf_free(&link);
}

void
url_free(struct url *u)
{
	sign_key_free(u->key);
	u->key = NULL;
	if (u->s3)
		s3loc_free(u->s3);
	free(u->s3);
	u->s3 = NULL;
}

int
url_record(void *ctx, const struct rec *r, struct buf *out)
{
	const struct url *u = ctx;
	struct buf values[P_COUNT], link = BUF_INIT, text = BUF_INIT;
	const char *bad, *key;
	long long expires;
	size_t len;
	int status = 1;

	memset(values, 0, sizeof(values));
	if (u->scheme == SIGN_S3) {
		if ((key = asset_path(r, out, &len)) == NULL)
			goto done;
		s3sign_url(u->s3, key, (long long)time(NULL), u->expires_in,
		    &link);
		goto put;
	}
	if (read_values(u, r, values, out) != 0)
		goto done;
	expand(u->template, values, &link, &bad);
	expires = u->expires_at ? u->expires_at :
	    (long long)time(NULL) + u->expires_in;
	if (u->scheme != SIGN_NONE &&
	    sign_url(u->key, u->scheme, &link, expires) < 0) {
		/* A session that makes an invalid host name, say. */
		rec_error_begin(&text, "bad_url", "cannot sign %s: libcurl "
		    "does not read it as a URL", link.data);
		rec_error_end(&text);
		rec_with(r, "error", text.data, text.len, out);
		goto done;
	}
put:
	json_put_string(&text, link.data, link.len);
	rec_with(r, "url", text.data, text.len, out);
	status = 0;
done:
	free_values(values);
	buf_free(&link);
	buf_free(&text);
	return status;
}

static enum sign_result
verify(const struct url *u, const char *s, size_t len)
{
	struct buf link = BUF_INIT;
	enum sign_result result = SIGN_MALFORMED;
	long long now = (long long)time(NULL);

	buf_add(&link, s, len);
	/* A NUL inside (a JSON "\u0000") would cut the URL short.  Each
	 * scheme is checked with what was given for it; without that, its
	 * URLs are not ones this run can read. */
	if (strlen(link.data) == len && u->s3 && s3sign_claims(link.data))
		result = s3sign_verify(u->s3, link.data, now);
	else if (strlen(link.data) == len && u->key)
		result = sign_verify(u->key, link.data, now);
	buf_free(&link);
	return result;
}

int
url_verify_line(void *ctx, const char *line, size_t len, struct buf *out)
{
	enum sign_result result;

	/* Lines from CRLF files or indented lists. */
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	result = verify(ctx, line, len);
	buf_puts(out, sign_result_name(result));
	return result != SIGN_OK;
}

int
url_verify_record(void *ctx, const struct rec *r, struct buf *out)
{
	jv v = rec_get(r, "url");
	struct buf text = BUF_INIT;
	enum sign_result result;
	const char *s;
	size_t len;

	if ((s = jqx_str(v, &len)) == NULL)
		return field_error(r, out, v, "url", "must be a string");
	result = verify(ctx, s, len);
	json_put_cstring(&text, sign_result_name(result));
	rec_with(r, "verify", text.data, text.len, out);
	buf_free(&text);
	return result != SIGN_OK;
}
