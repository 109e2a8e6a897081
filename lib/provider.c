#include "provider.h"

#include <errno.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "digest.h"
#include "imgcheck.h"
#include "jqx.h"
#include "json.h"
#include "text.h"
#include "xalloc.h"

const char *const provider_api_names[] = { "openrouter", "openai", "local",
	"openrouter-images", NULL };

/* The body members imgp owns: a param may not replace them. */
static const char *const protected_members[] = { "model", "messages",
	"prompt", "n", "modalities", "input_references", "stream", "image",
	"image[]", NULL };

int
provider_protected(const char *name)
{
	size_t i;

	for (i = 0; protected_members[i]; i++)
		if (strcmp(name, protected_members[i]) == 0)
			return 1;
	return 0;
}

const char *
provider_reasoning(enum provider_api api, const struct provider_request *req,
    const char *model)
{
	if (api != PROVIDER_OPENROUTER)
		return NULL;
	if (req->reasoning)
		return req->reasoning;
	/* As the original pipeline does: these models think at length, and
	 * bill it, unless asked not to. */
	return strstr(model, "gpt-5-image") ? "low" : NULL;
}

const char *
provider_endpoint(enum provider_api api, const struct provider_request *req,
    const struct provider_call *call)
{
	if (api == PROVIDER_OPENROUTER)
		return "/chat/completions";
	if (api == PROVIDER_OPENROUTER_IMAGES)
		return "/images";
	return provider_is_form(api, req, call) ? "/images/edits" :
	    "/images/generations";
}

/* Whether the call carries the reference images. */
static int
sends_refs(const struct provider_request *req, const struct provider_call *call)
{
	return req->nrefs > 0 && !call->relaxed && !call->softened;
}

int
provider_is_form(enum provider_api api, const struct provider_request *req,
    const struct provider_call *call)
{
	return api == PROVIDER_OPENAI && sends_refs(req, call);
}

/* Whether the call sends the params and one of them is named `name`. */
static int
replaced(const struct provider_request *req, const struct provider_call *call,
    const char *name)
{
	size_t i;

	for (i = 0; !call->relaxed && i < req->nparams; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return 1;
	return 0;
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

/* An optional member: not in a relaxed call, not when a param replaces
 * it. */
static void
put_optional(struct buf *out, const struct provider_request *req,
    const struct provider_call *call, const char *key, const char *value)
{
	if (!call->relaxed && !replaced(req, call, key))
		put_opt(out, key, value);
}

static void
put_params(struct buf *out, const struct provider_request *req,
    const struct provider_call *call)
{
	size_t i;

	for (i = 0; !call->relaxed && i < req->nparams; i++) {
		buf_putc(out, ',');
		json_put_key(out, req->params[i].name);
		buf_add(out, req->params[i].value, req->params[i].value_len);
	}
}

static void
put_seed(struct buf *out, const struct provider_request *req,
    const struct provider_call *call)
{
	if (req->has_seed && !call->relaxed && !replaced(req, call, "seed"))
		buf_printf(out, ",\"seed\":%lld", req->seed);
}

static const char *
call_prompt(const struct provider_request *req, const struct provider_call *call)
{
	return call->softened && req->softened ? req->softened : req->prompt;
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

/* The references as image_url content parts, `,`-separated: the previous
 * frame first when `previous_first`, else in the request's order. */
static void
put_image_parts(struct buf *out, const struct provider_request *req,
    int previous_first, int abbreviate)
{
	size_t i, pass, n = 0;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < req->nrefs; i++) {
			if (previous_first && req->refs[i].previous != !pass)
				continue;
			if (!previous_first && pass)
				continue;
			buf_puts(out, n++ ? "," : "");
			buf_puts(out, "{\"type\":\"image_url\",\"image_url\":"
			    "{\"url\":");
			put_data_url(out, &req->refs[i], abbreviate);
			buf_puts(out, "}}");
		}
	}
}

static void
openrouter_body(const struct provider_request *req,
    const struct provider_call *call, int abbreviate, struct buf *out)
{
	const char *effort = provider_reasoning(PROVIDER_OPENROUTER, req,
	    call->model);
	struct buf config = BUF_INIT;

	buf_puts(out, "{\"model\":");
	json_put_cstring(out, call->model);
	buf_puts(out, ",\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"text\",\"text\":");
	json_put_cstring(out, call_prompt(req, call));
	buf_putc(out, '}');
	if (sends_refs(req, call)) {
		buf_putc(out, ',');
		put_image_parts(out, req, 0, abbreviate);
	}
	buf_puts(out, "]}],\"modalities\":");
	buf_puts(out, strcmp(call->modalities, "image") == 0 ? "[\"image\"]" :
	    "[\"image\",\"text\"]");
	put_optional(out, req, call, "size", req->size);
	put_opt(&config, "aspect_ratio", req->aspect_ratio);
	put_opt(&config, "image_size", req->image_size);
	put_opt(&config, "quality", req->quality);
	if (config.len && !call->relaxed &&
	    !replaced(req, call, "image_config")) {
		buf_puts(out, ",\"image_config\":{");
		buf_add(out, config.data + 1, config.len - 1);
		buf_putc(out, '}');
	}
	buf_free(&config);
	put_seed(out, req, call);
	/* Kept in a relaxed call: they bound the cost, not the request. */
	if (effort && !replaced(req, call, "reasoning")) {
		buf_puts(out, ",\"reasoning\":{\"effort\":");
		json_put_cstring(out, effort);
		buf_putc(out, '}');
	}
	if (req->max_tokens && !replaced(req, call, "max_tokens"))
		buf_printf(out, ",\"max_tokens\":%lld", req->max_tokens);
	put_params(out, req, call);
	buf_putc(out, '}');
}

/* OpenRouter's images endpoint: references as input_references, the
 * previous frame first (the one to continue from). */
static void
images_body(const struct provider_request *req,
    const struct provider_call *call, int abbreviate, struct buf *out)
{
	buf_puts(out, "{\"model\":");
	json_put_cstring(out, call->model);
	buf_puts(out, ",\"prompt\":");
	json_put_cstring(out, call_prompt(req, call));
	buf_puts(out, ",\"n\":1");
	put_optional(out, req, call, "aspect_ratio", req->aspect_ratio);
	put_optional(out, req, call, "resolution", req->image_size);
	put_optional(out, req, call, "size", req->size);
	put_optional(out, req, call, "quality", req->quality);
	put_optional(out, req, call, "output_format", req->output_format);
	put_seed(out, req, call);
	if (sends_refs(req, call)) {
		buf_puts(out, ",\"input_references\":[");
		put_image_parts(out, req, 1, abbreviate);
		buf_putc(out, ']');
	}
	put_params(out, req, call);
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
	if (api == PROVIDER_OPENROUTER)
		return openrouter_body(req, call, abbreviate, out);
	if (api == PROVIDER_OPENROUTER_IMAGES)
		return images_body(req, call, abbreviate, out);
	buf_puts(out, "{\"model\":");
	json_put_cstring(out, call->model);
	buf_puts(out, ",\"prompt\":");
	json_put_cstring(out, call_prompt(req, call));
	buf_puts(out, ",\"n\":1");
	if (wants_response_format(call->model) &&
	    !replaced(req, call, "response_format"))
		buf_puts(out, ",\"response_format\":\"b64_json\"");
	put_optional(out, req, call, "size", req->size);
	put_optional(out, req, call, "quality", req->quality);
	put_optional(out, req, call, "output_format", req->output_format);
	put_params(out, req, call);
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
	struct buf value = BUF_INIT, scratch = BUF_INIT;
	size_t i;

	if (x == NULL)
		buf_putc(describe, '[');
	form_field(x, describe, "model", call->model, NULL);
	form_field(x, describe, "prompt", call_prompt(req, call), NULL);
	form_field(x, describe, "n", "1", NULL);
	if (!replaced(req, call, "size"))
		form_field(x, describe, "size", req->size, NULL);
	if (!replaced(req, call, "quality"))
		form_field(x, describe, "quality", req->quality, NULL);
	if (!replaced(req, call, "output_format"))
		form_field(x, describe, "output_format", req->output_format,
		    NULL);
	for (i = 0; i < req->nparams; i++) {
		/* A form field is text: a string param is its characters,
		 * anything else its JSON. */
		const struct provider_param *p = &req->params[i];
		const char *s;
		size_t slen;

		buf_reset(&value);
		if (json_string_value(p->value, p->value_len, &s, &slen,
		    &scratch) == 0)
			buf_add(&value, s, slen);
		else
			buf_add(&value, p->value, p->value_len);
		form_field(x, describe, p->name, value.data, NULL);
	}
	for (i = 0; i < req->nrefs; i++)
		form_field(x, describe, "image[]", NULL, &req->refs[i]);
	if (x == NULL)
		buf_putc(describe, ']');
	buf_free(&value);
	buf_free(&scratch);
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
	if (s == 401)
		fail(r, NEXT_STOP, "auth", NULL);
	else if (s == 402)
		fail(r, NEXT_STOP, "payment", NULL);
	else if (s == 403 && (jqx_present(jqx_get(jqx_get(error, "metadata"),
	    "reasons")) || (message && (strstr(message, "moderation") ||
	    strstr(message, "flagged")))))
		fail(r, NEXT_SOFTEN, "refused", NULL);
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

/*
 * Decode base64 as providers write it: line breaks, CR and spaces anywhere,
 * the URL-safe alphabet, padding missing.  -1 when it is not base64.
 */
static int
unbase64_loose(struct buf *out, const char *text, size_t len)
{
	struct buf clean = BUF_INIT;
	size_t i;
	int status;

	buf_grow(&clean, len);
	for (i = 0; i < len; i++) {
		char c = text[i];

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		buf_putc(&clean, c == '-' ? '+' : c == '_' ? '/' : c);
	}
	status = clean.len ? digest_unbase64(out, clean.data, clean.len) : -1;
	buf_free(&clean);
	return status;
}

/* The base64 of a data URL ("data:image/png;base64,…", in any case), or
 * NULL when `url` is not one. */
static const char *
data_url_base64(const char *url)
{
	const char *comma = strchr(url, ',');

	if (strncasecmp(url, "data:", 5) != 0 || comma == NULL ||
	    comma - url < 12 || strncasecmp(comma - 7, ";base64", 7) != 0)
		return NULL;
	return comma + 1;
}

/* Where an image was found: base64, or a URL to fetch. */
struct found {
	const char *b64, *url;
	size_t b64_len;
	struct buf where;	/* e.g. "choices[0].message.images[0]" */
};

/* Whether `v` is a URL string that can be the image: a data URL, or http(s)
 * when `fetch` allows a link. */
static int
take_url(struct found *f, jv v, int fetch)
{
	const char *url = jqx_str(v, NULL), *b64;

	if (url == NULL)
		return 0;
	if ((b64 = data_url_base64(url)) != NULL) {
		f->b64 = b64;
		f->b64_len = strlen(b64);
		return 1;
	}
	if (fetch && (strncasecmp(url, "https://", 8) == 0 ||
	    strncasecmp(url, "http://", 7) == 0)) {
		f->url = url;
		return 1;
	}
	return 0;
}

/* An item that holds an image in one of the shapes APIs use: b64_json,
 * image_url (an object with url, or the URL itself), url, or a URL. */
static int
take_item(struct found *f, jv item)
{
	jv image_url = jqx_get(item, "image_url");

	if ((f->b64 = jqx_str(jqx_get(item, "b64_json"), &f->b64_len)))
		return 1;
	return take_url(f, jqx_get(image_url, "url"), 1) ||
	    take_url(f, image_url, 1) || take_url(f, jqx_get(item, "url"), 1) ||
	    take_url(f, item, 1);
}

/* The first item of `list` that holds an image; its path in f->where. */
static int
take_first(struct found *f, jv list, const char *path)
{
	size_t i;

	for (i = 0; i < jqx_len(list); i++) {
		jv item = jqx_at(list, i);

		if (jv_get_kind(item) == JV_KIND_OBJECT &&
		    jqx_present(jqx_get(item, "type")) &&
		    strcmp(jqx_str(jqx_get(item, "type"), NULL) ?
		    jqx_str(jqx_get(item, "type"), NULL) : "",
		    "image_url") != 0)
			continue;	/* a text part of message.content */
		if (take_item(f, item)) {
			buf_printf(&f->where, "%s[%zu]", path, i);
			return 1;
		}
	}
	return 0;
}

/* A member name of the answer, for a message: the provider's words, made
 * one line and cut like its text, so that no name breaks the message's
 * one line. */
static void
put_member_name(struct buf *b, const char *key)
{
	text_compact(b, key, strlen(key), 40);
}

struct walk {
	struct found *f;
	struct buf path;
};

static void walk_value(struct walk *w, jv v);

static void
walk_member(const char *key, jv value, void *arg)
{
	struct walk *w = arg;
	size_t len = w->path.len;

	if (w->f->b64 || w->f->url)
		return;
	buf_putc(&w->path, '.');
	put_member_name(&w->path, key);
	if (strcmp(key, "b64_json") == 0 &&
	    (w->f->b64 = jqx_str(value, &w->f->b64_len)) != NULL)
		buf_add(&w->f->where, w->path.data, w->path.len);
	else
		walk_value(w, value);
	buf_truncate(&w->path, len);
}

/* Anywhere: the first b64_json member or base64 data URL, depth first. */
static void
walk_value(struct walk *w, jv v)
{
	size_t i, len = w->path.len;

	if (take_url(w->f, v, 0)) {
		buf_add(&w->f->where, w->path.data, w->path.len);
	} else if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jqx_each(v, walk_member, w);
	} else if (jv_get_kind(v) == JV_KIND_ARRAY) {
		for (i = 0; i < jqx_len(v) && !w->f->b64 && !w->f->url; i++) {
			buf_printf(&w->path, "[%zu]", i);
			walk_value(w, jqx_at(v, i));
			buf_truncate(&w->path, len);
		}
	}
}

/* Where the image is: each API's own place first, then anywhere. */
static int
locate(struct found *f, jv body)
{
	jv message = jqx_get(jqx_at(jqx_get(body, "choices"), 0), "message");
	struct walk w = { f, BUF_INIT };

	if (take_first(f, jqx_get(message, "images"),
	    "choices[0].message.images") ||
	    take_first(f, jqx_get(message, "content"),
	    "choices[0].message.content") ||
	    take_first(f, jqx_get(body, "data"), "data") ||
	    take_first(f, jqx_get(body, "images"), "images"))
		return 1;
	walk_value(&w, body);
	buf_free(&w.path);
	return f->b64 || f->url;
}

static void
list_key(const char *key, jv value, void *arg)
{
	struct buf *b = arg;

	(void)value;
	if (b->len)
		buf_puts(b, ", ");
	put_member_name(b, key);
}

/* No image: say what the answer holds instead, for the error message. */
static void
no_image(struct provider_reply *r, jv body, jv choice)
{
	const char *finish = jqx_str(jqx_get(choice, "finish_reason"), NULL);
	const char *text;
	struct buf keys = BUF_INIT;
	size_t len;

	if (finish && strcmp(finish, "content_filter") == 0) {
		fail(r, NEXT_SOFTEN, "refused",
		    "the provider's content filter stopped the image");
		return;
	}
	/* finish_reason is the provider's word too; the member list is cut
	 * as a whole. */
	jqx_each(body, list_key, &keys);
	buf_puts(&r->message, "the answer carries no image (members: ");
	if (keys.len)
		text_compact(&r->message, keys.data, keys.len, 120);
	else
		buf_puts(&r->message, "none");
	if (finish) {
		buf_puts(&r->message, "; finish_reason ");
		text_compact(&r->message, finish, strlen(finish), 40);
	}
	text = jqx_str(jqx_get(jqx_get(choice, "message"), "content"), &len);
	if (text && len) {
		buf_puts(&r->message, "; text: ");
		text_compact(&r->message, text, len, 120);
	}
	buf_putc(&r->message, ')');
	fail(r, NEXT_RELAX, "no_image", NULL);
	buf_free(&keys);
}

/* Find the image in a 200 answer: bytes, a URL to fetch, or nothing. */
static void
find_image(struct provider_reply *r, jv body)
{
	jv choice = jqx_at(jqx_get(body, "choices"), 0);
	const char *text;
	struct found f = { NULL, NULL, 0, BUF_INIT };
	size_t len;

	if ((text = jqx_str(jqx_get(jqx_get(choice, "message"), "content"),
	    &len)) != NULL)
		json_put_string(&r->text, text, len);
	if (!locate(&f, body)) {
		no_image(r, body, choice);
	} else if (f.url) {
		buf_puts(&r->url, f.url);
	} else if (unbase64_loose(&r->image, f.b64, f.b64_len) < 0) {
		/* A broken answer: asking again the same way will not mend
		 * it, relaxing it neither. */
		buf_printf(&r->message, "the image at %s is not base64 (%zu "
		    "characters, starting \"", f.where.data, f.b64_len);
		text_compact(&r->message, f.b64, f.b64_len, 24);
		buf_puts(&r->message, "\")");
		fail(r, NEXT_MODEL, "bad_response", NULL);
	}
	buf_free(&f.where);
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
	/* Any number: budget_spend() refuses what is not a price. */
	if (jv_get_kind(c) == JV_KIND_NUMBER &&
	    (cost = jv_number_value(c)) != PROVIDER_COST_UNKNOWN)
		r->cost = cost;
}

static void
check_image(struct provider_reply *r)
{
	struct imgsniff sniff;
	const char *why;

	if (r->code || r->url.len)
		return;
	/* Bytes that start as an image but do not end as one were cut
	 * short on the way, like a reset transfer: worth asking again. */
	if (imgcheck((const unsigned char *)r->image.data, r->image.len,
	    &sniff, &why) < 0) {
		buf_printf(&r->message, "the provider's bytes are %s", why);
		fail(r, sniff.type == IMGSNIFF_NONE ? NEXT_MODEL : NEXT_RETRY,
		    "not_an_image", NULL);
	}
}

/*
 * libjq 1.6 refuses a string holding a lone UTF-16 surrogate escape
 * ("\ud800" not followed by a low one), which json.c lets through as
 * valid.  Copy `text` with each such escape replaced by \ufffd; the number
 * replaced.
 */
static size_t
mend_surrogates(const char *text, size_t len, struct buf *out)
{
	size_t i, n = 0;
	unsigned long cp, low;

	for (i = 0; i < len; i++) {
		if (text[i] != '\\' || i + 1 >= len) {
			buf_putc(out, text[i]);
			continue;
		}
		if (text[i + 1] != 'u' || i + 6 > len) {
			buf_add(out, text + i, 2);
			i++;
			continue;
		}
		cp = strtoul((char[]){ text[i + 2], text[i + 3], text[i + 4],
		    text[i + 5], 0 }, NULL, 16);
		low = i + 12 <= len && text[i + 6] == '\\' &&
		    text[i + 7] == 'u' ? strtoul((char[]){ text[i + 8],
		    text[i + 9], text[i + 10], text[i + 11], 0 }, NULL, 16) : 0;
		if (cp >= 0xd800 && cp <= 0xdbff && low >= 0xdc00 &&
		    low <= 0xdfff) {
			buf_add(out, text + i, 12);
			i += 11;
		} else if (cp >= 0xd800 && cp <= 0xdfff) {
			buf_puts(out, "\\ufffd");
			n++;
			i += 5;
		} else {
			buf_add(out, text + i, 6);
			i += 5;
		}
	}
	return n;
}

/* The answer as a jq value: strictly valid JSON only (libjq 1.6 leaks on
 * some junk, and the network sends any bytes), lone surrogates mended with
 * a note.  Invalid when it is not JSON, with the reason in r->message. */
static jv
parse_answer(struct provider_reply *r, const struct http_xfer *x)
{
	const char *text = x->body.data ? x->body.data : "", *why;
	struct buf mended = BUF_INIT;
	size_t where, n;
	jv body;

	if (json_validate(text, x->body.len, &why, &where) < 0) {
		buf_printf(&r->message, "the answer is not JSON (%s at byte "
		    "%zu): ", why, where);
		text_compact(&r->message, text, x->body.len, 60);
		return jv_invalid();
	}
	body = jqx_parse(text, x->body.len);
	if (!jv_is_valid(body) && (n = mend_surrogates(text, x->body.len,
	    &mended)) > 0) {
		jqx_free(body);
		body = jqx_parse(mended.data, mended.len);
		buf_printf(&r->note, "the answer held %zu lone UTF-16 "
		    "surrogate escape%s, read as U+FFFD", n, n == 1 ? "" : "s");
	}
	if (!jv_is_valid(body))
		buf_puts(&r->message, "the answer is JSON that libjq cannot "
		    "read");
	buf_free(&mended);
	return body;
}

void
provider_read(enum http_outcome outcome, const struct http_xfer *x,
    int download, struct provider_reply *r)
{
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
	body = parse_answer(r, x);
	error = jqx_get(body, "error");
	if (x->status == 200 && jqx_present(error)) {
		long long code;

		r->status = jqx_int(jqx_get(error, "code"), 100, 999, &code) ?
		    code : 502;
		classify_status(r, error);
	} else if (x->status != 200) {
		classify_status(r, error);
	} else if (!jv_is_valid(body) || jv_get_kind(body) != JV_KIND_OBJECT) {
		if (r->message.len == 0)
			buf_puts(&r->message, "the answer is JSON but not an "
			    "object");
		fail(r, NEXT_RELAX, "bad_response", NULL);
	} else {
		find_image(r, body);
		check_image(r);
	}
	/* Whatever became of the image, an answer that reports a cost was
	 * paid for. */
	if (jv_get_kind(body) == JV_KIND_OBJECT)
		read_usage(r, x->body.data, x->body.len, body);
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
	buf_free(&r->note);
	memset(r, 0, sizeof(*r));
}

int
provider_ref_load(struct provider_ref *ref, struct refroot_set *roots,
    const char *path, const char *sha256, struct buf *why)
{
	char hex[DIGEST_HEX_LEN + 1];
	struct imgsniff sniff;

	memset(ref, 0, sizeof(*ref));
	ref->turn = -1;
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
	memcpy(ref->sha256, hex, sizeof(ref->sha256));
	return 0;
}

void
provider_ref_free(struct provider_ref *ref)
{
	free(ref->path);
	buf_free(&ref->bytes);
}
