#include "storelayout.h"

#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "digest.h"

void
storelayout_object_name(struct buf *rel, const char *sha, const char *ext)
{
	buf_printf(rel, "%.2s/%s.%s", sha, sha, ext);
}

int
storelayout_content_name(const char *rel, char *sha)
{
	const char *ext = rel + 3 + DIGEST_HEX_LEN + 1;

	if (strlen(rel) < 3 + DIGEST_HEX_LEN + 2 || rel[2] != '/' ||
	    strspn(rel + 3, "0123456789abcdef") != DIGEST_HEX_LEN ||
	    ext[-1] != '.' || memcmp(rel, rel + 3, 2) != 0 ||
	    ext[strspn(ext, "abcdefghijklmnopqrstuvwxyz")] != '\0')
		return 0;
	memcpy(sha, rel + 3, DIGEST_HEX_LEN);
	sha[DIGEST_HEX_LEN] = '\0';
	return 1;
}

int
storelayout_dir_usable(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		diag_warn("%s", dir);
		return 2;
	}
	if (!S_ISDIR(st.st_mode)) {
		diag_warnx("%s: not a directory", dir);
		return 2;
	}
	return 0;
}
