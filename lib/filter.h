/*
 * filter — the loop of a stage that handles one record at a time.
 *
 * filter_run() reads the operands as input.h does and, for every line:
 * skips it if blank; turns it into a bad_json error record if it is not a
 * JSON object; passes it through untouched if it carries `error`; and
 * otherwise hands the parsed record to the stage's function, which appends
 * the output line to `out`.  One output line per input line, in order;
 * each new error record also says so on standard error.
 * It stops early, quietly, when downstream has gone (out.h).
 *
 * imgp-gen, which keeps many records in flight, uses the same pieces
 * (input.h, rec.h, out.h) in its own loop.
 */
#ifndef IMGP_FILTER_H
#define IMGP_FILTER_H

#include "buf.h"
#include "rec.h"

/* Handle one record: append exactly one line (no newline) to `out`.
 * Return 0 when it went through, 1 when the line is a new error record. */
typedef int filter_fn(void *ctx, const struct rec *r, struct buf *out);

/*
 * Run the loop over operands[0..n) and close standard output.  Returns the
 * exit status of design.md §1: 0 when every record went through, 1 when an
 * error record was emitted, an operand could not be read or the output
 * failed.
 */
int filter_run(char *const *operands, int n, filter_fn *fn, void *ctx);

/* Each new error record is also reported on standard error (rec_report)
 * unless `quiet` (-q). */
void filter_set_quiet(int quiet);

/* Handle a line that is not a JSON object (imgp-url --verify reads bare
 * URLs as well as records): as filter_fn, with the line itself. */
typedef int filter_line_fn(void *ctx, const char *line, size_t len,
    struct buf *out);

/* As filter_run, but lines that are not JSON objects go to `other` instead
 * of becoming bad_json error records. */
int filter_run_lines(char *const *operands, int n, filter_fn *fn,
    filter_line_fn *other, void *ctx);

#endif
