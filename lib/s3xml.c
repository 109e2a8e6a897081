/*
 * s3xml — the few elements of S3's XML answers (s3xml.h).
 */
#include "s3xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

/* The text between <name> and </name> in [*at, end), moving *at past
 * it: 0, or -1 when there is no such element. */
static int
element(const char **at, const char *end, const char *name,
    const char **text, size_t *len)
{
	size_t n = strlen(name);
	const char *open, *close;
	char tag[64];

	snprintf(tag, sizeof(tag), "<%s>", name);
	if ((open = memmem(*at, (size_t)(end - *at), tag, n + 2)) == NULL)
		return -1;
	open += n + 2;
	snprintf(tag, sizeof(tag), "</%s>", name);
	if ((close = memmem(open, (size_t)(end - open), tag, n + 3)) == NULL)
		return -1;
	*text = open;
	*len = (size_t)(close - open);
	*at = close + n + 3;
	return 0;
}

/* Append the code point c as UTF-8: 0, or -1 when it is none XML
 * allows. */
static int
put_utf8(struct buf *out, unsigned long c)
{
	if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	if (c < 0x80) {
		buf_putc(out, (char)c);
	} else if (c < 0x800) {
		buf_putc(out, (char)(0xC0 | c >> 6));
		buf_putc(out, (char)(0x80 | (c & 0x3F)));
	} else if (c < 0x10000) {
		buf_putc(out, (char)(0xE0 | c >> 12));
		buf_putc(out, (char)(0x80 | (c >> 6 & 0x3F)));
		buf_putc(out, (char)(0x80 | (c & 0x3F)));
	} else {
		buf_putc(out, (char)(0xF0 | c >> 18));
		buf_putc(out, (char)(0x80 | (c >> 12 & 0x3F)));
		buf_putc(out, (char)(0x80 | (c >> 6 & 0x3F)));
		buf_putc(out, (char)(0x80 | (c & 0x3F)));
	}
	return 0;
}

static int
hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* One entity or character reference at s[0..len) (after the '&', up to
 * the ';'): 0, or -1. */
static int
put_reference(struct buf *out, const char *s, size_t len)
{
	static const struct { const char *name; char c; } named[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
		{ "apos", '\'' },
	};
	unsigned long c = 0;
	size_t i, digits = 0;
	int hex;

	for (i = 0; i < sizeof(named) / sizeof(*named); i++)
		if (strlen(named[i].name) == len &&
		    memcmp(named[i].name, s, len) == 0) {
			buf_putc(out, named[i].c);
			return 0;
		}
	if (len < 2 || s[0] != '#')
		return -1;
	hex = s[1] == 'x';
	for (i = 1 + hex; i < len && digits < 8; i++, digits++) {
		int d = hex_digit(s[i]);

		if (d < 0 || (!hex && d > 9))
			return -1;
		c = c * (hex ? 16 : 10) + (unsigned long)d;
	}
	return digits == 0 || i != len ? -1 : put_utf8(out, c);
}

/* The text s[0..len) decoded (percent escapes too with `url`), malloc'd;
 * NULL when it does not decode or holds a control character. */
static char *
decode(const char *s, size_t len, int url)
{
	struct buf out = BUF_INIT, pass = BUF_INIT;
	const char *semi;
	size_t i;
	int ok = 1;

	buf_puts(&pass, "");
	for (i = 0; i < len && ok; i++) {
		if (s[i] != '&') {
			buf_putc(&pass, s[i]);
			continue;
		}
		semi = memchr(s + i, ';', len - i);
		ok = semi && put_reference(&pass, s + i + 1,
		    (size_t)(semi - s - i - 1)) == 0;
		if (ok)
			i = (size_t)(semi - s);
	}
	buf_puts(&out, "");
	for (i = 0; i < pass.len && ok; i++) {
		int hi, lo;

		if (!url || pass.data[i] != '%') {
			buf_putc(&out, pass.data[i]);
			continue;
		}
		ok = i + 2 < pass.len &&
		    (hi = hex_digit(pass.data[i + 1])) >= 0 &&
		    (lo = hex_digit(pass.data[i + 2])) >= 0;
		if (ok) {
			buf_putc(&out, (char)(hi << 4 | lo));
			i += 2;
		}
	}
	for (i = 0; i < out.len && ok; i++)
		ok = (unsigned char)out.data[i] >= 0x20 &&
		    out.data[i] != 0x7F;
	buf_free(&pass);
	if (!ok) {
		buf_free(&out);
		return NULL;
	}
	return buf_detach(&out, NULL);
}

/* A <Size>: its digits as a number, else -1. */
static long long
size_of(const char *s, size_t len)
{
	long long n = 0;
	size_t i;

	if (len == 0 || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return n;
}

int
s3_list_parse(const char *xml, size_t len, struct s3_page *page)
{
	static const char root[] = "<ListBucketResult";
	const char *body, *end, *at, *text, *item;
	size_t tlen, cap = 0;
	int url = 0;

	memset(page, 0, sizeof(*page));
	/* The root element carries S3's xmlns attribute. */
	if (xml == NULL || (body = memmem(xml, len, root,
	    sizeof(root) - 1)) == NULL)
		return -1;
	body += sizeof(root) - 1;
	if (body == xml + len || (*body != '>' && *body != ' ') ||
	    (body = memchr(body, '>', len - (size_t)(body - xml))) == NULL ||
	    (end = memmem(body, len - (size_t)(body - xml),
	    "</ListBucketResult>", 19)) == NULL)
		return -1;
	at = ++body;
	if (element(&at, end, "EncodingType", &text, &tlen) == 0)
		url = tlen == 3 && memcmp(text, "url", 3) == 0;
	at = body;
	while (element(&at, end, "Contents", &item, &tlen) == 0) {
		const char *item_end = item + tlen, *field = item;
		char *key;

		if (element(&field, item_end, "Key", &text, &tlen) < 0 ||
		    (key = decode(text, tlen, url)) == NULL)
			continue;
		if (page->n == cap) {
			cap = cap ? 2 * cap : 64;
			page->keys = xcheck(reallocarray(page->keys, cap,
			    sizeof(*page->keys)));
			page->sizes = xcheck(reallocarray(page->sizes, cap,
			    sizeof(*page->sizes)));
		}
		field = item;
		page->sizes[page->n] = element(&field, item_end, "Size", &text,
		    &tlen) == 0 ? size_of(text, tlen) : -1;
		page->keys[page->n++] = key;
	}
	at = body;
	if (element(&at, end, "IsTruncated", &text, &tlen) == 0 &&
	    tlen == 4 && memcmp(text, "true", 4) == 0) {
		at = body;
		if (element(&at, end, "NextContinuationToken", &text,
		    &tlen) == 0)
			page->next_token = decode(text, tlen, 0);
	}
	return 0;
}

void
s3_page_free(struct s3_page *page)
{
	size_t i;

	for (i = 0; i < page->n; i++)
		free(page->keys[i]);
	free(page->keys);
	free(page->sizes);
	free(page->next_token);
	memset(page, 0, sizeof(*page));
}
