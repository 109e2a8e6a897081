#!/usr/bin/env bats
# The fault matrix of imgp-gen against the mock provider (design.md §1, §4,
# §7): every fault, with -j 1 and with -j 8.  For each, every input record
# comes out exactly once and in order, the faulted ones with the expected
# image.fallback or error.code (the others untouched by it), the key is in
# no output, and the exit status is the documented one.

load helper

KEY=sk-fault-0123456789abcdef
WRONG_KEY=sk-wrong-0123456789

# One fault a line: name | prompt directive | imgp-gen options | result |
# exit status.  The directive goes into the odd turns' prompts; with no
# directive the options fault every record.  The result is what
# `outcome` prints for a faulted record: the image's fallback (null when
# the image came at once or after retries) or "error:<code>".
# @HERE@ is the mock's own origin, @DEAD@ a port with nothing listening, @WRONG@ a file with a key the
# mock refuses.  The mock drips one byte a second, which is not "less than
# one byte a second": --stall-timeout may or may not cut it, --timeout
# bounds it.
FAULTS='
429 then success            | status=429 times=1                  |                         | null              | 0
429 Retry-After then success| status=429 retry-after=0 times=1    |                         | null              | 0
429 Retry-After always      | status=429 retry-after=0            |                         | error:http_status | 1
500 then success            | status=500 times=1                  |                         | null              | 0
502 always                  | status=502                          |                         | error:http_status | 1
503 then success            | status=503 retry-after=0 times=1    |                         | null              | 0
503 always, placeholder     | status=503                          | --on-failure placeholder | placeholder      | 0
connection refused          |                                     | --base-url http://127.0.0.1:@DEAD@/v1 | error:network | 1
connection reset mid-body   | reply=reset                         |                         | error:network     | 1
slow drip                   | reply=drip                          | --stall-timeout 1 --timeout 3 --retries 0 | error:timeout | 1
truncated JSON              | reply=truncated                     |                         | error:bad_response | 1
truncated once              | reply=truncated times=1             |                         | relaxed           | 0
text, no image              | reply=text                          |                         | error:no_image    | 1
not an image                | reply=notimage                      |                         | error:not_an_image | 1
oversize body               | reply=huge size=300000              | --max-bytes 100000      | error:too_large   | 1
API redirect not followed   | status=302                          |                         | error:http_status | 1
image URL redirect followed | reply=redirect redirect-to=@HERE@   |                         | null              | 0
image URL elsewhere refused | reply=redirect                      |                         | error:download_refused | 1
refused, softened           | reply=refused403 times=1            |                         | softened          | 0
refused, fallback model     | reply=refused403 times=2            | --fallback-model b/two  | model             | 0
wrong key                   |                                     | --api-key-file @WRONG@  | error:auth        | 1
'

setup() {
	mock_start --key "$KEY"
	printf '%s\n' "$KEY" >"$BATS_TEST_TMPDIR/key"
	printf '%s\n' "$WRONG_KEY" >"$BATS_TEST_TMPDIR/wrong"
	chmod 600 "$BATS_TEST_TMPDIR/key" "$BATS_TEST_TMPDIR/wrong"
	DEAD=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
}

teardown() {
	mock_stop
}

trim() {
	sed 's/^ *//; s/ *$//' <<<"$1"
}

# The records of a fault: 4 turns, the odd ones carrying the directive;
# prompts distinct per fault and -j, since the mock counts per prompt.
records() {
	local directive=$1 tag=$2
	jq -cn --arg d "$directive" --arg tag "$tag" 'range(4) |
		{session: "faults", turn: ., judge: {n: (. * 1.10)},
		 request: {prompt: ((if . % 2 == 1 and $d != "" then "[mock \($d)] " else "" end)
		   + "\($tag) turn \(.)")}}'
}

# What happened to each output record: "<turn> <fallback or error:code>".
outcome() {
	jq -r '"\(.turn) \(if .error then "error:\(.error.code)" else .image.fallback end)"'
}

# run_matrix J: every fault with -j J; each case that fails is reported,
# then the matrix fails.
run_matrix() {
	local jobs=$1 name directive options result exit tag expect want i
	local cases=0 failed=0 bad
	while IFS='|' read -r name directive options result exit; do
		name=$(trim "$name")
		[ -n "$name" ] || continue
		directive=$(trim "$directive")
		directive=${directive//@HERE@/http://127.0.0.1:$MOCK_PORT}
		options=$(trim "$options")
		options=${options//@DEAD@/$DEAD}
		options=${options//@WRONG@/$BATS_TEST_TMPDIR/wrong}
		result=$(trim "$result")
		exit=$(trim "$exit")
		tag="$name -j $jobs"
		cases=$((cases + 1))
		bad=0
		records "$directive" "$tag" >"$BATS_TEST_TMPDIR/in"
		# shellcheck disable=SC2086 # the options are words
		run --separate-stderr imgp-gen --base-url "$MOCK_URL" \
			--api-key-file "$BATS_TEST_TMPDIR/key" --retry-delay 0.01 \
			--retries 1 -j "$jobs" $options <"$BATS_TEST_TMPDIR/in"
		want=
		for i in 0 1 2 3; do
			expect=null
			if [ $((i % 2)) -eq 1 ] || [ -z "$directive" ]; then
				expect=$result
			fi
			want+="$i $expect"$'\n'
		done
		if [ "$(outcome <<<"$output")"$'\n' != "$want" ]; then
			printf '%s: expected\n%sgot\n%s\n%s\n' "$tag" "$want" \
				"$(outcome <<<"$output")" "$stderr"
			bad=1
		fi
		if [ "$status" -ne "$exit" ]; then
			printf '%s: exit %s, expected %s\n%s\n' "$tag" "$status" "$exit" "$stderr"
			bad=1
		fi
		# the user's members as written, the request kept (a failed
		# record can be re-run)
		if [ "$(grep -o '"judge":{[^}]*}' <<<"$output")" != \
		    "$(grep -o '"judge":{[^}]*}' "$BATS_TEST_TMPDIR/in")" ] ||
		    [ "$(jq -r 'select(.request.prompt | length > 0) | .turn' <<<"$output" | wc -l)" -ne 4 ]; then
			echo "$tag: members lost"
			bad=1
		fi
		if grep -qF -e "$KEY" -e "$WRONG_KEY" <<<"$output$stderr"; then
			echo "$tag: the key leaked"
			bad=1
		fi
		failed=$((failed + bad))
	done <<<"$FAULTS"
	[ "$cases" -gt 0 ] || { echo "no fault cases"; return 1; }
	[ "$failed" -eq 0 ] || { echo "$failed of $cases faults failed"; return 1; }
}

@test "fault matrix, -j 1: every record once, in order, the expected outcome, no key, the exit status" {
	run_matrix 1
}

@test "fault matrix, -j 8: every record once, in order, the expected outcome, no key, the exit status" {
	run_matrix 8
}
