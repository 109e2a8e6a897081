/*
 * buf — a growable byte buffer.
 *
 * Every stage builds output lines, request bodies and file contents in a
 * `struct buf`.  The bytes are always followed by a NUL that is not counted
 * in `len`, so `data` can be handed to functions that want a C string.
 * Allocation failure is fatal (the stage cannot keep its promise of one
 * output line per input line without memory), reported through diag.
 *
 *	struct buf b = BUF_INIT;
 *	buf_puts(&b, "hello");
 *	use(b.data, b.len);
 *	buf_free(&b);
 */
#ifndef IMGP_BUF_H
#define IMGP_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;	/* NUL-terminated; NULL until the first write */
	size_t len;	/* bytes in use, not counting the NUL */
	size_t cap;	/* bytes allocated */
};

#define BUF_INIT { NULL, 0, 0 }

/* Make room for at least `extra` more bytes (plus the NUL). */
void buf_grow(struct buf *b, size_t extra);

/* Append `len` bytes / a C string / one byte / printf-formatted text. */
void buf_add(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Forget the contents but keep the allocation, for reuse in a loop. */
void buf_reset(struct buf *b);

/* Shorten to `len` bytes (len <= b->len). */
void buf_truncate(struct buf *b, size_t len);

/* Hand the NUL-terminated contents to the caller (who frees them) and
 * leave `b` empty; never returns NULL. */
char *buf_detach(struct buf *b, size_t *len);

void buf_free(struct buf *b);

/* Append the whole contents of the file at `path`: 0, or -1 with errno. */
int buf_read_file(struct buf *b, const char *path);

/* The same for `name` in the directory dfd, opened with openat(2) and
 * `flags` added (O_NOFOLLOW: not through a symbolic link). */
int buf_read_fileat(struct buf *b, int dfd, const char *name, int flags);

#endif
