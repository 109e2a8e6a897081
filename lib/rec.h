/*
 * rec — one record of the imgp/1 stream (design.md §1): parsing, reading
 * fields, splicing output, and error records.
 *
 * A record is parsed twice over: json.h checks the line strictly and finds
 * its members as spans of the original text, libjq (jqx.h) gives values to
 * read.  Output is spliced from the original spans, so every member the
 * stage does not own comes out byte for byte as it went in.  libjq reads
 * a member when it is first asked for, and only that member: a stage that
 * reads the few members it owns does not pay for building the rest of a
 * long record (the judge's state, the image) on every line.
 */
#ifndef IMGP_REC_H
#define IMGP_REC_H

#include <stddef.h>

#include <jv.h>

#include "buf.h"
#include "json.h"

struct rec_values;

struct rec {
	const char *line;	/* the input line (borrowed), no newline */
	size_t len;
	long lineno;		/* within its input operand */
	const char *source;	/* the operand's name, "-" for stdin */
	struct json_members members;	/* spans of line */
	struct rec_values *values;	/* what libjq has read (rec.c) */
	const char *why;	/* when rec_parse fails: what was wrong */
};

#define REC_INIT { NULL, 0, 0, NULL, JSON_MEMBERS_INIT, NULL, NULL }

/* Members whose names begin with this belong to the program that drives
 * the pipeline (the Node.js package's "__imgp_render_id"): passed through
 * like any other, but not the judge's, so not journalled (design.md §1). */
#define REC_CALLER_PREFIX "__imgp"

/* Whether a line is blank (only white space): blank lines are skipped. */
int rec_blank(const char *line, size_t len);

/* Parse `line` (kept borrowed) into r, freeing what r held before.
 * 0 on success; -1 when the line is not a JSON object (r->why says why). */
int rec_parse(struct rec *r, const char *line, size_t len);
void rec_free(struct rec *r);

/* r[key] as libjq reads it (borrowed until the next rec_parse), or an
 * invalid jv when the record has no such member (or did not parse). */
jv rec_get(const struct rec *r, const char *key);

/* The whole record as libjq reads it (borrowed, as rec_get's values),
 * but for image.data (see rec_image_data). */
jv rec_value(const struct rec *r);

/*
 * image.data, the base64 of an image, as text: it is left out of the
 * values read (rec_get, rec_value), to spare libjq up to megabytes of
 * string.  *data points into the line, or into `scratch` when the string
 * has escapes.
 * 0; -1 when there is no image.data, -2 when it is not a string.
 */
int rec_image_data(const struct rec *r, const char **data, size_t *len,
    struct buf *scratch);

/* Whether the record carries an `error` member (it is then passed through
 * untouched). */
int rec_has_error(const struct rec *r);

/* A change to a record: set member `key` to the JSON text text[0..len),
 * or remove it when text is NULL. */
struct rec_edit {
	const char *key;
	const char *text;
	size_t len;
};

/*
 * Append to `out` the object text `obj` (the record's line, or a member
 * value found in it) with its members `members` and the edits applied: a
 * member that is set keeps the place of its first occurrence (later
 * duplicates are dropped), a new one goes at the end, and all others are
 * copied as written.
 */
void rec_splice(const struct json_members *members,
    const struct rec_edit *edits, size_t nedits, struct buf *out);

/*
 * Error records.  rec_error_begin() appends the opening of an `error`
 * value: `{"stage":"<stage>","code":"<code>","message":"<message>"`; the
 * caller may add details (`,"status":500`, with json_put_key) and ends it
 * with rec_error_end().  The message is one line a person can act on.
 */
void rec_error_begin(struct buf *b, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void rec_error_end(struct buf *b);

/* The line for input that is not a JSON object:
 * {"error":{…"code":"bad_json","line":N[,"file":F]},"raw":"<line>"}. */
void rec_bad_json(const struct rec *r, struct buf *out);

/*
 * Append to `out` the record with an `error` member added: `code`, the
 * member `field` it is about, and the message.  For missing_field and
 * invalid_field errors, which need no other details.
 */
void rec_field_error(const struct rec *r, struct buf *out, const char *code,
    const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Append to `out` the record with member `key` set to the JSON text
 * text[0..len) (one rec_splice edit). */
/*
 * Print one line on standard error for a record that became the new error
 * record out[0..len): its session, turn, operand and line, the error's
 * code, the number of attempts, whether it is retryable, and its message
 * (control characters shown as '?', so no record or provider can drive
 * a terminal).
 */
void rec_report(const struct rec *r, const char *out, size_t len);

void rec_with(const struct rec *r, const char *key, const char *text,
    size_t len, struct buf *out);

#endif
