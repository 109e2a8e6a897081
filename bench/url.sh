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

. bench/versus-jq
versus_jq url "base + encoded path" url "bin/imgp-url --base $base" \
	"jq -c --arg base $base -f bench/url.jq"
