#!/bin/sh
# The pipeline spawned one-shot per turn, as a game server that runs it
# for each judge answer does: the start-up cost of the stages.  N turns of
# enrich | store | url on one record (an image already made), without a
# profile and with examples/lighthouse.json (5 directives: libjq compiles
# its builtins at start), against the same shell loop running
# cat | cat | cat; and the whole pipeline with imgp-gen --api local
# against cat | cat | cat | cat.
# Target: enrich | store | url under 10 ms a turn.
set -eu
cd "$(dirname "$0")/.."
out=bench/out/pipeline
rm -rf "$out"
mkdir -p "$out"
n=${BENCH_PIPELINE_TURNS:-300}
# one judge record, and the same carrying a small image (as imgp-gen adds it)
head -n 1 examples/judge.ndjson >"$out/turn.ndjson"
bin/imgp-gen --api local <<'REC' | jq -c '.image | {data, mime}' >"$out/image.json"
{"request":{"prompt":"a harbour at dawn","seed":1,"size":"96x48"}}
REC
jq -c --slurpfile i "$out/image.json" '.image = $i[0]' "$out/turn.ndjson" >"$out/made.ndjson"

# loop N IN STAGES: run the shell pipeline STAGES N times on IN.
loop() {
	python3 bench/measure.py -- sh -c '
		n=$1 in=$2 stages=$3
		i=0
		while [ $i -lt "$n" ]; do
			eval "$stages" <"$in" >/dev/null
			i=$((i + 1))
		done' sh "$@" | cut -d' ' -f1
}

p=examples/lighthouse.json
bare=$(loop "$n" "$out/made.ndjson" "bin/imgp-enrich -s $out/store | bin/imgp-store -s $out/store | bin/imgp-url")
short=$(loop "$n" "$out/made.ndjson" "bin/imgp-enrich -p $p -s $out/store | bin/imgp-store -s $out/store | bin/imgp-url")
cat3=$(loop "$n" "$out/made.ndjson" "cat | cat | cat")
whole=$(loop "$n" "$out/turn.ndjson" "bin/imgp-enrich -p $p -s $out/store | bin/imgp-gen --api local -s $out/store | bin/imgp-store -s $out/store | bin/imgp-url")
cat4=$(loop "$n" "$out/turn.ndjson" "cat | cat | cat | cat")

# Same work: every turn was stored.
[ "$(wc -l <"$out/store/sessions/lantern-coast-1.ndjson")" -eq $((3 * n)) ] ||
	{ echo "pipeline: not every turn was stored" >&2; exit 1; }

awk -v n="$n" -v b="$bare" -v s="$short" -v c3="$cat3" -v w="$whole" -v c4="$cat4" 'BEGIN {
	row("enrich, store, url", b)
	row("enrich -p lighthouse.json, store, url", s)
	printf "pipeline | enrich, gen --api local, store, url: %d turns one-shot | %.1f ms/turn | cat x4: %.1f ms/turn | %.1fx | reported | -\n",
		n, w / n * 1000, c4 / n * 1000, w / c4
}
function row(what, t,  ms) {
	ms = t / n * 1000
	printf "pipeline | %s: %d turns one-shot | %.1f ms/turn | cat x3: %.1f ms/turn | %.1fx | < 10 ms/turn | %s\n",
		what, n, ms, c3 / n * 1000, t / c3, (ms < 10 ? "PASS" : "FAIL")
}'
