#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "diag.h"

/*
 * Before the first digest: OpenSSL 3 reads the system's openssl.cnf on
 * first use unless told not to, which costs a one-shot stage ~0.6 ms of
 * its start-up; hashes and MACs need nothing from it.  (A tool that uses
 * TLS, through libcurl, still has its configuration loaded then.)
 */
static void
init(void)
{
	static int done;

	if (!done && !OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL))
		diag_errx(1, "OpenSSL failed to initialise");
	done = 1;
}

static void
hash(const EVP_MD *md, const void *data, size_t len, unsigned char *out)
{
	init();
	if (!EVP_Digest(data, len, out, NULL, md, NULL))
		diag_errx(1, "OpenSSL digest failed");
}

static EVP_MD *sha256;

static void
free_sha256(void)
{
	EVP_MD_free(sha256);
	sha256 = NULL;
}

/* SHA-256 fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm
 * up in its providers on every digest, which costs more than hashing a
 * record.  Freed at exit, before OpenSSL's own clean-up (registered
 * earlier, by init, so run later). */
static const EVP_MD *
sha256_md(void)
{
	init();
	if (sha256 == NULL) {
		if ((sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
			diag_errx(1, "OpenSSL has no SHA-256");
		atexit(free_sha256);
	}
	return sha256;
}

void
digest_sha256(const void *data, size_t len, unsigned char out[32])
{
	hash(sha256_md(), data, len, out);
}

static void
to_hex(const unsigned char *bin, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 15];
	}
	hex[2 * n] = '\0';
}

void
digest_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char bin[DIGEST_SHA256_LEN];

	digest_sha256(data, len, bin);
	to_hex(bin, sizeof(bin), hex);
}

void
digest_hex(struct buf *out, const void *bin, size_t len)
{
	buf_grow(out, 2 * len);
	to_hex(bin, len, out->data + out->len);
	out->len += 2 * len;
}

int
digest_file_sha256_hex(const char *path, char hex[65])
{
	unsigned char bin[DIGEST_SHA256_LEN], chunk[65536];
	EVP_MD_CTX *ctx;
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	init();
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(ctx, sha256_md(), NULL))
		diag_errx(1, "OpenSSL digest failed");
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 ||
	    (n < 0 && errno == EINTR))
		if (n > 0)
			EVP_DigestUpdate(ctx, chunk, (size_t)n);
	saved = errno;
	close(fd);
	if (n == 0)
		EVP_DigestFinal_ex(ctx, bin, NULL);
	EVP_MD_CTX_free(ctx);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	to_hex(bin, sizeof(bin), hex);
	return 0;
}

void
digest_base64(struct buf *out, const void *data, size_t len)
{
	size_t need = 4 * ((len + 2) / 3);

	buf_grow(out, need);
	/* EVP_EncodeBlock takes an int: encode in slices a multiple of 3. */
	while (len > 0) {
		size_t slice = len > 3 * (1u << 28) ? 3 * (1u << 28) : len;
		int n = EVP_EncodeBlock((unsigned char *)out->data + out->len,
		    data, (int)slice);

		out->len += (size_t)n;
		data = (const unsigned char *)data + slice;
		len -= slice;
	}
	out->data[out->len] = '\0';
}

int
digest_unbase64(struct buf *out, const char *text, size_t len)
{
	size_t pad = 0, whole, start = out->len;
	unsigned char tail[4];
	int n;

	while (len > 0 && text[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (len % 4 == 1)
		return -1;
	whole = len - len % 4;
	buf_grow(out, whole / 4 * 3 + 3);
	for (size_t at = 0; at < whole;) {
		size_t slice = whole - at > (1u << 30) ? (1u << 30) :
		    whole - at;

		n = EVP_DecodeBlock((unsigned char *)out->data + out->len,
		    (const unsigned char *)text + at, (int)slice);
		if (n < 0)
			goto bad;
		out->len += (size_t)n;
		at += slice;
	}
	if (len % 4) {
		/* Re-pad the final group so EVP can decode it, then keep
		 * only the bytes it really holds. */
		memcpy(tail, text + whole, len % 4);
		memset(tail + len % 4, '=', 4 - len % 4);
		n = EVP_DecodeBlock((unsigned char *)out->data + out->len, tail,
		    4);
		if (n < 0)
			goto bad;
		out->len += len % 4 - 1;
	}
	out->data[out->len] = '\0';
	return 0;
bad:
	buf_truncate(out, start);
	return -1;
}

void
digest_base64url(struct buf *out, const void *data, size_t len)
{
	size_t start = out->len, i;

	digest_base64(out, data, len);
	while (out->len > start && out->data[out->len - 1] == '=')
		out->len--;
	out->data[out->len] = '\0';
	for (i = start; i < out->len; i++) {
		if (out->data[i] == '+')
			out->data[i] = '-';
		else if (out->data[i] == '/')
			out->data[i] = '_';
	}
}

void
digest_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	init();
	if (HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n) == NULL)
		diag_errx(1, "OpenSSL HMAC failed");
}

void
digest_md5(const void *data, size_t len, unsigned char out[16])
{
	hash(EVP_md5(), data, len, out);
}

int
digest_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
