#!/bin/sh
# imgp-url against jq 1.6 doing the same join and encoding (each path
# segment percent-encoded, joined to the base with one /) on 100k stored
# records, some with spaces and non-ASCII in their readable names.
# Target: >= 3x jq's records/s; memory flat in the stream's length.
set -eu
cd "$(dirname "$0")/.."
out=bench/out/url
mkdir -p "$out"
n=${BENCH_URL_RECORDS:-100000}
python3 - "$n" "$out" <<'PY'
import hashlib, json, sys
n, out = int(sys.argv[1]), sys.argv[2]
with open(out + "/in.ndjson", "w") as f:
    for i in range(n):
        sha = hashlib.sha256(b"%d" % i).hexdigest()
        # one record in ten has a readable name (--name) to encode
        path = ("lantern coast/turn %03d é.png" % i if i % 10 == 0
                else "%s/%s.png" % (sha[:2], sha))
        f.write(json.dumps({"session": "bench-%d" % (i % 50), "turn": i // 50,
            "image_prompt": "a harbour at dawn, turn %d" % i,
            "judge": {"score": 0.82, "id": 12345678901234567890 + i},
            "asset": {"sha256": sha, "path": path, "bytes": 4096,
                      "mime": "image/png", "width": 672, "height": 288}},
            ensure_ascii=False, separators=(",", ":")) + "\n")
PY
head -n $((n / 10)) "$out/in.ndjson" >"$out/in-small.ndjson"
base=https://cdn.example/assets

set -- $(python3 bench/measure.py -i "$out/in.ndjson" -o "$out/imgp.ndjson" -- \
	bin/imgp-url --base "$base")
imgp_s=$1 imgp_rss=$2
set -- $(python3 bench/measure.py -i "$out/in.ndjson" -o "$out/jq.ndjson" -- \
	jq -c --arg b "$base" '.url = $b + "/" + (.asset.path | split("/") | map(@uri) | join("/"))')
jq_s=$1
set -- $(python3 bench/measure.py -i "$out/in-small.ndjson" -- bin/imgp-url --base "$base")
small_rss=$2

# Same work: the URLs must be identical.
jq -r .url "$out/imgp.ndjson" >"$out/a"
jq -r .url "$out/jq.ndjson" >"$out/b"
cmp -s "$out/a" "$out/b" || { echo "url: imgp and jq disagree" >&2; exit 1; }

awk -v n="$n" -v i="$imgp_s" -v j="$jq_s" -v r="$imgp_rss" -v s="$small_rss" 'BEGIN {
	ratio = j / i
	printf "url | %d records, base + encoded path | %.0f rec/s | jq 1.6: %.0f rec/s | %.1fx | >= 3x | %s\n",
		n, n / i, n / j, ratio, (ratio >= 3 ? "PASS" : "FAIL")
	printf "url | peak RSS %d vs %d records | %d KiB | %d KiB | %.2fx | flat (<= 1.5x) | %s\n",
		n, n / 10, r, s, r / s, (r / s <= 1.5 ? "PASS" : "FAIL")
}'
