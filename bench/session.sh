#!/bin/sh
# What a turn costs as one session grows (issue 19; design.md §2): one
# session fed through enrich -p lighthouse.json | store | url, records
# carrying their image (no provider).  Per-turn latency (p50) at turn 10
# against turn 10,000, long-lived (one pipeline, a record at a time) and
# one-shot (a pipeline per record); target within 1.2x.  And what must
# stay linear in the session's length: --export, --check and a replay of
# the whole session (--export | enrich | gen --api local | store) in MB/s
# of journal, 1,000 against 10,000 turns; target within 1.25x.
# Stores are written with --no-fsync: fsync time is the disk's, not the
# session's, and would only add noise to both sides.
set -eu
cd "$(dirname "$0")/.."
out=bench/out/session
n=${BENCH_SESSION_TURNS:-10000}
k=${BENCH_SESSION_SAMPLES:-100}
p=examples/lighthouse.json
rm -rf "$out"
mkdir -p "$out"
python3 bench/session.py records x "$out/all.ndjson" $((n + k))

# p50 of the latencies in file $1, lines $2 to $3
p50() {
	sed -n "$2,$3p" "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# long-lived: turns 0 .. n+k-1 through one pipeline; p50 of turns
# 10 .. 10+k-1 against n .. n+k-1
python3 bench/session.py long "$out/long" "$p" "$out/all.ndjson" >"$out/long.txt"
long_early=$(p50 "$out/long.txt" 11 $((10 + k)))
long_late=$(p50 "$out/long.txt" $((n + 1)) $((n + k)))

# one-shot: a store holding turns 0..9, one holding 0..n-1 (the long
# store's journal cut there), then k turns on each
mkdir -p "$out/early/sessions" "$out/late"
cp -r "$out/long/." "$out/late/"
head -n 10 "$out/long/sessions/long.ndjson" >"$out/early/sessions/long.ndjson"
head -n "$n" "$out/long/sessions/long.ndjson" >"$out/late/sessions/long.ndjson"
sed -n "11,$((10 + k))p" "$out/all.ndjson" >"$out/early.ndjson"
sed -n "$((n + 1)),$((n + k))p" "$out/all.ndjson" >"$out/late.ndjson"
python3 bench/session.py oneshot "$out/early" "$p" "$out/early.ndjson" >"$out/early.txt"
python3 bench/session.py oneshot "$out/late" "$p" "$out/late.ndjson" >"$out/late.txt"
shot_early=$(p50 "$out/early.txt" 1 "$k")
shot_late=$(p50 "$out/late.txt" 1 "$k")

# linear: a session of n/10 turns against one of n
small=$((n / 10))
# the small store holds only the objects its journal names, so that
# --check reads a store of the session's size, not of the long one's
mkdir -p "$out/small/sessions"
head -n "$small" "$out/long/sessions/long.ndjson" >"$out/small/sessions/long.ndjson"
jq -r .path "$out/small/sessions/long.ndjson" | sort -u | while read -r f; do
	mkdir -p "$out/small/${f%/*}"
	cp "$out/long/$f" "$out/small/$f"
done
head -n "$n" "$out/long/sessions/long.ndjson" >"$out/big.ndjson"
cp "$out/big.ndjson" "$out/late/sessions/long.ndjson"
mb() { wc -c <"$1" | awk '{ print $1 / 1e6 }'; }
small_mb=$(mb "$out/small/sessions/long.ndjson")
big_mb=$(mb "$out/late/sessions/long.ndjson")
secs() { python3 bench/measure.py "$@" | cut -d' ' -f1; }
export_small=$(secs -- bin/imgp-store --export long -s "$out/small")
export_big=$(secs -- bin/imgp-store --export long -s "$out/late")
check_small=$(secs -- bin/imgp-store --check -s "$out/small")
check_big=$(secs -- bin/imgp-store --check -s "$out/late")
replay() {
	secs -- sh -c 'bin/imgp-store --export long -s "$1" |
	    bin/imgp-enrich -p "$3" -s "$2" --size 16x16 |
	    bin/imgp-gen --api local | bin/imgp-store --no-fsync -s "$2"' \
	    sh "$1" "$2" "$p"
}
replay_small=$(replay "$out/small" "$out/replay-small")
replay_big=$(replay "$out/late" "$out/replay-big")
[ "$(wc -l <"$out/replay-big/sessions/long.ndjson")" -eq "$n" ] ||
	{ echo "session: the replay did not store every turn" >&2; exit 1; }

awk -v n="$n" -v s="$small" -v le="$long_early" -v ll="$long_late" \
    -v se="$shot_early" -v sl="$shot_late" -v smb="$small_mb" -v bmb="$big_mb" \
    -v es="$export_small" -v eb="$export_big" -v cs="$check_small" \
    -v cb="$check_big" -v rs="$replay_small" -v rb="$replay_big" 'BEGIN {
	turn("long-lived", ll, le)
	turn("one-shot", sl, se)
	linear("--export", eb, es)
	linear("--check", cb, cs)
	linear("replay (export, enrich, gen --api local, store)", rb, rs)
}
function turn(what, late, early,  r) {
	r = late / early
	printf "session | enrich -p, store, url %s: p50 at turn %d vs turn 10 | %.1f ms | %.1f ms | %.2fx | <= 1.2x | %s\n",
		what, n, late * 1000, early * 1000, r, (r <= 1.2 ? "PASS" : "FAIL")
}
function linear(what, big, small,  r) {
	r = (smb / small) / (bmb / big)
	printf "session | %s, %d turns (%.1f MB) vs %d (%.1f MB) | %.1f MB/s | %.1f MB/s | %.2fx | linear (<= 1.25x) | %s\n",
		what, n, bmb, s, smb, bmb / big, smb / small, r, (r <= 1.25 ? "PASS" : "FAIL")
}'
