#!/usr/bin/env bats
# imgp-sheet: the contact sheet of sessions from a store's journals or from
# records; links as imgp-url makes them; everything escaped; the page as
# a real browser engine (chromium, headless) renders it.

load helper

setup() {
	STORE="$BATS_TEST_TMPDIR/store"
	T="$BATS_TEST_TMPDIR"
}

# A store with the first N turns of the example session, one turn at a
# time with the previous frame as reference, and the records in $T/turns.
pipeline() {
	local n=$1 line
	head -n "$n" "$ROOT/examples/judge.ndjson" | while IFS= read -r line; do
		printf '%s\n' "$line" |
			imgp-enrich -p "$ROOT/examples/lighthouse.json" -s "$STORE" --reference previous |
			imgp-gen --api local -s "$STORE" |
			imgp-store -s "$STORE" --name '{session}/turn-{turn:03}.{ext}' |
			imgp-url --base "file://$STORE/"
	done >"$T/turns"
}

# chromium, headless and offline, on a page: `browse PAGE ARGS…`.
browse() {
	command -v chromium >/dev/null || skip "chromium is not installed (scripts/install-deps)"
	local page=$1
	shift
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
		--disable-background-networking --no-first-run \
		--user-data-dir="$T/chromium" --allow-file-access-from-files \
		"$@" "file://$page" 2>"$T/chromium.log"
}

@test "journals: every session, frames in turn order, the last line of a turn, with prompts, seed, model, fallback and cost" {
	pipeline 3
	images() { python3 "$ROOT/tests/images.py" "$@"; }
	images png 8 8 -n 2 -s other -t 4 | jq -c '.image.usage = {cost: 0.04} | .image.fallback = "relaxed" | .history = ["a <storm>", "b"]' |
		imgp-store -s "$STORE" >/dev/null
	# turn 1 again: the sheet shows its last line
	images png 8 8 -n 1 -s other -t 4 --salt again | imgp-store -s "$STORE" >/dev/null
	run --separate-stderr imgp-sheet -s "$STORE" -b https://cdn.example/assets -T 'A <coast>'
	assert_success
	assert_output --partial '<title>A &lt;coast&gt;</title>'
	assert_equal "$(grep -o '<section><h2>[^<]*' <<<"$output" | tr '\n' ' ')" \
		'<section><h2>lantern-coast-1 <section><h2>other '
	assert_equal "$(grep -o 'id="turn-[0-9]*"' <<<"$output" | tr '\n' ' ')" \
		'id="turn-0" id="turn-1" id="turn-2" id="turn-4" id="turn-5" '
	assert_output --partial '<p class="judge">Dawn over the harbor; Mara stands on the harbor wall'
	assert_output --partial '<p class="prompt">Dawn over the harbor; Mara stands on the harbor wall looking up at the dark lighthouse. Anchors:'
	assert_output --partial '· seed 3401620717 · <span class="model">local</span>'
	assert_output --partial '<span class="fallback">fallback relaxed</span> · cost <span class="cost">0.04</span>'
	assert_output --partial '2 frames · cost 0.04 (1 unpriced)'
	assert_output --partial 'href="https://cdn.example/assets/lantern-coast-1/turn-000.png"'
	# the journal keeps the judge's history and the references' roles: the
	# previous frame is the turn before
	assert_output --partial '<ol class="history"><li>a &lt;storm&gt;</li><li>b</li></ol>'
	grep 'id="turn-2"' <<<"$output" | grep -q '<ul class="refs"><li>previous: <b class="ref">turn 1</b></li></ul>'
	# the last line of turn 4 is the one without cost
	grep 'id="turn-4"' <<<"$output" | grep -v fallback
	# one session only
	run --separate-stderr imgp-sheet -s "$STORE" other
	assert_success
	refute_output --partial lantern-coast-1
}

@test "links are imgp-url's: the same base or template gives the same URL" {
	pipeline 2
	local tmpl='https://img.example/{session}/{turn}/{sha256}.{ext}'
	imgp-url -t "$tmpl" "$T/turns" | jq -r .url >"$T/want"
	imgp-sheet -s "$STORE" -t "$tmpl" | grep -o 'href="[^"]*"' | sed 's/^href="//; s/"$//' >"$T/got"
	assert_equal "$(cat "$T/got")" "$(cat "$T/want")"
	# default base as imgp-url's: $IMGP_PUBLIC_BASE_URL, else /assets/
	IMGP_PUBLIC_BASE_URL=https://x.example/a/ imgp-sheet -s "$STORE" | grep -q 'href="https://x.example/a/lantern-coast-1/turn-000.png"'
	imgp-sheet -s "$STORE" | grep -q 'href="/assets/lantern-coast-1/turn-000.png"'
	run imgp-sheet -s "$STORE" -t '{nope}'
	assert_failure 2
}

@test "records: their url, the reference frame named by its turn, the history used, error records" {
	pipeline 3
	{
		head -n 1 "$T/turns" | jq -c '.history = ["the storm broke", "the lamp went out"]'
		tail -n +2 "$T/turns"
		echo '{"session":"lantern-coast-1","turn":7,"error":{"stage":"gen","code":"refused","message":"the provider refused"}}'
	} >"$T/in"
	run --separate-stderr imgp-sheet -r "$T/in"
	assert_success
	assert_output --partial "href=\"file://$STORE/lantern-coast-1/turn-002.png\""
	assert_output --regexp 'id="turn-2".*<ul class="refs"><li>previous: <b class="ref">turn 1</b></li></ul>'
	assert_output --partial '<ol class="history"><li>the storm broke</li><li>the lamp went out</li></ol>'
	assert_output --partial '<figure id="turn-7" class="err">'
	assert_output --partial 'gen/refused: the provider refused'
	# -b makes the links again, as imgp-url would
	run --separate-stderr imgp-sheet -r -b /static "$T/in"
	assert_output --partial 'href="/static/lantern-coast-1/turn-002.png"'
	# standard input, as the end of a pipeline
	run --separate-stderr bash -c "imgp-sheet -r <'$T/in' | grep -c '<figure'"
	assert_output 4
}

@test "HTML injection in prompts, session names, models and URLs is text, never markup or script" {
	local evil='</p><script>document.title="pwned"</script><img src=x onerror="document.title=&quot;pwned&quot;"><a href="javascript:alert(1)">x</a>'"'"'"'
	jq -nc --arg e "$evil" '{session:"s", turn:0, image_prompt:$e, history:[$e],
		request:{prompt:$e, seed:1, references:[{role:$e, path:$e, sha256:"x"}]},
		image:{model:$e, fallback:$e, usage:{cost:1}}, asset:{path:"a.png", sha256:"x"},
		url:"javascript:document.title=\"pwned\""}' >"$T/in"
	jq -nc --arg e "$evil" '{session:"t", turn:0, error:{stage:$e, code:$e, message:$e}}' >>"$T/in"
	jq -nc '{session:"u", turn:0, url:" JaVaScRiPt:alert(1)"}, {session:"v", turn:0, url:"data:text/html,<script>alert(1)</script>"}' >>"$T/in"
	run --separate-stderr imgp-sheet -r -T "$evil" "$T/in"
	assert_success
	refute_output --partial '<script'
	refute_output --partial '<img src=x'
	refute_output --partial '<a href'
	refute_output --partial 'src="'
	refute_output --partial 'onerror="'
	assert_output --partial '&lt;/p&gt;&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;'
	printf '%s\n' "$output" >"$T/evil.html"
	# in a browser: no element but what the sheet writes, the title intact
	browse "$T/evil.html" --dump-dom >"$T/dom"
	[ -s "$T/dom" ] || fail "chromium wrote no DOM: $(cat "$T/chromium.log")"
	run grep -c '<script' "$T/dom"
	assert_output 0
	run grep -c '<img' "$T/dom"
	assert_output 0
	run grep -o '<title>[^<]*</title>' "$T/dom"
	refute_output --partial 'pwned</title>'
	assert_output --partial '&lt;/p&gt;&lt;script&gt;'
	assert_equal "$(grep -o '<figure' "$T/dom" | wc -l)" 4
	assert_equal "$(grep -o '<a href' "$T/dom" | wc -l)" 0
}

@test "chromium renders the sheet of a store: every frame, its image loaded" {
	pipeline 4
	imgp-sheet -s "$STORE" -b "file://$STORE/" -T 'Lantern coast' >"$T/sheet.html"
	browse "$T/sheet.html" --dump-dom >"$T/dom"
	assert_equal "$(grep -o '<figure' "$T/dom" | wc -l)" 4
	assert_equal "$(grep -o "<img src=\"file://$STORE/lantern-coast-1/turn-00[0-3].png\"" "$T/dom" | wc -l)" 4
	browse "$T/sheet.html" --window-size=1200,900 --screenshot="$T/sheet.png"
	assert_file_exists "$T/sheet.png"
	# a PNG of the window's size (its IHDR), with pictures in it: far
	# bigger than a page of text alone
	assert_equal "$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print(*struct.unpack(">II", d[16:24]))' "$T/sheet.png")" "1200 900"
	imgp-sheet -s "$STORE" -b "file:///nowhere/" >"$T/broken.html"
	browse "$T/broken.html" --window-size=1200,900 --screenshot="$T/broken.png"
	[ "$(stat -c %s "$T/sheet.png")" -gt $(($(stat -c %s "$T/broken.png") * 2)) ] ||
		fail "the images did not load: $(stat -c %s "$T/sheet.png") vs $(stat -c %s "$T/broken.png") bytes"
}

@test "problems: a missing session, a bad line are reported, exit 1, the page still written; usage is exit 2" {
	pipeline 1
	run --separate-stderr imgp-sheet -s "$STORE" lantern-coast-1 nope
	assert_failure 1
	assert_output --partial '<figure id="turn-0">'
	assert_regex "$stderr" "imgp-sheet: nope: .*sessions/nope.ndjson: No such file"
	run --separate-stderr imgp-sheet -s "$STORE" ../x
	assert_failure 1
	run --separate-stderr bash -c "printf 'nope\n' | cat '$T/turns' - | imgp-sheet -r"
	assert_failure 1
	assert_output --partial '<figure id="turn-0">'
	assert_regex "$stderr" "imgp-sheet: -:2: not a JSON object"
	run --separate-stderr imgp-sheet -r -s "$STORE"
	assert_failure 2
	run --separate-stderr imgp-sheet -s "$T/none"
	assert_failure 2
}
