#!/bin/sh
# imgp-enrich against jq 1.6 running the same enrichment (bench/enrich.jq)
# on 100k generated records (50 sessions, so each builds its history from
# the turns read before it) with the 5-directive bench/profile.json.
# Target: >= 10x jq's records/s; memory flat in the stream's length.
set -eu
cd "$(dirname "$0")/.."
out=bench/out/enrich
mkdir -p "$out/store"
n=${BENCH_ENRICH_RECORDS:-100000}
python3 bench/gen-records.py "$n" >"$out/in.ndjson"
python3 bench/gen-records.py $((n / 10)) >"$out/in-small.ndjson"

. bench/versus-jq
versus_jq enrich "5 directives" request \
	"bin/imgp-enrich -p bench/profile.json -s $out/store" \
	"jq -nc --slurpfile p bench/profile.json -f bench/enrich.jq" 10
