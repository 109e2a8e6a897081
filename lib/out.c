#include "out.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"

/* Large enough to batch many small records into one write(2). */
#define FLUSH_AT 65536

static struct buf pending;
static int broken_pipe, write_error;

void
out_init(void)
{
	int fd;

	signal(SIGPIPE, SIG_IGN);
	for (fd = 0; fd <= 2; fd++) {
		int null;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (null < 0)
			_exit(2);	/* nowhere even to say so */
		if (null != fd) {
			dup2(null, fd);
			close(null);
		}
	}
}

void
out_flush(void *unused)
{
	size_t done = 0;

	(void)unused;
	while (done < pending.len && !out_gone()) {
		ssize_t n = write(STDOUT_FILENO, pending.data + done,
		    pending.len - done);

		if (n >= 0) {
			done += (size_t)n;
		} else if (errno == EPIPE) {
			broken_pipe = 1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* Someone else made the shared descriptor
			 * non-blocking: wait until it takes more. */
			struct pollfd p = { .fd = STDOUT_FILENO,
			    .events = POLLOUT };

			poll(&p, 1, -1);
		} else if (errno != EINTR) {
			diag_warn("write error on standard output");
			write_error = 1;
		}
	}
	buf_reset(&pending);
}

void
out_line(const char *data, size_t len)
{
	if (out_gone())
		return;
	buf_add(&pending, data, len);
	buf_putc(&pending, '\n');
	if (pending.len >= FLUSH_AT)
		out_flush(NULL);
}

int
out_gone(void)
{
	return broken_pipe || write_error;
}

int
out_close(void)
{
	out_flush(NULL);
	buf_free(&pending);
	if (close(STDOUT_FILENO) < 0 && errno != EPIPE && !write_error) {
		diag_warn("close of standard output");
		write_error = 1;
	}
	return write_error;
}
