#include "rec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "jqx.h"
#include "text.h"
#include "xalloc.h"

int
rec_blank(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!strchr(" \t\r\f\v", line[i]) || line[i] == '\0')
			return 0;
	return 1;
}

/* The path of the one large member of the contract, read as text. */
static const char *const image_data[] = { "image", "data", NULL };

/* The members' values as libjq reads them, each parsed when first asked
 * for; invalid until then.  Kept from record to record, so that reading
 * a line allocates nothing once the array has grown to the widest one. */
struct rec_values {
	jv *member;		/* [i]: r->members.v[i]'s value */
	size_t n, cap;		/* n: the members of the record */
	int parsed;		/* the record is a JSON object */
	jv whole;
};

static void
values_clear(struct rec_values *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		jqx_free(v->member[i]);
	v->n = 0;
	v->parsed = 0;
	jqx_free(v->whole);
	v->whole = jv_invalid();
}

/* Whether libjq refuses the line (json.h reads a lone \uD800-\uDBFF as
 * U+FFFD, libjq 1.6 fails on it): no stage takes it as a record, as when
 * libjq read every line whole.  Only a line with a \uD800-\uDBFF escape
 * is read by libjq to know.  The line is valid JSON, so a backslash
 * starts an escape, and the character after it ends a short one. */
static int
libjq_refuses(const char *line, size_t len)
{
	const char *p = line, *end = line + len;

	while (p < end && (p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
		if (end - p >= 4 && p[1] == 'u' && (p[2] == 'd' ||
		    p[2] == 'D') && p[3] && strchr("89abAB", p[3]))
			return !jqx_accepts(line, len);
		p += 2;
	}
	return 0;
}

int
rec_parse(struct rec *r, const char *line, size_t len)
{
	struct rec_values *v;
	size_t where, i;

	if (r->values == NULL) {
		r->values = xcalloc(1, sizeof(*r->values));
		r->values->whole = jv_invalid();
	}
	v = r->values;
	values_clear(v);
	r->line = line;
	r->len = len;
	r->why = NULL;
	if (json_scan_object(line, len, &r->members, &r->why, &where) < 0)
		return -1;
	if (libjq_refuses(line, len)) {
		r->why = "libjq could not parse it";
		return -1;
	}
	if (r->members.n > v->cap) {
		v->cap = r->members.n;
		v->member = xcheck(reallocarray(v->member, v->cap,
		    sizeof(*v->member)));
	}
	for (i = 0; i < r->members.n; i++)
		v->member[i] = jv_invalid();
	v->n = r->members.n;
	v->parsed = 1;
	return 0;
}

void
rec_free(struct rec *r)
{
	if (r->values) {
		values_clear(r->values);
		free(r->values->member);
		free(r->values);
		r->values = NULL;
	}
	json_members_free(&r->members);
}

/* json.h has checked the line, more strictly than libjq, so libjq reads
 * any member of it (and the member read alone is the value libjq would
 * find in the whole object: the last of its name). */
jv
rec_get(const struct rec *r, const char *key)
{
	const struct json_member *m;
	struct rec_values *v = r->values;
	size_t i;

	if (v == NULL || !v->parsed || (m = json_find(&r->members, key)) ==
	    NULL)
		return jv_invalid();
	i = (size_t)(m - r->members.v);
	if (!jv_is_valid(v->member[i]))
		v->member[i] = jqx_parse_except(m->value, m->value_len,
		    strcmp(key, image_data[0]) == 0 ? image_data + 1 : NULL);
	return v->member[i];
}

jv
rec_value(const struct rec *r)
{
	struct rec_values *v = r->values;

	if (v == NULL || !v->parsed)
		return jv_invalid();
	if (!jv_is_valid(v->whole))
		v->whole = jqx_parse_except(r->line, r->len, image_data);
	return v->whole;
}

int
rec_image_data(const struct rec *r, const char **data, size_t *len,
    struct buf *scratch)
{
	const struct json_member *image = json_find(&r->members, "image");
	struct json_members members = JSON_MEMBERS_INIT;
	const struct json_member *m;
	int rc = -1;

	if (image == NULL || *image->value != '{')
		return -1;
	json_members_of(image->value, image->value_len, &members);
	if ((m = json_find(&members, "data")) != NULL)
		rc = json_string_value(m->value, m->value_len, data, len,
		    scratch) < 0 ? -2 : 0;
	json_members_free(&members);
	return rc;
}

int
rec_has_error(const struct rec *r)
{
	return jqx_present(rec_get(r, "error"));
}

static const struct rec_edit *
edit_for(const struct json_member *m, const struct rec_edit *edits,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (json_key_is(m, edits[i].key))
			return &edits[i];
	return NULL;
}

/* Append a new member, with a comma unless it is the object's first. */
static void
put_member(struct buf *out, int first, const char *key, const char *text,
    size_t len)
{
	if (!first)
		buf_putc(out, ',');
	json_put_key(out, key);
	buf_add(out, text, len);
}

/*
 * The object is copied as written, white space included, member by member:
 * each member that is kept comes with the text that separated it from the
 * member before it (its comma), or with none when it is the first kept.
 */
void
rec_splice(const struct json_members *members, const struct rec_edit *edits,
    size_t nedits, struct buf *out)
{
	unsigned char placed[nedits ? nedits : 1];
	const char *tail = members->open + 1;	/* end of the last member */
	int first = 1;
	size_t i;

	memset(placed, 0, sizeof(placed));
	buf_add(out, members->open, (size_t)(members->n ? members->v[0].text -
	    members->open : 1));
	for (i = 0; i < members->n; i++) {
		const struct json_member *m = &members->v[i];
		const struct rec_edit *e = edit_for(m, edits, nedits);

		if (e && (e->text == NULL || placed[e - edits])) {
			/* Removed, or a later duplicate: the next member's
			 * separator starts after it, not before. */
			placed[e - edits] = 1;
			tail = m->value + m->value_len;
			continue;
		}
		if (!first)
			buf_add(out, i ? tail : ",",
			    i ? (size_t)(m->text - tail) : 1);
		tail = m->value + m->value_len;
		first = 0;
		if (e == NULL) {
			buf_add(out, m->text, m->text_len);
			continue;
		}
		buf_add(out, m->text, (size_t)(m->value - m->text));
		buf_add(out, e->text, e->len);
		placed[e - edits] = 1;
	}
	for (i = 0; i < nedits; i++)
		if (!placed[i] && edits[i].text) {
			put_member(out, first, edits[i].key, edits[i].text,
			    edits[i].len);
			first = 0;
		}
	if (members->n) {
		const struct json_member *last = &members->v[members->n - 1];
		const char *after = last->value + last->value_len;

		buf_add(out, after, (size_t)(members->close - after) + 1);
	} else {
		buf_putc(out, '}');
	}
}

void
rec_with(const struct rec *r, const char *key, const char *text, size_t len,
    struct buf *out)
{
	struct rec_edit edit = { key, text, len };

	rec_splice(&r->members, &edit, 1, out);
}

static void error_vbegin(struct buf *, const char *, const char *, va_list)
	__attribute__((format(printf, 3, 0)));

static void
error_vbegin(struct buf *b, const char *code, const char *fmt, va_list ap)
{
	struct buf message = BUF_INIT;

	buf_vprintf(&message, fmt, ap);
	buf_puts(b, "{\"stage\":");
	json_put_cstring(b, diag_stage());
	buf_puts(b, ",\"code\":");
	json_put_cstring(b, code);
	buf_puts(b, ",\"message\":");
	json_put_string(b, message.data, message.len);
	buf_free(&message);
}

void
rec_error_begin(struct buf *b, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vbegin(b, code, fmt, ap);
	va_end(ap);
}

void
rec_error_end(struct buf *b)
{
	buf_putc(b, '}');
}

void
rec_bad_json(const struct rec *r, struct buf *out)
{
	buf_puts(out, "{\"error\":");
	rec_error_begin(out, "bad_json",
	    "line %ld%s%s is not a JSON object: %s", r->lineno, strcmp(r->source, "-") ? " of " : "",
	    strcmp(r->source, "-") ? r->source : "", r->why);
	buf_printf(out, ",\"retryable\":false,\"line\":%ld", r->lineno);
	if (strcmp(r->source, "-") != 0) {
		buf_puts(out, ",\"file\":");
		json_put_cstring(out, r->source);
	}
	rec_error_end(out);
	buf_puts(out, ",\"raw\":");
	json_put_string(out, r->line, r->len);
	buf_putc(out, '}');
}

void
rec_field_error(const struct rec *r, struct buf *out, const char *code,
    const char *field, const char *fmt, ...)
{
	struct buf error = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	error_vbegin(&error, code, fmt, ap);
	va_end(ap);
	buf_puts(&error, ",\"retryable\":false,\"field\":");
	json_put_cstring(&error, field);
	rec_error_end(&error);
	rec_with(r, "error", error.data, error.len, out);
	buf_free(&error);
}

void
rec_report(const struct rec *r, const char *out, size_t len)
{
	struct json_members m = JSON_MEMBERS_INIT;
	const struct json_member *member;
	const char *why, *session = jqx_str(rec_get(r, "session"), NULL);
	struct buf line = BUF_INIT;
	long long turn;
	size_t where;
	int retryable;
	jv error, attempts;

	if (json_scan_object(out, len, &m, &why, &where) < 0 ||
	    (member = json_find(&m, "error")) == NULL) {
		json_members_free(&m);
		return;
	}
	error = jqx_parse(member->value, member->value_len);
	if (session)
		buf_printf(&line, "session %s, ", session);
	if (jqx_int(rec_get(r, "turn"), 0, JQX_MAX_EXACT, &turn))
		buf_printf(&line, "turn %lld, ", turn);
	if (r->source && strcmp(r->source, "-") != 0)
		buf_printf(&line, "%s:", r->source);
	buf_printf(&line, "line %ld: %s", r->lineno,
	    jqx_str(jqx_get(error, "code"), NULL));
	/* What says whether feeding the record back may help. */
	attempts = jqx_get(error, "attempts");
	retryable = jv_get_kind(jqx_get(error, "retryable")) == JV_KIND_TRUE;
	if (jqx_present(attempts))
		buf_printf(&line, " (%zu attempt%s%s)", jqx_len(attempts),
		    jqx_len(attempts) == 1 ? "" : "s", retryable ?
		    ", retryable" : "");
	else if (retryable)
		buf_puts(&line, " (retryable)");
	buf_puts(&line, ": ");
	why = jqx_str(jqx_get(error, "message"), &where);
	text_compact(&line, why ? why : "", why ? where : 0, 300);
	/* The message may quote a provider or a record: no terminal
	 * control sequence gets through to stderr. */
	for (where = 0; where < line.len; where++)
		if ((unsigned char)line.data[where] < 0x20 ||
		    line.data[where] == 0x7f)
			line.data[where] = '?';
	diag_warnx("%s", line.data);
	jqx_free(error);
	json_members_free(&m);
	buf_free(&line);
}
