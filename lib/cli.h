/*
 * cli — what every imgp tool's command line has in common.
 *
 * Each tool's usage text is its man page's SYNOPSIS, word for word (a test
 * checks it): `-h`/`--help` prints it on standard output, then one line
 * per option, as the man page's option list heads them, and exits 0; a
 * usage error prints the usage line on standard error and exits 2.  A
 * short option letter means the same in every tool: -h help, -V version,
 * -v verbose, -q quiet, -n dry run, -s store, -j jobs, -m model,
 * -p profile, -N name template, -b base, -t template, -S signing scheme,
 * -k key file, -e expiry.  `-V`/`--version`
 * prints "<program> <version>".  Option values are checked here, with
 * messages that name the option; a bad value is exit 2 (design.md §1).
 */
#ifndef IMGP_CLI_H
#define IMGP_CLI_H

#include <stddef.h>

#define IMGP_VERSION "0.1.0"

/* The long options every tool has, for its getopt_long table. */
#define CLI_COMMON_OPTIONS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }

/* Print "usage: <synopsis>" and exit: status 0 to stdout, followed by the
 * lines of `help` (NULL-ended, each "<option heading>\t<what it does>",
 * the heading as the man page's), else only the usage line to stderr. */
_Noreturn void cli_usage(const char *synopsis, const char *const *help,
    int status);

/* Print "<program> <version>" and exit 0. */
_Noreturn void cli_version(void);

/* An unsigned decimal integer in [min, max], or exit 2 naming `option`. */
unsigned long long cli_uint(const char *option, const char *arg,
    unsigned long long min, unsigned long long max);

/* A positive decimal number (e.g. seconds "1.5"), or exit 2. */
double cli_seconds(const char *option, const char *arg);

/* An amount of money (a budget): a decimal number from 0, or exit 2. */
double cli_amount(const char *option, const char *arg);

/* A duration: whole seconds, or a number with a unit s, m, h, d or w
 * ("3600", "90m", "7d"), from 1 second to 100 years; else exit 2. */
unsigned long long cli_duration(const char *option, const char *arg);

/* An image size "WxH" (1 to 16384 each) or an aspect ratio "W:H" (1 to
 * 1000 each): the argument itself, or exit 2 naming `option`. */
const char *cli_size(const char *option, const char *arg);
const char *cli_ratio(const char *option, const char *arg);

/* The value of the first of the environment variables `names` (a NULL-ended
 * list) that is set and not empty, else `fallback`. */
const char *cli_env(const char *const *names, const char *fallback);

/*
 * Read a secret (an API or signing key) from a file: its contents less one
 * trailing newline (and a \r before it), every byte of it, its length in
 * *len (NULL: not wanted).  Exits 2 when the file cannot be read, is
 * larger than CLI_SECRET_MAX, holds a NUL byte (naming the line), or holds
 * nothing but white space (a missing key); warns when it is readable by
 * group or others.  The bytes are read into one allocation that never
 * moves, so no copy is left behind unwiped.  The result is malloc'd and
 * NUL-terminated; the caller wipes and frees it.
 */
#define CLI_SECRET_MAX 65536
char *cli_read_secret(const char *option, const char *path, size_t *len);

/* Whether `s` (`len` bytes) is nothing but white space: a missing key. */
int cli_blank(const char *s, size_t len);

#endif
