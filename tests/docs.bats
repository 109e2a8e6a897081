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
		assert_equal "${lines[0]}" "usage: $(synopsis "$t")"
	done
}

# The heading of each option a man page lists (its `.It Fl` lines), as
# mandoc renders it, one a line.
man_options() {
	local it
	grep '^\.It Fl' "$ROOT/man/$1.1" | while IFS= read -r it; do
		printf '.Dd November 28, 2026\n.Dt X 1\n.Os\n.Sh NAME\n.Nm x\n.Nd x\n.Sh OPTIONS\n.Bl -tag -width 1n\n%s\nx\n.El\n' "$it" |
			mandoc -Tascii -Owidth=1000 | col -bx | sed -n 's/^ *\(-.*\)$/\1/p' | head -1
	done
}

@test "-h prints one line per option, headed as the man page lists it" {
	local t
	for t in $(tools); do
		run "$t" -h
		assert_success
		diff <(printf '%s\n' "${lines[@]:1}" | sed 's/^  //; s/  .*//') <(man_options "$t") ||
			fail "$t -h and $t.1 list different options"
		[ "$(printf '%s\n' "${lines[@]:1}" | grep -cv '^  -[^ ].*  [^ ]')" -eq 0 ] ||
			fail "$t -h has an option line without a description"
	done
}

@test "a short option letter means one thing in every tool" {
	local pairs
	pairs=$(sed -n "s/^[[:space:]]*{ \"\([a-z-]*\)\", [a-z_]*argument, NULL, '\(.\)' }.*/\2 \1/p" "$ROOT"/tools/*.c | LC_ALL=C sort -u)
	run awk '{ n[$1]++ } END { for (l in n) if (n[l] > 1) print l }' <<<"$pairs"
	assert_output ""
	grep -qx 's store' <<<"$pairs"
	grep -qx 'n dry-run' <<<"$pairs"
	grep -qx 'q quiet' <<<"$pairs"
	run imgp-store -n x
	assert_failure 2
	run imgp-url -s hmac
	assert_failure 2
}

@test "the README shows each tool's synopsis as -h prints it" {
	local t
	for t in $(tools); do
		run "$t" -h
		grep -qxF "    ${lines[0]#usage: }" "$ROOT/README.md" ||
			fail "README.md lacks the synopsis of $t: ${lines[0]#usage: }"
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
	s3_start
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
	s3_stop
}
