#include "genframe.h"

#include <stdlib.h>
#include <string.h>

#include "provenance.h"
#include "xalloc.h"

struct genframe *
genframe_expect(struct genframes *t, const char *session, long long turn,
    unsigned long seq)
{
	struct genframe *f = xcalloc(1, sizeof(*f));

	f->session = xstrdup(session);
	f->turn = turn;
	f->seq = seq;
	f->older = t->newest;
	if (t->newest)
		t->newest->newer = f;
	else
		t->oldest = f;
	t->newest = f;
	t->count++;
	return f;
}

static void
forget(struct genframes *t, struct genframe *f)
{
	if (f->newer)
		f->newer->older = f->older;
	else
		t->newest = f->older;
	if (f->older)
		f->older->newer = f->newer;
	else
		t->oldest = f->newer;
	t->count--;
	t->bytes -= f->bytes.len;
	buf_free(&f->bytes);
	free(f->session);
	free(f);
}

void
genframe_settle(struct genframes *t, struct genframe *f,
    const struct buf *image)
{
	struct genframe *old, *next;

	f->state = image ? GENFRAME_MADE : GENFRAME_FAILED;
	if (image) {
		provenance_strip(image, &f->bytes);
		digest_sha256_hex(f->bytes.data, f->bytes.len, f->sha256);
		t->bytes += f->bytes.len;
	}
	t->settled++;
	/* Pending frames stay: a record of the window may wait for them. */
	for (old = t->oldest; old && (t->count > GENFRAME_MAX ||
	    t->bytes > GENFRAME_MAX_BYTES); old = next) {
		next = old->newer;
		if (old->state != GENFRAME_PENDING && old != f)
			forget(t, old);
	}
}

const struct genframe *
genframe_find(const struct genframes *t, const char *session, long long turn,
    unsigned long seq)
{
	const struct genframe *f;

	for (f = t->newest; f; f = f->older)
		if (f->seq < seq && f->turn == turn &&
		    strcmp(f->session, session) == 0)
			return f;
	return NULL;
}

void
genframes_free(struct genframes *t)
{
	while (t->oldest)
		forget(t, t->oldest);
}
