/*
 * Fuzz signed-URL checking (sign_verify, s3sign_verify) and its agreement
 * with signing.  The first byte picks the scheme (hmac, nginx, s3); the
 * rest is a URL (for s3 also an object's key).  Checking any URL gives one
 * of the four results; and when the URL can be signed, its signed form
 * checks "ok" before the expiry, "expired" after it, and "bad_signature"
 * under another key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3sign.h"
#include "sign.h"
#include "storelayout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char bucket[] = "bucket", prefix[] = "p/", endpoint[] =
    "http://127.0.0.1:9000", region[] = "us-east-1", access_key[] = "AK",
    secret[] = "fuzz-secret", other_secret[] = "other-secret";

/* The URL as an S3 URL: any text checks to one of the results; a store
 * key imgp-store could write signs to a URL that checks ok until it
 * expires, and bad_signature under another secret. */
static void
fuzz_s3(const char *text, long long now)
{
	struct s3loc loc = { bucket, prefix, endpoint, 1, region, access_key,
	    secret, NULL };
	enum sign_result result = s3sign_verify(&loc, text, now);
	struct buf url = BUF_INIT;

	if (result > SIGN_MALFORMED)
		__builtin_trap();
	if (strlen(text) > 1024 || storelayout_name_problem(text))
		return;
	s3sign_url(&loc, text, now, 60, &url);
	if (s3sign_verify(&loc, url.data, now) != SIGN_OK ||
	    s3sign_verify(&loc, url.data, now + 60) != SIGN_EXPIRED)
		__builtin_trap();
	loc.secret_key = other_secret;
	if (s3sign_verify(&loc, url.data, now) != SIGN_BAD_SIGNATURE)
		__builtin_trap();
	buf_free(&url);
}

static struct sign_key *
key_from(const char *text)
{
	char path[] = "/tmp/imgp-fuzz-verify.XXXXXX";
	struct sign_key *key;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	key = sign_key_load("--key-file", path, SIGN_NGINX);
	unlink(path);
	return key;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sign_key *key, *other;
	const long long expires = 2000000000;
	enum sign_scheme scheme;
	enum sign_result result;
	struct buf url = BUF_INIT;

	if (key == NULL) {
		key = key_from("fuzz-key\n");
		other = key_from("other-key\n");
	}
	if (size == 0)
		return 0;
	scheme = data[0] & 1 ? SIGN_NGINX : SIGN_HMAC;
	buf_add(&url, data + 1, size - 1);
	/* A URL is a C string here, as imgp-url reads it from a line. */
	if (strlen(url.data) != url.len)
		goto done;
	if (data[0] & 2) {
		fuzz_s3(url.data, expires);
		goto done;
	}
	result = sign_verify(key, url.data, expires);
	if (result > SIGN_MALFORMED || sign_result_name(result) == NULL)
		__builtin_trap();
	if (sign_url(key, scheme, &url, expires) == 0 &&
	    (sign_verify(key, url.data, expires) != SIGN_OK ||
	    sign_verify(key, url.data, expires + 1) != SIGN_EXPIRED ||
	    sign_verify(other, url.data, expires) != SIGN_BAD_SIGNATURE))
		__builtin_trap();
done:
	buf_free(&url);
	return 0;
}
