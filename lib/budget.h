/*
 * budget — what imgp-gen has spent, and whether it may spend more
 * (--budget, --session-budget).
 *
 * Spend is what the provider reported (usage.cost); an answer that reports
 * no cost is counted as unknown, never as 0, and cannot count against a
 * budget.  A session's spend is the `cost` members of its store journal,
 * read once, when the run first meets the session (before any image of the
 * session from this run can have been stored), plus what this run spent
 * on it.
 *
 * The check is made before each paid request is sent; answers count when
 * they arrive.  So with -j N in flight a budget is overshot by at most the
 * cost of N requests.
 */
#ifndef IMGP_BUDGET_H
#define IMGP_BUDGET_H

#include <stddef.h>

#include "buf.h"

#define BUDGET_NONE (-1.0)

/* The most one answer can plausibly cost, and a session in its journal:
 * past it (or negative, or not finite) a reported cost is refused, with a
 * short message, rather than let one bad number stop every request. */
#define BUDGET_MAX_COST 1e6

/* One session's spend, for --session-budget. */
struct budget_session {
	char *name;
	double spent;		/* journal and this run */
	int unreadable;		/* errno of a journal that cannot be read */
};

struct budget {
	double limit;		/* --budget, or BUDGET_NONE */
	double session_limit;	/* --session-budget, or BUDGET_NONE */
	const char *store;	/* where the journals are */
	double spent;		/* this run: the reported costs */
	unsigned long unknown;	/* this run: answers with no reported cost */
	struct budget_session **sessions;
	size_t nsessions;
};

/* The tally of `session` (read from its journal the first time), or NULL
 * when there is no --session-budget. */
struct budget_session *budget_session(struct budget *b, const char *session);

/*
 * Whether another paid request may be sent for a record of session `s`
 * (NULL: none): 0 yes; -1 no, with the error code ("budget_exceeded", or
 * "io" when the session's journal cannot be read) in *code and a message a
 * person can act on in `why`.
 */
int budget_check(const struct budget *b, const struct budget_session *s,
    const char **code, struct buf *why);

/* Count an answer's reported cost (PROVIDER_COST_UNKNOWN: none reported)
 * for the run and for session `s` (may be NULL); one that is negative, not
 * finite or over BUDGET_MAX_COST is refused with a warning and counts as
 * unknown. */
void budget_spend(struct budget *b, struct budget_session *s, double cost);

void budget_free(struct budget *b);

#endif
