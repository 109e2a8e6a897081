/*
 * whens — the `when` tests of a profile's directives, run in a helper
 * process under a time and a memory budget (imgp-profile(5), `limits`).
 *
 * A `when` is a jq expression from the profile run on every record, and
 * a record can make a harmless-looking one explode (`last(range(.n))`
 * with n = 1e18).  libjq 1.6 cannot be interrupted in process and aborts
 * the whole program when memory runs out, so the tests run in a child
 * process: forked from the stage after jqx_compile() (the compile cost is
 * paid once, and each new child inherits the compiled program), limited
 * by setrlimit (RLIMIT_AS to its size at the fork plus the memory budget,
 * RLIMIT_CPU as a backstop, no core files), fed one record at a time over
 * a pipe.  Each test of each record gets the time budget: the child marks
 * in a shared page which test it started and when, and the stage kills it
 * (SIGKILL) when the mark grows older than the budget.  A test that is
 * killed, runs out of memory or crashes counts as false, with one warning
 * on stderr naming the record's line and the directive; the next test of
 * the record runs in a new child.
 *
 * The child has /dev/null for its standard input, output and error, so a
 * test can neither read the stream nor write into it; it dies with the
 * stage (PR_SET_PDEATHSIG).  libjq is used only through jqx.h.
 */
#ifndef IMGP_WHENS_H
#define IMGP_WHENS_H

#include <stddef.h>

#include "buf.h"
#include "rec.h"

struct whens;

/*
 * Compile the tests exprs[0..n), of the directives whose indexes are
 * directive[0..n) (for warnings), into one program.  NULL on error, with
 * jq's message in `err` and the index of the first test that does not
 * compile in *bad.  No process is started until a test is run.
 */
struct whens *whens_compile(const char *const *exprs, const size_t *directive,
    size_t n, size_t *bad, struct buf *err);

/* The budget of one test on one record: `ms` milliseconds of wall-clock
 * time (from when the record is handed over) and `mib` MiB of memory
 * beyond what the stage had when the child was forked. */
void whens_limit(struct whens *w, size_t ms, size_t mib);

/* The first of the tests [0, upto) that holds for the record `r`, or
 * `upto` when none does (a test past its budget does not). */
size_t whens_first(struct whens *w, size_t upto, const struct rec *r);

/* Stop the child, if one runs, and free `w` (NULL is fine). */
void whens_free(struct whens *w);

#endif
