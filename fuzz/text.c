/* Fuzz compact(): whatever the bytes (records are validated before, but
 * compact must not rely on it for memory safety), the result has at most
 * the asked number of characters, no leading space and no double space. */
#include <stdint.h>
#include <string.h>

#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	size_t max = size ? data[0] : 0;

	text_compact(&out, (const char *)data, size, max);
	if (text_chars(out.data ? out.data : "", out.len) > max ||
	    (out.len && out.data[0] == ' ') ||
	    (out.len && memmem(out.data, out.len, "  ", 2)))
		__builtin_trap();
	buf_free(&out);
	return 0;
}
