#include "text.h"

#include <string.h>

#include "json.h"

/* Byte length of the white-space character at s (0 if none). */
static size_t
space_at(const unsigned char *s, const unsigned char *end)
{
	size_t left = (size_t)(end - s);

	if (strchr(" \t\n\v\f\r", *s) && *s)
		return 1;
	if (left >= 2 && s[0] == 0xc2 && s[1] == 0xa0)
		return 2;			/* U+00A0 */
	if (left < 3)
		return 0;
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
		return 3;			/* U+1680 */
	if (s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
		return 3;			/* U+2000–200A, 2028–9, 202F */
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
		return 3;			/* U+205F */
	if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
		return 3;			/* U+3000 */
	if (s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return 3;			/* U+FEFF */
	return 0;
}

/* Length of the character at s: its UTF-8 sequence, or 1 for a byte that
 * does not start a whole one (records are valid UTF-8, but a cut must
 * never run past the end or swallow the next character). */
static size_t
char_len(const char *s, const char *end)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4, i;

	if ((size_t)(end - s) < n)
		return 1;
	for (i = 1; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

void
text_cut(struct buf *b, size_t from, size_t max_chars)
{
	size_t at = from;

	while (at < b->len && max_chars > 0) {
		at += char_len(b->data + at, b->data + b->len);
		max_chars--;
	}
	if (at < b->len)
		buf_truncate(b, at);
}

size_t
text_chars(const char *s, size_t len)
{
	size_t i = 0, n = 0;

	while (i < len) {
		i += char_len(s + i, s + len);
		n++;
	}
	return n;
}

void
text_compact(struct buf *out, const char *s, size_t len, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t from = out->len;
	int pending_space = 0;

	while (p < end) {
		size_t n = space_at(p, end);

		if (n) {
			pending_space = out->len > from;
			p += n;
			continue;
		}
		if (pending_space)
			buf_putc(out, ' ');
		pending_space = 0;
		n = char_len((const char *)p, (const char *)end);
		buf_add(out, p, n);
		p += n;
	}
	text_cut(out, from, max_chars);
}

/* Replace every `len` bytes `what` in b. */
static void
replace_all(struct buf *b, const char *what, size_t len)
{
	struct buf rest = BUF_INIT;
	size_t from = 0;
	char *at;

	while (len && b->len > from && (at = memmem(b->data + from,
	    b->len - from, what, len)) != NULL) {
		size_t off = (size_t)(at - b->data);

		buf_reset(&rest);
		buf_add(&rest, at + len, b->len - off - len);
		buf_truncate(b, off);
		buf_puts(b, "[redacted]");
		from = b->len;
		buf_add(b, rest.data ? rest.data : "", rest.len);
	}
	buf_free(&rest);
}

void
text_redact(struct buf *b, const char *secret)
{
	struct buf escaped = BUF_INIT;

	if (secret == NULL || *secret == '\0')
		return;
	replace_all(b, secret, strlen(secret));
	json_put_cstring(&escaped, secret);
	/* Without its quotes; only when escaping changed it. */
	if (escaped.len - 2 != strlen(secret))
		replace_all(b, escaped.data + 1, escaped.len - 2);
	explicit_bzero(escaped.data, escaped.len);
	buf_free(&escaped);
}
