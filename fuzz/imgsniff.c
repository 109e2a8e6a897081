/* Fuzz image type and size sniffing: never read past the bytes, and a
 * success always has a type, a MIME type and a non-zero size. */
#include <stdint.h>

#include "imgsniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imgsniff info;

	if (imgsniff(data, size, &info) == 0 &&
	    (info.type == IMGSNIFF_NONE || !info.mime || !info.width ||
	    !info.height))
		__builtin_trap();
	return 0;
}
