#!/usr/bin/env bats
# imgp-gen against each provider API as the original pipeline uses it
# (issue 14): per-API defaults, every parameter sent, OpenRouter's image
# endpoint, the relaxed and softened retries, answers of every shape,
# failures on stderr, account errors, --list-models, IMAGE_* variables.
# Every point is checked against tests/mock-provider.py, request bodies
# included.

load helper
load gen-helper

# The body of the mock's request N (from 1), through jq FILTER.
body() {
	sed -n "${1}p" "$MOCK_LOG" | jq -c ".body | ${2:-.}"
}

# --- per-API defaults ---------------------------------------------------------

@test "defaults: --api openai posts to OpenAI with gpt-image-1; openrouter as before" {
	unset IMGP_API_KEY
	run_with "$(req 'where to')" imgp-gen --api openai --dry-run
	assert_success
	assert_equal "$(line_jq 1 .dry_run.url)" https://api.openai.com/v1/images/generations
	assert_equal "$(line_jq 1 .dry_run.body.model)" gpt-image-1
	run_with "$(req 'where to')" imgp-gen --dry-run
	assert_equal "$(line_jq 1 .dry_run.url)" https://openrouter.ai/api/v1/chat/completions
	assert_equal "$(line_jq 1 .dry_run.body.model)" google/gemini-2.5-flash-image
	IMGP_API=openrouter-images run_with "$(req 'where to')" imgp-gen --dry-run
	assert_equal "$(line_jq 1 .dry_run.url)" https://openrouter.ai/api/v1/images
	assert_equal "$(wc -l <"$MOCK_LOG")" 0
}

@test "defaults: OpenAI's key is OPENAI_API_KEY, then IMGP_API_KEY; none is exit 2 naming them" {
	mock_stop
	mock_start --key sk-openai-1
	unset IMGP_API_KEY
	OPENAI_API_KEY=sk-openai-1 OPENROUTER_API_KEY=sk-other gen "$(req 'oa key')" --api openai
	assert_success
	assert_equal "$(mock_jq '.headers.authorization')" '"Bearer sk-openai-1"'
	IMGP_API_KEY=sk-openai-1 gen "$(req 'oa key 2')" --api openai
	assert_success
	gen "$(req 'oa key 3')" --api openai
	assert_failure 2
	assert_output ""
	assert_regex "$stderr" 'OPENAI_API_KEY'
}

# --- parameters -------------------------------------------------------------

@test "parameters: size, image_config (aspect_ratio, image_size, quality) and seed are sent" {
	gen '{"request":{"prompt":"params 1","seed":9,"size":"1024x768","quality":"high","aspect_ratio":"16:9","image_size":"2K"}}'
	assert_success
	assert_equal "$(body 1 .size)" '"1024x768"'
	assert_equal "$(body 1 .image_config)" '{"aspect_ratio":"16:9","image_size":"2K","quality":"high"}'
	assert_equal "$(body 1 .seed)" 9
	assert_equal "$(body 1 'has("reasoning") or has("max_tokens")')" false
}

@test "parameters: reasoning low with gpt-5-image; --reasoning-effort and --max-tokens" {
	gen "$(req 'reason 1')" -m openai/gpt-5-image
	assert_equal "$(body 1 .reasoning)" '{"effort":"low"}'
	gen "$(req 'reason 2')" -m openai/gpt-5-image --reasoning-effort high --max-tokens 900
	assert_equal "$(body 2 .reasoning)" '{"effort":"high"}'
	assert_equal "$(body 2 .max_tokens)" 900
	gen "$(req 'reason 3')" --reasoning-effort extreme
	assert_failure 2
}

@test "parameters: --param and request.params are merged, the record's winning" {
	in='{"request":{"prompt":"params 2","aspect_ratio":"1:1","params":{"temperature":0.5,"provider":{"order":["b"]},"image_config":{"aspect_ratio":"4:3"}}}}'
	gen "$in" --param 'provider={"order":["a"]}' --param 'transforms=["middle-out"]'
	assert_success
	assert_equal "$(body 1 .provider)" '{"order":["b"]}'
	assert_equal "$(body 1 .transforms)" '["middle-out"]'
	assert_equal "$(body 1 .temperature)" 0.5
	assert_equal "$(body 1 .image_config)" '{"aspect_ratio":"4:3"}'
	assert_equal "$(body 1 '[keys[]|select(.=="image_config")]|length')" 1
}

@test "parameters: model, messages, prompt and modalities may not be overridden" {
	for p in model messages prompt modalities n stream; do
		gen "$(req 'prot')" --param "$p=1"
		assert_failure 2
		assert_regex "$stderr" "may not be replaced"
	done
	gen "$(req 'prot')" --param 'x=not json'
	assert_failure 2
	gen '{"request":{"prompt":"prot 2","params":{"model":"x/evil"}}}'
	assert_failure 1
	assert_equal "$(err .code)" invalid_field
	assert_equal "$(err .field)" request.params
	gen '{"request":{"prompt":"prot 3","params":[1]}}'
	assert_equal "$(err .field)" request.params
	assert_equal "$(sent)" 0
}

@test "parameters: everything sent is in the request key" {
	local keys=() k
	for extra in '' ',"size":"64x64"' ',"quality":"low"' ',"output_format":"webp"' ',"params":{"t":1}' ',"params":{"t":2}'; do
		run_with "{\"request\":{\"prompt\":\"keyed\"$extra}}" imgp-gen --dry-run
		keys+=("$(line_jq 1 .dry_run.request_key)")
	done
	run_with '{"request":{"prompt":"keyed"}}' imgp-gen --dry-run --param t=1
	keys+=("$(line_jq 1 .dry_run.request_key)")
	run_with '{"request":{"prompt":"keyed"}}' imgp-gen --dry-run --max-tokens 5
	keys+=("$(line_jq 1 .dry_run.request_key)")
	run_with '{"request":{"prompt":"keyed"}}' imgp-gen --dry-run -m openai/gpt-5-image
	keys+=("$(line_jq 1 .dry_run.request_key)")
	run_with '{"request":{"prompt":"keyed"}}' imgp-gen --dry-run -m openai/gpt-5-image --reasoning-effort high
	keys+=("$(line_jq 1 .dry_run.request_key)")
	assert_equal "$(printf '%s\n' "${keys[@]}" | sort -u | wc -l)" 9
	# a --param and the same request.params member are the same request
	assert_equal "${keys[4]}" "${keys[6]}"
}

@test "parameters: a relaxed call sends none of them, and asks for image and text" {
	gen '{"request":{"prompt":"[mock strict=400 times=1] relax p","seed":3,"size":"8x8","params":{"t":1}}}' --modalities image
	assert_success
	assert_equal "$(img .fallback)" relaxed
	assert_equal "$(body 2 'keys|join(",")')" '"messages,modalities,model"'
	assert_equal "$(body 1 .modalities)" '["image"]'
	assert_equal "$(body 2 .modalities)" '["image","text"]'
	assert_equal "$(img '.attempts[1].modalities')" image,text
	assert_equal "$(img '.attempts[1].relaxed')" true
}

# --- OpenRouter's images endpoint -------------------------------------------

@test "openrouter-images: POST /images with every field, references previous first" {
	local prev=$BATS_TEST_TMPDIR/prev.png
	imgp-gen --api local <<<'{"request":{"prompt":"p","seed":2,"size":"16x8"}}' | jq -r .image.data | base64 -d >"$prev"
	with_ref null >/dev/null
	jq -cn --arg p "$REF" --arg s "$(sha256sum "$REF" | cut -c1-64)" --arg q "$prev" --arg t "$(sha256sum "$prev" | cut -c1-64)" \
		'{session:"s",turn:2,request:{prompt:"orimg 1",seed:4,aspect_ratio:"16:9",image_size:"2K",size:"2048x1152",quality:"high",output_format:"png",references:[{path:$p,sha256:$s,role:"style"},{path:$q,sha256:$t,role:"previous"}]}}' >"$BATS_TEST_TMPDIR/in"
	gen "$(cat "$BATS_TEST_TMPDIR/in")" --api openrouter-images -v
	assert_success
	assert_equal "$(mock_jq .path)" '"/v1/images"'
	assert_equal "$(body 1 'del(.input_references)')" '{"model":"google/gemini-2.5-flash-image","prompt":"orimg 1","n":1,"aspect_ratio":"16:9","resolution":"2K","size":"2048x1152","quality":"high","output_format":"png","seed":4}'
	assert_equal "$(body 1 '.input_references|length')" 2
	assert_equal "$(body 1 '.input_references[0].type')" '"image_url"'
	# the previous frame (16x8) first, then the style reference (8x8)
	assert_regex "$(body 1 '.input_references[0].image_url.url' | jq -r 'sub("^data:image/png;base64,";"")' | base64 -d | file -)" ' 16 x 8,'
	assert_regex "$(body 1 '.input_references[1].image_url.url' | jq -r 'sub("^data:image/png;base64,";"")' | base64 -d | file -)" ' 8 x 8,'
	assert_equal "$(img .provider)" openrouter-images
	assert_equal "$(img .usage.cost)" 0.04
	assert_equal "$(img .mime)" image/png
	assert_regex "$stderr" 'cost 0\.0400'
}

@test "openrouter-images: the same ladder, cache and budget" {
	in='{"request":{"prompt":"[mock strict=400 times=1] orimg 2","seed":1}}'
	gen "$in" --api openrouter-images --cache -s "$STORE"
	assert_success
	assert_equal "$(img .fallback)" relaxed
	assert_equal "$(body 2 'keys|join(",")')" '"model,n,prompt"'
	gen "$in" --api openrouter-images --cache -s "$STORE"
	assert_equal "$(img .cached)" true
	assert_equal "$(sent)" 2
	in=$(for i in 1 2 3; do req "orimg budget $i"; done)
	gen "$in" --api openrouter-images -j 1 --budget 0.05
	assert_failure 1
	assert_equal "$(err .code 3)" budget_exceeded
	assert_equal "$(sent)" 4
}

# --- answers in every shape -------------------------------------------------

@test "answers: every shape the original accepts gives the image, in one request" {
	local shape want
	gen "$(req 'shape ref')"
	want=$(img .data | base64 -d | sha256sum)
	for shape in wrapped urlsafe content-part image-string images-url upper-data nested b64 images-b64; do
		: >"$MOCK_LOG"
		gen "$(req "[mock reply=$shape] shape")"
		assert_success
		assert_equal "$(sent)" 1
		assert_equal "$(img .mime)" image/png
		assert_equal "$(img .fallback)" null
	done
	gen "$(req "[mock reply=wrapped] shape ref2")" --api openai
	assert_success
	gen "$(req "[mock reply=urlsafe] shape ref3")" --api openrouter-images
	assert_success
}

@test "answers: a lone surrogate in the text does not cost the image; its cost counts" {
	gen "$(req '[mock reply=surrogate] sur')" -v
	assert_success
	assert_equal "$(sent)" 1
	assert_equal "$(img .mime)" image/png
	assert_equal "$(img .text)" $'a broken emoji: \uFFFD and on'
	assert_regex "$(img '.attempts[0].note')" 'surrogate'
	assert_regex "$stderr" 'cost 0\.0390'
}

@test "answers: base64 that is not says what it found, is not relaxed, and its cost counts" {
	gen "$(req '[mock reply=badb64] bad64')" -v --budget 1
	assert_failure 1
	assert_equal "$(err .code)" bad_response
	assert_regex "$(err .message)" 'choices\[0\]\.message\.images\[0\] is not base64 \(18 characters'
	assert_equal "$(sent)" 1
	assert_regex "$stderr" 'cost 0\.0390'
}

@test "answers: no image says what the answer held" {
	gen "$(req '[mock reply=text] noimg')"
	assert_failure 1
	assert_equal "$(err .code)" no_image
	assert_regex "$(err .message)" 'members: .*choices.*text: I can only describe it'
}

# --- failures on stderr, account errors ---------------------------------------

@test "stderr: each failed record is one line, then a summary; -q silences both" {
	local url=$MOCK_URL
	mock_stop
	in='{"session":"s1","turn":3,"request":{"prompt":"down"}}'$'\n''{"request":{"prompt":"down 2"}}'
	run_with "$in" imgp-gen --base-url "$url" --retries 1 --retry-delay 0.01
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	assert_equal "$(line_jq 1 .error.code)" network
	assert_regex "$stderr" $'^imgp-gen: session s1, turn 3, line 1: network \\(2 attempts, retryable\\): [^\n]+\nimgp-gen: line 2: network \\(2 attempts, retryable\\): [^\n]+\nimgp-gen: 0 images, 0 cached, 2 failed, cost 0\\.0000$'
	run_with "$in" imgp-gen --base-url "$url" --retries 0 -q
	assert_failure 1
	assert_equal "$stderr" ""
}

@test "stderr: 500s and field errors speak too" {
	gen "$(req '[mock status=500] five')"$'\n''{"request":{}}' --retries 1
	assert_failure 1
	assert_regex "$stderr" 'line 1: http_status \(2 attempts, retryable\): .*Internal server error'
	assert_regex "$stderr" 'line 2: missing_field: '
}

@test "account: with a bad key and 8 records the mock sees at most -j requests" {
	mock_stop
	mock_start --key the-right-key
	in=$(for i in 1 2 3 4 5 6 7 8; do req "acct $i"; done)
	gen "$in" -j 2
	assert_failure 1
	assert_equal "${#lines[@]}" 8
	[ "$(sent)" -le 2 ]
	for i in 1 2 3 4 5 6 7 8; do
		assert_equal "$(err .code "$i")" auth
		assert_equal "$(err .retryable "$i")" true
	done
	assert_regex "$(err .message 8)" 'not sent: openrouter refused the account'
	no_key_anywhere
}

@test "account: a 402 stops the run too, as payment" {
	in=$(req '[mock status=402] pay 1')$'\n'$(req 'pay 2')$'\n'$(req 'pay 3')
	gen "$in" -j 1
	assert_failure 1
	assert_equal "$(sent)" 1
	assert_equal "$(err .code 1) $(err .code 2) $(err .code 3)" "payment payment payment"
}

# --- the softened retry -----------------------------------------------------

@test "softened: a moderation refusal is retried once with the judge's prompt, no references" {
	with_ref '{session:"s",turn:1,image_prompt:"a calm harbour",request:{prompt:"[mock reply=refused403] a calm harbour. Continuity: the boat burns",references:[{path:$p,sha256:$s,role:"style"}]}}' >"$BATS_TEST_TMPDIR/in"
	gen "$(cat "$BATS_TEST_TMPDIR/in")"
	assert_success
	assert_equal "$(img .fallback)" softened
	assert_equal "$(img '.attempts[1].softened')" true
	assert_equal "$(body 2 '.messages[0].content')" '[{"type":"text","text":"a calm harbour"}]'
	assert_equal "$(body 1 '.messages[0].content|length')" 2
}

@test "softened: a content_filter finish too; then the fallback models" {
	gen '{"image_prompt":"[mock reply=filter] cf2","request":{"prompt":"[mock reply=filter] cf2 more"}}' --fallback-model b/two
	assert_failure 1
	assert_equal "$(err .code)" refused
	assert_equal "$(mock_jq .body.model | tr -d '"' | tr '\n' ' ')" "google/gemini-2.5-flash-image google/gemini-2.5-flash-image b/two b/two "
}

# --- --list-models ----------------------------------------------------------

@test "--list-models: OpenRouter's image models, one object a line" {
	unset IMGP_API_KEY
	run imgp-gen --list-models --base-url "$MOCK_URL"
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_equal "$(printf '%s\n' "$output" | jq -r .id | tr '\n' ' ')" "google/gemini-2.5-flash-image black-forest-labs/flux.2-pro openai/gpt-5-image "
	assert_equal "$(printf '%s\n' "${lines[1]}" | jq -c .output_modalities)" '["image"]'
	assert_equal "$(mock_jq .path)" '"/v1/models?output_modalities=image"'
	run imgp-gen --list-models --api openai --base-url "$MOCK_URL"
	assert_failure 2
	OPENAI_API_KEY=k run imgp-gen --list-models --api openai --base-url "$MOCK_URL"
	assert_success
	assert_equal "$(printf '%s\n' "$output" | jq -r .id | tr '\n' ' ')" "gpt-image-1 dall-e-3 "
}

@test "--list-models: an unreachable API is exit 1 with a message" {
	local url=$MOCK_URL
	mock_stop
	run --separate-stderr imgp-gen --list-models --base-url "$url" --timeout 5
	assert_failure 1
	assert_output ""
	assert_regex "$stderr" '^imgp-gen: openrouter: '
}

# --- the original's environment -------------------------------------------

@test "IMAGE_*: the original's variables are defaults below the request's own" {
	IMAGE_ASPECT_RATIO=16:9 IMAGE_QUALITY=high IMAGE_OUTPUT_SIZE=2K IMAGE_MODALITIES=image IMAGE_MODEL=x/m \
		gen "$(req 'env 1')"$'\n''{"request":{"prompt":"env 2","quality":"low","aspect_ratio":"1:1"}}'
	assert_success
	assert_equal "$(body 1 .model)" '"x/m"'
	assert_equal "$(body 1 .modalities)" '["image"]'
	assert_equal "$(mock_jq .body.image_config | sort | tr '\n' ' ')" '{"aspect_ratio":"16:9","image_size":"2K","quality":"high"} {"aspect_ratio":"1:1","image_size":"2K","quality":"low"} '
	IMAGE_OUTPUT_SIZE=1024x768 gen "$(req 'env 3')"
	assert_equal "$(body 3 .size)" '"1024x768"'
	IMGP_MODEL=y/m IMAGE_MODEL=x/m gen "$(req 'env 4')"
	assert_equal "$(body 4 .model)" '"y/m"'
	IMAGE_ASPECT_RATIO=wide gen "$(req 'env 5')"
	assert_failure 2
	IMAGE_MODALITIES=text gen "$(req 'env 6')"
	assert_failure 2
}

@test "stderr: a provider's message cannot send terminal control sequences" {
	gen "$(jq -cn --arg p $'[mock status=404 message="gone \e[2J \e(0 owned\a"] esc' '{request:{prompt:$p}}')"
	assert_failure 1
	assert_regex "$(err .message)" $'\e\\[2J'
	[[ "$stderr" != *$'\e'* ]]
	assert_regex "$stderr" 'gone \?\[2J \?\(0 owned\?'
}
