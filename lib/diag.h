/*
 * diag — diagnostics on stderr, in the manner of err(3).
 *
 * Every message any imgp program prints starts with `imgp-<stage>: `, so a
 * user reading the stderr of a pipeline knows which stage spoke.  The stage
 * name is set once by the tool's main with diag_init().
 *
 *	diag_warn("%s", path)        imgp-store: PATH: No such file or directory
 *	diag_warnx("bad %s", what)   imgp-store: bad WHAT
 *	diag_err(2, ...)             as diag_warn, then exit(2)
 *
 * Secrets never go through here: callers pass names of things, not values.
 */
#ifndef IMGP_DIAG_H
#define IMGP_DIAG_H

#include <stdarg.h>

/* Set the program name used as prefix, e.g. "imgp-enrich". */
void diag_init(const char *progname);

/* The program name set by diag_init ("imgp" before it). */
const char *diag_progname(void);

/* The stage name: the program name less its "imgp-" prefix ("enrich"). */
const char *diag_stage(void);

/* Message followed by ": " and strerror(errno). */
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Message alone. */
void diag_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As diag_warn / diag_warnx, then exit with `status`. */
_Noreturn void diag_err(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
_Noreturn void diag_errx(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
