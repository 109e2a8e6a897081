#!/usr/bin/env bats
# imgp-url --sign s3: presigned GET URLs of an S3 store's objects, fetched
# with plain curl from the S3 server of the tests (which checks SigV4 and
# X-Amz-Expires as S3 does), --verify of them, the option rules, and the
# secret kept out of every output.  The rest of imgp-url is tests/url.bats.

load helper

STORE=s3://imgp/game/one

setup() {
	s3_start
	BYTES="$BATS_TEST_TMPDIR/frame.png"
	head -c 4096 /dev/urandom >"$BYTES"
}

teardown() {
	s3_stop
}

# Upload $1 (a file) as the store's object $2 (a key, already encoded).
put_object() {
	s3_curl -f -T "$1" "$S3_URL/imgp/game/one/$2"
}

# The url imgp-url gives for asset path $1, with options $2….
url_of() {
	local path=$1
	shift
	jq -cn --arg p "$path" '{asset:{path:$p}}' | imgp-url "$@" | jq -r .url
}

# The HTTP status of a plain GET of $1 (its body in $BATS_TEST_TMPDIR/got).
status_of() {
	curl -sS -o "$BATS_TEST_TMPDIR/got" -w '%{http_code}' "$1"
}

@test "s3 url: a presigned URL fetches the object's bytes with plain curl; --verify says ok" {
	put_object "$BYTES" 'ab/turn%201.png'
	url=$(url_of 'ab/turn 1.png' --sign s3 --store "$STORE" --expires 10m)
	[[ $url == "$S3_URL/imgp/game/one/ab/turn%201.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=S3RVER%2F"[0-9]*"%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="*"Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature="* ]]
	assert_equal "$(status_of "$url")" 200
	cmp "$BYTES" "$BATS_TEST_TMPDIR/got"
	run -0 imgp-url --verify --store "$STORE" <<<"$url"
	assert_output ok
}

@test "s3 url: IMGP_STORE names the store, and AWS_DEFAULT_REGION the region" {
	put_object "$BYTES" ab/a.png
	unset AWS_REGION
	export IMGP_STORE=$STORE AWS_DEFAULT_REGION=us-east-1
	url=$(url_of ab/a.png --sign s3 --expires 60)
	assert_equal "$(status_of "$url")" 200
	run -0 imgp-url --verify <<<"$url"
	assert_output ok
}

@test "s3 url: refused by the server once expired; --verify says expired" {
	put_object "$BYTES" ab/a.png
	url=$(url_of ab/a.png --sign s3 --store "$STORE" --expires 1)
	# Wait for the server to see it expire (bounded, not timed).
	for i in $(seq 600); do
		[ "$(status_of "$url")" = 403 ] && break
		sleep 0.05
	done
	assert_equal "$(status_of "$url")" 403
	run grep -q 'Request has expired' "$BATS_TEST_TMPDIR/got"
	assert_success
	run -1 imgp-url --verify --store "$STORE" <<<"$url"
	assert_output expired
}

@test "s3 url: a tampered path, date, expiry or signature is refused by the server and by --verify" {
	put_object "$BYTES" ab/a.png
	put_object "$BYTES" ab/b.png
	url=$(url_of ab/a.png --sign s3 --store "$STORE" --expires 60)
	sig=${url##*X-Amz-Signature=}
	date=$(sed 's/.*X-Amz-Date=\([0-9T]*Z\).*/\1/' <<<"$url")
	later=$(date -u -d "@$(($(date -u -d "${date:0:8} ${date:9:2}:${date:11:2}:${date:13:2}" +%s) + 30))" +%Y%m%dT%H%M%SZ)
	[[ $sig =~ ^[0-9a-f]{64}$ ]]
	flip=$([ "${sig: -1}" = 0 ] && echo 1 || echo 0)
	for bad in "${url/ab\/a.png/ab/b.png}" \
	    "${url/X-Amz-Expires=60/X-Amz-Expires=600}" \
	    "${url/X-Amz-Date=$date/X-Amz-Date=$later}" \
	    "${url%?}$flip" \
	    "$url&response-content-type=text%2Fhtml"; do
		assert_equal "$(status_of "$bad")" 403
		run -1 imgp-url --verify --store "$STORE" <<<"$bad"
		assert_output bad_signature
	done
	# The same untouched URL still opens the object.
	assert_equal "$(status_of "$url")" 200
}

@test "s3 url: --verify checks the signature against AWS's own published example" {
	# docs.aws.amazon.com, "Authenticating Requests: Using Query
	# Parameters (AWS Signature Version 4)": the example presigned URL,
	# made in 2013 with the example credentials: authentic, long expired.
	url='https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404'
	unset AWS_ENDPOINT_URL
	export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
	export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
	run -1 imgp-url --verify --store s3://examplebucket <<<"$url"
	assert_output expired
	run -1 imgp-url --verify --store s3://examplebucket <<<"${url/test.txt/test.txu}"
	assert_output bad_signature
	AWS_SECRET_ACCESS_KEY=other run -1 imgp-url --verify \
	    --store s3://examplebucket <<<"$url"
	assert_output bad_signature
	AWS_REGION=eu-west-1 run -1 imgp-url --verify \
	    --store s3://examplebucket <<<"$url"
	assert_output bad_signature
}

@test "s3 url: AWS itself is addressed virtual-hosted, and the host is signed" {
	unset AWS_ENDPOINT_URL
	export AWS_REGION=eu-west-1
	url=$(url_of ab/a.png --sign s3 --store s3://my-bucket/p --expires 60)
	[[ $url == "https://my-bucket.s3.eu-west-1.amazonaws.com/p/ab/a.png?X-Amz-Algorithm="*"%2Feu-west-1%2Fs3%2Faws4_request&"* ]]
	run -0 imgp-url --verify --store s3://my-bucket/p <<<"$url"
	assert_output ok
	run -1 imgp-url --verify --store s3://my-bucket/p <<<"${url/my-bucket/other-bucket}"
	assert_output bad_signature
}

@test "s3 url: with AWS_SESSION_TOKEN the URL carries the token; the secret is never printed" {
	put_object "$BYTES" ab/a.png
	export AWS_SESSION_TOKEN='token/with+specials='
	url=$(url_of ab/a.png --sign s3 --store "$STORE" --expires 60)
	[[ $url == *"&X-Amz-Security-Token=token%2Fwith%2Bspecials%3D&X-Amz-SignedHeaders=host&"* ]]
	assert_equal "$(status_of "$url")" 200
	# A secret of its own (the server then refuses the URLs) in every
	# path that prints: URLs, checks, error records, refused set-ups.
	export AWS_SECRET_ACCESS_KEY=Secret-4f9c1e-never-shown
	out="$BATS_TEST_TMPDIR/all"
	{
		printf '%s\n' '{"asset":{"path":"ab/a.png"}}' '{"asset":{}}' \
		    '{"asset":{"path":"sessions/s.ndjson"}}' 'not json' |
		    imgp-url --sign s3 --store "$STORE" --expires 60
		url_of ab/a.png --sign s3 --store "$STORE" --expires 60 |
		    imgp-url --verify --store "$STORE"
		imgp-url --verify --store "$STORE" <<<"$url"
		imgp-url --sign s3 --store s3://imgp/.bad --expires 60 </dev/null
		AWS_ENDPOINT_URL=ftp://x imgp-url --sign s3 --store "$STORE" \
		    --expires 60 </dev/null
		AWS_ACCESS_KEY_ID= imgp-url --sign s3 --store "$STORE" \
		    --expires 60 </dev/null
		imgp-url --sign s3 --store "$STORE" --expires 8d </dev/null
	} >"$out" 2>&1 || true
	run grep -c X-Amz-Signature "$out"
	assert_output 1
	run grep -F -e Secret-4f9c1e -e never-shown "$out"
	assert_failure
}

@test "s3 url: a bad record is an error record, the others get their URL" {
	run_with "$(printf '%s\n' '{"turn":1,"asset":{"path":"ab/a.png"}}' \
	    '{"turn":2,"asset":{"path":"../x.png"}}' '{"turn":3}' \
	    '{"turn":4,"asset":{"path":"requests/ab/k.json"}}')" \
	    imgp-url -q --sign s3 --store "$STORE" --expires 60
	assert_failure 1
	[[ $(line_jq 1 .url) == "$S3_URL/imgp/game/one/ab/a.png?"* ]]
	assert_equal "$(line_jq 2 .error.field)" asset.path
	assert_equal "$(line_jq 3 .error.code)" missing_field
	assert_equal "$(line_jq 4 .error.field)" asset.path
	assert_equal "${#lines[@]}" 4
}

@test "s3 url: --verify with a key file and a store checks hmac and s3 URLs in one stream" {
	key="$BATS_TEST_TMPDIR/key"
	printf 'k-0123456789\n' >"$key"
	chmod 600 "$key"
	s3=$(url_of ab/a.png --sign s3 --store "$STORE" --expires 60)
	hmac=$(url_of ab/a.png --sign hmac --key-file "$key" --expires 60)
	run -0 imgp-url --verify --key-file "$key" --store "$STORE" \
	    <<<"$(printf '%s\n' "$s3" "$hmac")"
	assert_output $'ok\nok'
	# Each scheme needs its own means: without them its URLs cannot be read.
	run -1 imgp-url --verify --key-file "$key" <<<"$s3"
	assert_output malformed
	run -1 imgp-url --verify --store "$STORE" <<<"$hmac"
	assert_output malformed
	run -1 imgp-url --verify --store "$STORE" <<<"${s3/X-Amz-Expires=60/X-Amz-Expires=604801}"
	assert_output malformed
	run -1 imgp-url --verify --store "$STORE" <<<"${s3/X-Amz-Date=/X-Amz-Date=1}"
	assert_output malformed
	run -1 imgp-url --verify --store "$STORE" <<<"$s3&X-Amz-Date=20261129T000000Z"
	assert_output malformed
}

@test "s3 url: options that do not go together are exit 2" {
	export IMGP_STORE=$STORE
	for opts in "--sign s3" "--sign s3 --expires 604801" \
	    "--sign s3 --expires 60 --base /x/" \
	    "--sign s3 --expires 60 --template {path}" \
	    "--sign s3 --expires 60 --key-file /dev/null" \
	    "--sign s3 --expires-at 2000000000" \
	    "--sign s3 --expires 60 --store /tmp/local-store" \
	    "--store $STORE" "--base /x/ --store $STORE" \
	    "--sign hmac --key-file /dev/null --expires 60 --store $STORE" \
	    "--verify --store ./local"; do
		run -2 --separate-stderr imgp-url $opts </dev/null
		assert_output ''
		[ -n "$stderr" ]
	done
	IMGP_STORE=./local run -2 imgp-url --sign s3 --expires 60 </dev/null
	assert_output --partial 'needs --store s3://'
	AWS_ACCESS_KEY_ID= run -2 imgp-url --sign s3 --expires 60 </dev/null
	assert_output --partial 'no credentials'
	run -0 imgp-url --sign s3 --expires 7d </dev/null
}

@test "s3 url: a public bucket behind a CDN keeps its unsigned --base URLs, S3 store or not" {
	put_object "$BYTES" ab/a.png
	want=$(url_of ab/a.png --base https://cdn.example/game/one/)
	assert_equal "$want" https://cdn.example/game/one/ab/a.png
	assert_equal "$(IMGP_STORE=$STORE url_of ab/a.png \
	    --base https://cdn.example/game/one/)" "$want"
	# The server lets anyone read, as a public bucket does: the unsigned
	# URL with the bucket as base is the object.
	url=$(IMGP_STORE=$STORE url_of ab/a.png --base "$S3_URL/imgp/game/one/")
	assert_equal "$url" "$S3_URL/imgp/game/one/ab/a.png"
	assert_equal "$(status_of "$url")" 200
	cmp "$BYTES" "$BATS_TEST_TMPDIR/got"
}
