#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"

void *
xcheck(void *p)
{
	if (p == NULL)
		diag_errx(1, "out of memory");
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	return xcheck(calloc(n ? n : 1, size ? size : 1));
}

char *
xstrdup(const char *s)
{
	return xcheck(strdup(s));
}
