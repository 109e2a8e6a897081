#!/bin/sh
# imgp-store into an s3:// store (the S3 server of the tests, s3rver on
# loopback, started here) against the shell baseline of a `curl
# --aws-sigv4` upload per image (base64 -d, sha256sum, PUT with the
# x-amz-content-sha256 header under the content address), and against
# imgp-store into a local store (fsync on), on 200 records of 1 MiB images
# (whole PNGs with random bytes in a private chunk, so nothing dedupes).
# imgp-store also PUTs each record's journal line as its own object and
# checks each image's structure; the baseline does neither.  Target: S3
# at least as fast as the curl loop; S3 against local is reported.
set -eu
cd "$(dirname "$0")/.."
out=bench/out/s3
n=${BENCH_S3_RECORDS:-200}
size=$((1024 * 1024))
rm -rf "$out"
mkdir -p "$out/base"
python3 tests/images.py png 512 512 -n "$n" --pad $((size - 64)) >"$out/in.ndjson"
bytes=$(python3 bench/image-data.py "$out/in.ndjson" "$out/b64")

# The server on a free loopback port, for at most 10 minutes.
node --openssl-legacy-provider tests/s3/server.js --dir "$out/data" \
	--port-file "$out/port" --log "$out/s3.log" --bucket imgp \
	--max-seconds 600 >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
i=0
while [ ! -s "$out/port" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$out/port" ] || { echo "s3: the S3 server did not start" >&2; exit 1; }
AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$out/port") AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
export AWS_ENDPOINT_URL AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
unset AWS_SESSION_TOKEN AWS_DEFAULT_REGION

set -- $(python3 bench/measure.py -i "$out/in.ndjson" -o "$out/s3.ndjson" -- \
	bin/imgp-store -s s3://imgp/imgp)
s3_s=$1
set -- $(python3 bench/measure.py -i "$out/in.ndjson" -o "$out/local.ndjson" -- \
	bin/imgp-store -s "$out/store")
local_s=$1
set -- $(python3 bench/measure.py -- sh -c '
	for f in "$1"/b64/*; do
		base64 -d <"$f" >"$1/base/tmp"
		h=$(sha256sum "$1/base/tmp" | cut -c1-64)
		curl -sSf --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
			--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
			-H "x-amz-content-sha256: $h" -T "$1/base/tmp" \
			"$AWS_ENDPOINT_URL/imgp/curl/$(echo "$h" | cut -c1-2)/$h.png"
		echo "$h" >>"$1/base/keys"
	done' sh "$out")
curl_s=$1

# Same work: every image stored by both, under the same content address.
[ "$(jq -r .asset.sha256 "$out/s3.ndjson" | sort)" = "$(sort "$out/base/keys")" ] &&
	[ "$(jq -r .asset.sha256 "$out/local.ndjson" | sort)" = "$(sort "$out/base/keys")" ] &&
	! grep -q '"error"' "$out/s3.ndjson" ||
	{ echo "s3: imgp-store and the baseline disagree" >&2; exit 1; }
puts=$(grep -c '^PUT /imgp/imgp/' "$out/s3.log")

awk -v n="$n" -v b="$bytes" -v s3="$s3_s" -v l="$local_s" -v c="$curl_s" \
    -v puts="$puts" 'BEGIN {
	ratio = c / s3
	printf "s3 | imgp-store -s s3://, %d x 1 MiB (%d PUTs with the journal lines) | %.1f MB/s | curl --aws-sigv4 loop: %.1f MB/s | %.2fx | >= 1x | %s\n",
		n, puts, b / s3 / 1e6, b / c / 1e6, ratio, (ratio >= 1 ? "PASS" : "FAIL")
	printf "s3 | imgp-store -s s3:// vs a local store, %d x 1 MiB | %.1f MB/s | local: %.1f MB/s | %.2fx | reported | -\n",
		n, b / s3 / 1e6, b / l / 1e6, l / s3
}'
