/* Fuzz the journal reader, which reads backwards and trusts the lines'
 * totals only when they make sense: any file gives entries in ascending
 * turn order, all before the turn asked about, at most as many as asked;
 * every turn, as --export asks, in ascending order too; and, the same
 * bytes read as a spend ledger, a session's cost that is a finite number
 * of at least 0. */
#include <float.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char store[] = "/tmp/imgp-fuzz-journal.XXXXXX";
	static int made;
	char sessions[sizeof(store) + 16], *path;
	/* The scan for --export keeps each line's judge and options too. */
	struct journal_view view = { .with_judge = 1 };
	FILE *f;

	if (!made) {
		if (mkdtemp(store) == NULL)
			abort();
		made = 1;
		snprintf(sessions, sizeof(sessions), "%s/sessions", store);
		if (mkdir(sessions, 0755) < 0)
			abort();
	}
	path = journal_path(store, "s");
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	if (journal_scan(store, "s", 10, 3, &view) == 0) {
		if (view.n > 3)
			__builtin_trap();
		for (size_t i = 0; i < view.n; i++)
			if (view.entries[i].turn >= 10 ||
			    (i && view.entries[i - 1].turn >= view.entries[i].turn))
				__builtin_trap();
		journal_view_free(&view);
	}
	if (journal_scan(store, "s", LLONG_MAX, SIZE_MAX, &view) == 0) {
		for (size_t i = 1; i < view.n; i++)
			if (view.entries[i - 1].turn >= view.entries[i].turn)
				__builtin_trap();
		journal_view_free(&view);
	}
	/* a session's cost, from its ledger's last line's totals or summed */
	{
		struct journal_cost cost;

		free(path);
		if (asprintf(&path, "%s/sessions/s" JOURNAL_SPEND_EXT,
		    store) < 0 || (f = fopen(path, "w")) == NULL)
			abort();
		fwrite(data, 1, size, f);
		fclose(f);
		if (journal_session_cost(store, "s", &cost) == 0 &&
		    !(cost.spent >= 0 && cost.spent <= DBL_MAX))
			__builtin_trap();
	}
	free(path);
	return 0;
}
