#!/usr/bin/env bats
# The filter contract of design.md §1 and §7, for every stage: one line out
# per line in, in order; bad_json; error pass-through; blank lines; lines
# of any length; cat-style operands; stdout failures; closed descriptors.
# Each stage is run in the mode where it needs no network or store set-up.
# imgp-sheet, which ends a pipeline with one HTML page instead of a line
# per record, is held to the same contract where it applies (imgp-sheet:
# tests at the end).

load helper

# stage NAME — the command line under which a stage handles a minimal
# record with no network.
stage_cmd() {
	case $1 in
	imgp-enrich) echo "imgp-enrich -s $BATS_TEST_TMPDIR/store" ;;
	imgp-gen) echo "imgp-gen --api local" ;;
	imgp-store) echo "imgp-store -s $BATS_TEST_TMPDIR/store" ;;
	imgp-url) echo "imgp-url" ;;
	esac
}

# The four stages (helper.bash has checked that bin/ has them).
stages() {
	echo imgp-enrich imgp-gen imgp-store imgp-url
}

@test "bad_json: a line that is not an object becomes an error record with raw and line" {
	local t
	for t in $(stages); do
		run_with $'[1,2]\n{"a":\n"str"\n{"x":1} trailing\n{"a":1}{"b":2}' $(stage_cmd "$t")
		assert_failure 1
		assert_equal "${#lines[@]}" 5
		assert_equal "$(line_jq 1 '.error.code')" bad_json
		assert_equal "$(line_jq 1 '.error.stage')" "${t#imgp-}"
		assert_equal "$(line_jq 1 '.error.line')" 1
		assert_equal "$(line_jq 1 '.raw')" "[1,2]"
		assert_equal "$(line_jq 4 '.raw')" '{"x":1} trailing'
		assert_equal "$(line_jq 5 '.error.line')" 5
	done
}

@test "bad_json: invalid UTF-8 and NUL bytes are refused, raw keeps the rest" {
	local t
	for t in $(stages); do
		run --separate-stderr bash -c "printf '{\"a\":\"\\xff\\xfe\"}\n{\"a\":\"x\\0y\"}\n{\"a\":\"\\xc0\\xaf\"}\n' | $(stage_cmd "$t")"
		assert_failure 1
		assert_equal "${#lines[@]}" 3
		assert_equal "$(printf '%s\n' "$output" | jq -r .error.code | sort -u)" bad_json
		assert_equal "$(line_jq 1 '.raw')" $'{"a":"\ufffd\ufffd"}'
	done
}

@test "bad_json: 100000 levels of nesting is an error record, not a crash" {
	local t deep
	deep=$(printf '[%.0s' $(seq 100000))
	for t in $(stages); do
		run_with "{\"a\":$deep}" $(stage_cmd "$t")
		assert_failure 1
		assert_equal "$(line_jq 1 '.error.code')" bad_json
		assert_regex "$(line_jq 1 '.error.message')" "nesting too deep"
	done
}

@test "bad_json: a lone high surrogate escape, which libjq refuses, even in a member no stage reads; a pair or an escaped backslash is fine" {
	local t input
	input='{"session":"s","turn":0,"image_prompt":"x","note":"a\ud800b"}
{"session":"s","turn":0,"image_prompt":"x","note":"a\\ud800 \ud83d\ude00 \udc00"}'
	for t in $(stages); do
		run_with "$input" $(stage_cmd "$t")
		assert_equal "${#lines[@]}" 2
		assert_equal "$(line_jq 1 '.error.code')" bad_json
		assert_regex "$(line_jq 1 '.error.message')" "libjq"
		[ "$(line_jq 2 '.error.code')" != bad_json ]
	done
}

@test "hostile session names (/ .. . newline NUL empty 129 chars, not a string) are invalid_field; nothing written" {
	local data name rec cmd
	data=$(imgp-gen --api local <<<'{"request":{"prompt":"p","size":"8x8"}}' | jq -r .image.data)
	# imgp-gen reads the session only for --on-failure previous (gen.bats)
	for name in '"a/b"' '".."' '"."' '"../x"' '"a\nb"' '"x\u0000y"' '""' \
	    "\"$(printf 'a%.0s' $(seq 129))\"" 7; do
		rec="{\"session\":$name,\"turn\":1,\"image_prompt\":\"p\",\"image\":{\"data\":\"$data\"},\"asset\":{\"path\":\"ab/x.png\"}}"
		for cmd in "imgp-enrich -s $BATS_TEST_TMPDIR/store" \
		    "imgp-store -s $BATS_TEST_TMPDIR/store" "imgp-url --template /{session}/{path}"; do
			run_with "$rec" $cmd
			assert_failure 1
			assert_equal "$(line_jq 1 '[.error.code, .error.field] | @tsv')" \
				"$(printf 'invalid_field\tsession')"
		done
	done
	# no image, journal or stray file (bats keeps its stderr files here)
	assert_equal "$(find "$BATS_TEST_TMPDIR" -type f ! -name 'separate-stderr-*' | wc -l)" 0
}

@test "numbers past any integer (turn 1e20, seeds ±1e300) are invalid_field, not undefined behaviour" {
	local enrich="imgp-enrich -s $BATS_TEST_TMPDIR/store" cmd rec
	while IFS='|' read -r cmd rec; do
		run_with "$rec" $cmd
		assert_failure 1
		assert_equal "$(line_jq 1 .error.code)" invalid_field
	done <<EOF
$enrich|{"session":"s","turn":1e20,"image_prompt":"p"}
$enrich|{"session":"s","turn":1,"seed":-1e300,"image_prompt":"p"}
imgp-gen --api local|{"session":"s","turn":1,"request":{"prompt":"p","seed":1e300}}
imgp-url --template /{turn}/{path}|{"session":"s","turn":1e20,"asset":{"path":"a/b.png"}}
EOF
}

@test "records with error pass through untouched, byte for byte" {
	local t rec='{ "error" : {"stage":"x","code":"y"}, "n": 1.10e0 ,"big":99999999999999999999}'
	for t in $(stages); do
		run_with "$rec" $(stage_cmd "$t")
		assert_success
		assert_output "$rec"
	done
}

@test "blank lines are skipped, CRLF line ends accepted" {
	local t
	for t in $(stages); do
		run_with $'\n  \t\n{"error":{"code":"a"}}\r\n\n{"error":{"code":"b"}}' $(stage_cmd "$t")
		assert_success
		assert_equal "${#lines[@]}" 2
	done
}

# `make reliability` makes the line 100 MB (IMGP_BIG_LINE_MB).
@test "stress: lines of any length: a multi-megabyte member passes through" {
	local t
	python3 -c 'import sys; sys.stdout.write("{\"error\":{\"code\":\"x\"},\"blob\":\"" + "A"*(int(sys.argv[1]) * 1000000) + "\"}\n")' \
		"${IMGP_BIG_LINE_MB:-8}" >"$BATS_TEST_TMPDIR/big"
	for t in $(stages); do
		$(stage_cmd "$t") <"$BATS_TEST_TMPDIR/big" >"$BATS_TEST_TMPDIR/out"
		cmp "$BATS_TEST_TMPDIR/big" "$BATS_TEST_TMPDIR/out"
	done
}

@test "a last line without a newline still counts" {
	local t
	for t in $(stages); do
		run bash -c "printf '{\"error\":{}}' | $(stage_cmd "$t")"
		assert_success
		assert_output '{"error":{}}'
	done
}

@test "operands are read in order like cat, - is stdin" {
	local t
	echo '{"error":{"n":1}}' >"$BATS_TEST_TMPDIR/a"
	echo '{"error":{"n":3}}' >"$BATS_TEST_TMPDIR/b"
	for t in $(stages); do
		run bash -c "echo '{\"error\":{\"n\":2}}' | $(stage_cmd "$t") $BATS_TEST_TMPDIR/a - $BATS_TEST_TMPDIR/b"
		assert_success
		assert_equal "$(printf '%s\n' "$output" | jq -c '.error.n' | tr '\n' ' ')" "1 2 3 "
	done
}

@test "an unreadable operand is reported, the others processed, exit 1" {
	local t
	echo '{"error":{"n":1}}' >"$BATS_TEST_TMPDIR/a"
	for t in $(stages); do
		run --separate-stderr $(stage_cmd "$t") "$BATS_TEST_TMPDIR/missing" "$BATS_TEST_TMPDIR/a"
		assert_failure 1
		assert_output '{"error":{"n":1}}'
		assert_regex "$stderr" "^$t: .*missing: No such file or directory"
	done
}

@test "bad_json in a named file says which file, in the record and on stderr; -q silences stderr" {
	local t
	printf '{"error":{}}\nnope\n' >"$BATS_TEST_TMPDIR/in"
	for t in $(stages); do
		run --separate-stderr $(stage_cmd "$t") "$BATS_TEST_TMPDIR/in"
		assert_failure 1
		assert_equal "$(line_jq 2 .error.file)" "$BATS_TEST_TMPDIR/in"
		assert_equal "$(line_jq 2 .error.line)" 2
		assert_equal "${stderr%%$'\n'*}" "$t: $BATS_TEST_TMPDIR/in:line 2: bad_json: $(line_jq 2 .error.message)"
		run --separate-stderr $(stage_cmd "$t") -q "$BATS_TEST_TMPDIR/in"
		assert_failure 1
		assert_equal "$stderr" ""
		assert_equal "${#lines[@]}" 2
	done
}

@test "a full disk on stdout is exit 1 with a message" {
	local t
	for t in $(stages); do
		run bash -c "echo '{\"error\":{}}' | $(stage_cmd "$t") >/dev/full"
		assert_failure 1
		assert_output --regexp "^$t: write error on standard output: No space left on device"
	done
}

@test "downstream gone (EPIPE): quiet, prompt exit, no SIGPIPE death" {
	local t
	for t in $(stages); do
		run bash -c "set -o pipefail; yes '{\"error\":{\"code\":\"x\"}}' | head -c 10000000 | $(stage_cmd "$t") | head -n 1"
		assert_output '{"error":{"code":"x"}}'
		run bash -c "yes '{\"error\":{}}' | head -n 200000 | $(stage_cmd "$t") | true; echo \"\${PIPESTATUS[2]}\""
		assert_output 0
	done
}

@test "closed stdin, stdout or stderr at start do not crash a stage" {
	local t
	for t in $(stages); do
		run bash -c "$(stage_cmd "$t") <&-"
		assert_success
		run bash -c "echo '{\"error\":{}}' | $(stage_cmd "$t") 2>&-"
		assert_success
		# fd 1 is reopened on /dev/null (design.md §7), so nothing can
		# land in a file the stage opens later
		run bash -c "echo '{\"error\":{}}' | $(stage_cmd "$t") >&-; echo \$?"
		assert_output 0
	done
}

@test "interactive use: each record is answered before the next is written" {
	local t pid
	for t in $(stages); do
		coproc STAGE { $(stage_cmd "$t"); }
		# bash forgets STAGE_PID once the coprocess has ended
		pid=$STAGE_PID
		echo '{"error":{"n":1}}' >&"${STAGE[1]}"
		read -r -t 20 reply <&"${STAGE[0]}"
		assert_equal "$reply" '{"error":{"n":1}}'
		echo '{"error":{"n":2}}' >&"${STAGE[1]}"
		read -r -t 20 reply <&"${STAGE[0]}"
		assert_equal "$reply" '{"error":{"n":2}}'
		exec {STAGE[1]}>&-
		wait "$pid"
	done
}

@test "-V prints the version, -h the usage on stdout, a bad flag exit 2" {
	local t
	for t in $(stages) imgp-sheet; do
		run "$t" -V
		assert_success
		assert_output --regexp "^$t [0-9]+\.[0-9]+\.[0-9]+$"
		run "$t" --help
		assert_success
		assert_output --regexp "^usage: $t "
		run --separate-stderr "$t" --no-such-flag
		assert_failure 2
		assert_regex "$stderr" "usage: $t "
	done
}

# The records of imgp-sheet's tests: one per session, so each shows.
sheet_record() {
	printf '{"session":"s%s","turn":0,"image_prompt":"p%s","asset":{"path":"a.png"}}\n' "$1" "$1"
}

@test "imgp-sheet: operands read in order like cat, - is stdin; an unreadable one reported, the others shown, exit 1" {
	sheet_record 1 >"$BATS_TEST_TMPDIR/a"
	sheet_record 3 >"$BATS_TEST_TMPDIR/b"
	run --separate-stderr bash -c "sheet_record() { printf '{\"session\":\"s2\",\"turn\":0}\n'; }; sheet_record | imgp-sheet -r $BATS_TEST_TMPDIR/a - $BATS_TEST_TMPDIR/b"
	assert_success
	assert_equal "$(grep -o '<h2>s[0-9]' <<<"$output" | tr '\n' ' ')" "<h2>s1 <h2>s2 <h2>s3 "
	run --separate-stderr imgp-sheet -r "$BATS_TEST_TMPDIR/missing" "$BATS_TEST_TMPDIR/a"
	assert_failure 1
	assert_output --partial '<h2>s1</h2>'
	assert_regex "$stderr" "^imgp-sheet: .*missing: No such file or directory"
}

@test "imgp-sheet: bad lines (not an object, invalid UTF-8, NUL, deep nesting) are reported with file and line, the rest shown" {
	{
		sheet_record 1
		echo '[1,2]'
		printf '{"a":"\xff"}\n{"a":"x\\u0000y"}\n'
		printf '{"a":%s}\n' "$(printf '[%.0s' $(seq 100000))"
		sheet_record 2
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr imgp-sheet -r "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$(grep -c '<figure' <<<"$output")" 3
	assert_regex "$stderr" "imgp-sheet: $BATS_TEST_TMPDIR/in:2: not a JSON object"
	assert_regex "$stderr" "in:3: not a JSON object"
	assert_regex "$stderr" "in:5: not a JSON object"
}

@test "stress: imgp-sheet: a multi-megabyte prompt is shown whole, escaped" {
	python3 -c 'import sys; sys.stdout.write("{\"session\":\"s\",\"turn\":0,\"image_prompt\":\"" + "<"*(int(sys.argv[1]) * 1000000) + "\"}\n")' \
		"${IMGP_BIG_LINE_MB:-8}" >"$BATS_TEST_TMPDIR/big"
	imgp-sheet -r "$BATS_TEST_TMPDIR/big" >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(grep -o '&lt;' "$BATS_TEST_TMPDIR/out" | wc -l)" "$((${IMGP_BIG_LINE_MB:-8} * 1000000))"
}

@test "imgp-sheet: a full disk on stdout is exit 1 with a message; downstream gone is quiet; closed descriptors do not crash it" {
	sheet_record 1 >"$BATS_TEST_TMPDIR/a"
	run bash -c "imgp-sheet -r $BATS_TEST_TMPDIR/a >/dev/full"
	assert_failure 1
	assert_output --regexp "^imgp-sheet: write error on standard output: No space left on device"
	run bash -c "yes '{\"session\":\"s\",\"turn\":1}' | head -n 100000 | imgp-sheet -r | head -c 10 >/dev/null; echo \"\${PIPESTATUS[2]}\""
	assert_output 0
	run bash -c "imgp-sheet -r <&-"
	assert_success
	run bash -c "imgp-sheet -r $BATS_TEST_TMPDIR/a 2>&-"
	assert_success
	run bash -c "imgp-sheet -r $BATS_TEST_TMPDIR/a >&-; echo \$?"
	assert_output 0
}
