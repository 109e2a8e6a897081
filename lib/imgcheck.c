#include "imgcheck.h"

#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "png.h"

/*
 * Each walker keeps `pos` at the next unread byte and checks that a length
 * fits in what is left (len - pos) before it uses it, so neither a cut nor
 * a length near 2^32 reads past the buffer or wraps an offset.
 */

/* a * b, or UINT64_MAX when that does not fit. */
static uint64_t
mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- PNG ---- */

enum {
	DEFLATE_MAX_RATIO = 1032,	/* 258 bytes from every 2 bits */
	INFLATE_SLICE = 16384,
};

struct png {
	uint32_t width, height;
	unsigned bits_per_pixel;
	int interlaced, palette;
	z_stream z;
	uint64_t expected;	/* inflated bytes IHDR calls for */
	int zlib_open, zlib_done;
};

static int
png_ihdr(struct png *p, const unsigned char *d, const char **why)
{
	/* Allowed bit depths per colour type, as a bit set of depths. */
	static const struct {
		unsigned channels, depths;
	} colour[7] = {
		[0] = { 1, 1 << 1 | 1 << 2 | 1 << 4 | 1 << 8 | 1 << 16 },
		[2] = { 3, 1 << 8 | 1 << 16 },
		[3] = { 1, 1 << 1 | 1 << 2 | 1 << 4 | 1 << 8 },
		[4] = { 2, 1 << 8 | 1 << 16 },
		[6] = { 4, 1 << 8 | 1 << 16 },
	};
	unsigned depth = d[8], type = d[9];

	p->width = png_get_be32(d);
	p->height = png_get_be32(d + 4);
	if (p->width == 0 || p->height == 0 || p->width > PNG_UINT31_MAX ||
	    p->height > PNG_UINT31_MAX)
		return *why = "a PNG whose size is outside 1 to 2^31 - 1", -1;
	if (type > 6 || depth > 16 || !colour[type].channels ||
	    !(colour[type].depths & 1u << depth) || d[10] || d[11] ||
	    d[12] > 1)
		return *why = "a PNG with an invalid IHDR chunk", -1;
	p->bits_per_pixel = colour[type].channels * depth;
	p->palette = type == 3;
	p->interlaced = d[12];
	return 0;
}

/* Bytes of filtered rows for a `cols` x `rows` (sub)image: each row a
 * filter byte and its pixels rounded up to whole bytes. */
static uint64_t
png_rows_bytes(const struct png *p, uint64_t cols, uint64_t rows)
{
	uint64_t row;

	if (cols == 0 || rows == 0)
		return 0;
	row = add_sat(mul_sat(cols, p->bits_per_pixel), 7) / 8 + 1;
	return mul_sat(row, rows);
}

static uint64_t
png_expected(const struct png *p)
{
	/* Adam7: first column, first row, column step, row step. */
	static const unsigned pass[7][4] = {
		{ 0, 0, 8, 8 }, { 4, 0, 8, 8 }, { 0, 4, 4, 8 }, { 2, 0, 4, 4 },
		{ 0, 2, 2, 4 }, { 1, 0, 2, 2 }, { 0, 1, 1, 2 },
	};
	uint64_t total = 0;
	int i;

	if (!p->interlaced)
		return png_rows_bytes(p, p->width, p->height);
	for (i = 0; i < 7; i++) {
		uint64_t cols = p->width > pass[i][0] ?
		    (p->width - pass[i][0] + pass[i][2] - 1) / pass[i][2] : 0;
		uint64_t rows = p->height > pass[i][1] ?
		    (p->height - pass[i][1] + pass[i][3] - 1) / pass[i][3] : 0;

		total = add_sat(total, png_rows_bytes(p, cols, rows));
	}
	return total;
}

/* Feed one IDAT chunk's data to the inflater. */
static int
png_inflate(struct png *p, const unsigned char *data, uint32_t len,
    const char **why)
{
	unsigned char slice[INFLATE_SLICE];
	int status;

	if (p->zlib_done)
		return len ? (*why = "a PNG with data after its zlib stream",
		    -1) : 0;
	p->z.next_in = (unsigned char *)data;
	p->z.avail_in = len;
	while (p->z.avail_in > 0) {
		p->z.next_out = slice;
		p->z.avail_out = sizeof(slice);
		status = inflate(&p->z, Z_NO_FLUSH);
		if (status != Z_OK && status != Z_STREAM_END)
			return *why = "a PNG whose image data is not a valid "
			    "zlib stream", -1;
		if (p->z.total_out > p->expected)
			return *why = "a PNG with more image data than its "
			    "size calls for", -1;
		if (status == Z_STREAM_END) {
			p->zlib_done = 1;
			if (p->z.avail_in)
				return *why = "a PNG with data after its zlib "
				    "stream", -1;
		}
	}
	return 0;
}

static int
png_data_chunk(struct png *p, const unsigned char *data, uint32_t len,
    size_t left_in_file, const char **why)
{
	if (!p->zlib_open) {
		/* The pixels cannot be packed tighter than deflate allows. */
		p->expected = png_expected(p);
		if (p->expected / DEFLATE_MAX_RATIO > left_in_file)
			return *why = "a PNG too small to hold the pixels its "
			    "size calls for", -1;
		if (inflateInit(&p->z) != Z_OK)
			return *why = "a PNG that could not be inflated "
			    "(out of memory)", -1;
		p->zlib_open = 1;
	}
	return png_inflate(p, data, len, why);
}

static int
png_chunk_type(const unsigned char *type)
{
	int i;

	for (i = 0; i < 4; i++)
		if (!((type[i] >= 'A' && type[i] <= 'Z') ||
		    (type[i] >= 'a' && type[i] <= 'z')))
			return 0;
	return 1;
}

static int
png_walk(struct png *p, const unsigned char *buf, size_t len, const char **why)
{
	size_t pos = PNG_SIGNATURE_LEN;
	int chunks = 0, plte = 0, idat_run = 0, idat_ended = 0;

	for (;; chunks++) {
		const unsigned char *type, *data;
		uint32_t n;

		if (len - pos < PNG_CHUNK_OVERHEAD)
			return *why = "a PNG cut short before its IEND "
			    "chunk", -1;
		n = png_get_be32(buf + pos);
		type = buf + pos + 4;
		data = type + 4;
		if (n > PNG_UINT31_MAX)
			return *why = "a PNG with a chunk length over "
			    "2^31 - 1", -1;
		if (n > len - pos - PNG_CHUNK_OVERHEAD)
			return *why = "a PNG cut short inside a chunk", -1;
		if (!png_chunk_type(type))
			return *why = "a PNG with a chunk type that is not "
			    "four letters", -1;
		if (crc32(0, type, n + 4) != png_get_be32(data + n))
			return *why = "a PNG with a chunk whose CRC does not "
			    "match", -1;
		pos += PNG_CHUNK_OVERHEAD + n;
		if (chunks == 0) {
			if (memcmp(type, "IHDR", 4) || n != PNG_IHDR_LEN)
				return *why = "a PNG that does not start with "
				    "IHDR", -1;
			if (png_ihdr(p, data, why) < 0)
				return -1;
			continue;
		}
		if (memcmp(type, "IDAT", 4) == 0) {
			if (idat_ended)
				return *why = "a PNG whose IDAT chunks are not "
				    "in one run", -1;
			if (p->palette && !plte)
				return *why = "a palette PNG without PLTE "
				    "before its data", -1;
			idat_run = 1;
			if (png_data_chunk(p, data, n, len - pos + n, why) < 0)
				return -1;
			continue;
		}
		idat_ended = idat_run;
		if (memcmp(type, "IEND", 4) == 0) {
			if (n)
				return *why = "a PNG whose IEND chunk is not "
				    "empty", -1;
			if (!p->zlib_done || p->z.total_out != p->expected)
				return *why = "a PNG whose image data ends "
				    "short of its size", -1;
			return 0;
		}
		if (memcmp(type, "IHDR", 4) == 0)
			return *why = "a PNG with two IHDR chunks", -1;
		if (memcmp(type, "PLTE", 4) == 0) {
			if (plte || idat_run || n == 0 || n % 3 || n > 768)
				return *why = "a PNG with an invalid PLTE "
				    "chunk", -1;
			plte = 1;
			continue;
		}
		/* Bit 5 of the first letter clear: critical, and unknown. */
		if (!(type[0] & 0x20))
			return *why = "a PNG with an unknown critical chunk",
			    -1;
	}
}

static int
png_check(const unsigned char *buf, size_t len, const char **why)
{
	struct png p;
	int status;

	memset(&p, 0, sizeof(p));
	status = png_walk(&p, buf, len, why);
	if (p.zlib_open)
		inflateEnd(&p.z);
	return status;
}

/* ---- JPEG ---- */

/* The markers (the byte after 0xff) the walk tells apart. */
enum {
	JPEG_MARK = 0xff, JPEG_STUFFED = 0x00, JPEG_TEM = 0x01,
	JPEG_RST0 = 0xd0, JPEG_RST7 = 0xd7,
	JPEG_SOI = 0xd8, JPEG_EOI = 0xd9, JPEG_SOS = 0xda,
};

/* Skip entropy-coded data from `pos` to the marker that ends it. */
static int
jpeg_scan_data(const unsigned char *buf, size_t len, size_t *pos)
{
	const unsigned char *p = buf + *pos, *end = buf + len;

	while ((p = memchr(p, JPEG_MARK, (size_t)(end - p))) != NULL) {
		if (end - p < 2)
			return -1;
		if (p[1] == JPEG_STUFFED ||
		    (p[1] >= JPEG_RST0 && p[1] <= JPEG_RST7)) {
			p += 2;
			continue;
		}
		*pos = (size_t)(p - buf);	/* fill bytes or a marker */
		return 0;
	}
	return -1;
}

static int
jpeg_check(const unsigned char *buf, size_t len, const char **why)
{
	size_t pos = 2, n;
	unsigned marker;
	int scans = 0;

	for (;;) {
		if (pos >= len)
			return *why = "a JPEG cut short before its EOI "
			    "marker", -1;
		if (buf[pos] != JPEG_MARK)
			return *why = "a JPEG with bytes where a marker "
			    "belongs", -1;
		while (pos < len && buf[pos] == JPEG_MARK)
			pos++;
		if (pos >= len)
			return *why = "a JPEG cut short before its EOI "
			    "marker", -1;
		marker = buf[pos++];
		if (marker == JPEG_EOI) {
			return scans ? 0 :
			    (*why = "a JPEG without a scan", -1);
		}
		if (marker == JPEG_TEM ||
		    (marker >= JPEG_RST0 && marker <= JPEG_RST7))
			continue;
		if (marker == JPEG_STUFFED || marker == JPEG_SOI)
			return *why = "a JPEG with a misplaced marker", -1;
		if (len - pos < 2 || (n = (size_t)buf[pos] << 8 |
		    buf[pos + 1]) > len - pos)
			return *why = "a JPEG cut short inside a marker "
			    "segment", -1;
		if (n < 2)
			return *why = "a JPEG with a bad segment length", -1;
		/* imgsniff found a frame header before any scan. */
		if (marker == JPEG_SOS) {
			if (n < 3 || buf[pos + 2] < 1 || buf[pos + 2] > 4 ||
			    n != 6 + 2 * (size_t)buf[pos + 2])
				return *why = "a JPEG with a bad scan header",
				    -1;
			pos += n;
			if (jpeg_scan_data(buf, len, &pos) < 0)
				return *why = "a JPEG cut short inside a "
				    "scan", -1;
			scans++;
			continue;
		}
		pos += n;
	}
}

/* ---- WebP ---- */

enum {
	RIFF_HEADER_LEN = 12,
	RIFF_CHUNK_HEADER_LEN = 8,
	VP8_FIXED_LEN = 10,
	VP8L_FIXED_LEN = 5,
	VP8X_LEN = 10,
	ANMF_FIXED_LEN = 16,
	VP8X_ANIMATION = 0x02,
};

struct riff_chunk {
	const unsigned char *fourcc, *data;
	uint32_t len;
};

static int
webp_next_chunk(const unsigned char *buf, size_t len, size_t *pos,
    struct riff_chunk *c, const char **why)
{
	uint32_t padded;

	if (len - *pos < RIFF_CHUNK_HEADER_LEN)
		return *why = "a WebP cut short inside a chunk header", -1;
	c->fourcc = buf + *pos;
	c->len = imgsniff_le32(buf + *pos + 4);
	c->data = buf + *pos + RIFF_CHUNK_HEADER_LEN;
	padded = c->len + (c->len & 1);
	if (c->len == UINT32_MAX ||
	    padded > len - *pos - RIFF_CHUNK_HEADER_LEN)
		return *why = "a WebP with a chunk running past its RIFF "
		    "size", -1;
	*pos += RIFF_CHUNK_HEADER_LEN + padded;
	return 0;
}

static int
is_fourcc(const struct riff_chunk *c, const char *name)
{
	return memcmp(c->fourcc, name, 4) == 0;
}

/* A VP8 or VP8L bitstream's header; its size in *width, *height. */
static int
webp_bitstream(const struct riff_chunk *c, uint32_t *width, uint32_t *height,
    const char **why)
{
	static const unsigned char start_code[3] = { 0x9d, 0x01, 0x2a };
	uint32_t tag, bits;

	if (is_fourcc(c, "VP8 ")) {
		if (c->len < VP8_FIXED_LEN)
			return *why = "a WebP with a cut VP8 frame header", -1;
		tag = imgsniff_le24(c->data);
		/* key frame (bit 0 clear), version 0-3, shown (bit 4),
		 * then the first partition's size */
		if ((tag & 1) || (tag >> 1 & 7) > 3 || !(tag >> 4 & 1) ||
		    memcmp(c->data + 3, start_code, 3) ||
		    (tag >> 5) > c->len - VP8_FIXED_LEN)
			return *why = "a WebP with an invalid VP8 frame", -1;
		*width = (c->data[6] | (uint32_t)c->data[7] << 8) & 0x3fff;
		*height = (c->data[8] | (uint32_t)c->data[9] << 8) & 0x3fff;
		return *width && *height ? 0 :
		    (*why = "a WebP whose VP8 frame has a zero side", -1);
	}
	if (is_fourcc(c, "VP8L")) {
		if (c->len < VP8L_FIXED_LEN)
			return *why = "a WebP with a cut VP8L header", -1;
		bits = imgsniff_le32(c->data + 1);
		if (c->data[0] != 0x2f || bits >> 29)
			return *why = "a WebP with an invalid VP8L header", -1;
		*width = (bits & 0x3fff) + 1;
		*height = (bits >> 14 & 0x3fff) + 1;
		return 0;
	}
	return *why = "a WebP without a VP8 or VP8L image", -1;
}

/* The chunks after VP8X, up to the end of the file. */
static int
webp_extended(const unsigned char *buf, size_t len, size_t pos,
    const struct riff_chunk *vp8x, const char **why)
{
	uint32_t canvas_w = imgsniff_le24(vp8x->data + 4) + 1;
	uint32_t canvas_h = imgsniff_le24(vp8x->data + 7) + 1, w, h;
	int animated = vp8x->data[0] & VP8X_ANIMATION;
	int anim = 0, frames = 0, images = 0;
	struct riff_chunk c;

	if ((uint64_t)canvas_w * canvas_h > UINT32_MAX)
		return *why = "a WebP canvas of more than 2^32 - 1 pixels", -1;
	while (pos < len) {
		if (webp_next_chunk(buf, len, &pos, &c, why) < 0)
			return -1;
		if (is_fourcc(&c, "ANIM"))
			anim++;
		else if (is_fourcc(&c, "ANMF") && c.len >= ANMF_FIXED_LEN)
			frames++;
		else if (is_fourcc(&c, "ANMF"))
			return *why = "a WebP with a cut animation frame", -1;
		else if (is_fourcc(&c, "VP8 ") || is_fourcc(&c, "VP8L")) {
			if (images++)
				return *why = "a WebP with two images", -1;
			if (webp_bitstream(&c, &w, &h, why) < 0)
				return -1;
			if (w != canvas_w || h != canvas_h)
				return *why = "a WebP whose image is not the "
				    "size of its canvas", -1;
		}
	}
	if (animated)
		return anim == 1 && frames && !images ? 0 : (*why = "a WebP "
		    "animation without its ANIM chunk and frames", -1);
	return images == 1 ? 0 :
	    (*why = "a WebP without a VP8 or VP8L image", -1);
}

static int
webp_check(const unsigned char *buf, size_t len, const char **why)
{
	struct riff_chunk first;
	size_t pos = RIFF_HEADER_LEN;
	uint32_t w, h;

	/* The chunks end where the RIFF says, not where the file does. */
	if (imgsniff_le32(buf + 4) > len - 8)
		return *why = "a WebP cut short of its RIFF size", -1;
	len = 8 + (size_t)imgsniff_le32(buf + 4);
	if (webp_next_chunk(buf, len, &pos, &first, why) < 0)
		return -1;
	if (is_fourcc(&first, "VP8X"))
		return first.len != VP8X_LEN ? (*why = "a WebP with an "
		    "invalid VP8X chunk", -1) :
		    webp_extended(buf, len, pos, &first, why);
	if (webp_bitstream(&first, &w, &h, why) < 0)
		return -1;
	return pos == len ? 0 :
	    (*why = "a simple WebP with chunks after its image", -1);
}

/* ---- GIF ---- */

enum {
	GIF_SCREEN_END = 13,	/* header and logical screen descriptor */
	GIF_IMAGE_DESCRIPTOR_LEN = 9,
	GIF_EXTENSION = 0x21,
	GIF_IMAGE = 0x2c,
	GIF_TRAILER = 0x3b,
	GIF_COLOUR_TABLE = 0x80,
	GIF_LZW_MIN = 2,
	GIF_LZW_MAX = 11,
};

/* Skip a colour table when `flags` say one follows. */
static int
gif_colour_table(size_t len, size_t *pos, unsigned flags)
{
	size_t n = 3 * ((size_t)2 << (flags & 7));

	if (!(flags & GIF_COLOUR_TABLE))
		return 0;
	if (n > len - *pos)
		return -1;
	*pos += n;
	return 0;
}

/* Skip data sub-blocks through the empty one that ends them. */
static int
gif_sub_blocks(const unsigned char *buf, size_t len, size_t *pos)
{
	for (;;) {
		if (*pos >= len)
			return -1;
		if (buf[*pos] == 0) {
			(*pos)++;
			return 0;
		}
		if (buf[*pos] > len - *pos - 1)
			return -1;
		*pos += 1 + (size_t)buf[*pos];
	}
}

static int
gif_check(const unsigned char *buf, size_t len, const char **why)
{
	size_t pos = GIF_SCREEN_END;
	int images = 0;
	unsigned code_size;

	if (gif_colour_table(len, &pos, buf[10]) < 0)
		return *why = "a GIF cut short in its colour table", -1;
	for (;;) {
		if (pos >= len)
			return *why = "a GIF cut short before its trailer", -1;
		switch (buf[pos++]) {
		case GIF_TRAILER:
			return images ? 0 :
			    (*why = "a GIF without an image", -1);
		case GIF_EXTENSION:
			if (pos >= len || (pos++, gif_sub_blocks(buf, len,
			    &pos) < 0))
				return *why = "a GIF cut short inside an "
				    "extension", -1;
			break;
		case GIF_IMAGE:
			if (len - pos < GIF_IMAGE_DESCRIPTOR_LEN ||
			    (pos += GIF_IMAGE_DESCRIPTOR_LEN,
			    gif_colour_table(len, &pos, buf[pos - 1]) < 0) ||
			    pos >= len)
				return *why = "a GIF cut short inside an "
				    "image", -1;
			code_size = buf[pos++];
			if (code_size < GIF_LZW_MIN || code_size > GIF_LZW_MAX)
				return *why = "a GIF image with an invalid LZW "
				    "code size", -1;
			if (gif_sub_blocks(buf, len, &pos) < 0)
				return *why = "a GIF cut short inside an "
				    "image", -1;
			images++;
			break;
		default:
			return *why = "a GIF with an unknown block", -1;
		}
	}
}

/* ---- dispatch ---- */

int
imgcheck(const unsigned char *buf, size_t len, struct imgsniff *out,
    const char **why)
{
	static int (*const check[])(const unsigned char *, size_t,
	    const char **) = {
		[IMGSNIFF_PNG] = png_check,
		[IMGSNIFF_JPEG] = jpeg_check,
		[IMGSNIFF_WEBP] = webp_check,
		[IMGSNIFF_GIF] = gif_check,
	};
	const char *unused;

	if (why == NULL)
		why = &unused;
	if (imgsniff(buf, len, out) < 0) {
		*why = "not a whole PNG, JPEG, WebP or GIF image";
		return -1;
	}
	return check[out->type](buf, len, why);
}
