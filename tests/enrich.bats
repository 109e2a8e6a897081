#!/usr/bin/env bats
# imgp-enrich: prompt assembly (design.md §3), seeds, references, options,
# field errors.  Expected prompts are written out from the spec, by hand.

load helper

setup() {
	PROFILE="$ROOT/tests/fixtures/profile.json"
	STORE="$BATS_TEST_TMPDIR/store"
	mkdir -p "$STORE/sessions"
}

# journal_line SESSION TURN PROMPT [SHA] — append a journal entry by hand.
journal_line() {
	local sha=${4:-$(printf '%s' "$3" | sha256sum | cut -c1-64)}
	jq -cn --argjson t "$2" --arg p "$3" --arg s "$sha" \
		'{turn:$t, sha256:$s, path:($s[0:2]+"/"+$s+".png"), bytes:1, mime:"image/png", image_prompt:$p, prompt:$p, model:"m", fallback:null, stored_at:"2026-01-01T00:00:00Z"}' \
		>>"$STORE/sessions/$1.ndjson"
}

enrich() {
	run_with "$1" imgp-enrich -s "$STORE" "${@:2}"
}

prompt_of() {
	printf '%s\n' "$output" | jq -r '.request.prompt'
}

@test "no profile: default texts and no lists" {
	enrich '{"session":"s","turn":0,"image_prompt":"A harbor at dawn"}'
	assert_success
	assert_equal "$(prompt_of)" "A harbor at dawn Keep continuity with the previous scene. Evolution trail: no prior turns; establish stable baseline motifs only."
}

@test "all parts in order with a profile, list limits and empty items dropped" {
	enrich '{"session":"s","turn":0,"image_prompt":"  A   harbor\tat dawn  "}' -p "$PROFILE"
	assert_success
	assert_equal "$(prompt_of)" "A harbor at dawn Anchors: old lighthouse on the left, red-sailed boats, grey cliffs. Style: ink wash, muted teal palette. Keep continuity with the previous scene. Evolution trail: no prior turns; establish stable baseline motifs only. Continuity: keep the lighthouse left of centre, same boats every frame. Keep it grounded. Avoid: text, logos."
}

@test "directive: numeric axis rule" {
	enrich '{"session":"s","turn":0,"image_prompt":"p","new_state":{"absurdity_index":0.8,"dominant_direction":"carnival"}}' -p "$PROFILE"
	assert_success
	assert_regex "$(prompt_of)" "same boats every frame\. Push the scene toward the absurd\. Avoid:"
}

@test "directive: regex on a string, case-insensitive, padded" {
	enrich '{"session":"s","turn":0,"image_prompt":"p","new_state":{"absurdity_index":0.5,"dominant_direction":"  CARNIVAL "}}' -p "$PROFILE"
	assert_regex "$(prompt_of)" "frame\. Carnival lights everywhere\. Avoid:"
}

@test "directive: a when on the wrong type is false, not an error" {
	enrich '{"session":"s","turn":0,"image_prompt":"p","new_state":{"absurdity_index":"0.9","dominant_direction":7,"boom":1}}' -p "$PROFILE"
	assert_success
	assert_regex "$(prompt_of)" "frame\. Keep it grounded\. Avoid:"
}

@test "directive: a when that does not compile is exit 2 naming the directive" {
	echo '{"directives":[{"text":"a"},{"when":".a ==","text":"b"}]}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_failure 2
	assert_output ""
	assert_regex "$stderr" "^imgp-enrich: .*p\.json: directives\[1\]\.when does not compile"
}

@test "directive: env, \$ENV, input and import are not available" {
	for when in 'env.HOME' '$ENV.HOME' 'input' '[inputs]'; do
		jq -n --arg w "$when" '{directives:[{when:$w,text:"LEAK"},{text:"safe"}]}' >"$BATS_TEST_TMPDIR/p.json"
		HOME=/x enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
		assert_success
		assert_regex "$(prompt_of)" "safe$"
	done
	echo '{"directives":[{"when":"import \"x\" as x; .","text":"LEAK"}]}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_failure 2
}

@test "directive: halt, halt_error and error(null) are false; stderr and debug print nothing" {
	for when in 'halt_error' '"x" | halt_error(1)' 'halt' 'error(null)'; do
		jq -n --arg w "$when" '{directives:[{when:$w,text:"HIT"},{text:"miss"}]}' >"$BATS_TEST_TMPDIR/p.json"
		enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
		assert_success
		assert_regex "$(prompt_of)" "miss$"
		assert_equal "$stderr" ""
	done
	for when in 'stderr' 'debug' '"shout" | stderr | true'; do
		jq -n --arg w "$when" '{directives:[{when:$w,text:"HIT"},{text:"miss"}]}' >"$BATS_TEST_TMPDIR/p.json"
		enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
		assert_success
		assert_regex "$(prompt_of)" "HIT$"
		assert_equal "$stderr" ""
	done
}

# The hostile `when`s of issue 13 item 11, one per turn 1-4, then one for
# turns from 5 and a default; `limits` as given (JSON).
hostile_profile() {
	jq -n --argjson limits "${1:-"{}"}" '{limits:$limits, directives:[
		{when:".turn == 1 and (def f: f; f)", text:"LOOP"},
		{when:".turn == 2 and (last(range(1e18)) > 0)", text:"LAST"},
		{when:".turn == 3 and ([range(1e8)] | length > 0)", text:"ARRAY"},
		{when:".turn == 4 and ((def f: 1+f; f) > 0)", text:"RECURSE"},
		{when:".turn >= 5", text:"LATE"},
		{text:"default"}]}' >"$BATS_TEST_TMPDIR/p.json"
}

turns() {
	local t
	for t in "$@"; do
		printf '{"session":"s","turn":%d,"image_prompt":"p"}\n' "$t"
	done
}

@test "13.11 profiles without limits: each hostile when is false with one warning; the records after it still evaluated" {
	hostile_profile
	enrich "$(turns 0 1 2 3 4 5 6)" -p "$BATS_TEST_TMPDIR/p.json"
	assert_success
	assert_equal "$(prompt_of | grep -o '[a-zA-Z]*$' | paste -sd' ')" "default default default default default LATE LATE"
	assert_equal "$(grep -c . <<<"$stderr")" 4
	local i
	for i in 0 1 2 3; do
		assert_regex "$(sed -n "$((i + 1))p" <<<"$stderr")" \
			"^imgp-enrich: -:$((i + 2)): directives\[$i\]\.when ran past limits\.when_m[sb] \([0-9]+ (ms|MiB)\): counted as false$"
	done
	assert_regex "$(sed -n 1p <<<"$stderr")" 'when_ms \(200 ms\)'
}

@test "13.11 profiles without limits: memory past limits.when_mb, with time to spare" {
	# ASan's allocator maps its heap inside address space reserved at
	# start, so RLIMIT_AS cannot bound it: the plain build is measured.
	[[ $(readlink "$ROOT/bin") != *sanitize* ]] ||
		skip "bin/ is the ASan build: RLIMIT_AS does not bound its heap"
	hostile_profile '{"when_ms":100000,"when_mb":16}'
	enrich "$(turns 3 4 5)" -p "$BATS_TEST_TMPDIR/p.json"
	assert_success
	assert_equal "$(prompt_of | grep -o '[a-zA-Z]*$' | paste -sd' ')" "default default LATE"
	assert_equal "$stderr" "imgp-enrich: -:1: directives[2].when ran past limits.when_mb (16 MiB): counted as false
imgp-enrich: -:2: directives[3].when ran past limits.when_mb (16 MiB): counted as false"
}

@test "13.11 profiles without limits: a later when of the record still runs; limits of 0 are refused" {
	jq -n '{directives:[{when:"def f: f; f", text:"LOOP"}, {when:".turn == 1", text:"ONE"}, {text:"default"}],
		limits:{when_ms:50}}' >"$BATS_TEST_TMPDIR/p.json"
	enrich "$(turns 1 2)" -p "$BATS_TEST_TMPDIR/p.json"
	assert_success
	assert_equal "$(prompt_of | grep -o '[a-zA-Z]*$' | paste -sd' ')" "ONE default"
	assert_equal "$(grep -c 'directives\[0\]\.when ran past limits\.when_ms (50 ms)' <<<"$stderr")" 2
	for l in when_ms when_mb; do
		jq -n --arg l "$l" '{limits:{($l):0}}' >"$BATS_TEST_TMPDIR/p.json"
		enrich "$(turns 1)" -p "$BATS_TEST_TMPDIR/p.json"
		assert_failure 2
		assert_regex "$stderr" "limits\.$l: not a whole number from 1 to 100000"
	done
}

@test "directive: the first output decides, later outputs are not looked at" {
	jq -n '{directives:[{when:"false, true",text:"HIT"},{when:"null, error(\"x\")",text:"HIT2"},{when:"1, false",text:"first"}]}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_regex "$(prompt_of)" "first$"
}

@test "directives see the whole record, members of other stages included" {
	jq -n '{directives:[{when:".judge.score > 0.5 and (.tags | index(\"night\"))",text:"night"},{text:"day"}]}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":0,"image_prompt":"p","judge":{"score":0.9},"tags":["x","night"]}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_regex "$(prompt_of)" "night$"
}

@test "compact: Unicode white space, NBSP, ideographic space, BOM" {
	enrich '{"session":"s","turn":0,"image_prompt":"\u00a0a\u2003b\u3000\u3000c\ufeffd\u2028e\u205ff\u1680g\u202fh\u000bi "}'
	assert_regex "$(prompt_of)" "^a b c d e f g h i Keep"
}

@test "compact: not other characters (ZWSP, NEL are kept)" {
	enrich '{"session":"s","turn":0,"image_prompt":"a\u200bb\u0085c"}'
	assert_regex "$(prompt_of)" $'^a\u200bb\u0085c Keep'
}

@test "compact: cuts at 460 characters, not bytes, never inside a character" {
	local cyr
	cyr=$(printf 'я%.0s' $(seq 470))
	enrich "{\"session\":\"s\",\"turn\":0,\"image_prompt\":\"$cyr\"}"
	local first=${cyr:0:460}
	assert_equal "$(prompt_of | cut -d' ' -f1)" "$first"
	prompt_of | iconv -f UTF-8 -t UTF-8 >/dev/null
}

@test "compact: emoji and CJK count as one character each" {
	local p
	p=$(printf '🙂%.0s' $(seq 300))$(printf '漢%.0s' $(seq 300))
	enrich "{\"session\":\"s\",\"turn\":0,\"image_prompt\":\"$p\"}"
	assert_equal "$(prompt_of | cut -d' ' -f1)" "$(printf '🙂%.0s' $(seq 300))$(printf '漢%.0s' $(seq 160))"
}

@test "compact: the cut happens after trimming, so it may end in a space" {
	jq -n '{limits:{prompt_chars:4}}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":0,"image_prompt":"  abc   def"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_regex "$(prompt_of)" "^abc  Keep continuity"
}

@test "list: each item cut to 80 characters, the joined list to 180" {
	local a b
	a=$(printf 'a%.0s' $(seq 100))
	b=$(printf 'b%.0s' $(seq 100))
	jq -n --arg a "$a" --arg b "$b" '{anchors:[$a,$b,"c"]}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_regex "$(prompt_of)" "^p Anchors: ${a:0:80}, ${b:0:80}, c\. Keep"
	a=$(printf 'x%.0s' $(seq 80))
	jq -n --arg a "$a" '{anchors:[$a,$a,$a]}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_regex "$(prompt_of)" "^p Anchors: $a, $a, ${a:0:16}\. Keep"
}

@test "list: a list of only empty items leaves its part out" {
	jq -n '{style:["  ","\u00a0"], anchors:[]}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_regex "$(prompt_of)" "^p Keep continuity"
}

@test "previous_hint in the record, no journal" {
	enrich '{"session":"s","turn":3,"image_prompt":"p","previous_hint":"  same   low angle "}'
	assert_regex "$(prompt_of)" "^p Match previous frame: same low angle\. Evolution trail: no prior"
}

@test "previous_hint in the record wins over the journal and the profile" {
	journal_line s 1 "earlier"
	jq -n '{previous_hint:"profile hint"}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":3,"image_prompt":"p","previous_hint":"record hint"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_regex "$(prompt_of)" "Match previous frame: record hint\."
}

@test "journal frame: the profile's hint, else the default hint" {
	journal_line s 1 "earlier"
	jq -n '{previous_hint:"keep the\tcamera"}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":3,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_regex "$(prompt_of)" "Match previous frame: keep the camera\."
	enrich '{"session":"s","turn":3,"image_prompt":"p"}'
	assert_regex "$(prompt_of)" "Match previous frame: same framing and camera family as previous frame\."
}

@test "a frame of a later turn or another session is not a previous frame" {
	journal_line s 5 "later"
	journal_line other 1 "other session"
	jq -n '{no_previous:"Fresh start."}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":3,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_regex "$(prompt_of)" "^p Fresh start\. Evolution trail: no prior turns"
}

@test "hint cut to 120 characters" {
	local h
	h=$(printf 'h%.0s' $(seq 130))
	enrich "{\"session\":\"s\",\"turn\":1,\"image_prompt\":\"p\",\"previous_hint\":\"$h\"}"
	assert_regex "$(prompt_of)" "Match previous frame: ${h:0:120}\. Evolution"
}

@test "history as a string and as an array, compacted to 260" {
	enrich '{"session":"s","turn":1,"image_prompt":"p","history":" the  storm "}'
	assert_regex "$(prompt_of)" "Evolution trail: the storm\. Treat this as cumulative context and preserve visible motif layering from earlier turns\.$"
	enrich '{"session":"s","turn":1,"image_prompt":"p","history":["one","two  ","three"]}'
	assert_regex "$(prompt_of)" "Evolution trail: one \| two \| three\. Treat"
	local h
	h=$(printf 'q%.0s' $(seq 300))
	enrich "{\"session\":\"s\",\"turn\":1,\"image_prompt\":\"p\",\"history\":[\"$h\"]}"
	assert_regex "$(prompt_of)" "Evolution trail: ${h:0:260}\. Treat"
}

@test "history that is empty after compaction counts as none" {
	enrich '{"session":"s","turn":1,"image_prompt":"p","history":["",""]}'
	assert_success
	assert_regex "$(prompt_of)" "^p Keep continuity with the previous scene\. Evolution trail: \|\. Treat"
	enrich '{"session":"s","turn":1,"image_prompt":"p","history":" \u00a0 "}'
	assert_regex "$(prompt_of)" "Evolution trail: no prior turns; establish stable baseline motifs only\.$"
}

@test "history from the journal: last 6 turns before this one, latest line per turn" {
	for t in 0 1 2 3 4 5 6 7 9; do journal_line s "$t" "turn $t prompt"; done
	journal_line s 2 "turn 2 regenerated"
	enrich '{"session":"s","turn":8,"image_prompt":"p"}'
	assert_regex "$(prompt_of)" "Evolution trail: T2:turn 2 regenerated \| T3:turn 3 prompt \| T4:turn 4 prompt \| T5:turn 5 prompt \| T6:turn 6 prompt \| T7:turn 7 prompt\. Treat"
}

@test "history from the journal: each prompt compacted to 64" {
	local long
	long=$(printf 'w%.0s' $(seq 70))
	journal_line s 0 "  $long  "
	enrich '{"session":"s","turn":1,"image_prompt":"p"}'
	assert_regex "$(prompt_of)" "Evolution trail: T0:${long:0:64}\. Treat"
}

@test "the record's history wins over the journal" {
	journal_line s 0 "journal"
	enrich '{"session":"s","turn":1,"image_prompt":"p","history":"mine"}'
	assert_regex "$(prompt_of)" "Match previous frame: .* Evolution trail: mine\. Treat"
}

@test "malformed journal lines are skipped" {
	echo 'not json' >>"$STORE/sessions/s.ndjson"
	echo '{"turn":"x"}' >>"$STORE/sessions/s.ndjson"
	journal_line s 0 "good"
	enrich '{"session":"s","turn":1,"image_prompt":"p"}'
	assert_success
	assert_regex "$(prompt_of)" "Evolution trail: T0:good\."
}

@test "an unreadable journal is an io error record, exit 1" {
	[ "$(id -u)" -ne 0 ] || skip "root reads everything"
	journal_line s 0 "x"
	chmod 000 "$STORE/sessions/s.ndjson"
	enrich '{"session":"s","turn":1,"image_prompt":"p"}'
	assert_failure 1
	assert_equal "$(line_jq 1 .error.code)" io
}

@test "seed: derived from the session (first 4 bytes of SHA-256)" {
	enrich '{"session":"harbor-42","turn":0,"image_prompt":"p"}'
	local expect
	expect=$((16#$(printf '%s' harbor-42 | sha256sum | cut -c1-8)))
	assert_equal "$(line_jq 1 .request.seed)" "$expect"
}

@test "seed: record over --seed over profile over derived" {
	jq -n '{seed:7}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":0,"image_prompt":"p","seed":5}' --seed 6 -p "$BATS_TEST_TMPDIR/p.json"
	assert_equal "$(line_jq 1 .request.seed)" 5
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' --seed 6 -p "$BATS_TEST_TMPDIR/p.json"
	assert_equal "$(line_jq 1 .request.seed)" 6
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_equal "$(line_jq 1 .request.seed)" 7
}

@test "seed: every turn of a session shares it" {
	enrich $'{"session":"s","turn":0,"image_prompt":"a"}\n{"session":"s","turn":5,"image_prompt":"b"}'
	assert_equal "$(line_jq 1 .request.seed)" "$(line_jq 2 .request.seed)"
}

@test "references: profile files relative to the profile, with SHA-256, role style" {
	mkdir -p "$BATS_TEST_TMPDIR/w/sheets"
	printf 'sheet bytes' >"$BATS_TEST_TMPDIR/w/sheets/hero.png"
	jq -n '{references:["sheets/hero.png"]}' >"$BATS_TEST_TMPDIR/w/p.json"
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/w/p.json"
	assert_success
	assert_equal "$(line_jq 1 '.request.references[0].path')" "$BATS_TEST_TMPDIR/w/sheets/hero.png"
	assert_equal "$(line_jq 1 '.request.references[0].sha256')" "$(printf 'sheet bytes' | sha256sum | cut -c1-64)"
	assert_equal "$(line_jq 1 '.request.references[0].role')" style
}

@test "references: a missing reference file is exit 2" {
	jq -n '{references:["nope.png"]}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_failure 2
	assert_regex "$stderr" "references\[0\]: .*nope\.png: No such file"
}

@test "references: --reference previous adds the latest earlier frame" {
	journal_line s 0 "zero" "$(printf 'a%.0s' $(seq 64))"
	journal_line s 1 "one" "$(printf 'b%.0s' $(seq 64))"
	enrich '{"session":"s","turn":2,"image_prompt":"p"}' --reference previous
	assert_equal "$(line_jq 1 '.request.references|length')" 1
	assert_equal "$(line_jq 1 '.request.references[0].role')" previous
	assert_equal "$(line_jq 1 '.request.references[0].sha256')" "$(printf 'b%.0s' $(seq 64))"
	assert_equal "$(line_jq 1 '.request.references[0].path')" "$STORE/bb/$(printf 'b%.0s' $(seq 64)).png"
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' --reference previous
	assert_equal "$(line_jq 1 '.request.references|length')" 0
}

@test "references: reference_previous in the profile" {
	journal_line s 0 "zero"
	jq -n '{reference_previous:true}' >"$BATS_TEST_TMPDIR/p.json"
	enrich '{"session":"s","turn":1,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/p.json"
	assert_equal "$(line_jq 1 '.request.references[0].role')" previous
}

@test "options: command line over profile, record's request over both" {
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$PROFILE" --size 672x288 --quality high --model m/x
	assert_equal "$(line_jq 1 '.request|[.aspect_ratio,.size,.quality,.model]|join(" ")')" "21:9 672x288 high m/x"
	enrich '{"session":"s","turn":0,"image_prompt":"p","request":{"size":"64x64","extra":1.10}}' -p "$PROFILE" --size 672x288
	assert_success
	assert_output --partial '"size":"64x64"'
	assert_output --partial '"extra":1.10'
}

@test "options: bad values are exit 2" {
	for args in "--size 12" "--size 0x5" "--aspect-ratio 16/9" "--seed -1" "--seed 9007199254740992" "--reference next"; do
		enrich '{}' $args
		assert_failure 2
		assert_regex "$stderr" "^imgp-enrich: --"
	done
}

@test "IMGP_PROFILE and IMGP_STORE are defaults under the options" {
	journal_line s 0 "zero"
	IMGP_PROFILE="$PROFILE" IMGP_STORE="$STORE" run_with '{"session":"s","turn":1,"image_prompt":"p"}' imgp-enrich
	assert_regex "$(prompt_of)" "Anchors: .*Match previous frame"
}

@test "world pack of the original game is read as a profile" {
	cat >"$BATS_TEST_TMPDIR/pack.json" <<-'JSON'
	{"id":"w","title":"ignored","prompt":{"persistentAnchors":["moon"],"style":["oil"],"continuityRules":["same moon"],"negativeConstraints":["gore"]},"npcs":[1,2]}
	JSON
	enrich '{"session":"s","turn":0,"image_prompt":"p"}' -p "$BATS_TEST_TMPDIR/pack.json"
	assert_success
	assert_equal "$(prompt_of)" "p Anchors: moon. Style: oil. Keep continuity with the previous scene. Evolution trail: no prior turns; establish stable baseline motifs only. Continuity: same moon. Avoid: gore."
}

@test "profile errors name the member, exit 2 before reading input" {
	echo '{"anchors":[1]}' >"$BATS_TEST_TMPDIR/p.json"
	run imgp-enrich -p "$BATS_TEST_TMPDIR/p.json" /nonexistent
	assert_failure 2
	assert_output --partial "anchors[0]: not a string"
	echo '{"limits":{"anchors_chars":-1}}' >"$BATS_TEST_TMPDIR/p.json"
	run imgp-enrich -p "$BATS_TEST_TMPDIR/p.json"
	assert_failure 2
	assert_output --partial "limits.anchors_chars"
	echo '{' >"$BATS_TEST_TMPDIR/p.json"
	run imgp-enrich -p "$BATS_TEST_TMPDIR/p.json"
	assert_failure 2
	assert_output --partial "not JSON"
	run imgp-enrich -p "$BATS_TEST_TMPDIR/none.json"
	assert_failure 2
}

@test "field errors: missing and invalid session, turn, image_prompt" {
	local input
	input=$(printf '%s\n' \
		'{"turn":0,"image_prompt":"p"}' \
		'{"session":"a/b","turn":0,"image_prompt":"p"}' \
		'{"session":"..","turn":0,"image_prompt":"p"}' \
		'{"session":"s","image_prompt":"p"}' \
		'{"session":"s","turn":-1,"image_prompt":"p"}' \
		'{"session":"s","turn":1.5,"image_prompt":"p"}' \
		'{"session":"s","turn":0}' \
		'{"session":"s","turn":0,"image_prompt":" \u3000 "}' \
		'{"session":"s","turn":0,"image_prompt":"p","history":[1]}' \
		'{"session":"s","turn":0,"image_prompt":"p","request":[]}' \
		'{"session":"s","turn":0,"image_prompt":"ok"}')
	enrich "$input"
	assert_failure 1
	assert_equal "${#lines[@]}" 11
	assert_equal "$(printf '%s\n' "$output" | jq -r '[.error.code, .error.field] | join(":")' | tr '\n' ' ')" \
		"missing_field:session invalid_field:session invalid_field:session missing_field:turn invalid_field:turn invalid_field:turn missing_field:image_prompt invalid_field:image_prompt invalid_field:history invalid_field:request : "
	assert_equal "$(line_jq 1 .error.stage)" enrich
}

@test "pass-through: every other member byte for byte, request appended" {
	local rec='{"session":"s","turn":0,"image_prompt":"p","big":123456789012345678901234567890,"f":1.10,"e":1E+2,"esc":"\u00e9\"\\/\ud83d\ude00","uni":"日本","nested":{"b":1, "a":[1.0,  2]},"k":null,"dup":1,"dup":2}'
	enrich "$rec"
	assert_success
	assert_equal "${output%,\"request\":*}" "${rec%\}}"
}

@test "pass-through: white space between members is kept too" {
	enrich ' { "session" : "s" ,	"turn":0, "image_prompt":"p" } '
	assert_success
	assert_regex "$output" '^\{ "session" : "s" ,	"turn":0, "image_prompt":"p","request":\{.*\} \}$'
}

@test "pass-through: a null request is replaced where it stands" {
	enrich '{"session":"s", "request" : null , "turn":0,"image_prompt":"p"}'
	assert_success
	assert_regex "$output" '^\{"session":"s", "request" : \{"prompt":.*\} , "turn":0,"image_prompt":"p"\}$'
}

@test "pass-through: an existing request member is replaced in place" {
	enrich '{"request":{"seed":1},"session":"s","turn":0,"image_prompt":"p","z":1}'
	assert_regex "$output" '^\{"request":\{"prompt":.*,"seed":1,.*\},"session":"s","turn":0,"image_prompt":"p","z":1\}$'
}

@test "13.9: a journal path that leaves the store is never a reference" {
	local sha path
	sha=$(printf 'c%.0s' $(seq 64))
	for path in ../../private.png /etc/passwd cc/../../x.png .hidden/x.png "cc//x.png" "cc/x.png\u0001"; do
		: >"$STORE/sessions/s.ndjson"
		jq -cn --arg s "$sha" --arg p "$(printf "$path")" '{turn:0, sha256:$s, path:$p, image_prompt:"zero"}' >>"$STORE/sessions/s.ndjson"
		enrich '{"session":"s","turn":1,"image_prompt":"p"}' --reference previous
		assert_success
		assert_equal "$(line_jq 1 '.request.references|length')" 0
		# the line still counts for the history
		assert_regex "$(prompt_of)" "T0:zero"
	done
}

# --- continuity in the stream (imgp(7) CONTINUITY) ---------------------------

# batch SESSION TURN... — one record a turn, "scene <turn>".
batch() {
	local s=$1 t
	shift
	for t in "$@"; do printf '{"session":"%s","turn":%s,"image_prompt":"scene %s"}\n' "$s" "$t" "$t"; done
}

@test "stream: a batch gets the history and the earlier frame of the turns read before it" {
	enrich "$(batch c 0 1 2)"
	assert_success
	assert_regex "$(line_jq 1 .request.prompt)" "^scene 0 Keep continuity with the previous scene\. Evolution trail: no prior turns"
	assert_regex "$(line_jq 2 .request.prompt)" "^scene 1 Match previous frame: same framing and camera family as previous frame\. Evolution trail: T0:scene 0\. Treat"
	assert_regex "$(line_jq 3 .request.prompt)" "Evolution trail: T0:scene 0 \| T1:scene 1\. Treat"
}

@test "stream: a batch builds the same prompts as one record at a time through the journal" {
	local one i
	enrich "$(batch c 0 1 2 3 4 5 6 7)" -p "$PROFILE"
	for i in 0 1 2 3 4 5 6 7; do
		one=$(imgp-enrich -s "$STORE" -p "$PROFILE" <<<"$(batch c "$i")" | jq -r .request.prompt)
		assert_equal "$(line_jq $((i + 1)) .request.prompt)" "$one"
		journal_line c "$i" "scene $i"
	done
}

@test "stream: a turn in the journal and the stream counts once, as the stream's record" {
	journal_line c 0 "stored zero"
	journal_line c 1 "stored one"
	enrich "$(printf '%s\n' '{"session":"c","turn":1,"image_prompt":"again one"}' '{"session":"c","turn":2,"image_prompt":"p"}')"
	assert_regex "$(line_jq 2 .request.prompt)" "Evolution trail: T0:stored zero \| T1:again one\. Treat"
}

@test "stream: sessions are apart; out of order only lower turns count; a repeated turn, the later record" {
	enrich "$(batch a 5; batch b 1; batch a 3; batch a 4; printf '%s\n' '{"session":"a","turn":3,"image_prompt":"three again"}'; batch a 6)"
	assert_regex "$(line_jq 2 .request.prompt)" "Evolution trail: no prior turns"
	assert_regex "$(line_jq 3 .request.prompt)" "Evolution trail: no prior turns"
	assert_regex "$(line_jq 4 .request.prompt)" "Evolution trail: T3:scene 3\. Treat"
	assert_regex "$(line_jq 6 .request.prompt)" "Evolution trail: T3:three again \| T4:scene 4 \| T5:scene 5\. Treat"
}

@test "stream: the history keeps the last 6 turns; error records are not remembered" {
	enrich "$(batch c 0 1 2 3 4 5 6; echo '{"session":"c","turn":7}'; batch c 8)"
	assert_failure 1
	assert_regex "$(line_jq 9 .request.prompt)" "Evolution trail: T1:scene 1 \| T2:scene 2 \| T3:scene 3 \| T4:scene 4 \| T5:scene 5 \| T6:scene 6\. Treat"
}

@test "stream: --reference previous writes a pending reference to an earlier record, a stored frame stays a path" {
	journal_line c 0 "zero" "$(printf 'a%.0s' $(seq 64))"
	enrich "$(batch c 1 2; batch d 4)" --reference previous
	assert_equal "$(line_jq 1 '.request.references|tojson')" "[{\"path\":\"$STORE/aa/$(printf 'a%.0s' $(seq 64)).png\",\"sha256\":\"$(printf 'a%.0s' $(seq 64))\",\"role\":\"previous\"}]"
	assert_equal "$(line_jq 2 '.request.references|tojson')" '[{"role":"previous","turn":1}]'
	assert_equal "$(line_jq 3 '.request.references|tojson')" '[]'
}

@test "stream: 100000 turns of one session in one stream keep the memory bounded" {
	local rss
	seq 0 99999 | awk '{printf "{\"session\":\"long\",\"turn\":%d,\"image_prompt\":\"scene %d with a long tail of words to remember\"}\n", $1, $1}' >"$BATS_TEST_TMPDIR/in"
	# ASan's quarantine would hold every freed block (up to 256 MiB)
	ASAN_OPTIONS=$ASAN_OPTIONS:quarantine_size_mb=1 \
	    /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" imgp-enrich -s "$STORE" "$BATS_TEST_TMPDIR/in" | tail -1 >"$BATS_TEST_TMPDIR/last"
	assert_regex "$(jq -r .request.prompt "$BATS_TEST_TMPDIR/last")" "Evolution trail: T99993:scene 99993 .* T99997:scene"
	rss=$(cat "$BATS_TEST_TMPDIR/rss")
	assert [ "$rss" -lt 40000 ]
}
