#include "filter.h"

#include "input.h"
#include "out.h"

static int quiet;

void
filter_set_quiet(int q)
{
	quiet = q;
}

int
filter_run(char *const *operands, int n, filter_fn *fn, void *ctx)
{
	return filter_run_lines(operands, n, fn, NULL, ctx);
}

int
filter_run_lines(char *const *operands, int n, filter_fn *fn,
    filter_line_fn *other, void *ctx)
{
	struct input *in = input_open(operands, n);
	struct rec r = REC_INIT;
	struct buf line_out = BUF_INIT;
	char *line;
	size_t len;
	int status = 0, failed;

	input_set_wait_hook(in, out_flush, NULL);
	while (!out_gone() && input_next(in, &line, &len, 0) == INPUT_LINE) {
		if (rec_blank(line, len))
			continue;
		r.lineno = input_lineno(in);
		r.source = input_name(in);
		buf_reset(&line_out);
		failed = 0;
		if (rec_parse(&r, line, len) < 0) {
			if (other == NULL) {
				rec_bad_json(&r, &line_out);
				failed = 1;
			} else if (other(ctx, line, len, &line_out) != 0) {
				failed = 1;
			}
		} else if (!rec_has_error(&r)) {
			failed = fn(ctx, &r, &line_out) != 0;
		} else {
			buf_add(&line_out, line, len);
		}
		out_line(line_out.data, line_out.len);
		if (failed && !quiet)
			rec_report(&r, line_out.data, line_out.len);
		status |= failed;
	}
	if (input_failed(in))
		status = 1;
	rec_free(&r);
	buf_free(&line_out);
	input_close(in);
	return out_close() || status;
}
