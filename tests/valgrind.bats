#!/usr/bin/env bats
# Every tool under valgrind over a representative stream: the example
# stream through all four stages, imgp-gen offline and against the mock
# provider's failures, the store's --check and imgp-url's signing and
# --verify, looking after a store, imgp-sheet.  No invalid access, no uninitialised value, and no leak of any
# kind (still reachable included) beyond tests/valgrind.supp.  Skipped when
# valgrind is missing or bin/ is the SANITIZE=1 build (ASan and valgrind
# do not mix).

load helper

setup() {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	[[ $(readlink "$ROOT/bin") != *sanitize* ]] || skip "bin/ is the ASan build"
	STORE="$BATS_TEST_TMPDIR/store"
	cd "$ROOT"
}

teardown() {
	mock_stop
}

# `vg IN OUT tool args…`: run a tool under valgrind with stdin IN and
# stdout OUT; fail showing valgrind's report if it has one.
vg() {
	local in=$1 out=$2
	shift 2
	# run captures stdout: the redirections go inside
	run --separate-stderr bash -c 'in=$1 out=$2; shift 2; exec "$@" <"$in" >"$out"' \
		vg "$in" "$out" valgrind -q --error-exitcode=97 \
		--leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
		--num-callers=30 \
		--suppressions="$ROOT/tests/valgrind.supp" "$@"
	if [ "$status" -eq 97 ] || grep -q '^==[0-9]*==' <<<"$stderr"; then
		echo "$stderr"
		return 1
	fi
}

# The example stream with a bad line and an error record among the turns.
example_stream() {
	cat examples/judge.ndjson
	echo 'not json'
	echo '{"session":"s","turn":1,"error":{"stage":"x","code":"io"}}'
}

@test "valgrind: the example stream through all four stages, offline" {
	local t=$BATS_TEST_TMPDIR
	example_stream >"$t/in"
	vg "$t/in" "$t/enriched" imgp-enrich -p examples/lighthouse.json -s "$STORE"
	vg "$t/enriched" "$t/gen" imgp-gen --api local -j 4 -s "$STORE"
	vg "$t/gen" "$t/stored" imgp-store -s "$STORE"
	assert_equal "$(jq -r 'select(.asset) | .turn' "$t/stored" | wc -l)" 10
	vg "$t/stored" "$t/url" imgp-url --base https://img.example/assets/
	assert_equal "$(wc -l <"$t/url")" 12
	# a second turn round reads the journal and the previous frame (turn 0 has none)
	vg "$t/in" "$t/again" imgp-enrich -p examples/lighthouse.json -s "$STORE" \
		--reference previous
	assert_equal "$(jq -r 'select(.request.references | length > 0) | .turn' "$t/again" | wc -l)" 9
	vg /dev/null "$t/check" imgp-store -s "$STORE" --check
	assert_success
}

@test "valgrind: imgp-gen against the mock's failures, -j 4, two APIs" {
	local t=$BATS_TEST_TMPDIR
	mock_start --key vg-key
	# one answer shape or failure per turn
	jq -c --arg here "http://127.0.0.1:$MOCK_PORT" \
		'.image_prompt += ([" ", " [mock status=500 times=1]", " [mock reply=url]",
		" [mock strict=400]", " [mock reply=redirect redirect-to=\($here)]",
		" [mock reply=notimage]",
		" [mock reply=refused403 times=1]", " [mock reply=text]",
		" [mock status=429 retry-after=0 times=1]", " [mock reply=truncated times=1]"][.turn])' \
		examples/judge.ndjson >"$t/judge"
	imgp-enrich -p examples/lighthouse.json "$t/judge" >"$t/in"
	IMGP_API_KEY=vg-key vg "$t/in" "$t/out" imgp-gen --base-url "$MOCK_URL" -j 4 \
		--retry-delay 0.01 --fallback-model other/model
	assert_equal "$(jq -r '"\(.turn):\(.error.code // .image.fallback)"' "$t/out" | tr '\n' ' ')" \
		"0:null 1:null 2:null 3:relaxed 4:null 5:not_an_image 6:model 7:no_image 8:null 9:relaxed "
	# openai, with a reference image: multipart edits
	imgp-gen --api local <"$t/in" | imgp-store -s "$STORE" >/dev/null
	imgp-enrich -p examples/lighthouse.json -s "$STORE" --reference previous \
		"$t/judge" >"$t/refs"
	IMGP_API_KEY=vg-key vg "$t/refs" "$t/openai" imgp-gen --api openai \
		--base-url "$MOCK_URL" -j 4 --retry-delay 0.01 -s "$STORE" \
		--on-failure placeholder
	assert_equal "$(jq -r 'select(.image.data) | .turn' "$t/openai" | wc -l)" 10
}

@test "valgrind: imgp-store refusals and imgp-url signing and --verify" {
	local t=$BATS_TEST_TMPDIR
	{
		imgp-gen --api local <<<'{"session":"s","turn":0,"request":{"prompt":"a","size":"32x16"}}'
		echo '{"session":"s","turn":1,"image":{"data":"aGVsbG8="}}'
		echo '{"session":"s","turn":2,"image":{"data":"@@@"}}'
	} >"$t/in"
	vg "$t/in" "$t/stored" imgp-store -s "$STORE" --name '{session}-{turn:03}.{ext}'
	assert_failure 1
	assert_equal "$(jq -r '.error.code // .asset.mime' "$t/stored" | tr '\n' ' ')" \
		"image/png not_an_image invalid_field "
	printf 'vg-url-key\n' >"$t/key"
	vg "$t/stored" "$t/hmac" imgp-url --sign hmac --key-file "$t/key" --expires 1h
	vg "$t/hmac" "$t/verified" imgp-url --verify --key-file "$t/key"
	assert_equal "$(jq -r '.verify // .error.code' "$t/verified" | tr '\n' ' ')" \
		"ok not_an_image invalid_field "
	vg "$t/stored" "$t/nginx" imgp-url --sign nginx --key-file "$t/key" --expires 1h
	jq -r 'select(.url) | .url' "$t/nginx" >"$t/urls"
	echo '/assets/x.png?md5=AAAAAAAAAAAAAAAAAAAAAA&expires=1' >>"$t/urls"
	vg "$t/urls" "$t/words" imgp-url --verify --key-file "$t/key"
	assert_equal "$(tr '\n' ' ' <"$t/words")" "ok bad_signature "
}

@test "valgrind: imgp-store --report, --delete-session, --prune and --gc" {
	local t=$BATS_TEST_TMPDIR
	imgp-enrich -p examples/lighthouse.json examples/judge.ndjson |
		imgp-gen --api local --cache -s "$STORE" >"$t/gen"
	sed 's/lantern-coast-1/other/' "$t/gen" |
		imgp-store -s "$STORE" --name '{session}/{turn}.{ext}' >/dev/null
	imgp-store -s "$STORE" <"$t/gen" >/dev/null
	vg /dev/null "$t/report" imgp-store -s "$STORE" --report
	assert_equal "$(jq -r .frames "$t/report" | tr '\n' ' ')" "10 10 "
	vg /dev/null "$t/deleted" imgp-store -s "$STORE" --delete-session other
	assert_equal "$(wc -l <"$t/deleted")" 12
	vg /dev/null "$t/pruned" imgp-store -s "$STORE" --prune --older-than 1d --dry-run
	imgp-store -s "$STORE" --delete-session lantern-coast-1 >/dev/null
	find "$STORE" -type f -exec touch -d '2 days ago' {} +
	vg /dev/null "$t/gc" imgp-store -s "$STORE" --gc
	# ten images and their ten request files
	assert_equal "$(wc -l <"$t/gc")" 21
	imgp-store -s "$STORE" --check
}

@test "valgrind: imgp-sheet from journals and from records" {
	local t=$BATS_TEST_TMPDIR
	imgp-enrich -p examples/lighthouse.json examples/judge.ndjson |
		imgp-gen --api local | imgp-store -s "$STORE" |
		imgp-url -b https://img.example/ >"$t/records"
	echo 'not json' >>"$t/records"
	vg /dev/null "$t/journals.html" imgp-sheet -s "$STORE" -t '{base}/{session}/{turn}.{ext}'
	assert_equal "$(grep -o '<figure' "$t/journals.html" | wc -l)" 10
	vg "$t/records" "$t/records.html" imgp-sheet -r -T 'a <title>'
	assert_failure 1
	assert_equal "$(grep -o '<figure' "$t/records.html" | wc -l)" 10
}
