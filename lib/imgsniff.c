#include "imgsniff.h"

#include <stdint.h>
#include <string.h>

#include "png.h"

/*
 * Every reader checks a length before it looks at the bytes it covers, so
 * a header cut anywhere fails instead of reading past the buffer.
 */

static unsigned
read_be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned
read_le16(const unsigned char *p)
{
	return p[0] | (unsigned)p[1] << 8;
}

uint32_t
imgsniff_le24(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

uint32_t
imgsniff_le32(const unsigned char *p)
{
	return imgsniff_le24(p) | (uint32_t)p[3] << 24;
}

/* ---- PNG ---- */

static int
png_size(const unsigned char *buf, size_t len, unsigned *width,
    unsigned *height)
{
	const unsigned char *ihdr = buf + PNG_SIGNATURE_LEN + 8;

	if (!png_starts_with_ihdr(buf, len))
		return -1;
	*width = png_get_be32(ihdr);
	*height = png_get_be32(ihdr + 4);
	return *width > PNG_UINT31_MAX || *height > PNG_UINT31_MAX ? -1 : 0;
}

/* ---- JPEG ---- */

enum {
	JPEG_MARK = 0xff,
	/* 0xff 0x00 is entropy-coded data, never a marker */
	JPEG_STUFFED = 0x00,
	JPEG_TEM = 0x01,
	JPEG_RST0 = 0xd0,
	JPEG_RST7 = 0xd7,
	JPEG_SOI = 0xd8,
	JPEG_EOI = 0xd9,
	JPEG_SOS = 0xda,
	/* length, precision, height, width, component count; 3 bytes per
	 * component */
	JPEG_SOF_FIXED_LEN = 8,
};

/* C4 (DHT), C8 (JPG) and CC (DAC) sit among the SOFs but are not frames. */
static int
is_start_of_frame(unsigned marker)
{
	return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 &&
	    marker != 0xc8 && marker != 0xcc;
}

static int
is_standalone(unsigned marker)
{
	return marker == JPEG_TEM ||
	    (marker >= JPEG_RST0 && marker <= JPEG_RST7);
}

static int
jpeg_frame_size(const unsigned char *segment, size_t segment_len,
    unsigned *width, unsigned *height)
{
	if (segment_len < JPEG_SOF_FIXED_LEN ||
	    segment_len != JPEG_SOF_FIXED_LEN + 3 * (size_t)segment[7] ||
	    !segment[7])
		return -1;
	*height = read_be16(segment + 3);
	*width = read_be16(segment + 5);
	return 0;
}

static int
jpeg_size(const unsigned char *buf, size_t len, unsigned *width,
    unsigned *height)
{
	size_t pos = 2, segment_len;
	unsigned marker;

	if (len < 2 || buf[0] != JPEG_MARK || buf[1] != JPEG_SOI)
		return -1;
	for (;;) {
		if (pos >= len || buf[pos] != JPEG_MARK)
			return -1;
		while (pos < len && buf[pos] == JPEG_MARK)
			pos++;	/* fill bytes */
		if (pos >= len)
			return -1;
		marker = buf[pos++];
		if (is_standalone(marker))
			continue;
		/* Scan data or the end before any frame header: nothing to
		 * size. */
		if (marker == JPEG_STUFFED || marker == JPEG_SOI ||
		    marker == JPEG_EOI || marker == JPEG_SOS || len - pos < 2)
			return -1;
		segment_len = read_be16(buf + pos);
		if (segment_len < 2 || segment_len > len - pos)
			return -1;
		if (is_start_of_frame(marker))
			return jpeg_frame_size(buf + pos, segment_len, width,
			    height);
		pos += segment_len;
	}
}

/* ---- WebP ---- */

enum { RIFF_HEADER_LEN = 12, CHUNK_HEADER_LEN = 8 };

static int
vp8_size(const unsigned char *data, unsigned *width, unsigned *height)
{
	static const unsigned char start_code[3] = { 0x9d, 0x01, 0x2a };

	/* Bit 0 of the frame tag is clear on key frames, the only ones with
	 * a size. */
	if ((data[0] & 1) || memcmp(data + 3, start_code, sizeof(start_code)))
		return -1;
	*width = read_le16(data + 6) & 0x3fff;
	*height = read_le16(data + 8) & 0x3fff;
	return 0;
}

static int
vp8l_size(const unsigned char *data, unsigned *width, unsigned *height)
{
	uint32_t bits = imgsniff_le32(data + 1);

	/* 14 bits width - 1, 14 bits height - 1, alpha hint, 3-bit version 0 */
	if (data[0] != 0x2f || bits >> 29)
		return -1;
	*width = (bits & 0x3fff) + 1;
	*height = (bits >> 14 & 0x3fff) + 1;
	return 0;
}

static int
vp8x_size(const unsigned char *data, unsigned *width, unsigned *height)
{
	*width = imgsniff_le24(data + 4) + 1;
	*height = imgsniff_le24(data + 7) + 1;
	return 0;
}

static const struct webp_chunk {
	char fourcc[4];
	size_t fixed_len;
	int (*read_size)(const unsigned char *data, unsigned *width,
	    unsigned *height);
} webp_chunks[] = {
	{ { 'V', 'P', '8', ' ' }, 10, vp8_size },
	{ { 'V', 'P', '8', 'L' }, 5, vp8l_size },
	{ { 'V', 'P', '8', 'X' }, 10, vp8x_size },
};

static int
webp_size(const unsigned char *buf, size_t len, unsigned *width,
    unsigned *height)
{
	const size_t data_at = RIFF_HEADER_LEN + CHUNK_HEADER_LEN;
	uint32_t riff_len, chunk_len;
	size_t i;

	if (len < data_at || memcmp(buf, "RIFF", 4) ||
	    memcmp(buf + 8, "WEBP", 4))
		return -1;
	riff_len = imgsniff_le32(buf + 4);	/* counts from "WEBP" on */
	chunk_len = imgsniff_le32(buf + 16);
	if (riff_len < 4 + CHUNK_HEADER_LEN ||
	    chunk_len > riff_len - 4 - CHUNK_HEADER_LEN)
		return -1;
	for (i = 0; i < sizeof(webp_chunks) / sizeof(*webp_chunks); i++) {
		const struct webp_chunk *chunk = &webp_chunks[i];

		if (memcmp(buf + RIFF_HEADER_LEN, chunk->fourcc, 4))
			continue;
		if (chunk_len < chunk->fixed_len ||
		    len - data_at < chunk->fixed_len)
			return -1;
		return chunk->read_size(buf + data_at, width, height);
	}
	return -1;
}

/* ---- GIF ---- */

enum { GIF_HEADER_LEN = 6, GIF_SCREEN_DESCRIPTOR_LEN = 7 };

static int
gif_size(const unsigned char *buf, size_t len, unsigned *width,
    unsigned *height)
{
	if (len < GIF_HEADER_LEN + GIF_SCREEN_DESCRIPTOR_LEN ||
	    (memcmp(buf, "GIF87a", GIF_HEADER_LEN) &&
		memcmp(buf, "GIF89a", GIF_HEADER_LEN)))
		return -1;
	*width = read_le16(buf + 6);
	*height = read_le16(buf + 8);
	return 0;
}

/* ---- dispatch ---- */

/* The magic numbers do not overlap, so the first reader that succeeds wins. */
static const struct format {
	enum imgsniff_type type;
	const char *mime, *ext;
	int (*read_size)(const unsigned char *buf, size_t len, unsigned *width,
	    unsigned *height);
} formats[] = {
	{ IMGSNIFF_PNG, "image/png", "png", png_size },
	{ IMGSNIFF_JPEG, "image/jpeg", "jpg", jpeg_size },
	{ IMGSNIFF_WEBP, "image/webp", "webp", webp_size },
	{ IMGSNIFF_GIF, "image/gif", "gif", gif_size },
};

int
imgsniff(const unsigned char *buf, size_t len, struct imgsniff *out)
{
	size_t i;

	*out = (struct imgsniff){ IMGSNIFF_NONE, NULL, NULL, 0, 0 };
	for (i = 0; buf && i < sizeof(formats) / sizeof(*formats); i++) {
		const struct format *format = &formats[i];
		unsigned width, height;

		if (format->read_size(buf, len, &width, &height) || !width ||
		    !height)
			continue;
		out->type = format->type;
		out->mime = format->mime;
		out->ext = format->ext;
		out->width = width;
		out->height = height;
		return 0;
	}
	return -1;
}
