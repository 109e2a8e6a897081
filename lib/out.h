/*
 * out — a filter's standard output, written safely.
 *
 * Lines are collected in a buffer and written whole with a write-all loop
 * (short writes, EINTR), so a reader never sees half a record.  The buffer
 * is flushed when it is large and whenever the stage is about to wait for
 * input (input.h's wait hook), so a program that spawns a stage and writes
 * one record gets its answer at once.
 *
 * SIGPIPE is ignored: EPIPE means that downstream has gone, which is not an
 * error to report but a reason to stop (out_gone()).  Any other write error
 * (a full disk, /dev/full) is reported once and makes out_close() fail.
 */
#ifndef IMGP_OUT_H
#define IMGP_OUT_H

#include <stddef.h>

/*
 * Call first in main: ignores SIGPIPE, and reopens any of the descriptors
 * 0, 1 and 2 that is closed on /dev/null, so that a file opened later can
 * never become "standard output" by accident.
 */
void out_init(void);

/* Queue `len` bytes plus a newline as one output line. */
void out_line(const char *data, size_t len);

/* Write what is queued.  Usable as input.h's wait hook (arg unused). */
void out_flush(void *unused);

/* Whether standard output has failed: downstream gone (EPIPE) or an error
 * already reported.  A stage stops reading (and paying for requests) then. */
int out_gone(void);

/*
 * Flush and close standard output.  Returns 0 on success or when
 * downstream had gone (a quiet end, as with SIGPIPE), 1 after a write or
 * close error, which has been reported.
 */
int out_close(void);

#endif
