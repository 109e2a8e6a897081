#include "genjob.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curlx.h"
#include "diag.h"
#include "digest.h"
#include "imgcheck.h"
#include "journal.h"
#include "jqx.h"
#include "json.h"
#include "provenance.h"
#include "render.h"
#include "reqcache.h"
#include "storeobj.h"
#include "text.h"
#include "xalloc.h"

#define BACKOFF_MAX_MS 60000.0
#define SWAP_BUF(a, b) do { struct buf t_ = (a); (a) = (b); (b) = t_; } while (0)

double
genjob_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* The job is over: it gives its slot back. */
static void
finish(struct gen *g, struct genjob *j, int failed)
{
	j->state = JOB_DONE;
	j->failed = failed;
	if (j->frame)
		genframe_settle(&g->frames, j->frame, NULL);
	j->frame = NULL;
	if (j->slot)
		g->active--;
	j->slot = 0;
	g->done++;
	g->failed += failed;
}

static const char *
current_model(const struct gen *g, const struct genjob *j)
{
	return j->model_index ? g->cfg->fallback_models[j->model_index - 1] :
	    j->model;
}

static struct provider_call
current_call(const struct gen *g, const struct genjob *j)
{
	/* A relaxed call asks for text and image, as the original does. */
	const char *m = j->relaxed ? "image,text" : g->cfg->modalities;
	struct provider_call call = { current_model(g, j), m, j->relaxed,
	    j->softened };

	if (j->switched)
		call.modalities = strcmp(m, "image") == 0 ? "image,text" :
		    "image";
	return call;
}

/* "W" "x" "H" within the renderer's limits. */
static int
parse_size(const char *size, unsigned *w, unsigned *h)
{
	char x;

	return sscanf(size, "%u%c%u", w, &x, h) == 3 && x == 'x' &&
	    *w >= 1 && *h >= 1 && *w <= RENDER_MAX_SIDE &&
	    *h <= RENDER_MAX_SIDE;
}

/* image.references: each reference as sent, its role and the SHA-256 of
 * its bytes, and a pending one's turn. */
static void
put_references(const struct genjob *j, struct buf *b)
{
	size_t i;

	for (i = 0; i < j->req.nrefs; i++) {
		const struct provider_ref *r = &j->req.refs[i];

		buf_puts(b, i ? ",{\"role\":" : "{\"role\":");
		if (r->role)
			json_put_cstring(b, r->role);
		else
			buf_puts(b, "null");
		buf_printf(b, ",\"sha256\":\"%s\"", r->sha256);
		if (r->turn >= 0)
			buf_printf(b, ",\"turn\":%lld", r->turn);
		buf_putc(b, '}');
	}
}

/*
 * Append the `image` member's value.  Data and its type come from the
 * bytes; usage is the provider's text as written.
 */
static void
put_image(struct gen *g, struct genjob *j, const char *provider,
    const char *model, const struct buf *bytes, const char *fallback)
{
	struct imgsniff sniff;
	struct buf *out = &j->out, image = BUF_INIT;

	if (fallback == NULL)
		fallback = j->fallback;	/* "reference", or NULL */

	imgsniff((const unsigned char *)bytes->data, bytes->len, &sniff);
	buf_puts(&image, "{\"data\":\"");
	digest_base64(&image, bytes->data, bytes->len);
	buf_puts(&image, "\",\"mime\":");
	json_put_cstring(&image, sniff.mime);
	buf_printf(&image, ",\"bytes\":%zu,\"model\":", bytes->len);
	if (model)
		json_put_cstring(&image, model);
	else
		buf_puts(&image, "null");
	buf_puts(&image, ",\"provider\":");
	json_put_cstring(&image, provider);
	buf_printf(&image, ",\"attempts\":[%s],\"fallback\":",
	    j->attempts.data ? j->attempts.data : "");
	if (fallback)
		json_put_cstring(&image, fallback);
	else
		buf_puts(&image, "null");
	buf_printf(&image, ",\"latency_ms\":%.0f,\"usage\":%s,\"text\":%s,"
	    "\"request_key\":\"%s\",\"cached\":%s,\"references\":[",
	    j->started ? genjob_now() - j->started : 0.0,
	    j->usage.len ? j->usage.data : "null",
	    j->text.len ? j->text.data : "null", j->key,
	    j->cached ? "true" : "false");
	put_references(j, &image);
	buf_puts(&image, "]}");
	rec_with(&j->rec, "image", image.data, image.len, out);
	buf_free(&image);
	if (j->frame)
		genframe_settle(&g->frames, j->frame, bytes);
	j->frame = NULL;
	g->images++;
	g->cached += j->cached;
	finish(g, j, 0);
}

/* With --cache, record the image made for the job's request.  A store
 * that cannot take it costs the cache, not the image: a warning. */
static void
remember(struct gen *g, struct genjob *j, const char *provider,
    const char *model, const struct buf *bytes, const char *fallback)
{
	struct reqcache_answer a = { .provider = provider, .model = model,
	    .fallback = fallback, .bytes = bytes, .usage = &j->usage,
	    .text = &j->text };
	struct buf why = BUF_INIT;

	if (g->cfg->cache && reqcache_put(g->cfg->store, j->key, &a, &why) < 0)
		diag_warn("cannot record request %s in the cache: %s", j->key,
		    why.data);
	buf_free(&why);
}

/* The job's request in the cache: 1, with `a` filled, or 0. */
static int
look_up(struct gen *g, struct genjob *j, struct reqcache_answer *a)
{
	return g->cfg->cache && reqcache_get(g->cfg->store, j->key, a);
}

/* Answer the job from the cache: 1, or 0 on a miss. */
static int
answer_cached(struct gen *g, struct genjob *j)
{
	struct reqcache_answer a;

	if (!look_up(g, j, &a))
		return 0;
	buf_add(&j->usage, a.usage->data, a.usage->len);
	buf_add(&j->text, a.text->data, a.text->len);
	j->cached = 1;
	put_image(g, j, a.provider, a.model, a.bytes, a.fallback);
	reqcache_answer_free(&a);
	return 1;
}

/* The local renderer: for --api local and the placeholder fallback. */
static int
render_local(struct gen *g, struct genjob *j, const char *fallback)
{
	struct buf png = BUF_INIT;
	unsigned w, h;
	unsigned char *data;
	size_t len;
	/* The same chunks as imgp-store --embed writes (provenance.h). */
	struct provenance p = {
		.session = jqx_str(rec_get(&j->rec, "session"), NULL),
		.prompt = j->req.prompt,
		.seed = j->req.has_seed ? j->req.seed : -1,
		.model = "local",
		.request_key = j->key[0] ? j->key : NULL,
	};

	if (!parse_size(j->req.size ? j->req.size : GEN_DEFAULT_SIZE, &w,
	    &h)) {
		rec_field_error(&j->rec, &j->out, "invalid_field",
		    "request.size", "request.size must be WxH, each from 1 "
		    "to %d, for the local renderer", RENDER_MAX_SIDE);
		finish(g, j, 1);
		return -1;
	}
	if (!jqx_int(rec_get(&j->rec, "turn"), 0, JQX_MAX_EXACT, &p.turn))
		p.turn = -1;
	if (render_png(j->req.prompt, strlen(j->req.prompt),
	    (uint64_t)j->req.seed, w, h, provenance_text(&p), &data,
	    &len) < 0)
		diag_errx(1, "out of memory");
	png.data = (char *)data;
	png.len = png.cap = len;
	/* The renderer is its own model: "local", as in its imgp:model. */
	if (fallback == NULL)
		remember(g, j, "local", "local", &png, NULL);
	put_image(g, j, "local", "local", &png, fallback);
	free(data);
	return 0;
}

/* The session's latest stored image before this turn, for --on-failure
 * previous; -1 with the reason in `why` when there is none. */
static int
reuse_previous(struct gen *g, struct genjob *j, struct buf *why)
{
	const char *session = jqx_str(rec_get(&j->rec, "session"), NULL);
	const struct journal_entry *e;
	struct journal_view view = { .entries = NULL };
	struct buf path = BUF_INIT, bytes = BUF_INIT;
	struct imgsniff sniff;
	long long turn;
	int ok = 0;

	if (!jqx_int(rec_get(&j->rec, "turn"), 0, JQX_MAX_EXACT, &turn))
		turn = LLONG_MAX;
	if (session == NULL || !journal_session_valid(session))
		buf_puts(why, "the record has no valid session");
	else if (journal_scan(g->cfg->store, session, turn, 1, &view) < 0)
		buf_printf(why, "cannot read the journal of %s", session);
	else if ((e = journal_previous(&view)) == NULL)
		buf_printf(why, "no earlier image of %s in %s", session,
		    g->cfg->store);
	else if (*e->path == '\0')
		buf_printf(why, "the journal of %s gives no usable path for "
		    "turn %lld", session, e->turn);
	else {
		buf_printf(&path, "%s/%s", g->cfg->store, e->path);
		if (storeobj_read(g->cfg->store, e->path,
		    g->cfg->limits.max_bytes, &bytes, NULL) < 0 ||
		    imgcheck((const unsigned char *)bytes.data, bytes.len,
		    &sniff, NULL) < 0)
			buf_printf(why, "cannot read the image %s", path.data);
		else
			ok = 1;
	}
	if (ok)
		put_image(g, j, "store", NULL, &bytes, "previous");
	journal_view_free(&view);
	buf_free(&path);
	buf_free(&bytes);
	return ok ? 0 : -1;
}

/* The error record of a job whose ladder is exhausted. */
static void
put_error(struct gen *g, struct genjob *j, const char *extra)
{
	struct provider_reply *r = &j->reply;
	struct buf message = BUF_INIT, error = BUF_INIT;

	buf_printf(&message, "%s model %s: %s (%u attempt%s)",
	    provider_api_names[g->cfg->api], current_model(g, j),
	    r->message.len ? r->message.data : r->code, j->nattempts,
	    j->nattempts == 1 ? "" : "s");
	if (extra)
		buf_printf(&message, "; %s", extra);
	text_redact(&message, g->cfg->key);
	rec_error_begin(&error, r->code, "%s", message.data);
	if (r->status)
		buf_printf(&error, ",\"status\":%ld", r->status);
	buf_printf(&error, ",\"retryable\":%s,\"model\":",
	    r->next == NEXT_RETRY || r->next == NEXT_STOP ? "true" : "false");
	json_put_cstring(&error, current_model(g, j));
	buf_printf(&error, ",\"attempts\":[%s]", j->attempts.data);
	rec_error_end(&error);
	rec_with(&j->rec, "error", error.data, error.len, &j->out);
	buf_free(&message);
	buf_free(&error);
	finish(g, j, 1);
}

/* The error record of a job stopped for a reason of our own, not an
 * answer's: `details` are the error's members after the message. */
static void
stop_error(struct gen *g, struct genjob *j, const char *code,
    const char *details, const struct buf *why)
{
	struct buf error = BUF_INIT;

	rec_error_begin(&error, code, "%s", why->data);
	buf_puts(&error, details);
	rec_error_end(&error);
	rec_with(&j->rec, "error", error.data, error.len, &j->out);
	buf_free(&error);
	finish(g, j, 1);
}

/* Whether the job may send another paid request: not once the account
 * was refused (401, 402), nor past a budget; if not, it becomes a
 * retryable error record that keeps its request. */
static int
may_spend(struct gen *g, struct genjob *j)
{
	struct buf why = BUF_INIT, details = BUF_INIT;
	const char *code = g->stopped;
	int ok;

	if (code)
		buf_add(&why, g->stop_why.data, g->stop_why.len);
	ok = code == NULL && budget_check(&g->budget, j->session, &code,
	    &why) == 0;
	if (!ok) {
		buf_printf(&details, ",\"retryable\":true,\"attempts\":[%s]",
		    j->attempts.data ? j->attempts.data : "");
		stop_error(g, j, code, details.data, &why);
	}
	buf_free(&why);
	buf_free(&details);
	return ok;
}

static void
give_up(struct gen *g, struct genjob *j)
{
	struct buf why = BUF_INIT;

	if (g->cfg->on_failure == GEN_FAIL_PLACEHOLDER)
		render_local(g, j, "placeholder");
	else if (g->cfg->on_failure == GEN_FAIL_ERROR ||
	    reuse_previous(g, j, &why) < 0)
		put_error(g, j, why.len ? why.data : NULL);
	buf_free(&why);
}

/* Add the attempt that just ended to image.attempts. */
static void
note_attempt(struct gen *g, struct genjob *j, double wait_ms)
{
	const struct provider_reply *r = &j->reply;
	struct buf *a = &j->attempts;

	if (a->len)
		buf_putc(a, ',');
	buf_puts(a, "{\"model\":");
	json_put_cstring(a, current_model(g, j));
	if (r->status)
		buf_printf(a, ",\"status\":%ld", r->status);
	buf_puts(a, ",\"code\":");
	json_put_cstring(a, r->code ? r->code : "ok");
	buf_printf(a, ",\"ms\":%.0f", genjob_now() - j->attempt_started);
	if (j->relaxed)
		buf_puts(a, ",\"relaxed\":true");
	if (j->softened)
		buf_puts(a, ",\"softened\":true");
	if (j->switched || j->relaxed)
		buf_puts(a, ",\"modalities\":");
	if (j->switched || j->relaxed)
		json_put_cstring(a, current_call(g, j).modalities);
	if (r->note.len)
		buf_puts(a, ",\"note\":");
	if (r->note.len)
		json_put_string(a, r->note.data, r->note.len);
	if (j->download.len)
		buf_puts(a, ",\"download\":true");
	if (wait_ms > 0)
		buf_printf(a, ",\"wait_ms\":%.0f", wait_ms);
	buf_putc(a, '}');
}

/* Full jitter: a uniform wait up to base·2^(n-1), but at least what
 * Retry-After asked for. */
static double
backoff_ms(const struct gen *g, const struct genjob *j)
{
	double ceiling = g->cfg->retry_delay * 1000 * pow(2, j->retries - 1);
	double wait = drand48() * fmin(ceiling, BACKOFF_MAX_MS);

	if (j->retry_after >= 0 && j->retry_after * 1000.0 > wait)
		wait = j->retry_after * 1000.0;
	return wait;
}

/* The account was refused (401, 402): no request of the run is sent any
 * more; the records that wanted one become retryable error records. */
static void
stop_run(struct gen *g, struct genjob *j)
{
	if (g->stopped)
		return;
	g->stopped = j->reply.code;
	buf_printf(&g->stop_why, "not sent: %s refused the account earlier "
	    "in this run (HTTP %ld: %s); fix the key or the credit and feed "
	    "the error records back", provider_api_names[g->cfg->api],
	    j->reply.status, j->reply.message.data ? j->reply.message.data :
	    j->reply.code);
	text_redact(&g->stop_why, g->cfg->key);
}

/* The failure ladder of gen.h, after a failed attempt. */
static void
ladder(struct gen *g, struct genjob *j)
{
	enum provider_next next = j->reply.next;

	if (j->download.len && next != NEXT_RETRY)
		next = NEXT_MODEL;
	if (next == NEXT_RETRY && j->retries < g->cfg->retries) {
		double wait;

		j->retries++;
		g->retried++;
		wait = backoff_ms(g, j);
		note_attempt(g, j, wait);
		j->wake = genjob_now() + wait;
		j->state = JOB_SLEEPING;
		return;
	}
	note_attempt(g, j, 0);
	buf_reset(&j->download);
	j->retries = 0;
	if (next == NEXT_STOP) {
		stop_run(g, j);
		put_error(g, j, NULL);
		return;
	}
	if (next == NEXT_MODALITIES && !j->switched) {
		j->switched = 1;
	} else if (next == NEXT_SOFTEN && !j->softened) {
		j->softened = 1;
		j->fallback = "softened";
	} else if (next == NEXT_RELAX && !j->relaxed) {
		j->relaxed = 1;
		if (j->fallback == NULL)
			j->fallback = "relaxed";
	} else if (j->model_index < g->cfg->nfallback) {
		j->model_index++;
		j->relaxed = j->switched = j->softened = 0;
		j->fallback = "model";
	} else {
		give_up(g, j);
		return;
	}
	genjob_start(g, j);
}

/*
 * The request headers of a call: added to the transfer, or, for --dry-run
 * (x NULL), listed in `describe` with the key redacted.  The idempotency
 * key is derived from the body, so a retry of the same request carries the
 * same key and a provider that honours it bills it once.
 */
static void
put_headers(const struct gen *g, const struct buf *body, int form,
    struct http_xfer *x, struct buf *describe)
{
	const struct gen_config *c = g->cfg;
	char hex[DIGEST_HEX_LEN + 1];
	struct buf line = BUF_INIT;
	const char *names[] = { "Authorization: Bearer ", "Content-Type: ",
	    "Idempotency-Key: imgp-", "HTTP-Referer: ", "X-Title: " };
	const char *values[] = { c->key, form ? NULL : "application/json",
	    hex, c->referer, c->title };
	size_t i;

	digest_sha256_hex(body->data, body->len, hex);
	hex[32] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (values[i] == NULL)
			continue;
		buf_reset(&line);
		buf_puts(&line, names[i]);
		buf_puts(&line, x || i > 0 ? values[i] : "[redacted]");
		if (x) {
			http_header(x, line.data);
			continue;
		}
		if (describe->data[describe->len - 1] != '[')
			buf_putc(describe, ',');
		json_put_string(describe, line.data, line.len);
	}
	/* curl waits a second for "100 Continue" before a large body. */
	if (x)
		http_header(x, "Expect:");
	explicit_bzero(line.data, line.len);
	buf_free(&line);
}

/* The URL of a call: the base URL and the endpoint. */
static void
put_url(const struct gen *g, const struct genjob *j,
    const struct provider_call *call, struct buf *url)
{
	const char *base = g->cfg->base_url;
	size_t len = strlen(base);

	while (len && base[len - 1] == '/')
		len--;
	buf_add(url, base, len);
	buf_puts(url, provider_endpoint(g->cfg->api, &j->req, call));
}

/* The same, for showing: a user name and password in it hidden. */
static void
put_shown_url(const struct gen *g, const struct genjob *j,
    const struct provider_call *call, struct buf *out)
{
	struct buf url = BUF_INIT;

	put_url(g, j, call, &url);
	curlx_hide_password(url.data, out);
	buf_free(&url);
}

void
genjob_start(struct gen *g, struct genjob *j)
{
	struct provider_call call = current_call(g, j);
	struct buf url = BUF_INIT, body = BUF_INIT;
	struct http_xfer *x;
	int form = provider_is_form(g->cfg->api, &j->req, &call);

	if (!j->download.len && !may_spend(g, j))
		return;
	if (!j->slot)
		g->active++;
	j->slot = 1;
	if (j->started == 0)
		j->started = genjob_now();
	j->attempt_started = genjob_now();
	j->state = JOB_RUNNING;
	if (j->download.len) {
		j->xfer = http_new(j->download.data, &g->cfg->limits, j);
	} else {
		put_url(g, j, &call, &url);
		x = j->xfer = http_new(url.data, &g->cfg->limits, j);
		if (form)
			provider_form(&j->req, &call, x, NULL);
		else
			provider_body(g->cfg->api, &j->req, &call, 0, &body);
		put_headers(g, &body, form, x, NULL);
		if (!form)
			http_post(x, body.data, body.len);
		j->nattempts++;
	}
	http_multi_add(g->multi, j->xfer);
	buf_free(&url);
	buf_free(&body);
}

/* Fetch the image at `url` (an answer's, or where its download was
 * redirected): only where http_may_download() lets, else this model has
 * failed. */
static void
fetch(struct gen *g, struct genjob *j, const char *url, size_t len)
{
	struct provider_reply *r = &j->reply;
	struct buf origin = BUF_INIT;

	buf_reset(&j->download);
	buf_add(&j->download, url, len);
	if (http_may_download(j->download.data, g->cfg->base_url)) {
		genjob_start(g, j);
		return;
	}
	provider_reply_free(r);
	r->next = NEXT_MODEL;
	r->code = "download_refused";
	if (curlx_origin(j->download.data, &origin) < 0)
		buf_puts(&origin, "a URL that is not absolute");
	buf_printf(&r->message, "the image is at %s, which is neither https "
	    "nor the origin of the base URL", origin.data);
	buf_free(&origin);
	ladder(g, j);
}

/*
 * Take the key out of the usage and text that will be written (the record,
 * the request cache), should the provider have echoed it.  The text is a
 * JSON string we wrote; the usage is kept as the provider wrote it unless
 * it holds the key in any spelling (\u escapes included): then it is
 * written as libjq reads it, with the key redacted.
 */
static void
scrub_answer(struct gen *g, struct genjob *j)
{
	struct buf usage = BUF_INIT;
	size_t len = j->usage.len;
	jv value;

	text_redact(&j->text, g->cfg->key);
	if (len == 0 || g->cfg->key == NULL)
		return;
	value = jqx_parse(j->usage.data, j->usage.len);
	jqx_dump(value, &usage);
	jqx_free(value);
	text_redact(&usage, g->cfg->key);
	text_redact(&j->usage, g->cfg->key);
	if (j->usage.len != len || strstr(usage.data ? usage.data : "",
	    "[redacted]"))
		SWAP_BUF(j->usage, usage);
	buf_free(&usage);
}

/* Count the cost an answer to the job reported, in its session's ledger
 * too. */
static void
spend(struct gen *g, struct genjob *j, double cost)
{
	long long turn;

	if (!jqx_int(rec_get(&j->rec, "turn"), 0, JQX_MAX_EXACT, &turn))
		turn = -1;
	budget_spend(&g->budget, j->session, turn, j->key, cost);
}

void
genjob_transfer_done(struct gen *g, struct http_xfer *x, CURLcode res)
{
	struct genjob *j = x->owner;
	enum http_outcome outcome = http_outcome(x, res);
	struct provider_reply *r = &j->reply;
	struct buf location = BUF_INIT;

	if (j->download.len && x->location.len &&
	    j->redirects < HTTP_MAX_REDIRS) {
		j->redirects++;
		SWAP_BUF(location, x->location);
		http_multi_remove(g->multi, x);
		http_free(x);
		j->xfer = NULL;
		fetch(g, j, location.data, location.len);
		buf_free(&location);
		return;
	}
	provider_read(outcome, x, j->download.len > 0, r);
	j->retry_after = x->retry_after;
	http_multi_remove(g->multi, x);
	http_free(x);
	j->xfer = NULL;
	if (r->next != NEXT_DONE) {
		/* An answer without a usable image may still have been
		 * billed: what it reports counts. */
		if (!j->download.len && r->cost != PROVIDER_COST_UNKNOWN)
			spend(g, j, r->cost);
		ladder(g, j);
		return;
	}
	if (!j->download.len) {
		/* This answer's usage and text describe the image, even when
		 * its bytes come from a download. */
		SWAP_BUF(j->usage, r->usage);
		SWAP_BUF(j->text, r->text);
		scrub_answer(g, j);
		spend(g, j, r->cost);
	}
	if (r->url.len) {
		/* The API answered with a URL: fetch it (no key, see http.h). */
		note_attempt(g, j, 0);
		j->redirects = 0;
		fetch(g, j, r->url.data, r->url.len);
	} else {
		if (!j->download.len)
			note_attempt(g, j, 0);
		remember(g, j, provider_api_names[g->cfg->api], current_model(g, j),
		    &r->image, j->fallback);
		put_image(g, j, provider_api_names[g->cfg->api], current_model(g, j),
		    &r->image, j->fallback);
	}
}

/* The dry-run member: the request of the first attempt, not sent, or
 * with --cache, that the cache would answer it. */
static void
put_dry_run(struct gen *g, struct genjob *j)
{
	struct provider_call call = current_call(g, j);
	struct buf d = BUF_INIT, body = BUF_INIT;
	int form = provider_is_form(g->cfg->api, &j->req, &call);
	struct reqcache_answer answer;
	int hit = look_up(g, j, &answer);

	if (hit) {
		buf_puts(&d, "{\"cache\":\"hit\"");
		reqcache_answer_free(&answer);
	} else if (g->cfg->api == PROVIDER_LOCAL) {
		buf_puts(&d, "{\"api\":\"local\",\"size\":");
		json_put_cstring(&d, j->req.size ? j->req.size :
		    GEN_DEFAULT_SIZE);
		buf_printf(&d, ",\"seed\":%lld", j->req.seed);
	} else {
		buf_puts(&d, "{\"method\":\"POST\",\"url\":");
		put_shown_url(g, j, &call, &body);
		json_put_string(&d, body.data, body.len);
		buf_reset(&body);
		if (!form)
			provider_body(g->cfg->api, &j->req, &call, 0, &body);
		buf_puts(&d, ",\"headers\":[");
		put_headers(g, &body, form, NULL, &d);
		buf_puts(&d, "],\"body\":");
		if (form)
			provider_form(&j->req, &call, NULL, &d);
		else
			provider_body(g->cfg->api, &j->req, &call, 1, &d);
	}
	if (g->cfg->cache && !hit)
		buf_puts(&d, ",\"cache\":\"miss\"");
	buf_printf(&d, ",\"request_key\":\"%s\"}", j->key);
	rec_with(&j->rec, "dry_run", d.data, d.len, &j->out);
	buf_free(&d);
	buf_free(&body);
	finish(g, j, 0);
}

/* A reference's bytes as sent: a previous frame without its imgp: chunks
 * (provenance.h), so that a frame is the same reference whether imgp-store
 * embedded its provenance or not. */
static void
as_sent(struct provider_ref *r)
{
	struct buf stripped = BUF_INIT;

	if (r->role == NULL || strcmp(r->role, "previous") != 0)
		return;
	provenance_strip(&r->bytes, &stripped);
	SWAP_BUF(r->bytes, stripped);
	buf_free(&stripped);
	digest_sha256_hex(r->bytes.data, r->bytes.len, r->sha256);
}

/*
 * A pending reference, as imgp-enrich writes it: exactly {"role":
 * "previous", "turn": N}, N below the record's turn, in a record with a
 * valid session.  Anything else was not written by imgp-enrich: -1 with
 * the reason in `why`.
 */
static int
read_pending(struct genjob *j, jv ref, struct provider_ref *r,
    struct buf *why)
{
	const char *role = jqx_str(jqx_get(ref, "role"), NULL);
	const char *session = jqx_str(rec_get(&j->rec, "session"), NULL);
	long long turn;

	if (jv_get_kind(ref) != JV_KIND_OBJECT || jqx_len(ref) != 2 ||
	    role == NULL || strcmp(role, "previous") != 0 ||
	    !jqx_int(jqx_get(ref, "turn"), 0, JQX_MAX_EXACT, &r->turn) ||
	    !jqx_int(rec_get(&j->rec, "turn"), 0, JQX_MAX_EXACT, &turn) ||
	    r->turn >= turn || session == NULL ||
	    !journal_session_valid(session) || j->pending) {
		buf_puts(why, "a reference without a path must be one "
		    "pending reference {\"role\":\"previous\",\"turn\":N} to "
		    "a lower turn of the record's session, as imgp-enrich "
		    "writes it");
		return -1;
	}
	r->role = role;
	r->previous = 1;
	j->pending = r;
	return 0;
}

/* Read request.references: each one loaded and checked, but for the local
 * renderer, which sends none and needs only the previous frame's bytes
 * (its identity in the request key); a pending one is resolved later.  0,
 * or -1 with the reason in `why`. */
static int
read_references(struct gen *g, struct genjob *j, jv refs, struct buf *why)
{
	size_t i, n = jqx_len(refs);

	j->req.refs = xcheck(calloc(n + 1, sizeof(*j->req.refs)));
	for (i = 0; i < n; i++) {
		jv ref = jqx_at(refs, i);
		const char *path = jqx_str(jqx_get(ref, "path"), NULL);
		const char *sha = jqx_str(jqx_get(ref, "sha256"), NULL);
		const char *role = jqx_str(jqx_get(ref, "role"), NULL);
		struct provider_ref *r = &j->req.refs[j->req.nrefs++];

		r->turn = -1;
		if (!jqx_present(jqx_get(ref, "path"))) {
			if (read_pending(j, ref, r, why) < 0)
				return -1;
		} else if (g->cfg->api == PROVIDER_LOCAL &&
		    (role == NULL || strcmp(role, "previous") != 0)) {
			r->path = xstrdup(path ? path : "");
			snprintf(r->sha256, sizeof(r->sha256), "%s",
			    sha ? sha : "");
		} else if (provider_ref_load(r, g->roots, path ? path : "",
		    sha, why) < 0) {
			return -1;
		} else {
			r->role = role;
			r->previous = role && strcmp(role, "previous") == 0;
			as_sent(r);
		}
	}
	return 0;
}

/* The params of the job: --param, then the record's request.params (an
 * object), whose members replace those of the same name.  0, or -1 with
 * the reason in `why`. */
static int
read_params(struct gen *g, struct genjob *j, struct buf *why)
{
	const struct json_member *request = json_find(&j->rec.members,
	    "request"), *params;
	struct json_members in_request = JSON_MEMBERS_INIT;
	struct json_members mine = JSON_MEMBERS_INIT;
	jv value = jqx_get(rec_get(&j->rec, "request"), "params");
	size_t i, k, *offsets = NULL;
	int status = 0;

	j->req.params = xcheck(calloc(g->cfg->nparams + 1,
	    sizeof(*j->req.params)));
	if (g->cfg->nparams > 0)	/* memcpy from NULL is undefined */
		memcpy(j->req.params, g->cfg->params,
		    g->cfg->nparams * sizeof(*j->req.params));
	j->req.nparams = g->cfg->nparams;
	if (!jqx_present(value))
		return 0;
	if (jv_get_kind(value) != JV_KIND_OBJECT) {
		buf_puts(why, "request.params is not an object");
		return -1;
	}
	json_members_of(request->value, request->value_len, &in_request);
	params = json_find(&in_request, "params");
	json_members_of(params->value, params->value_len, &mine);
	offsets = xcheck(calloc(mine.n + 1, sizeof(*offsets)));
	for (i = 0; i < mine.n; i++) {
		offsets[i] = j->param_names.len;
		json_key_decode(&mine.v[i], &j->param_names);
		buf_putc(&j->param_names, '\0');
	}
	j->req.params = xcheck(realloc(j->req.params, (g->cfg->nparams +
	    mine.n + 1) * sizeof(*j->req.params)));
	for (i = 0; i < mine.n && status == 0; i++) {
		const char *name = j->param_names.data + offsets[i];

		if (provider_protected(name) || *name == '\0') {
			buf_printf(why, "request.params may not hold '%s': "
			    "imgp-gen sends it itself (see imgp-gen(1))", name);
			status = -1;
		}
		for (k = 0; k < j->req.nparams; k++)
			if (strcmp(j->req.params[k].name, name) == 0)
				break;
		j->req.params[k] = (struct provider_param){ name,
		    mine.v[i].value, mine.v[i].value_len };
		if (k == j->req.nparams)
			j->req.nparams++;
	}
	free(offsets);
	json_members_free(&in_request);
	json_members_free(&mine);
	return status;
}

/* A string member of the request, else the run's default. */
static const char *
option(jv req, const char *name, const char *fallback)
{
	const char *value = jqx_str(jqx_get(req, name), NULL);

	return value ? value : fallback;
}

/* Read `request`; 0, or -1 after making the job an error record. */
static int
read_request(struct gen *g, struct genjob *j)
{
	jv req = rec_get(&j->rec, "request"), refs;
	const struct gen_config *c = g->cfg;
	const char *field = NULL;
	struct buf why = BUF_INIT;
	int missing = 0;

	j->req.prompt = jqx_str(jqx_get(req, "prompt"), NULL);
	j->model = option(req, "model", c->model);
	j->req.aspect_ratio = option(req, "aspect_ratio", c->aspect_ratio);
	j->req.image_size = option(req, "image_size", c->image_size);
	j->req.size = option(req, "size", c->size);
	j->req.quality = option(req, "quality", c->quality);
	j->req.output_format = option(req, "output_format", NULL);
	j->req.reasoning = c->reasoning;
	j->req.max_tokens = c->api == PROVIDER_OPENROUTER ? c->max_tokens : 0;
	/* The judge's own prompt holds none of the profile's directives,
	 * continuity or references: what a softened retry sends. */
	j->req.softened = jqx_str(rec_get(&j->rec, "image_prompt"), NULL);
	j->req.has_seed = jqx_present(jqx_get(req, "seed"));
	refs = jqx_get(req, "references");
	if (jv_get_kind(req) != JV_KIND_OBJECT) {
		field = "request";
		missing = !jqx_present(req);
	} else if (j->req.prompt == NULL) {
		field = "request.prompt";
		missing = !jqx_present(jqx_get(req, "prompt"));
	} else if (j->req.has_seed && !jqx_int(jqx_get(req, "seed"), 0,
	    JQX_MAX_EXACT, &j->req.seed)) {
		field = "request.seed";
	} else if (jqx_present(refs) && jv_get_kind(refs) != JV_KIND_ARRAY) {
		field = "request.references";
	} else if (read_params(g, j, &why) < 0) {
		field = "request.params";
	}
	if (why.len) {
		rec_field_error(&j->rec, &j->out, "invalid_field", field, "%s",
		    why.data);
		finish(g, j, 1);
		buf_free(&why);
		return -1;
	}
	if (field) {
		rec_field_error(&j->rec, &j->out, missing ? "missing_field" :
		    "invalid_field", field, "%s is %s (imgp-enrich writes it)",
		    field, missing ? "missing" : "not of the right type");
		finish(g, j, 1);
		return -1;
	}
	if (read_references(g, j, refs, &why) < 0)
		stop_error(g, j, "reference", ",\"retryable\":false,"
		    "\"field\":\"request.references\"", &why);
	buf_free(&why);
	return j->state == JOB_DONE ? -1 : 0;
}

/* Note in image.attempts how a pending reference was resolved when it was
 * not from its record's frame of this run; a frame other than the one of
 * the turn referred to is the fallback "reference". */
static void
note_reference(struct genjob *j, long long turn,
    const struct journal_entry *stored, const char *why)
{
	struct buf *a = &j->attempts;

	if (a->len)
		buf_putc(a, ',');
	buf_printf(a, "{\"reference\":\"previous\",\"turn\":%lld,\"from\":",
	    turn);
	if (stored)
		buf_printf(a, "\"store\",\"stored_turn\":%lld", stored->turn);
	else
		buf_puts(a, "null");
	buf_puts(a, ",\"why\":");
	json_put_cstring(a, why);
	buf_putc(a, '}');
	if (stored == NULL || stored->turn != turn)
		j->fallback = "reference";
}

/*
 * The documented rule for a pending reference whose record made no frame
 * in this run (it failed, never came, or was forgotten): the session's
 * latest stored frame before the record's turn, else none.
 */
static void
resolve_from_store(struct gen *g, struct genjob *j, const char *why)
{
	struct provider_ref *r = j->pending;
	const char *session = jqx_str(rec_get(&j->rec, "session"), NULL);
	const struct journal_entry *e = NULL;
	struct journal_view view = { .entries = NULL };
	struct buf path = BUF_INIT, failed = BUF_INIT;
	long long turn, wanted = r->turn;
	size_t after;

	jqx_int(rec_get(&j->rec, "turn"), 0, JQX_MAX_EXACT, &turn);
	if (journal_scan(g->cfg->store, session, turn, 1, &view) == 0 &&
	    (e = journal_previous(&view)) != NULL) {
		buf_printf(&path, "%s/%s", g->cfg->store, e->path);
		if (provider_ref_load(r, g->roots, path.data, e->sha256,
		    &failed) < 0)
			e = NULL;
	}
	r->role = "previous";
	r->previous = 1;
	r->turn = wanted;
	if (e) {
		as_sent(r);
		note_reference(j, wanted, e, why);
	} else {
		note_reference(j, wanted, NULL, failed.len ? failed.data :
		    "no stored frame of the session before this turn");
		/* None: the reference is left out. */
		provider_ref_free(r);
		after = (size_t)(&j->req.refs[j->req.nrefs - 1] - r);
		memmove(r, r + 1, after * sizeof(*r));
		j->req.nrefs--;
	}
	journal_view_free(&view);
	buf_free(&path);
	buf_free(&failed);
}

/* Resolve the job's pending reference: 0, or -1 while the frame it refers
 * to is still being made. */
static int
resolve_pending(struct gen *g, struct genjob *j)
{
	struct provider_ref *r = j->pending;
	const struct genframe *f = genframe_find(&g->frames,
	    jqx_str(rec_get(&j->rec, "session"), NULL), r->turn, j->seq);
	struct buf name = BUF_INIT;
	struct imgsniff sniff;

	j->seen = g->frames.settled;
	if (f && f->state == GENFRAME_PENDING)
		return -1;
	if (f && f->state == GENFRAME_MADE) {
		buf_add(&r->bytes, f->bytes.data, f->bytes.len);
		memcpy(r->sha256, f->sha256, sizeof(r->sha256));
		imgsniff((const unsigned char *)r->bytes.data, r->bytes.len,
		    &sniff);
		r->mime = sniff.mime;
		buf_printf(&name, "%s.%s", f->sha256, sniff.ext);
		r->path = buf_detach(&name, NULL);
	} else {
		resolve_from_store(g, j, f ? "its record failed in this run" :
		    "its record was not made in this run");
	}
	j->pending = NULL;
	return 0;
}
/* Enter the record's own frame (genframe.h) when it has a session and a
 * turn: later records of its session may refer to it. */
static void
expect_frame(struct gen *g, struct genjob *j)
{
	const char *session = jqx_str(rec_get(&j->rec, "session"), NULL);
	long long turn;

	if (session && journal_session_valid(session) &&
	    jqx_int(rec_get(&j->rec, "turn"), 0, JQX_MAX_EXACT, &turn))
		j->frame = genframe_expect(&g->frames, session, turn, j->seq);
}

/* The request is read and its references resolved: its key, then the dry
 * run, the cache, the renderer, or a request slot to wait for. */
static void
go_on(struct gen *g, struct genjob *j)
{
	const char *session;

	reqcache_key(g->cfg->api, j->model, &j->req, j->key);
	j->state = JOB_WAITING;
	if (g->cfg->dry_run) {
		put_dry_run(g, j);
	} else if (answer_cached(g, j)) {
		/* no call */
	} else if (g->cfg->api == PROVIDER_LOCAL) {
		render_local(g, j, NULL);
	} else if ((session = jqx_str(rec_get(&j->rec, "session"), NULL)) &&
	    journal_session_valid(session)) {
		j->session = budget_session(&g->budget, session);
	}
}

int
genjob_unblock(struct gen *g, struct genjob *j)
{
	if (j->seen == g->frames.settled || resolve_pending(g, j) < 0)
		return 0;
	go_on(g, j);
	return 1;
}

struct genjob *
genjob_new(struct gen *g, const char *line, size_t len, long lineno,
    const char *source)
{
	struct genjob *j;

	if (rec_blank(line, len))
		return NULL;
	j = xcheck(calloc(1, sizeof(*j)));
	j->line = xcheck(malloc(len + 1));
	memcpy(j->line, line, len);
	j->line[len] = '\0';
	j->rec = (struct rec)REC_INIT;
	j->rec.lineno = lineno;
	j->rec.source = source;
	j->retry_after = -1;
	j->state = JOB_WAITING;
	j->seq = g->nread++;
	if (rec_parse(&j->rec, j->line, len) < 0) {
		rec_bad_json(&j->rec, &j->out);
		finish(g, j, 1);
	} else if (rec_has_error(&j->rec) ||
	    jqx_present(rec_get(&j->rec, "image"))) {
		buf_add(&j->out, line, len);
		finish(g, j, 0);
	} else if (read_request(g, j) < 0) {
		/* already an error record */
	} else {
		expect_frame(g, j);
		if (j->pending && resolve_pending(g, j) < 0)
			j->state = JOB_BLOCKED;
		else
			go_on(g, j);
	}
	return j;
}

void
genjob_free(struct gen *g, struct genjob *j)
{
	size_t i;

	if (j->frame)
		genframe_settle(&g->frames, j->frame, NULL);
	if (j->xfer) {
		http_multi_remove(g->multi, j->xfer);
		http_free(j->xfer);
	}
	for (i = 0; i < j->req.nrefs; i++)
		provider_ref_free(&j->req.refs[i]);
	free(j->req.refs);
	free(j->req.params);
	buf_free(&j->param_names);
	provider_reply_free(&j->reply);
	buf_free(&j->download);
	buf_free(&j->attempts);
	buf_free(&j->usage);
	buf_free(&j->text);
	buf_free(&j->out);
	rec_free(&j->rec);
	free(j->line);
	free(j);
}
