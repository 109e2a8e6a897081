#include "sheet.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "diag.h"
#include "input.h"
#include "journal.h"
#include "jqx.h"
#include "json.h"
#include "out.h"
#include "rec.h"
#include "s3loc.h"
#include "xalloc.h"

struct sheet_ref {
	char *role, *path, *sha256;
};

struct sheet_frame {
	char *session;
	long long turn;		/* -1: the record had none */
	size_t order;		/* in the order read */
	char *judge, *prompt, *model, *fallback, *cost, *error;
	long long seed;		/* -1: none */
	char *sha256, *link;
	char **history;
	size_t nhistory;
	struct sheet_ref *refs;
	size_t nrefs;
};

/* A string member as a malloc'd C string, or NULL. */
static char *
dup_str(jv v)
{
	const char *s = jqx_str(v, NULL);

	return s ? xstrdup(s) : NULL;
}

/* A number as text ("0.04"), or NULL when it is not one. */
static char *
dup_number(jv v)
{
	struct buf b = BUF_INIT;

	if (jv_get_kind(v) != JV_KIND_NUMBER)
		return NULL;
	buf_printf(&b, "%.15g", jv_number_value(v));
	return buf_detach(&b, NULL);
}

/* `history` as the judge gave it: a string, or a list of strings. */
static void
read_history(struct sheet_frame *f, jv h)
{
	size_t i, n = jv_get_kind(h) == JV_KIND_ARRAY ? jqx_len(h) : 1;

	if (!jqx_present(h))
		return;
	f->history = xcalloc(n, sizeof(*f->history));
	for (i = 0; i < n; i++) {
		char *s = dup_str(jv_get_kind(h) == JV_KIND_ARRAY ?
		    jqx_at(h, i) : h);

		if (s)
			f->history[f->nhistory++] = s;
	}
}

static void
read_refs(struct sheet_frame *f, jv refs)
{
	size_t i, n = jv_get_kind(refs) == JV_KIND_ARRAY ? jqx_len(refs) : 0;

	if (n == 0)
		return;
	f->refs = xcalloc(n, sizeof(*f->refs));
	for (i = 0; i < n; i++) {
		jv r = jqx_at(refs, i);

		/* A journal line keeps only the roles (options.references). */
		f->refs[f->nrefs++] = jv_get_kind(r) == JV_KIND_STRING ?
		    (struct sheet_ref){ dup_str(r), NULL, NULL } :
		    (struct sheet_ref){ dup_str(jqx_get(r, "role")),
		    dup_str(jqx_get(r, "path")), dup_str(jqx_get(r, "sha256")) };
	}
}

/* An "stage/code: message" text of a record's error. */
static char *
read_error(jv e)
{
	struct buf b = BUF_INIT;
	const char *stage = jqx_str(jqx_get(e, "stage"), NULL);
	const char *code = jqx_str(jqx_get(e, "code"), NULL);
	const char *message = jqx_str(jqx_get(e, "message"), NULL);

	if (!jqx_present(e))
		return NULL;
	buf_printf(&b, "%s/%s: %s", stage ? stage : "?", code ? code : "?",
	    message ? message : "");
	return buf_detach(&b, NULL);
}

/*
 * The link of an asset, made by imgp-url's own code (url_record) from a
 * record that has what its template may use; NULL when it cannot make one
 * (the path is not one a server maps, say).
 */
static char *
make_link(struct sheet *s, const char *session, long long turn, jv asset)
{
	struct buf text = BUF_INIT, out = BUF_INIT;
	struct rec in = REC_INIT, linked = REC_INIT;
	const char *path = jqx_str(jqx_get(asset, "path"), NULL);
	const char *sha = jqx_str(jqx_get(asset, "sha256"), NULL);
	char *link = NULL;

	if (path == NULL)
		return NULL;
	buf_puts(&text, "{\"session\":");
	json_put_cstring(&text, session);
	buf_printf(&text, ",\"turn\":%lld,\"asset\":{\"path\":", turn);
	json_put_cstring(&text, path);
	if (sha) {
		buf_puts(&text, ",\"sha256\":");
		json_put_cstring(&text, sha);
	}
	buf_puts(&text, "}}");
	if (rec_parse(&in, text.data, text.len) == 0 &&
	    url_record(&s->url, &in, &out) == 0 &&
	    rec_parse(&linked, out.data, out.len) == 0)
		link = dup_str(rec_get(&linked, "url"));
	rec_free(&in);
	rec_free(&linked);
	buf_free(&text);
	buf_free(&out);
	return link;
}

static struct sheet_frame *
new_frame(struct sheet *s, const char *session, jv turn)
{
	struct sheet_frame *f;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->frames = xcheck(reallocarray(s->frames, s->cap,
		    sizeof(*s->frames)));
	}
	f = &s->frames[s->n];
	memset(f, 0, sizeof(*f));
	f->order = s->n++;
	f->session = xstrdup(session ? session : "");
	if (!jqx_int(turn, 0, JQX_MAX_EXACT, &f->turn))
		f->turn = -1;
	return f;
}

struct journal_read {
	struct sheet *sheet;
	const char *session;
};

/* A journal line (store.h): its members are the frame's. */
static void
journal_frame(jv line, void *arg)
{
	struct journal_read *j = arg;
	struct sheet_frame *f = new_frame(j->sheet, j->session,
	    jqx_get(line, "turn"));

	f->judge = dup_str(jqx_get(line, "image_prompt"));
	f->prompt = dup_str(jqx_get(line, "prompt"));
	if (!jqx_int(jqx_get(line, "seed"), 0, JQX_MAX_EXACT, &f->seed))
		f->seed = -1;
	f->model = dup_str(jqx_get(line, "model"));
	f->fallback = dup_str(jqx_get(line, "fallback"));
	f->cost = dup_number(jqx_get(line, "cost"));
	f->sha256 = dup_str(jqx_get(line, "sha256"));
	/* The judge's own members, and the request's options, as imgp-store
	 * keeps them (store.h). */
	read_history(f, jqx_get(jqx_get(line, "judge"), "history"));
	read_refs(f, jqx_get(jqx_get(line, "options"), "references"));
	f->link = make_link(j->sheet, j->session, f->turn, line);
}

void
sheet_read_journals(struct sheet *s, char *const *sessions, int n)
{
	struct journal_read j = { s, NULL };
	char **all = NULL, *path;
	size_t nall = 0, i;

	if (n == 0) {
		if (journal_sessions(s->store, &all, &nall, NULL) < 0) {
			diag_warn("%s/sessions", s->store);
			s->status = 1;
		}
		sessions = all;
		n = (int)nall;
	}
	for (i = 0; i < (size_t)n; i++) {
		j.session = sessions[i];
		path = journal_path(s->store, sessions[i]);
		if (!journal_session_valid(sessions[i])) {
			diag_warnx("'%s' is not a session name", sessions[i]);
			s->status = 1;
		} else if (!s3loc_is_uri(s->store) &&
		    access(path, F_OK) < 0) {
			diag_warn("%s: %s", sessions[i], path);
			s->status = 1;
		} else if (journal_each(s->store, sessions[i], LLONG_MAX,
		    journal_frame, &j) < 0) {
			diag_warn("%s: cannot read %s", sessions[i], path);
			s->status = 1;
		}
		free(path);
	}
	journal_sessions_free(all, nall);
}

/* A record, as a stage after imgp-store writes it. */
static void
record_frame(struct sheet *s, const struct rec *r)
{
	jv request = rec_get(r, "request"), image = rec_get(r, "image");
	const char *session = jqx_str(rec_get(r, "session"), NULL);
	struct sheet_frame *f = new_frame(s, session, rec_get(r, "turn"));

	f->judge = dup_str(rec_get(r, "image_prompt"));
	f->prompt = dup_str(jqx_get(request, "prompt"));
	if (!jqx_int(jqx_get(request, "seed"), 0, JQX_MAX_EXACT, &f->seed))
		f->seed = -1;
	f->model = dup_str(jqx_get(image, "model"));
	f->fallback = dup_str(jqx_get(image, "fallback"));
	f->cost = dup_number(jqx_get(jqx_get(image, "usage"), "cost"));
	f->error = read_error(rec_get(r, "error"));
	f->sha256 = dup_str(jqx_get(rec_get(r, "asset"), "sha256"));
	read_history(f, rec_get(r, "history"));
	read_refs(f, jqx_get(request, "references"));
	if (!s->relink)
		f->link = dup_str(rec_get(r, "url"));
	if (f->link == NULL && f->error == NULL && session &&
	    journal_session_valid(session))
		f->link = make_link(s, session, f->turn, rec_get(r, "asset"));
}

void
sheet_read_records(struct sheet *s, char *const *paths, int n)
{
	struct input *in = input_open(paths, n);
	struct rec r = REC_INIT;
	char *line;
	size_t len;

	while (input_next(in, &line, &len, 0) == INPUT_LINE) {
		if (rec_blank(line, len))
			continue;
		if (rec_parse(&r, line, len) < 0) {
			diag_warnx("%s:%ld: not a JSON object: %s",
			    input_name(in), input_lineno(in), r.why);
			s->status = 1;
			continue;
		}
		record_frame(s, &r);
	}
	s->status |= input_failed(in);
	rec_free(&r);
	input_close(in);
}

static void
frame_free(struct sheet_frame *f)
{
	size_t i;

	free(f->session);
	free(f->judge);
	free(f->prompt);
	free(f->model);
	free(f->fallback);
	free(f->cost);
	free(f->error);
	free(f->sha256);
	free(f->link);
	for (i = 0; i < f->nhistory; i++)
		free(f->history[i]);
	free(f->history);
	for (i = 0; i < f->nrefs; i++) {
		free(f->refs[i].role);
		free(f->refs[i].path);
		free(f->refs[i].sha256);
	}
	free(f->refs);
}

/* Sessions in name order, turns in order, then in the order read. */
static int
by_place(const void *a, const void *b)
{
	const struct sheet_frame *x = a, *y = b;
	int c = strcmp(x->session, y->session);

	if (c == 0)
		c = (x->turn > y->turn) - (x->turn < y->turn);
	if (c == 0)
		c = (x->order > y->order) - (x->order < y->order);
	return c;
}

/* Text as HTML: the five characters that can end a text or an attribute
 * value are written as references. */
static void
put_text(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_putc(b, *s);
		}
	}
}

/* open, the text escaped and close, when there is a text. */
static void
put_element(struct buf *b, const char *open, const char *text,
    const char *close)
{
	if (text == NULL)
		return;
	buf_puts(b, open);
	put_text(b, text);
	buf_puts(b, close);
}

/* Whether a link may go into href and src: http:, https: or file:, or
 * relative (no scheme), never javascript: or data:. */
static int
link_safe(const char *link)
{
	size_t n = strspn(link, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	if (link[n] != ':')
		return strchr(link, ':') == NULL ||
		    strcspn(link, ":") > strcspn(link, "/?#");
	return (n == 4 && !strncasecmp(link, "http", 4)) ||
	    (n == 5 && !strncasecmp(link, "https", 5)) ||
	    (n == 4 && !strncasecmp(link, "file", 4));
}

/* The turn of the frame of the same session whose image is `sha256`, or
 * -1. */
static long long
turn_of(const struct sheet_frame *first, const struct sheet_frame *end,
    const char *sha256)
{
	const struct sheet_frame *f;

	for (f = first; sha256 && f < end; f++)
		if (f->sha256 && !strcmp(f->sha256, sha256))
			return f->turn;
	return -1;
}

static void
put_references(struct buf *b, const struct sheet_frame *f,
    const struct sheet_frame *first, const struct sheet_frame *end)
{
	size_t i;
	long long turn;

	buf_puts(b, "<ul class=\"refs\">");
	for (i = 0; i < f->nrefs; i++) {
		const struct sheet_ref *r = &f->refs[i];
		const char *base = r->path ? strrchr(r->path, '/') : NULL;

		buf_puts(b, "<li>");
		put_text(b, r->role ? r->role : "reference");
		buf_puts(b, ": ");
		if ((turn = turn_of(first, end, r->sha256)) >= 0)
			buf_printf(b, "<b class=\"ref\">turn %lld</b>", turn);
		else if (r->sha256 == NULL && r->path == NULL && f > first &&
		    r->role && !strcmp(r->role, "previous"))
			/* a journal's: the session's frame before this one,
			 * which is what imgp-enrich --reference previous takes */
			buf_printf(b, "<b class=\"ref\">turn %lld</b>",
			    f[-1].turn);
		else
			put_text(b, base ? base + 1 : r->path ? r->path : "?");
		buf_puts(b, "</li>");
	}
	buf_puts(b, "</ul>");
}

static void
put_frame(struct buf *b, const struct sheet_frame *f,
    const struct sheet_frame *first, const struct sheet_frame *end)
{
	size_t i;

	buf_printf(b, "<figure id=\"turn-%lld\"%s>", f->turn,
	    f->error ? " class=\"err\"" : "");
	if (f->link && link_safe(f->link)) {
		buf_puts(b, "<a href=\"");
		put_text(b, f->link);
		buf_puts(b, "\"><img src=\"");
		put_text(b, f->link);
		buf_printf(b, "\" alt=\"turn %lld\" loading=\"lazy\"></a>",
		    f->turn);
	}
	buf_puts(b, "<figcaption><b>turn ");
	if (f->turn >= 0)
		buf_printf(b, "%lld", f->turn);
	else
		buf_putc(b, '?');
	buf_puts(b, "</b>");
	if (f->seed >= 0)
		buf_printf(b, " · seed %lld", f->seed);
	put_element(b, " · <span class=\"model\">", f->model, "</span>");
	put_element(b, " · <span class=\"fallback\">fallback ", f->fallback,
	    "</span>");
	put_element(b, " · cost <span class=\"cost\">", f->cost, "</span>");
	put_element(b, "<p class=\"error\">", f->error, "</p>");
	put_element(b, "<p class=\"judge\">", f->judge, "</p>");
	if (f->nrefs)
		put_references(b, f, first, end);
	put_element(b, "<details><summary>enriched prompt</summary>"
	    "<p class=\"prompt\">", f->prompt, "</p></details>");
	if (f->nhistory) {
		buf_puts(b, "<details><summary>history</summary>"
		    "<ol class=\"history\">");
		for (i = 0; i < f->nhistory; i++)
			put_element(b, "<li>", f->history[i], "</li>");
		buf_puts(b, "</ol></details>");
	}
	buf_puts(b, "</figcaption></figure>");
}

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:2em;background:#f4f1ea;"
    "color:#222}"
    "main{display:grid;grid-template-columns:repeat(auto-fill,"
    "minmax(420px,1fr));gap:1.5em}"
    "figure{margin:0;background:#fff;padding:.6em;border-radius:6px;"
    "box-shadow:0 1px 3px #0002}"
    "figure.err{background:#fde8e8}"
    "img{width:100%;height:auto;display:block;border-radius:3px}"
    ".judge{font-style:italic;margin:.3em 0}"
    ".refs{margin:.3em 0;padding-left:1.2em;font-size:12px}"
    "details p,details ol{font-size:12px;color:#555}";

/* A session's frames, first..end, under its heading. */
static void
put_session(struct buf *b, const struct sheet_frame *first,
    const struct sheet_frame *end)
{
	const struct sheet_frame *f;
	size_t unpriced = 0;
	double cost = 0;

	for (f = first; f < end; f++) {
		cost += f->cost ? strtod(f->cost, NULL) : 0;
		unpriced += f->cost == NULL && f->error == NULL;
	}
	buf_puts(b, "<section><h2>");
	put_text(b, *first->session ? first->session : "(no session)");
	buf_printf(b, "</h2><p>%zu frame%s · cost %.15g", (size_t)(end - first),
	    end - first == 1 ? "" : "s", cost);
	if (unpriced)
		buf_printf(b, " (%zu unpriced)", unpriced);
	buf_puts(b, "</p><main>\n");
	for (f = first; f < end; f++) {
		put_frame(b, f, first, end);
		buf_putc(b, '\n');
	}
	buf_puts(b, "</main></section>\n");
}

int
sheet_write(struct sheet *s)
{
	struct buf page = BUF_INIT;
	size_t i, kept = 0, start;

	if (s->n)
		qsort(s->frames, s->n, sizeof(*s->frames), by_place);
	/* The last one read of a turn is the frame shown. */
	for (i = 0; i < s->n; i++) {
		if (i + 1 < s->n && s->frames[i + 1].turn == s->frames[i].turn &&
		    s->frames[i].turn >= 0 &&
		    !strcmp(s->frames[i + 1].session, s->frames[i].session)) {
			frame_free(&s->frames[i]);
			continue;
		}
		s->frames[kept++] = s->frames[i];
	}
	s->n = kept;
	buf_puts(&page, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\""
	    "default-src 'none'; img-src * data: file:; "
	    "style-src 'unsafe-inline'\"><title>");
	put_text(&page, s->title ? s->title : "imgp contact sheet");
	buf_printf(&page, "</title><style>%s</style></head><body>\n<h1>",
	    style);
	put_text(&page, s->title ? s->title : "imgp contact sheet");
	buf_puts(&page, "</h1>\n");
	for (start = 0, i = 1; i <= s->n; i++) {
		if (i < s->n && !strcmp(s->frames[i].session,
		    s->frames[start].session))
			continue;
		put_session(&page, &s->frames[start], &s->frames[i]);
		start = i;
	}
	buf_puts(&page, "</body></html>");
	out_line(page.data, page.len);
	for (i = 0; i < s->n; i++)
		frame_free(&s->frames[i]);
	free(s->frames);
	s->frames = NULL;
	s->n = s->cap = 0;
	buf_free(&page);
	return out_close() || s->status;
}
