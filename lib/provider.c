#include "provider.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "digest.h"
#include "imgsniff.h"
#include "jqx.h"
#include "json.h"
#include "text.h"
#include "xalloc.h"

const char *
provider_endpoint(enum provider_api api, const struct provider_request *req,
    const struct provider_call *call)
{
	if (api == PROVIDER_OPENROUTER)
		return "/chat/completions";
	return provider_is_form(api, req, call) ? "/images/edits" :
	    "/images/generations";
}

int
provider_is_form(enum provider_api api, const struct provider_request *req,
    const struct provider_call *call)
{
	return api == PROVIDER_OPENAI && req->nrefs > 0 && !call->relaxed;
}

/* `,"key":"value"` when value is set. */
static void
put_opt(struct buf *out, const char *key, const char *value)
{
	if (value == NULL)
		return;
	buf_putc(out, ',');
	json_put_key(out, key);
	json_put_cstring(out, value);
}

static void
put_data_url(struct buf *out, const struct provider_ref *ref, int abbreviate)
{
	struct buf url = BUF_INIT;

	buf_printf(&url, "data:%s;base64,", ref->mime);
	if (abbreviate)
		buf_printf(&url, "[%zu bytes]", ref->bytes.len);
	else
		digest_base64(&url, ref->bytes.data, ref->bytes.len);
	json_put_string(out, url.data, url.len);
	buf_free(&url);
}

static void
openrouter_body(const struct provider_request *req,
    const struct provider_call *call, int abbreviate, struct buf *out)
{
	size_t i;

	buf_puts(out, "{\"model\":");
	json_put_cstring(out, call->model);
	buf_puts(out, ",\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"text\",\"text\":");
	json_put_cstring(out, req->prompt);
	buf_putc(out, '}');
	for (i = 0; !call->relaxed && i < req->nrefs; i++) {
		buf_puts(out, ",{\"type\":\"image_url\",\"image_url\":{\"url\":");
		put_data_url(out, &req->refs[i], abbreviate);
		buf_puts(out, "}}");
	}
	buf_puts(out, "]}],\"modalities\":");
	buf_puts(out, strcmp(call->modalities, "image") == 0 ? "[\"image\"]" :
	    "[\"image\",\"text\"]");
	if (!call->relaxed && (req->aspect_ratio || req->image_size)) {
		struct buf config = BUF_INIT;

		put_opt(&config, "aspect_ratio", req->aspect_ratio);
		put_opt(&config, "image_size", req->image_size);
		buf_puts(out, ",\"image_config\":{");
		buf_add(out, config.data + 1, config.len - 1);
		buf_putc(out, '}');
		buf_free(&config);
	}
	if (!call->relaxed && req->has_seed)
		buf_printf(out, ",\"seed\":%lld", req->seed);
	buf_putc(out, '}');
}

/* The DALL-E models answer with URLs unless asked; the GPT image models
 * always answer base64 and refuse the parameter. */
static int
wants_response_format(const char *model)
{
	return strncmp(model, "dall-e", 6) == 0;
}

void
provider_body(enum provider_api api, const struct provider_request *req,
    const struct provider_call *call, int abbreviate, struct buf *out)
{
	if (api == PROVIDER_OPENROUTER) {
		openrouter_body(req, call, abbreviate, out);
		return;
	}
	buf_puts(out, "{\"model\":");
	json_put_cstring(out, call->model);
	buf_puts(out, ",\"prompt\":");
	json_put_cstring(out, req->prompt);
	buf_puts(out, ",\"n\":1");
	if (wants_response_format(call->model))
		buf_puts(out, ",\"response_format\":\"b64_json\"");
	if (!call->relaxed) {
		put_opt(out, "size", req->size);
		put_opt(out, "quality", req->quality);
	}
	buf_putc(out, '}');
}

/* One form field: added to the transfer, or described. */
static void
form_field(struct http_xfer *x, struct buf *describe, const char *name,
    const char *value, const struct provider_ref *ref)
{
	const char *base;

	if (value == NULL && ref == NULL)
		return;
	if (ref)
		base = strrchr(ref->path, '/') ? strrchr(ref->path, '/') + 1 :
		    ref->path;
	if (x && ref)
		http_form_file(x, name, base, ref->mime, ref->bytes.data,
		    ref->bytes.len);
	else if (x)
		http_form_text(x, name, value);
	if (x)
		return;
	if (describe->data[describe->len - 1] != '[')
		buf_putc(describe, ',');
	buf_puts(describe, "{\"name\":");
	json_put_cstring(describe, name);
	if (ref) {
		put_opt(describe, "filename", base);
		put_opt(describe, "content_type", ref->mime);
		buf_printf(describe, ",\"bytes\":%zu}", ref->bytes.len);
	} else {
		put_opt(describe, "value", value);
		buf_putc(describe, '}');
	}
}

void
provider_form(const struct provider_request *req,
    const struct provider_call *call, struct http_xfer *x,
    struct buf *describe)
{
	size_t i;

	if (x == NULL)
		buf_putc(describe, '[');
	form_field(x, describe, "model", call->model, NULL);
	form_field(x, describe, "prompt", req->prompt, NULL);
	form_field(x, describe, "n", "1", NULL);
	form_field(x, describe, "size", req->size, NULL);
	form_field(x, describe, "quality", req->quality, NULL);
	for (i = 0; i < req->nrefs; i++)
		form_field(x, describe, "image[]", NULL, &req->refs[i]);
	if (x == NULL)
		buf_putc(describe, ']');
}

static void
fail(struct provider_reply *r, enum provider_next next, const char *code,
    const char *message)
{
	r->next = next;
	r->code = code;
	if (r->message.len == 0 && message)
		buf_puts(&r->message, message);
}

/* Error records carry the provider's message for a person to read: one
 * line, of reasonable length. */
#define MESSAGE_CHARS 300

/* The verdict on a failed HTTP status (or the code of a 200 error body). */
static void
classify_status(struct provider_reply *r, jv error)
{
	const char *message = jqx_str(jqx_get(error, "message"), NULL);
	long s = r->status;

	if (message)
		text_compact(&r->message, message, strlen(message),
		    MESSAGE_CHARS);
	if (s == 401 || s == 402)
		fail(r, NEXT_STOP, "http_status", NULL);
	else if (s == 403 && (jqx_present(jqx_get(jqx_get(error, "metadata"),
	    "reasons")) || (message && (strstr(message, "moderation") ||
	    strstr(message, "flagged")))))
		fail(r, NEXT_MODEL, "refused", NULL);
	else if (s == 404 && message &&
	    strstr(message, "support the requested output modalities"))
		fail(r, NEXT_MODALITIES, "http_status", NULL);
	else if (s == 408 || s == 429 || (s >= 500 && s <= 599))
		fail(r, NEXT_RETRY, "http_status", NULL);
	else if (s == 400 || s == 422)
		fail(r, NEXT_RELAX, "http_status", NULL);
	else
		fail(r, NEXT_MODEL, "http_status", NULL);
	if (r->message.len == 0)
		buf_printf(&r->message, "HTTP status %ld", s);
}

/* Decode a data URL's base64 into r->image; -1 when it is not one. */
static int
data_url(struct provider_reply *r, const char *url)
{
	const char *comma = strchr(url, ',');

	if (strncmp(url, "data:", 5) != 0 || comma == NULL ||
	    comma - url < 12 || strncmp(comma - 7, ";base64", 7) != 0)
		return -1;
	return digest_unbase64(&r->image, comma + 1, strlen(comma + 1));
}

/* Find the image in a 200 answer: bytes, a URL to fetch, or nothing. */
static void
find_image(struct provider_reply *r, jv body)
{
	jv choice = jqx_at(jqx_get(body, "choices"), 0);
	jv message = jqx_get(choice, "message");
	jv item = jqx_at(jqx_get(message, "images"), 0);
	const char *url = jqx_str(jqx_get(jqx_get(item, "image_url"), "url"),
	    NULL), *b64, *finish, *text;
	size_t len;

	if (url == NULL) {
		item = jqx_at(jqx_get(body, "data"), 0);
		if (!jqx_present(item))
			item = jqx_at(jqx_get(body, "images"), 0);
		url = jqx_str(jqx_get(item, "url"), NULL);
	}
	if ((text = jqx_str(jqx_get(message, "content"), &len)) != NULL)
		json_put_string(&r->text, text, len);
	b64 = jqx_str(jqx_get(item, "b64_json"), &len);
	if (b64 && digest_unbase64(&r->image, b64, len) < 0)
		fail(r, NEXT_RELAX, "bad_response", "the image is not base64");
	else if (b64)
		r->next = NEXT_DONE;
	else if (url && (strncmp(url, "https://", 8) == 0 ||
	    strncmp(url, "http://", 7) == 0))
		buf_puts(&r->url, url);
	else if (url && data_url(r, url) < 0)
		fail(r, NEXT_RELAX, "bad_response",
		    "the image URL is neither a base64 data URL nor http(s)");
	else if (!url) {
		finish = jqx_str(jqx_get(choice, "finish_reason"), NULL);
		if (finish && strcmp(finish, "content_filter") == 0)
			fail(r, NEXT_MODEL, "refused",
			    "the provider's content filter stopped the image");
		else
			fail(r, NEXT_RELAX, "no_image",
			    "the answer carries no image");
	}
}

static void
read_usage(struct provider_reply *r, const char *body, size_t len, jv value)
{
	struct json_members members = JSON_MEMBERS_INIT;
	const struct json_member *usage;
	const char *why;
	size_t where;
	double cost;
	jv c = jqx_get(jqx_get(value, "usage"), "cost");

	if (json_scan_object(body, len, &members, &why, &where) == 0 &&
	    (usage = json_find(&members, "usage")) != NULL)
		buf_add(&r->usage, usage->value, usage->value_len);
	json_members_free(&members);
	if (jv_get_kind(c) == JV_KIND_NUMBER && (cost = jv_number_value(c)) >= 0)
		r->cost = cost;
}

static void
check_image(struct provider_reply *r)
{
	struct imgsniff sniff;

	if (r->code || r->url.len)
		return;
	if (imgsniff((const unsigned char *)r->image.data, r->image.len,
	    &sniff) < 0)
		fail(r, NEXT_MODEL, "not_an_image",
		    "the provider's bytes are not a PNG, JPEG, WebP or GIF "
		    "image");
}

void
provider_read(enum http_outcome outcome, const struct http_xfer *x,
    int download, struct provider_reply *r)
{
	const char *why;
	size_t where;
	jv body, error;

	provider_reply_free(r);
	r->next = NEXT_DONE;
	r->cost = PROVIDER_COST_UNKNOWN;
	r->status = x->status;
	if (outcome == HTTP_TIMEOUT)
		return fail(r, NEXT_RETRY, "timeout", "the request timed out");
	if (outcome == HTTP_TOO_LARGE)
		return fail(r, NEXT_MODEL, "too_large",
		    "the answer is larger than --max-bytes");
	if (outcome == HTTP_NETWORK)
		return fail(r, NEXT_RETRY, "network", x->error);
	if (download && x->status == 200) {
		buf_add(&r->image, x->body.data, x->body.len);
		return check_image(r);
	}
	/* Strictly valid answers only: libjq 1.6 leaks on some junk (two
	 * values without a separator), and the network sends any bytes. */
	body = json_validate(x->body.data ? x->body.data : "", x->body.len,
	    &why, &where) < 0 ? jv_invalid() :
	    jqx_parse(x->body.data, x->body.len);
	error = jqx_get(body, "error");
	if (x->status == 200 && !download && jqx_present(error)) {
		long long code;

		r->status = jqx_int(jqx_get(error, "code"), 100, 999, &code) ?
		    code : 502;
		classify_status(r, error);
	} else if (x->status != 200) {
		classify_status(r, error);
	} else if (!jv_is_valid(body) || jv_get_kind(body) != JV_KIND_OBJECT) {
		fail(r, NEXT_RELAX, "bad_response",
		    "the answer is not a JSON object");
	} else {
		find_image(r, body);
		read_usage(r, x->body.data, x->body.len, body);
		check_image(r);
	}
	jqx_free(body);
}

void
provider_reply_free(struct provider_reply *r)
{
	buf_free(&r->message);
	buf_free(&r->image);
	buf_free(&r->url);
	buf_free(&r->text);
	buf_free(&r->usage);
	memset(r, 0, sizeof(*r));
}

int
provider_ref_load(struct provider_ref *ref, struct refroot_set *roots,
    const char *path, const char *sha256, struct buf *why)
{
	char hex[DIGEST_HEX_LEN + 1];
	struct imgsniff sniff;

	memset(ref, 0, sizeof(*ref));
	ref->path = xstrdup(path);
	if (refroot_read(roots, path, &ref->bytes, why) < 0)
		return -1;
	digest_sha256_hex(ref->bytes.data, ref->bytes.len, hex);
	/* The file's own hash is never told: it would let a record learn
	 * what a file holds. */
	if (sha256 == NULL || strcmp(hex, sha256) != 0) {
		buf_printf(why, "reference %s: its SHA-256 is not the %s the "
		    "request says", path, sha256 ? sha256 : "nothing");
		return -1;
	}
	if (imgsniff((const unsigned char *)ref->bytes.data, ref->bytes.len,
	    &sniff) < 0) {
		buf_printf(why, "reference %s: not a PNG, JPEG, WebP or GIF "
		    "image", path);
		return -1;
	}
	ref->mime = sniff.mime;
	return 0;
}

void
provider_ref_free(struct provider_ref *ref)
{
	free(ref->path);
	buf_free(&ref->bytes);
}
