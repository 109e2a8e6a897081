/*
 * xalloc — allocation that cannot fail: out of memory is fatal, reported
 * through diag (exit 1).  A stage out of memory cannot keep its promise of
 * one output line per input line, so it stops rather than limp on.
 */
#ifndef IMGP_XALLOC_H
#define IMGP_XALLOC_H

#include <stddef.h>

/* `p`, or exit 1 when it is NULL: wrap an allocation's result. */
void *xcheck(void *p);

void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);

#endif
