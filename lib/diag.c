#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *progname = "imgp";

void
diag_init(const char *name)
{
	progname = name;
}

const char *
diag_progname(void)
{
	return progname;
}

const char *
diag_stage(void)
{
	return strncmp(progname, "imgp-", 5) == 0 ? progname + 5 : progname;
}

static void vdiag(int, const char *, va_list)
	__attribute__((format(printf, 2, 0)));

static void
vdiag(int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;

	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	if (with_errno)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	errno = saved;
}

void
diag_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(1, fmt, ap);
	va_end(ap);
}

void
diag_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(0, fmt, ap);
	va_end(ap);
}

void
diag_err(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(1, fmt, ap);
	va_end(ap);
	exit(status);
}

void
diag_errx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(0, fmt, ap);
	va_end(ap);
	exit(status);
}
