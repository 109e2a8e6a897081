#include "models.h"

#include <string.h>

#include "diag.h"
#include "jqx.h"
#include "json.h"
#include "out.h"
#include "text.h"

/* Whether `model` can make images. */
static int
makes_images(enum provider_api api, jv model)
{
	jv out = jqx_get(jqx_get(model, "architecture"), "output_modalities");
	const char *id = jqx_str(jqx_get(model, "id"), NULL);
	size_t i;

	if (id == NULL)
		return 0;
	if (api == PROVIDER_OPENAI)
		return strncmp(id, "gpt-image", 9) == 0 ||
		    strncmp(id, "dall-e", 6) == 0;
	for (i = 0; i < jqx_len(out); i++)
		if (strcmp(jqx_str(jqx_at(out, i), NULL) ?
		    jqx_str(jqx_at(out, i), NULL) : "", "image") == 0)
			return 1;
	return 0;
}

static void
put_line(jv model, const char *key)
{
	const char *members[] = { "name", "input_modalities",
	    "output_modalities" };
	struct buf line = BUF_INIT;
	jv arch = jqx_get(model, "architecture");
	size_t i;

	buf_puts(&line, "{\"id\":");
	json_put_cstring(&line, jqx_str(jqx_get(model, "id"), NULL));
	for (i = 0; i < sizeof(members) / sizeof(*members); i++) {
		jv v = jqx_get(i ? arch : model, members[i]);

		if (!jqx_present(v))
			continue;
		buf_putc(&line, ',');
		json_put_key(&line, members[i]);
		jqx_dump(v, &line);
	}
	buf_putc(&line, '}');
	text_redact(&line, key);	/* a provider may echo it */
	out_line(line.data, line.len);
	buf_free(&line);
}

/* GET the list: the answer's body in x, or -1 after a message. */
static int
fetch(const struct gen_config *c, struct http_xfer *x)
{
	CURLM *multi = http_multi_new();
	struct http_xfer *done = NULL;
	struct buf header = BUF_INIT;
	CURLcode res = CURLE_OK;
	int status = 0;

	if (c->key) {
		buf_printf(&header, "Authorization: Bearer %s", c->key);
		http_header(x, header.data);
		explicit_bzero(header.data, header.len);
	}
	http_multi_add(multi, x);
	while ((done = http_multi_done(multi, &res)) == NULL)
		http_multi_wait(multi, -1, 1000);
	if (http_outcome(x, res) != HTTP_DONE) {
		diag_warnx("%s: %s", provider_api_names[c->api], x->error);
		status = -1;
	} else if (x->status != 200) {
		buf_reset(&header);
		text_compact(&header, x->body.data ? x->body.data : "",
		    x->body.len, 200);
		text_redact(&header, c->key);
		diag_warnx("%s: HTTP status %ld: %s", provider_api_names[c->api],
		    x->status, header.data);
		status = -1;
	}
	http_multi_remove(multi, x);
	http_multi_free(multi);
	buf_free(&header);
	return status;
}

int
models_list(const struct gen_config *c)
{
	struct buf url = BUF_INIT;
	struct http_xfer *x;
	const char *why;
	size_t where, i, len = strlen(c->base_url);
	int status = 1;
	jv body = jv_invalid(), data;

	while (len && c->base_url[len - 1] == '/')
		len--;
	buf_add(&url, c->base_url, len);
	buf_puts(&url, c->api == PROVIDER_OPENAI ? "/models" :
	    "/models?output_modalities=image");
	x = http_new(url.data, &c->limits, NULL);
	if (fetch(c, x) == 0) {
		if (json_validate(x->body.data ? x->body.data : "", x->body.len,
		    &why, &where) == 0)
			body = jqx_parse(x->body.data, x->body.len);
		data = jqx_get(body, "data");
		if (jv_get_kind(data) != JV_KIND_ARRAY)
			diag_warnx("%s: the answer is not a model list",
			    provider_api_names[c->api]);
		else
			status = 0;
		for (i = 0; i < jqx_len(data); i++)
			if (makes_images(c->api, jqx_at(data, i)))
				put_line(jqx_at(data, i), c->key);
	}
	jqx_free(body);
	http_free(x);
	buf_free(&url);
	return out_close() || status;
}
