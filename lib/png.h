/*
 * png — the PNG format, as far as imgp reads and writes it: the
 * signature, big-endian integers, chunks, and iTXt text chunks.  imgsniff
 * reads a PNG's size with it, the local renderer writes its pictures with
 * it, and imgp-store adds provenance (provenance.h) to any PNG with
 * png_add_text(), without linking the renderer.
 *
 * A PNG starts with the 8-byte signature and an IHDR chunk of 13 data
 * bytes; a chunk is its data length (big-endian, at most 2^31-1), its
 * 4-byte type, the data, and the CRC-32 of type and data.
 */
#ifndef IMGP_PNG_H
#define IMGP_PNG_H

#include <stddef.h>
#include <stdint.h>

#define PNG_SIGNATURE_LEN	8
#define PNG_CHUNK_OVERHEAD	12	/* length, type, CRC */
#define PNG_IHDR_LEN		13
/* The signature and the IHDR chunk, which every PNG starts with. */
#define PNG_HEAD_LEN	(PNG_SIGNATURE_LEN + PNG_CHUNK_OVERHEAD + PNG_IHDR_LEN)
/* PNG's largest four-byte number, 2^31-1: a chunk's length, a width or a
 * height. */
#define PNG_UINT31_MAX	0x7fffffffu

extern const unsigned char png_signature[PNG_SIGNATURE_LEN];

/* The big-endian 32-bit integer at p. */
uint32_t png_get_be32(const unsigned char *p);

/* Write `value` big-endian at dst; returns dst + 4. */
unsigned char *png_put_be32(unsigned char *dst, uint32_t value);

/* Whether the `len` bytes at png start with the signature and a whole
 * IHDR chunk (PNG_HEAD_LEN bytes). */
int png_starts_with_ihdr(const unsigned char *png, size_t len);

/* Bytes laid end to end as one chunk's data. */
struct png_span {
	const void *data;
	size_t len;
};

/*
 * Write a chunk of `type` whose data is `parts` (n of them) at dst, which
 * has room for PNG_CHUNK_OVERHEAD plus their lengths (at most
 * PNG_UINT31_MAX); returns the byte after it.
 */
unsigned char *png_put_chunk(unsigned char *dst, const char *type,
    const struct png_span *parts, size_t n);

/*
 * Text key/value pairs, written as iTXt chunks (uncompressed, empty
 * language tag and translated keyword) in list order.  Keys are PNG
 * keywords: 1 to 79 printable Latin-1 bytes (0x20-0x7e, 0xa1-0xff), no
 * leading, trailing or consecutive spaces.  Values are NUL-terminated
 * UTF-8.  The strings are only read, never kept.
 */
struct png_text {
	const char *const *keys;
	const char *const *values;
	size_t count;
};

/*
 * Check every pair of `text` (NULL or empty is fine) and set *len to the
 * bytes its chunks take.  0, or -1 with errno EINVAL for a bad key or
 * value.
 */
int png_text_len(const struct png_text *text, size_t *len);

/* Write the chunks of a checked `text` at dst; returns the byte after. */
unsigned char *png_put_text(unsigned char *dst, const struct png_text *text);

/*
 * Copy the PNG `png` (`len` bytes) with the chunks of `text` inserted right
 * after its IHDR chunk.  Text chunks (tEXt, zTXt, iTXt) that already carry
 * one of text's keywords are left out, so a keyword appears once and adding
 * the same text again gives the same bytes; the rest of the file is copied
 * byte for byte and not otherwise checked.  On success the malloc'd copy
 * goes to *out and *out_len and 0 is returned; else -1 with errno set
 * (EINVAL: no signature and whole IHDR, or a bad key or value; ENOMEM),
 * *out untouched.
 */
int png_add_text(const unsigned char *png, size_t len,
    const struct png_text *text, unsigned char **out, size_t *out_len);

/*
 * Copy the PNG `png` (`len` bytes) without its text chunks (tEXt, zTXt,
 * iTXt) whose keyword is one of `keys`' (their values are not looked at):
 * what png_add_text() added comes off again.  Returns as png_add_text()
 * does.
 */
int png_remove_text(const unsigned char *png, size_t len,
    const struct png_text *keys, unsigned char **out, size_t *out_len);

#endif
