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

# The cost of the directives' `when`s, run in a helper process under their
# budget (imgp-profile(5)): the same records without the directives.
jq 'del(.directives)' bench/profile.json >"$out/plain.json"
set -- $(python3 bench/measure.py -i "$out/in.ndjson" -- bin/imgp-enrich -p "$out/plain.json" -s "$out/store")
plain_s=$1
awk -v n="$n" -v i="$imgp_s" -v p="$plain_s" 'BEGIN {
	printf "enrich | 5 whens per record in the helper process | %.1f us/record | no directives: %.0f rec/s | %.2fx | reported | -\n",
		(i - p) / n * 1e6, n / p, i / p
}'
