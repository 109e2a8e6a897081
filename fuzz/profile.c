/*
 * Fuzz profile loading and prompt assembly: any file is either refused
 * with a message or gives a profile whose directives' `when`s run on a
 * fixed record (in the helper process of whens.h) and whose prompt is valid UTF-8 (json_validate of it as a
 * JSON string).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanitizer/lsan_interface.h>

#include "json.h"
#include "profile.h"
#include "prompt.h"
#include "rec.h"
#include "whens.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/imgp-fuzz-profile.XXXXXX";
	struct profile p;
	struct buf err = BUF_INIT, prompt = BUF_INIT, quoted = BUF_INIT;
	int fd = mkstemp(path);
	const char *why;
	size_t where;
	int rc;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	/*
	 * libjq 1.6 leaks a string when some expressions fail to compile (an
	 * unterminated string: test("abc)), on the way to exit 2.  So a first
	 * load runs with leak checking off; unless jq refused a `when`, the
	 * load that counts runs with it on.
	 */
	profile_init(&p);
	__lsan_disable();
	rc = profile_load(&p, path, &err);
	__lsan_enable();
	if (rc == 0 || !strstr(err.data, "does not compile")) {
		profile_free(&p);
		buf_reset(&err);
		rc = profile_load(&p, path, &err);
	}
	if (rc == 0) {
		static const char line[] = "{\"session\":\"s\",\"turn\":1,"
		    "\"new_state\":{\"absurdity_index\":0.9,"
		    "\"dominant_direction\":\"carnival\"}}";
		struct prompt_input in = { "a  harbor\xc2\xa0" "at dawn", 19,
		    NULL, 0, 1, "one | two", 9, NULL };
		struct rec record = REC_INIT;
		size_t tests = 0;

		for (size_t i = 0; i < p.ndirectives; i++)
			if (p.directives[i].when >= 0)
				tests++;
		if (rec_parse(&record, line, sizeof(line) - 1) < 0)
			__builtin_trap();
		if (tests > 0)
			(void)whens_first(p.whens, tests, &record);
		rec_free(&record);
		prompt_build(&p, &in, &prompt);
		json_put_string(&quoted, prompt.data, prompt.len);
		if (json_validate(quoted.data, quoted.len, &why, &where) < 0)
			__builtin_trap();
	} else if (err.len == 0) {
		__builtin_trap();	/* a refusal always says why */
	}
	unlink(path);
	profile_free(&p);
	buf_free(&err);
	buf_free(&prompt);
	buf_free(&quoted);
	return 0;
}
