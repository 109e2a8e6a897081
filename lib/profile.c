#include "profile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "jqx.h"
#include "json.h"
#include "whens.h"
#include "xalloc.h"

static const struct profile_limits default_limits = {
	.prompt_chars = 460, .item_chars = 80,
	.anchors_items = 3, .anchors_chars = 180,
	.style_items = 2, .style_chars = 140,
	.hint_chars = 120, .history_chars = 260,
	.history_turns = 6, .history_prompt_chars = 64,
	.rules_items = 2, .rules_chars = 140,
	.avoid_items = 2, .avoid_chars = 140,
	.when_ms = 200, .when_mb = 64,
};

/* The `limits` members and where each goes. */
static const struct {
	const char *name;
	size_t offset;
	long long min;	/* a `when` with no time or memory could not run */
} limit_names[] = {
#define LIMIT(name) { #name, offsetof(struct profile_limits, name), 0 }
	LIMIT(prompt_chars), LIMIT(item_chars),
	LIMIT(anchors_items), LIMIT(anchors_chars),
	LIMIT(style_items), LIMIT(style_chars),
	LIMIT(hint_chars), LIMIT(history_chars),
	LIMIT(history_turns), LIMIT(history_prompt_chars),
	LIMIT(rules_items), LIMIT(rules_chars),
	LIMIT(avoid_items), LIMIT(avoid_chars),
	{ "when_ms", offsetof(struct profile_limits, when_ms), 1 },
	{ "when_mb", offsetof(struct profile_limits, when_mb), 1 },
#undef LIMIT
};

static const char *const known_members[] = {
	"anchors", "style", "rules", "avoid", "previous_hint", "no_previous",
	"directives", "references", "image", "seed", "reference_previous",
	"limits", "name", "description", "$schema", NULL
};

void
profile_init(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	p->limits = default_limits;
}

/* A list of strings, or one string as a list of one. */
static int
load_list(struct profile_list *list, jv v, const char *name, struct buf *err)
{
	size_t i, n;

	if (!jqx_present(v))
		return 0;
	if (jqx_str(v, NULL)) {
		list->items = xcalloc(1, sizeof(char *));
		list->items[list->n++] = xstrdup(jqx_str(v, NULL));
		return 0;
	}
	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		buf_printf(err, "%s: not a list of strings", name);
		return -1;
	}
	n = jqx_len(v);
	list->items = xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++) {
		const char *s = jqx_str(jqx_at(v, i), NULL);

		if (s == NULL) {
			buf_printf(err, "%s[%zu]: not a string", name, i);
			return -1;
		}
		list->items[list->n++] = xstrdup(s);
	}
	return 0;
}

static int
load_text(char **text, jv v, const char *name, struct buf *err)
{
	if (!jqx_present(v))
		return 0;
	if (jqx_str(v, NULL) == NULL) {
		buf_printf(err, "%s: not a string", name);
		return -1;
	}
	*text = xstrdup(jqx_str(v, NULL));
	return 0;
}

static int
load_directives(struct profile *p, jv v, struct buf *err)
{
	size_t i, bad, nwhens = 0, n = jqx_len(v);
	/* the `when`s (borrowed from v), and the directive of each */
	const char **whens;
	size_t *owner;
	struct buf jqerr = BUF_INIT;
	int rc = 0;

	if (jqx_present(v) && jv_get_kind(v) != JV_KIND_ARRAY) {
		buf_puts(err, "directives: not a list");
		return -1;
	}
	p->directives = xcalloc(n, sizeof(*p->directives));
	whens = xcalloc(n, sizeof(*whens));
	owner = xcalloc(n, sizeof(*owner));
	for (i = 0; i < n; i++) {
		struct profile_directive *d = &p->directives[p->ndirectives];
		jv item = jqx_at(v, i), when = jqx_get(item, "when");
		const char *text = jqx_str(jqx_get(item, "text"), NULL);

		if (text == NULL) {
			buf_printf(err, "directives[%zu].text: missing or not a "
			    "string", i);
			rc = -1;
			goto done;
		}
		if (jqx_present(when) && jqx_str(when, NULL) == NULL) {
			buf_printf(err, "directives[%zu].when: not a string", i);
			rc = -1;
			goto done;
		}
		d->when = -1;
		if (jqx_present(when)) {
			d->when = (long)nwhens;
			owner[nwhens] = i;
			whens[nwhens++] = jqx_str(when, NULL);
		}
		d->text = xstrdup(text);
		p->ndirectives++;
	}
	/* All the `when`s in one program: one libjq start-up cost. */
	if (nwhens && (p->whens = whens_compile(whens, owner, nwhens, &bad,
	    &jqerr)) == NULL) {
		buf_printf(err, "directives[%zu].when does not compile: %s",
		    owner[bad], jqerr.len ? jqerr.data : "syntax error");
		rc = -1;
	}
done:
	buf_free(&jqerr);
	free(whens);
	free(owner);
	return rc;
}

/* The directory part of `path`, with its slash ("" for none). */
static size_t
dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? (size_t)(slash - path + 1) : 0;
}

static int
load_references(struct profile *p, jv v, const char *profile_path,
    struct buf *err)
{
	size_t i, n = jqx_len(v);

	if (jqx_present(v) && jv_get_kind(v) != JV_KIND_ARRAY) {
		buf_puts(err, "references: not a list of paths");
		return -1;
	}
	p->references = xcalloc(n, sizeof(*p->references));
	for (i = 0; i < n; i++) {
		struct profile_reference *r = &p->references[p->nreferences];
		const char *rel = jqx_str(jqx_at(v, i), NULL);
		struct buf path = BUF_INIT;

		if (rel == NULL || *rel == '\0') {
			buf_printf(err, "references[%zu]: not a path", i);
			return -1;
		}
		if (*rel != '/')	/* relative to the profile file */
			buf_add(&path, profile_path, dir_len(profile_path));
		buf_puts(&path, rel);
		r->path = buf_detach(&path, NULL);
		p->nreferences++;
		if (digest_file_sha256_hex(r->path, r->sha256) < 0) {
			buf_printf(err, "references[%zu]: %s: %s", i, r->path,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void
add_option(const char *key, jv value, void *arg)
{
	struct profile *p = arg;
	struct buf json = BUF_INIT;

	jqx_dump(value, &json);
	p->image[p->nimage].key = xstrdup(key);
	p->image[p->nimage].json = buf_detach(&json, NULL);
	p->nimage++;
}

static int
load_image(struct profile *p, jv v, struct buf *err)
{
	if (!jqx_present(v))
		return 0;
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		buf_puts(err, "image: not an object");
		return -1;
	}
	p->image = xcalloc(jqx_len(v), sizeof(*p->image));
	jqx_each(v, add_option, p);
	return 0;
}

struct limits_ctx {
	struct profile_limits *limits;
	struct buf *err;
};

static void
set_limit(const char *key, jv value, void *arg)
{
	struct limits_ctx *ctx = arg;
	long long n;
	size_t i;

	for (i = 0; i < sizeof(limit_names) / sizeof(*limit_names); i++)
		if (strcmp(key, limit_names[i].name) == 0)
			break;
	if (ctx->err->len)
		return;
	if (i == sizeof(limit_names) / sizeof(*limit_names))
		buf_printf(ctx->err, "limits.%s: no such limit", key);
	else if (!jqx_int(value, (double)limit_names[i].min, 100000, &n))
		buf_printf(ctx->err, "limits.%s: not a whole number from %lld "
		    "to 100000", key, limit_names[i].min);
	else
		*(size_t *)((char *)ctx->limits + limit_names[i].offset) =
		    (size_t)n;
}

static int
load_limits(struct profile *p, jv v, struct buf *err)
{
	struct limits_ctx ctx = { &p->limits, err };

	if (!jqx_present(v))
		return 0;
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		buf_puts(err, "limits: not an object");
		return -1;
	}
	jqx_each(v, set_limit, &ctx);
	return err->len ? -1 : 0;
}

static void
warn_unknown(const char *key, jv value, void *arg)
{
	const char *path = arg;
	size_t i;

	(void)value;
	for (i = 0; known_members[i]; i++)
		if (strcmp(key, known_members[i]) == 0)
			return;
	diag_warnx("%s: unknown member '%s' ignored", path, key);
}

static int
load_world_pack(struct profile *p, jv prompt, struct buf *err)
{
	if (jv_get_kind(prompt) != JV_KIND_OBJECT) {
		buf_puts(err, "prompt: not an object");
		return -1;
	}
	return load_list(&p->anchors, jqx_get(prompt, "persistentAnchors"),
	        "prompt.persistentAnchors", err) ||
	    load_list(&p->style, jqx_get(prompt, "style"), "prompt.style",
	        err) ||
	    load_list(&p->rules, jqx_get(prompt, "continuityRules"),
	        "prompt.continuityRules", err) ||
	    load_list(&p->avoid, jqx_get(prompt, "negativeConstraints"),
	        "prompt.negativeConstraints", err) ? -1 : 0;
}

static int
load_profile(struct profile *p, jv root, const char *path, struct buf *err)
{
	jv seed = jqx_get(root, "seed"), refprev;
	long long n;

	if (jqx_present(jqx_get(root, "prompt")))
		return load_world_pack(p, jqx_get(root, "prompt"), err);
	jqx_each(root, warn_unknown, (void *)path);
	if (load_list(&p->anchors, jqx_get(root, "anchors"), "anchors", err) ||
	    load_list(&p->style, jqx_get(root, "style"), "style", err) ||
	    load_list(&p->rules, jqx_get(root, "rules"), "rules", err) ||
	    load_list(&p->avoid, jqx_get(root, "avoid"), "avoid", err) ||
	    load_text(&p->previous_hint, jqx_get(root, "previous_hint"),
	        "previous_hint", err) ||
	    load_text(&p->no_previous, jqx_get(root, "no_previous"),
	        "no_previous", err) ||
	    load_directives(p, jqx_get(root, "directives"), err) ||
	    load_references(p, jqx_get(root, "references"), path, err) ||
	    load_image(p, jqx_get(root, "image"), err) ||
	    load_limits(p, jqx_get(root, "limits"), err))
		return -1;
	if (jqx_present(seed)) {
		if (!jqx_int(seed, 0, JQX_MAX_EXACT, &n)) {
			buf_puts(err, "seed: not a whole number from 0 to 2^53-1");
			return -1;
		}
		p->has_seed = 1;
		p->seed = (unsigned long long)n;
	}
	refprev = jqx_get(root, "reference_previous");
	if (jqx_present(refprev)) {
		if (jv_get_kind(refprev) != JV_KIND_TRUE &&
		    jv_get_kind(refprev) != JV_KIND_FALSE) {
			buf_puts(err, "reference_previous: not true or false");
			return -1;
		}
		p->reference_previous = jv_get_kind(refprev) == JV_KIND_TRUE;
	}
	if (p->whens)
		whens_limit(p->whens, p->limits.when_ms, p->limits.when_mb);
	return 0;
}

int
profile_load(struct profile *p, const char *path, struct buf *err)
{
	struct buf text = BUF_INIT;
	char chunk[65536];
	const char *why;
	size_t n, where;
	FILE *f;
	jv root;
	int rc;

	if ((f = fopen(path, "re")) == NULL) {
		buf_printf(err, "%s", strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&text, chunk, n);
	if (ferror(f)) {
		buf_printf(err, "%s", strerror(errno));
		fclose(f);
		buf_free(&text);
		return -1;
	}
	fclose(f);
	if (json_validate(text.data ? text.data : "", text.len, &why,
	    &where) < 0) {
		buf_printf(err, "not JSON: %s at byte %zu", why, where);
		buf_free(&text);
		return -1;
	}
	root = jqx_parse(text.data, text.len);
	buf_free(&text);
	if (jv_get_kind(root) != JV_KIND_OBJECT) {
		buf_puts(err, "not a JSON object");
		jqx_free(root);
		return -1;
	}
	rc = load_profile(p, root, path, err);
	jqx_free(root);
	return rc;
}

static void
list_free(struct profile_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		free(list->items[i]);
	free(list->items);
}

void
profile_free(struct profile *p)
{
	size_t i;

	list_free(&p->anchors);
	list_free(&p->style);
	list_free(&p->rules);
	list_free(&p->avoid);
	free(p->previous_hint);
	free(p->no_previous);
	for (i = 0; i < p->ndirectives; i++)
		free(p->directives[i].text);
	free(p->directives);
	whens_free(p->whens);
	for (i = 0; i < p->nreferences; i++)
		free(p->references[i].path);
	free(p->references);
	for (i = 0; i < p->nimage; i++) {
		free(p->image[i].key);
		free(p->image[i].json);
	}
	free(p->image);
	profile_init(p);
}
