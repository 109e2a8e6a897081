/*
 * jqx — everything imgp does with libjq 1.6, and the only place that
 * manages libjq's reference counts.
 *
 * Values.  jqx_parse() returns a value the caller owns and releases with
 * jqx_free().  Every accessor below *borrows*: what it returns lives as
 * long as the container it came from, and is never freed by the caller.
 * So a stage parses a record once, reads what it needs, and frees it once.
 *
 * Programs.  jqx_compile() compiles jq expressions for use as tests (the
 * `when`s of a profile's directives).  Expressions are sandboxed
 * (design.md §7): they cannot read the environment (`env`, `$ENV`),
 * further input (`input`, `inputs`), files (`import`, `include` do not
 * compile) or write to stderr (`stderr`, `debug` are silenced).
 * jqx_test() runs one on a value: only a first output that is neither
 * false nor null counts as true; no output, an error or a halt is false.
 * A jq_state is used by one thread only.
 */
#ifndef IMGP_JQX_H
#define IMGP_JQX_H

#include <stddef.h>

#include <jv.h>

#include "buf.h"

/* Parse JSON text that json.h has validated (libjq 1.6 accepts things
 * that are not JSON, and leaks on some junk); an invalid jv (no need to
 * free) when libjq does not take it. */
jv jqx_parse(const char *text, size_t len);

/* As jqx_parse, but leave out the member at the path `skip` (NULL-ended
 * member names): the record parser leaves image data, up to megabytes of
 * base64, to be read as text. */
jv jqx_parse_except(const char *text, size_t len, const char *const *skip);
void jqx_free(jv v);

/* Whether libjq's own parser takes text[0..len) (json.h-valid text it
 * refuses: a \uD800-\uDBFF escape that its low half does not follow). */
int jqx_accepts(const char *text, size_t len);

/* obj[key] (borrowed), or an invalid jv when obj is not an object or has
 * no such member. */
jv jqx_get(jv obj, const char *key);

/* Number of elements of an array or members of an object, else 0;
 * element i of an array (borrowed). */
size_t jqx_len(jv v);
jv jqx_at(jv arr, size_t i);

/* The bytes of a string value (borrowed; NUL-terminated), or NULL when `v`
 * is not a string.  Without `len` the value is taken as a C string: one
 * holding a NUL (JSON \u0000) is NULL too, never silently cut short. */
const char *jqx_str(jv v, size_t *len);

/* The largest integer a JSON number holds exactly in libjq (2^53 - 1):
 * the upper bound of a turn or a seed. */
#define JQX_MAX_EXACT 9007199254740991.0

/* Whether `v` is a number that is an integer in [min, max]; its value. */
int jqx_int(jv v, double min, double max, long long *out);

/* Whether `v` is valid (found) and not null. */
int jqx_present(jv v);

/* Append `v` as compact JSON text (for values imgp itself made or read from
 * a profile; never for a record member, see json.h). */
void jqx_dump(jv v, struct buf *out);

/* Iterate over an object: call fn(key, value, arg) for each member in the
 * object's key order. */
void jqx_each(jv obj, void (*fn)(const char *key, jv value, void *arg),
    void *arg);

struct jqx_prog;

/*
 * Compile the expressions exprs[0..n) into one program: libjq 1.6 parses
 * its whole builtin library again for every jq_state (some 20 ms), which
 * a stage spawned per turn pays at each start, once per state.  NULL on
 * error, with jq's message in `err` and the index of the first expression
 * that does not compile in *bad.  jqx_test() runs expression i on `input`.
 */
struct jqx_prog *jqx_compile(const char *const *exprs, size_t n, size_t *bad,
    struct buf *err);
int jqx_test(struct jqx_prog *p, size_t i, jv input);
void jqx_prog_free(struct jqx_prog *p);

#endif
