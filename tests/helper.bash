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

# Nothing from the developer's environment may leak into a test.
unset IMGP_STORE IMGP_API IMGP_API_KEY OPENROUTER_API_KEY IMGP_BASE_URL \
	OPENROUTER_BASE_URL IMGP_MODEL IMAGE_MODEL IMGP_PUBLIC_BASE_URL \
	PUBLIC_ASSETS_BASE_URL IMGP_PROFILE

# ASan/UBSan: fail the test on any report.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99

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
