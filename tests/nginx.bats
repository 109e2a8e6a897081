# contrib/nginx/imgp.conf in a real nginx, with links signed by imgp-url,
# and contrib/nginx/imgp-plain.conf beside it on another port, serving
# unsigned links.  One nginx for the two files, on 127.0.0.1 and a free port, in a temporary
# prefix; it is stopped in teardown_file, and cannot outlive two minutes.

load helper

NGINX=/usr/sbin/nginx
KEY=0123456789abcdef-test-key

# The bytes of a tiny PNG, and the store layout imgp-store writes.
# TODO(lead): store with imgp-store once it is merged.
store_image() {
	local sha
	printf '\211PNG\r\n\032\n%s' "$1" >"$BATS_FILE_TMPDIR/image"
	sha=$(sha256sum "$BATS_FILE_TMPDIR/image" | cut -c1-64)
	mkdir -p "$STORE/${sha:0:2}"
	mv "$BATS_FILE_TMPDIR/image" "$STORE/${sha:0:2}/$sha.png"
	printf '%s/%s.png' "${sha:0:2}" "$sha"
}

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

setup_file() {
	local dir=$BATS_FILE_TMPDIR/nginx i
	STORE=$BATS_FILE_TMPDIR/store
	PORT=$(free_port)
	PLAIN_PORT=$(free_port)
	mkdir -p "$dir/tmp" "$STORE/sessions"
	printf '%s\n' "$KEY" >"$BATS_FILE_TMPDIR/key"
	chmod 600 "$BATS_FILE_TMPDIR/key"
	IMAGE=$(store_image one)
	OTHER=$(store_image two)
	printf '{"turn":0}\n' >"$STORE/sessions/s1.ndjson"
	sed -e "s|listen 8080;|listen 127.0.0.1:$PORT;|" \
	    -e "s|/srv/imgp-store/|$STORE/|" \
	    -e "s|CHANGE-ME-TO-THE-KEY|$KEY|" \
	    "$ROOT/contrib/nginx/imgp.conf" >"$dir/imgp.conf"
	sed -e "s|listen 8080;|listen 127.0.0.1:$PLAIN_PORT;|" \
	    -e "s|/srv/imgp-store/|$STORE/|" \
	    "$ROOT/contrib/nginx/imgp-plain.conf" >"$dir/imgp-plain.conf"
	mkdir -p "$STORE/requests/ab" "$STORE/lantern"
	printf '{}\n' >"$STORE/requests/ab/ab.json"
	cp "$STORE/$IMAGE" "$STORE/lantern/turn-0.png"
	cp "$STORE/$IMAGE" "$STORE/lantern/.tmp-1.png"
	cp "$STORE/$IMAGE" "$STORE/lantern/notes.txt"
	printf 'secret\n' >"$BATS_FILE_TMPDIR/secret.png"
	ln -s "$BATS_FILE_TMPDIR/secret.png" "$STORE/lantern/link.png"
	# Workers of a root master would run as nobody, who cannot read a
	# private temporary directory.
	cat >"$dir/nginx.conf" <<-EOF
		$( [ "$(id -u)" -ne 0 ] || echo "user $(id -un) $(id -gn);" )
		worker_processes 1;
		pid $dir/nginx.pid;
		error_log $dir/error.log;
		events { worker_connections 64; }
		http {
			access_log $dir/access.log;
			client_body_temp_path $dir/tmp/body;
			proxy_temp_path $dir/tmp/proxy;
			fastcgi_temp_path $dir/tmp/fastcgi;
			uwsgi_temp_path $dir/tmp/uwsgi;
			scgi_temp_path $dir/tmp/scgi;
			include $dir/imgp.conf;
			include $dir/imgp-plain.conf;
		}
	EOF
	timeout 120 "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
	    -g 'daemon off;' >"$dir/stdout" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/nginx.pid"
	for i in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
		sleep 0.1
	done
	curl -s -o /dev/null "http://127.0.0.1:$PORT/" ||
	    { cat "$dir/error.log" "$dir/stdout" >&2; return 1; }
	export STORE PORT PLAIN_PORT IMAGE OTHER
}

teardown_file() {
	local pid
	pid=$(cat "$BATS_FILE_TMPDIR/nginx.pid" 2>/dev/null) || return 0
	# timeout(1) passes the signal on to nginx, which stops its workers.
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

# The URL imgp-url gives asset path $1, signed with the extra options $2….
sign() {
	local path=$1
	shift
	printf '{"asset":{"path":"%s"}}\n' "$path" |
	    imgp-url --sign nginx --key-file "$BATS_FILE_TMPDIR/key" "$@" |
	    jq -r .url
}

# The URL of path $1 signed by hand as nginx checks it (imgp-url refuses
# to sign what these tests ask nginx for).
hand_sign() {
	local expires md5
	expires=$(($(date +%s) + 3600))
	md5=$(printf '%s/assets/%s %s' "$expires" "$1" "$KEY" |
	    openssl md5 -binary | base64 | tr '+/' '-_' | tr -d '=')
	printf '/assets/%s?md5=%s&expires=%s' "$1" "$md5" "$expires"
}

# HTTP status of GET $1 (a path on our nginx).
status() {
	curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$1"
}

@test "a signed link serves the stored bytes as image/png" {
	url=$(sign "$IMAGE" --expires 1h)
	run curl -s -D "$BATS_TEST_TMPDIR/headers" -o "$BATS_TEST_TMPDIR/got" \
	    -w '%{http_code}' "http://127.0.0.1:$PORT$url"
	assert_output 200
	cmp "$BATS_TEST_TMPDIR/got" "$STORE/$IMAGE"
	run grep -i '^content-type:' "$BATS_TEST_TMPDIR/headers"
	assert_output --regexp '^Content-Type: image/png'$'\r''?$'
	run grep -i '^x-content-type-options:' "$BATS_TEST_TMPDIR/headers"
	assert_output --partial nosniff
}

@test "a content-addressed image is cached for a year, immutable" {
	url=$(sign "$IMAGE" --expires 1h)
	run curl -s -o /dev/null -D - "http://127.0.0.1:$PORT$url"
	assert_line --regexp '^Cache-Control: private, max-age=31536000, immutable'
}

@test "a readable name with any bytes is served, and revalidated" {
	mkdir -p "$STORE/s1"
	printf 'named' >"$STORE/s1/turn 1 é#?%+.png"
	url=$(sign "s1/turn 1 é#?%+.png" --expires 1h)
	run curl -s -D - "http://127.0.0.1:$PORT$url"
	assert_line --regexp '^HTTP/1.1 200'
	assert_line --regexp '^Cache-Control: private, no-cache'
	assert_line named
}

@test "the signature of one path does not open another" {
	url=$(sign "$IMAGE" --expires 1h)
	run status "/assets/$OTHER?${url#*\?}"
	assert_output 403
}

@test "a tampered signature or expiry is 403" {
	url=$(sign "$IMAGE" --expires 1h)
	sig=${url#*md5=}
	sig=${sig%%&*}
	flipped=$( [ "${sig:0:1}" = A ] && echo B || echo A )${sig:1}
	run status "${url/md5=$sig/md5=$flipped}"
	assert_output 403
	expires=${url##*expires=}
	run status "${url/expires=$expires/expires=$((expires + 86400))}"
	assert_output 403
	run status "/assets/$IMAGE"
	assert_output 403
}

@test "a signature for another base is 403" {
	url=$(sign "$IMAGE" --expires 1h --base https://cdn.example/other/)
	run status "/assets/$IMAGE?${url#*\?}"
	assert_output 403
}

@test "a signed link past its expiry is 410" {
	url=$(sign "$IMAGE" --expires-at 1000000000)
	run status "$url"
	assert_output 410
}

@test "session journals are never served, signed or not" {
	run status "$(hand_sign sessions/s1.ndjson)"
	assert_output 404
	run status /assets/sessions/s1.ndjson
	assert_output 404
}

@test "a store directory is not listed" {
	run curl -s -w '\n%{http_code}' \
	    "http://127.0.0.1:$PORT$(hand_sign "${IMAGE%%/*}/")"
	refute_output --partial "${IMAGE#*/}"
	assert_line --index -1 404
}

@test "13.10: imgp-gen's request files are never served, signed or not" {
	mkdir -p "$STORE/requests/ab"
	printf '{"request":{"prompt":"secret"}}' >"$STORE/requests/ab/abcd.json"
	run status "$(hand_sign requests/ab/abcd.json)"
	assert_output 404
	run status /assets/requests/ab/abcd.json
	assert_output 404
	# a request file named like an image, too
	printf 'x' >"$STORE/requests/ab/abcd.png"
	run status "$(hand_sign requests/ab/abcd.png)"
	assert_output 404
	run --separate-stderr bash -c 'printf "{\"asset\":{\"path\":\"requests/ab/abcd.json\"}}\n" |
	    imgp-url --sign nginx --key-file "$0" --expires 1h' "$BATS_FILE_TMPDIR/key"
	assert_failure 1
	assert_equal "$(jq -r .error.field <<<"$output")" asset.path
}

@test "13.10: only image files are served, signed or not" {
	printf 'notes' >"$STORE/notes.txt"
	printf 'notes' >"$STORE/notes"
	run status "$(hand_sign notes.txt)"
	assert_output 404
	run status "$(hand_sign notes)"
	assert_output 404
	run status "$(hand_sign "${IMAGE%/*}/.tmp-1-0")"
	assert_output 404
	# the journals, even named like an image
	printf 'x' >"$STORE/sessions/s2.png"
	run status "$(hand_sign sessions/s2.png)"
	assert_output 404
}

@test "13.10: a symbolic link inside the store is not followed" {
	printf '\211PNG\r\n\032\nprivate' >"$BATS_FILE_TMPDIR/private.png"
	ln -sf "$BATS_FILE_TMPDIR/private.png" "$STORE/out.png"
	ln -sf "$STORE/$IMAGE" "$STORE/in.png"
	mkdir -p "$BATS_FILE_TMPDIR/elsewhere"
	cp "$BATS_FILE_TMPDIR/private.png" "$BATS_FILE_TMPDIR/elsewhere/x.png"
	ln -sfn "$BATS_FILE_TMPDIR/elsewhere" "$STORE/linked"
	local p
	for p in out.png in.png linked/x.png; do
		run curl -s -o "$BATS_TEST_TMPDIR/got" -w '%{http_code}' \
		    "http://127.0.0.1:$PORT$(sign "$p" --expires 1h)"
		# 403 for a link, 404 for a linked directory (ENOTDIR)
		assert_regex "$output" '^40[34]$'
		run grep -c private "$BATS_TEST_TMPDIR/got"
		assert_output 0
	done
	# the real file still is
	run status "$(sign "$IMAGE" --expires 1h)"
	assert_output 200
}

# HTTP status of GET $1 on the plain configuration's port.
plain_status() {
	curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PLAIN_PORT$1"
}

@test "plain: an unsigned link serves the stored bytes, content-addressed ones cached for a year" {
	local url
	url=$(printf '{"asset":{"path":"%s"}}\n' "$IMAGE" | imgp-url --base /assets/ | jq -r .url)
	run curl -s -D "$BATS_TEST_TMPDIR/headers" -o "$BATS_TEST_TMPDIR/got" \
	    -w '%{http_code}' "http://127.0.0.1:$PLAIN_PORT$url"
	assert_output 200
	cmp "$BATS_TEST_TMPDIR/got" "$STORE/$IMAGE"
	run grep -i -e '^content-type:' -e '^cache-control:' -e '^x-content-type-options:' "$BATS_TEST_TMPDIR/headers"
	assert_line --regexp '^Content-Type: image/png'
	assert_line --regexp '^Cache-Control: public, max-age=31536000, immutable'
	assert_line --regexp '^X-Content-Type-Options: nosniff'
	run plain_status /assets/lantern/turn-0.png
	assert_output 200
}

@test "plain: journals, request files, temporary files, links, other files and directories are 404" {
	local path
	for path in /assets/lantern/link.png /assets/sessions/s1.ndjson /assets/requests/ab/ab.json \
	    /assets/lantern/.tmp-1.png /assets/lantern/notes.txt /assets/lantern/ \
	    /assets/ "/assets/${IMAGE%%/*}/" /assets/lantern/../sessions/s1.ndjson \
	    /assets/%73essions/s1.ndjson /assets/../../etc/passwd /; do
		run plain_status "$path"
		[ "$output" = 404 ] || [ "$output" = 403 ] || [ "$output" = 400 ] || fail "$path: $output"
	done
}
