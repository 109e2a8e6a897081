/*
 * input — the lines of a stage's input, as cat(1) reads them.
 *
 * The operands are read in order, `-` (or no operand at all) meaning
 * standard input.  Lines may be of any length (records carry multi-megabyte
 * base64 images): the buffer grows to the longest line, never to the
 * stream.  An operand that cannot be opened or read is reported with diag
 * and skipped; input_failed() then says so, for the exit status.
 *
 * A filter that is spawned by another program (a game server writing one
 * record and waiting for the answer) must not sit on finished output while
 * it waits for more input.  So a hook runs before every read(2) that might
 * block: the output module's flush.
 */
#ifndef IMGP_INPUT_H
#define IMGP_INPUT_H

#include <stddef.h>

struct input;

/* Read `paths[0..n)` in order; n == 0 reads standard input. */
struct input *input_open(char *const *paths, int n);

/* Call hook(arg) before any read that may block (NULL: none). */
void input_set_wait_hook(struct input *in, void (*hook)(void *), void *arg);

enum {
	INPUT_END = 0,		/* no more input */
	INPUT_LINE = 1,		/* *line holds a line */
	INPUT_AGAIN = -1	/* nowait: no whole line without blocking */
};

/*
 * Get the next line, without its newline (a last line without one counts).
 * *line is NUL-terminated and stays valid, and writable, until the next
 * call.  With `nowait`, at most one read(2) is made, and only when poll(2)
 * says it will not block, for callers that poll input_fd() themselves:
 * INPUT_AGAIN when no whole line is there yet.  The descriptor's flags are
 * never changed (O_NONBLOCK would be shared with every other holder of the
 * open file: on a terminal, standard output too).
 */
int input_next(struct input *in, char **line, size_t *len, int nowait);

/* The descriptor currently read (for poll(2)), or -1 at the end. */
int input_fd(const struct input *in);

/* Where the last line came from: its 1-based number within its operand,
 * and the operand's name ("-" for standard input). */
long input_lineno(const struct input *in);
const char *input_name(const struct input *in);

/* Whether some operand could not be opened or read. */
int input_failed(const struct input *in);

void input_close(struct input *in);

#endif
