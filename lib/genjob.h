/*
 * genjob — one record of imgp-gen, from its input line to its output line:
 * reading its request, each attempt, the failure ladder of gen.h, and the
 * `image` or `error` member that ends it.  gen.c runs the window of jobs;
 * this header is shared by the two and by nothing else.
 */
#ifndef IMGP_GENJOB_H
#define IMGP_GENJOB_H

#include <stddef.h>

#include "budget.h"
#include "digest.h"
#include "gen.h"
#include "genframe.h"
#include "rec.h"

struct gen {
	struct gen_config *cfg;
	CURLM *multi;
	unsigned active;	/* jobs holding a request slot */
	struct budget budget;	/* and the run's spend */
	struct refroot_set *roots;	/* where references may be read */
	const char *stopped;	/* "auth" or "payment": no more requests */
	struct buf stop_why;	/* the message of the records not sent */
	struct genframes frames;	/* the frames made in this run */
	unsigned long nread;	/* records read */
	/* For the progress line and the summary. */
	unsigned long done, retried, failed, images, cached;
};

enum genjob_state {
	JOB_DONE,		/* `out` is its output line */
	JOB_WAITING,		/* needs a request slot */
	JOB_RUNNING,		/* a transfer is in flight */
	JOB_SLEEPING,		/* backing off until `wake` */
	JOB_BLOCKED		/* its pending reference waits for the frame
				 * of an earlier record (genframe.h) */
};

struct genjob {
	char *line;		/* the input line (the record borrows it) */
	struct rec rec;
	const char *session_name;	/* borrowed from rec, or NULL */
	enum genjob_state state;
	struct buf out;
	int failed;		/* the output is a new error record */
	int slot;		/* holds one of the -j request slots */
	double wake;		/* monotonic ms, while sleeping */

	struct provider_request req;
	const char *model;	/* the request's or the configured model */
	size_t model_index;	/* 0: `model`, i: fallback_models[i-1] */
	int relaxed, switched;	/* relaxed request, other modalities */
	int softened;		/* the softened retry after a refusal */
	struct buf param_names;	/* request.params' names, NUL-separated */
	unsigned retries;	/* transient retries at this step */
	const char *fallback;	/* NULL, "relaxed", "softened", "model" */
	struct buf download;	/* the image URL being fetched, or empty */
	unsigned redirects;	/* followed for this download */
	struct http_xfer *xfer;
	long retry_after;	/* of the last answer, seconds or -1 */
	double started, attempt_started;
	struct buf attempts;	/* the members of image.attempts */
	unsigned nattempts;
	struct provider_reply reply;	/* the last answer */
	struct buf usage, text;	/* of the API answer that gave the image */
	char key[DIGEST_HEX_LEN + 1];	/* the request key (reqcache.h) */
	int cached;		/* answered from the request cache */
	struct budget_session *session;	/* its session's spend (budget.h) */
	unsigned long seq;	/* its place in the input */
	struct genframe *frame;	/* its own frame, until it is settled */
	struct provider_ref *pending;	/* its unresolved pending reference */
	unsigned long seen;	/* frames settled when it last looked */
};

/* Milliseconds on the monotonic clock. */
double genjob_now(void);

/* A job for an input line (copied): done at once when it needs no request
 * (pass-through, bad_json, field error, --dry-run, --api local), blocked
 * while its pending reference waits for an earlier record's frame, else
 * waiting for a slot.  NULL for a blank line. */
struct genjob *genjob_new(struct gen *g, const char *line, size_t len,
    long lineno, const char *source);

/* A blocked job looks whether the frame it waits for is settled, and goes
 * on if so: 1 when it is no longer blocked. */
int genjob_unblock(struct gen *g, struct genjob *j);

/* Send the job's next attempt (it takes a slot if it had none). */
void genjob_start(struct gen *g, struct genjob *j);

/* A transfer of the job ended with `res`: read the answer, go on. */
void genjob_transfer_done(struct gen *g, struct http_xfer *x, CURLcode res);

void genjob_free(struct gen *g, struct genjob *j);

#endif
