#ifndef IMGP_RENDER_H
#define IMGP_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "png.h"

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
 */

/*
 * Render the scene for (prompt, seed) as a width x height 8-bit RGB PNG.
 *
 * `prompt` is `prompt_len` bytes (it need not be NUL-terminated, and may be
 * NULL when prompt_len is 0). `meta`, if not NULL, is written as iTXt
 * chunks (png.h) before the image data.
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
    unsigned width, unsigned height, const struct png_text *meta,
    unsigned char **png, size_t *png_len);

#endif
