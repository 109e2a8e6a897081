#include "reqcache.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "durable.h"
#include "imgcheck.h"
#include "json.h"
#include "storelayout.h"
#include "storeobj.h"

/* The most read back of a request file and of its image. */
#define REQCACHE_FILE_MAX (64u << 20)
#define REQCACHE_IMAGE_MAX (256u << 20)

/* One field of the canonical form, "<name>:<length>:<value>\n"; none for
 * an absent value. */
static void
field(struct buf *form, const char *name, const char *value)
{
	if (value)
		buf_printf(form, "%s:%zu:%s\n", name, strlen(value), value);
}

void
reqcache_key(enum provider_api api, const char *model,
    const struct provider_request *req, char key[DIGEST_HEX_LEN + 1])
{
	struct buf form = BUF_INIT;
	char seed[32], max_tokens[32];
	size_t i;

	buf_puts(&form, REQCACHE_FORM_VERSION "\n");
	field(&form, "api", provider_api_names[api]);
	field(&form, "model", model);
	field(&form, "prompt", req->prompt);
	snprintf(seed, sizeof(seed), "%lld", req->seed);
	field(&form, "seed", req->has_seed ? seed : NULL);
	field(&form, "aspect_ratio", req->aspect_ratio);
	field(&form, "image_size", req->image_size);
	field(&form, "size", req->size);
	field(&form, "quality", req->quality);
	/* Members added after imgp-request/1 come only when present, so
	 * the keys of requests without them stay as they were. */
	field(&form, "output_format", req->output_format);
	field(&form, "reasoning", provider_reasoning(api, req, model));
	snprintf(max_tokens, sizeof(max_tokens), "%lld", req->max_tokens);
	field(&form, "max_tokens", req->max_tokens ? max_tokens : NULL);
	for (i = 0; i < req->nparams; i++) {
		buf_printf(&form, "param:%zu:%s=", strlen(req->params[i].name) +
		    1 + req->params[i].value_len, req->params[i].name);
		buf_add(&form, req->params[i].value, req->params[i].value_len);
		buf_putc(&form, '\n');
	}
	for (i = 0; i < req->nrefs; i++)
		field(&form, "reference", req->refs[i].sha256);
	digest_sha256_hex(form.data, form.len, key);
	buf_free(&form);
}

/* The request file of `key`: its directory in the store, and its name in
 * it. */
static void
request_file(const char *key, struct buf *dir, struct buf *name)
{
	buf_printf(dir, "requests/%.2s", key);
	buf_printf(name, "%s.json", key);
}

/* A member's value as written into `out`, nothing for null or absent. */
static void
member_text(const struct json_members *m, const char *name, struct buf *out)
{
	const struct json_member *v = json_find(m, name);

	if (v && !(v->value_len == 4 && memcmp(v->value, "null", 4) == 0))
		buf_add(out, v->value, v->value_len);
}

int
reqcache_get(const char *store, const char *key, struct reqcache_answer *a)
{
	struct buf dir = BUF_INIT, name = BUF_INIT, file = BUF_INIT;
	struct json_members members = JSON_MEMBERS_INIT;
	char named[DIGEST_HEX_LEN + 1], hex[DIGEST_HEX_LEN + 1];
	const char *path, *sha, *why;
	struct imgsniff sniff;
	size_t where;
	int hit = 0;

	memset(a, 0, sizeof(*a));
	a->file = jv_invalid();
	request_file(key, &dir, &name);
	buf_printf(&dir, "/%s", name.data);
	if (storeobj_read(store, dir.data, REQCACHE_FILE_MAX, &file,
	    NULL) < 0 ||
	    json_scan_object(file.data, file.len, &members, &why, &where) < 0)
		goto done;
	a->file = jqx_parse(file.data, file.len);
	path = jqx_str(jqx_get(a->file, "path"), NULL);
	sha = jqx_str(jqx_get(a->file, "sha256"), NULL);
	a->provider = jqx_str(jqx_get(a->file, "provider"), NULL);
	a->model = jqx_str(jqx_get(a->file, "model"), NULL);
	a->fallback = jqx_str(jqx_get(a->file, "fallback"), NULL);
	/* Only a content address can be trusted to hold what it says. */
	if (path == NULL || sha == NULL || a->provider == NULL ||
	    !storelayout_content_name(path, named) || strcmp(named, sha) != 0)
		goto done;
	if (storeobj_read(store, path, REQCACHE_IMAGE_MAX, &a->own_bytes,
	    NULL) < 0)
		goto done;
	digest_sha256_hex(a->own_bytes.data, a->own_bytes.len, hex);
	/* A half image is a miss: the request is made again. */
	if (strcmp(hex, sha) != 0 || imgcheck((const unsigned char *)
	    a->own_bytes.data, a->own_bytes.len, &sniff, NULL) < 0)
		goto done;
	member_text(&members, "usage", &a->own_usage);
	member_text(&members, "text", &a->own_text);
	a->bytes = &a->own_bytes;
	a->usage = &a->own_usage;
	a->text = &a->own_text;
	hit = 1;
done:
	if (!hit)
		reqcache_answer_free(a);
	json_members_free(&members);
	buf_free(&dir);
	buf_free(&name);
	buf_free(&file);
	return hit;
}

static void
put_string_or_null(struct buf *b, const char *s)
{
	if (s)
		json_put_cstring(b, s);
	else
		buf_puts(b, "null");
}

/* The request file's contents (see reqcache.h). */
static void
request_json(const char *key, const char *sha, const char *path,
    const struct imgsniff *sniff, const struct reqcache_answer *a,
    struct buf *b)
{
	buf_printf(b, "{\"key\":\"%s\",\"sha256\":\"%s\",\"path\":", key, sha);
	json_put_cstring(b, path);
	buf_puts(b, ",\"mime\":");
	json_put_cstring(b, sniff->mime);
	buf_printf(b, ",\"bytes\":%zu,\"model\":", a->bytes->len);
	put_string_or_null(b, a->model);
	buf_puts(b, ",\"provider\":");
	json_put_cstring(b, a->provider);
	buf_puts(b, ",\"fallback\":");
	put_string_or_null(b, a->fallback);
	buf_printf(b, ",\"usage\":%s,\"text\":%s,\"created\":",
	    a->usage->len ? a->usage->data : "null",
	    a->text->len ? a->text->data : "null");
	json_put_now(b);
	buf_puts(b, "}\n");
}

int
reqcache_put(const char *store, const char *key,
    const struct reqcache_answer *a, struct buf *why)
{
	struct buf dir = BUF_INIT, name = BUF_INIT, path = BUF_INIT;
	struct buf json = BUF_INIT;
	char sha[DIGEST_HEX_LEN + 1];
	struct imgsniff sniff;
	const char *broken;
	int status = -1;

	if (imgcheck((const unsigned char *)a->bytes->data, a->bytes->len,
	    &sniff, &broken) < 0) {
		errno = EINVAL;
		buf_printf(why, "the image is %s", broken);
		return -1;
	}
	digest_sha256_hex(a->bytes->data, a->bytes->len, sha);
	storelayout_object_name(&path, sha, sniff.ext);
	/* The object may be there already (imgp-store, an earlier run);
	 * a damaged copy is replaced by the same name with whole bytes. */
	if (!storeobj_holds(store, path.data, a->bytes->len, sha) &&
	    storeobj_put(store, path.data, a->bytes->data, a->bytes->len,
	    sniff.mime, why) < 0)
		goto done;
	request_json(key, sha, path.data, &sniff, a, &json);
	request_file(key, &dir, &name);
	buf_printf(&dir, "/%s", name.data);
	status = storeobj_put(store, dir.data, json.data, json.len,
	    "application/json", why);
done:
	buf_free(&dir);
	buf_free(&name);
	buf_free(&path);
	buf_free(&json);
	return status;
}

void
reqcache_answer_free(struct reqcache_answer *a)
{
	jqx_free(a->file);
	buf_free(&a->own_bytes);
	buf_free(&a->own_usage);
	buf_free(&a->own_text);
	memset(a, 0, sizeof(*a));
	a->file = jv_invalid();
}
