#!/bin/sh
# Continuity in the stream (imgp(7) CONTINUITY).
# 1. The schedule: S sessions x T turns with --reference previous through
#    imgp-enrich | imgp-gen -j N, against a mock provider of latency L: each
#    turn waits for its session's previous frame, so the makespan is bounded
#    below by max(T*L, ceil(S*T/N)*L).  Target: <= 1.15x that bound.
# 2. imgp-enrich's memory in a long-lived pipeline: peak RSS for 10^6
#    records over 10^5 sessions against 10^5 records over 10^4 sessions.
#    Target: flat (<= 1.5x).
set -eu
cd "$(dirname "$0")/.."
out=bench/out/continuity
rm -rf "$out"
mkdir -p "$out"
sessions=${BENCH_SCHEDULE_SESSIONS:-16} turns=${BENCH_SCHEDULE_TURNS:-8}
jobs=8 latency_ms=200
records=${BENCH_CONTINUITY_RECORDS:-1000000}

. bench/mock
mock_start "$latency_ms" 600

# The turns as a game server meets them: every session's turn t, then t+1.
awk -v s="$sessions" -v t="$turns" 'BEGIN {
	for (i = 0; i < t; i++)
		for (k = 0; k < s; k++)
			printf "{\"session\":\"s%d\",\"turn\":%d,\"image_prompt\":\"session %d turn %d\"}\n", k, i, k, i
}' >"$out/schedule.ndjson"
set -- $(IMGP_API_KEY=bench-key python3 bench/measure.py -i "$out/schedule.ndjson" \
	-o "$out/schedule.out" -- sh -c "bin/imgp-enrich -s $out/store --reference previous |
	bin/imgp-gen -s $out/store --base-url $url -j $jobs")
schedule_s=$1
ok=$(jq -r 'select(.image.references[0].role == "previous" or .turn == 0) | .turn' "$out/schedule.out" | wc -l)
[ "$ok" -eq $((sessions * turns)) ] ||
	{ echo "continuity: $ok of $((sessions * turns)) turns drawn from their previous frame" >&2; exit 1; }

# imgp-enrich over many sessions, with no journal to read.
gen_stream() {
	awk -v n="$1" -v s="$2" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "{\"session\":\"long-%d\",\"turn\":%d,\"image_prompt\":\"turn %d of a long-lived game, with a prompt of some length\",\"seed\":1}\n", i % s, int(i / s), i
	}'
}
gen_stream "$records" $((records / 10)) >"$out/many.ndjson"
gen_stream $((records / 10)) $((records / 100)) >"$out/few.ndjson"
set -- $(python3 bench/measure.py -i "$out/many.ndjson" -- bin/imgp-enrich -s "$out/nostore")
many_s=$1 many_rss=$2
set -- $(python3 bench/measure.py -i "$out/few.ndjson" -- bin/imgp-enrich -s "$out/nostore")
few_rss=$2

awk -v s="$sessions" -v t="$turns" -v j="$jobs" -v l="$latency_ms" -v m="$schedule_s" \
    -v n="$records" -v ms="$many_s" -v a="$many_rss" -v b="$few_rss" 'BEGIN {
	waves = int((s * t + j - 1) / j)
	bound = (t > waves ? t : waves) * l / 1000
	printf "continuity | %d sessions x %d turns, --reference previous, %d ms, -j %d | %.2f s | critical path %.2f s | %.2fx | <= 1.15x | %s\n",
		s, t, l, j, m, bound, m / bound, (m / bound <= 1.15 ? "PASS" : "FAIL")
	printf "continuity | enrich peak RSS, %d records over %d sessions (%.0f rec/s) | %d KiB | %d records over %d sessions: %d KiB | %.2fx | flat (<= 1.5x) | %s\n",
		n, n / 10, n / ms, a, n / 10, n / 100, b, a / b, (a / b <= 1.5 ? "PASS" : "FAIL")
}'
