/*
 * Fuzz signed-URL checking (sign_verify) and its agreement with signing.
 * The first byte picks the scheme; the rest is a URL.  Checking any URL
 * gives one of the four results; and when the URL can be signed, its
 * signed form checks "ok" before the expiry, "expired" after it, and
 * "bad_signature" under another key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
