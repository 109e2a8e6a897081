#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "xalloc.h"

struct scanner {
	const unsigned char *p, *start, *end;
	const char *why;
	int depth;
	int trusted;		/* validated before: strings need no check */
};

static int value(struct scanner *s);

static int
fail(struct scanner *s, const char *why)
{
	if (s->why == NULL)
		s->why = why;
	return -1;
}

static void
skip_space(struct scanner *s)
{
	while (s->p < s->end &&
	    (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

size_t
json_utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;
	unsigned long cp;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2, cp = *p & 0x1f;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3, cp = *p & 0x0f;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4, cp = *p & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static int
hex4(const unsigned char *p, const unsigned char *end)
{
	int i;

	if (end - p < 4)
		return 0;
	for (i = 0; i < 4; i++)
		if (!strchr("0123456789abcdefABCDEF", p[i]) || p[i] == '\0')
			return 0;
	return 1;
}

/*
 * Skip the plain ASCII bytes (no control character, quote or backslash)
 * at p, eight at a time: base64 images make strings of megabytes.
 */
static const unsigned char *
skip_plain(const unsigned char *p, const unsigned char *end)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;

	while (end - p >= 8) {
		uint64_t w, quote, slash, control;

		memcpy(&w, p, 8);
		quote = w ^ (ones * '"');
		slash = w ^ (ones * '\\');
		/* a byte is 0 in quote/slash, or below 0x20 in w, or has
		 * its high bit set: the classic "has a zero byte" test */
		control = (w - ones * 0x20) | (quote - ones) |
		    (slash - ones) | w;
		if (control & highs)
			break;
		p += 8;
	}
	return p;
}

/* The end of a string already validated: the first quote that is not
 * escaped, found with memchr. */
static int
trusted_string(struct scanner *s)
{
	const unsigned char *q = s->p + 1, *b;

	while ((q = memchr(q, '"', (size_t)(s->end - q))) != NULL) {
		for (b = q; b[-1] == '\\'; b--)
			;
		if ((q - b) % 2 == 0) {
			s->p = q + 1;
			return 0;
		}
		q++;
	}
	return fail(s, "unterminated string");
}

static int
string(struct scanner *s)
{
	size_t n;

	if (s->trusted)
		return trusted_string(s);
	s->p++;			/* the opening quote */
	while (s->p < s->end) {
		unsigned char c;

		s->p = skip_plain(s->p, s->end);
		if (s->p == s->end)
			break;
		c = *s->p;

		if (c == '"') {
			s->p++;
			return 0;
		}
		if (c < 0x20)
			return fail(s, "control character in string");
		if (c == '\\') {
			if (++s->p == s->end)
				break;
			if (*s->p == 'u') {
				if (!hex4(s->p + 1, s->end))
					return fail(s, "bad \\u escape");
				s->p += 5;
			} else if (*s->p && strchr("\"\\/bfnrt", *s->p)) {
				s->p++;
			} else {
				return fail(s, "bad escape in string");
			}
		} else if (c < 0x80) {
			s->p++;
		} else if ((n = json_utf8_len(s->p, s->end)) != 0) {
			s->p += n;
		} else {
			return fail(s, "invalid UTF-8");
		}
	}
	return fail(s, "unterminated string");
}

static int
digits(struct scanner *s)
{
	const unsigned char *from = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > from ? 0 : fail(s, "bad number");
}

static int
number(struct scanner *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (digits(s) < 0)
		return -1;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (digits(s) < 0)
			return -1;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (digits(s) < 0)
			return -1;
	}
	return 0;
}

static int
literal(struct scanner *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return fail(s, "unexpected character");
	s->p += n;
	return 0;
}

/* The members of an object, or the elements of an array: `close` ends
 * the list; for objects each item is `string : value`. */
static int
container(struct scanner *s, unsigned char close, struct json_members *out)
{
	if (++s->depth > JSON_MAX_DEPTH)
		return fail(s, "nesting too deep");
	s->p++;
	skip_space(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		return 0;
	}
	for (;;) {
		const unsigned char *text = s->p, *key_end = s->p, *val;

		if (close == '}') {
			if (s->p == s->end || *s->p != '"')
				return fail(s, "expected a member name");
			if (string(s) < 0)
				return -1;
			key_end = s->p - 1;
			skip_space(s);
			if (s->p == s->end || *s->p != ':')
				return fail(s, "expected ':'");
			s->p++;
			skip_space(s);
		}
		val = s->p;
		if (value(s) < 0)
			return -1;
		if (out && s->depth == 1) {
			struct json_member *m;

			if (out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 16;
				out->v = xcheck(realloc(out->v,
				    out->cap * sizeof(*out->v)));
			}
			m = &out->v[out->n++];
			m->key = (const char *)text + 1;
			m->key_len = (size_t)(key_end - text - 1);
			m->text = (const char *)text;
			m->text_len = (size_t)(s->p - text);
			m->value = (const char *)val;
			m->value_len = (size_t)(s->p - val);
		}
		skip_space(s);
		if (s->p == s->end)
			return fail(s, "unexpected end of input");
		if (*s->p == close) {
			s->p++;
			s->depth--;
			return 0;
		}
		if (*s->p != ',')
			return fail(s, "expected ',' or the end of the list");
		s->p++;
		skip_space(s);
	}
}

static int
value(struct scanner *s)
{
	if (s->p == s->end)
		return fail(s, "unexpected end of input");
	switch (*s->p) {
	case '{':
		return container(s, '}', NULL);
	case '[':
		return container(s, ']', NULL);
	case '"':
		return string(s);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return number(s);
		return fail(s, *s->p ? "unexpected character" : "NUL byte");
	}
}

static int
scan(const char *text, size_t len, int trusted, struct json_members *out,
    const char **why, size_t *where)
{
	struct scanner s = { (const unsigned char *)text,
	    (const unsigned char *)text, (const unsigned char *)text + len,
	    NULL, 0, trusted };
	int rc;

	skip_space(&s);
	if (out) {
		out->n = 0;
		if (s.p == s.end || *s.p != '{')
			rc = fail(&s, "not a JSON object");
		else {
			out->open = (const char *)s.p;
			rc = container(&s, '}', out);
			out->close = (const char *)s.p - 1;
		}
	} else {
		rc = value(&s);
	}
	if (rc == 0) {
		skip_space(&s);
		if (s.p != s.end)
			rc = fail(&s, "unexpected text after the JSON value");
	}
	if (rc < 0) {
		*why = s.why;
		*where = (size_t)(s.p - s.start);
	}
	return rc;
}

int
json_scan_object(const char *text, size_t len, struct json_members *out,
    const char **why, size_t *where)
{
	return scan(text, len, 0, out, why, where);
}

void
json_members_of(const char *text, size_t len, struct json_members *out)
{
	const char *why;
	size_t where;

	if (scan(text, len, 1, out, &why, &where) < 0)
		diag_errx(1, "json_members_of: text not validated: %s", why);
}

int
json_validate(const char *text, size_t len, const char **why, size_t *where)
{
	return scan(text, len, 0, NULL, why, where);
}

void
json_members_free(struct json_members *m)
{
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}

/* Decode one character of a JSON string body at *p, advancing it; the
 * result is the byte sequence in out[0..return).  Surrogate pairs are
 * joined; a lone surrogate decodes as U+FFFD, as libjq does. */
static size_t
decode_char(const char **p, char out[4])
{
	static const char esc_from[] = "\"\\/bfnrt";
	static const char esc_to[] = "\"\\/\b\f\n\r\t";
	const char *s = *p;
	unsigned long cp;

	if (*s != '\\') {
		out[0] = *s;
		*p = s + 1;
		return 1;
	}
	if (s[1] != 'u') {
		out[0] = esc_to[strchr(esc_from, s[1]) - esc_from];
		*p = s + 2;
		return 1;
	}
	cp = strtoul((char[5]){ s[2], s[3], s[4], s[5], 0 }, NULL, 16);
	*p = s + 6;
	if (cp >= 0xd800 && cp <= 0xdbff && s[6] == '\\' && s[7] == 'u') {
		unsigned long lo = strtoul(
		    (char[5]){ s[8], s[9], s[10], s[11], 0 }, NULL, 16);

		if (lo >= 0xdc00 && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			*p = s + 12;
		}
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Whether a member's decoded key is `name` (whole), or begins with it. */
static int
key_match(const struct json_member *m, const char *name, int whole)
{
	const char *p = m->key, *end = m->key + m->key_len;
	size_t n = strlen(name);

	if (memchr(p, '\\', m->key_len) == NULL)
		return (whole ? m->key_len == n : m->key_len >= n) &&
		    memcmp(p, name, n) == 0;
	while (p < end) {
		char c[4];
		size_t k = decode_char(&p, c);

		if (memcmp(c, name, k < n ? k : n) != 0)
			return 0;
		if (k >= n)
			return whole ? k == n && p == end : 1;
		name += k;
		n -= k;
	}
	return n == 0;
}

int
json_key_is(const struct json_member *m, const char *name)
{
	return key_match(m, name, 1);
}

int
json_key_has_prefix(const struct json_member *m, const char *prefix)
{
	return key_match(m, prefix, 0);
}

/* Append the decoded body p[0..end) of a valid string: runs without
 * escapes are copied whole. */
static void
decode_body(const char *p, const char *end, struct buf *out)
{
	while (p < end) {
		const char *esc = memchr(p, '\\', (size_t)(end - p));
		char c[4];

		if (esc == NULL)
			esc = end;
		buf_add(out, p, (size_t)(esc - p));
		p = esc;
		if (p < end)
			buf_add(out, c, decode_char(&p, c));
	}
}

void
json_key_decode(const struct json_member *m, struct buf *out)
{
	decode_body(m->key, m->key + m->key_len, out);
}

int
json_string_value(const char *text, size_t len, const char **s,
    size_t *slen, struct buf *scratch)
{
	if (len < 2 || text[0] != '"' || text[len - 1] != '"')
		return -1;
	if (memchr(text, '\\', len) == NULL) {
		*s = text + 1;
		*slen = len - 2;
		return 0;
	}
	buf_reset(scratch);
	decode_body(text + 1, text + len - 1, scratch);
	*s = scratch->data;
	*slen = scratch->len;
	return 0;
}

const struct json_member *
json_find(const struct json_members *m, const char *name)
{
	size_t i = m->n;

	while (i-- > 0)
		if (json_key_is(&m->v[i], name))
			return &m->v[i];
	return NULL;
}

void
json_put_string(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	const unsigned char *run = p;

	buf_grow(b, len + 2);
	buf_putc(b, '"');
	while (p < end) {
		const char *esc = NULL;
		size_t n = 1;

		if (*p >= 0x80 && (n = json_utf8_len(p, end)) != 0) {
			p += n;
			continue;
		}
		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			p++;
			continue;
		}
		buf_add(b, run, (size_t)(p - run));
		switch (*p) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		}
		if (esc)
			buf_puts(b, esc);
		else if (*p < 0x20)
			buf_add(b, (char[]){ '\\', 'u', '0', '0', hex[*p >> 4],
			    hex[*p & 15] }, 6);
		else		/* a byte that is not UTF-8: U+FFFD */
			buf_add(b, "\xef\xbf\xbd", 3);
		run = ++p;
	}
	buf_add(b, run, (size_t)(end - run));
	buf_putc(b, '"');
}

void
json_put_cstring(struct buf *b, const char *s)
{
	json_put_string(b, s, strlen(s));
}

void
json_put_key(struct buf *b, const char *name)
{
	json_put_cstring(b, name);
	buf_putc(b, ':');
}

void
json_put_now(struct buf *b)
{
	char stamp[sizeof("\"YYYY-MM-DDTHH:MM:SSZ\"")];
	time_t now = time(NULL);
	struct tm tm;

	strftime(stamp, sizeof(stamp), "\"%Y-%m-%dT%H:%M:%SZ\"",
	    gmtime_r(&now, &tm));
	buf_puts(b, stamp);
}
