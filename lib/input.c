#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "xalloc.h"

#define READ_SIZE 65536

struct input {
	char *const *paths;
	int npaths, next_path;
	const char *name;
	int fd;			/* -1 between operands and at the end */
	struct buf data;	/* bytes read, not yet returned */
	size_t start;		/* where the next line starts in data */
	size_t scanned;		/* data[start..scanned) has no newline */
	long lineno;
	int failed;
	void (*hook)(void *);
	void *hook_arg;
};

struct input *
input_open(char *const *paths, int n)
{
	struct input *in = xcalloc(1, sizeof(*in));
	in->paths = paths;
	in->npaths = n;
	in->fd = -1;
	return in;
}

void
input_set_wait_hook(struct input *in, void (*hook)(void *), void *arg)
{
	in->hook = hook;
	in->hook_arg = arg;
}

/* Open the next operand; 0 when there is none left. */
static int
open_next(struct input *in)
{
	for (;;) {
		const char *path;

		if (in->npaths == 0 && in->next_path == 0)
			path = "-";
		else if (in->next_path < in->npaths)
			path = in->paths[in->next_path];
		else
			return 0;
		in->next_path++;
		in->name = path;
		in->lineno = 0;
		if (strcmp(path, "-") == 0) {
			in->fd = STDIN_FILENO;
			return 1;
		}
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd >= 0)
			return 1;
		diag_warn("%s", path);
		in->failed = 1;
	}
}

static void
close_current(struct input *in)
{
	if (in->fd > STDIN_FILENO)
		close(in->fd);
	in->fd = -1;
}

/* Hand out data[start..end) as a line, dropping the newline at `end`. */
static int
take(struct input *in, size_t end, size_t skip, char **line, size_t *len)
{
	*line = in->data.data + in->start;
	*len = end - in->start;
	(*line)[*len] = '\0';
	in->start = in->scanned = end + skip;
	in->lineno++;
	return INPUT_LINE;
}

/* Whether a read(2) of fd would not block (data, end of file or an error
 * are there), waiting up to `ms` (-1: as long as it takes). */
static int
readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR)
		continue;
	return n != 0;
}

int
input_next(struct input *in, char **line, size_t *len, int nowait)
{
	for (;;) {
		char *nl;
		ssize_t n;

		/* Before the first read data.data is NULL, which memchr
		 * may not be given even with a length of 0 (UBSan). */
		nl = in->data.len > in->scanned ? memchr(in->data.data +
		    in->scanned, '\n', in->data.len - in->scanned) : NULL;
		if (nl)
			return take(in, (size_t)(nl - in->data.data), 1, line,
			    len);
		in->scanned = in->data.len;
		if (in->fd < 0) {
			if (in->start < in->data.len)	/* last line, no \n */
				return take(in, in->data.len, 0, line, len);
			if (!open_next(in))
				return INPUT_END;
		}
		/* Move the partial line to the front before reading more. */
		if (in->start > 0) {
			memmove(in->data.data, in->data.data + in->start,
			    in->data.len - in->start);
			buf_truncate(&in->data, in->data.len - in->start);
			in->scanned -= in->start;
			in->start = 0;
		}
		/* nowait polls instead of setting O_NONBLOCK, which would
		 * change the open file description, shared with whoever else
		 * holds it (on a terminal, standard output too). */
		if (nowait && !readable(in->fd, 0))
			return INPUT_AGAIN;
		if (in->hook)
			in->hook(in->hook_arg);
		buf_grow(&in->data, READ_SIZE);
		n = read(in->fd, in->data.data + in->data.len, READ_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Made non-blocking by another holder of it. */
			if (nowait)
				return INPUT_AGAIN;
			readable(in->fd, -1);
			continue;
		}
		if (n < 0) {
			diag_warn("%s", in->name);
			in->failed = 1;
		}
		if (n <= 0) {
			close_current(in);
		} else {
			in->data.len += (size_t)n;
			in->data.data[in->data.len] = '\0';
		}
		if (nowait && n > 0 && !memchr(in->data.data + in->scanned,
		    '\n', in->data.len - in->scanned))
			return INPUT_AGAIN;
	}
}

int
input_fd(const struct input *in)
{
	return in->fd;
}

long
input_lineno(const struct input *in)
{
	return in->lineno;
}

const char *
input_name(const struct input *in)
{
	return in->name ? in->name : "-";
}

int
input_failed(const struct input *in)
{
	return in->failed;
}

void
input_close(struct input *in)
{
	if (in == NULL)
		return;
	close_current(in);
	buf_free(&in->data);
	free(in);
}
