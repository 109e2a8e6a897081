# Loaded by every suite: `load helper`.
# The tools under test are the ones `make` built (bin/ points at the plain
# or the SANITIZE=1 build); every test gets its own temporary directory.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
PATH="$ROOT/bin:$PATH"
export ROOT PATH

# Every tool of tools/ must be built: a missing one fails the suite (its
# tests would otherwise pass over an empty list, or run another copy
# found in PATH).
for tool in "$ROOT"/tools/*.c; do
	tool=${tool##*/}
	if [ ! -x "$ROOT/bin/${tool%.c}" ]; then
		echo "tests: $ROOT/bin/${tool%.c} is missing: run make" >&2
		return 1
	fi
done
unset tool

# Nothing from the developer's environment may leak into a test.
unset IMGP_STORE IMGP_API IMGP_API_KEY OPENROUTER_API_KEY IMGP_BASE_URL \
	OPENROUTER_BASE_URL IMGP_MODEL IMAGE_MODEL IMGP_PUBLIC_BASE_URL \
	PUBLIC_ASSETS_BASE_URL IMGP_PROFILE AWS_ENDPOINT_URL AWS_REGION \
	AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
	AWS_SESSION_TOKEN AWS_PROFILE

# ASan/UBSan: fail the test on any report.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99

# make in the tree as CI runs it (warnings are errors), for the build that
# bin/ points at: `run make_imgp demo`.
make_imgp() {
	local sanitize=
	[[ $(readlink "$ROOT/bin") != build/sanitize/* ]] || sanitize=SANITIZE=1
	make -s -C "$ROOT" DEVELOPER=1 $sanitize "$@"
}

# Run a command with stdin from a string: `run_with "$input" cmd args…`.
run_with() {
	local input=$1
	shift
	run --separate-stderr bash -c '"$@" <<<"$0"' "$input" "$@"
}

# The output line N (1-based) of the last `run`, through jq.
line_jq() {
	printf '%s\n' "${lines[$(($1 - 1))]}" | jq -r "$2"
}

# The shell commands of a man page's EXAMPLES (its indented literal
# blocks), as a script: `bash -c "$(man_examples imgp-enrich.1)"`.
man_examples() {
	mandoc -Tascii "$ROOT/man/$1" | col -bx |
		sed -n '/^EXAMPLES$/,/^SEE ALSO$/p' | sed -n 's/^         *//p'
}

# Wait for a server just started to write its port to FILE, and read it
# into SPAWNED_PORT: `port_from FILE WHAT`.  A busy machine may take
# seconds to start python or node: up to 60 s, then the test fails.
port_from() {
	local i
	for i in $(seq 1200); do
		[ -s "$1" ] && break
		sleep 0.05
	done
	[ -s "$1" ] || { echo "$2 did not start" >&2; return 1; }
	SPAWNED_PORT=$(cat "$1")
}

# Stop the server whose pid the variable named $1 holds, and clear it.
stop_server() {
	local pid=${!1:-}
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		printf -v "$1" '%s' ''
	fi
	return 0
}

# Start a mock provider with its port and log files in DIR, with the
# mock's own options after DIR; sets SPAWNED_PID and SPAWNED_PORT.
mock_spawn() {
	local dir=$1
	shift
	: >"$dir/mock.log"
	rm -f "$dir/mock.port"
	python3 "$ROOT/tests/mock-provider.py" --port-file "$dir/mock.port" \
		--log "$dir/mock.log" --max-seconds 120 "$@" 3>&- &
	SPAWNED_PID=$!
	port_from "$dir/mock.port" "mock provider" || return 1
}

# The mock provider (tests/mock-provider.py): `mock_start [--latency MS]
# [--key KEY]` starts it on a free port and sets MOCK_URL (its /v1 base)
# and MOCK_LOG (one JSON line per request); `mock_stop` (call it in
# teardown) stops it.  The server also stops itself after 120 s.
mock_start() {
	local dir=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}
	mock_spawn "$dir" "$@" || return 1
	MOCK_LOG="$dir/mock.log"
	MOCK_PID=$SPAWNED_PID
	MOCK_PORT=$SPAWNED_PORT
	MOCK_URL="http://127.0.0.1:$MOCK_PORT/v1"
	export MOCK_LOG MOCK_PID MOCK_PORT MOCK_URL
}

mock_stop() {
	stop_server MOCK_PID
}

# Wait until the mock has answered and closed every other connection
# (after the client exited, its log is complete).
mock_wait_idle() {
	curl -sf --max-time 90 "http://127.0.0.1:$MOCK_PORT/mock/idle" >/dev/null
}

# The mock's log through jq, one result per request: `mock_jq FILTER`.
mock_jq() {
	jq -c "$1" "$MOCK_LOG"
}

# The S3-compatible server (tests/s3/server.js, installed by
# scripts/install-deps): `s3_start [server options]` starts it on a free
# loopback port with a bucket "imgp", data and log in the test's directory,
# and points the AWS_* variables at it (path-style, its fixed credentials):
# S3_URL is its base, S3_LOG one line per request ("METHOD target status"),
# S3_FAULTS a file whose lines inject failures (see server.js).  If it cannot
# start, the test fails.  `s3_stop` (call it in teardown) stops it.
s3_start() {
	local dir=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}
	S3_LOG="$dir/s3.log" S3_FAULTS="$dir/s3.faults"
	: >"$S3_LOG"
	: >"$S3_FAULTS"
	rm -f "$dir/s3.port"
	# s3rver ciphers its continuation tokens with DES, which OpenSSL 3
	# keeps in its legacy provider: without it a truncated listing is a 500.
	node --openssl-legacy-provider "$ROOT/tests/s3/server.js" --dir "$dir/s3.data" \
		--port-file "$dir/s3.port" --log "$S3_LOG" --faults "$S3_FAULTS" \
		--bucket imgp --max-seconds 300 "$@" 3>&- &
	S3_PID=$!
	port_from "$dir/s3.port" "S3 server" || return 1
	S3_PORT=$SPAWNED_PORT
	S3_URL="http://127.0.0.1:$S3_PORT"
	AWS_ENDPOINT_URL=$S3_URL AWS_REGION=us-east-1
	AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	export S3_LOG S3_FAULTS S3_PID S3_PORT S3_URL AWS_ENDPOINT_URL \
		AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	unset AWS_SESSION_TOKEN AWS_DEFAULT_REGION
}

s3_stop() {
	stop_server S3_PID
}

# curl signing for the S3 server, as a shell user of the store would:
# `s3_curl [curl options] URL`.
s3_curl() {
	curl -sS --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}
