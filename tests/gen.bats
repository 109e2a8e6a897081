#!/usr/bin/env bats
# imgp-gen: providers, the failure ladder, ordered concurrency, secrets
# (design.md §1, §4, §7).  HTTP goes to tests/mock-provider.py; every test
# gives its records their own prompts, since the mock counts per prompt.

load helper
load gen-helper

# --- the local renderer -----------------------------------------------------

@test "local: deterministic PNG from prompt, seed and size; no network" {
	in='{"request":{"prompt":"a quiet harbour","seed":7,"size":"64x32"}}'
	run_with "$in" imgp-gen --api local
	assert_success
	first=$(img .data)
	assert_equal "$(img .provider)" local
	assert_equal "$(img .mime)" image/png
	assert_equal "$(img .fallback)" null
	run_with "$in" imgp-gen --api local
	assert_equal "$(img .data)" "$first"
	printf '%s' "$first" | base64 -d >"$BATS_TEST_TMPDIR/a.png"
	run file "$BATS_TEST_TMPDIR/a.png"
	assert_output --partial "64 x 32"
	run_with '{"request":{"prompt":"a quiet harbour","seed":8,"size":"64x32"}}' imgp-gen --api local
	[ "$(img .data)" != "$first" ]
	assert_equal "$(wc -l <"$MOCK_LOG")" 0
}

# The text chunks of the PNG in image.data of output line 1.
text_chunks() {
	img .data | base64 -d >"$BATS_TEST_TMPDIR/t.png"
	python3 "$ROOT/tests/images.py" text "$BATS_TEST_TMPDIR/t.png"
}

@test "local: the PNG carries its provenance as imgp: iTXt chunks" {
	local key
	run_with '{"session":"s-1","turn":4,"request":{"prompt":"a quiet harbour","seed":7,"size":"8x8"}}' imgp-gen --api local
	assert_success
	key=$(img .request_key)
	run text_chunks
	assert_output "$(printf 'iTXt imgp:%s\n' session=s-1 turn=4 'prompt=a quiet harbour' seed=7 model=local "request_key=$key")"
	# What the record lacks is left out.
	run_with '{"request":{"prompt":"p","size":"8x8"}}' imgp-gen --api local
	key=$(img .request_key)
	run text_chunks
	assert_output "$(printf 'iTXt imgp:%s\n' prompt=p model=local "request_key=$key")"
}

@test "local: default size 672x288, needs no key" {
	unset IMGP_API_KEY
	export IMGP_API=local
	run_with '{"request":{"prompt":"p","seed":1}}' imgp-gen
	assert_success
	printf '%s' "$(img .data)" | base64 -d >"$BATS_TEST_TMPDIR/a.png"
	run file "$BATS_TEST_TMPDIR/a.png"
	assert_output --partial "672 x 288"
}

# --- pass-through -----------------------------------------------------------

@test "error records, bad_json, records with image pass through; members byte-exact" {
	in=$'{"error":{"stage":"enrich","code":"x"},"n":1.10}\nnot json\n{"image":{"data":"AA=="},"big":12345678901234567890}\n\n{"z":1,"request":{"prompt":"p","seed":1},"big":12345678901234567890,"f":1.10,"s":"é\\u00e9"}'
	gen "$in" --api local
	assert_failure 1
	assert_equal "${#lines[@]}" 4
	assert_equal "${lines[0]}" '{"error":{"stage":"enrich","code":"x"},"n":1.10}'
	assert_equal "$(line_jq 2 .error.code)" bad_json
	assert_equal "${lines[2]}" '{"image":{"data":"AA=="},"big":12345678901234567890}'
	assert_regex "${lines[3]}" '^\{"z":1,"request":\{"prompt":"p","seed":1\},"big":12345678901234567890,"f":1.10,"s":"é\\u00e9","image":\{'
}

@test "a record without request or prompt is a field error, the rest go on" {
	gen $'{"a":1}\n{"request":{"seed":1}}\n{"request":{"prompt":"p"}}' --api local
	assert_failure 1
	assert_equal "$(err .code 1)" missing_field
	assert_equal "$(err .field 2)" request.prompt
	assert_equal "$(line_jq 3 .image.provider)" local
}

# --- OpenRouter -------------------------------------------------------------

@test "openrouter: request sent, image decoded, text and usage kept as written" {
	in=$(with_ref '{request:{prompt:"or basic",seed:42,aspect_ratio:"21:9",image_size:"1K",references:[{path:$p,sha256:$s,role:"style"}]}}')
	gen "$in"
	assert_success
	assert_equal "$(img .provider)" openrouter
	assert_equal "$(img .model)" google/gemini-2.5-flash-image
	assert_equal "$(img .text)" "Here is your image."
	assert_equal "$(img .attempts)" "$(img .attempts)"
	assert_equal "$(img '.attempts|length')" 1
	assert_regex "$output" '"usage":\{"prompt_tokens": 10, "completion_tokens": 1290, "total_tokens": 1300, "cost": 0.039\}'
	printf '%s' "$(img .data)" | base64 -d | cmp - <(printf '%s' "$(img .data)" | base64 -d)
	assert_equal "$(img .bytes)" "$(printf '%s' "$(img .data)" | base64 -d | wc -c)"
	run mock_jq '[.path, .headers.authorization, .headers["content-type"], .body.model, .body.modalities, .body.image_config, .body.seed, (.body.messages[0].content|map(.type)), (.body.messages[0].content[1].image_url.url|startswith("data:image/png;base64,"))]'
	assert_output '["/v1/chat/completions","Bearer '"$KEY"'","application/json","google/gemini-2.5-flash-image",["image","text"],{"aspect_ratio":"21:9","image_size":"1K"},42,["text","image_url"],true]'
}

@test "openrouter: the reference data URL carries the file's bytes" {
	in=$(with_ref '{request:{prompt:"or ref bytes",references:[{path:$p,sha256:$s}]}}')
	gen "$in"
	assert_success
	jq -r '.body.messages[0].content[1].image_url.url' "$MOCK_LOG" | sed 's/^data:image\/png;base64,//' | base64 -d | cmp - "$REF"
}

@test "reference: a SHA-256 mismatch or an unreadable file is an error record" {
	printf 'x' >"$REF"
	in=$(jq -cn --arg p "$REF" '{request:{prompt:"p",references:[{path:$p,sha256:"00"}]}},{request:{prompt:"q",references:[{path:($p + ".gone"),sha256:"00"}]}}')
	gen "$in"
	assert_failure 1
	assert_equal "$(err .code 1)" reference
	assert_equal "$(err .code 2)" reference
	assert_regex "$(err .message 1)" "ref.png: its SHA-256 is not the 00 the request says"
	assert_regex "$(err .message 2)" "ref.png.gone: No such file"
	assert_equal "$(wc -l <"$MOCK_LOG")" 0
}

@test "model: request.model wins over --model, which wins over IMGP_MODEL" {
	in=$'{"request":{"prompt":"m1","model":"rec/model"}}\n{"request":{"prompt":"m2"}}'
	gen "$in" --model cli/model
	assert_success
	assert_equal "$(img .model 1)" rec/model
	assert_equal "$(img .model 2)" cli/model
	IMGP_MODEL=env/model gen '{"request":{"prompt":"m3"}}'
	assert_equal "$(img .model)" env/model
}

@test "openrouter: --referer and --title send the attribution headers" {
	gen "$(req attribution)" --referer https://example.org/game --title "The Game"
	assert_success
	run mock_jq '[.headers["http-referer"], .headers["x-title"]]'
	assert_output '["https://example.org/game","The Game"]'
}

@test "modalities: an image-only model's 404 is retried once with the other set" {
	gen "$(req '[mock only-image] flux')"
	assert_success
	assert_equal "$(img .fallback)" null
	assert_equal "$(img '.attempts|map(.status)')" "$(jq -n '[404,200]')"
	run mock_jq '.body.modalities'
	assert_output $'["image","text"]\n["image"]'
}

@test "modalities: --modalities image asks for images only" {
	gen "$(req '[mock only-image] flux2')" --modalities image
	assert_success
	assert_equal "$(img '.attempts|length')" 1
}

@test "image URL: downloaded without the Authorization header, redirect followed" {
	gen "$(req '[mock reply=url] u1')"$'\n'"$(req "[mock reply=redirect redirect-to=http://127.0.0.1:$MOCK_PORT] u2")"
	assert_success
	assert_equal "$(img .mime 1)" image/png
	assert_equal "$(img .mime 2)" image/png
	assert_equal "$(img .text 1)" "Here is your image."
	run mock_jq 'select(.method=="GET") | [.path[0:5], .headers.authorization]'
	assert_line '["/img/",null]'
	assert_line '["/redi",null]'
	refute_output --partial Bearer
}

@test "other answer shapes: data[0].b64_json and images[0].b64_json" {
	gen "$(req '[mock reply=b64] b1')"$'\n'"$(req '[mock reply=images-b64] b2')"
	assert_success
	assert_equal "$(img .mime 1)" image/png
	assert_equal "$(img .mime 2)" image/png
}

@test "mime is what the bytes are: a JPEG declared PNG is image/jpeg" {
	gen "$(req '[mock reply=jpeg] j')"
	assert_success
	assert_equal "$(img .mime)" image/jpeg
}

# --- 1. transient failures --------------------------------------------------

@test "retry: 500 twice then success; fallback null, three attempts" {
	gen "$(req '[mock status=500 times=2] r1')"
	assert_success
	assert_equal "$(img '.attempts|map(.status)')" "$(jq -n '[500,500,200]')"
	assert_equal "$(img .fallback)" null
}

@test "retry: 408, 429, 502, 503, 504 are retried; the idempotency key stays" {
	for s in 408 429 502 503 504; do
		gen "$(req "[mock status=$s times=1] r$s")"
		assert_success
		assert_equal "$(img '.attempts|length')" 2
	done
	run mock_jq 'select(.body.messages[0].content[0].text=="[mock status=503 times=1] r503") | .headers["idempotency-key"]'
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[0]}" "${lines[1]}"
	assert_regex "${lines[0]}" '^"imgp-[0-9a-f]{32}"$'
}

@test "retry: --retries exhausted is an error record keeping request, retryable" {
	gen "$(req '[mock status=503] r-all')" --retries 2
	assert_failure 1
	assert_equal "$(err .code)" http_status
	assert_equal "$(err .status)" 503
	assert_equal "$(err .retryable)" true
	assert_equal "$(err '.attempts|length')" 3
	assert_equal "$(line_jq 1 .request.prompt)" '[mock status=503] r-all'
	assert_regex "$(err .message)" "Service unavailable"
}

@test "retry: Retry-After in seconds is honoured" {
	gen "$(req '[mock status=429 retry-after=1 times=1] ra')"
	assert_success
	[ "$(img '.attempts[0].wait_ms')" -ge 1000 ]
}

@test "retry: Retry-After as an HTTP date is honoured" {
	gen "$(req '[mock status=503 retry-after=date+2 times=1] rd')"
	assert_success
	[ "$(img '.attempts[0].wait_ms')" -ge 1000 ]
}

@test "a 200 whose body is an error is the failure its code says" {
	gen "$(req '[mock reply=error200 code=429 times=1] e200')"
	assert_success
	assert_equal "$(img '.attempts[0].status')" 429
	gen "$(req '[mock reply=error200 code=402] e402')" --fallback-model other/m
	assert_failure 1
	assert_equal "$(err .status)" 402
	assert_equal "$(err '.attempts|length')" 1
}

@test "timeout: --timeout per attempt is code timeout" {
	gen "$(req '[mock delay=3000] slow')" --timeout 0.5 --retries 1
	assert_failure 1
	assert_equal "$(err .code)" timeout
	assert_equal "$(err .retryable)" true
	assert_equal "$(err '.attempts|length')" 2
}

@test "stall: an answer that drips is cut by --stall-timeout" {
	gen "$(req '[mock reply=drip] drip')" --stall-timeout 1 --retries 0
	assert_failure 1
	assert_equal "$(err .code)" timeout
}

@test "network: a refused connection and a reset are code network" {
	run_with "$(req n1)" imgp-gen --base-url http://127.0.0.1:9/v1 --retry-delay 0.01 --retries 1
	assert_failure 1
	assert_equal "$(err .code)" network
	assert_equal "$(err '.attempts|length')" 2
	gen "$(req '[mock reply=reset] n2')" --retries 0
	assert_failure 1
	assert_equal "$(err .code)" network
}

# --- 2. relaxed -------------------------------------------------------------

@test "relaxed: a 400 is retried once with text only, no image_config, no seed" {
	imgp-gen --api local <<<'{"request":{"prompt":"r","seed":1,"size":"8x8"}}' | jq -r .image.data | base64 -d >"$REF"
	in=$(jq -cn --arg p "$REF" --arg s "$(sha256sum "$REF" | cut -c1-64)" '{request:{prompt:"[mock strict=400] relax",seed:3,aspect_ratio:"16:9",references:[{path:$p,sha256:$s}]}}')
	gen "$in"
	assert_success
	assert_equal "$(img .fallback)" relaxed
	assert_equal "$(img '.attempts[1].relaxed')" true
	run mock_jq '[.status, (.body|keys), (.body.messages[0].content|length)]'
	assert_line --index 0 '[400,["image_config","messages","modalities","model","seed"],2]'
	assert_line --index 1 '[200,["messages","modalities","model"],1]'
}

@test "relaxed: 422, a 200 without an image and a truncated body relax too" {
	gen "$(req '[mock status=422 times=1] x422')"$'\n'"$(req '[mock reply=text times=1] xtext')"$'\n'"$(req '[mock reply=truncated times=1] xtrunc')"
	assert_success
	for i in 1 2 3; do
		assert_equal "$(img .fallback $i)" relaxed
	done
	assert_equal "$(img '.attempts[0].code' 2)" no_image
	assert_equal "$(img '.attempts[0].code' 3)" bad_response
}

@test "relaxed: when the relaxed request fails too, the error says no_image" {
	gen "$(req '[mock reply=text] never')"
	assert_failure 1
	assert_equal "$(err .code)" no_image
	assert_equal "$(err '.attempts|length')" 2
}

# --- 3. fallback models -----------------------------------------------------

@test "fallback models are tried in order; fallback model" {
	gen "$(req '[mock fail-model=a/one,b/two] fb')" -m a/one --fallback-model b/two --fallback-model c/three
	assert_success
	assert_equal "$(img .fallback)" model
	assert_equal "$(img .model)" c/three
	run mock_jq '.body.model'
	assert_output $'"a/one"\n"a/one"\n"b/two"\n"b/two"\n"c/three"'
}

@test "401 and 402 are not retried, skip the fallback models and --on-failure" {
	for s in 401:auth 402:payment; do
		: >"$MOCK_LOG"
		gen "$(req "[mock status=${s%:*}] f$s")" --fallback-model b/two --on-failure placeholder
		assert_failure 1
		assert_equal "$(err .status)" "${s%:*}"
		assert_equal "$(err .code)" "${s#*:}"
		assert_equal "$(err .retryable)" true
		assert_equal "$(wc -l <"$MOCK_LOG")" 1
	done
}

@test "refused: a 403 moderation flag, once softened, goes to the next model" {
	gen "$(req '[mock reply=refused403 times=2] mod')" --fallback-model b/two
	assert_success
	assert_equal "$(img .fallback)" model
	assert_equal "$(img '.attempts|map(.code)|join(",")')" refused,refused,ok
	assert_equal "$(img '.attempts[1].softened')" true
	gen "$(req '[mock reply=refused403] mod2')"
	assert_failure 1
	assert_equal "$(err .code)" refused
}

@test "refused: a content_filter finish is refused, softened once" {
	gen "$(req '[mock reply=filter] cf')"
	assert_failure 1
	assert_equal "$(err .code)" refused
	assert_equal "$(err '.attempts|length')" 2
}

@test "not_an_image and too_large are refused" {
	gen "$(req '[mock reply=notimage] ni')"
	assert_failure 1
	assert_equal "$(err .code)" not_an_image
	gen "$(req '[mock reply=huge size=2000000] big')" --max-bytes 100000
	assert_failure 1
	assert_equal "$(err .code)" too_large
}

@test "13.6 half images: an answer cut inside IDAT is not_an_image, retried like a cut transfer" {
	gen "$(req '[mock reply=halfpng times=1] half once')"
	assert_success
	assert_equal "$(img '.attempts | map(.code) | join(",")')" not_an_image,ok
	gen "$(req '[mock reply=halfpng] half always')" --retries 2
	assert_failure 1
	assert_equal "$(err .code)" not_an_image
	assert_equal "$(err .retryable)" true
	assert_equal "$(err '.attempts | length')" 3
	assert_regex "$(err .message)" 'a PNG cut short inside a chunk'
}

@test "API calls do not follow redirects" {
	gen "$(req '[mock status=302] moved')"
	assert_failure 1
	assert_equal "$(err .status)" 302
	assert_equal "$(wc -l <"$MOCK_LOG")" 1
}

# --- 4. --on-failure --------------------------------------------------------

@test "--on-failure placeholder renders locally and exits 0" {
	gen "$(req '[mock status=400] ph')" --on-failure placeholder
	assert_success
	assert_equal "$(img .fallback)" placeholder
	assert_equal "$(img .provider)" local
	assert_equal "$(img .mime)" image/png
	assert_equal "$(img '.attempts|length')" 2
	run text_chunks
	assert_line 'iTXt imgp:prompt=[mock status=400] ph'
	assert_line 'iTXt imgp:model=local'
}

@test "--on-failure previous reuses the session's latest stored image" {
	mkdir -p "$STORE/sessions" "$STORE/ab"
	printf '%s' "$(imgp-gen --api local <<<'{"request":{"prompt":"old","seed":1,"size":"8x8"}}' | jq -r .image.data)" | base64 -d >"$STORE/ab/old.png"
	echo '{"turn":0,"sha256":"ab","path":"ab/old.png"}' >"$STORE/sessions/s.ndjson"
	gen "$(req '[mock status=400] pv')" --on-failure previous -s "$STORE"
	assert_success
	assert_equal "$(img .fallback)" previous
	printf '%s' "$(img .data)" | base64 -d | cmp - "$STORE/ab/old.png"
	IMGP_STORE="$BATS_TEST_TMPDIR/empty" gen "$(req '[mock status=400] pv2')" --on-failure previous
	assert_failure 1
	assert_regex "$(err .message)" "no earlier image of s"
}

# --- OpenAI -----------------------------------------------------------------

@test "openai: images/generations with size and quality, base64 answer" {
	gen '{"request":{"prompt":"oa","size":"1024x1024","quality":"high","seed":3}}' --api openai -m gpt-image-1
	assert_success
	assert_equal "$(img .provider)" openai
	run mock_jq '[.path, .body]'
	assert_output '["/v1/images/generations",{"model":"gpt-image-1","prompt":"oa","n":1,"size":"1024x1024","quality":"high"}]'
}

@test "openai: references go to images/edits as multipart; relaxed falls back to generations" {
	imgp-gen --api local <<<'{"request":{"prompt":"r","seed":1,"size":"8x8"}}' | jq -r .image.data | base64 -d >"$REF"
	in=$(jq -cn --arg p "$REF" --arg s "$(sha256sum "$REF" | cut -c1-64)" '{request:{prompt:"oe",references:[{path:$p,sha256:$s}]}},{request:{prompt:"[mock strict=400] oe2",references:[{path:$p,sha256:$s}]}}')
	gen "$in" --api openai -m gpt-image-1
	assert_success
	assert_equal "$(img .fallback 2)" relaxed
	run mock_jq '[.path, (.body|if type=="array" then map(.name) else keys end)]'
	assert_line '["/v1/images/edits",["model","prompt","n","image[]"]]'
	assert_line '["/v1/images/generations",["model","n","prompt"]]'
	run mock_jq 'select(.path=="/v1/images/edits") | .body[3].bytes'
	assert_line "$(wc -c <"$REF")"
}

# --- secrets and setup ------------------------------------------------------

@test "missing key: exit 2 before any record is read" {
	unset IMGP_API_KEY
	gen "$(req nokey)"
	assert_failure 2
	assert_output ""
	assert_regex "$stderr" "^imgp-gen: no API key"
	assert_equal "$(wc -l <"$MOCK_LOG")" 0
}

@test "the key never appears in stdout or stderr, even when the provider echoes it" {
	unset IMGP_API_KEY
	printf '%s\n' "$KEY" >"$BATS_TEST_TMPDIR/key"
	chmod 600 "$BATS_TEST_TMPDIR/key"
	# The prompt makes the mock echo the key; only `request` may hold it.
	gen "$(req "[mock status=400 message=\"bad key $KEY\"] echo")" --api-key-file "$BATS_TEST_TMPDIR/key" --progress
	assert_failure 1
	assert_regex "$(err .message)" "bad key \[redacted\]"
	output=$(jq -c 'del(.request)' <<<"$output")
	no_key_anywhere
	gen "$(req 'k2')" --api-key-file "$BATS_TEST_TMPDIR/key" --dry-run
	no_key_anywhere
	run mock_jq '.headers.authorization'
	assert_line --index 0 "\"Bearer $KEY\""
}

@test "OPENROUTER_API_KEY is the fallback key" {
	unset IMGP_API_KEY
	OPENROUTER_API_KEY=other-key gen "$(req orkey)"
	assert_success
	assert_equal "$(mock_jq .headers.authorization)" '"Bearer other-key"'
}

@test "--dry-run prints the request, key redacted, data abbreviated, sends nothing" {
	imgp-gen --api local <<<'{"request":{"prompt":"r","seed":1,"size":"8x8"}}' | jq -r .image.data | base64 -d >"$REF"
	in=$(jq -cn --arg p "$REF" --arg s "$(sha256sum "$REF" | cut -c1-64)" '{request:{prompt:"dry",seed:5,references:[{path:$p,sha256:$s}]}}')
	gen "$in" --dry-run --referer https://x.org
	assert_success
	assert_equal "$(line_jq 1 .dry_run.method)" POST
	assert_equal "$(line_jq 1 .dry_run.url)" "$MOCK_URL/chat/completions"
	assert_equal "$(line_jq 1 '.dry_run.headers[0]')" "Authorization: Bearer [redacted]"
	assert_equal "$(line_jq 1 '.dry_run.headers[3]')" "HTTP-Referer: https://x.org"
	assert_equal "$(line_jq 1 '.dry_run.body.messages[0].content[1].image_url.url')" "data:image/png;base64,[$(wc -c <"$REF") bytes]"
	assert_equal "$(line_jq 1 .dry_run.body.seed)" 5
	assert_equal "$(line_jq 1 .image)" null
	no_key_anywhere
	assert_equal "$(wc -l <"$MOCK_LOG")" 0
}

@test "usage: -h prints the synopsis, a bad value is exit 2" {
	run imgp-gen -h
	assert_success
	assert_output --regexp '^usage: imgp-gen \[-hnqVv\]'
	run imgp-gen --on-failure maybe
	assert_failure 2
	run imgp-gen --api nope
	assert_failure 2
	run imgp-gen -j 0
	assert_failure 2
	run imgp-gen --budget -1
	assert_failure 2
	run imgp-gen --session-budget x
	assert_failure 2
}

# --- concurrency ------------------------------------------------------------

@test "-j 8 with uneven latencies keeps input order" {
	in=$(for i in $(seq 1 24); do req "[mock delay=$(( (24 - i) % 7 * 60 ))] order $i"; done)
	gen "$in" -j 8
	assert_success
	assert_equal "${#lines[@]}" 24
	for i in $(seq 1 24); do
		assert_equal "$(line_jq "$i" .request.prompt)" "[mock delay=$(( (24 - i) % 7 * 60 ))] order $i"
		assert_equal "$(line_jq "$i" .image.mime)" image/png
	done
	# they really were in flight together, never more than 8
	run mock_jq '.in_flight'
	most=$(sort -n <<<"$output" | tail -n 1)
	[ "$most" -ge 2 ] && [ "$most" -le 8 ] || fail "at most $most in flight"
}

@test "--unordered: a later fast session's record comes out before an earlier slow one" {
	# The slow answer is held until the fast record has come out of
	# imgp-gen (the reader below releases it), so an ordered imgp-gen
	# would write the slow one first (after the mock's 60 s hold).
	release="$BATS_TEST_TMPDIR/fast-seen"
	in=$(jq -cn --arg p "[mock hold=$release] slow turn" '{session:"slow",turn:0,request:{prompt:$p}}')
	in+=$'\n'$(jq -cn '{session:"fast",turn:0,request:{prompt:"fast turn"}}')
	run bash -c 'imgp-gen --base-url "$1" --unordered -j 2 <<<"$2" |
		while IFS= read -r line; do
			printf "%s\n" "$line"
			case $line in *\"session\":\"fast\"*) : >"$3" ;; esac
		done' _ "$MOCK_URL" "$in" "$release"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_equal "$(line_jq 1 .session)" fast
	assert_equal "$(line_jq 1 .image.mime)" image/png
	assert_equal "$(line_jq 2 .session)" slow
	assert_equal "$(line_jq 2 .image.mime)" image/png
}

@test "--unordered -j 8: every record once, each session's turns in input order" {
	in=$(for i in $(seq 0 23); do
		jq -cn --arg p "[mock delay=$(( (23 - i) % 7 * 60 ))] unordered $i" --argjson i "$i" \
			'{session:"s\($i % 3)",turn:($i / 3 | floor),request:{prompt:$p}}'
	done)
	in+=$'\nnot json\n{"turn":9,"request":{"prompt":"no session"}}'
	gen "$in" -j 8 --unordered
	assert_failure 1
	assert_equal "${#lines[@]}" 26
	for s in s0 s1 s2; do
		assert_equal "$(jq -c "select(.session == \"$s\") | .turn" <<<"$output" | paste -sd ' ')" "0 1 2 3 4 5 6 7"
		assert_equal "$(jq -c "select(.session == \"$s\") | .image.mime" <<<"$output" | sort -u)" '"image/png"'
	done
	assert_equal "$(jq -c 'select(.error.code == "bad_json")' <<<"$output" | wc -l)" 1
	assert_equal "$(jq -r 'select(.turn == 9) | .image.mime' <<<"$output")" image/png
	run mock_jq '.in_flight'
	most=$(sort -n <<<"$output" | tail -n 1)
	[ "$most" -ge 2 ] && [ "$most" -le 8 ] || fail "at most $most in flight"
}

@test "pass-through records wait only for the records before them" {
	in=$(req '[mock delay=300] slow one')$'\n{"error":{"code":"x"}}\n'$(req 'fast two')
	gen "$in" -j 1
	assert_success
	assert_equal "$(line_jq 2 .error.code)" x
	assert_equal "$(line_jq 3 .image.mime)" image/png
}

@test "downstream gone: stop reading and stop starting paid requests" {
	in=$(for i in $(seq 1 30); do req "[mock delay=100] gone $i"; done)
	run bash -c 'imgp-gen --base-url "$1" -j 2 <<<"$2" | head -n 1' _ "$MOCK_URL" "$in"
	assert_success
	mock_wait_idle
	[ "$(wc -l <"$MOCK_LOG")" -lt 12 ]
}

@test "progress: a line on stderr with --progress, nothing when not a TTY" {
	gen "$(req prog)" --progress
	assert_success
	assert_regex "$stderr" "imgp-gen: 1 done, 0 in flight, 0 retried, 0 failed, cost 0.0390"
	gen "$(req prog2)"
	assert_equal "$stderr" ""
}

# --- the request cache (--cache) -------------------------------------------

# sent — how many requests the mock has seen.
@test "request_key on every image; without --cache nothing is written" {
	gen "$(req rk)" -s "$STORE"
	assert_success
	assert_regex "$(img .request_key)" '^[0-9a-f]{64}$'
	assert_equal "$(img .cached)" false
	assert_file_not_exists "$STORE"
	gen "$(req rk)" --api local
	assert_regex "$(img .request_key)" '^[0-9a-f]{64}$'
}

@test "request_key: the SHA-256 of the canonical form imgp-gen(1) shows" {
	gen '{"request":{"prompt":"a harbour","seed":7}}' --dry-run
	assert_success
	form=$(mandoc -Tascii "$ROOT/man/imgp-gen.1" | col -bx | sed -n '/^ *imgp-request\/1$/,/^ *seed:1:7$/s/^ *//p')
	assert_equal "$(line_jq 1 .dry_run.request_key)" "$(printf '%s\n' "$form" | sha256sum | cut -c1-64)"
}

@test "cache: the second run answers from the store and sends nothing" {
	gen "$(req 'cache once')" --cache -s "$STORE"
	assert_success
	first=$output key=$(img .request_key)
	assert_file_exists "$STORE/requests/${key:0:2}/$key.json"
	sha=$(jq -r .sha256 "$STORE/requests/${key:0:2}/$key.json")
	assert_equal "$(jq -r .path "$STORE/requests/${key:0:2}/$key.json")" "${sha:0:2}/$sha.png"
	assert_equal "$(img .data | base64 -d | sha256sum | cut -c1-64)" "$sha"
	gen "$(req 'cache once')" --cache -s "$STORE"
	assert_success
	assert_equal "$(sent)" 1
	assert_equal "$(img .cached)" true
	assert_equal "$(img .attempts)" "[]"
	assert_equal "$(img .request_key)" "$key"
	for m in .data .model .provider .fallback .usage .text; do
		assert_equal "$(img "$m")" "$(output=$first line_jq 1 ".image$m")"
	done
	run imgp-store --check -s "$STORE"
	assert_success
}

@test "cache: a changed prompt, seed, model, option or reference misses" {
	REF2="$BATS_TEST_TMPDIR/ref2.png"
	in=$(with_ref '{request:{prompt:"cm",seed:1,size:"64x64",references:[{path:$p,sha256:$s}]}}')
	gen "$in" --cache -s "$STORE"
	assert_success
	imgp-gen --api local <<<'{"request":{"prompt":"r2","seed":1,"size":"8x8"}}' | jq -r .image.data | base64 -d >"$REF2"
	s2=$(sha256sum "$REF2" | cut -c1-64)
	for f in '.request.prompt="cm2"' '.request.seed=2' '.request.model="other/m"' '.request.size="32x32"' '.request.quality="high"' \
		".request.references[0]={path:\"$REF2\",sha256:\"$s2\"}"; do
		gen "$(jq -c "$f" <<<"$in")" --cache -s "$STORE"
		assert_success
		assert_equal "$(img .cached)" false
	done
	assert_equal "$(sent)" 7
	assert_equal "$(find "$STORE/requests" -name '*.json' | wc -l)" 7
	gen "$in" --cache -s "$STORE"
	assert_equal "$(img .cached)" true
	assert_equal "$(sent)" 7
}

@test "cache: a damaged or missing image is a miss, and is stored again" {
	gen "$(req 'cache damage')" --cache -s "$STORE"
	key=$(img .request_key)
	path=$STORE/$(jq -r .path "$STORE/requests/${key:0:2}/$key.json")
	cp "$path" "$BATS_TEST_TMPDIR/good.png"
	printf 'x' | dd of="$path" bs=1 seek=20 conv=notrunc 2>/dev/null
	gen "$(req 'cache damage')" --cache -s "$STORE"
	assert_success
	assert_equal "$(img .cached)" false
	assert_equal "$(sent)" 2
	cmp "$path" "$BATS_TEST_TMPDIR/good.png"
	rm "$path"
	gen "$(req 'cache damage')" --cache -s "$STORE"
	assert_equal "$(img .cached)" false
	assert_equal "$(sent)" 3
	assert_file_exists "$path"
}

@test "13.6 half images: never cached, and a cached half image is a miss" {
	gen "$(req '[mock reply=halfpng] half cache')" --cache -s "$STORE" --retries 0
	assert_failure 1
	assert_equal "$(err .code)" not_an_image
	assert_equal "$(find "$STORE" -type f | wc -l)" 0
	gen "$(req 'cache half')" --cache -s "$STORE"
	key=$(img .request_key)
	file=$STORE/requests/${key:0:2}/$key.json
	# The cache names a half image by its own SHA-256: only the structure
	# check can tell.
	img .data | base64 -d | head -c -30 >"$BATS_TEST_TMPDIR/half.png"
	sha=$(sha256sum "$BATS_TEST_TMPDIR/half.png" | cut -c1-64)
	mkdir -p "$STORE/${sha:0:2}"
	cp "$BATS_TEST_TMPDIR/half.png" "$STORE/${sha:0:2}/$sha.png"
	jq -c --arg s "$sha" '.sha256 = $s | .path = "\($s[0:2])/\($s).png"' "$file" >"$file.new"
	mv "$file.new" "$file"
	gen "$(req 'cache half')" --cache -s "$STORE"
	assert_success
	assert_equal "$(img .cached)" false
	assert_equal "$(sent)" 3
	gen "$(req 'cache half')" --cache -s "$STORE"
	assert_equal "$(img .cached)" true
	assert_equal "$(sent)" 3
}

@test "cache: a re-run pays only for what is missing; fallbacks are never recorded" {
	in=$(req 'rerun 1')$'\n'$(req '[mock status=404 times=1] rerun 2')$'\n'$(req 'rerun 3')
	gen "$in" --cache -s "$STORE" --on-failure placeholder -j 1
	assert_success
	assert_equal "$(img .fallback 2)" placeholder
	assert_equal "$(find "$STORE/requests" -name '*.json' | wc -l)" 2
	gen "$in" --cache -s "$STORE" --on-failure error -j 1
	assert_success
	assert_equal "$(sent)" 4
	assert_equal "$(img .cached 1) $(img .cached 2) $(img .cached 3)" "true false true"
	assert_equal "$(img .fallback 2)" null
}

@test "cache: --dry-run tells hit from miss and sends nothing" {
	gen "$(req 'dry hit')" --cache -s "$STORE"
	gen "$(req 'dry hit')"$'\n'"$(req 'dry miss')" --cache -s "$STORE" --dry-run
	assert_success
	assert_equal "$(line_jq 1 '.dry_run|keys|join(",")')" cache,request_key
	assert_equal "$(line_jq 1 .dry_run.cache)" hit
	assert_equal "$(line_jq 2 .dry_run.cache)" miss
	assert_equal "$(line_jq 2 .dry_run.method)" POST
	assert_regex "$(line_jq 2 .dry_run.request_key)" '^[0-9a-f]{64}$'
	assert_equal "$(sent)" 1
}

# --- cost and budgets -------------------------------------------------------

@test "-v: the run's totals on stderr; a cost not reported is unknown, not 0" {
	gen "$(req 'sum 1')" --cache -s "$STORE"
	gen "$(req 'sum 1')"$'\n'"$(req '[mock reply=nocost] sum 2')"$'\n'"$(req '[mock status=404] sum 3')"$'\n'"$(req 'sum 4')" --cache -s "$STORE" -v -q
	assert_failure 1
	assert_equal "$stderr" "imgp-gen: 3 images, 1 cached, 1 failed, cost 0.0390 (1 unknown)"
	assert_equal "$(img '.usage|has("cost")' 2)" false
}

@test "--budget with -j 1: the records after the stop are budget_exceeded" {
	in=$(for i in 1 2 3 4 5; do req "budget1 $i"; done)
	gen "$in" -j 1 --budget 0.07
	assert_failure 1
	assert_equal "$(sent)" 2
	assert_equal "${#lines[@]}" 5
	assert_equal "$(img .mime 2)" image/png
	for i in 3 4 5; do
		assert_equal "$(err .code "$i")" budget_exceeded
		assert_equal "$(err .retryable "$i")" true
		assert_equal "$(line_jq "$i" .request.prompt)" "budget1 $i"
	done
	assert_regex "$(err .message 3)" "spent 0.0780 of its --budget 0.0700"
}

@test "--budget with -j 8: each record once, in order; overshoot at most 8 requests" {
	in=$(for i in $(seq 1 30); do req "budget8 $i"; done)
	gen "$in" -j 8 --budget 0.1
	assert_failure 1
	assert_equal "${#lines[@]}" 30
	n=0
	for i in $(seq 1 30); do
		assert_equal "$(line_jq "$i" .request.prompt)" "budget8 $i"
		if [ "$(line_jq "$i" .image.mime)" = image/png ]; then
			assert_equal "$n" $((i - 1))	# the images come first
			n=$i
		else
			assert_equal "$(err .code "$i")" budget_exceeded
		fi
	done
	assert_equal "$(sent)" "$n"
	# 3 answers reach 0.1; at most 8 more were in flight by then.
	[ "$n" -ge 3 ] && [ "$n" -le 10 ]
}

@test "--budget: cached answers cost nothing" {
	gen "$(req 'bc 1')"$'\n'"$(req 'bc 2')" --cache -s "$STORE"
	gen "$(req 'bc 1')"$'\n'"$(req 'bc 2')"$'\n'"$(req 'bc 3')"$'\n'"$(req 'bc 4')" --cache -s "$STORE" -j 1 --budget 0.01
	assert_failure 1
	assert_equal "$(img .cached 1) $(img .cached 2) $(img .cached 3)" "true true false"
	assert_equal "$(err .code 4)" budget_exceeded
	assert_equal "$(sent)" 3
}

@test "--session-budget counts the session's spend ledger and this run's, per session" {
	# An earlier run paid 0.039 for s (the store exists: it is recorded
	# without --session-budget); journal costs are not read.
	mkdir -p "$STORE/sessions"
	gen "$(req 'sb s 0')" -s "$STORE"
	assert_success
	printf '%s\n' '{"turn":0,"cost":0.05}' '{"turn":1,"cost":null}' '{"turn":2}' >"$STORE/sessions/s.ndjson"
	assert_equal "$(jq -c '[.turn, .cost, .totals]' "$STORE/sessions/s.spent")" '[1,0.039,{"max_turn":1,"spent":0.039,"unknown":0}]'
	in=$(for i in 1 2 3; do
		jq -cn --arg p "sb s $i" '{session:"s",turn:(10+'$i'),request:{prompt:$p}}'
		jq -cn --arg p "sb t $i" '{session:"t",turn:(10+'$i'),request:{prompt:$p}}'
	done)
	gen "$in" -j 1 --session-budget 0.1 -s "$STORE"
	assert_failure 1
	assert_equal "$(err .code 5)" budget_exceeded
	assert_regex "$(err .message 5)" "session s has spent 0.1170 of its --session-budget 0.1000"
	for i in 1 2 3 4 6; do
		assert_equal "$(img .mime "$i")" image/png
	done
	assert_equal "$(sent)" 6
	assert_equal "$(tail -n 1 "$STORE/sessions/t.spent" | jq -c '.totals | [.max_turn, (.spent * 1000 | round), .unknown]')" '[13,117,0]'
}

@test "the spend ledger: every answer imgp-gen received, paid or not, and nothing without a store" {
	# No store and no --session-budget: nothing is written anywhere.
	cd "$BATS_TEST_TMPDIR"
	gen "$(req 'nl 1')"
	assert_success
	assert_not_exist "$BATS_TEST_TMPDIR/imgp-store"
	# --session-budget makes the store; an answer without a cost is
	# unknown, one without a usable image that reports a cost counts,
	# a record without a turn has none in the ledger.
	gen "$(req '[mock reply=nocost] nl 2')"$'\n'"$(req '[mock reply=badb64] nl 3')"$'\n'"$(jq -cn '{session:"s",request:{prompt:"nl 4"}}')" \
	    -j 1 --session-budget 5 --retries 0
	assert_failure 1
	run jq -c '[.turn, .cost, (.request_key | length), .totals]' imgp-store/sessions/s.spent
	assert_output - <<-'EOF'
		[1,null,64,{"max_turn":1,"spent":0,"unknown":1}]
		[1,0.039,64,{"max_turn":1,"spent":0.039,"unknown":1}]
		[null,0.039,64,{"max_turn":1,"spent":0.078,"unknown":1}]
	EOF
}

@test "13.9: --on-failure previous refuses a journal path that leaves the store" {
	mkdir -p "$STORE/sessions"
	imgp-gen --api local <<<'{"request":{"prompt":"private","seed":1,"size":"8x8"}}' | jq -r .image.data | base64 -d >"$BATS_TEST_TMPDIR/private.png"
	echo '{"turn":0,"sha256":"ab","path":"../private.png"}' >"$STORE/sessions/s.ndjson"
	gen "$(req '[mock status=400] pv')" --on-failure previous -s "$STORE"
	assert_failure 1
	assert_regex "$(err .message)" "no usable path for turn 0"
	refute_output --partial "$(base64 -w0 "$BATS_TEST_TMPDIR/private.png" | cut -c1-40)"
}

@test "13.9: --cache writes nothing through a link planted in the store" {
	mkdir -p "$STORE" "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$STORE/requests"
	gen "$(req 'cache link')" --cache -s "$STORE"
	assert_success
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR/elsewhere")" ""
	assert_regex "$stderr" "requests.*(Too many levels of symbolic links|Not a directory)"
}
