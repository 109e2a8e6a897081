#include "provenance.h"

#include <stdio.h>
#include <stdlib.h>

#include "imgsniff.h"

static void
add(struct provenance *p, const char *key, const char *value)
{
	if (value == NULL)
		return;
	p->keys[p->text.count] = key;
	p->values[p->text.count++] = value;
}

const struct png_text *
provenance_text(struct provenance *p)
{
	p->text = (struct png_text){ p->keys, p->values, 0 };
	snprintf(p->turn_text, sizeof(p->turn_text), "%lld", p->turn);
	snprintf(p->seed_text, sizeof(p->seed_text), "%lld", p->seed);
	add(p, "imgp:session", p->session);
	add(p, "imgp:turn", p->turn >= 0 ? p->turn_text : NULL);
	add(p, "imgp:prompt", p->prompt);
	add(p, "imgp:seed", p->seed >= 0 ? p->seed_text : NULL);
	add(p, "imgp:model", p->model);
	add(p, "imgp:request_key", p->request_key);
	return &p->text;
}

void
provenance_strip(const struct buf *image, struct buf *out)
{
	struct provenance all = { .session = "", .turn = 0, .prompt = "",
	    .seed = 0, .model = "", .request_key = "" };
	struct imgsniff sniff;
	unsigned char *png;
	size_t len;

	buf_reset(out);
	if (imgsniff((const unsigned char *)image->data, image->len,
	    &sniff) == 0 && sniff.type == IMGSNIFF_PNG &&
	    png_remove_text((const unsigned char *)image->data,
	    image->len, provenance_text(&all), &png, &len) == 0) {
		buf_add(out, png, len);
		free(png);
	} else {
		buf_add(out, image->data, image->len);
	}
}
