#!/usr/bin/env bats
# Options, usage(), the man SYNOPSIS and the README agree; man pages are
# lint-clean; the man pages' EXAMPLES run.

load helper

tools() {
	local t
	for t in "$ROOT"/tools/*.c; do
		t=${t##*/}
		echo "${t%.c}"
	done
}

# The SYNOPSIS of a man page as one line, as mandoc renders it.
synopsis() {
	mandoc -Tascii -Owidth=1000 "$ROOT/man/$1.1" | col -b |
		sed -n '/^SYNOPSIS$/,/^DESCRIPTION$/p' | sed '1d;$d' |
		tr -s ' \n' ' ' | sed 's/^ //; s/ $//'
}

@test "every tool has a man page and -h prints its SYNOPSIS word for word" {
	local t
	for t in $(tools); do
		assert_file_exists "$ROOT/man/$t.1"
		run "$t" -h
		assert_success
		assert_output "usage: $(synopsis "$t")"
	done
}

@test "the README shows each tool's synopsis as -h prints it" {
	local t
	for t in $(tools); do
		run "$t" -h
		grep -qxF "    ${output#usage: }" "$ROOT/README.md" ||
			fail "README.md lacks the synopsis of $t: ${output#usage: }"
	done
}

@test "every long option of a tool is in its man page" {
	local t opt
	for t in $(tools); do
		for opt in $(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", [a-z_]*argument.*/\1/p' "$ROOT/tools/$t.c"); do
			grep -q -- "Fl \\\\-$opt" "$ROOT/man/$t.1" ||
				fail "$t.1 does not document --$opt"
		done
	done
}

@test "man pages are mandoc -Tlint clean (warnings and above)" {
	run mandoc -Tlint -Wwarning "$ROOT"/man/*.[1-9]
	assert_success
	assert_output ""
}

@test "the EXAMPLES of imgp-enrich(1) run as printed" {
	cd "$ROOT"
	run bash -c "set -e -o pipefail; $(man_examples imgp-enrich.1)"
	assert_success
	assert_line --partial '"request":{"prompt":"A harbor at dawn Keep continuity'
}

# Every page's EXAMPLES, in a directory holding the files they name, with
# the mock provider standing in for the real one.
@test "the EXAMPLES of every man page run as printed" {
	local page
	mock_start
	cd "$BATS_TEST_TMPDIR"
	ln -s "$ROOT/examples" examples
	ln -s "$ROOT/contrib" contrib
	cp examples/lighthouse.json world.json
	cp examples/judge.ndjson turns.ndjson
	imgp-enrich -p world.json turns.ndjson >requests.ndjson
	imgp-gen --api local requests.ndjson | imgp-store -s /dev/null/x >out.ndjson || true
	for page in "$ROOT"/man/*.[1-9]; do
		run env IMGP_BASE_URL="$MOCK_URL" IMGP_API_KEY=test-key \
			bash -c "set -e -o pipefail; $(man_examples "${page##*/}")"
		[ "$status" -eq 0 ] || fail "EXAMPLES of ${page##*/} failed: $output"
	done
}

teardown() {
	mock_stop
}
