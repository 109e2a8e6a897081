#!/usr/bin/env bats
# imgp-store: the content-addressed store and its journal (design.md §2),
# readable names, failures that keep the image, concurrency, crashes and
# --check.  Images are tiny whole images built by tests/images.py.

load helper

setup() {
	STORE="$BATS_TEST_TMPDIR/store"
	T="$BATS_TEST_TMPDIR"
}

teardown() {
	if mountpoint -q "$T/mnt" 2>/dev/null; then
		umount "$T/mnt"
	fi
}

# images FORMAT W H [images.py options] — records (or --raw bytes).
images() {
	python3 "$ROOT/tests/images.py" "$@"
}

# store INPUT [imgp-store options] — run imgp-store -s $STORE on a string.
store() {
	run_with "$1" imgp-store -s "$STORE" "${@:2}"
}

sha_of() {
	sha256sum "$1" | cut -c1-64
}

# Mount a tmpfs of SIZE on $T/mnt, or skip the test where that is not
# allowed (only root may mount).
small_disk() {
	mkdir -p "$T/mnt"
	mount -t tmpfs -o "size=$1${2:+,$2}" tmpfs "$T/mnt" 2>/dev/null ||
		skip "cannot mount a tmpfs here"
}

@test "PNG: asset, layout, bytes and journal line" {
	images png 640 480 --raw >"$T/img"
	local sha bytes
	sha=$(sha_of "$T/img")
	bytes=$(wc -c <"$T/img")
	store "$(images png 640 480)"
	assert_success
	assert_equal "$(line_jq 1 '.asset | tojson')" "$(jq -c -n --arg s "$sha" --argjson n "$bytes" '{sha256:$s,path:($s[0:2]+"/"+$s+".png"),bytes:$n,mime:"image/png",width:640,height:480}')"
	cmp "$T/img" "$STORE/${sha:0:2}/$sha.png"
	run jq -c 'del(.stored_at)' "$STORE/sessions/s.ndjson"
	assert_output "$(jq -c -n --arg s "$sha" --argjson n "$bytes" '{turn:0,sha256:$s,path:($s[0:2]+"/"+$s+".png"),bytes:$n,mime:"image/png",image_prompt:"prompt 0",prompt:"enriched prompt 0",seed:7,model:"test/model",fallback:null,cost:null,options:{},judge:{session:"s",turn:0,image_prompt:"prompt 0"},totals:{max_turn:0,spent:0,unknown:1}}')"
	assert_regex "$(jq -r .stored_at "$STORE/sessions/s.ndjson")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
}

@test "JPEG declared as PNG: type and size from the bytes" {
	store "$(images jpeg 1024 768 --mime image/png)"
	assert_success
	assert_equal "$(line_jq 1 '[.asset.mime, .asset.width, .asset.height, (.asset.path | endswith(".jpg")), .image.mime] | @tsv')" \
		"$(printf 'image/jpeg\t1024\t768\ttrue\timage/png')"
}

@test "WebP lossless (VP8L): size" {
	store "$(images webp 300 200)"
	assert_success
	assert_equal "$(line_jq 1 '[.asset.mime, .asset.width, .asset.height, (.asset.path | endswith(".webp"))] | @tsv')" "$(printf 'image/webp\t300\t200\ttrue')"
}

@test "WebP extended (VP8X): size" {
	store "$(images webpx 5000 3000)"
	assert_success
	assert_equal "$(line_jq 1 '[.asset.width, .asset.height] | @tsv')" "$(printf '5000\t3000')"
}

@test "GIF: size" {
	store "$(images gif 17 9)"
	assert_success
	assert_equal "$(line_jq 1 '[.asset.mime, .asset.width, .asset.height, (.asset.path | endswith(".gif"))] | @tsv')" "$(printf 'image/gif\t17\t9\ttrue')"
}

@test "not an image, or cut short: not_an_image, data kept, the rest still stored" {
	local png cut
	png=$(images png 4 4 --raw | base64 -w0)
	cut=$(images png 4 4 --raw | head -c 20 | base64 -w0)
	store "{\"session\":\"s\",\"turn\":0,\"image\":{\"data\":\"$(printf '<svg/>' | base64)\"}}
{\"session\":\"s\",\"turn\":1,\"image\":{\"data\":\"$cut\"}}
{\"session\":\"s\",\"turn\":2,\"image\":{\"data\":\"$png\"}}"
	assert_failure 1
	assert_equal "$(line_jq 1 .error.code)" not_an_image
	assert_equal "$(line_jq 2 '[.error.code, .image.data == "'"$cut"'"] | @tsv')" "$(printf 'not_an_image\ttrue')"
	assert_equal "$(line_jq 3 '.asset.width')" 4
	assert_equal "$(wc -l <"$STORE/sessions/s.ndjson")" 1
}

# The half and forged images of issue 13 item 6, one a line: the images.py
# arguments, then what imgp-store says of them.
HALF_IMAGES='
png 64 64 --cut -30                  | a PNG cut short inside a chunk
png 64 64 --cut -12                  | a PNG cut short before its IEND chunk
pnghead 2147483647 2147483647        | a PNG cut short before its IEND chunk
png 8 8 --flip -20                   | a PNG with a chunk whose CRC does not match
png 8 8 --flip 33                    | a PNG with a chunk length over 2^31 - 1
jpeg 16 16 --cut -2                  | a JPEG cut short inside a scan
jpeg 16 16 --cut -15                 | a JPEG cut short inside a marker segment
webp 8 8 --pad 100 --cut 30          | a WebP cut short of its RIFF size
webpx 8 8 --pad 100 --cut -10        | a WebP cut short of its RIFF size
gif 8 8 --cut -1                     | a GIF cut short before its trailer
gif 8 8 --pad 600 --cut 300          | a GIF cut short inside an extension
'

@test "13.6 half images: cut, bare and damaged images are not_an_image and nothing is stored" {
	local args want
	while IFS='|' read -r args want; do
		[ -n "$args" ] || continue
		# shellcheck disable=SC2086
		store "$(images $args)"
		assert_failure 1
		assert_equal "$(line_jq 1 .error.code)" not_an_image
		assert_equal "$(line_jq 1 .error.message)" "image.data is ${want# }"
	done <<<"$HALF_IMAGES"
	assert_equal "$(find "$STORE" -type f | wc -l)" 0
}

# forge KIND FILE — PNGs whose every CRC is right: IDAT's zlib stream cut
# in half (a truncation that recomputed its CRCs), or a 2^31 - 1 square
# claimed over a few bytes of data.
forge() {
	python3 - "$@" <<'PY'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
kind, path = sys.argv[1:]
side = 2147483647 if kind == "huge" else 64
idat = zlib.compress(b"\0" * (64 * 193), 9)
if kind == "cut":
    idat = idat[:len(idat) // 2]
open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)) +
    chunk(b"IDAT", idat) + chunk(b"IEND", b""))
PY
}

@test "13.6 half images: a cut IDAT with recomputed CRCs, a huge size over little data" {
	forge cut "$T/cut.png"
	store "$(record_of "$T/cut.png")"
	assert_failure 1
	assert_equal "$(line_jq 1 .error.message)" "image.data is a PNG whose image data ends short of its size"
	forge huge "$T/huge.png"
	store "$(record_of "$T/huge.png")"
	assert_failure 1
	assert_equal "$(line_jq 1 .error.message)" "image.data is a PNG too small to hold the pixels its size calls for"
	assert_file_not_exists "$STORE/sessions/s.ndjson"
}

@test "13.6 half images: --check reports a stored half image even under its own SHA-256" {
	store "$(images png 8 8 -n 2)"
	assert_success
	images png 8 8 --cut -20 --salt half --raw >"$T/half.png"
	local sha
	sha=$(sha_of "$T/half.png")
	mkdir -p "$STORE/${sha:0:2}"
	cp "$T/half.png" "$STORE/${sha:0:2}/$sha.png"
	run imgp-store --check -s "$STORE"
	assert_failure 1
	assert_line "${sha:0:2}/$sha.png: a PNG cut short inside a chunk"
	assert_line "$STORE: 3 objects, 2 journal lines in 1 sessions, 0 temporary files removed, 1 problems"
}

@test "image.data that is not base64: invalid_field" {
	store '{"session":"s","turn":0,"image":{"data":"iVBO*"}}'
	assert_failure 1
	assert_equal "$(line_jq 1 '[.error.code, .error.field, .image.data] | @tsv')" "$(printf 'invalid_field\timage.data\tiVBO*')"
}

@test "no image, no image.data, no session: missing_field; error records pass through" {
	store '{"session":"s","turn":0}
{"session":"s","turn":0,"image":{"mime":"image/png"}}
{"turn":0,"image":{"data":"AAAA"}}
{"session":"s","turn":0,"image":{"data":"AAAA"},"error":{"stage":"gen","code":"timeout"}}'
	assert_failure 1
	assert_equal "$(line_jq 1 '[.error.code, .error.field] | @tsv')" "$(printf 'missing_field\timage')"
	assert_equal "$(line_jq 2 '[.error.code, .error.field] | @tsv')" "$(printf 'missing_field\timage.data')"
	assert_equal "$(line_jq 3 '[.error.code, .error.field] | @tsv')" "$(printf 'missing_field\tsession')"
	assert_equal "${lines[3]}" '{"session":"s","turn":0,"image":{"data":"AAAA"},"error":{"stage":"gen","code":"timeout"}}'
}

@test "other members byte for byte; image.data removed, the image's other members as written" {
	local data
	data=$(images png 2 2 --raw | base64 -w0)
	local before='{"z":1,"session":"s","big":123456789012345678901234567890,"f":1.10,"u":"\u00e9\ud83d\ude00 é","turn":0,"image":{"mime":"image/png",'
	local after='"model":"m","usage":{"n":1.50,"x":[1e3]},"fallback":null},"tail":[1,2]}'
	store "$before\"data\":\"$data\",$after"
	assert_success
	assert_equal "${output%,\"asset\":*}}" "$before$after"
	store "{\"session\":\"s\",\"turn\":1,\"image\":{ \"m\":1 , \"data\":\"$data\" } ,\"b\":2}"
	assert_equal "${output%,\"asset\":*}}" '{"session":"s","turn":1,"image":{ "m":1 } ,"b":2}'
}

@test "--keep-data keeps the image member as it was" {
	local line
	line=$(images png 2 2)
	store "$line" --keep-data
	assert_success
	assert_equal "${output%,\"asset\":*}}" "$line"
}

@test "identical bytes are stored once and journalled twice" {
	store "$(images png 3 3 -n 2 --same)"
	assert_success
	assert_equal "$(line_jq 1 .asset.path)" "$(line_jq 2 .asset.path)"
	assert_equal "$(find "$STORE" -type f ! -path '*/sessions/*' | wc -l)" 1
	assert_equal "$(jq -r .turn "$STORE/sessions/s.ndjson" | tr '\n' ' ')" "0 1 "
	store "$(images png 3 3 -t 5 --same)"
	assert_success
	assert_equal "$(find "$STORE" -type f ! -path '*/sessions/*' | wc -l)" 1
	assert_equal "$(wc -l <"$STORE/sessions/s.ndjson")" 3
}

@test "journal: prompts with quotes, newlines and NUL stay valid JSON strings" {
	local data
	data=$(images png 2 2 --raw | base64 -w0)
	store "{\"session\":\"s\",\"turn\":3,\"image_prompt\":\"a \\\"b\\\"\\n\\u0000c\",\"request\":{\"prompt\":\"\\u2028x\"},\"image\":{\"data\":\"$data\",\"model\":7,\"fallback\":\"relaxed\"}}"
	assert_success
	run jq -c '[.image_prompt, .prompt, .model, .fallback]' "$STORE/sessions/s.ndjson"
	assert_output "[\"a \\\"b\\\"\\n\\u0000c\",\"$(printf '\u2028')x\",null,\"relaxed\"]"
}

@test "directories 0755 and files 0644, less the umask" {
	store "$(images png 2 2)"
	assert_equal "$(stat -c %a "$STORE" "$STORE"/*/ | sort -u)" 755
	assert_equal "$(find "$STORE" -type f -exec stat -c %a {} + | sort -u)" 644
	run --separate-stderr bash -c 'umask 077; "$@"' _ imgp-store -s "$T/private" <<<"$(images png 2 2)"
	assert_success
	assert_equal "$(stat -c %a "$T/private" "$T"/private/*/ | sort -u)" 700
	assert_equal "$(find "$T/private" -type f -exec stat -c %a {} + | sort -u)" 600
}

@test "the store: --store, else \$IMGP_STORE, else ./imgp-store" {
	cd "$T"
	imgp-store <<<"$(images png 2 2)" >/dev/null
	assert_file_exists "$T/imgp-store/sessions/s.ndjson"
	IMGP_STORE="$T/env" imgp-store <<<"$(images png 2 2)" >/dev/null
	assert_file_exists "$T/env/sessions/s.ndjson"
	IMGP_STORE="$T/env" imgp-store --store "$T/opt" <<<"$(images png 2 2)" >/dev/null
	assert_file_exists "$T/opt/sessions/s.ndjson"
}

@test "--name: readable names with padded turns and subdirectories" {
	store "$(images png 2 2 -s game-1 -t 7)" --name '{session}-turn-{turn:03}.{ext}'
	assert_success
	assert_equal "$(line_jq 1 .asset.path)" game-1-turn-007.png
	assert_equal "$(jq -r .path "$STORE/sessions/game-1.ndjson")" game-1-turn-007.png
	store "$(images gif 2 2 -s g -t 12)" -N 'by-session/{session}/{turn}-{sha8}.{ext}'
	assert_success
	local sha
	sha=$(line_jq 1 .asset.sha256)
	assert_equal "$(line_jq 1 .asset.path)" "by-session/g/12-${sha:0:8}.gif"
	assert_file_exists "$STORE/by-session/g/12-${sha:0:8}.gif"
	store "$(images gif 2 2)" -N 'all/{sha256}'
	assert_equal "$(line_jq 1 .asset.path)" "all/$(line_jq 1 .asset.sha256)"
}

@test "--name: a name holding other bytes is exists, never overwritten; same bytes are fine" {
	store "$(images png 2 2 --salt a)" -N '{session}.{ext}'
	assert_success
	cp "$STORE/s.png" "$T/first"
	store "$(images png 2 2 --salt b)" -N '{session}.{ext}'
	assert_failure 1
	assert_equal "$(line_jq 1 .error.code)" exists
	assert_equal "$(line_jq 1 '.image.data | length > 0')" true
	cmp "$T/first" "$STORE/s.png"
	store "$(images png 2 2 --salt a)" -N '{session}.{ext}'
	assert_success
	assert_equal "$(wc -l <"$STORE/sessions/s.ndjson")" 2
	assert_equal "$(find "$STORE" -name '.tmp-*' | wc -l)" 0
}

@test "--name: templates that leave the store or are not names are exit 2" {
	for t in '/abs/{sha256}' '{session}/../x' '../{sha256}' 'a//{sha8}' '{session}/' '{nope}' '{turn:3}' '{session' '.hidden/{sha8}' 'sessions/{session}.ndjson' 'requests/{sha8}.json' $'a\tb' ''; do
		store "$(images png 2 2)" -N "$t"
		assert_failure 2
		assert_output ""
		assert_regex "$stderr" "^imgp-store: --name: "
	done
	assert_file_not_exists "$STORE"
}

@test "traversal through the record: session ../x, a session that makes a hidden name" {
	store "$(images png 2 2 -s ../x)"
	assert_failure 1
	assert_equal "$(line_jq 1 '[.error.code, .error.field] | @tsv')" "$(printf 'invalid_field\tsession')"
	store "$(images png 2 2 -s .x)" -N '{session}.{ext}'
	assert_failure 1
	assert_equal "$(line_jq 1 .error.code)" invalid_field
	assert_equal "$(find "$T" -name '*.png' | wc -l)" 0
}

@test "a store under a regular file (ENOTDIR, even for root): io error keeps the data, exit 1" {
	touch "$T/file"
	local in
	in=$(images png 2 2 -n 2)
	store "$in" -s "$T/file/store"
	assert_failure 1
	assert_equal "$(line_jq 1 '[.error.stage, .error.code, .error.retryable] | @tsv')" "$(printf 'store\tio\tfalse')"
	assert_regex "$(line_jq 1 .error.message)" "Not a directory"
	assert_equal "${lines[1]%%,\"error\":*}}" "$(sed -n 2p <<<"$in")"
}

@test "a read-only store (EACCES): io error keeps the data, exit 1" {
	[ "$(id -u)" != 0 ] || skip "root ignores permissions (see the ENOTDIR and read-only mount tests)"
	mkdir -p "$STORE" && chmod 555 "$STORE"
	store "$(images png 2 2)"
	assert_failure 1
	assert_equal "$(line_jq 1 '[.error.code, .error.retryable, (.image.data | length > 0)] | @tsv')" "$(printf 'io\tfalse\ttrue')"
	assert_regex "$(line_jq 1 .error.message)" "Permission denied"
}

@test "a read-only file system (EROFS, for root too): io error keeps the data" {
	small_disk 1m ro
	store "$(images png 2 2)" -s "$T/mnt/store"
	assert_failure 1
	assert_equal "$(line_jq 1 '[.error.code, .error.retryable, (.image.data | length > 0)] | @tsv')" "$(printf 'io\tfalse\ttrue')"
	assert_regex "$(line_jq 1 .error.message)" "Read-only file system"
}

@test "a full disk (ENOSPC): io error, not retryable, no partial object or temporary file" {
	small_disk 64k
	{ images png 2 2 --pad 200000; images png 2 2 -t 1; } >"$T/in"
	run --separate-stderr imgp-store -s "$T/mnt/store" "$T/in"
	assert_failure 1
	assert_equal "$(line_jq 1 '[.error.code, .error.retryable, (.image.data | length > 0)] | @tsv')" "$(printf 'io\tfalse\ttrue')"
	assert_regex "$(line_jq 1 .error.message)" "No space left on device"
	assert_equal "$(line_jq 2 .asset.width)" 2
	assert_equal "$(find "$T/mnt/store" -type f ! -path '*/sessions/*' | wc -l)" 1
	run imgp-store --check -s "$T/mnt/store"
	assert_success
}

@test "a write cut short (file size limit, for root too): no partial object or temporary file" {
	run --separate-stderr bash -c 'trap "" XFSZ; ulimit -f 8; "$@" <"$0"' \
		<(images png 2 2 --pad 20000) imgp-store -s "$STORE"
	assert_failure 1
	assert_equal "$(line_jq 1 .error.code)" io
	assert_regex "$(line_jq 1 .error.message)" "File too large"
	assert_equal "$(find "$STORE" -type f | wc -l)" 0
}

# `make reliability` raises IMGP_STORE_WRITERS, IMGP_KILLS and the
# records of each (the stress: tests); `make check` keeps them short.
@test "stress: concurrent imgp-store processes into one session: whole journal lines, --check clean" {
	local writers=${IMGP_STORE_WRITERS:-4} n=${IMGP_STORE_RECORDS:-200} p
	for p in $(seq "$writers"); do
		images png 8 8 -n "$n" --salt "p$p" --pad 3000 >"$T/in$p"
	done
	for p in $(seq "$writers"); do
		imgp-store -s "$STORE" "$T/in$p" >"$T/out$p" &
	done
	wait
	local total=$((writers * n))
	assert_equal "$(cat "$T"/out* | jq -r 'select(.asset) | .asset.path' | sort -u | wc -l)" "$total"
	assert_equal "$(wc -l <"$STORE/sessions/s.ndjson")" "$total"
	assert_equal "$(jq -c . "$STORE/sessions/s.ndjson" | wc -l)" "$total"
	run imgp-store --check -s "$STORE"
	assert_success
	assert_line --index 0 "$STORE: $total objects, $total journal lines in 1 sessions, 0 temporary files removed, 0 problems"
}

@test "stress: kill -9 at random moments: nothing torn, every record output is in the store" {
	local i pid
	# a kill before the store exists would leave nothing to check
	mkdir -p "$STORE/sessions"
	for i in $(seq -w 0 $((${IMGP_KILLS:-50} - 1))); do
		# new images each round, so that every round writes objects
		images png 8 8 -n 60 --pad 4000 --salt "k$i" >"$T/part"
		imgp-store -s "$STORE" "$T/part" >"$T/out.$i" &
		pid=$!
		sleep "0.$(printf '%03d' $((RANDOM % 150)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
		run imgp-store --check --repair -s "$STORE"
		assert_success
	done
	# Only whole output lines count: the kill may cut the last one.
	python3 - "$STORE" "$T"/out.* <<'EOF'
import hashlib, json, sys
store, outs = sys.argv[1], sys.argv[2:]
journal = {(e["turn"], e["sha256"]) for e in map(json.loads, open(store + "/sessions/s.ndjson"))}
n = 0
for name in outs:
    data = open(name, "rb").read()
    for line in data[:data.rfind(b"\n") + 1].splitlines():
        a = json.loads(line)["asset"]
        assert hashlib.sha256(open(store + "/" + a["path"], "rb").read()).hexdigest() == a["sha256"], a
        assert (json.loads(line)["turn"], a["sha256"]) in journal, a
        n += 1
print(n, "records output and stored", file=sys.stderr)
EOF
}

@test "13.5: a journal line torn by a killed writer is cut off by the next append; --check then clean" {
	mkdir -p "$STORE/sessions"
	printf '{"turn":0,"sha256":"ab' >"$STORE/sessions/s.ndjson"
	store "$(images png 2 2 -t 1)"
	assert_success
	assert_equal "$(wc -l <"$STORE/sessions/s.ndjson")" 1
	assert_equal "$(jq .turn "$STORE/sessions/s.ndjson")" 1
	run imgp-store --check -s "$STORE"
	assert_success
	assert_line --partial "1 journal lines in 1 sessions, 0 temporary files removed, 0 problems"
}

@test "13.5: a last line whole but for its newline is kept and closed" {
	store "$(images png 2 2 -t 0)"
	head -c -1 "$STORE/sessions/s.ndjson" >"$T/j" && cp "$T/j" "$STORE/sessions/s.ndjson"
	store "$(images png 2 2 -t 1)"
	assert_success
	assert_equal "$(jq -c '[.turn, .totals.max_turn]' "$STORE/sessions/s.ndjson" | paste -sd' ')" "[0,0] [1,1]"
	run imgp-store --check -s "$STORE"
	assert_success
}

@test "13.5: --check --repair seals a torn last line; --check then reports 0 problems" {
	store "$(images png 2 2 -n 2)"
	printf '{"turn":2,"sha256":"ab' >>"$STORE/sessions/s.ndjson"
	run imgp-store --check -s "$STORE"
	assert_failure 1
	assert_line "sessions/s.ndjson: line 3 has no newline: an append was cut short (--repair seals it)"
	run imgp-store --check --repair -s "$STORE"
	assert_success
	assert_line "sessions/s.ndjson: removed the last line, 22 bytes torn by an interrupted write"
	run imgp-store --check -s "$STORE"
	assert_success
	assert_line --partial "2 journal lines in 1 sessions, 0 temporary files removed, 0 problems"
	assert_equal "$(jq -c . "$STORE/sessions/s.ndjson" | wc -l)" 2
}

# 4 MB prompts make a journal line long enough for a kill to land inside
# its write(2) now and then; as that is rare, every other round also tears
# the last line itself, cut at a random byte as such a kill leaves it.
# Then the tail is healed, by the next append in odd rounds, by --repair
# in even ones; either way the whole journal parses and --check is clean.
@test "stress: 13.5 kill -9 with 4 MB journal lines: every torn line sealed, 0 unrecoverable" {
	local i pid rounds=${IMGP_BIG_KILLS:-50} torn=0
	mkdir -p "$STORE/sessions"
	images png 8 8 -n 2 --salt big | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    r["image_prompt"] = "x" * (4 << 20)
    print(json.dumps(r))' >"$T/big"
	for i in $(seq -w 0 $((rounds - 1))); do
		: >"$STORE/sessions/s.ndjson"
		imgp-store -s "$STORE" --no-fsync "$T/big" >/dev/null &
		pid=$!
		sleep "0.$(printf '%03d' $((RANDOM % 300)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
		if [ -n "$(tail -c 1 "$STORE/sessions/s.ndjson")" ]; then
			torn=$((torn + 1))
		elif [ $((10#$i % 4)) -lt 2 ] && [ -s "$STORE/sessions/s.ndjson" ]; then
			python3 - "$STORE/sessions/s.ndjson" <<'EOF2'
import os, random, sys
data = open(sys.argv[1], "rb").read()
start = data.rfind(b"\n", 0, len(data) - 1) + 1
os.truncate(sys.argv[1], random.randrange(start + 1, len(data) - 1))
EOF2
		fi
		if [ $((10#$i % 2)) -eq 1 ]; then
			store "$(images png 2 2 -t 9 --salt "r$i")" --no-fsync
			assert_success
		else
			run imgp-store --check --repair -s "$STORE"
			assert_success
		fi
		# every line a whole JSON object with its turn, sha256 and path
		run imgp-store --check -s "$STORE"
		assert_success
		assert_line --partial ", 0 problems"
	done
	echo "$rounds rounds, $torn lines torn by the kill itself" >&3
}

@test "--check: damaged objects, leftovers, journal lines pointing nowhere; --repair removes leftovers" {
	store "$(images png 2 2 -n 3)"
	local sha1 sha2
	sha1=$(line_jq 1 .asset.sha256)
	sha2=$(line_jq 2 .asset.sha256)
	printf 'x' >>"$STORE/${sha1:0:2}/$sha1.png"
	rm "$STORE/${sha2:0:2}/$sha2.png"
	printf 'half' >"$STORE/${sha1:0:2}/.tmp-999-0"
	touch -d '2 hours ago' "$STORE/${sha1:0:2}/.tmp-999-0"
	printf 'not an image' >"$STORE/notes.txt"
	printf '{"turn":9,"sha256":"%s","path":"../x"}\n' "$sha1" >>"$STORE/sessions/s.ndjson"
	printf '{"turn":9' >>"$STORE/sessions/s.ndjson"
	run imgp-store --check -s "$STORE"
	assert_failure 1
	assert_line "${sha1:0:2}/$sha1.png: damaged: its bytes have SHA-256 $(sha_of "$STORE/${sha1:0:2}/$sha1.png")"
	assert_line "${sha1:0:2}/.tmp-999-0: temporary file left by an interrupted write (--repair removes it)"
	assert_line "notes.txt: not a whole PNG, JPEG, WebP or GIF image"
	assert_line "sessions/s.ndjson: line 1: ${sha1:0:2}/$sha1.png does not hold the bytes of sha256 $sha1"
	assert_line "sessions/s.ndjson: line 2: ${sha2:0:2}/$sha2.png is not in the store"
	assert_line "sessions/s.ndjson: line 4 has no usable path"
	assert_line "sessions/s.ndjson: line 5 has no newline: an append was cut short (--repair seals it)"
	assert_line "$STORE: 3 objects, 5 journal lines in 1 sessions, 0 temporary files removed, 7 problems"
	run imgp-store --check --repair -s "$STORE"
	assert_failure 1
	assert_line "${sha1:0:2}/.tmp-999-0: removed temporary file left by an interrupted write"
	assert_line "sessions/s.ndjson: removed the last line, 9 bytes torn by an interrupted write"
	assert_line "$STORE: 3 objects, 4 journal lines in 1 sessions, 1 temporary files removed, 5 problems"
	assert_file_not_exists "$STORE/${sha1:0:2}/.tmp-999-0"
}

@test "--check: a clean store is exit 0; a missing store is exit 2" {
	store "$(images png 2 2 -n 2)"
	run imgp-store --check -s "$STORE"
	assert_success
	assert_output "$STORE: 2 objects, 2 journal lines in 1 sessions, 0 temporary files removed, 0 problems"
	run --separate-stderr imgp-store --check -s "$T/none"
	assert_failure 2
	assert_regex "$stderr" "^imgp-store: $T/none: No such file or directory"
}

@test "re-running the stage on its error lines completes the work" {
	touch "$T/blocker"
	store "$(images png 2 2 -n 3)" -s "$T/blocker/store"
	assert_failure 1
	printf '%s\n' "${lines[@]}" | jq -c 'del(.error)' >"$T/retry"
	run --separate-stderr imgp-store -s "$STORE" "$T/retry"
	assert_success
	assert_equal "${#lines[@]}" 3
	run imgp-store --check -s "$STORE"
	assert_success
	assert_line --partial "3 objects, 3 journal lines"
}

@test "--check: a store killed before its first object (a journal, no object)" {
	# the state a kill -9 can leave; the SANITIZE=1 build once found a
	# NULL array handed to bsearch here
	mkdir -p "$STORE/sessions"
	printf '{"turn":0,"sha256":"%064d","path":"00/gone.png"}\n' 0 \
		>"$STORE/sessions/s.ndjson"
	run imgp-store --check -s "$STORE"
	assert_failure 1
	assert_line "sessions/s.ndjson: line 1: 00/gone.png is not in the store"
	assert_line --partial "0 objects, 1 journal lines in 1 sessions"
}

@test "closed standard output: no store file becomes fd 1" {
	run --separate-stderr bash -c '"$@" <"$0" >&-' <(images png 2 2 -n 20) imgp-store -s "$STORE"
	run imgp-store --check -s "$STORE"
	assert_success
	assert_line --partial "20 objects, 20 journal lines"
}

@test "/dev/full on standard output: exit 1 with a message" {
	run --separate-stderr bash -c '"$@" <"$0" >/dev/full' <(images png 2 2) imgp-store -s "$STORE"
	assert_failure 1
	assert_regex "$stderr" "^imgp-store: write error on standard output"
}

@test "-h prints the synopsis, -V the version; bad usage is exit 2" {
	run imgp-store -h
	assert_success
	assert_equal "${lines[0]}" "usage: imgp-store [-hqV] [--check [--repair] [--grace duration] | --export session | --report [session] | --delete-session session | --prune --older-than duration | --gc [--grace duration]] [--dry-run] [-s store] [-N template] [--embed] [--keep-data] [--no-fsync] [file ...]"
	run imgp-store -V
	assert_output "imgp-store 0.1.0"
	for args in "--repair" "--check --grace 0" "--export s --grace 1h" "--check x" "--check --keep-data" "--bogus" \
	    "--export s x" "--export s --embed" "--export s --check" "--export ../x" \
	    "--gc --check" "--gc x" "--dry-run" "--grace 1h" "--report --gc" \
	    "--prune" "--older-than 1d" "--gc --no-fsync"; do
		run --separate-stderr imgp-store $args
		assert_failure 2
	done
}

@test "--no-fsync stores the same way" {
	store "$(images png 2 2 -n 2)" --no-fsync
	assert_success
	run imgp-store --check -s "$STORE"
	assert_success
}

# The text chunks of a PNG, as tests/images.py prints them.
text_chunks() {
	python3 "$ROOT/tests/images.py" text "$1"
}

# A record for session s turn $2 carrying the bytes of file $1, with the
# provenance members --embed reads.
record_of() {
	jq -cn --arg d "$(base64 -w0 "$1")" --argjson t "${2:-0}" \
	    '{session:"s",turn:$t,image_prompt:"a harbour",
	      request:{prompt:"a harbour at dawn\nwide",seed:7},
	      image:{data:$d,model:"test/model",request_key:("ab" * 32)}}'
}

@test "--embed: a PNG carries imgp: iTXt chunks; asset is of the stored bytes" {
	images png 4 3 --raw >"$T/in.png"
	store "$(record_of "$T/in.png" 3)" --embed
	assert_success
	path=$STORE/$(line_jq 1 .asset.path)
	run text_chunks "$path"
	assert_success
	assert_output "iTXt imgp:session=s
iTXt imgp:turn=3
iTXt imgp:prompt=a harbour at dawn\\nwide
iTXt imgp:seed=7
iTXt imgp:model=test/model
iTXt imgp:request_key=$(printf 'ab%.0s' $(seq 32))"
	store "$(record_of "$T/in.png" 3)" --embed
	assert_equal "$(line_jq 1 .asset.sha256)" "$(sha_of "$path")"
	assert_equal "$(line_jq 1 .asset.bytes)" "$(stat -c %s "$path")"
	assert_equal "$(line_jq 1 '[.asset.width, .asset.height] | @tsv')" "$(printf '4\t3')"
	assert_equal "$(tail -n1 "$STORE/sessions/s.ndjson" | jq -r .sha256)" "$(sha_of "$path")"
	run imgp-store --check -s "$STORE"
	assert_success
}

@test "--embed is idempotent: re-storing an embedded image gives the same bytes" {
	images png 4 3 --raw >"$T/in.png"
	store "$(record_of "$T/in.png")" --embed --keep-data
	assert_success
	first=$STORE/$(line_jq 1 .asset.path)
	line_jq 1 .image.data | base64 -d >"$T/kept.png"
	cmp "$first" "$T/kept.png"
	store "$(record_of "$first")" --embed
	assert_success
	assert_equal "$(line_jq 1 .asset.sha256)" "$(sha_of "$first")"
	assert_equal "$(text_chunks "$first" | grep -c imgp:session)" 1
	# A different record replaces the chunks, never adds to them.
	store "$(record_of "$first" 9)" --embed
	second=$STORE/$(line_jq 1 .asset.path)
	assert_equal "$(text_chunks "$second" | grep -c imgp:turn)" 1
	assert_equal "$(text_chunks "$second" | grep imgp:turn)" "iTXt imgp:turn=9"
}

@test "--embed: chunks of other keywords and what follows IEND are kept; missing values are left out" {
	python3 - "$T/in.png" <<'PY'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) +
    chunk(b"tEXt", b"Author\0me") + chunk(b"tEXt", b"imgp:turn\0old") +
    chunk(b"IDAT", zlib.compress(b"\0" * 14)) + chunk(b"IEND", b"") + b"trailer")
PY
	store "$(jq -cn --arg d "$(base64 -w0 "$T/in.png")" '{session:"s",turn:1,image:{data:$d}}')" --embed
	assert_success
	path=$STORE/$(line_jq 1 .asset.path)
	run text_chunks "$path"
	assert_output $'iTXt imgp:session=s\niTXt imgp:turn=1\ntEXt Author=me'
	assert_equal "$(tail -c 7 "$path")" trailer
}

@test "--embed: JPEG, WebP and GIF are stored unchanged" {
	local f
	for f in jpeg webp gif; do
		images $f 4 3 --raw >"$T/in.$f"
		store "$(record_of "$T/in.$f")" --embed
		assert_success
		cmp "$T/in.$f" "$STORE/$(line_jq 1 .asset.path)"
	done
}

@test "journal: cost is image.usage.cost as written when a number, else null; 0 for a cached answer" {
	local rec
	rec=$(images png 2 2 -n 1 | jq -c '.image.usage = {cost: 0}')
	store "${rec/\"cost\":0/\"cost\":1.50e-3}"
	store "$(images png 2 2 -n 1 -t 1 | jq -c '.image.usage = {cost: "0.1"}')"
	store "$(images png 2 2 -n 1 -t 2)"
	store "$(images png 2 2 -n 1 -t 3 | jq -c '.image.usage = {cost: 0}')"
	# an answer from imgp-gen's cache was paid for once, when first stored
	store "$(images png 2 2 -n 1 -t 4 | jq -c '.image.usage = {cost: 0.04} | .image.cached = true')"
	run grep -o '"fallback":null,"cost":[^,]*,' "$STORE/sessions/s.ndjson"
	assert_output $'"fallback":null,"cost":1.50e-3,\n"fallback":null,"cost":null,\n"fallback":null,"cost":null,\n"fallback":null,"cost":0,\n"fallback":null,"cost":0,'
}

@test "--export: one record per turn, its latest line, in turn order" {
	store "$(images png 2 2 -n 3 -t 0)"
	store "$(images png 2 2 -n 1 -t 1 --salt again | jq -c '.request.prompt = "second try" | del(.request.seed)')"
	store "$(images png 2 2 -n 1 -t 5 | jq -c 'del(.request)')"
	run --separate-stderr imgp-store -s "$STORE" --export s
	assert_success
	assert_output '{"session":"s","turn":0,"image_prompt":"prompt 0","request":{"prompt":"enriched prompt 0","seed":7}}
{"session":"s","turn":1,"image_prompt":"prompt 1","request":{"prompt":"second try"}}
{"session":"s","turn":2,"image_prompt":"prompt 2","request":{"prompt":"enriched prompt 2","seed":7}}
{"session":"s","turn":5,"image_prompt":"prompt 5"}'
	run --separate-stderr imgp-store -s "$STORE" --export nope
	assert_failure 1
	assert_output ""
	assert_regex "$stderr" "^imgp-store: --export nope: .*nope.ndjson"
}

@test "--export, then imgp-gen: the session re-rendered into a new store" {
	printf '%s\n' '{"session":"s","turn":0,"image_prompt":"dawn"}' \
	    '{"session":"s","turn":1,"image_prompt":"noon"}' |
	    imgp-enrich -s "$STORE" | imgp-gen --api local -s "$STORE" | imgp-store -s "$STORE" >/dev/null
	imgp-store -s "$STORE" --export s | imgp-gen --api local |
	    imgp-store -s "$T/new" --embed >"$T/out"
	assert_equal "$(jq -r '[.turn, .image_prompt] | @tsv' "$T/out")" "$(printf '0\tdawn\n1\tnoon')"
	assert_equal "$(jq -c '[.turn, .prompt, .seed]' "$T/new/sessions/s.ndjson")" \
	    "$(jq -c '[.turn, .prompt, .seed]' "$STORE/sessions/s.ndjson")"
	# The same prompts and seeds through the same renderer: the same picture.
	assert_equal "$(jq -r .sha256 "$T/new/sessions/s.ndjson")" "$(jq -r .sha256 "$STORE/sessions/s.ndjson")"
}

# --- issue 13: what the store lets a record, a journal or a link do --------

@test "13.4: --check --repair removes only temporaries older than --grace (1 hour by default)" {
	store "$(images png 2 2)"
	local dir
	dir=$(dirname "$STORE/$(line_jq 1 .asset.path)")
	printf 'old' >"$dir/.tmp-1-0"
	touch -d '2 hours ago' "$dir/.tmp-1-0"
	printf 'young' >"$dir/.tmp-1-1"
	touch -d '10 minutes ago' "$dir/.tmp-1-1"
	run imgp-store --check -s "$STORE"
	assert_failure 1
	assert_line --partial ".tmp-1-0: temporary file left by an interrupted write"
	refute_line --partial ".tmp-1-1"
	run imgp-store --check --repair -s "$STORE"
	assert_success
	assert_line --partial "1 temporary files removed, 0 problems"
	assert_file_not_exists "$dir/.tmp-1-0"
	assert_file_exists "$dir/.tmp-1-1"
	run imgp-store --check --repair --grace 5m -s "$STORE"
	assert_success
	assert_line --partial "1 temporary files removed, 0 problems"
	assert_file_not_exists "$dir/.tmp-1-1"
}

@test "13.4: --check --repair of a directory that is not a store is exit 2, nothing touched" {
	mkdir -p "$T/home/ab"
	printf 'mine' >"$T/home/.tmp-notes"
	printf 'mine' >"$T/home/ab/.tmp-1-0"
	touch -d '2 days ago' "$T/home/.tmp-notes" "$T/home/ab/.tmp-1-0"
	for args in "--check" "--check --repair"; do
		run --separate-stderr imgp-store $args -s "$T/home"
		assert_failure 2
		assert_equal "$output" ""
		assert_regex "$stderr" "not an imgp store"
	done
	assert_file_exists "$T/home/.tmp-notes"
	assert_file_exists "$T/home/ab/.tmp-1-0"
	# A store imgp-gen --cache began (requests/ only) is one.
	mkdir -p "$T/home/requests"
	run imgp-store --check --repair -s "$T/home"
	assert_line --partial "2 temporary files removed"
}

# make reliability: IMGP_REPAIR_RECORDS=1500 (12,000 records).
@test "stress: 13.4 a --check --repair loop beside 8 writers fails 0 records" {
	local writers=8 n=${IMGP_REPAIR_RECORDS:-40} p pids=() repairs=0
	mkdir -p "$STORE/sessions"
	for p in $(seq "$writers"); do
		images png 8 8 -n "$n" -s "w$p" --salt "r$p" --pad 2000 >"$T/in$p"
	done
	for p in $(seq "$writers"); do
		imgp-store -s "$STORE" "$T/in$p" >"$T/out$p" &
		pids+=($!)
	done
	while kill -0 "${pids[@]}" 2>/dev/null; do
		imgp-store --check --repair -s "$STORE" >"$T/repair" || true
		repairs=$((repairs + 1))
	done
	wait "${pids[@]}" || true
	echo "$repairs repair runs beside $writers writers of $n records" >&3
	assert_equal "$(cat "$T"/out* | jq -c 'select(.error)' | wc -l)" 0
	assert_equal "$(cat "$T"/out* | jq -c 'select(.asset)' | wc -l)" $((writers * n))
	run imgp-store --check -s "$STORE"
	assert_success
}

@test "13.9: a journal linked out of the store is not written through" {
	mkdir -p "$STORE/sessions"
	ln -s "$T/outside.ndjson" "$STORE/sessions/s.ndjson"
	store "$(images png 2 2)"
	assert_failure 1
	assert_equal "$(line_jq 1 .error.code)" io
	assert_regex "$(line_jq 1 .error.message)" "sessions/s.ndjson: Too many levels of symbolic links"
	assert_file_not_exists "$T/outside.ndjson"
}

@test "13.9: a content-addressed directory linked out of the store is not written into" {
	images png 2 2 --raw >"$T/img"
	local sha
	sha=$(sha_of "$T/img")
	mkdir -p "$STORE/sessions" "$T/elsewhere"
	ln -s "$T/elsewhere" "$STORE/${sha:0:2}"
	store "$(images png 2 2)"
	assert_failure 1
	assert_equal "$(line_jq 1 .error.code)" io
	assert_equal "$(ls -A "$T/elsewhere")" ""
	# a readable name's directory, too
	ln -s "$T/elsewhere" "$STORE/shots"
	store "$(images png 2 2 --salt n)" --name 'shots/{turn}.png'
	assert_failure 1
	assert_equal "$(ls -A "$T/elsewhere")" ""
}

@test "13.9: an object name linked to another file is replaced, the file untouched" {
	images png 2 2 --raw >"$T/img"
	local sha
	sha=$(sha_of "$T/img")
	mkdir -p "$STORE/sessions" "$STORE/${sha:0:2}"
	head -c "$(stat -c %s "$T/img")" /dev/zero >"$T/secret"
	ln -s "$T/secret" "$STORE/${sha:0:2}/$sha.png"
	store "$(images png 2 2)"
	assert_success
	assert [ ! -L "$STORE/${sha:0:2}/$sha.png" ]
	cmp "$T/img" "$STORE/${sha:0:2}/$sha.png"
	assert_equal "$(tr -d '\0' <"$T/secret" | wc -c)" 0
}

@test "13.9: --check --repair does not follow a directory linked out of the store" {
	store "$(images png 2 2)"
	mkdir -p "$T/elsewhere"
	printf 'x' >"$T/elsewhere/.tmp-1-0"
	touch -d '2 days ago' "$T/elsewhere/.tmp-1-0"
	ln -s "$T/elsewhere" "$STORE/cd"
	run imgp-store --check --repair -s "$STORE"
	assert_failure 1
	assert_line "cd: not a regular file"
	assert_file_exists "$T/elsewhere/.tmp-1-0"
}

@test "13.9: --name results that take a content-addressed directory's name are refused" {
	local session
	for session in 7c AB; do
		store "$(images png 2 2 -s "$session")" --name '{session}'
		assert_failure 1
		assert_equal "$(line_jq 1 .error.code)" invalid_field
		assert_regex "$(line_jq 1 .error.message)" "two hex digits is the name of a content-addressed directory"
		store "$(images png 2 2 -s "$session")" --name '{session}/{turn}.png'
		assert_failure 1
	done
	store "$(images png 2 2 -s 7cx)" --name '{session}/{turn}.png'
	assert_success
	assert_file_exists "$STORE/7cx/0.png"
}

# issue 19: journals are read from the end; the answers stay those of a
# whole read.
@test "journal read backwards: out-of-order and repeated turns keep their meaning" {
	local t
	for t in 0 1 5 2 3 4; do
		store "$(images png 2 2 -t "$t" --salt "o$t")"
		assert_success
	done
	# turn 3 again, a re-generated turn: its last line wins
	store "$(images png 2 2 -t 3 --salt again | jq -c '.image_prompt = "prompt 3 again"')"
	assert_equal "$(jq -c '[.turn, .totals.max_turn]' "$STORE/sessions/s.ndjson" | paste -sd' ')" \
		"[0,0] [1,1] [5,5] [2,5] [3,5] [4,5] [3,5]"
	jq -n '{limits:{history_turns:2}}' >"$T/p.json"
	run_with '{"session":"s","turn":6,"image_prompt":"p"}' imgp-enrich -s "$STORE" -p "$T/p.json"
	assert_regex "$(line_jq 1 .request.prompt)" "T4:prompt 4 \| T5:prompt 5"
	run_with '{"session":"s","turn":5,"image_prompt":"p"}' imgp-enrich -s "$STORE" -p "$T/p.json"
	assert_regex "$(line_jq 1 .request.prompt)" "T3:prompt 3 again \| T4:prompt 4"
	run_with '{"session":"s","turn":2,"image_prompt":"p"}' imgp-enrich -s "$STORE" -p "$T/p.json"
	assert_regex "$(line_jq 1 .request.prompt)" "T0:prompt 0 \| T1:prompt 1"
	run imgp-store --export s -s "$STORE"
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r '"\(.turn):\(.image_prompt)"' | paste -sd,)" \
		"0:prompt 0,1:prompt 1,2:prompt 2,3:prompt 3 again,4:prompt 4,5:prompt 5"
}

@test "journal read backwards: a session's cost is its last line's totals; lines without totals are summed" {
	store "$(images png 2 2 -t 0 | jq -c '.image.usage = {cost: 0.25}')"
	store "$(images png 2 2 -t 1 --salt b | jq -c '.image.usage = {cost: 0.5}')"
	store "$(images png 2 2 -t 2 --salt c)"
	assert_equal "$(tail -n 1 "$STORE/sessions/s.ndjson" | jq -c .totals)" '{"max_turn":2,"spent":0.75,"unknown":1}'
	# What records said they cost: no budget reads it (design.md §4.4).
	mock_start
	IMGP_API_KEY=sk-test run_with "$(jq -cn '{session:"s",turn:3,request:{prompt:"p"}}')" \
		imgp-gen --base-url "$MOCK_URL" -s "$STORE" --session-budget 0.75
	mock_stop
	assert_equal "$(wc -l <"$MOCK_LOG")" 1
	assert_success
	# a journal from before totals: summed from its first line, once
	jq -c 'del(.totals)' "$STORE/sessions/s.ndjson" >"$T/old" && cp "$T/old" "$STORE/sessions/s.ndjson"
	store "$(images png 2 2 -t 3 --salt d | jq -c '.image.usage = {cost: 1}')"
	assert_equal "$(tail -n 1 "$STORE/sessions/s.ndjson" | jq -c .totals)" '{"max_turn":3,"spent":1.75,"unknown":1}'
}

@test "journal: the judge's own members as written and the request's image options" {
	# (sed writes the big number: jq 1.6 would round it)
	store "$(images png 2 2 -n 1 | jq -c '. + {new_state: {tension: 0.7}, big: "BIG", url: "u", request: (.request + {aspect_ratio: "21:9", size: "672x288", model: "m/x", references: [{path: "a", sha256: "b", role: "style"}, {role: "previous", turn: 0}]})}' | sed 's/"BIG"/12345678901234567890/')"
	assert_success
	assert_equal "$(jq -c .options "$STORE/sessions/s.ndjson")" '{"aspect_ratio":"21:9","size":"672x288","model":"m/x","references":["style","previous"]}'
	grep -q '"judge":{"session":"s","turn":0,"image_prompt":"prompt 0","new_state":{"tension":0.7},"big":12345678901234567890},"stored_at"' "$STORE/sessions/s.ndjson"
	run --separate-stderr imgp-store -s "$STORE" --export s
	assert_output '{"session":"s","turn":0,"image_prompt":"prompt 0","new_state":{"tension":0.7},"big":12345678901234567890,"request":{"prompt":"enriched prompt 0","seed":7,"aspect_ratio":"21:9","size":"672x288","model":"m/x"}}'
}

@test "journal: members of the program driving the pipeline (__imgp…) pass through, are not the judge's" {
	# the second one's key is "__imgp_x" too, written with an escape
	store "$(images png 2 2 -n 1 | jq -c '{__imgp_render_id: 7} + . + {"__imgpx": 1, __img: 2}' | sed 's/"__imgpx"/"\\u005f_imgp_x"/')"
	assert_success
	assert_equal "$(line_jq 1 '[.__imgp_render_id, .__imgp_x, .__img] | tojson')" '[7,1,2]'
	assert_equal "$(jq -c '.judge | keys_unsorted' "$STORE/sessions/s.ndjson")" '["session","turn","image_prompt","__img"]'
}

@test "journal: the judge's members are kept up to 64 KiB, with a note when cut" {
	local big
	big=$(head -c 70000 /dev/zero | tr '\0' a)
	store "$(images png 2 2 -n 1 | jq -c --arg b "$big" '. + {small: 1, huge: $b, after: 2}')"
	assert_success
	assert_equal "$(jq -c '[.judge_cut, (.judge | keys_unsorted)]' "$STORE/sessions/s.ndjson")" '[true,["session","turn","image_prompt","small","after"]]'
	run --separate-stderr imgp-store -s "$STORE" --export s
	assert_equal "$(line_jq 1 '[.session, .turn, .small, .after, (.huge == null)] | tojson')" '["s",0,1,2,true]'
}
