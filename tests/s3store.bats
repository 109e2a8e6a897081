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
	mock_stop
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

# One turn through the whole pipeline on the bucket, as a server would run
# it: imgp-enrich reads the session's previous frame and history from the
# bucket, imgp-gen reads that frame from it (and --cache keeps its answers
# there), imgp-store writes the frame and its journal line.
turn() {
	printf '{"session":"%s","turn":%d,"image_prompt":"scene %d"}\n' "$1" "$2" "$2" |
		imgp-enrich -s "$STORE" --reference previous -p "$ROOT/tests/fixtures/profile.json" |
		imgp-gen --api local -s "$STORE" ${3:-} | imgp-store -s "$STORE"
}

@test "s3 store: imgp-gen reads the previous frame and keeps --cache in the bucket" {
	turn s 0 >"$T/0"
	: >"$S3_LOG"
	turn s 1 --cache >"$T/1"
	jq -e '.asset and (.error | not)' "$T/1"
	local sha0
	sha0=$(jq -r .asset.sha256 "$T/0")
	# The reference is turn 0's frame, read from the bucket by imgp-gen.
	assert_equal "$(jq -r '.request.references[0].path' "$T/1")" "$STORE/${sha0:0:2}/$sha0.png"
	grep -q "^GET /imgp/games/${sha0:0:2}/$sha0.png 200$" "$S3_LOG"
	grep -q '^PUT /imgp/games/requests/[0-9a-f][0-9a-f]/[0-9a-f]\{64\}\.json 200$' "$S3_LOG"
	assert_equal "$(jq -r .image.cached "$T/1")" false
	# The same turn again: the answer comes from the bucket's cache.
	imgp-gen --api local -s "$STORE" --cache < <(jq -c 'del(.asset, .image)' "$T/1") >"$T/again"
	assert_equal "$(jq -r .image.cached "$T/again")" true
	assert_equal "$(jq -r .image.data "$T/again" | base64 -d | sha256sum | cut -c1-64)" "$(jq -r .asset.sha256 "$T/1")"
	# A reference path that climbs out of the store is no object of it.
	jq -c '.request.references[0].path = "s3://imgp/games/../other/x.png" | del(.asset, .image)' "$T/1" |
		imgp-gen --api local -s "$STORE" >"$T/bad" || true
	assert_regex "$(jq -r .error.message "$T/bad")" 'not an object of the store'
}

# feed PIPELINE: the records of one of the 4 pipelines of the test below.
# Sessions shared-0 (pipelines 0 and 1) and shared-1 (2 and 3) are written
# in blocks of 10 turns, the two pipelines taking turns; before its block a
# pipeline waits until the other's last turn is in the bucket, as a game
# server takes a session's next turn only once the last one is answered.
# Each pipeline also has its own session.  100 records a pipeline.
feed() {
	local p=$1 shared="shared-$(($1 / 2))" b t tries
	for b in $(seq 0 9); do
		if [ $((b % 2)) -eq $((p % 2)) ]; then
			if [ "$b" -gt 0 ]; then
				t=$((b * 10 - 1))
				for tries in $(seq 3000); do
					imgp-store -s "$STORE" --export "$shared" 2>/dev/null |
						jq .turn | grep -qx "$t" && break
					sleep 0.1
				done
			fi
			for t in $(seq $((b * 10)) $((b * 10 + 9))); do
				printf '{"session":"%s","turn":%d,"image_prompt":"scene %s %d"}\n' \
					"$shared" "$t" "$shared" "$t"
			done
		fi
		for t in $(seq $((b * 5)) $((b * 5 + 4))); do
			printf '{"session":"own-%d","turn":%d,"image_prompt":"scene own-%d %d"}\n' \
				"$p" "$t" "$p" "$t"
		done
	done
}

@test "s3 store: 4 pipelines on one bucket, 400 records, sessions shared: none lost or doubled, history and previous frames resolved, --check clean" {
	local p pids=()
	for p in 0 1 2 3; do
		mkdir "$T/machine-$p"
		(cd "$T/machine-$p" && feed "$p" |
			imgp-enrich -s "$STORE" --reference previous -p "$ROOT/tests/fixtures/profile.json" |
			imgp-gen --api local -s "$STORE" | imgp-store -s "$STORE" >out.ndjson 2>err) &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p"
	done
	cat "$T"/machine-*/out.ndjson >"$T/all"
	assert_equal "$(wc -l <"$T/all")" 400
	assert_equal "$(jq -s 'map(select(.asset and (.error | not))) | length' "$T/all")" 400
	assert_equal "$(jq -r '[.session, .turn] | @tsv' "$T/all" | sort -u | wc -l)" 400
	# Every turn after the first has the previous turn as its previous
	# frame (pending, from this run, or stored in the bucket) and in its
	# history.
	assert_equal "$(jq -s --arg store "$STORE" '
		(map({key: "\(.session) \(.turn)", value: .asset.path}) | from_entries) as $path |
		map(select(.turn > 0) | (.turn - 1) as $p | .session as $s |
			select(([.request.references[] | select(.role == "previous" and
				(.turn == $p or .path == "\($store)/\($path["\($s) \($p)"])"))] | length) != 1 or
			(.request.prompt | contains("T\($p):scene \($s) \($p)") | not))) | length' "$T/all")" 0
	# One journal line per record, in the journal of its session.
	for p in shared-0:99 shared-1:99 own-0:49 own-1:49 own-2:49 own-3:49; do
		run imgp-store -s "$STORE" --export "${p%:*}"
		assert_success
		assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r .turn | tr '\n' ' ')" \
			"$(seq 0 "${p#*:}" | tr '\n' ' ')"
	done
	assert_equal "$(keys sessions/ | wc -l)" 400
	run imgp-store -s "$STORE" --check
	assert_success
	assert_output --partial ": 400 objects, 400 journal lines in 6 sessions, 0 temporary files removed, 0 problems"
}

@test "s3 store: --session-budget is exit 2 (no spend ledger on S3 yet), never the costs the bucket's journal lines say" {
	local turn
	for turn in 0 1 2; do
		printf '{"turn":%d,"cost":%s}' "$turn" "$([ "$turn" = 1 ] && echo null || echo 0.03)" >"$T/line"
		s3_curl -f -T "$T/line" "$S3_URL/imgp/games/sessions/s/$(printf '%016d' $((9007199254740991 - turn)))-$(printf '%020d' "$turn")-00000000000000a$turn.json"
	done
	printf '%s\n' '{"session":"s","turn":3,"request":{"prompt":"a"}}' >"$T/in"
	mock_start
	IMGP_API_KEY=sk-test-0123456789abcdef run --separate-stderr imgp-gen \
		--base-url "$MOCK_URL" -j 1 --session-budget 0.05 -s "$STORE" "$T/in"
	assert_failure 2
	assert_equal "$stderr" "imgp-gen: --session-budget: an s3:// store keeps no spend ledger yet; use a store directory"
	assert_equal "$(wc -l <"$MOCK_LOG")" 0
	# Without it the records go through, with no warning.
	IMGP_API_KEY=sk-test-0123456789abcdef run --separate-stderr imgp-gen \
		--base-url "$MOCK_URL" -s "$STORE" "$T/in"
	assert_success
	assert_equal "$(line_jq 1 .image.mime)" image/png
	assert_equal "$stderr" ""
}

@test "s3 store: imgp-sheet draws a session from the bucket's journal" {
	images png 64 48 -n 3 >"$T/rec"
	imgp-store -s "$STORE" "$T/rec" >"$T/out"
	run --separate-stderr imgp-sheet -s "$STORE" -b https://cdn.example/ s
	assert_success
	local path
	for path in $(jq -r .asset.path "$T/out"); do
		assert_output --partial "https://cdn.example/$path"
	done
}
