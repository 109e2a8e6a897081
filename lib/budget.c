#include "budget.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "journal.h"
#include "provider.h"

static int
plausible(double cost)
{
	return isfinite(cost) && cost >= 0 && cost <= BUDGET_MAX_COST;
}

void
budget_init(struct budget *b, double limit, double session_limit,
    const char *store)
{
	struct stat st;

	*b = (struct budget){ .limit = limit, .session_limit = session_limit,
	    .store = store };
	b->keep_ledgers = session_limit >= 0 ||
	    (stat(store, &st) == 0 && S_ISDIR(st.st_mode));
}

struct budget_session *
budget_session(struct budget *b, const char *session)
{
	struct budget_session *s;
	struct journal_cost cost;
	size_t i;

	/* Runs hold few sessions; a list is enough. */
	for (i = 0; i < b->nsessions; i++)
		if (strcmp(b->sessions[i]->name, session) == 0)
			return b->sessions[i];
	b->sessions = realloc(b->sessions,
	    (b->nsessions + 1) * sizeof(*b->sessions));
	s = calloc(1, sizeof(*s));
	if (b->sessions == NULL || s == NULL ||
	    (s->name = strdup(session)) == NULL)
		diag_errx(1, "out of memory");
	b->sessions[b->nsessions++] = s;
	if (b->session_limit < 0)
		return s;
	if (journal_session_cost(b->store, session, &cost) < 0)
		s->unreadable = errno;
	s->spent = cost.spent;
	if (!plausible(s->spent)) {
		diag_warnx("session %s: its spend ledger's total is not a "
		    "plausible amount; only this run's costs count", session);
		s->spent = 0;
	}
	return s;
}

int
budget_check(const struct budget *b, const struct budget_session *s,
    const char **code, struct buf *why)
{
	*code = "budget_exceeded";
	if (b->limit >= 0 && b->spent >= b->limit) {
		buf_printf(why, "the run has spent %.4f of its --budget %.4f",
		    b->spent, b->limit);
		return -1;
	}
	if (s == NULL || b->session_limit < 0)
		return 0;
	if (s->unreadable) {
		*code = "io";
		buf_printf(why, "cannot read the spend ledger of %s in %s for "
		    "--session-budget: %s", s->name, b->store,
		    strerror(s->unreadable));
		return -1;
	}
	if (s->spent >= b->session_limit) {
		buf_printf(why, "session %s has spent %.4f of its "
		    "--session-budget %.4f", s->name, s->spent,
		    b->session_limit);
		return -1;
	}
	return 0;
}

void
budget_spend(struct budget *b, struct budget_session *s, long long turn,
    const char *request_key, double cost)
{
	struct journal_cost ledger = { .spent = 0 };

	if (cost != PROVIDER_COST_UNKNOWN && !plausible(cost)) {
		diag_warnx("an answer reported the cost %.4g, which is not a "
		    "plausible amount: not counted", cost);
		cost = PROVIDER_COST_UNKNOWN;
	}
	if (cost == PROVIDER_COST_UNKNOWN)
		b->unknown++;
	else
		b->spent += cost;
	if (s == NULL)
		return;
	/* An S3 store keeps none yet, and then has no --session-budget
	 * (genopt refuses it): nothing to say. */
	if (b->keep_ledgers && journal_spend(b->store, s->name, turn,
	    request_key, cost, b->session_limit >= 0, &ledger) < 0 &&
	    errno != EOPNOTSUPP && !s->unrecorded) {
		s->unrecorded = 1;
		diag_warn("cannot record the spend of session %s in "
		    "%s/sessions/%s" JOURNAL_SPEND_EXT, s->name, b->store,
		    s->name);
	}
	if (cost != PROVIDER_COST_UNKNOWN)
		s->spent += cost;
	/* The ledger's total has other runs' answers too; one that makes no
	 * sense (see budget_session) leaves the count to this run. */
	if (plausible(ledger.spent) && ledger.spent > s->spent)
		s->spent = ledger.spent;
}

void
budget_free(struct budget *b)
{
	size_t i;

	for (i = 0; i < b->nsessions; i++) {
		free(b->sessions[i]->name);
		free(b->sessions[i]);
	}
	free(b->sessions);
	b->sessions = NULL;
	b->nsessions = 0;
}
