/*
 * json — JSON as text: strict validation, member spans, and writing.
 *
 * The stages must pass every member they do not own through exactly as it
 * was written (design.md §1), which libjq 1.6 cannot do: it rewrites numbers.
 * So a record is validated here, its top-level members are located as byte
 * spans of the original line, and output is spliced from those spans plus
 * new members written with json_put_*.  libjq (see jqx.h) is used to read
 * values, never to write a record.
 *
 * Validation is RFC 8259 and stricter than libjq 1.6: text must be valid
 * UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), no NUL
 * or other control byte may appear outside escapes, nesting is limited to
 * JSON_MAX_DEPTH, and only white space may surround the value.
 */
#ifndef IMGP_JSON_H
#define IMGP_JSON_H

#include <stddef.h>

#include "buf.h"

/* libjq 1.6 itself refuses deeper input; we refuse it first, clearly. */
#define JSON_MAX_DEPTH 256

/* The length of the valid UTF-8 sequence (no overlong form, surrogate or
 * code point above U+10FFFF) that starts at p, a byte of 0x80 or more and
 * before end; 0 when there is none. */
size_t json_utf8_len(const unsigned char *p, const unsigned char *end);

/* One member of an object, as spans of the scanned text. */
struct json_member {
	const char *key;	/* the key's text between its quotes, raw */
	size_t key_len;
	const char *text;	/* from the key's opening quote to the end */
	size_t text_len;	/* of the value: `"key": value` as written */
	const char *value;	/* the value as written */
	size_t value_len;
};

struct json_members {
	struct json_member *v;	/* malloc'd; json_members_free releases */
	size_t n, cap;
	const char *open, *close;	/* the object's braces */
};

#define JSON_MEMBERS_INIT { NULL, 0, 0, NULL, NULL }

/*
 * Check that text[0..len) is one JSON object and record its members in
 * `out` (reset first; spans point into `text`).  Returns 0, or -1 with
 * *why set to a static description and *where to the byte offset of the
 * problem.
 */
int json_scan_object(const char *text, size_t len, struct json_members *out,
    const char **why, size_t *where);

/* The members of an object that was validated before (a member value
 * found by json_scan_object): the same as json_scan_object, but strings
 * are skipped with memchr, unchecked.  Text that was not validated is a
 * bug: fatal. */
void json_members_of(const char *text, size_t len, struct json_members *out);

/* Check that text[0..len) is any one JSON value (same rules). */
int json_validate(const char *text, size_t len, const char **why,
    size_t *where);

void json_members_free(struct json_members *m);

/* Whether a member's key, once its escapes are decoded, is `name`. */
int json_key_is(const struct json_member *m, const char *name);

/* Whether a member's key, once its escapes are decoded, begins with
 * `prefix`. */
int json_key_has_prefix(const struct json_member *m, const char *prefix);

/* Append a member's key with its escapes decoded. */
void json_key_decode(const struct json_member *m, struct buf *out);

/*
 * The characters of a JSON string literal text[0..len) (quotes included,
 * already validated): *s points into text when it has no escapes, else
 * into `scratch`, which gets the decoded form.  -1 if text is not a
 * string.  For multi-megabyte strings this avoids any copy.
 */
int json_string_value(const char *text, size_t len, const char **s,
    size_t *slen, struct buf *scratch);

/* The last member whose key is `name` (JSON's "last one wins", as libjq
 * reads it), or NULL. */
const struct json_member *json_find(const struct json_members *m,
    const char *name);

/* Append s[0..len) as a JSON string, quotes included.  Control characters
 * are escaped and UTF-8 kept as is; a byte that is not part of valid UTF-8
 * becomes U+FFFD, so the output is always valid JSON (a bad_json record's
 * `raw` is the line with exactly those bytes replaced). */
void json_put_string(struct buf *b, const char *s, size_t len);
void json_put_cstring(struct buf *b, const char *s);

/* Append `"name":`, the name escaped as json_put_string does. */
void json_put_key(struct buf *b, const char *name);

/* Append the time now as a JSON string, RFC 3339 in UTC to the second:
 * "2026-11-24T12:00:00Z" (journal lines, request files, spend ledgers). */
void json_put_now(struct buf *b);

#endif
