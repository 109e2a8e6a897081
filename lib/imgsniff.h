#ifndef IMGP_IMGSNIFF_H
#define IMGP_IMGSNIFF_H

#include <stddef.h>
#include <stdint.h>

/*
 * Image type and pixel size from the first bytes of a file, without
 * decoding it: lets a stage name what a provider sent (MIME type, file
 * extension, width and height) and refuse what is not a picture.
 *
 * Four formats are known: PNG, JPEG, WebP and GIF. Only the header that
 * carries the size is read, and it must be complete:
 *   PNG   the signature, then IHDR as the first chunk (its 13 data bytes);
 *   JPEG  SOI, then every marker segment up to and including the whole
 *         first SOF segment (baseline, progressive, lossless or
 *         arithmetic; not DHT, JPG or DAC, which share the range);
 *   WebP  the RIFF header, then the fixed part of the first chunk: VP8
 *         (lossy key frame), VP8L (lossless) or VP8X (extended canvas);
 *   GIF   the GIF87a or GIF89a header and the logical screen descriptor.
 */

enum imgsniff_type {
	IMGSNIFF_NONE = 0,
	IMGSNIFF_PNG,
	IMGSNIFF_JPEG,
	IMGSNIFF_WEBP,
	IMGSNIFF_GIF,
};

struct imgsniff {
	enum imgsniff_type type;
	const char *mime;	/* "image/png", "image/jpeg", … */
	const char *ext;	/* "png", "jpg", "webp", "gif", without a dot */
	unsigned width, height;	/* in pixels, never 0 on success */
};

/*
 * Identify the image in the `len` bytes at `buf` and fill *out. The strings
 * in *out are static; nothing is allocated, and no byte at or past
 * buf + len is read (buf may be NULL when len is 0).
 *
 * Returns 0 on success. Returns -1, with *out set to type IMGSNIFF_NONE,
 * NULL strings and zero size, if the bytes are not one of the four formats,
 * if the header is cut short, or if it is inconsistent (a zero width or
 * height, a bad chunk or segment length, a WebP chunk larger than its
 * RIFF container, a VP8 frame that is not a key frame...). errno is not
 * used.
 */
int imgsniff(const unsigned char *buf, size_t len, struct imgsniff *out);

/* The little-endian integers of RIFF (WebP) and GIF, 3 and 4 bytes at p
 * (the big-endian ones of PNG and JPEG are png.h's). */
uint32_t imgsniff_le24(const unsigned char *p);
uint32_t imgsniff_le32(const unsigned char *p);

#endif
