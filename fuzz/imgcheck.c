/* Fuzz the whole-image structure checks: never read past the bytes, a
 * failure always says why, and a success agrees with imgsniff. */
#include <stdint.h>

#include "imgcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imgsniff whole, head;
	const char *why = NULL;

	if (imgcheck(data, size, &whole, &why) < 0) {
		if (why == NULL)
			__builtin_trap();
		return 0;
	}
	if (imgsniff(data, size, &head) < 0 || head.type != whole.type ||
	    head.width != whole.width || head.height != whole.height ||
	    whole.mime == NULL)
		__builtin_trap();
	return 0;
}
