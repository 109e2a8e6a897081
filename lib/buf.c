#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"

void
buf_grow(struct buf *b, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX - b->len - 1)
		diag_errx(1, "out of memory");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = realloc(b->data, cap);
	if (b->data == NULL)
		diag_errx(1, "out of memory");
	b->cap = cap;
}

void
buf_add(struct buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	/* Into the room there is, as git's strbuf_vaddf does: formatting
	 * twice (to measure, then to write) only when it does not fit. */
	va_copy(copy, ap);
	n = vsnprintf(b->cap ? b->data + b->len : NULL,
	    b->cap ? b->cap - b->len : 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		diag_errx(1, "bad format");
	if (b->len + (size_t)n >= b->cap) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buf_reset(struct buf *b)
{
	buf_truncate(b, 0);
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (b->data == NULL)
		return;
	b->len = len;
	b->data[len] = '\0';
}

char *
buf_detach(struct buf *b, size_t *len)
{
	char *data;

	buf_grow(b, 0);
	data = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return data;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int
buf_read_file(struct buf *b, const char *path)
{
	return buf_read_fileat(b, AT_FDCWD, path, 0);
}

int
buf_read_fileat(struct buf *b, int dfd, const char *name, int flags)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | flags), saved;
	ssize_t n;

	if (fd < 0)
		return -1;
	do {
		buf_grow(b, 65536);
		n = read(fd, b->data + b->len, 65536);
		if (n > 0) {
			b->len += (size_t)n;
			b->data[b->len] = '\0';
		}
	} while (n > 0 || (n < 0 && errno == EINTR));
	saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}
