/*
 * imgcheck — is a file one whole image?
 *
 * imgsniff.h names an image from the header that carries its size; a file
 * cut anywhere after that header still passes it.  imgcheck walks the
 * whole file as its format lays it out, so that a half image (a transfer
 * cut short, a provider's broken answer, a damaged store object) is never
 * stored, cached or passed by imgp-store --check.  Pixels are not decoded,
 * except that PNG's zlib stream is inflated to count its bytes: a CRC only
 * proves that a chunk is as its writer meant it, not that the writer
 * finished the picture.
 *
 *   PNG   the signature; IHDR first, with a valid bit depth, colour type,
 *         compression, filter and interlace method; every chunk inside the
 *         file with a matching CRC (zlib's crc32); no unknown critical
 *         chunk; PLTE before the data of a palette image; the IDAT chunks
 *         in one run, holding one zlib stream that ends with the last of
 *         them and inflates to exactly the bytes IHDR calls for (all seven
 *         passes of an interlaced image); IEND, empty, last.
 *   JPEG  SOI; marker segments whose lengths stay inside the file; a
 *         frame header (SOF) before the first scan; every scan header
 *         well formed, its entropy-coded data running to the next marker;
 *         EOI last.
 *   WebP  the RIFF size fits in the file; chunks (padded to an even
 *         size) fill the RIFF exactly.  Simple: one VP8 chunk (a key
 *         frame that is shown, its first partition inside the chunk) or
 *         VP8L chunk (version 0).  Extended: VP8X first, the canvas at most
 *         2^32 - 1 pixels; then ANIM and at least one ANMF frame when the
 *         animation flag is set, otherwise one VP8 or VP8L image of the
 *         canvas's size.
 *   GIF   header and logical screen descriptor; colour tables; extension
 *         and image blocks with their data sub-blocks (LZW code size 2 to
 *         11); at least one image; the trailer (0x3B) last.
 *
 * Bytes after an image's end (past IEND, EOI, the RIFF size, the GIF
 * trailer) are allowed, as decoders ignore them and imgp-store --embed
 * keeps them; what the end needs must all be there.  Sides stay within each format's own
 * limits: PNG 1 to 2^31 - 1, JPEG and GIF 1 to 65535, WebP 1 to 16383
 * (VP8), 16384 (VP8L) or 2^24 (VP8X canvas).  A PNG whose pixels could not
 * fit in its data even at deflate's best ratio (1032:1) fails before any
 * byte is inflated, so the work stays proportional to the file's size.
 */
#ifndef IMGP_IMGCHECK_H
#define IMGP_IMGCHECK_H

#include <stddef.h>

#include "imgsniff.h"

/*
 * Check that the `len` bytes at `buf` are one whole PNG, JPEG, WebP or GIF
 * image and fill *out as imgsniff() does.  Returns 0 when they are.
 * Otherwise returns -1 with *out as imgsniff() left it (type
 * IMGSNIFF_NONE when even the header is not an image) and *why, if `why`
 * is not NULL, set to a static phrase saying what is wrong ("a PNG cut
 * short inside a chunk", "not a whole PNG, JPEG, WebP or GIF image"),
 * fit to follow "the image is ".  Nothing is
 * read at or past buf + len; no state is kept between calls.
 */
int imgcheck(const unsigned char *buf, size_t len, struct imgsniff *out,
    const char **why);

#endif /* IMGP_IMGCHECK_H */
