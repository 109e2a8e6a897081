#!/usr/bin/env bats
# Trust boundaries of imgp-gen and imgp-url (issue 13): what records,
# provider answers and key files can make a tool read, fetch, reveal or
# spend.  HTTP goes only to mock providers on loopback.

load helper

KEY=sk-trust-0123456789abcdef

setup() {
	export IMGP_API_KEY=$KEY
}

teardown() {
	mock_stop
}

# --- 13: no O_NONBLOCK on a shared descriptor ---------------------------------

@test "trust: on a terminal a large record is written whole (no O_NONBLOCK on shared stdin)" {
	# Under script(1) standard input and output are one open file, the
	# terminal: a record of ~300 kB is more than the terminal takes at once.
	printf '%s\n' '{"session":"s","turn":1,"request":{"prompt":"a lighthouse","seed":3,"size":"1536x1536"}}' >"$BATS_TEST_TMPDIR/in"
	run script -qec "imgp-gen --api local --no-progress; echo EXIT=\$?" /dev/null <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output --partial "EXIT=0"
	refute_output --partial "write error"
	record=$(tr -d '\r' <<<"$output" | grep '"image"')
	assert_equal "$(jq -r .image.data <<<"$record" | base64 -d | wc -c)" "$(jq -r .image.bytes <<<"$record")"
}

# --- 2: signing keys --------------------------------------------------------

# key_file NAME CONTENT — a key file (mode 600) in the test's directory,
# CONTENT as printf(1) reads its format.
key_file() {
	printf "$2" >"$BATS_TEST_TMPDIR/$1"
	chmod 600 "$BATS_TEST_TMPDIR/$1"
	echo "$BATS_TEST_TMPDIR/$1"
}

b64url() {
	base64 -w0 | tr '+/' '-_' | tr -d =
}

# url_of PATH ARGS… — the URL imgp-url makes for the asset PATH.
url_of() {
	jq -cn --arg p "$1" '{asset:{path:$p}}' | imgp-url "${@:2}" | jq -r .url
}

@test "trust: a key file holding a NUL byte is exit 2 naming its line, for imgp-url and imgp-gen" {
	local content f line
	for content in '\0abc' 'abc\0def' 'k1:secret-a\nk2:secret\0-b\n' '\0'; do
		f=$(key_file nul "$content")
		line=1
		[[ $content == k1* ]] && line=2
		run_with '{"asset":{"path":"a.png"}}' imgp-url -S hmac -k "$f" -e 1d
		assert_failure 2
		assert_equal "$stderr" "imgp-url: --key-file $f: line $line holds a NUL byte"
		assert_output ""
		run_with '{"request":{"prompt":"p"}}' imgp-gen --api-key-file "$f" --dry-run
		assert_failure 2
		assert_equal "$stderr" "imgp-gen: --api-key-file $f: line $line holds a NUL byte"
	done
}

@test "trust: keys are their full length: keys that differ after a NUL-free prefix do not verify each other" {
	local a b url
	a=$(key_file a 'shared-prefix-A')
	b=$(key_file b 'shared-prefix-AB')
	url=$(url_of ab/x.png -S hmac -k "$a" --expires-at 2000000000)
	run_with "$url" imgp-url --verify -k "$b"
	assert_failure 1
	assert_output bad_signature
	want=$(printf 'imgp-url/1\n2000000000\n/assets/ab/x.png' |
	    openssl dgst -sha256 -hmac shared-prefix-A -binary | b64url)
	assert_equal "$url" "/assets/ab/x.png?expires=2000000000&sig=$want"
}

@test "trust: a one-line key file containing ':' is one bare key, never ID:SECRET" {
	local f url want
	f=$(key_file colon 'team:blue\n')
	url=$(url_of ab/x.png -S hmac -k "$f" --expires-at 2000000000)
	want=$(printf 'imgp-url/1\n2000000000\n/assets/ab/x.png' |
	    openssl dgst -sha256 -hmac team:blue -binary | b64url)
	assert_equal "$url" "/assets/ab/x.png?expires=2000000000&sig=$want"
	# nginx's secure_link_md5 gets the whole line too, as imgp.conf says.
	url=$(url_of ab/x.png -S nginx -k "$f" --expires-at 2000000000)
	want=$(printf '2000000000/assets/ab/x.png team:blue' | openssl md5 -binary | b64url)
	assert_equal "$url" "/assets/ab/x.png?md5=$want&expires=2000000000"
	grep -q "whole line (colons included)" "$ROOT/contrib/nginx/imgp.conf"
	# Listed second with an id, written as it was, it still verifies.
	run_with "$(url_of ab/x.png -S hmac -k "$f" --expires-at 2000000000)" \
	    imgp-url --verify -k "$(key_file both 'new:fresh\nold:team:blue\n')"
	assert_success
	assert_output ok
}

@test "trust: a key of only white space counts as missing" {
	local f
	for content in ' \n' '\t  \r\n' '\n'; do
		f=$(key_file blank "$content")
		run_with '{"asset":{"path":"a.png"}}' imgp-url -S hmac -k "$f" -e 1d
		assert_failure 2
		assert_equal "$stderr" "imgp-url: --key-file $f: the file holds no key"
		run_with '{"request":{"prompt":"p"}}' imgp-gen --api-key-file "$f"
		assert_failure 2
		assert_equal "$stderr" "imgp-gen: --api-key-file $f: the file holds no key"
	done
	f=$(key_file lines 'k1:secret-one\nk2: \t\n')
	run_with '{"asset":{"path":"a.png"}}' imgp-url -S hmac -k "$f" -e 1d
	assert_failure 2
	assert_equal "$stderr" "imgp-url: --key-file $f: line 2 has an empty secret"
	IMGP_API_KEY='   ' run_with '{"request":{"prompt":"p"}}' imgp-gen
	assert_failure 2
	assert_regex "$stderr" "^imgp-gen: no API key"
}

# --- 8: image downloads only over https or from the base URL's origin --------

# other_start — a second mock on another port: OTHER_ORIGIN, OTHER_LOG.
other_start() {
	local dir=$BATS_TEST_TMPDIR/other
	mkdir -p "$dir"
	mock_spawn "$dir" || return 1
	OTHER_LOG=$dir/mock.log
	OTHER_PID=$SPAWNED_PID
	OTHER_ORIGIN=http://127.0.0.1:$SPAWNED_PORT
}

other_stop() {
	[ -z "${OTHER_PID:-}" ] || { kill "$OTHER_PID"; wait "$OTHER_PID"; } 2>/dev/null
	return 0
}

@test "trust: an image URL on another http origin is refused before connecting" {
	mock_start
	other_start
	in=$(jq -cn --arg o "$OTHER_ORIGIN" '
	    {request:{prompt:"[mock reply=url image-origin=\($o)] elsewhere"}},
	    {request:{prompt:"[mock reply=redirect redirect-to=\($o)] redirected"}},
	    {request:{prompt:"[mock reply=redirect] another host name"}},
	    {request:{prompt:"[mock reply=url image-origin=http://127.0.0.1:1] refused port"}},
	    {request:{prompt:"[mock reply=url] same origin"}}')
	run_with "$in" imgp-gen --base-url "$MOCK_URL" --retry-delay 0.01
	other_stop
	assert_failure 1
	assert_equal "${#lines[@]}" 5
	for i in 1 2 3 4; do
		assert_equal "$(line_jq $i .error.code)" download_refused
		assert_equal "$(line_jq $i .error.retryable)" false
		assert_equal "$(line_jq $i '.error.attempts[-1].download')" true
	done
	assert_regex "$(line_jq 1 .error.message)" "image is at $OTHER_ORIGIN, which is neither https nor the origin of the base URL"
	assert_regex "$(line_jq 3 .error.message)" "image is at http://localhost:"
	assert_equal "$(line_jq 5 .image.mime)" image/png
	# The second server saw nothing; the first served one image and one
	# redirect, and no request went to localhost's name.
	assert_equal "$(wc -c <"$OTHER_LOG")" 0
	assert_equal "$(mock_jq 'select(.method=="GET") | .path[0:5]' | sort | tr '\n' ' ')" '"/img/" "/redi" "/redi" '
	refute_output --partial "Bearer"
}

@test "trust: an image URL over https may be on any origin" {
	mock_start
	# Nothing listens on port 1: the download is tried, and fails.
	run_with '{"request":{"prompt":"[mock reply=url image-origin=https://127.0.0.1:1] tls"}}' \
	    imgp-gen --base-url "$MOCK_URL" --retry-delay 0.01 --retries 0
	assert_failure 1
	assert_equal "$(line_jq 1 .error.code)" network
}

# --- 1: references only beneath the allowed roots -----------------------------

# png FILE — an 8x8 PNG drawn by the local renderer.
png() {
	imgp-gen --api local <<<"{\"request\":{\"prompt\":\"$(basename "$1")\",\"seed\":1,\"size\":\"8x8\"}}" |
		jq -r .image.data | base64 -d >"$1"
}

# refs PATH… — one record a path, each path a reference with its true
# SHA-256 when it is a regular file we can read (else a made-up one).
refs() {
	local p s
	for p in "$@"; do
		s=
		[ ! -f "$p" ] || s=$(sha256sum "$p" 2>/dev/null | cut -c1-64)
		jq -cn --arg p "$p" --arg s "${s:-$(printf '%064d' 0)}" '{request:{prompt:"r \($p)",references:[{path:$p,sha256:$s}]}}'
	done
}

@test "trust: a reference outside the allowed roots (/etc/passwd, /dev/zero, a FIFO, /dev/stdin) is one error line each, never a hang" {
	mock_start
	mkdir "$BATS_TEST_TMPDIR/root"
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	refs /etc/passwd /dev/zero "$BATS_TEST_TMPDIR/fifo" /dev/stdin >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 60 imgp-gen --base-url "$MOCK_URL" \
	    --reference-root "$BATS_TEST_TMPDIR/root" <"$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "${#lines[@]}" 4
	for i in 1 2 3 4; do
		assert_equal "$(line_jq $i .error.code)" reference
		assert_regex "$(line_jq $i .error.message)" "^reference [^ ]+: not a file imgp-gen may read \(only files under the store, the profile's directory and each --reference-root are\)$"
	done
	# No hash oracle: the file's own SHA-256 is never told.
	refute_regex "$(jq -c .error <<<"$output")$stderr" "$(sha256sum /etc/passwd | cut -c1-64)"
	assert_equal "$(wc -l <"$MOCK_LOG")" 0
	# A missing file outside the roots reads the same as a forbidden one.
	run_with "$(refs /nonexistent/x.png)" imgp-gen --base-url "$MOCK_URL" \
	    --reference-root "$BATS_TEST_TMPDIR/root"
	assert_equal "$(line_jq 1 .error.message)" "reference /nonexistent/x.png: not a file imgp-gen may read (only files under the store, the profile's directory and each --reference-root are)"
}

@test "trust: beneath a root, links, dot-dot, FIFOs, devices and big files are refused; a good file is sent" {
	local r=$BATS_TEST_TMPDIR/root
	mock_start
	mkdir -p "$r/sub"
	png "$r/good.png"
	png "$BATS_TEST_TMPDIR/secret.png"
	ln -s "$BATS_TEST_TMPDIR/secret.png" "$r/link.png"
	ln -s "$BATS_TEST_TMPDIR" "$r/sub/up"
	mkfifo "$r/fifo.png"
	head -c 5000 /dev/urandom >"$r/big.png"
	cp "$r/good.png" "$r/sub/good.png"
	refs "$r/good.png" "$r/link.png" "$r/sub/up/secret.png" "$r/../secret.png" \
	    "$r/sub/../../secret.png" "$r/fifo.png" "$r/big.png" "$r/sub/./../sub/good.png" \
	    >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 60 imgp-gen --base-url "$MOCK_URL" \
	    --reference-root "$r" --max-reference-bytes 4096 <"$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "${#lines[@]}" 8
	assert_equal "$(line_jq 1 .image.mime)" image/png
	assert_equal "$(line_jq 8 .image.mime)" image/png
	assert_regex "$(line_jq 2 .error.message)" "link.png: a symbolic link, which is not followed$"
	assert_regex "$(line_jq 3 .error.message)" "secret.png: a symbolic link, which is not followed$"
	assert_regex "$(line_jq 4 .error.message)" "secret.png: not a file imgp-gen may read"
	assert_regex "$(line_jq 5 .error.message)" "secret.png: not a file imgp-gen may read"
	assert_regex "$(line_jq 6 .error.message)" "fifo.png: not a regular file$"
	assert_regex "$(line_jq 7 .error.message)" "big.png: larger than --max-reference-bytes \(4096\)$"
	# Only the two good records were sent, each with the file's bytes.
	assert_equal "$(wc -l <"$MOCK_LOG")" 2
	assert_equal "$(mock_jq '.body.messages[0].content[1].image_url.url' | sort -u)" \
	    "\"data:image/png;base64,$(base64 -w0 "$r/good.png")\""
}

@test "trust: the store, the profile's directory and each --reference-root are roots; relative paths too" {
	local t=$BATS_TEST_TMPDIR
	mock_start
	mkdir -p "$t/store/ab" "$t/world" "$t/extra" "$t/elsewhere"
	png "$t/store/ab/prev.png"
	png "$t/world/style.png"
	png "$t/extra/more.png"
	png "$t/elsewhere/no.png"
	echo '{}' >"$t/world/world.json"
	cd "$t"
	refs store/ab/prev.png world/style.png extra/more.png elsewhere/no.png >in
	run --separate-stderr imgp-gen --base-url "$MOCK_URL" -s store \
	    --profile world/world.json --reference-root "$t/extra" <in
	assert_failure 1
	assert_equal "$(jq -r '.image.mime // .error.code' <<<"$output" | tr '\n' ' ')" "image/png image/png image/png reference "
	# IMGP_PROFILE, which imgp-enrich reads too, names the profile.
	IMGP_PROFILE=world/world.json run_with "$(refs world/style.png)" imgp-gen --base-url "$MOCK_URL"
	assert_success
	# A --reference-root that does not exist is a setup error.
	run_with "$(refs world/style.png)" imgp-gen --base-url "$MOCK_URL" --reference-root "$t/none"
	assert_failure 2
	assert_regex "$stderr" "^imgp-gen: --reference-root $t/none: No such file"
}

# --- 3: an echoed key is scrubbed from everything written -------------------

@test "trust: a provider echoing the key (raw, Bearer, \\u-escaped) gets it into no output, cache file or stderr" {
	local t=$BATS_TEST_TMPDIR
	mock_start
	in=$(for f in raw bearer escaped; do
		jq -cn --arg f "$f" '{session:"s",turn:1,request:{prompt:"[mock echo=\($f)] echo \($f)"}}'
	done; jq -cn '{session:"s",turn:2,request:{prompt:"[mock status=400 echo=bearer] fails"}}')
	run_with "$in" imgp-gen --base-url "$MOCK_URL" --retry-delay 0.01 -s "$t/store" --cache -v --progress
	assert_failure 1
	assert_equal "${#lines[@]}" 4
	for i in 1 2 3; do
		assert_equal "$(line_jq $i .image.mime)" image/png
		assert_regex "$(line_jq $i .image.text)" '^You sent (Bearer )?\[redacted\]$'
		assert_regex "$(line_jq $i .image.usage.echo)" '^(Bearer )?\[redacted\]$'
		assert_equal "$(line_jq $i '.image.usage.cost')" 0.039
	done
	assert_regex "$(line_jq 4 .error.message)" 'you sent Bearer \[redacted\]'
	# Nowhere: not on stdout, not on stderr, not in any file of the store.
	refute_regex "$output$stderr" "$KEY"
	refute_regex "$output$stderr" 'u0073u006b|\\u0073\\u006b'
	run grep -rlF -e "$KEY" -e '\u0073\u006b\u002d' "$t/store"
	assert_failure 1
	[ -n "$(ls -A "$t/store/requests")" ]
	# The cache answers the next run with the scrubbed text.
	run_with "$(head -1 <<<"$in")" imgp-gen --base-url "$MOCK_URL" -s "$t/store" --cache
	assert_success
	assert_equal "$(line_jq 1 .image.cached)" true
	assert_equal "$(line_jq 1 .image.text)" "You sent [redacted]"
}

# core_at STOP FILE ARGS… — run imgp-gen ARGS… under gdb, stopped at STOP
# (a function, or "exit" for its last system call), and write its whole
# memory to FILE.
core_at() {
	local stop=$1 core=$2
	shift 2
	if [ "$stop" = exit ]; then
		stop='catch syscall exit_group'
	else
		stop="break $stop"
	fi
	gdb -nx -batch -ex 'set pagination off' -ex "$stop" -ex run \
	    -ex "generate-core-file $core" -ex kill --args "$ROOT/bin/imgp-gen" "$@" \
	    >"$core.log" 2>&1
	[ -s "$core" ] || { cat "$core.log"; return 1; }
}

@test "trust: the API key is wiped from memory at the end: a core of imgp-gen at exit holds no copy" {
	local t=$BATS_TEST_TMPDIR key=sk-wipe-0123456789abcdefghijklmnopqrstuv
	# ASan reserves terabytes of shadow memory: no core of it is sane.
	[[ $(readlink "$ROOT/bin") != build/sanitize/* ]] || skip "the sanitizer build"
	mock_start
	printf '%s\n' "$key" >"$t/key"
	chmod 600 "$t/key"
	# Read from a file (the environment's copy is the process's own, and
	# stays), sent on requests that succeed, fail and are retried.
	for p in one '[mock status=500] two'; do
		jq -cn --arg p "$p" '{request:{prompt:$p}}'
	done >"$t/in"
	unset IMGP_API_KEY
	# The check can fail: before genopt_free the key is there.
	core_at genopt_free "$t/before" --base-url "$MOCK_URL" --retries 1 --retry-delay 0.01 -j 2 --api-key-file "$t/key" "$t/in"
	[ "$(grep -c -a -F -e "$key" "$t/before")" -ge 1 ]
	core_at exit "$t/core" --base-url "$MOCK_URL" --retries 1 --retry-delay 0.01 -j 2 --api-key-file "$t/key" "$t/in"
	assert_equal "$(wc -l <"$MOCK_LOG")" 6
	run grep -c -a -F -e "$key" -e "${key#sk-}" "$t/core"
	assert_output 0
}

@test "trust: --dry-run hides the user name and password of the base URL" {
	run_with '{"request":{"prompt":"p"}}' imgp-gen --dry-run \
	    --base-url 'https://alice:s3cret-pw@api.example/v1'
	assert_success
	assert_equal "$(line_jq 1 .dry_run.url)" "https://[redacted]@api.example/v1/chat/completions"
	refute_regex "$output$stderr" 's3cret-pw|alice'
}

# --- 12: budgets count only costs imgp-gen received ---------------------------

@test "trust: a record's own image.usage.cost of 1e308 neither stops a session nor prints 309 digits" {
	local t=$BATS_TEST_TMPDIR data
	mock_start
	data=$(imgp-gen --api local <<<'{"request":{"prompt":"x","seed":1,"size":"8x8"}}' | jq -r .image.data)
	# The record brings its own image and cost: imgp-gen passes it on,
	# imgp-store journals it.
	jq -cn --arg d "$data" '{session:"s",turn:1,image:{data:$d,usage:{cost:1e308}}}' |
		imgp-gen --base-url "$MOCK_URL" --session-budget 1 --budget 1 -v 2>"$t/err1" |
		imgp-store -s "$t/store" >/dev/null
	refute_regex "$(cat "$t/err1")" '[0-9]{20}'
	run_with '{"session":"s","turn":2,"request":{"prompt":"next"}}' \
	    imgp-gen --base-url "$MOCK_URL" -s "$t/store" --session-budget 1 -v
	assert_success
	assert_equal "$(line_jq 1 .image.mime)" image/png
	refute_regex "$output$stderr" '[0-9]{20}'
}

# A plausible cost is the forgery that matters: 0.9 of a budget of 1.
forged() {
	jq -cn --arg d "$data" --argjson t "$1" '{session:"s",turn:$t,image:{data:$d,mime:"image/png",usage:{cost:0.9}}}'
}

real() {
	jq -cn --argjson t "$1" '{session:"s",turn:$t,request:{prompt:"real \($t)"}}'
}

@test "trust: a plausible cost a record carries counts toward neither --budget nor --session-budget, in this run or later ones" {
	local t=$BATS_TEST_TMPDIR data
	mock_start
	data=$(imgp-gen --api local <<<'{"request":{"prompt":"x","seed":1,"size":"8x8"}}' | jq -r .image.data)
	# Through imgp-gen (which passes a record with an image on) and
	# straight into imgp-store: the journal keeps what the records said.
	{ forged 1; real 2; } |
		imgp-gen --base-url "$MOCK_URL" -s "$t/store" --budget 0.5 --session-budget 0.5 -v 2>"$t/err" |
		imgp-store -s "$t/store" >/dev/null
	assert_equal "$(tail -n 1 "$t/err")" "imgp-gen: 1 image, 0 cached, 0 failed, cost 0.0390"
	forged 3 | imgp-store -s "$t/store" >/dev/null
	assert_equal "$(jq -c .cost "$t/store/sessions/s.ndjson" | paste -sd,)" "0.9,0.039,0.9"
	# The next run counts what imgp-gen paid (0.039), not 1.839: turns 4
	# and 5 are made, turn 6 finds 0.117 spent.
	run_with "$(real 4; real 5; real 6)" imgp-gen --base-url "$MOCK_URL" -s "$t/store" -j 1 --session-budget 0.1
	assert_failure 1
	assert_equal "$(line_jq 1 .image.mime) $(line_jq 2 .image.mime)" "image/png image/png"
	assert_equal "$(line_jq 3 .error.code)" budget_exceeded
	assert_regex "$(line_jq 3 .error.message)" "session s has spent 0.1170 of its --session-budget 0.1000"
	assert_equal "$(wc -l <"$MOCK_LOG")" 3
}

@test "trust: --session-budget on an s3:// store is exit 2 (it keeps no spend ledger yet), never the journal's costs" {
	run --separate-stderr imgp-gen --session-budget 1 -s s3://bucket/store </dev/null
	assert_failure 2
	assert_equal "$stderr" "imgp-gen: --session-budget: an s3:// store keeps no spend ledger yet; use a store directory"
}

@test "trust: a cost the request cache recorded counts once, across runs, whether or not its image was stored" {
	local t=$BATS_TEST_TMPDIR
	mock_start
	# Paid for and cached; the image never reaches a journal.
	real 1 | imgp-gen --base-url "$MOCK_URL" -s "$t/store" --cache --session-budget 1 >/dev/null
	# The cache answers turn 1 again for nothing; turn 2 is paid
	# (0.078 in all) and turn 3 is past 0.05.  Counted twice, turn 1's
	# cost would stop turn 2; not counted, turn 3 would be made.
	run_with "$(real 1; real 2; real 3)" imgp-gen --base-url "$MOCK_URL" -s "$t/store" -j 1 --cache --session-budget 0.05
	assert_failure 1
	assert_equal "$(line_jq 1 .image.cached) $(line_jq 2 .image.cached)" "true false"
	assert_equal "$(line_jq 3 .error.code)" budget_exceeded
	assert_regex "$(line_jq 3 .error.message)" "session s has spent 0.0780"
	assert_equal "$(wc -l <"$MOCK_LOG")" 2
}
