#include "http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "curlx.h"
#include "diag.h"
#include "xalloc.h"

/* Below this many bytes a second for stall_seconds, a transfer has
 * stalled: a provider that is still rendering sends nothing at all. */
#define STALL_BYTES_PER_SECOND 1L

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct http_xfer *x = arg;

	n *= size;
	if (x->body.len + n > x->max_bytes) {
		x->too_large = 1;
		return 0;	/* makes curl fail with CURLE_WRITE_ERROR */
	}
	buf_add(&x->body, data, n);
	return n;
}

/* Seconds to wait from a Retry-After value (delta seconds or HTTP date),
 * capped at HTTP_RETRY_AFTER_MAX; -1 when it is neither. */
static long
parse_retry_after(const char *value)
{
	long seconds;
	char *end;

	while (*value == ' ' || *value == '\t')
		value++;
	if (isdigit((unsigned char)*value)) {
		seconds = strtol(value, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r')
			end++;
		if (*end != '\0')
			return -1;
	} else {
		time_t when = curlx_fn.getdate(value, NULL);

		if (when == -1)
			return -1;
		seconds = (long)(when - time(NULL));
		if (seconds < 0)
			seconds = 0;
	}
	return seconds > HTTP_RETRY_AFTER_MAX ? HTTP_RETRY_AFTER_MAX : seconds;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	static const char name[] = "retry-after:";
	struct http_xfer *x = arg;
	size_t len = size * n;

	/* A new response (after 100 Continue) forgets the previous one's. */
	if (len > 5 && strncmp(data, "HTTP/", 5) == 0)
		x->retry_after = -1;
	if (len > sizeof(name) - 1 &&
	    strncasecmp(data, name, sizeof(name) - 1) == 0) {
		char value[128];
		size_t vlen = len - (sizeof(name) - 1);

		if (vlen >= sizeof(value))
			vlen = sizeof(value) - 1;
		memcpy(value, data + sizeof(name) - 1, vlen);
		value[vlen] = '\0';
		value[strcspn(value, "\r\n")] = '\0';
		x->retry_after = parse_retry_after(value);
	}
	return len;
}

struct http_xfer *
http_new(const char *url, const struct http_limits *limits, void *owner)
{
	struct http_xfer *x = xcheck(calloc(1, sizeof(*x)));
	CURL *e = xcheck(curlx_fn.easy_init());

	x->easy = e;
	x->owner = owner;
	x->max_bytes = limits->max_bytes;
	x->retry_after = -1;
	curlx_fn.easy_setopt(e, CURLOPT_URL, url);
	curlx_fn.easy_setopt(e, CURLOPT_PRIVATE, x);
	curlx_fn.easy_setopt(e, CURLOPT_ERRORBUFFER, x->error);
	curlx_fn.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curlx_fn.easy_setopt(e, CURLOPT_WRITEDATA, x);
	curlx_fn.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curlx_fn.easy_setopt(e, CURLOPT_HEADERDATA, x);
	curlx_fn.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curlx_fn.easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    (long)(limits->timeout * 1000));
	curlx_fn.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(limits->connect_timeout * 1000));
	curlx_fn.easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT,
	    STALL_BYTES_PER_SECOND);
	curlx_fn.easy_setopt(e, CURLOPT_LOW_SPEED_TIME, limits->stall_seconds);
	curlx_fn.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curlx_fn.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curlx_fn.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	curlx_fn.easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curlx_fn.easy_setopt(e, CURLOPT_USERAGENT, "imgp/" IMGP_VERSION);
	/* Each redirect target is checked by the caller (http.h). */
	curlx_fn.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	return x;
}

void
http_header(struct http_xfer *x, const char *line)
{
	x->headers = xcheck(curlx_fn.slist_append(x->headers, line));
	curlx_fn.easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
}

void
http_post(struct http_xfer *x, const char *body, size_t len)
{
	curlx_fn.easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len);
	curlx_fn.easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS, body);
}

static curl_mimepart *
form_part(struct http_xfer *x, const char *name)
{
	curl_mimepart *part;

	if (x->mime == NULL) {
		x->mime = xcheck(curlx_fn.mime_init(x->easy));
		curlx_fn.easy_setopt(x->easy, CURLOPT_MIMEPOST, x->mime);
	}
	part = xcheck(curlx_fn.mime_addpart(x->mime));
	curlx_fn.mime_name(part, name);
	return part;
}

void
http_form_text(struct http_xfer *x, const char *name, const char *value)
{
	curlx_fn.mime_data(form_part(x, name), value, CURL_ZERO_TERMINATED);
}

void
http_form_file(struct http_xfer *x, const char *name, const char *filename,
    const char *type, const void *data, size_t len)
{
	curl_mimepart *part = form_part(x, name);

	curlx_fn.mime_data(part, data, len);
	curlx_fn.mime_filename(part, filename);
	curlx_fn.mime_type(part, type);
}

int
http_may_download(const char *url, const char *base_url)
{
	struct buf origin = BUF_INIT, base = BUF_INIT;
	int ok = curlx_origin(url, &origin) == 0 &&
	    (strncmp(origin.data, "https://", 8) == 0 ||
	    (curlx_origin(base_url, &base) == 0 &&
	    strcmp(origin.data, base.data) == 0));

	buf_free(&origin);
	buf_free(&base);
	return ok;
}

enum http_outcome
http_outcome(struct http_xfer *x, CURLcode res)
{
	char *location = NULL;

	curlx_fn.easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	buf_reset(&x->location);
	if (x->status >= 300 && x->status <= 399 &&
	    curlx_fn.easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &location) ==
	    CURLE_OK && location)
		buf_puts(&x->location, location);
	if (x->too_large)
		return HTTP_TOO_LARGE;
	if (res == CURLE_OPERATION_TIMEDOUT)
		return HTTP_TIMEOUT;
	if (res != CURLE_OK) {
		if (x->error[0] == '\0')
			snprintf(x->error, sizeof(x->error), "%s",
			    curlx_fn.easy_strerror(res));
		return HTTP_NETWORK;
	}
	return HTTP_DONE;
}

void
http_free(struct http_xfer *x)
{
	struct curl_slist *h;

	if (x == NULL)
		return;
	curlx_fn.easy_cleanup(x->easy);
	curlx_fn.mime_free(x->mime);
	for (h = x->headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curlx_fn.slist_free_all(x->headers);
	buf_free(&x->body);
	buf_free(&x->location);
	free(x);
}

CURLM *
http_multi_new(void)
{
	CURLM *m = xcheck(curlx_fn.multi_init());

	curlx_fn.multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	return m;
}

void
http_multi_add(CURLM *m, struct http_xfer *x)
{
	if (curlx_fn.multi_add_handle(m, x->easy) != CURLM_OK)
		diag_errx(1, "cannot start a transfer");
}

void
http_multi_remove(CURLM *m, struct http_xfer *x)
{
	curlx_fn.multi_remove_handle(m, x->easy);
}

void
http_multi_wait(CURLM *m, int extra_fd, int timeout_ms)
{
	struct curl_waitfd fd = { extra_fd, CURL_WAIT_POLLIN, 0 };
	int running;

	curlx_fn.multi_poll(m, &fd, extra_fd >= 0, timeout_ms, NULL);
	curlx_fn.multi_perform(m, &running);
}

struct http_xfer *
http_multi_done(CURLM *m, CURLcode *res)
{
	CURLMsg *msg;
	int left;
	char *priv;

	while ((msg = curlx_fn.multi_info_read(m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		*res = msg->data.result;
		curlx_fn.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    &priv);
		return (struct http_xfer *)priv;
	}
	return NULL;
}

void
http_multi_free(CURLM *m)
{
	curlx_fn.multi_cleanup(m);
}
