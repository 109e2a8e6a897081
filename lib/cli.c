#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "xalloc.h"

void
cli_usage(const char *synopsis, const char *const *help, int status)
{
	size_t i, head, width = 0;

	fprintf(status ? stderr : stdout, "usage: %s\n", synopsis);
	for (i = 0; status == 0 && help[i]; i++) {
		head = strcspn(help[i], "\t");
		width = head > width ? head : width;
	}
	for (i = 0; status == 0 && help[i]; i++) {
		head = strcspn(help[i], "\t");
		printf("  %-*.*s  %s\n", (int)width, (int)head, help[i],
		    help[i][head] ? help[i] + head + 1 : "");
	}
	if (status == 0 && (fflush(stdout) != 0 || ferror(stdout)))
		diag_err(1, "write error on standard output");
	exit(status);
}

void
cli_version(void)
{
	printf("%s %s\n", diag_progname(), IMGP_VERSION);
	if (fflush(stdout) != 0 || ferror(stdout))
		diag_err(1, "write error on standard output");
	exit(0);
}

unsigned long long
cli_uint(const char *option, const char *arg, unsigned long long min,
    unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end != '\0' || errno == ERANGE ||
	    v < min || v > max)
		diag_errx(2, "%s: '%s' is not a whole number from %llu to %llu",
		    option, arg, min, max);
	return v;
}

/* Whether `arg` is a whole decimal number, starting with a digit; *v. */
static int
decimal(const char *arg, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(arg, &end);
	return *arg >= '0' && *arg <= '9' && *end == '\0' && errno != ERANGE;
}

double
cli_seconds(const char *option, const char *arg)
{
	double v;

	if (!decimal(arg, &v) || !(v > 0) || v > 86400 * 365)
		diag_errx(2, "%s: '%s' is not a positive number of seconds",
		    option, arg);
	return v;
}

double
cli_amount(const char *option, const char *arg)
{
	double v;

	if (!decimal(arg, &v) || !(v >= 0) || v > 1e12)
		diag_errx(2, "%s: '%s' is not an amount (a number from 0)",
		    option, arg);
	return v;
}

unsigned long long
cli_duration(const char *option, const char *arg)
{
	static const char units[] = "smhdw";
	static const unsigned long long unit_seconds[] = { 1, 60, 3600, 86400,
	    7 * 86400 };
	const unsigned long long max = 100ULL * 366 * 86400;
	unsigned long long v;
	const char *unit;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	unit = *end ? strchr(units, *end) : units;
	if (*arg < '0' || *arg > '9' || errno == ERANGE || unit == NULL ||
	    (*end && end[1]) || v == 0 || v > max / unit_seconds[unit - units])
		diag_errx(2, "%s: '%s' is not a duration such as 3600, 90m or "
		    "7d (s, m, h, d, w; up to 100 years)", option, arg);
	return v * unit_seconds[unit - units];
}

/* "<a><sep><b>" with a and b whole numbers in [1, max]. */
static int
pair(const char *arg, char sep, unsigned long max)
{
	unsigned long a, b;
	char *end;

	if (*arg < '1' || *arg > '9')
		return 0;
	a = strtoul(arg, &end, 10);
	if (*end != sep || end[1] < '1' || end[1] > '9')
		return 0;
	b = strtoul(end + 1, &end, 10);
	return *end == '\0' && a <= max && b <= max;
}

const char *
cli_size(const char *option, const char *arg)
{
	if (!pair(arg, 'x', 16384))
		diag_errx(2, "%s: '%s' is not a size WxH (e.g. 1344x576)",
		    option, arg);
	return arg;
}

const char *
cli_ratio(const char *option, const char *arg)
{
	if (!pair(arg, ':', 1000))
		diag_errx(2, "%s: '%s' is not an aspect ratio W:H (e.g. 21:9)",
		    option, arg);
	return arg;
}

const char *
cli_env(const char *const *names, const char *fallback)
{
	for (; *names; names++) {
		const char *v = getenv(*names);

		if (v && *v)
			return v;
	}
	return fallback;
}

int
cli_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\0' || !strchr(" \t\n\r\v\f", s[i]))
			return 0;
	return 1;
}

/* The 1-based number of the line of `text` that byte `at` is on. */
static size_t
line_of(const char *text, size_t at)
{
	size_t line = 1, i;

	for (i = 0; i < at; i++)
		line += text[i] == '\n';
	return line;
}

char *
cli_read_secret(const char *option, const char *path, size_t *len)
{
	/* One block of the largest size allowed, read into in place: a
	 * growing buffer would leave copies of the key in freed memory. */
	char *secret = xcheck(malloc(CLI_SECRET_MAX + 2)), *nul;
	size_t have = 0;
	struct stat st;
	ssize_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		diag_err(2, "%s %s", option, path);
	if (fstat(fd, &st) == 0 && (st.st_mode & 077))
		diag_warnx("%s %s: readable by others; chmod 600 it", option,
		    path);
	while (have <= CLI_SECRET_MAX && ((n = read(fd, secret + have,
	    CLI_SECRET_MAX + 1 - have)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			have += (size_t)n;
	if (have <= CLI_SECRET_MAX && n < 0)
		diag_err(2, "%s %s", option, path);
	close(fd);
	if (have > CLI_SECRET_MAX)
		diag_errx(2, "%s %s: larger than %d bytes, not a key", option,
		    path, CLI_SECRET_MAX);
	if ((nul = memchr(secret, '\0', have)) != NULL)
		diag_errx(2, "%s %s: line %zu holds a NUL byte", option, path,
		    line_of(secret, (size_t)(nul - secret)));
	if (have && secret[have - 1] == '\n')
		have--;
	if (have && secret[have - 1] == '\r')
		have--;
	if (cli_blank(secret, have))
		diag_errx(2, "%s %s: the file holds no key", option, path);
	explicit_bzero(secret + have, CLI_SECRET_MAX + 2 - have);
	if (len)
		*len = have;
	return secret;
}
