#include "enrich.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "digest.h"
#include "jqx.h"
#include "journal.h"
#include "json.h"
#include "prompt.h"
#include "streammem.h"
#include "text.h"
#include "whens.h"
#include "xalloc.h"

/* Derive a session's seed: the first 4 bytes of SHA-256(session), as an
 * unsigned big-endian integer. */
static unsigned long
session_seed(const char *session)
{
	unsigned char h[DIGEST_SHA256_LEN];

	digest_sha256(session, strlen(session), h);
	return (unsigned long)h[0] << 24 | (unsigned long)h[1] << 16 |
	    (unsigned long)h[2] << 8 | h[3];
}

/* What a record says, once checked. */
struct judge {
	const char *session;
	long long turn;
	const char *image_prompt;
	size_t image_prompt_len;
	const char *hint;
	size_t hint_len;
	int has_seed;
	long long seed;
	struct buf history;	/* raw: the record's, or the journal's */
	int has_history;	/* the record has `history` */
};

/* Check the members the stage reads; on a problem append the error record
 * to `out` and return -1. */
static int
read_judge(const struct rec *r, struct judge *j, struct buf *out)
{
	jv prompt = rec_get(r, "image_prompt"), history = rec_get(r, "history");
	jv hint = rec_get(r, "previous_hint"), seed = rec_get(r, "seed");
	size_t i;

	if (journal_record_key(r, out, &j->session, &j->turn) < 0)
		return -1;
	if (!jqx_present(prompt)) {
		rec_field_error(r, out, "missing_field", "image_prompt",
		    "the record has no image_prompt");
		return -1;
	}
	j->image_prompt = jqx_str(prompt, &j->image_prompt_len);
	if (j->image_prompt == NULL ||
	    prompt_blank(j->image_prompt, j->image_prompt_len)) {
		rec_field_error(r, out, "invalid_field", "image_prompt",
		    "image_prompt must be a string with some text");
		return -1;
	}
	j->hint = NULL;
	if (jqx_present(hint) && (j->hint = jqx_str(hint, &j->hint_len)) ==
	    NULL) {
		rec_field_error(r, out, "invalid_field", "previous_hint",
		    "previous_hint must be a string");
		return -1;
	}
	j->has_seed = jqx_present(seed);
	if (j->has_seed && !jqx_int(seed, 0, JQX_MAX_EXACT, &j->seed)) {
		rec_field_error(r, out, "invalid_field", "seed",
		    "seed must be a whole number from 0 to 2^53-1");
		return -1;
	}
	j->has_history = jqx_present(history);
	if (!j->has_history || jqx_str(history, NULL)) {
		const char *s = jqx_str(history, &i);

		buf_add(&j->history, s ? s : "", s ? i : 0);
		return 0;
	}
	for (i = 0; i < jqx_len(history); i++) {
		size_t len;
		const char *s = jqx_str(jqx_at(history, i), &len);

		if (s == NULL)
			break;
		if (i)
			buf_add(&j->history, " | ", 3);
		buf_add(&j->history, s, len);
	}
	if (jv_get_kind(history) != JV_KIND_ARRAY || i < jqx_len(history)) {
		rec_field_error(r, out, "invalid_field", "history",
		    "history must be a string or a list of strings");
		return -1;
	}
	return 0;
}

static const char *
first_directive(const struct profile *p, const struct rec *r)
{
	size_t upto;

	/* The directives before the first one without a `when` are tests
	 * 0..upto-1, in order: one trip to the helper process runs them. */
	for (upto = 0; upto < p->ndirectives && p->directives[upto].when >= 0;
	    upto++)
		;
	if (upto > 0)
		upto = whens_first(p->whens, upto, r);
	return upto < p->ndirectives ? p->directives[upto].text : NULL;
}

static void
put_reference(struct buf *b, const char *path, const char *sha256,
    const char *role)
{
	if (b->data[b->len - 1] != '[')
		buf_putc(b, ',');
	buf_puts(b, "{\"path\":");
	json_put_cstring(b, path);
	buf_puts(b, ",\"sha256\":");
	json_put_cstring(b, sha256);
	buf_puts(b, ",\"role\":");
	json_put_cstring(b, role);
	buf_putc(b, '}');
}

/* The image options: the profile's, each replaced by the command line's
 * value of the same name, then the command line's others. */
static void
put_options(const struct enrich *e, struct buf *b)
{
	const struct { const char *key, *value; } cli[] = {
		{ "model", e->model }, { "aspect_ratio", e->aspect_ratio },
		{ "size", e->size }, { "quality", e->quality },
	};
	size_t i, k, ncli = sizeof(cli) / sizeof(*cli);
	unsigned char used[sizeof(cli) / sizeof(*cli)] = { 0 };

	for (i = 0; i < e->profile.nimage; i++) {
		const struct profile_option *o = &e->profile.image[i];

		buf_putc(b, ',');
		json_put_key(b, o->key);
		for (k = 0; k < ncli; k++)
			if (cli[k].value && strcmp(cli[k].key, o->key) == 0)
				break;
		if (k < ncli) {
			json_put_cstring(b, cli[k].value);
			used[k] = 1;
		} else {
			buf_puts(b, o->json);
		}
	}
	for (k = 0; k < ncli; k++) {
		if (cli[k].value == NULL || used[k])
			continue;
		buf_putc(b, ',');
		json_put_key(b, cli[k].key);
		json_put_cstring(b, cli[k].value);
	}
}

/* An earlier turn of the record's session: from the journal, or read
 * earlier in this run (streammem.h). */
struct earlier {
	long long turn;
	const char *image_prompt;
	const struct journal_entry *stored;	/* NULL: read in this run */
};

/*
 * The session's earlier turns from the journal and the stream together,
 * one per turn, in ascending order, the last `keep` of them: a turn in
 * both counts once, as the stream's record, which is the later one.
 * `out` has room for view->n + nread.  Returns how many.
 */
static size_t
earlier_turns(const struct journal_view *view,
    const struct streammem_turn *read, size_t nread, size_t keep,
    struct earlier *out)
{
	size_t i = 0, k = 0, n = 0, from;

	while (i < view->n || k < nread) {
		if (k == nread || (i < view->n &&
		    view->entries[i].turn < read[k].turn)) {
			out[n++] = (struct earlier){ view->entries[i].turn,
			    view->entries[i].image_prompt, &view->entries[i] };
			i++;
			continue;
		}
		if (i < view->n && view->entries[i].turn == read[k].turn)
			i++;
		out[n++] = (struct earlier){ read[k].turn,
		    read[k].image_prompt, NULL };
		k++;
	}
	from = n > keep ? n - keep : 0;
	memmove(out, out + from, (n - from) * sizeof(*out));
	return n - from;
}

/* The previous frame as a reference: the stored image, or, for a record
 * read earlier in this run, a pending reference to its turn, which
 * imgp-gen resolves from the image it makes of that record. */
static void
put_previous(const struct enrich *e, const struct earlier *previous,
    struct buf *b)
{
	struct buf path = BUF_INIT;

	if (previous->stored == NULL) {
		if (b->data[b->len - 1] != '[')
			buf_putc(b, ',');
		buf_printf(b, "{\"role\":\"previous\",\"turn\":%lld}",
		    previous->turn);
	} else if (previous->stored->sha256[0] && previous->stored->path[0]) {
		buf_printf(&path, "%s/%s", e->store, previous->stored->path);
		put_reference(b, path.data, previous->stored->sha256,
		    "previous");
	}
	buf_free(&path);
}

/* Build the request object into `b`; `earlier` are the session's turns
 * before this one. */
static void
put_request(const struct enrich *e, const struct judge *j,
    const struct earlier *earlier, size_t nearlier, const char *directive,
    struct buf *b)
{
	const struct profile *p = &e->profile;
	struct prompt_input in = {
		j->image_prompt, j->image_prompt_len, j->hint, j->hint_len,
		nearlier > 0, NULL, 0, directive
	};
	struct buf text = BUF_INIT, prompt = BUF_INIT;
	size_t i;

	if (j->has_history) {
		in.history = j->history.data;
		in.history_len = j->history.len;
	} else {
		for (i = 0; i < nearlier; i++)
			prompt_history_add(&p->limits, &text, earlier[i].turn,
			    earlier[i].image_prompt);
		in.history = text.data;
		in.history_len = text.len;
	}
	prompt_build(p, &in, &prompt);
	buf_puts(b, "{\"prompt\":");
	json_put_string(b, prompt.data, prompt.len);
	buf_printf(b, ",\"seed\":%llu", j->has_seed ? (unsigned long long)j->seed :
	    e->has_seed ? e->seed : p->has_seed ? p->seed :
	    session_seed(j->session));
	buf_puts(b, ",\"references\":[");
	for (i = 0; i < p->nreferences; i++)
		put_reference(b, p->references[i].path, p->references[i].sha256,
		    "style");
	if ((e->reference_previous || p->reference_previous) && nearlier)
		put_previous(e, &earlier[nearlier - 1], b);
	buf_putc(b, ']');
	put_options(e, b);
	buf_putc(b, '}');
	buf_free(&text);
	buf_free(&prompt);
}

/* Let the members of the record's own `request` win: splice them, as
 * written, into the computed request. */
static int
merge_request(const struct rec *r, struct buf *request, struct buf *out)
{
	const struct json_member *own = json_find(&r->members, "request");
	struct json_members computed = JSON_MEMBERS_INIT, mine = JSON_MEMBERS_INIT;
	struct rec_edit *edits;
	struct buf keys = BUF_INIT, merged = BUF_INIT;
	size_t i;

	if (own == NULL || jv_get_kind(rec_get(r, "request")) == JV_KIND_NULL)
		return 0;
	if (jv_get_kind(rec_get(r, "request")) != JV_KIND_OBJECT) {
		rec_field_error(r, out, "invalid_field", "request",
		    "request must be an object");
		return -1;
	}
	json_members_of(own->value, own->value_len, &mine);
	json_members_of(request->data, request->len, &computed);
	edits = xcheck(calloc(mine.n ? mine.n : 1, sizeof(*edits)));
	/* The decoded keys, NUL-separated in one buffer: offsets first, as
	 * the buffer may move while it grows. */
	for (i = 0; i < mine.n; i++) {
		edits[i].len = keys.len;
		json_key_decode(&mine.v[i], &keys);
		buf_putc(&keys, '\0');
	}
	for (i = 0; i < mine.n; i++) {
		edits[i].key = keys.data + edits[i].len;
		edits[i].text = mine.v[i].value;
		edits[i].len = mine.v[i].value_len;
	}
	rec_splice(&computed, edits, mine.n, &merged);
	buf_reset(request);
	buf_add(request, merged.data, merged.len);
	free(edits);
	buf_free(&keys);
	buf_free(&merged);
	json_members_free(&computed);
	json_members_free(&mine);
	return 0;
}

/* The number of earlier turns a prompt uses (at least the previous
 * frame). */
static size_t
turns_kept(const struct enrich *e)
{
	return e->profile.limits.history_turns ?
	    e->profile.limits.history_turns : 1;
}

/* Remember the record's turn for the records after it, with as much of its
 * prompt as a history entry takes. */
static void
remember(struct enrich *e, const struct judge *j)
{
	struct buf kept = BUF_INIT;

	if (e->memory == NULL)
		e->memory = streammem_new(STREAMMEM_SESSIONS, turns_kept(e));
	text_compact(&kept, j->image_prompt, j->image_prompt_len,
	    e->profile.limits.history_prompt_chars);
	streammem_note(e->memory, j->session, j->turn, kept.data ?
	    kept.data : "", kept.len);
	buf_free(&kept);
}

int
enrich_record(void *ctx, const struct rec *r, struct buf *out)
{
	struct enrich *e = ctx;
	struct judge j = { 0 };
	struct journal_view view = { 0 };
	const struct streammem_turn *read = NULL;
	struct earlier *earlier = NULL;
	struct buf request = BUF_INIT;
	size_t nread = 0, nearlier;
	int status = 1;

	if (read_judge(r, &j, out) < 0)
		goto done;
	if (journal_scan(e->store, j.session, j.turn, turns_kept(e),
	    &view) < 0) {
		struct buf error = BUF_INIT;

		rec_error_begin(&error, "io", "cannot read the journal of "
		    "session %s in %s: %s", j.session, e->store,
		    strerror(errno));
		buf_puts(&error, ",\"retryable\":true");
		rec_error_end(&error);
		rec_with(r, "error", error.data, error.len, out);
		buf_free(&error);
		goto done;
	}
	if (e->memory)
		nread = streammem_before(e->memory, j.session, j.turn, &read);
	earlier = xcalloc(view.n + nread + 1, sizeof(*earlier));
	nearlier = earlier_turns(&view, read, nread, turns_kept(e), earlier);
	put_request(e, &j, earlier, nearlier, first_directive(&e->profile, r),
	    &request);
	if (merge_request(r, &request, out) < 0)
		goto done;
	rec_with(r, "request", request.data, request.len, out);
	remember(e, &j);
	status = 0;
done:
	free(earlier);
	journal_view_free(&view);
	buf_free(&j.history);
	buf_free(&request);
	return status;
}

void
enrich_free(struct enrich *e)
{
	streammem_free(e->memory);
	e->memory = NULL;
	profile_free(&e->profile);
}
