/*
 * storeobj — one object of a store, a directory or s3:// (storeobj.h).
 */
#include "storeobj.h"

#include <errno.h>
#include <string.h>

#include "digest.h"
#include "durable.h"
#include "s3.h"
#include "storelayout.h"

/* An S3 client for `store`, or -1 with the reason in `why`. */
static int
open_s3(struct s3 *s, const char *store, struct buf *why)
{
	struct buf failed = BUF_INIT;
	int status = s3_open(s, store, &failed);

	if (status < 0 && why)
		buf_puts(why, failed.data);
	buf_free(&failed);
	if (status < 0)
		errno = EINVAL;
	return status;
}

int
storeobj_read(const char *store, const char *rel, size_t max,
    struct buf *bytes, struct buf *why)
{
	struct buf path = BUF_INIT, failed = BUF_INIT;
	enum s3_status status;
	struct s3 s;

	buf_reset(bytes);
	if (!s3loc_is_uri(store)) {
		buf_printf(&path, "%s/%s", store, rel);
		if (buf_read_file(bytes, path.data) == 0 && bytes->len <= max) {
			buf_free(&path);
			return 0;
		}
		if (bytes->len > max)
			errno = EFBIG;
		if (why)
			buf_printf(why, "%s: %s", path.data, strerror(errno));
		buf_free(&path);
		return -1;
	}
	if (open_s3(&s, store, why) < 0)
		return -1;
	status = s3_get(&s, rel, max, bytes, &failed);
	s3_close(&s);
	if (status != S3_OK && why)
		buf_puts(why, status == S3_ABSENT ? "no such object" :
		    failed.data);
	buf_free(&failed);
	if (status == S3_OK)
		return 0;
	errno = status == S3_ABSENT ? ENOENT : EIO;
	return -1;
}

int
storeobj_holds(const char *store, const char *rel, size_t len,
    const char *sha)
{
	char held[DIGEST_HEX_LEN + 1];
	struct buf path = BUF_INIT, why = BUF_INIT;
	long long size = -1;
	int holds = 0;
	struct s3 s;

	if (!s3loc_is_uri(store)) {
		buf_printf(&path, "%s/%s", store, rel);
		holds = digest_file_sha256_hex(path.data, held) == 0 &&
		    strcmp(held, sha) == 0;
	} else if (open_s3(&s, store, NULL) == 0) {
		holds = s3_head(&s, rel, &size, &why) == S3_OK &&
		    size == (long long)len;
		s3_close(&s);
	}
	buf_free(&path);
	buf_free(&why);
	return holds;
}

int
storeobj_put(const char *store, const char *rel, const void *data,
    size_t len, const char *type, struct buf *why)
{
	const char *slash = strrchr(rel, '/');
	struct buf dir = BUF_INIT, failed = BUF_INIT;
	enum s3_status status;
	struct s3 s;
	int rc;

	if (!s3loc_is_uri(store)) {
		buf_add(&dir, rel, slash ? (size_t)(slash - rel) : 0);
		rc = durable_put(store, dir.data ? dir.data : "",
		    slash ? slash + 1 : rel, STORE_TEMP_PREFIX, data, len, 0,
		    why);
		buf_free(&dir);
		return rc;
	}
	if (open_s3(&s, store, why) < 0)
		return -1;
	status = s3_put(&s, rel, data, len, type, 0, &failed);
	s3_close(&s);
	if (status != S3_OK)
		buf_puts(why, failed.data);
	buf_free(&failed);
	errno = EIO;
	return status == S3_OK ? 0 : -1;
}
