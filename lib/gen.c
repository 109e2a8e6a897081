#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "genjob.h"
#include "input.h"
#include "jqx.h"
#include "out.h"
#include "refroot.h"
#include "xalloc.h"

#define PROGRESS_EVERY_MS 250
#define IDLE_WAIT_MS 1000

/* The jobs of the window, in input order: a ring. */
struct window {
	struct genjob **jobs;
	size_t cap, head, count;
	unsigned waiting;	/* jobs waiting for a request slot */
};

static struct genjob *
at(const struct window *w, size_t i)
{
	return w->jobs[(w->head + i) % w->cap];
}

/* Take the job at `i` out of the window, keeping the others in order. */
static void
window_remove(struct window *w, size_t i)
{
	if (i == 0) {
		w->head = (w->head + 1) % w->cap;
	} else {
		for (; i + 1 < w->count; i++)
			w->jobs[(w->head + i) % w->cap] = at(w, i + 1);
	}
	w->count--;
}

/* Whether a record before the `i`th one in the window is of the same
 * session (so, with --unordered, the `i`th must wait for it).  Records
 * without a session are in no order but their own. */
static int
session_ahead(const struct window *w, size_t i)
{
	const char *session = at(w, i)->session_name;
	size_t k;

	if (session == NULL)
		return 0;
	for (k = 0; k < i; k++)
		if (at(w, k)->session_name &&
		    strcmp(at(w, k)->session_name, session) == 0)
			return 1;
	return 0;
}

/* Write the finished jobs that may go: those at the front of the window,
 * or, with --unordered, every one with no earlier record of its session
 * still in the window. */
static int
emit(struct gen *g, struct window *w)
{
	int failed = 0;
	size_t i = 0;

	while (i < w->count && (i == 0 || g->cfg->unordered)) {
		struct genjob *j = at(w, i);

		if (j->state != JOB_DONE || session_ahead(w, i)) {
			i++;
			continue;
		}
		out_line(j->out.data, j->out.len);
		if (j->failed && !g->cfg->quiet)
			rec_report(&j->rec, j->out.data, j->out.len);
		failed |= j->failed;
		genjob_free(g, j);
		window_remove(w, i);
	}
	return failed;
}

/* Start the jobs whose turn has come: waiting ones while there are free
 * slots, sleeping ones whose backoff is over.  Returns the wait in ms
 * until the next backoff ends (IDLE_WAIT_MS when none is pending). */
static int
start_ready(struct gen *g, struct window *w)
{
	double now = genjob_now(), next = now + IDLE_WAIT_MS;
	size_t i;

	for (i = 0; i < w->count && !out_gone(); i++) {
		struct genjob *j = at(w, i);

		if (j->state == JOB_BLOCKED && genjob_unblock(g, j))
			w->waiting += j->state == JOB_WAITING;
		if (j->state == JOB_WAITING && g->active < g->cfg->jobs) {
			w->waiting--;
			genjob_start(g, j);
		} else if (j->state == JOB_SLEEPING && j->wake <= now) {
			genjob_start(g, j);
		} else if (j->state == JOB_SLEEPING && j->wake < next) {
			next = j->wake;
		}
	}
	return (int)(next - now) + 1;
}

/*
 * Read what input there is without blocking (input.h's nowait mode), while
 * the window has room and no record waits for a slot (so input is read no
 * further ahead than the requests in flight).
 */
static int
read_input(struct gen *g, struct window *w, struct input *in)
{
	char *line;
	size_t len;
	struct genjob *j;
	int r;

	while (w->count < w->cap && w->waiting == 0 && !out_gone()) {
		r = input_next(in, &line, &len, 1);
		if (r == INPUT_END)
			return 1;
		if (r == INPUT_AGAIN)
			return 0;
		j = genjob_new(g, line, len, input_lineno(in),
		    input_name(in));
		if (j == NULL)
			continue;
		j->session_name = jqx_str(rec_get(&j->rec, "session"), NULL);
		w->waiting += j->state == JOB_WAITING;
		w->jobs[(w->head + w->count++) % w->cap] = j;
	}
	return 0;
}

static void
progress(const struct gen *g, int last)
{
	static double shown;
	double now = genjob_now();

	if (!g->cfg->progress || (!last && now - shown < PROGRESS_EVERY_MS))
		return;
	shown = now;
	fprintf(stderr, "\r%s: %lu done, %u in flight, %lu retried, "
	    "%lu failed, cost %.4f\033[K%s", diag_progname(), g->done,
	    g->active, g->retried, g->failed, g->budget.spent,
	    last ? "\n" : "");
}

/* The run's totals, for -v and after any failure (unless -q): the
 * reported spend, and how many answers reported none (their cost is not
 * guessed). */
static void
summary(const struct gen *g)
{
	struct buf line = BUF_INIT;

	if (!g->cfg->verbose && (g->failed == 0 || g->cfg->quiet))
		return;
	buf_printf(&line, "%s: %lu image%s, %lu cached, %lu failed, cost %.4f",
	    diag_progname(), g->images, g->images == 1 ? "" : "s", g->cached,
	    g->failed, g->budget.spent);
	if (g->budget.unknown)
		buf_printf(&line, " (%lu unknown)", g->budget.unknown);
	fprintf(stderr, "%s\n", line.data);
	buf_free(&line);
}

/* The directories references may be read from (refroot.h): the store, the
 * profile's, as imgp-enrich resolves its references (the directory part of
 * the profile's path), and each --reference-root. */
static struct refroot_set *
reference_roots(const struct gen_config *c)
{
	struct refroot_set *s = refroot_new(c->max_reference_bytes);
	const char *slash = c->profile ? strrchr(c->profile, '/') : NULL;
	struct buf dir = BUF_INIT;
	size_t i;

	refroot_add(s, c->store, "--store", 0);
	if (c->profile && *c->profile) {
		buf_add(&dir, c->profile, slash ?
		    (size_t)(slash - c->profile) + 1 : 0);
		refroot_add(s, dir.len ? dir.data : ".", "--profile", 1);
	}
	for (i = 0; i < c->nreference_roots; i++)
		refroot_add(s, c->reference_roots[i], "--reference-root", 1);
	buf_free(&dir);
	return s;
}

int
gen_run(struct gen_config *cfg, char *const *operands, int n)
{
	struct gen g = { .cfg = cfg };
	struct window w = { .cap = (size_t)cfg->jobs * GEN_WINDOW_PER_JOB };
	struct input *in = input_open(operands, n);
	int ended = 0, status = 0;
	int wait_ms;
	struct http_xfer *x;
	CURLcode res;

	budget_init(&g.budget, cfg->budget, cfg->session_budget, cfg->store);
	g.roots = reference_roots(cfg);
	srand48((long)time(NULL) ^ (long)getpid());
	w.jobs = xcheck(calloc(w.cap, sizeof(*w.jobs)));
	g.multi = http_multi_new();
	input_set_wait_hook(in, out_flush, NULL);
	for (;;) {
		if (!ended)
			ended = read_input(&g, &w, in);
		wait_ms = start_ready(&g, &w);
		status |= emit(&g, &w);
		progress(&g, 0);
		if (out_gone() || (ended && w.count == 0))
			break;
		if (w.count && at(&w, 0)->state == JOB_DONE)
			continue;
		/* Idle until a transfer, the input or a backoff timer. */
		out_flush(NULL);
		http_multi_wait(g.multi, !ended && w.waiting == 0 &&
		    w.count < w.cap ? input_fd(in) : -1, wait_ms);
		while ((x = http_multi_done(g.multi, &res)) != NULL)
			genjob_transfer_done(&g, x, res);
	}
	progress(&g, 1);
	summary(&g);
	while (w.count > 0) {
		genjob_free(&g, at(&w, 0));
		w.head = (w.head + 1) % w.cap;
		w.count--;
	}
	free(w.jobs);
	genframes_free(&g.frames);
	budget_free(&g.budget);
	refroot_free(g.roots);
	buf_free(&g.stop_why);
	http_multi_free(g.multi);
	status |= input_failed(in);
	input_close(in);
	return out_close() || status;
}
