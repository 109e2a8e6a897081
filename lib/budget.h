/*
 * budget — what imgp-gen has spent, and whether it may spend more
 * (--budget, --session-budget; design.md §4.4).
 *
 * Spend is what the provider reported (usage.cost) in answers imgp-gen
 * itself received; an answer that reports no cost is counted as unknown,
 * never as 0, and cannot count against a budget.  A cost a record carries
 * counts for nothing: a record with its own image passes through, and an
 * answer from the request cache was paid for when it was first made.
 *
 * Each answer for a record of a session is written to the session's
 * spend ledger in the store (journal_spend), when the store existed as
 * the run began or there is a --session-budget.  A session's spend is
 * what its ledger says, read when the run first meets the session, then
 * as each append leaves it (so other runs sharing the store count too).
 * Journal `cost` members, which records feed, are never read.
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

/* One session's spend. */
struct budget_session {
	char *name;
	double spent;		/* its ledger's, with --session-budget */
	int unreadable;		/* errno of a ledger that cannot be read */
	int unrecorded;		/* an answer could not go to the ledger */
};

struct budget {
	double limit;		/* --budget, or BUDGET_NONE */
	double session_limit;	/* --session-budget, or BUDGET_NONE */
	const char *store;	/* where the spend ledgers are */
	int keep_ledgers;	/* --session-budget, or the store existed */
	double spent;		/* this run: the reported costs */
	unsigned long unknown;	/* this run: answers with no reported cost */
	struct budget_session **sessions;
	size_t nsessions;
};

/* Set up `b` for a run with --budget `limit` and --session-budget
 * `session_limit` (BUDGET_NONE: none) and the store `store`, which keeps
 * the ledgers if it exists now, or with a --session-budget (it is then
 * made): whether a run records its spend never depends on when a
 * downstream imgp-store happens to make the store. */
void budget_init(struct budget *b, double limit, double session_limit,
    const char *store);

/* The tally of the valid session name `session` (with --session-budget,
 * read from its ledger the first time). */
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
 * for the run and, for a record of session `s` (may be NULL) with `turn`
 * (-1: none) and `request_key`, in the session's ledger; one that is
 * negative, not finite or over BUDGET_MAX_COST is refused with a warning
 * and counts as unknown.  A ledger that cannot be written is a warning
 * (once per session): the answer still counts in this run. */
void budget_spend(struct budget *b, struct budget_session *s, long long turn,
    const char *request_key, double cost);

void budget_free(struct budget *b);

#endif
