/*
 * s3xml — the few elements imgp reads from S3's XML answers: a
 * ListObjectsV2 page's keys, sizes and continuation token.
 *
 * S3's answers are flat and known; a general XML parser would be a new
 * dependency for four element names.  The reader takes the first
 * <ListBucketResult>, then each <Contents>'s <Key> and <Size>, and
 * <NextContinuationToken> when <IsTruncated> is true.  Text is decoded
 * (the five XML entities and &#N; / &#xN; references; with
 * <EncodingType>url</EncodingType>, percent escapes too); a key that
 * decodes to a NUL or another control character, or that does not decode,
 * is dropped: no such key is one imgp wrote.  The answer is the server's,
 * and not trusted: fuzz/s3xml reads anything.
 */
#ifndef IMGP_S3XML_H
#define IMGP_S3XML_H

#include <stddef.h>

struct s3_page {
	char **keys;
	long long *sizes;	/* -1 when the answer gave none */
	size_t n;
	char *next_token;	/* NULL: the last page */
};

/* Read a ListObjectsV2 answer xml[0..len) into `page`: 0, or -1 when it
 * is no ListBucketResult (page is then empty). */
int s3_list_parse(const char *xml, size_t len, struct s3_page *page);

void s3_page_free(struct s3_page *page);

#endif
