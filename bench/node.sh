#!/bin/sh
# The Node.js package's per-render cost, renders one after the other with a
# provider that answers at once (--api local, 8x8 pictures; imgp-store
# --no-fsync, its store in /dev/shm when there is one so that the disk's
# file creation is not counted): p50 and p99 through one long-lived
# Pipeline, against the four stages spawned for each turn and against an
# in-process JSON round trip; the package with its pipes alone (four cat(1)
# as the stages); the stages' CPU time per render (what a busy machine's
# scheduler adds to the latency shows beside it); and the long-lived
# pipeline with its store on disk, with --no-fsync and crash-safe (fsync,
# imgp-store's default).  Both sides of a ratio run with the same options.
set -eu
cd "$(dirname "$0")/.."
out=bench/out/node
rm -rf "$out"
mkdir -p "$out/cat"
for tool in imgp-enrich imgp-gen imgp-store imgp-url; do
	printf '#!/bin/sh\nexec cat\n' >"$out/cat/$tool"
	chmod +x "$out/cat/$tool"
done
mem=$(mktemp -d /dev/shm/imgp-bench.XXXXXX 2>/dev/null) || mem=$(mktemp -d "$out/store.XXXXXX")
trap 'rm -rf "$mem"' EXIT INT TERM
set -- $(node bench/overhead.js "$mem" 1000 "$out/cat" "$out/disk")
awk -v l50="$1" -v l99="$2" -v lcpu="$3" -v c50="$4" -v c99="$5" -v o50="$6" -v o99="$7" \
    -v j50="$8" -v j99="$9" -v d50="${10}" -v d99="${11}" -v f50="${13}" -v f99="${14}" \
    -v where="$mem" 'BEGIN {
	sub(/\/[^\/]*$/, "", where)
	printf "node | render p50, one long-lived pipeline, 1000 turns, store in %s (--no-fsync, both sides) | %.2f ms | one-shot spawn per turn: %.1f ms | %.3fx | < 1 ms | %s\n",
		where, l50, o50, l50 / o50, (l50 < 1 ? "PASS" : "FAIL")
	printf "node | render p99, one long-lived pipeline, 1000 turns, store in %s (--no-fsync, both sides) | %.2f ms | one-shot spawn per turn: %.1f ms | %.3fx | reported | -\n",
		where, l99, o99, l99 / o99
	printf "node | render p50 / p99, long-lived pipeline | %.2f / %.2f ms | in-process JSON round trip: %.4f / %.4f ms | %.0fx | reported | -\n",
		l50, l99, j50, j99, l50 / j50
	split(lcpu, part, "/")
	printf "node | CPU time per render, enrich / gen / store / url (long-lived, 125 turns a session) | %s ms | render p50: %.2f ms | %.2fx | reported | -\n",
		lcpu, l50, (part[1] + part[2] + part[3] + part[4]) / l50
	printf "node | the package and its pipes alone (4 x cat), p50 / p99 | %.3f / %.3f ms | in-process JSON round trip: %.4f / %.4f ms | %.0fx | p50 < 1 ms | %s\n",
		c50, c99, j50, j99, c50 / j50, (c50 < 1 ? "PASS" : "FAIL")
	printf "node | render p50 / p99, long-lived pipeline, store on disk (bench/out, --no-fsync) | %.2f / %.2f ms | one-shot spawn per turn: %.1f / %.1f ms | %.3fx | reported | -\n",
		d50, d99, o50, o99, d50 / o50
	printf "node | render p50 / p99, long-lived pipeline, store on disk, crash-safe (fsync: the default) | %.2f / %.2f ms | the same with --no-fsync: %.2f / %.2f ms | %.2fx | reported | -\n",
		f50, f99, d50, d99, f50 / d50
}'
