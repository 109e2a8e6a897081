/* Fuzz the reader of S3's listing answers, which come from the server:
 * any bytes give a page or -1, every key decoded with no control
 * character, every size a whole number or -1, and -1 leaves no page. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_page page;
	size_t i, j;

	if (s3_list_parse((const char *)data, size, &page) < 0) {
		if (page.n || page.keys || page.next_token)
			abort();
		return 0;
	}
	for (i = 0; i < page.n; i++) {
		for (j = 0; page.keys[i][j]; j++)
			if ((unsigned char)page.keys[i][j] < 0x20 ||
			    page.keys[i][j] == 0x7F)
				abort();
		if (page.sizes[i] < -1)
			abort();
	}
	s3_page_free(&page);
	return 0;
}
