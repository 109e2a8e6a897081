#include "storelayout.h"

#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "digest.h"
#include "s3loc.h"

void
storelayout_object_name(struct buf *rel, const char *sha, const char *ext)
{
	buf_printf(rel, "%.2s/%s.%s", sha, sha, ext);
}

const char *
storelayout_name_problem(const char *rel)
{
	const char *seg, *end, *p;

	if (*rel == '\0')
		return "it is empty";
	if (*rel == '/')
		return "it is an absolute path";
	if (strlen(rel) > STORELAYOUT_NAME_MAX)
		return "it is longer than 1024 bytes";
	for (p = rel; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "it has a control character";
	for (seg = rel; ; seg = end + 1) {
		end = strchrnul(seg, '/');
		if (end == seg)
			return "it has an empty path segment";
		/* Covers "." and "..", and keeps objects apart from the
		 * temporary files that --check --repair removes. */
		if (*seg == '.')
			return "a path segment starts with a dot";
		if (seg == rel && end - seg == 8 && !memcmp(seg, "sessions", 8))
			return "sessions/ holds the journals";
		if (seg == rel && end - seg == 8 && !memcmp(seg, "requests", 8))
			return "requests/ holds imgp-gen's request cache";
		if (*end == '\0')
			return NULL;
	}
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

	/* A bucket is found by the first request, which says why not. */
	if (s3loc_is_uri(dir))
		return 0;
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
