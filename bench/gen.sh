#!/bin/sh
# imgp-gen against the mock provider at a fixed 200 ms latency: 256
# requests with -j 16, against the ideal (256/16 x 0.2 s) and against
# xargs -P 16 + curl sending the same requests, in the same run.  Then
# peak RSS with --api local for 1k and 10k records (flat: memory is
# bounded by -j, not by the stream).
set -eu
cd "$(dirname "$0")/.."
out=bench/out/gen
rm -rf "$out"
mkdir -p "$out/bodies"
n=256 jobs=16 latency_ms=200

. bench/mock
mock_start "$latency_ms" 300

python3 - "$n" "$out" <<'PY'
import json, sys
n, out = int(sys.argv[1]), sys.argv[2]
with open(f"{out}/in.ndjson", "w") as f:
    for i in range(n):
        f.write(json.dumps({"session": "bench", "turn": i,
            "request": {"prompt": f"bench harbour {i}", "seed": i}}) + "\n")
for i in range(n):
    with open(f"{out}/bodies/{i}.json", "w") as f:
        json.dump({"model": "google/gemini-2.5-flash-image",
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": f"curl harbour {i}"}]}],
            "modalities": ["image", "text"], "seed": i}, f)
PY

set -- $(IMGP_API_KEY=bench-key python3 bench/measure.py -i "$out/in.ndjson" \
	-o "$out/imgp.ndjson" -- bin/imgp-gen --base-url "$url" -j "$jobs")
imgp_s=$1
ok=$(grep -c '"image":' "$out/imgp.ndjson" || true)
[ "$ok" -eq "$n" ] || { echo "gen: $ok of $n records got an image" >&2; exit 1; }

ls "$out"/bodies/*.json >"$out/bodies.list"
set -- $(python3 bench/measure.py -i "$out/bodies.list" -- \
	xargs -P "$jobs" -I{} curl -sf -o /dev/null -H "Authorization: Bearer bench-key" \
	-H "Content-Type: application/json" --data-binary @{} "$url/chat/completions")
curl_s=$1

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
with open(f"{out}/local.ndjson", "w") as f:
    for i in range(10000):
        f.write(json.dumps({"session": "bench", "turn": i,
            "request": {"prompt": f"local harbour {i}", "seed": i, "size": "96x48"}}) + "\n")
PY
head -n 1000 "$out/local.ndjson" >"$out/local-small.ndjson"
set -- $(python3 bench/measure.py -i "$out/local.ndjson" -- bin/imgp-gen --api local)
big_rss=$2
set -- $(python3 bench/measure.py -i "$out/local-small.ndjson" -- bin/imgp-gen --api local)
small_rss=$2

awk -v n="$n" -v j="$jobs" -v l="$latency_ms" -v i="$imgp_s" -v c="$curl_s" \
    -v b="$big_rss" -v s="$small_rss" 'BEGIN {
	ideal = n / j * l / 1000
	printf "gen | %d req, %d ms, -j %d | %.2f s | ideal %.2f s | %.2fx | <= 1.1x ideal | %s\n",
		n, l, j, i, ideal, i / ideal, (i / ideal <= 1.1 ? "PASS" : "FAIL")
	printf "gen | %d req, %d ms, -j %d | %.2f s | xargs -P %d + curl: %.2f s | %.2fx | <= 1.1x curl | %s\n",
		n, l, j, i, j, c, i / c, (i / c <= 1.1 ? "PASS" : "FAIL")
	printf "gen | peak RSS, --api local, 10000 vs 1000 records | %d KiB | %d KiB | %.2fx | flat (<= 1.5x) | %s\n",
		b, s, b / s, (b / s <= 1.5 ? "PASS" : "FAIL")
}'
