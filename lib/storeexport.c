/*
 * imgp-store --export: a session's journal as records to render again.
 */
#include "store.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "journal.h"
#include "json.h"
#include "out.h"
#include "rec.h"

/* The request of a journal entry: its prompt and seed, and the image
 * options it was made with (their roles aside: imgp-enrich finds the
 * references anew). */
static void
put_request(struct buf *b, const struct journal_entry *e)
{
	struct json_members options = JSON_MEMBERS_INIT;
	size_t i;

	buf_puts(b, "{\"prompt\":");
	json_put_cstring(b, e->prompt);
	if (e->seed >= 0)
		buf_printf(b, ",\"seed\":%lld", e->seed);
	if (e->options)
		json_members_of(e->options, strlen(e->options), &options);
	for (i = 0; i < options.n; i++) {
		if (json_key_is(&options.v[i], "references"))
			continue;
		buf_putc(b, ',');
		buf_add(b, options.v[i].text, options.v[i].text_len);
	}
	buf_putc(b, '}');
	json_members_free(&options);
}

/*
 * The record of one journal entry: the judge's own members as written
 * when the line kept them, so that a directive's `when` sees them again.
 * The model is the request's only when it had one: else the one that
 * re-renders is imgp-gen's --model.
 */
static void
put_record(struct buf *b, const char *session, const struct journal_entry *e)
{
	struct json_members judge = JSON_MEMBERS_INIT;
	struct buf name = BUF_INIT, turn = BUF_INIT, request = BUF_INIT;
	struct rec_edit edits[3];
	size_t n = 0;

	json_put_cstring(&name, session);
	buf_printf(&turn, "%lld", e->turn);
	edits[n++] = (struct rec_edit){ "session", name.data, name.len };
	edits[n++] = (struct rec_edit){ "turn", turn.data, turn.len };
	if (e->prompt) {
		put_request(&request, e);
		edits[n++] = (struct rec_edit){ "request", request.data,
		    request.len };
	}
	if (e->judge) {
		json_members_of(e->judge, strlen(e->judge), &judge);
		rec_splice(&judge, edits, n, b);
	} else {
		buf_printf(b, "{\"session\":%s,\"turn\":%s", name.data,
		    turn.data);
		if (*e->image_prompt) {
			buf_puts(b, ",\"image_prompt\":");
			json_put_cstring(b, e->image_prompt);
		}
		if (e->prompt)
			buf_printf(b, ",\"request\":%s", request.data);
		buf_putc(b, '}');
	}
	json_members_free(&judge);
	buf_free(&name);
	buf_free(&turn);
	buf_free(&request);
}

int
store_export(const char *dir, const char *session)
{
	struct journal_view view = { .with_judge = 1 };
	struct buf line = BUF_INIT;
	char *path = journal_path(dir, session);
	size_t i;
	int status = 1;

	/* An empty answer to a misspelt session would pass unnoticed. */
	if (!s3loc_is_uri(dir) && access(path, F_OK) < 0)
		diag_warn("--export %s: %s", session, path);
	else if (journal_scan(dir, session, LLONG_MAX, SIZE_MAX, &view) < 0)
		diag_warn("--export %s: cannot read %s", session, path);
	else if (view.n == 0 && s3loc_is_uri(dir))
		diag_warnx("--export %s: %s has no journal lines of it",
		    session, dir);
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
