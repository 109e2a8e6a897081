/*
 * Fuzz profile loading and prompt assembly: any file is either refused
 * with a message or gives a profile whose prompt for a fixed record is
 * valid UTF-8 (json_validate of it as a JSON string).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "json.h"
#include "profile.h"
#include "prompt.h"

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

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	profile_init(&p);
	if (profile_load(&p, path, &err) == 0) {
		struct prompt_input in = { "a  harbor\xc2\xa0" "at dawn", 19,
		    NULL, 0, 1, "one | two", 9, NULL };

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
