#include "storereport.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "diag.h"
#include "journal.h"
#include "jqx.h"
#include "json.h"
#include "out.h"
#include "store.h"
#include "storelayout.h"
#include "xalloc.h"

struct tally {
	long long *turns;
	size_t images, cap, unpriced, fallbacks, failures;
	double cost;
	char *first, *last;
};

static void
count_line(jv line, void *arg)
{
	struct tally *t = arg;
	jv cost = jqx_get(line, "cost");
	const char *fallback = jqx_str(jqx_get(line, "fallback"), NULL);
	const char *at = jqx_str(jqx_get(line, "stored_at"), NULL);
	long long turn;

	if (!jqx_int(jqx_get(line, "turn"), 0, JQX_MAX_EXACT, &turn))
		return;
	if (t->images == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->turns = xcheck(reallocarray(t->turns, t->cap,
		    sizeof(*t->turns)));
	}
	t->turns[t->images++] = turn;
	if (jv_get_kind(cost) == JV_KIND_NUMBER && jv_number_value(cost) >= 0)
		t->cost += jv_number_value(cost);
	else
		t->unpriced++;
	if (fallback) {
		t->fallbacks++;
		t->failures += !strcmp(fallback, "previous") ||
		    !strcmp(fallback, "placeholder");
	}
	free(t->last);
	t->last = at ? xstrdup(at) : NULL;
	if (t->images == 1)
		t->first = at ? xstrdup(at) : NULL;
}

static int
by_turn(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static void
put_time(struct buf *b, const char *name, const char *at)
{
	buf_printf(b, ",\"%s\":", name);
	if (at)
		json_put_cstring(b, at);
	else
		buf_puts(b, "null");
}

static int
report_session(const char *dir, const char *session)
{
	struct tally t = { 0 };
	struct journal_cost paid;
	struct buf line = BUF_INIT;
	size_t i, frames = 0;
	int status = 0;

	if (journal_each(dir, session, LLONG_MAX, count_line, &t) < 0) {
		diag_warn("cannot read the journal of %s", session);
		status = 1;
		goto done;
	}
	if (journal_session_cost(dir, session, &paid) < 0) {
		diag_warn("cannot read the spend ledger of %s", session);
		status = 1;
		goto done;
	}
	if (t.images)
		qsort(t.turns, t.images, sizeof(*t.turns), by_turn);
	for (i = 0; i < t.images; i++)
		frames += i == 0 || t.turns[i] != t.turns[i - 1];
	buf_puts(&line, "{\"session\":");
	json_put_cstring(&line, session);
	buf_printf(&line, ",\"frames\":%zu,\"images\":%zu,\"cost\":%.15g,"
	    "\"unpriced\":%zu,\"paid\":%.15g,\"fallbacks\":%zu,"
	    "\"failures\":%zu", frames, t.images, t.cost, t.unpriced,
	    paid.spent, t.fallbacks, t.failures);
	put_time(&line, "first", t.first);
	put_time(&line, "last", t.last);
	buf_putc(&line, '}');
	out_line(line.data, line.len);
done:
	free(t.turns);
	free(t.first);
	free(t.last);
	buf_free(&line);
	return status;
}

int
store_report(const char *dir, const char *session)
{
	struct stat st;
	char **names;
	size_t n, i;
	int status = 0;

	if (storelayout_dir_usable(dir))
		return 2;
	if (session) {
		char *path = journal_path(dir, session);

		/* An empty answer to a misspelt session would pass unnoticed. */
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			diag_warnx("--report %s: no such session in %s",
			    session, dir);
			status = 1;
		} else {
			status = report_session(dir, session);
		}
		free(path);
		return out_close() || status;
	}
	if (journal_sessions(dir, &names, &n, NULL) < 0) {
		diag_warn("%s/sessions", dir);
		return 2;
	}
	for (i = 0; i < n && !out_gone(); i++)
		status |= report_session(dir, names[i]);
	journal_sessions_free(names, n);
	return out_close() || status;
}
