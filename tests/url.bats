#!/usr/bin/env bats
# imgp-url: joining and encoding (design.md §5), templates, both signing
# schemes checked against independent computations, --verify, key files,
# field errors.  nginx itself is tests/nginx.bats.

load helper

SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

setup() {
	KEY="$BATS_TEST_TMPDIR/key"
	printf 'test-key-0123\n' >"$KEY"
	chmod 600 "$KEY"
}

# The url of a record with asset path $1, made with options $2….
url_of() {
	local path=$1
	shift
	jq -cn --arg p "$path" '{asset:{path:$p}}' | imgp-url "$@" | jq -r .url
}

# base64url without padding of the binary on stdin.
b64url() {
	base64 -w0 | tr '+/' '-_' | tr -d '='
}

@test "the default base /assets/ and the path are joined with one /" {
	assert_equal "$(url_of ab/x.png)" /assets/ab/x.png
	assert_equal "$(url_of ab/x.png -b https://cdn.example/a)" https://cdn.example/a/ab/x.png
	assert_equal "$(url_of ab/x.png -b https://cdn.example/a//)" https://cdn.example/a/ab/x.png
	assert_equal "$(url_of ab/x.png -b https://cdn.example)" https://cdn.example/ab/x.png
	assert_equal "$(url_of ab/x.png -b /)" /ab/x.png
	assert_equal "$(url_of ab/x.png --base assets)" assets/ab/x.png
}

@test "every path segment is percent-encoded: space % # ? + non-ASCII" {
	assert_equal "$(url_of 's 1/a b%#?+&=é~._-.png')" \
	    '/assets/s%201/a%20b%25%23%3F%2B%26%3D%C3%A9~._-.png'
}

@test "the base comes from IMGP_PUBLIC_BASE_URL, then PUBLIC_ASSETS_BASE_URL; --base wins" {
	export PUBLIC_ASSETS_BASE_URL=https://two.example/
	assert_equal "$(url_of a.png)" https://two.example/a.png
	export IMGP_PUBLIC_BASE_URL=https://one.example/x/
	assert_equal "$(url_of a.png)" https://one.example/x/a.png
	assert_equal "$(url_of a.png -b /y/)" /y/a.png
}

@test "template: every placeholder" {
	run_with "{\"session\":\"s-1.a\",\"turn\":42,\"asset\":{\"path\":\"ab/é x.webp\",\"sha256\":\"$SHA\"}}" \
	    imgp-url -b https://cdn.example/b/ -t '{base}/{session}/{turn}/{sha256}.{ext}?p={path}'
	assert_success
	assert_equal "$(line_jq 1 .url)" "https://cdn.example/b/s-1.a/42/$SHA.webp?p=ab/%C3%A9%20x.webp"
}

@test "template: a member it needs that is missing or invalid is an error record" {
	run_with '{"asset":{"path":"a.png"}}' imgp-url -t '/{sha256}'
	assert_failure 1
	assert_equal "$(line_jq 1 .error.code)" missing_field
	assert_equal "$(line_jq 1 .error.field)" asset.sha256
	run_with '{"session":"../x","asset":{"path":"a.png"}}' imgp-url -t '/{session}/{path}'
	assert_failure 1
	assert_equal "$(line_jq 1 .error.code)" invalid_field
	assert_equal "$(line_jq 1 .error.field)" session
	run_with '{"turn":-1,"asset":{"path":"a.png"}}' imgp-url -t '/{turn}/{path}'
	assert_equal "$(line_jq 1 .error.field)" turn
}

@test "template: an unknown or unclosed placeholder is exit 2" {
	run_with '' imgp-url -t '/{nope}/{path}'
	assert_failure 2
	assert_regex "$stderr" "^imgp-url: --template: '\{nope\}'"
	run_with '' imgp-url -t '/{path'
	assert_failure 2
}

@test "a record without asset is missing_field; error records pass through" {
	run_with $'{"a":1}\n{"error":{"code":"x"},"asset":{}}' imgp-url
	assert_failure 1
	assert_equal "$(line_jq 1 .error.code)" missing_field
	assert_equal "$(line_jq 1 .error.field)" asset
	assert_equal "$(line_jq 1 .error.stage)" url
	assert_equal "${lines[1]}" '{"error":{"code":"x"},"asset":{}}'
}

@test "an asset path a server would read differently is invalid_field" {
	local p
	for p in '../sessions/s.ndjson' 'ab/./x.png' '/etc/passwd' 'ab//x.png' \
	    'ab/' '' $'a\tb.png'; do
		run_with "$(jq -cn --arg p "$p" '{asset:{path:$p}}')" imgp-url
		assert_failure 1
		assert_equal "$(line_jq 1 .error.code)" invalid_field
		assert_equal "$(line_jq 1 .error.field)" asset.path
	done
	run_with '{"asset":{"path":"a\u0000b"}}' imgp-url
	assert_equal "$(line_jq 1 .error.field)" asset.path
	run_with '{"asset":{"path":7}}' imgp-url
	assert_equal "$(line_jq 1 .error.field)" asset.path
	run_with '{"asset":"ab/x.png"}' imgp-url
	assert_equal "$(line_jq 1 .error.field)" asset
}

@test "13.10: imgp-url signs no journal, request file, dot segment or hidden file" {
	local p sign
	for p in sessions/s.ndjson requests/ab/abcd.json sessions requests \
	    ab/../sessions/s.ndjson ./ab/x.png ab/.tmp-1-0 .hidden.png ab/.. ..; do
		for sign in "" "--sign nginx --key-file $KEY --expires 1h" \
		    "--sign hmac --key-file $KEY --expires 1h"; do
			run_with "$(jq -cn --arg p "$p" '{asset:{path:$p}}')" imgp-url $sign
			assert_failure 1
			assert_equal "$(line_jq 1 .error.code)" invalid_field
			assert_equal "$(line_jq 1 .error.field)" asset.path
			assert_equal "$(line_jq 1 .url)" null
		done
	done
	run_with '{"asset":{"path":"sessions/s.ndjson"}}' imgp-url
	assert_regex "$(line_jq 1 .error.message)" "sessions/ holds the journals"
	# names that only start like them are fine
	run_with '{"asset":{"path":"sessions-2/x.png"}}' imgp-url --sign nginx --key-file "$KEY" --expires 1h
	assert_success
}

@test "other members pass through byte for byte; an old url is replaced in place" {
	local rec='{"n":123456789012345678901234567890,"x" : 1.10,"url":"old","s":"\u00e9\ud83d\ude00","asset":{ "path":"a.png", "sha256":"x" }}'
	run_with "$rec" imgp-url
	assert_success
	assert_output '{"n":123456789012345678901234567890,"x" : 1.10,"url":"/assets/a.png","s":"\u00e9\ud83d\ude00","asset":{ "path":"a.png", "sha256":"x" }}'
}

@test "hmac: sig is base64url HMAC-SHA256 of imgp-url/1 LF expires LF path" {
	url=$(url_of 'ab/é x.png' --sign hmac --key-file "$KEY" --expires-at 2000000000 -b https://cdn.example/assets/)
	want=$(printf 'imgp-url/1\n2000000000\n/assets/ab/é x.png' |
	    openssl dgst -sha256 -hmac test-key-0123 -binary | b64url)
	assert_equal "$url" "https://cdn.example/assets/ab/%C3%A9%20x.png?expires=2000000000&sig=$want"
}

@test "nginx: md5 is base64url MD5 of expires, path, a space and the key" {
	url=$(url_of 'ab/é x.png' -S nginx -k "$KEY" --expires-at 2000000000)
	want=$(printf '2000000000/assets/ab/é x.png test-key-0123' |
	    openssl md5 -binary | b64url)
	assert_equal "$url" "/assets/ab/%C3%A9%20x.png?md5=$want&expires=2000000000"
}

@test "--expires: 3600, 90m, 7d from now" {
	local d want now
	for d in 3600:3600 90m:5400 7d:604800; do
		now=$(date +%s)
		url=$(url_of a.png -S hmac -k "$KEY" -e "${d%%:*}")
		want=$((now + ${d#*:}))
		expires=${url#*expires=}
		expires=${expires%%&*}
		[ "$expires" -ge "$want" ] && [ "$expires" -le "$((want + 5))" ] ||
		    fail "--expires ${d%%:*} gave $expires, want about $want"
	done
}

@test "verify: signed records and bare URLs of both schemes are ok" {
	run_with '{"asset":{"path":"ab/a b#é.png"},"k":1.10}' \
	    imgp-url -S hmac -k "$KEY" -e 1h -b https://cdn.example/x/
	assert_success
	signed=$output
	run_with "$signed" imgp-url --verify -k "$KEY"
	assert_success
	assert_output "${signed%\}},\"verify\":\"ok\"}"
	nginx_url=$(url_of 'ab/a b.png' -S nginx -k "$KEY" -e 1h)
	run_with "$(jq -r .url <<<"$signed")"$'\n'" $nginx_url"$'\r' imgp-url --verify -k "$KEY"
	assert_success
	assert_output $'ok\nok'
}

@test "verify: tampered path, expiry or signature is bad_signature, exit 1" {
	url=$(url_of ab/x.png -S hmac -k "$KEY" --expires-at 2000000000)
	sig=${url##*sig=}
	flipped=$( [ "${sig:0:1}" = A ] && echo B || echo A )${sig:1}
	run_with "${url/x.png/y.png}"$'\n'"${url/2000000000/2000000001}"$'\n'"${url/sig=$sig/sig=$flipped}"$'\n'"$url" \
	    imgp-url --verify -k "$KEY"
	assert_failure 1
	assert_output $'bad_signature\nbad_signature\nbad_signature\nok'
}

@test "verify: a signature for one base does not hold for another" {
	url=$(url_of ab/x.png -S hmac -k "$KEY" --expires-at 2000000000 -b https://cdn.example/a/)
	run_with "${url/\/a\//\/b\/}"$'\n'"${url/cdn.example/other.example}" imgp-url --verify -k "$KEY"
	assert_failure 1
	assert_output $'bad_signature\nok'
}

@test "verify: past the expiry is expired; a wrong key is bad_signature" {
	url=$(url_of ab/x.png -S hmac -k "$KEY" --expires-at 1000000000)
	run_with "{\"url\":\"$url\"}" imgp-url --verify -k "$KEY"
	assert_failure 1
	assert_equal "$(line_jq 1 .verify)" expired
	printf 'other-key\n' >"$BATS_TEST_TMPDIR/other"
	chmod 600 "$BATS_TEST_TMPDIR/other"
	run_with "$url" imgp-url --verify -k "$BATS_TEST_TMPDIR/other"
	assert_failure 1
	assert_output bad_signature
}

@test "verify: malformed URLs" {
	url=$(url_of ab/x.png -S hmac -k "$KEY" --expires-at 2000000000)
	sig=${url##*sig=}
	run_with "not a url
/assets/ab/x.png
/assets/ab/x.png?sig=$sig
/assets/ab/x.png?expires=02000000000&sig=$sig
/assets/ab/x.png?expires=2000000000&expires=2000000000&sig=$sig
/assets/ab/x.png?expires=2000000000&sig=${sig:1}
/assets/ab/x.png?expires=2000000000&sig=$sig&md5=abc
/assets/ab/%2e%2e/x.png?expires=2000000000&sig=$sig
{broken
$url" imgp-url --verify -k "$KEY"
	assert_failure 1
	assert_output "$(printf 'malformed\n%.0s' $(seq 9))"$'\nok'
}

@test "verify: a record without url is missing_field; error records pass through" {
	run_with $'{"a":1}\n{"error":{"code":"x"}}' imgp-url --verify -k "$KEY"
	assert_failure 1
	assert_equal "$(line_jq 1 .error.field)" url
	assert_equal "${lines[1]}" '{"error":{"code":"x"}}'
}

@test "key file: one trailing newline is not part of the key" {
	printf 'test-key-0123' >"$BATS_TEST_TMPDIR/bare"
	chmod 600 "$BATS_TEST_TMPDIR/bare"
	a=$(url_of a.png -S hmac -k "$KEY" --expires-at 2000000000)
	b=$(url_of a.png -S hmac -k "$BATS_TEST_TMPDIR/bare" --expires-at 2000000000)
	assert_equal "$a" "$b"
}

@test "key file: readable by others warns; empty or missing is exit 2; never printed" {
	chmod 644 "$KEY"
	run_with '{"asset":{"path":"a.png"}}' imgp-url -S hmac -k "$KEY" -e 1h
	assert_success
	assert_regex "$stderr" "^imgp-url: --key-file .*key: readable by others"
	refute_regex "$stderr$output" test-key-0123
	: >"$BATS_TEST_TMPDIR/empty"
	run_with '{"asset":{"path":"a.png"}}' imgp-url -S hmac -k "$BATS_TEST_TMPDIR/empty" -e 1h
	assert_failure 2
	assert_equal "$output" ""
	run_with '' imgp-url --verify -k "$BATS_TEST_TMPDIR/missing"
	assert_failure 2
}

@test "nginx: a key that nginx.conf cannot hold as written is exit 2" {
	printf 'a$b\n' >"$KEY"
	run_with '' imgp-url -S nginx -k "$KEY" -e 1h
	assert_failure 2
	assert_regex "$stderr" "printable ASCII"
	refute_regex "$stderr" 'a\$b'
}

@test "options that do not go together are exit 2" {
	local args
	for args in "-S hmac -e 1h" "-S hmac -k $KEY" "-S rsa -k $KEY -e 1h" \
	    "-k $KEY" "-e 1h" "--verify" "--verify -k $KEY -S hmac" \
	    "-S hmac -k $KEY -e 1h --expires-at 2000000000" \
	    "-S hmac -k $KEY -e 0" "-S hmac -k $KEY -e 5y" \
	    "-S hmac -k $KEY --expires-at 12x"; do
		run_with '' imgp-url $args
		assert_failure 2
	done
}

@test "signing needs a path a server sees, and no query or fragment" {
	local args
	for args in "-b assets/" "-t {path}" "-t /x/{path}?a=b" "-t /x/{path}#f"; do
		run_with '' imgp-url -S hmac -k "$KEY" -e 1h $args
		assert_failure 2
		assert_regex "$stderr" "cannot be signed"
	done
}

@test "-h prints the synopsis" {
	run imgp-url -h
	assert_success
	assert_equal "${lines[0]}" 'usage: imgp-url [-hqV] [--verify] [-b base] [-t template] [-S hmac | nginx | s3] [-k key-file] [-s store] [-e duration | --expires-at time] [file ...]'
	assert_line '  -S hmac | nginx | s3, --sign hmac | nginx | s3  sign the URLs, with an HMAC, as nginx secure_link checks them, or presigned for S3'
}

@test "the EXAMPLES of imgp-url(1) run as printed" {
	cd "$BATS_TEST_TMPDIR"
	run bash -c "set -e -o pipefail; $(man_examples imgp-url.1)"
	assert_success
	assert_line '{"asset":{"path":"ab/turn 1.png"},"url":"https://cdn.example/assets/ab/turn%201.png"}'
	assert_line --regexp '"verify":"ok"}$'
}

# key_file NAME CONTENT — a key file (mode 600) in the test's directory.
key_file() {
	printf '%s' "$2" >"$BATS_TEST_TMPDIR/$1"
	chmod 600 "$BATS_TEST_TMPDIR/$1"
	echo "$BATS_TEST_TMPDIR/$1"
}

@test "rotation: the first key signs with kid; the old key listed second still verifies" {
	local old both url
	old=$(key_file old $'old-1:test-key-0123\nolder:retired-key\n')
	both=$(key_file both $'new_2:fresh-secret\nold-1:test-key-0123\n')
	url=$(url_of ab/x.png -S hmac -k "$old" --expires-at 2000000000)
	want=$(printf 'imgp-url/1\n2000000000\n/assets/ab/x.png' |
	    openssl dgst -sha256 -hmac test-key-0123 -binary | b64url)
	assert_equal "$url" "/assets/ab/x.png?expires=2000000000&sig=$want&kid=old-1"
	new=$(url_of ab/x.png -S hmac -k "$both" --expires-at 2000000000)
	assert_regex "$new" '&kid=new_2$'
	run_with "$url"$'\n'"$new" imgp-url --verify -k "$both"
	assert_success
	assert_output $'ok\nok'
	# CRLF lines are read as LF lines.
	run_with "$url"$'\n'"$new" imgp-url --verify -k "$(key_file crlf $'new_2:fresh-secret\r\nold-1:test-key-0123\r\n')"
	assert_success
	assert_output $'ok\nok'
	# The old file alone does not know the new key.
	run_with "$new" imgp-url --verify -k "$old"
	assert_failure 1
	assert_output bad_signature
}

@test "rotation: kid chooses the key; an unknown kid is bad_signature" {
	local both url sig
	both=$(key_file both $'new:fresh-secret\nold:test-key-0123')
	url=$(url_of ab/x.png -S hmac -k "$both" --expires-at 2000000000)
	run_with "${url/kid=new/kid=old}"$'\n'"${url/kid=new/kid=gone}"$'\n'"${url/kid=new/kid=}"$'\n'"$url&kid=new" \
	    imgp-url --verify -k "$both"
	assert_failure 1
	assert_output $'bad_signature\nbad_signature\nbad_signature\nmalformed'
}

@test "rotation: URLs signed with a bare key hold once it is listed second with an id" {
	local both url
	url=$(url_of ab/x.png -S hmac -k "$KEY" --expires-at 2000000000)
	refute_regex "$url" kid
	both=$(key_file both $'new:fresh-secret\nold:test-key-0123\n')
	nginx_url=$(url_of ab/x.png -S nginx -k "$KEY" --expires-at 2000000000)
	run_with "$url"$'\n'"$nginx_url" imgp-url --verify -k "$both"
	assert_success
	assert_output $'ok\nok'
}

@test "rotation: --sign nginx signs with the first key and adds no kid" {
	local both
	both=$(key_file both $'new:fresh-secret\nold:test-key-0123\n')
	url=$(url_of 'ab/x.png' -S nginx -k "$both" --expires-at 2000000000)
	want=$(printf '2000000000/assets/ab/x.png fresh-secret' | openssl md5 -binary | b64url)
	assert_equal "$url" "/assets/ab/x.png?md5=$want&expires=2000000000"
}

@test "a one-line bare key stays a bare key: no kid, the whole line is the secret" {
	local bare
	bare=$(key_file bare 'not an id:has a colon')
	url=$(url_of a.png -S hmac -k "$bare" --expires-at 2000000000)
	want=$(printf 'imgp-url/1\n2000000000\n/assets/a.png' |
	    openssl dgst -sha256 -hmac 'not an id:has a colon' -binary | b64url)
	assert_equal "$url" "/assets/a.png?expires=2000000000&sig=$want"
}

@test "key file: malformed or mixed lines are exit 2 with the line number, never the secret" {
	local f content
	for content in $'k1:secret-one\nsecret-two' $'k1:secret-one\n\nk2:secret-two' \
	    $'k1:secret-one\nk2:' $'k1:secret-one\nk1:secret-two' \
	    $'k1:secret-one\nthirty-three-characters-long-id-x:secret-two' \
	    $'k1:secret-one\nk 2:secret-two'; do
		f=$(key_file bad "$content")
		run_with '' imgp-url --verify -k "$f"
		assert_failure 2
		assert_regex "$stderr" "^imgp-url: --key-file .*bad: line [23]"
		refute_regex "$stderr$output" 'secret-'
	done
}

@test "libcurl is loaded only when a path segment needs escaping (one-shot start-up)" {
	run bash -c 'echo "{\"asset\":{\"path\":\"ab/$(printf "%064d" 0).png\"}}" | LD_DEBUG=files imgp-url 2>&1 >/dev/null'
	refute_output --partial "file=libcurl.so"
	run bash -c 'echo "{\"asset\":{\"path\":\"ab/a b.png\"}}" | LD_DEBUG=files imgp-url 2>&1'
	assert_output --partial "file=libcurl.so"
	assert_output --partial '"url":"/assets/ab/a%20b.png"'
}
