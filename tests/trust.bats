#!/usr/bin/env bats
# Trust boundaries of imgp-gen and imgp-url (issue 13): what records,
# provider answers and key files can make a tool read, fetch, reveal or
# spend.  HTTP goes only to mock providers on loopback.

load helper

KEY=sk-trust-0123456789abcdef

setup() {
	export IMGP_API_KEY=$KEY
}

teardown() {
	mock_stop
}

# --- 13: no O_NONBLOCK on a shared descriptor ---------------------------------

@test "trust: on a terminal a large record is written whole (no O_NONBLOCK on shared stdin)" {
	# Under script(1) standard input and output are one open file, the
	# terminal: a record of ~300 kB is more than the terminal takes at once.
	printf '%s\n' '{"session":"s","turn":1,"request":{"prompt":"a lighthouse","seed":3,"size":"1536x1536"}}' >"$BATS_TEST_TMPDIR/in"
	run script -qec "imgp-gen --api local --no-progress; echo EXIT=\$?" /dev/null <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output --partial "EXIT=0"
	refute_output --partial "write error"
	record=$(tr -d '\r' <<<"$output" | grep '"image"')
	assert_equal "$(jq -r .image.data <<<"$record" | base64 -d | wc -c)" "$(jq -r .image.bytes <<<"$record")"
}
