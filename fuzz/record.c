/*
 * Fuzz the record path of every stage: strict validation, member spans,
 * splicing and the bad_json record.  Whatever the line, the output must be
 * one valid JSON object, and a line that libjq accepts as an object must
 * keep every member's text.  What a stage reads of a member (built from
 * json.h's spans) and image.data read as text must be what libjq's own
 * parser reads there.
 */
#include <stdint.h>
#include <string.h>

#include "jqx.h"
#include "json.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec r = REC_INIT;
	struct buf out = BUF_INIT;
	const char *why;
	size_t where;

	r.lineno = 1;
	r.source = "-";
	if (rec_parse(&r, (const char *)data, size) < 0) {
		rec_bad_json(&r, &out);
	} else {
		static const char request[] = "{\"prompt\":\"x\"}";
		struct rec_edit edits[] = {
			{ "request", request, sizeof(request) - 1 },
			{ "image", NULL, 0 },
		};

		struct buf scratch = BUF_INIT, key = BUF_INIT;
		const char *text, *value;
		size_t text_len, value_len;
		jv oracle;

		for (size_t i = 0; i < r.members.n; i++) {
			const struct json_member *m = &r.members.v[i];

			const char *name;

			buf_reset(&key);
			json_key_decode(m, &key);
			name = key.data ? key.data : "";
			if (strlen(name) != key.len ||
			    json_find(&r.members, name) != m)
				continue;	/* NUL in it, or not the last */
			oracle = jv_parse_sized(m->value, (int)m->value_len);
			if (!json_key_is(m, "image") && jv_is_valid(oracle) &&
			    !jv_equal(jv_copy(oracle),
			    jv_copy(rec_get(&r, name))))
				__builtin_trap();
			jv_free(oracle);
		}
		buf_free(&key);
		/* image.data read as text agrees with libjq's reading of it */
		oracle = jv_parse_sized(r.line, (int)r.len);
		value = jqx_str(jqx_get(jqx_get(oracle, "image"), "data"),
		    &value_len);
		if (value && (rec_image_data(&r, &text, &text_len, &scratch) ||
		    text_len != value_len || memcmp(text, value, value_len)))
			__builtin_trap();
		jv_free(oracle);
		buf_free(&scratch);
		rec_splice(&r.members, edits, 2, &out);
		for (size_t i = 0; i < r.members.n; i++)
			if (!json_key_is(&r.members.v[i], "request") &&
			    !json_key_is(&r.members.v[i], "image") &&
			    !memmem(out.data, out.len, r.members.v[i].text,
			    r.members.v[i].text_len))
				__builtin_trap();
	}
	if (json_validate(out.data, out.len, &why, &where) < 0)
		__builtin_trap();
	buf_free(&out);
	rec_free(&r);
	return 0;
}
