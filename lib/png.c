#include "png.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "json.h"

enum {
	KEYWORD_MAX = 79,
	/* NUL, flag, method, empty language, empty translated keyword */
	ITXT_SEPARATORS = 5,
};

const unsigned char png_signature[PNG_SIGNATURE_LEN] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
};

uint32_t
png_get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

unsigned char *
png_put_be32(unsigned char *dst, uint32_t value)
{
	dst[0] = (unsigned char)(value >> 24);
	dst[1] = (unsigned char)(value >> 16);
	dst[2] = (unsigned char)(value >> 8);
	dst[3] = (unsigned char)value;
	return dst + 4;
}

int
png_starts_with_ihdr(const unsigned char *png, size_t len)
{
	static const unsigned char ihdr[8] = {
		0, 0, 0, PNG_IHDR_LEN, 'I', 'H', 'D', 'R'
	};

	return len >= PNG_HEAD_LEN &&
	    !memcmp(png, png_signature, PNG_SIGNATURE_LEN) &&
	    !memcmp(png + PNG_SIGNATURE_LEN, ihdr, sizeof(ihdr));
}

unsigned char *
png_put_chunk(unsigned char *dst, const char *type,
    const struct png_span *parts, size_t n)
{
	unsigned char *body = dst + 4, *end = body + 4;
	size_t i;

	memcpy(body, type, 4);
	for (i = 0; i < n; i++) {
		if (parts[i].len)
			memcpy(end, parts[i].data, parts[i].len);
		end += parts[i].len;
	}
	png_put_be32(dst, (uint32_t)(end - body - 4));
	return png_put_be32(end, (uint32_t)crc32(0, body,
	    (uInt)(end - body)));
}

/* PNG keyword rules: printable Latin-1, no leading, trailing or double
 * spaces. */
static int
is_keyword(const char *key)
{
	size_t len = strlen(key), i;

	if (len < 1 || len > KEYWORD_MAX || key[0] == ' ' ||
	    key[len - 1] == ' ')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)key[i];

		if (ch < 0x20 || (ch > 0x7e && ch < 0xa1) ||
		    (ch == ' ' && key[i + 1] == ' '))
			return 0;
	}
	return 1;
}

static int
is_utf8(const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	const unsigned char *end = p + strlen(text);
	size_t n;

	while (p < end) {
		if (*p < 0x80)
			p++;
		else if ((n = json_utf8_len(p, end)) != 0)
			p += n;
		else
			return 0;
	}
	return 1;
}

int
png_text_len(const struct png_text *text, size_t *len)
{
	size_t i, chunk_len;

	*len = 0;
	if (!text || !text->count)
		return 0;
	if (!text->keys || !text->values)
		goto invalid;
	for (i = 0; i < text->count; i++) {
		const char *key = text->keys[i], *value = text->values[i];

		if (!key || !value || !is_keyword(key) || !is_utf8(value) ||
		    strlen(value) > PNG_UINT31_MAX - KEYWORD_MAX -
		    ITXT_SEPARATORS)
			goto invalid;
		chunk_len = PNG_CHUNK_OVERHEAD + strlen(key) +
		    ITXT_SEPARATORS + strlen(value);
		if (chunk_len > SIZE_MAX - *len)
			goto invalid;
		*len += chunk_len;
	}
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

unsigned char *
png_put_text(unsigned char *dst, const struct png_text *text)
{
	static const unsigned char separators[ITXT_SEPARATORS];
	size_t i;

	for (i = 0; text && i < text->count; i++) {
		struct png_span parts[3] = {
			{ text->keys[i], strlen(text->keys[i]) },
			{ separators, sizeof(separators) },
			{ text->values[i], strlen(text->values[i]) },
		};

		dst = png_put_chunk(dst, "iTXt", parts, 3);
	}
	return dst;
}

/* Whether `chunk` (with `data_len` data bytes) is a tEXt, zTXt or iTXt
 * chunk whose keyword is one of text's: it is about to be written anew. */
static int
is_replaced_text(const unsigned char *chunk, size_t data_len,
    const struct png_text *text)
{
	const unsigned char *type = chunk + 4, *data = chunk + 8;
	size_t i, key_len;

	if (memcmp(type, "tEXt", 4) && memcmp(type, "zTXt", 4) &&
	    memcmp(type, "iTXt", 4))
		return 0;
	for (i = 0; text && i < text->count; i++) {
		key_len = strlen(text->keys[i]);
		if (key_len < data_len &&
		    !memcmp(data, text->keys[i], key_len) && !data[key_len])
			return 1;
	}
	return 0;
}

/*
 * Copy the chunks that follow IHDR, leaving out the text chunks that
 * `text` replaces.  Whatever follows IEND, or a chunk that overruns the
 * file, is copied as it is: the file is not ours to repair.
 */
static unsigned char *
copy_chunks(unsigned char *dst, const unsigned char *png, size_t len,
    const struct png_text *text)
{
	size_t at = PNG_HEAD_LEN, whole;
	int last = 0;

	while (!last && len - at >= PNG_CHUNK_OVERHEAD &&
	    png_get_be32(png + at) <= len - at - PNG_CHUNK_OVERHEAD) {
		whole = PNG_CHUNK_OVERHEAD + png_get_be32(png + at);
		last = !memcmp(png + at + 4, "IEND", 4);
		if (!is_replaced_text(png + at, whole - PNG_CHUNK_OVERHEAD,
		    text)) {
			memcpy(dst, png + at, whole);
			dst += whole;
		}
		at += whole;
	}
	memcpy(dst, png + at, len - at);
	return dst + (len - at);
}

int
png_add_text(const unsigned char *png, size_t len,
    const struct png_text *text, unsigned char **out, size_t *out_len)
{
	unsigned char *copy, *end;
	size_t text_len;

	if (!png || !png_starts_with_ihdr(png, len)) {
		errno = EINVAL;
		return -1;
	}
	if (png_text_len(text, &text_len))
		return -1;
	if (text_len > SIZE_MAX - len) {
		errno = ENOMEM;
		return -1;
	}
	copy = malloc(len + text_len);
	if (!copy)
		return -1;
	memcpy(copy, png, PNG_HEAD_LEN);
	end = png_put_text(copy + PNG_HEAD_LEN, text);
	end = copy_chunks(end, png, len, text);
	*out = copy;
	*out_len = (size_t)(end - copy);
	return 0;
}

int
png_remove_text(const unsigned char *png, size_t len,
    const struct png_text *keys, unsigned char **out, size_t *out_len)
{
	unsigned char *copy;

	if (!png || !png_starts_with_ihdr(png, len)) {
		errno = EINVAL;
		return -1;
	}
	if ((copy = malloc(len)) == NULL)
		return -1;
	memcpy(copy, png, PNG_HEAD_LEN);
	*out_len = (size_t)(copy_chunks(copy + PNG_HEAD_LEN, png, len, keys) -
	    copy);
	*out = copy;
	return 0;
}
