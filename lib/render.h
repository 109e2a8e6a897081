#ifndef RENDER_H
#define RENDER_H

#include <stddef.h>
#include <stdint.h>

/*
 * The built-in offline renderer: draws a small landscape scene as a PNG
 * without any network or model, so the pipeline can run (and be tested)
 * with no provider configured and still produce pictures a person can
 * tell apart on a contact sheet.
 *
 * The picture is a pure function of (prompt, seed, width, height): the
 * same inputs give the same bytes, on every run. The seed chooses the
 * palette and the time of day, so all frames of one session (which share
 * a seed) look like one world; the prompt chooses the composition (sun or
 * moon position, horizon lines, clouds or stars, trees or towers).
 *
 * The module also writes PNG text chunks, so that an image can carry its
 * own provenance; render_png_add_text() does this for any PNG, rendered
 * here or not.
 */

/*
 * A list of text key/value pairs, written as PNG iTXt chunks (uncompressed,
 * with empty language tag and translated keyword), in list order.
 *
 * Keys must be valid PNG keywords: 1 to 79 printable Latin-1 bytes
 * (0x20-0x7e, 0xa1-0xff), without leading, trailing or consecutive
 * spaces. Values are NUL-terminated UTF-8 text of any length below 2 GiB.
 * The strings are only read, never kept.
 */
struct render_text {
	const char *const *keys;
	const char *const *values;
	size_t count;
};

/*
 * Render the scene for (prompt, seed) as a width x height 8-bit RGB PNG.
 *
 * `prompt` is `prompt_len` bytes (it need not be NUL-terminated, and may be
 * NULL when prompt_len is 0). `meta`, if not NULL, is written as iTXt
 * chunks before the image data.
 *
 * On success stores a malloc'd PNG in *png and its size in *png_len (the
 * caller frees it) and returns 0. On failure returns -1 with errno set,
 * leaving *png and *png_len untouched:
 *   EINVAL  width or height outside 1..RENDER_MAX_SIDE, or a bad key or
 *           value in `meta`;
 *   ENOMEM  out of memory (including a failure inside OpenSSL or zlib).
 */
#define RENDER_MAX_SIDE 4096
int render_png(const char *prompt, size_t prompt_len, uint64_t seed,
	       unsigned width, unsigned height, const struct render_text *meta,
	       unsigned char **png, size_t *png_len);

/*
 * Copy the PNG `png` (`len` bytes) with the text chunks of `meta` inserted
 * right after its IHDR chunk. Text chunks (tEXt, zTXt, iTXt) that already
 * carry one of meta's keywords are left out, so a keyword appears once and
 * adding the same text again gives the same bytes; the rest of the file is
 * copied byte for byte and not otherwise checked. `meta` may be NULL or
 * empty (the result is then a plain copy).
 *
 * On success stores the new malloc'd PNG in *out and its size in *out_len
 * (the caller frees it; `png` is not modified) and returns 0. On failure
 * returns -1 with errno set, leaving *out and *out_len untouched:
 *   EINVAL  `png` does not start with the PNG signature followed by a
 *           complete 13-byte IHDR chunk, or a bad key or value in `meta`;
 *   ENOMEM  out of memory.
 */
int render_png_add_text(const unsigned char *png, size_t len,
			const struct render_text *meta,
			unsigned char **out, size_t *out_len);

/*
 * Copy the PNG `png` (`len` bytes) without its text chunks (tEXt, zTXt,
 * iTXt) whose keyword is one of `keys`' (their values are not looked at):
 * what render_png_add_text() added comes off again.  Returns as
 * render_png_add_text() does.
 */
int render_png_remove_text(const unsigned char *png, size_t len,
			   const struct render_text *keys,
			   unsigned char **out, size_t *out_len);

#endif /* RENDER_H */
