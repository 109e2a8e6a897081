/*
 * digest — hashes, MACs and base64, all through OpenSSL's EVP interfaces.
 *
 * One place for the cryptography of imgp: content addresses and session
 * seeds (SHA-256), URL signatures (HMAC-SHA256, nginx's MD5), and the
 * base64 of image data.
 */
#ifndef IMGP_DIGEST_H
#define IMGP_DIGEST_H

#include <stddef.h>

#include "buf.h"

#define DIGEST_SHA256_LEN 32
#define DIGEST_HEX_LEN 64	/* a SHA-256 in lower-case hex, no NUL */

void digest_sha256(const void *data, size_t len,
    unsigned char out[DIGEST_SHA256_LEN]);

/* SHA-256 as 64 lower-case hex digits and a NUL. */
void digest_sha256_hex(const void *data, size_t len,
    char hex[DIGEST_HEX_LEN + 1]);

/* Append `len` bytes as lower-case hex. */
void digest_hex(struct buf *out, const void *bin, size_t len);

/* SHA-256 of a file's contents, streamed; -1 with errno on I/O error. */
int digest_file_sha256_hex(const char *path, char hex[DIGEST_HEX_LEN + 1]);

/* Append the base64 (standard alphabet, padded, one line) of data. */
void digest_base64(struct buf *out, const void *data, size_t len);

/*
 * Decode base64 (standard alphabet; padding optional; no white space) and
 * append the bytes; the decoded length is exact (EVP_DecodeBlock counts
 * padding as bytes, design.md §7).  -1 if the text is not base64.
 */
int digest_unbase64(struct buf *out, const char *text, size_t len);

/* base64url without padding (RFC 4648 §5), as URL signatures use. */
void digest_base64url(struct buf *out, const void *data, size_t len);

/* HMAC-SHA256 of data under key; out gets 32 bytes. */
void digest_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, unsigned char out[DIGEST_SHA256_LEN]);

/* MD5 (for nginx's secure_link only; not a security choice of ours). */
void digest_md5(const void *data, size_t len, unsigned char out[16]);

/* Constant-time comparison: 1 when equal. */
int digest_equal(const void *a, const void *b, size_t len);

#endif
