/*
 * imgp-store --export: a session's journal as records to render again.
 */
#include "store.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "diag.h"
#include "journal.h"
#include "json.h"
#include "out.h"

/* The record of one journal entry.  No model: the one that re-renders is
 * imgp-gen's --model (a request.model would override it). */
static void
put_record(struct buf *b, const char *session, const struct journal_entry *e)
{
	buf_puts(b, "{\"session\":");
	json_put_cstring(b, session);
	buf_printf(b, ",\"turn\":%lld", e->turn);
	if (*e->image_prompt) {
		buf_puts(b, ",\"image_prompt\":");
		json_put_cstring(b, e->image_prompt);
	}
	if (e->prompt) {
		buf_puts(b, ",\"request\":{\"prompt\":");
		json_put_cstring(b, e->prompt);
		if (e->seed >= 0)
			buf_printf(b, ",\"seed\":%lld", e->seed);
		buf_putc(b, '}');
	}
	buf_putc(b, '}');
}

int
store_export(const char *dir, const char *session)
{
	struct journal_view view = { NULL, 0 };
	struct buf line = BUF_INIT;
	char *path = journal_path(dir, session);
	size_t i;
	int status = 1;

	/* An empty answer to a misspelt session would pass unnoticed. */
	if (access(path, F_OK) < 0)
		diag_warn("--export %s: %s", session, path);
	else if (journal_scan(dir, session, LLONG_MAX, SIZE_MAX, &view) < 0)
		diag_warn("--export %s: cannot read %s", session, path);
	else
		status = 0;
	for (i = 0; i < view.n; i++) {
		buf_reset(&line);
		put_record(&line, session, &view.entries[i]);
		out_line(line.data, line.len);
	}
	status |= out_close();
	journal_view_free(&view);
	buf_free(&line);
	free(path);
	return status;
}
