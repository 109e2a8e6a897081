#!/usr/bin/env bats
# imgp-store on S3-compatible object storage (design.md §2 "A store on S3"),
# against the real server of tests/s3 (s3rver, which checks every SigV4
# signature): objects under the local layout's keys, the journal as one
# object per line, faults, and credentials that never show.

load helper

setup() {
	T="$BATS_TEST_TMPDIR"
	s3_start
	STORE=s3://imgp/games
}

teardown() {
	s3_stop
}

images() {
	python3 "$ROOT/tests/images.py" "$@"
}

# The keys under the store's prefix, one a line, from the server's own
# listing (s3rver writes no key twice).
keys() {
	s3_curl "$S3_URL/imgp?list-type=2&prefix=games%2F${1/\//%2F}" |
		grep -o '<Key>[^<]*</Key>' | sed 's/<Key>games\///; s/<\/Key>//'
}

@test "s3 store: the object under the local layout's key, the journal line its own object" {
	images png 64 48 --raw >"$T/img"
	images png 64 48 >"$T/rec"
	run --separate-stderr imgp-store -s "$STORE" "$T/rec"
	assert_success
	local sha
	sha=$(sha256sum "$T/img" | cut -c1-64)
	assert_equal "$(line_jq 1 .asset.path)" "${sha:0:2}/$sha.png"
	s3_curl -f -o "$T/back" "$S3_URL/imgp/games/${sha:0:2}/$sha.png"
	cmp "$T/img" "$T/back"
	run keys sessions/
	assert_line --regexp '^sessions/s/9007199254740991-[0-9]{20}-[0-9a-f]{16}\.json$'
	assert_equal "${#lines[@]}" 1
	s3_curl -f "$S3_URL/imgp/games/${lines[0]}" | jq -c 'del(.stored_at)' >"$T/line"
	assert_equal "$(cat "$T/line")" "$(jq -c -n --arg s "$sha" --argjson n "$(wc -c <"$T/img")" '{turn:0,sha256:$s,path:($s[0:2]+"/"+$s+".png"),bytes:$n,mime:"image/png",image_prompt:"prompt 0",prompt:"enriched prompt 0",seed:7,model:"test/model",fallback:null,cost:null,options:{},judge:{session:"s",turn:0,image_prompt:"prompt 0"}}')"
}

@test "s3 store: IMGP_STORE names it; a content-addressed PUT is idempotent" {
	images png 64 48 -n 3 >"$T/rec"
	IMGP_STORE=$STORE run --separate-stderr imgp-store "$T/rec"
	assert_success
	: >"$S3_LOG"
	IMGP_STORE=$STORE run --separate-stderr imgp-store "$T/rec"
	assert_success
	assert_equal "${#lines[@]}" 3
	# The objects are there with their sizes: no PUT of them again.
	assert_equal "$(grep -c '^HEAD .*\.png 200$' "$S3_LOG")" 3
	assert_equal "$(grep -c '^PUT .*\.png ' "$S3_LOG" || true)" 0
	assert_equal "$(keys | grep -c '\.png$')" 3
}

@test "s3 store: --name never replaces other bytes; the same bytes again are no error" {
	images png 64 48 -n 2 >"$T/a"
	images png 64 48 -n 2 --salt other >"$T/b"
	run --separate-stderr imgp-store -s "$STORE" -N '{session}/turn-{turn:03}.{ext}' "$T/a"
	assert_success
	run --separate-stderr imgp-store -s "$STORE" -N '{session}/turn-{turn:03}.{ext}' "$T/a"
	assert_success
	run --separate-stderr imgp-store -s "$STORE" -N '{session}/turn-{turn:03}.{ext}' "$T/b"
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	assert_equal "$(line_jq 1 .error.code)" exists
	assert_equal "$(line_jq 2 .error.retryable)" false
	jq -r .image.data "$T/a" | head -1 | base64 -d >"$T/first"
	s3_curl -f -o "$T/back" "$S3_URL/imgp/games/s/turn-000.png"
	cmp "$T/first" "$T/back"
}

# The records of the error lines of the last run, to run again.
error_lines() {
	printf '%s\n' "${lines[@]}" | jq -c 'select(.error) | del(.error)'
}

@test "s3 store: 500 on every attempt of a PUT is a retryable io error, no object; a re-run completes" {
	images png 64 48 -n 2 >"$T/rec"
	printf 'ok\nstatus 500\nstatus 500\nstatus 500\nstatus 500\n' >"$S3_FAULTS"
	run --separate-stderr imgp-store -s "$STORE" "$T/rec"
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	assert_equal "$(line_jq 1 '[.error.code, .error.retryable] | @tsv')" "$(printf 'io\ttrue')"
	assert_regex "$(line_jq 1 .error.message)" 'PUT s3://imgp/games/[0-9a-f]{2}/[0-9a-f]{64}\.png: HTTP 500 \(InternalError\) \(4 attempts\)$'
	assert_equal "$(line_jq 2 .asset.path | wc -l)" 1
	local path
	path=$(jq -r .image.data "$T/rec" | head -1 | base64 -d | sha256sum | cut -c1-64)
	refute [ -n "$(keys | grep "$path")" ]
	refute [ -n "$(keys sessions/ | grep -- '-9007199254740991-' || true)" ]
	assert_equal "$(keys sessions/ | wc -l)" 1
	error_lines >"$T/retry"
	run --separate-stderr imgp-store -s "$STORE" "$T/retry"
	assert_success
	run imgp-store -s "$STORE" --check
	assert_success
	assert_output --partial ": 2 objects, 2 journal lines in 1 sessions, 0 temporary files removed, 0 problems"
}

@test "s3 store: 503 once is retried unseen; a connection dropped mid-upload leaves no object" {
	images png 64 48 --pad 200000 >"$T/rec"
	printf 'status 503\n' >"$S3_FAULTS"
	run --separate-stderr imgp-store -s "$STORE" "$T/rec"
	assert_success
	assert_equal "$(grep -c ' 503$' "$S3_LOG")" 1
	images png 64 48 -t 1 --pad 200000 --salt drop >"$T/rec"
	printf 'ok\ndrop\ndrop\ndrop\ndrop\n' >"$S3_FAULTS"
	run --separate-stderr imgp-store -s "$STORE" "$T/rec"
	assert_failure 1
	assert_equal "$(line_jq 1 '[.error.code, .error.retryable] | @tsv')" "$(printf 'io\ttrue')"
	assert_equal "$(grep -c 'dropped$' "$S3_LOG")" 4
	error_lines >"$T/retry"
	local sha
	sha=$(jq -r .image.data "$T/rec" | base64 -d | sha256sum | cut -c1-64)
	run s3_curl -o /dev/null -w '%{http_code}' "$S3_URL/imgp/games/${sha:0:2}/$sha.png"
	assert_output 404
	run --separate-stderr imgp-store -s "$STORE" "$T/retry"
	assert_success
	s3_curl -f -o "$T/back" "$S3_URL/imgp/games/${sha:0:2}/$sha.png"
	jq -r .image.data "$T/rec" | base64 -d | cmp - "$T/back"
}

@test "s3 store: the server stopped mid-run: one error line per record, exit 1; a re-run once it is back completes" {
	images png 64 48 -n 6 >"$T/rec"
	printf 'ok\nok\nok\nok\nok\nok\nstop\n' >"$S3_FAULTS"
	run --separate-stderr imgp-store -s "$STORE" "$T/rec"
	assert_failure 1
	assert_equal "${#lines[@]}" 6
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -s 'map(select(.asset)) | length')" 2
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r 'select(.error) | [.error.code, .error.retryable] | @tsv' | sort -u)" "$(printf 'io\ttrue')"
	error_lines >"$T/retry"
	wait "$S3_PID" || true
	s3_start
	run --separate-stderr imgp-store -s "$STORE" "$T/retry"
	assert_success
	assert_equal "${#lines[@]}" 4
	run imgp-store -s "$STORE" --export s
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r .turn | tr '\n' ' ')" "0 1 2 3 4 5 "
	run imgp-store -s "$STORE" --check
	assert_success
	assert_output --partial ": 6 objects, 6 journal lines in 1 sessions"
}

@test "s3 store: credentials never show, not in errors, not in output" {
	images png 64 48 >"$T/rec"
	AWS_SECRET_ACCESS_KEY=Wr0ngSecretNeverShown AWS_SESSION_TOKEN=TokenNeverShown \
		run imgp-store -s "$STORE" "$T/rec"
	assert_failure 1
	assert_output --partial ': HTTP 403'
	refute_output --partial Wr0ngSecretNeverShown
	refute_output --partial TokenNeverShown
	AWS_SECRET_ACCESS_KEY=Wr0ngSecretNeverShown run imgp-store -s "$STORE" --check
	assert_failure 2
	refute_output --partial Wr0ngSecretNeverShown
	AWS_SECRET_ACCESS_KEY= run imgp-store -s "$STORE" "$T/rec"
	assert_failure 2
	assert_output --partial 'no credentials'
	# The secret goes to the server only as a signature.
	refute grep -rq S3RVER "$S3_LOG"
}

@test "s3 store: --export and history read the latest turns from a listing after the turn asked about" {
	images png 64 48 -n 30 >"$T/rec"
	images png 64 48 -n 1 -t 7 --salt again >>"$T/rec"
	run --separate-stderr imgp-store -s "$STORE" "$T/rec"
	assert_success
	run imgp-store -s "$STORE" --export s
	assert_success
	assert_equal "${#lines[@]}" 30
	assert_equal "$(line_jq 8 .turn)" 7
	: >"$S3_LOG"
	printf '{"session":"s","turn":30,"image_prompt":"next"}\n' |
		imgp-enrich --store "$STORE" --reference previous \
		--profile "$ROOT/tests/fixtures/profile.json" >"$T/out"
	assert_regex "$(jq -r .request.prompt "$T/out")" 'Evolution trail: T24:prompt 24 \| .* \| T29:prompt 29\.'
	local sha
	sha=$(sed -n 30p "$T/rec" | jq -r .image.data | base64 -d | sha256sum | cut -c1-64)
	assert_equal "$(jq -r '.request.references[] | select(.role == "previous") | .path' "$T/out")" "$STORE/${sha:0:2}/$sha.png"
	# One listing page, a few lines read: not the whole session.
	assert_equal "$(grep -c '^GET /imgp?' "$S3_LOG")" 1
	assert [ "$(grep -c '^GET /imgp/games/sessions/' "$S3_LOG")" -lt 10 ]
	run imgp-store -s "$STORE" --export t
	assert_failure 1
	assert_output --partial 'no journal lines'
}

@test "s3 store: modes that read a directory are refused on s3://" {
	run imgp-store -s "$STORE" --gc
	assert_failure 2
	assert_output --partial 'an s3:// store takes --check and --export'
}
