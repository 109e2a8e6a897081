#!/usr/bin/env bats
# The S3-compatible server the store's S3 tests run against
# (tests/s3/server.js): it must be faithful where imgp relies on it.

load helper

setup() {
	s3_start
}

teardown() {
	s3_stop
}

@test "s3 server: a signed PUT is read back; a wrong secret is refused" {
	printf 'frame' >"$BATS_TEST_TMPDIR/f"
	run s3_curl -f -T "$BATS_TEST_TMPDIR/f" "$S3_URL/imgp/a/f.png"
	assert_success
	run s3_curl -f "$S3_URL/imgp/a/f.png"
	assert_output frame
	AWS_SECRET_ACCESS_KEY=wrong run s3_curl -w '%{http_code}' -o /dev/null \
		"$S3_URL/imgp/a/f.png"
	assert_output 403
}

@test "s3 server: injected faults answer 503, drop an upload, then serve again" {
	printf 'frame' >"$BATS_TEST_TMPDIR/f"
	printf 'status 503\ndrop\n' >"$S3_FAULTS"
	run s3_curl -w '%{http_code}' -o /dev/null "$S3_URL/imgp/a/f.png"
	assert_output 503
	run s3_curl -T "$BATS_TEST_TMPDIR/f" "$S3_URL/imgp/a/f.png"
	assert_failure
	run s3_curl -w '%{http_code}' -o /dev/null "$S3_URL/imgp/a/f.png"
	assert_output 404
	assert_equal "$(wc -l <"$S3_LOG")" 3
}
