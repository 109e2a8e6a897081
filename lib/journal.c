#include "journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "jqx.h"
#include "json.h"

int
journal_session_valid(const char *name)
{
	size_t n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

	return n > 0 && n <= 128 && name[n] == '\0' &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

char *
journal_path(const char *store, const char *session)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/sessions/%s.ndjson", store, session);
	return buf_detach(&path, NULL);
}

static char *
dup_field(jv line, const char *key)
{
	const char *s = jqx_str(jqx_get(line, key), NULL);
	char *copy = strdup(s ? s : "");

	if (copy == NULL)
		diag_errx(1, "out of memory");
	return copy;
}

static void
entry_free(struct journal_entry *e)
{
	free(e->path);
	free(e->image_prompt);
}

static void
entry_fill(struct journal_entry *e, long long turn, jv line)
{
	const char *sha = jqx_str(jqx_get(line, "sha256"), NULL);

	e->turn = turn;
	snprintf(e->sha256, sizeof(e->sha256), "%s",
	    sha && strlen(sha) == DIGEST_HEX_LEN ? sha : "");
	e->path = dup_field(line, "path");
	e->image_prompt = dup_field(line, "image_prompt");
}

/* Put the entry of `turn` into the view, which holds at most `keep`
 * entries in ascending turn order, dropping the oldest when full. */
static void
keep_entry(struct journal_view *v, size_t keep, long long turn, jv line)
{
	size_t i = v->n;

	while (i > 0 && v->entries[i - 1].turn > turn)
		i--;
	if (i > 0 && v->entries[i - 1].turn == turn) {
		entry_free(&v->entries[i - 1]);
		entry_fill(&v->entries[i - 1], turn, line);
		return;
	}
	if (v->n == keep) {
		if (i == 0)
			return;		/* older than all we keep */
		entry_free(&v->entries[0]);
		memmove(&v->entries[0], &v->entries[1],
		    (i - 1) * sizeof(*v->entries));
		i--;
	} else {
		memmove(&v->entries[i + 1], &v->entries[i],
		    (v->n - i) * sizeof(*v->entries));
		v->n++;
	}
	entry_fill(&v->entries[i], turn, line);
}

int
journal_scan(const char *store, const char *session, long long before_turn,
    size_t keep, struct journal_view *view)
{
	char *path = journal_path(store, session), *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int saved;

	view->n = 0;
	if (keep == 0)
		keep = 1;
	view->entries = calloc(keep, sizeof(*view->entries));
	if (view->entries == NULL)
		diag_errx(1, "out of memory");
	f = fopen(path, "re");
	free(path);
	if (f == NULL && errno == ENOENT)
		return 0;
	if (f == NULL) {
		saved = errno;
		journal_view_free(view);
		errno = saved;
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		const char *why;
		size_t where;
		jv entry;
		long long turn;

		/* Strictly valid lines only: libjq 1.6 leaks on some junk. */
		if (json_validate(line, (size_t)len, &why, &where) < 0)
			continue;
		entry = jqx_parse(line, (size_t)len);
		if (jqx_int(jqx_get(entry, "turn"), 0, 9007199254740991.0,
		    &turn) && turn < before_turn)
			keep_entry(view, keep, turn, entry);
		jqx_free(entry);
	}
	saved = errno;
	free(line);
	if (ferror(f)) {
		fclose(f);
		journal_view_free(view);
		errno = saved;
		return -1;
	}
	fclose(f);
	return 0;
}

const struct journal_entry *
journal_previous(const struct journal_view *view)
{
	return view->n ? &view->entries[view->n - 1] : NULL;
}

void
journal_view_free(struct journal_view *view)
{
	size_t i;

	for (i = 0; i < view->n; i++)
		entry_free(&view->entries[i]);
	free(view->entries);
	view->entries = NULL;
	view->n = 0;
}
