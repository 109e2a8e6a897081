#include "streammem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define NONE SIZE_MAX

struct session {
	char *name;		/* NULL: a free slot */
	size_t chain;		/* the next session of its bucket */
	size_t newer, older;	/* the recency list */
	struct streammem_turn *turns;	/* ascending, at most keep */
	size_t n;
};

struct streammem {
	struct session *sessions;
	size_t max, used, keep;
	size_t *buckets, mask;
	size_t newest, oldest;
};

/* FNV-1a: the names are short and not chosen to collide with each other
 * to any profit (a session only slows its own bucket). */
static size_t
bucket_of(const struct streammem *m, const char *name)
{
	uint64_t h = 14695981039346656037ULL;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211ULL;
	return (size_t)h & m->mask;
}

struct streammem *
streammem_new(size_t max_sessions, size_t keep)
{
	struct streammem *m = xcalloc(1, sizeof(*m));
	size_t nbuckets = 16, i;

	m->max = max_sessions ? max_sessions : 1;
	m->keep = keep ? keep : 1;
	while (nbuckets < 2 * m->max)
		nbuckets *= 2;
	m->mask = nbuckets - 1;
	m->sessions = xcalloc(m->max, sizeof(*m->sessions));
	m->buckets = xcalloc(nbuckets, sizeof(*m->buckets));
	for (i = 0; i < nbuckets; i++)
		m->buckets[i] = NONE;
	m->newest = m->oldest = NONE;
	return m;
}

static void
unlink_recent(struct streammem *m, size_t i)
{
	struct session *s = &m->sessions[i];

	if (s->newer != NONE)
		m->sessions[s->newer].older = s->older;
	else
		m->newest = s->older;
	if (s->older != NONE)
		m->sessions[s->older].newer = s->newer;
	else
		m->oldest = s->newer;
}

static void
make_newest(struct streammem *m, size_t i)
{
	struct session *s = &m->sessions[i];

	s->older = m->newest;
	s->newer = NONE;
	if (m->newest != NONE)
		m->sessions[m->newest].newer = i;
	m->newest = i;
	if (m->oldest == NONE)
		m->oldest = i;
}

static size_t
find(const struct streammem *m, const char *name)
{
	size_t i = m->buckets[bucket_of(m, name)];

	while (i != NONE && strcmp(m->sessions[i].name, name) != 0)
		i = m->sessions[i].chain;
	return i;
}

/* Forget the least recently used session; its slot is returned. */
static size_t
forget_oldest(struct streammem *m)
{
	size_t i = m->oldest, *link;
	struct session *s = &m->sessions[i];

	unlink_recent(m, i);
	for (link = &m->buckets[bucket_of(m, s->name)]; *link != i;
	    link = &m->sessions[*link].chain)
		;
	*link = s->chain;
	while (s->n > 0)
		free(s->turns[--s->n].image_prompt);
	free(s->name);
	s->name = NULL;
	return i;
}

void
streammem_note(struct streammem *m, const char *session, long long turn,
    const char *image_prompt, size_t len)
{
	size_t i = find(m, session), at;
	struct session *s;
	char *copy;

	if (i == NONE) {
		i = m->used < m->max ? m->used++ : forget_oldest(m);
		s = &m->sessions[i];
		if (s->turns == NULL)
			s->turns = xcalloc(m->keep, sizeof(*s->turns));
		s->name = xstrdup(session);
		s->chain = m->buckets[bucket_of(m, session)];
		m->buckets[bucket_of(m, session)] = i;
	} else {
		unlink_recent(m, i);
	}
	make_newest(m, i);
	s = &m->sessions[i];
	for (at = s->n; at > 0 && s->turns[at - 1].turn > turn; at--)
		;
	copy = xcheck(malloc(len + 1));
	memcpy(copy, image_prompt, len);
	copy[len] = '\0';
	if (at > 0 && s->turns[at - 1].turn == turn) {
		free(s->turns[at - 1].image_prompt);
		s->turns[at - 1].image_prompt = copy;
		return;
	}
	if (s->n == m->keep) {
		if (at == 0) {		/* lower than every turn kept */
			free(copy);
			return;
		}
		/* The lowest turn makes room below the new one. */
		free(s->turns[0].image_prompt);
		memmove(&s->turns[0], &s->turns[1],
		    (at - 1) * sizeof(*s->turns));
		s->turns[at - 1] = (struct streammem_turn){ turn, copy };
		return;
	}
	memmove(&s->turns[at + 1], &s->turns[at],
	    (s->n - at) * sizeof(*s->turns));
	s->turns[at] = (struct streammem_turn){ turn, copy };
	s->n++;
}

size_t
streammem_before(struct streammem *m, const char *session, long long before,
    const struct streammem_turn **turns)
{
	size_t i = find(m, session), n = 0;

	*turns = NULL;
	if (i == NONE)
		return 0;
	*turns = m->sessions[i].turns;
	while (n < m->sessions[i].n && m->sessions[i].turns[n].turn < before)
		n++;
	return n;
}

void
streammem_free(struct streammem *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->used; i++) {
		while (m->sessions[i].name && m->sessions[i].n > 0)
			free(m->sessions[i].turns[--m->sessions[i].n].image_prompt);
		free(m->sessions[i].name);
		free(m->sessions[i].turns);
	}
	free(m->sessions);
	free(m->buckets);
	free(m);
}
