/*
 * text — the text functions of prompt assembly (design.md §3), on
 * characters.
 *
 * "Characters" are Unicode code points of UTF-8 text: a cut never splits
 * a multi-byte sequence, and lengths are counted in code points.  White
 * space is ASCII white space (space, \t, \n, \v, \f, \r) and U+00A0,
 * U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF
 * (the set of JavaScript's \s, which the original game used).
 */
#ifndef IMGP_TEXT_H
#define IMGP_TEXT_H

#include <stddef.h>

#include "buf.h"

/* compact(s, n): append s with every run of white space made one space,
 * the ends trimmed, then cut to its first `max_chars` characters. */
void text_compact(struct buf *out, const char *s, size_t len,
    size_t max_chars);

/* Keep only the first `max_chars` characters of b (from byte `from` on). */
void text_cut(struct buf *b, size_t from, size_t max_chars);

/* The number of characters in s[0..len). */
size_t text_chars(const char *s, size_t len);

/*
 * Replace in `b` every occurrence of `secret` (NULL or "": nothing), as
 * written and as it reads inside a JSON string (json_put_string's escapes),
 * with "[redacted]": a provider that echoes the API key must not get it
 * written anywhere.
 */
void text_redact(struct buf *b, const char *secret);

#endif
