# imgp-gen's suites (gen.bats, provider.bats): `load gen-helper` after
# `load helper`.  Every test starts the mock provider with the test key in
# IMGP_API_KEY.

KEY=sk-test-0123456789abcdef

setup() {
	export IMGP_API_KEY=$KEY
	mock_start
	STORE="$BATS_TEST_TMPDIR/store"
	REF="$BATS_TEST_TMPDIR/ref.png"
}

teardown() {
	mock_stop
}

# gen INPUT ARGS… — imgp-gen against the mock, fast retries.
gen() {
	run_with "$1" imgp-gen --base-url "$MOCK_URL" --retry-delay 0.01 \
	    --reference-root "$BATS_TEST_TMPDIR" "${@:2}"
}

req() {
	jq -cn --arg p "$1" '{session:"s",turn:1,request:{prompt:$p}}'
}

img() {
	line_jq "${2:-1}" ".image$1"
}

err() {
	line_jq "${2:-1}" ".error$1"
}

# with_ref FILTER — draw the reference image $REF (an 8x8 PNG) and print
# the records of the jq FILTER, which sees $p (its path) and $s (its SHA-256).
with_ref() {
	imgp-gen --api local <<<'{"request":{"prompt":"r","seed":1,"size":"8x8"}}' | jq -r .image.data | base64 -d >"$REF"
	jq -cn --arg p "$REF" --arg s "$(sha256sum "$REF" | cut -c1-64)" "$1"
}

no_key_anywhere() {
	! grep -qF "$KEY" <<<"$output$stderr"
}

# How many requests the mock received.
sent() {
	wc -l <"$MOCK_LOG"
}
