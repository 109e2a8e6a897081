#!/bin/sh
# imgp-enrich against jq 1.6 running the same enrichment (bench/enrich.jq)
# on 100k generated records with the 5-directive bench/profile.json.
# Target: >= 3x jq's records/s; memory flat in the stream's length.
set -eu
cd "$(dirname "$0")/.."
out=bench/out/enrich
mkdir -p "$out/store"
n=${BENCH_ENRICH_RECORDS:-100000}
python3 bench/gen-records.py "$n" >"$out/in.ndjson"
python3 bench/gen-records.py $((n / 10)) >"$out/in-small.ndjson"

set -- $(python3 bench/measure.py -i "$out/in.ndjson" -o "$out/imgp.ndjson" -- \
	bin/imgp-enrich -p bench/profile.json -s "$out/store")
imgp_s=$1 imgp_rss=$2
set -- $(python3 bench/measure.py -i "$out/in.ndjson" -o "$out/jq.ndjson" -- \
	jq -c --slurpfile p bench/profile.json -f bench/enrich.jq)
jq_s=$1
set -- $(python3 bench/measure.py -i "$out/in-small.ndjson" -- \
	bin/imgp-enrich -p bench/profile.json -s "$out/store")
small_rss=$2

# Same work: the requests must be identical.
jq -c .request "$out/imgp.ndjson" >"$out/a"
jq -c .request "$out/jq.ndjson" >"$out/b"
cmp -s "$out/a" "$out/b" || { echo "enrich: imgp and jq disagree" >&2; exit 1; }

awk -v n="$n" -v i="$imgp_s" -v j="$jq_s" -v r="$imgp_rss" -v s="$small_rss" 'BEGIN {
	ratio = j / i
	printf "enrich | %d records, 5 directives | %.0f rec/s | jq 1.6: %.0f rec/s | %.1fx | >= 3x | %s\n",
		n, n / i, n / j, ratio, (ratio >= 3 ? "PASS" : "FAIL")
	printf "enrich | peak RSS %d vs %d records | %d KiB | %d KiB | %.2fx | flat (<= 1.5x) | %s\n",
		n, n / 10, r, s, r / s, (r / s <= 1.5 ? "PASS" : "FAIL")
}'
