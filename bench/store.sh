#!/bin/sh
# imgp-store (fsync on) against the shell baseline `base64 -d > tmp;
# sha256sum; mv` per record, on 200 records of 4 MiB images (whole PNGs
# with random bytes in a private chunk, so nothing dedupes; imgp-store
# checks each one's structure, inflating its 3 MiB of rows).  Target: >= 1.5x the baseline's
# MB/s; peak RSS <= 3x the largest record (line), and flat in the
# stream's length (10k vs 1k small records).
set -eu
cd "$(dirname "$0")/.."
out=bench/out/store
n=${BENCH_STORE_RECORDS:-200}
size=$((4 * 1024 * 1024))
rm -rf "$out"
mkdir -p "$out/base"
# A 1024x1024 PNG whose salt and padding make it 4 MiB.
python3 tests/images.py png 1024 1024 -n "$n" --pad $((size - 64)) >"$out/in.ndjson"
# The baseline is handed each image's base64 ready to decode.
bytes=$(python3 bench/image-data.py "$out/in.ndjson" "$out/b64")
record=$(head -n 1 "$out/in.ndjson" | wc -c)

set -- $(python3 bench/measure.py -i "$out/in.ndjson" -o "$out/imgp.ndjson" -- \
	bin/imgp-store -s "$out/store")
imgp_s=$1 imgp_rss=$2
set -- $(python3 bench/measure.py -- sh -c '
	for f in "$1"/b64/*; do
		base64 -d <"$f" >"$1/base/tmp"
		h=$(sha256sum "$1/base/tmp" | cut -c1-64)
		mv "$1/base/tmp" "$1/base/$h.png"
	done' sh "$out")
base_s=$1

python3 tests/images.py png 64 64 -n 10000 --pad 4000 >"$out/many.ndjson"
head -n 1000 "$out/many.ndjson" >"$out/few.ndjson"
set -- $(python3 bench/measure.py -i "$out/many.ndjson" -- bin/imgp-store -s "$out/many")
many_rss=$2
set -- $(python3 bench/measure.py -i "$out/few.ndjson" -- bin/imgp-store -s "$out/few")
few_rss=$2

# Same work: the same images, under the same names.
[ "$(jq -r .asset.sha256 "$out/imgp.ndjson" | sort)" = \
	"$(ls "$out/base" | sed 's/\.png$//' | sort)" ] ||
	{ echo "store: imgp-store and the baseline disagree" >&2; exit 1; }

awk -v n="$n" -v b="$bytes" -v i="$imgp_s" -v s="$base_s" -v r="$imgp_rss" \
    -v rec="$record" -v m="$many_rss" -v f="$few_rss" 'BEGIN {
	ratio = s / i
	printf "store | %d x 4 MiB | %.0f MB/s | %.0f MB/s | %.2fx | >= 1.5x | %s\n",
		n, b / i / 1e6, b / s / 1e6, ratio, (ratio >= 1.5 ? "PASS" : "FAIL")
	printf "store | peak RSS, %.1f MiB records | %d KiB | record %d KiB | %.1fx | <= 3x | %s\n",
		rec / 1048576, r, rec / 1024, r * 1024 / rec, (r * 1024 <= 3 * rec ? "PASS" : "FAIL")
	printf "store | peak RSS, 10000 vs 1000 records of 4 KiB | %d KiB | %d KiB | %.2fx | flat (<= 1.5x) | %s\n",
		m, f, m / f, (m / f <= 1.5 ? "PASS" : "FAIL")
}'
