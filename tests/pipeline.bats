#!/usr/bin/env bats
# The four stages together, as a user meets them: the example stream end
# to end, a stage failing in the middle, recovery by re-running the error
# lines, the demo, the Node.js game-server example, and imgp(7)'s EXAMPLES.

load helper

setup() {
	STORE="$BATS_TEST_TMPDIR/store"
	cd "$ROOT"
}

teardown() {
	mock_stop
	[ -z "${SERVER_PID:-}" ] || kill "$SERVER_PID" 2>/dev/null || true
}

# The turns of an output stream, in order, as one line.
turns() {
	jq -r '.turn' "$1" | tr '\n' ' '
}

@test "the example stream end to end, offline: every turn stored, in order, with a URL" {
	imgp-enrich -p examples/lighthouse.json -s "$STORE" examples/judge.ndjson |
		imgp-gen --api local -j 4 -s "$STORE" |
		imgp-store -s "$STORE" |
		imgp-url --base https://img.example/assets/ >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(turns "$BATS_TEST_TMPDIR/out")" "0 1 2 3 4 5 6 7 8 9 "
	assert_equal "$(jq -r 'select(.url and .asset and .request and (.image.data | not)) | .turn' "$BATS_TEST_TMPDIR/out" | wc -l)" 10
	assert_equal "$(jq -r .asset.sha256 "$BATS_TEST_TMPDIR/out" | sort -u | wc -l)" 10
	run imgp-store -s "$STORE" --check
	assert_success
	assert_equal "$(wc -l <"$STORE/sessions/lantern-coast-1.ndjson")" 10
	# the judge's own members went through all four stages untouched
	assert_equal "$(jq -c .judge "$BATS_TEST_TMPDIR/out" | head -n 1)" '{"model":"judge-1","score":0.82}'
	grep -q '"turn_id":12345678901234567890' "$BATS_TEST_TMPDIR/out"
}

@test "a provider failing in the middle: every line once, in order; re-running the error lines completes the set" {
	mock_start
	# turns 2 and 5 fail twice (one try and one retry), then succeed
	jq -c 'if .turn == 2 or .turn == 5 then .image_prompt += " [mock status=500 times=2]" else . end' \
		examples/judge.ndjson >"$BATS_TEST_TMPDIR/judge"
	run bash -c "imgp-enrich -p examples/lighthouse.json -s '$STORE' '$BATS_TEST_TMPDIR/judge' |
		IMGP_API_KEY=k imgp-gen --base-url '$MOCK_URL' --retries 1 --retry-delay 0.01 -j 8 -s '$STORE' |
		imgp-store -s '$STORE' | imgp-url >'$BATS_TEST_TMPDIR/first'"
	assert_equal "$(turns "$BATS_TEST_TMPDIR/first")" "0 1 2 3 4 5 6 7 8 9 "
	assert_equal "$(jq -r 'select(.error) | "\(.turn):\(.error.stage):\(.error.code)"' "$BATS_TEST_TMPDIR/first" | tr '\n' ' ')" \
		"2:gen:http_status 5:gen:http_status "
	jq -c 'select(.error.stage == "gen") | del(.error)' "$BATS_TEST_TMPDIR/first" |
		IMGP_API_KEY=k imgp-gen --base-url "$MOCK_URL" --retries 1 --retry-delay 0.01 -s "$STORE" |
		imgp-store -s "$STORE" | imgp-url >"$BATS_TEST_TMPDIR/second"
	assert_equal "$(jq -r 'select(.url) | .turn' "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/second" | sort -n | tr '\n' ' ')" \
		"0 1 2 3 4 5 6 7 8 9 "
}

@test "a store failing in the middle keeps the images; re-running imgp-store on the error lines completes the set" {
	touch "$BATS_TEST_TMPDIR/not-a-dir"
	imgp-enrich -p examples/lighthouse.json examples/judge.ndjson |
		imgp-gen --api local |
		imgp-store -s "$BATS_TEST_TMPDIR/not-a-dir/store" |
		imgp-url >"$BATS_TEST_TMPDIR/first" || true
	assert_equal "$(turns "$BATS_TEST_TMPDIR/first")" "0 1 2 3 4 5 6 7 8 9 "
	assert_equal "$(jq -r 'select(.error.stage == "store" and .error.code == "io" and (.image.data | length) > 0) | .turn' "$BATS_TEST_TMPDIR/first" | wc -l)" 10
	jq -c 'select(.error.stage == "store") | del(.error)' "$BATS_TEST_TMPDIR/first" |
		imgp-store -s "$STORE" | imgp-url >"$BATS_TEST_TMPDIR/second"
	assert_equal "$(turns "$BATS_TEST_TMPDIR/second")" "0 1 2 3 4 5 6 7 8 9 "
	assert_equal "$(jq -r 'select(.url) | .turn' "$BATS_TEST_TMPDIR/second" | wc -l)" 10
}

# `make reliability` raises IMGP_PIPELINE_ROUNDS (rounds of the example
# stream per pipeline).
@test "stress: 4 pipelines sharing one store, one session: every turn stored once, in order, --check clean" {
	local p rounds=${IMGP_PIPELINE_ROUNDS:-2} t=$BATS_TEST_TMPDIR
	for p in 1 2 3 4; do
		# one session, turns apart: pipeline p owns turns p000…
		jq -c --argjson p "$p" --argjson r "$rounds" \
			'. as $x | range($r) as $i | $x | .session = "shared" | .turn = $p * 1000 + $i * 10 + .turn' \
			examples/judge.ndjson >"$t/in$p"
	done
	for p in 1 2 3 4; do
		imgp-enrich -p examples/lighthouse.json -s "$STORE" --reference previous "$t/in$p" |
			imgp-gen --api local -j 4 -s "$STORE" |
			imgp-store -s "$STORE" | imgp-url >"$t/out$p" &
	done
	wait
	for p in 1 2 3 4; do
		assert_equal "$(jq -r .turn "$t/out$p")" "$(jq -r .turn "$t/in$p")"
		assert_equal "$(jq -r 'select(.url and .asset and (.error | not)) | .turn' "$t/out$p" | wc -l)" $((rounds * 10))
	done
	assert_equal "$(jq -r .turn "$STORE/sessions/shared.ndjson" | sort -n | uniq | wc -l)" $((4 * rounds * 10))
	assert_equal "$(wc -l <"$STORE/sessions/shared.ndjson")" $((4 * rounds * 10))
	run imgp-store --check -s "$STORE"
	assert_success
}

@test "make demo: ten distinct frames, a contact sheet, and the same images and URLs when run again" {
	run make_imgp demo
	assert_success
	assert_line --partial "contact sheet: file://$ROOT/demo/index.html"
	assert_equal "$(jq -r .url demo/turns.ndjson | wc -l)" 10
	assert_equal "$(jq -r .asset.sha256 demo/turns.ndjson | sort -u | wc -l)" 10
	assert_equal "$(grep -c '<img ' demo/index.html)" 10
	jq -r .url demo/turns.ndjson | sed 's|^file://||' | xargs -d '\n' file -b | grep -c 'PNG image data, 672 x 288' | grep -qx 10
	cp demo/turns.ndjson "$BATS_TEST_TMPDIR/first"
	run make_imgp demo
	assert_success
	assert_equal "$(jq -c '[.url, .asset.sha256]' demo/turns.ndjson)" "$(jq -c '[.url, .asset.sha256]' "$BATS_TEST_TMPDIR/first")"
}

@test "make demo-live without a key: the reason once, exit non-zero, the earlier demo kept" {
	[ -s demo/turns.ndjson ] || make -s demo >/dev/null
	cp demo/turns.ndjson "$BATS_TEST_TMPDIR/before"
	run --separate-stderr make -s demo-live
	assert_failure
	assert_equal "$(grep -c 'no API key' <<<"$stderr")" 1
	cmp demo/turns.ndjson "$BATS_TEST_TMPDIR/before"
	assert_dir_exists demo/store
}

@test "the Node.js game-server example: POST /turn answers the URL; refused and bad turns are 4xx" {
	command -v node >/dev/null || fail "node is not installed (scripts/install-deps)"
	mkdir "$BATS_TEST_TMPDIR/modules"
	ln -s "$ROOT/bindings/node" "$BATS_TEST_TMPDIR/modules/imgp"
	NODE_PATH="$BATS_TEST_TMPDIR/modules" PORT=0 IMGP_BIN="$ROOT/bin" IMGP_STORE="$STORE" \
		IMGP_API=local IMGP_PROFILE="$ROOT/examples/lighthouse.json" \
		node examples/node/server.js >"$BATS_TEST_TMPDIR/server.out" 2>"$BATS_TEST_TMPDIR/server.err" &
	SERVER_PID=$!
	for _ in $(seq 1 1500); do
		grep -q '^listening' "$BATS_TEST_TMPDIR/server.out" || ! kill -0 "$SERVER_PID" 2>/dev/null && break
		sleep 0.02
	done
	url=$(sed -n 's/^listening on //p' "$BATS_TEST_TMPDIR/server.out")
	[ -n "$url" ] || fail "the server did not start: $(cat "$BATS_TEST_TMPDIR/server.err")"
	post() {
		run curl -s -w '\n%{http_code}' --data-binary "$1" "$url/turn"
	}
	post '{"session":"node-s","turn":0,"image_prompt":"A harbor at dawn","judge":{"score":1}}'
	assert_equal "${lines[1]}" 200
	assert_regex "$(jq -r .url <<<"${lines[0]}")" '^/assets/[0-9a-f]{2}/[0-9a-f]{64}\.png$'
	assert_file_exists "$STORE/$(jq -r .url <<<"${lines[0]}" | sed 's|^/assets/||')"
	post '{"session":"node-s","turn":1,"image_prompt":"The harbor at dusk"}'
	assert_equal "${lines[1]}" 200
	assert_equal "$(jq -r .turn <<<"${lines[0]}")" 1
	post '{"session":"../bad","turn":0,"image_prompt":"x"}'
	assert_equal "${lines[1]}" 422
	assert_equal "$(jq -r '.error | "\(.stage) \(.code)"' <<<"${lines[0]}")" "enrich invalid_field"
	post 'not json'
	assert_equal "${lines[1]}" 400
	assert_equal "$(wc -l <"$STORE/sessions/node-s.ndjson")" 2
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID"
	SERVER_PID=
}

@test "the EXAMPLES of imgp(7) run as printed" {
	cd "$BATS_TEST_TMPDIR"
	ln -s "$ROOT/examples" examples
	run bash -c "set -e -o pipefail; $(man_examples imgp.7)"
	assert_success
	assert_equal "$(wc -l <turns.ndjson)" 10
	assert_equal "$(jq -r .url turns.ndjson | grep -c '^https://cdn\.example\.com/assets/[0-9a-f]\{2\}/')" 10
	assert_line --regexp '^/assets/.*\?md5=[A-Za-z0-9_-]{22}&expires=[0-9]+$'
	assert_line --regexp '^ *10 ok$'
	assert_equal "$(jq -r 'select(.error.stage == "store") | .turn' failed.ndjson | wc -l)" 10
	# the nginx-signed link, then the ten stored again
	assert_equal "$(printf '%s\n' "${lines[@]}" | grep -c '^/assets/[0-9a-f/]*\.png$')" 10
}

@test "imgp(7) EXAMPLES: a stored session exported and rendered again into a new store" {
	cd "$BATS_TEST_TMPDIR"
	ln -s "$ROOT/examples" examples
	run bash -c "set -e -o pipefail; $(man_examples imgp.7)"
	assert_success
	# Each turn's latest line: the same prompts and seeds through the same
	# renderer make the same pictures.
	local latest='group_by(.turn) | map(last | [.turn, .sha256, .prompt, .seed])'
	assert_equal "$(jq -sc "$latest" new-store/sessions/lantern-coast-1.ndjson)" \
	    "$(jq -sc "$latest" store/sessions/lantern-coast-1.ndjson)"
	assert_equal "$(jq -r .turn again.ndjson other.ndjson | tr '\n' ' ')" \
	    "$(seq 0 9 | tr '\n' ' ')$(seq 0 9 | tr '\n' ' ')"
	assert_equal "$(python3 "$ROOT/tests/images.py" text "new-store/$(jq -r .asset.path again.ndjson | head -n1)" | head -n2)" \
	    $'iTXt imgp:session=lantern-coast-1\niTXt imgp:turn=0'
}

@test "the demo stream exported and rendered again: the same prompts (directives on new_state) and the same images" {
	local how
	imgp-enrich -p examples/lighthouse.json -s "$STORE" --reference previous examples/judge.ndjson |
		imgp-gen --api local -j 4 -s "$STORE" | imgp-store -s "$STORE" >"$BATS_TEST_TMPDIR/first"
	# as exported (the journal's prompts), and enriched anew from the
	# judge's own members
	for how in . 'del(.request)'; do
		rm -rf "$BATS_TEST_TMPDIR/new"
		imgp-store -s "$STORE" --export lantern-coast-1 | jq -c "$how" |
			imgp-enrich -p examples/lighthouse.json -s "$BATS_TEST_TMPDIR/new" --reference previous |
			imgp-gen --api local -j 4 -s "$BATS_TEST_TMPDIR/new" | imgp-store -s "$BATS_TEST_TMPDIR/new" >"$BATS_TEST_TMPDIR/again"
		assert_equal "$(jq -c '[.turn, .request.prompt, .image.request_key, .asset.sha256]' "$BATS_TEST_TMPDIR/again")" \
			"$(jq -c '[.turn, .request.prompt, .image.request_key, .asset.sha256]' "$BATS_TEST_TMPDIR/first")"
	done
	assert_equal "$(jq -r 'select(.request.prompt | test("Axis: carnival")) | .turn' "$BATS_TEST_TMPDIR/again" | wc -l)" 2
}
