/*
 * Fuzz the record path of every stage: strict validation, member spans,
 * splicing and the bad_json record.  Whatever the line, the output must be
 * one valid JSON object, and a line that libjq accepts as an object must
 * keep every member's text.
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

		struct buf scratch = BUF_INIT;
		const char *text, *value;
		size_t text_len, value_len;

		/* image.data read as text agrees with libjq's reading of it,
		 * where the value has it (small records) */
		value = jqx_str(jqx_get(rec_get(&r, "image"), "data"),
		    &value_len);
		if (value && (rec_image_data(&r, &text, &text_len, &scratch) ||
		    text_len != value_len || memcmp(text, value, value_len)))
			__builtin_trap();
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
