#include "prompt.h"

#include <string.h>

#include "text.h"

/* Start a new part: a space unless it is the first. */
static void
part(struct buf *out, size_t start)
{
	if (out->len > start)
		buf_putc(out, ' ');
}

/* list(xs, k, n): each item compacted to item_chars, empty ones dropped,
 * the first k joined by ", ", cut to n characters. */
static void
list(struct buf *out, const struct profile_list *xs, size_t k, size_t n,
    size_t item_chars)
{
	size_t from = out->len, i, taken = 0;

	for (i = 0; i < xs->n && taken < k; i++) {
		size_t at = out->len;

		if (taken)
			buf_add(out, ", ", 2);
		text_compact(out, xs->items[i], strlen(xs->items[i]),
		    item_chars);
		if (out->len == at + (taken ? 2 : 0))
			buf_truncate(out, at);		/* an empty item */
		else
			taken++;
	}
	text_cut(out, from, n);
}

/* "<label>" list(...) "." — left out when the list comes out empty. */
static void
list_part(struct buf *out, size_t start, const char *label,
    const struct profile_list *xs, size_t k, size_t n, size_t item_chars)
{
	size_t before = out->len, body;

	part(out, start);
	buf_puts(out, label);
	body = out->len;
	list(out, xs, k, n, item_chars);
	if (out->len == body)
		buf_truncate(out, before);
	else
		buf_putc(out, '.');
}

int
prompt_blank(const char *s, size_t len)
{
	struct buf probe = BUF_INIT;
	int blank;

	text_compact(&probe, s, len, 1);
	blank = probe.len == 0;
	buf_free(&probe);
	return blank;
}

static void
previous_part(struct buf *out, size_t start, const struct profile *p,
    const struct prompt_input *in)
{
	const char *hint = NULL;
	size_t hint_len = 0;

	if (in->hint && !prompt_blank(in->hint, in->hint_len)) {
		hint = in->hint;
		hint_len = in->hint_len;
	} else if (in->has_previous_frame) {
		hint = p->previous_hint &&
		    !prompt_blank(p->previous_hint, strlen(p->previous_hint)) ?
		    p->previous_hint : PROMPT_DEFAULT_HINT;
		hint_len = strlen(hint);
	}
	part(out, start);
	if (hint) {
		buf_puts(out, "Match previous frame: ");
		text_compact(out, hint, hint_len, p->limits.hint_chars);
		buf_putc(out, '.');
	} else {
		buf_puts(out, p->no_previous ? p->no_previous :
		    PROMPT_DEFAULT_NO_PREVIOUS);
	}
}

static void
history_part(struct buf *out, size_t start, const struct profile *p,
    const struct prompt_input *in)
{
	size_t body;

	part(out, start);
	buf_puts(out, "Evolution trail: ");
	body = out->len;
	text_compact(out, in->history ? in->history : "", in->history_len,
	    p->limits.history_chars);
	if (out->len > body)
		buf_puts(out, ". Treat this as cumulative context and preserve "
		    "visible motif layering from earlier turns.");
	else
		buf_puts(out, "no prior turns; establish stable baseline "
		    "motifs only.");
}

void
prompt_build(const struct profile *p, const struct prompt_input *in,
    struct buf *out)
{
	const struct profile_limits *l = &p->limits;
	size_t start = out->len;

	text_compact(out, in->image_prompt, in->image_prompt_len,
	    l->prompt_chars);
	list_part(out, start, "Anchors: ", &p->anchors, l->anchors_items,
	    l->anchors_chars, l->item_chars);
	list_part(out, start, "Style: ", &p->style, l->style_items,
	    l->style_chars, l->item_chars);
	previous_part(out, start, p, in);
	history_part(out, start, p, in);
	list_part(out, start, "Continuity: ", &p->rules, l->rules_items,
	    l->rules_chars, l->item_chars);
	if (in->directive && *in->directive) {
		part(out, start);
		buf_puts(out, in->directive);
	}
	list_part(out, start, "Avoid: ", &p->avoid, l->avoid_items,
	    l->avoid_chars, l->item_chars);
}

void
prompt_history_add(const struct profile_limits *limits, struct buf *out,
    long long turn, const char *image_prompt)
{
	if (out->len)
		buf_add(out, " | ", 3);
	buf_printf(out, "T%lld:", turn);
	text_compact(out, image_prompt, strlen(image_prompt),
	    limits->history_prompt_chars);
}
