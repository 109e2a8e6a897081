#!/bin/sh
# imgp-gen --unordered: two sessions through one pipeline (enrich | gen |
# store | url) against the mock provider, one whose answers take 5 s, one
# 0.2 s (a record of each every 1 s and 0.1 s for 10 s, -j 16).  The fast
# session's p50 and p99 latency with --unordered, against the same run in
# input order.
set -eu
cd "$(dirname "$0")/.."
out=bench/out/unordered
rm -rf "$out"
mkdir -p "$out"

python3 tests/mock-provider.py --port-file "$out/port" --log "$out/mock.log" \
	--key bench-key --max-seconds 300 &
mock=$!
trap 'kill $mock 2>/dev/null' EXIT INT TERM
while [ ! -s "$out/port" ]; do sleep 0.05; done
url="http://127.0.0.1:$(cat "$out/port")/v1"

# run ORDER-FLAG STORE: "p50 p99 records status" of the fast session
run() {
	IMGP_API_KEY=bench-key node bench/latency.js \
		"bin/imgp-enrich | bin/imgp-gen -j 16 $1 --base-url $url | bin/imgp-store -s $2 | bin/imgp-url -b /a/" \
		'[mock delay=5000] a slow storm' '[mock delay=200] a quick sunrise'
}
set -- $(run --unordered "$out/store-u")
u50=$1 u99=$2
set -- $(run "" "$out/store-o")
o50=$1 o99=$2

awk -v u50="$u50" -v u99="$u99" -v o50="$o50" -v o99="$o99" 'BEGIN {
	printf "gen --unordered | fast session p50, next to a 5 s session (0.2 s answers) | %d ms | in order: %d ms | %.2fx | < 400 ms | %s\n",
		u50, o50, u50 / o50, (u50 < 400 ? "PASS" : "FAIL")
	printf "gen --unordered | fast session p99, next to a 5 s session (0.2 s answers) | %d ms | in order: %d ms | %.2fx | < 1000 ms | %s\n",
		u99, o99, u99 / o99, (u99 < 1000 ? "PASS" : "FAIL")
}'
